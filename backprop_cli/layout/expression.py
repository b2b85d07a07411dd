"""Lay an expression trace out as sections of rows (name, formula, written out, value).

The same :class:`~backprop_cli.layout.rows.Section` layout as a network step, so the terminal table,
and any other format that reads sections, shows expression traces too. Nothing is computed here:
the quantities come in blocks (``graph/blocks.py``), numbers through one NumberFormat.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from backprop_cli.graph.blocks import expr_blocks
from backprop_cli.graph.engine import ExprTrace
from backprop_cli.layout.rows import Section, block_section
from backprop_cli.model.numbers import NumberFormat

if TYPE_CHECKING:
    from backprop_cli.loading.expression import ExprSpec

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
    return (block_section(block, fmt) for block in expr_blocks(trace))


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
