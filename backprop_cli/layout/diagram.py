"""Computation graphs as plain data: one :class:`Diagram` of nodes and edges with their values and
gradients, built from a trace (an expression trace, or one step of a network). The writers in
:mod:`backprop_cli.render.diagram` only escape and lay it out (Mermaid, Graphviz DOT, a terminal tree).
Numbers are formatted by the caller's NumberFormat.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop_cli.graph.engine import ExprTrace, grad_name
from backprop_cli.graph.ops import OPS
from backprop_cli.model.names import grad_name as weight_grad_name
from backprop_cli.model.names import param_name
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.nn.records import StepRecord

KINDS = ("input", "op", "output", "loss")


@dataclass(frozen=True)
class DiagramNode:
    id: str  # n1, n2, …: safe in both languages
    lines: tuple[str, ...]  # the label, one entry per line
    kind: str  # one of KINDS
    group: str = ""  # the layer a neuron belongs to ("inputs" for the inputs); DOT keeps a group in order


@dataclass(frozen=True)
class DiagramEdge:
    source: str
    target: str
    label: str


@dataclass(frozen=True)
class Diagram:
    title: str
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]


# ------------------------------------------------------------ builders


def expression_diagram(trace: ExprTrace, fmt: NumberFormat, title: str, *, gradients: bool = True) -> Diagram:
    """One node per operation and input: its formula, value and gradient; edges carry ∂consumer/∂arg.
    Without ``gradients`` (a forward pass alone) the nodes show their values and the edges no label."""
    ids = {r.node.name: f"n{i + 1}" for i, r in enumerate(trace.forward)}
    grads = {b.gradient.name: b.gradient.value for b in trace.backward}
    nodes = []
    for r in trace.forward:
        n = r.node
        if n.op == "input":
            head, kind = n.name, "input"
        else:
            args = [a if isinstance(a, str) else a.operand for a in n.args]
            head, kind = f"{n.name} = {OPS[n.op].text(args)}", "output" if n.name == trace.graph.output else "op"
        lines = [head, f"value {fmt(r.value)}"]
        if gradients:
            lines.append(f"{grad_name(n.name)} {fmt(grads[n.name])}" if n.name in grads else "no gradient (unused)")
        nodes.append(DiagramNode(ids[n.name], tuple(lines), kind))
    edges = []
    for b in trace.backward:
        for e in b.edges:
            label = f"{e.local_name} = {fmt(e.local)}" if gradients else ""
            edges.append(DiagramEdge(ids[e.arg], ids[e.node], label))
    # arguments of nodes off the output's path still get their (unlabelled) edges
    wanted = {b.gradient.name for b in trace.backward}
    for r in trace.forward:
        if r.node.name not in wanted:
            edges += [DiagramEdge(ids[a], ids[r.node.name], "") for a in r.node.args if isinstance(a, str)]
    return Diagram(title, tuple(nodes), tuple(edges))


def network_diagram(rec: StepRecord, fmt: NumberFormat, title: str, *, by: str = "neuron") -> Diagram:
    """One step of a network: per neuron (z, a, δ) or per layer, for the batch's first sample; edges carry
    each weight and the step's gradient of the loss by it (the batch mean or sum)."""
    title += f" · step {rec.step}, data row {rec.samples[0] + 1}"
    grads = {(u.layer, u.kind): u.grad for u in rec.updates}
    nodes: list[DiagramNode] = []
    edges: list[DiagramEdge] = []
    first = rec.forward[0]
    if by == "layer":
        nodes.append(DiagramNode("n1", ("inputs", f"x = [{_join(first.inputs[0], fmt)}]"), "input"))
        below = "n1"
        for i, (fwd, back) in enumerate(zip(rec.forward, reversed(rec.backward), strict=True)):
            lines = (
                f"{fwd.layer}: {fwd.z.shape[1]} × {fwd.activation}",
                f"a = [{_join(fwd.a[0], fmt)}]",
                f"δ = [{_join(back.delta[0], fmt)}]",
            )
            node = f"n{i + 2}"
            nodes.append(DiagramNode(node, lines, "op"))
            shape = "" if fwd.weights is None else "W " + "×".join(str(s) for s in fwd.weights.shape)
            edges.append(DiagramEdge(below, node, shape))
            below = node
        nodes.append(DiagramNode("nL", (f"loss {rec.loss.name}", _loss_text(rec, fmt)), "loss"))
        edges.append(DiagramEdge(below, "nL", ""))
        return Diagram(title, tuple(nodes), tuple(edges))
    ids: dict[str, str] = {}
    for i, name in enumerate(first.input_names):
        ids[name] = f"n{len(ids) + 1}"
        nodes.append(DiagramNode(ids[name], (name, f"value {fmt(first.inputs[0, i])}"), "input", "inputs"))
    deltas = {back.layer: back.delta for back in rec.backward}
    for fwd in rec.forward:
        w_grad = grads.get((fwd.layer, "weights"))
        for j in range(fwd.z.shape[1]):
            a = fwd.output_name(j)
            ids[a] = f"n{len(ids) + 1}"
            lines = (
                fwd.rule_text(j),
                f"z {fmt(fwd.z[0, j])}, a {fmt(fwd.a[0, j])}",
                f"δ {fmt(deltas[fwd.layer][0, j])}",
            )
            nodes.append(DiagramNode(ids[a], lines, "op", fwd.layer))
            if fwd.weights is None:  # a layer without weights: each output reads the input at its place (or a window)
                edges += [DiagramEdge(ids[fwd.input_names[i]], ids[a], "") for i in fwd.reads(j)]
                continue
            for i, source in enumerate(fwd.input_names):
                label = f"{param_name(fwd.layer, 'weights', (j, i))} = {fmt(fwd.weights[j, i])}"
                if w_grad is not None:  # the step's gradient (the batch mean or sum)
                    label += f"; {weight_grad_name(fwd.layer, j, i)} = {fmt(w_grad[j, i])}"
                edges.append(DiagramEdge(ids[source], ids[a], label))
    nodes.append(DiagramNode("nL", (f"loss {rec.loss.name}", _loss_text(rec, fmt)), "loss"))
    last = rec.forward[-1]
    for j in range(last.z.shape[1]):
        target = f"y{j + 1} = {fmt(rec.loss.target[0, j])}"
        edges.append(DiagramEdge(ids[last.output_name(j)], "nL", target))
    return Diagram(title, tuple(nodes), tuple(edges))


def _loss_text(rec: StepRecord, fmt: NumberFormat) -> str:
    batch = f" ({rec.loss.reduction} over {len(rec.samples)} samples)" if len(rec.samples) > 1 else ""
    return f"loss = {fmt(rec.loss.value)}{batch}"


def _join(values: object, fmt: NumberFormat) -> str:
    return ", ".join(fmt(float(v)) for v in values)  # type: ignore[attr-defined]
