"""An expression trace's quantities, in blocks in reading order: inputs, forward node by node,
backward node by node (reverse order), then the result.

The same quantities as a network step's (:mod:`backprop_cli.model.quantity`): each node's value,
local derivative, contribution and gradient carries its formula (the op table's text, filled with
names or numbers), its factors and its rule (the op table's forward or local derivative), so an
expression is listed, checked and explained like a network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from functools import partial

from backprop_cli.graph.engine import Edge, ExprTrace, Gradient, NodeBackward, NodeValue, grad_name
from backprop_cli.graph.graph import Const as Literal
from backprop_cli.graph.graph import Node
from backprop_cli.graph.ops import OPS
from backprop_cli.model.i18n import _, ngettext, pgettext
from backprop_cli.model.quantity import Block, Built, Const, Form, Quantity, Scalar, Slot


def expr_blocks(trace: ExprTrace) -> Iterator[Block]:
    """Inputs, forward node by node, backward node by node (reverse order), then the result."""
    return _Blocks(trace).blocks()


def _sum(values: Sequence[Scalar]) -> Scalar:
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def _product(values: Sequence[Scalar]) -> Scalar:
    return values[0] * values[1]


def _same(values: Sequence[Scalar]) -> Scalar:
    return values[0]


def _literal(c: Literal) -> str:
    return c.operand


def _finite(value: object) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _selected(values: Sequence[Scalar]) -> Scalar:
    """What a selecting op (relu, max, min) passes back where its local derivative is 0: 0, whatever
    comes from above (torch's where), not ∞ × 0."""
    return values[0] * values[1] if values[1] != 0 else values[1]


def _sum_text(texts: Sequence[str]) -> str:
    return " + ".join(texts) if texts else "0"


class _Blocks:
    def __init__(self, trace: ExprTrace) -> None:
        self.t = trace
        self.value = {r.node.name: r.value for r in trace.forward}

    def quantity(
        self, name: str, value: Scalar, phase: str, form: Form, args: Sequence[Scalar] = (), kind: str = "computed"
    ) -> Quantity:
        return Quantity(name, value, phase, 1, None, None, form, tuple(args), False, None, kind)

    def block(self, phase: str, title: str, quantities: list[Quantity], note: str = "") -> Built:
        return Built(title, tuple(quantities), note)

    def plan(self, phase: str, count: int, make: Callable[[], Built]) -> Block:
        return Block(1, phase, None, None, count, make)

    def blocks(self) -> Iterator[Block]:
        """Every block planned, in reading order: counted now, made only when built."""
        inputs = [r for r in self.t.forward if r.node.op == "input"]
        if inputs:
            yield self.plan("forward", len(inputs), partial(self.inputs, inputs))
        nodes = [r for r in self.t.forward if r.node.op != "input"]
        yield self.plan("forward", len(nodes), partial(self.forward, nodes))
        for back in self.t.backward:
            if back.gradient.name in self.t.graph.inputs:
                continue  # inputs are summed up in the result
            yield self.plan("backward", 1 + 2 * len(back.edges), partial(self.backward, back))
        yield self.plan("summary", 1 + len(self.t.graph.inputs), self.result)

    def inputs(self, records: list[NodeValue]) -> Built:
        given = [
            self.quantity(r.node.name, r.value, "forward", Form(pgettext("formula", "given")), kind="given")
            for r in records
        ]
        return self.block("forward", _("Inputs"), given)

    def operands(self, r: NodeValue) -> tuple[list[Slot], list[Scalar]]:
        """The node's arguments as slots (a literal as a constant written as in the program) and values."""
        slots: list[Slot] = [
            a if isinstance(a, str) else Const(a_value, _literal(a))
            for a, a_value in zip(r.node.args, r.arg_values, strict=True)
        ]
        return slots, list(r.arg_values)

    def forward(self, records: list[NodeValue]) -> Built:
        out = []
        for r in records:
            op = OPS[r.node.op]
            slots, args = self.operands(r)
            out.append(self.quantity(r.node.name, r.value, "forward", Form(op.text, tuple(slots), op.forward), args))
        unnamed = any(r.node.variable is None for r in records)
        notes = [_("t1, t2, … are unnamed subexpressions")] if unnamed else []
        if self.t.skipped:  # as torch, a value the output does not use may be undefined: not computed
            left = "; ".join(f"{name} ({reason})" for name, reason in self.t.skipped)
            notes.append(
                _("not computed, and not used by the output {output}: {skipped}").format(
                    output=self.t.graph.output, skipped=left
                )
            )
        return self.block("forward", _("Forward · node by node"), out, "; ".join(notes))

    def gradient(self, g: Gradient, phase: str = "backward") -> Quantity:
        name = grad_name(g.name)
        if g.seed:
            return self.quantity(name, g.value, phase, Form(f"∂{g.name}/∂{g.name}"), kind="given")
        slots = tuple(e.contribution_name for e in g.contributions)
        args = [e.product for e in g.contributions]
        form = Form("{0}", slots, _same, "{0:v}") if len(g.contributions) == 1 else Form(_sum_text, slots, _sum)
        return self.quantity(name, g.value, phase, form, args)

    def backward(self, back: NodeBackward) -> Built:
        g = back.gradient
        record = self.t.forward[self.t.graph.index[g.name]]
        op = OPS[record.node.op]
        slots, args = self.operands(record)
        out = [self.gradient(g)]
        for e in back.edges:
            local = _local(op.local_text, op.local, e.position)
            out.append(
                self.quantity(
                    e.local_name,
                    e.local,
                    "backward",
                    Form(local, (*slots, g.name), _local_rule(op.local, e.position)),
                    [*args, record.value],
                )
            )
            out.append(self.contribution(e))
        names = [s if isinstance(s, str) else (s.symbol or "") for s in slots]
        title = _("Backward · {node}").format(node=f"{g.name} = {op.text(names)}")
        return self.block("backward", title, out, _shared_note(g, record.node))

    def contribution(self, e: Edge) -> Quantity:
        op = self.t.graph.node(e.node).op
        if OPS[op].selects and e.local == 0 and not _finite(e.upstream):  # torch's where: 0, not ∞ × 0
            numbers = _("0 ({op} passes nothing back here, whatever comes from above)").format(op=op)
            form = Form("{0} × {1}", (grad_name(e.node), e.local_name), _selected, numbers)
        else:
            form = Form("{0} × {1}", (grad_name(e.node), e.local_name), _product)
        return self.quantity(e.contribution_name, e.product, "backward", form, [e.upstream, e.local])

    def result(self) -> Built:
        graph = self.t.graph
        found = {b.gradient.name: b.gradient for b in self.t.backward}
        out = [self.quantity(graph.output, self.t.value, "summary", Form(_("output")), kind="again")]
        notes = []
        for name in graph.inputs:
            if name in found:
                out.append(self.gradient(found[name], "summary"))
                if len(found[name].contributions) > 1:
                    notes.append(_shared_note(found[name], graph.node(name)))
            else:
                zero = self.t.gradients[name]
                independent = _("{output} does not depend on {name}").format(output=graph.output, name=name)
                form = Form(independent, (), _constant(zero), "")
                out.append(self.quantity(grad_name(name), zero, "summary", form))
        title = _("Result · {output} and its gradients by the inputs").format(output=graph.output)
        return self.block("summary", title, out, "; ".join(notes))


def _local(
    text: Callable[[int, Sequence[str], str], str], local: object, position: int
) -> Callable[[Sequence[str]], str]:
    """The local derivative's text from the slots' texts (the arguments, then the node's own value)."""
    return lambda texts: text(position, texts[:-1], texts[-1])


def _local_rule(
    local: Callable[[Sequence[Scalar], Scalar], tuple[Scalar, ...]], position: int
) -> Callable[[Sequence[Scalar]], Scalar]:
    return lambda values: local(values[:-1], values[-1])[position]


def _constant(value: Scalar) -> Callable[[Sequence[Scalar]], Scalar]:
    return lambda values: value


def _shared_note(g: Gradient, node: Node) -> str:
    if len(g.contributions) > 1:
        sources = ", ".join(dict.fromkeys(e.node for e in g.contributions))
        return ngettext(
            "{name} is read {n} time ({sources}): {gradient} is the sum of the contributions",
            "{name} is read {n} times ({sources}): {gradient} is the sum of the contributions",
            len(g.contributions),
        ).format(name=g.name, n=len(g.contributions), sources=sources, gradient=f"grad.{g.name}")
    return node.statement and _("from: {statement}").format(statement=node.statement)
