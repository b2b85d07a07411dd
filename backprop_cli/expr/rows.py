"""Lay an expression trace out as sections of rows (name, formula, written out, value).

The same :class:`~backprop_cli.render.rows.Section` layout as a network step, so the terminal table,
and any other format that reads sections, shows expression traces too. Nothing is computed here:
formulas come from the op table, numbers from the records through one NumberFormat.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from backprop_cli.expr.config import ExprSpec
from backprop_cli.expr.engine import Edge, ExprTrace, Gradient, NodeBackward, NodeValue, grad_name
from backprop_cli.expr.graph import Const, Node
from backprop_cli.expr.ops import OPS
from backprop_cli.render.numbers import NumberFormat
from backprop_cli.render.rows import Row, Section

NAME_PATTERNS: dict[str, str] = {
    "input": "{name} as given in values (or --set)",
    "node": "the assigned name (q = x + y → q); a name assigned again gets _2, _3, … (c += 1 → c_2)",
    "unnamed": "t1, t2, … for unnamed subexpressions, inner first, left to right",
    "gradient": "grad.{node}: ∂output/∂node",
    "local_derivative": "d{node}_d{arg}: ∂node/∂arg (d{node}_d{arg}.{position} when the node reads arg twice)",
    "contribution": "grad.{arg}.via.{node}: grad.{node} × d{node}_d{arg}, one term of grad.{arg}",
    "collision": "a generated name the program already uses gets a trailing _ until it is free",
}


def expr_sections(trace: ExprTrace, fmt: NumberFormat) -> Iterator[Section]:
    """Inputs, forward node by node, backward node by node (reverse order), then the result."""
    return _Layout(trace, fmt).sections()


def header_lines(spec: ExprSpec, trace: ExprTrace, fmt: NumberFormat) -> list[str]:
    """What is traced: the program, the inputs, the output and how names are built."""
    lines = [f"backprop trace · {spec.source}{' · exact fractions' if trace.exact else ''}"]
    if spec.description:
        lines.append(spec.description.strip())
    lines += ["", *("  " + line.rstrip() for line in spec.program.strip().splitlines()), ""]
    given = ", ".join(f"{f.node.name} = {fmt(f.value)}" for f in trace.forward if f.node.op == "input")
    lines.append(f"inputs: {given or 'none'}; output: {trace.graph.output}")
    lines.append(
        "names: t1, t2, … unnamed subexpressions; c_2 the second value of c; grad.x = ∂output/∂x; "
        "dq_dx = ∂q/∂x; grad.x.via.q = grad.q × dq_dx, one term of grad.x"
    )
    return lines


def _sum(parts: Sequence[str]) -> str:
    return " + ".join(parts) if parts else "0"


class _Layout:
    def __init__(self, trace: ExprTrace, fmt: NumberFormat) -> None:
        self.t = trace
        self.f = fmt
        self.value = {r.node.name: r.value for r in trace.forward}

    def section(self, phase: str, title: str, rows: list[Row], note: str = "") -> Section:
        return Section(1, phase, title, None, None, tuple(rows), note)

    def sections(self) -> Iterator[Section]:
        inputs = [r for r in self.t.forward if r.node.op == "input"]
        if inputs:
            yield self.section("forward", "Inputs", [Row(r.node.name, "given", "", self.f(r.value)) for r in inputs])
        yield self.forward([r for r in self.t.forward if r.node.op != "input"])
        for back in self.t.backward:
            if back.gradient.name in self.t.graph.inputs:
                continue  # inputs are summed up in the result
            yield self.backward(back)
        yield self.result()

    def texts(self, r: NodeValue) -> tuple[list[str], list[str]]:
        """Argument texts: in names (constants as written), and in numbers."""
        names = [a if isinstance(a, str) else _literal(a) for a in r.node.args]
        numbers = [self.f.operand(v) for v in r.arg_values]
        return names, numbers

    def forward(self, records: list[NodeValue]) -> Section:
        rows = []
        for r in records:
            op = OPS[r.node.op]
            names, numbers = self.texts(r)
            rows.append(Row(r.node.name, op.text(names), op.text(numbers), self.f(r.value)))
        unnamed = any(r.node.variable is None for r in records)
        notes = ["t1, t2, … are unnamed subexpressions"] if unnamed else []
        if self.t.skipped:  # as torch, a value the output does not use may be undefined: not computed
            left = "; ".join(f"{name} ({reason})" for name, reason in self.t.skipped)
            notes.append(f"not computed, and not used by the output {self.t.graph.output}: {left}")
        return self.section("forward", "Forward · node by node", rows, "; ".join(notes))

    def gradient_row(self, g: Gradient) -> Row:
        name = grad_name(g.name)
        if g.seed:
            return Row(name, f"∂{g.name}/∂{g.name}", "", self.f(g.value))
        formula = _sum([e.contribution_name for e in g.contributions])
        written = _sum([self.f.operand(e.product) for e in g.contributions])
        if len(g.contributions) == 1:
            written = self.f(g.contributions[0].product)
        return Row(name, formula, written, self.f(g.value))

    def backward(self, back: NodeBackward) -> Section:
        g = back.gradient
        record = self.t.forward[self.t.graph.index[g.name]]
        op = OPS[record.node.op]
        names, numbers = self.texts(record)
        rows = [self.gradient_row(g)]
        for e in back.edges:
            rows.append(
                Row(
                    e.local_name,
                    op.local_text(e.position, names, g.name),
                    op.local_text(e.position, numbers, self.f.operand(record.value)),
                    self.f(e.local),
                )
            )
            rows.append(self.contribution(e))
        title = f"Backward · {g.name} = {op.text(names)}"
        return self.section("backward", title, rows, _shared_note(g, record.node))

    def contribution(self, e: Edge) -> Row:
        written = f"{self.f.operand(e.upstream)} × {self.f.operand(e.local)}"
        op = self.t.graph.node(e.node).op
        if OPS[op].selects and e.local == 0 and not _finite(e.upstream):  # torch's where: 0, not ∞ × 0
            written = f"0 ({op} passes nothing back here, whatever comes from above)"
        return Row(e.contribution_name, f"{grad_name(e.node)} × {e.local_name}", written, self.f(e.product))

    def result(self) -> Section:
        graph = self.t.graph
        found = {b.gradient.name: b.gradient for b in self.t.backward}
        rows = [Row(graph.output, "output", "", self.f(self.t.value))]
        notes = []
        for name in graph.inputs:
            if name in found:
                rows.append(self.gradient_row(found[name]))
                if len(found[name].contributions) > 1:
                    notes.append(_shared_note(found[name], graph.node(name)))
            else:
                rows.append(
                    Row(
                        grad_name(name), f"{graph.output} does not depend on {name}", "", self.f(self.t.gradients[name])
                    )
                )
        title = f"Result · {graph.output} and its gradients by the inputs"
        return self.section("summary", title, rows, "; ".join(notes))


def _finite(value: object) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _literal(c: Const) -> str:
    return c.operand


def _shared_note(g: Gradient, node: Node) -> str:
    if len(g.contributions) > 1:
        sources = ", ".join(dict.fromkeys(e.node for e in g.contributions))
        return (
            f"{g.name} is read {len(g.contributions)} times ({sources}): grad.{g.name} is the sum of the contributions"
        )
    return node.statement and f"from: {node.statement}"
