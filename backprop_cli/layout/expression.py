"""Lay an expression trace out as sections of rows (name, formula, written out, value).

The same :class:`~backprop_cli.layout.rows.Section` layout as a network step, so the terminal table,
and any other format that reads sections, shows expression traces too. Nothing is computed here:
the quantities come in blocks (``graph/blocks.py``), numbers through one NumberFormat.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING

from backprop_cli.graph.blocks import expr_blocks
from backprop_cli.graph.engine import ExprTrace
from backprop_cli.layout.diagram import expression_diagram
from backprop_cli.layout.document import Document, StepPart
from backprop_cli.layout.graph_picture import MAX_DRAWN_NODES, GraphPicture, place
from backprop_cli.layout.rows import Section, block_section, capped
from backprop_cli.model.i18n import _
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import shown_source

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
    """What is traced: the program, the inputs, the output and how names are built (the terminal's head)."""
    lines = [title(spec, trace)]
    if spec.description:
        lines.append(spec.description.strip())
    return [*lines, "", *("  " + line for line in program(spec)), "", *facts(trace, fmt)]


def title(spec: ExprSpec, trace: ExprTrace) -> str:
    return f"backprop trace · {shown_source(spec.source)}" + (_(" · exact fractions") if trace.exact else "")


def program(spec: ExprSpec) -> tuple[str, ...]:
    return tuple(line.rstrip() for line in spec.program.strip().splitlines())


def facts(trace: ExprTrace, fmt: NumberFormat) -> tuple[str, str]:
    given = ", ".join(f"{f.node.name} = {fmt(f.value)}" for f in trace.forward if f.node.op == "input")
    return (
        _("inputs: {given}; output: {output}").format(given=given or _("none"), output=trace.graph.output),
        _(
            "names: t1, t2, … unnamed subexpressions; c_2 the second value of c; grad.x = ∂output/∂x; "
            "dq_dx = ∂q/∂x; grad.x.via.q = grad.q × dq_dx, one term of grad.x"
        ),
    )


def cap_notice(max_rows: int) -> str:
    return _(
        "… trace stopped after {max_rows} rows; narrow it with --phase, raise the cap with --max-rows "
        "(0 = no cap), or write everything with --format json."
    ).format(max_rows=max_rows)


def chosen_sections(
    trace: ExprTrace, fmt: NumberFormat, phases: Collection[str] = (), max_rows: int = 0
) -> tuple[tuple[Section, ...], str]:
    """The sections of the chosen ``phases`` (default all) up to the row cap, and the notice where it stopped
    (past the cap nothing is laid out)."""
    blocks = (block for block in expr_blocks(trace) if not phases or block.phase in phases)
    sections: list[Section] = []
    for _rows, section in capped(blocks, fmt, max_rows, 0):
        if section is None:
            return tuple(sections), cap_notice(max_rows)
        sections.append(section)
    return tuple(sections), ""


def expression_document(
    spec: ExprSpec, trace: ExprTrace, fmt: NumberFormat, phases: Collection[str] = (), max_rows: int = 0
) -> Document:
    """An expression trace as the document the file formats write: the program, its inputs, one part of
    sections (no network table, no chain-rule math: each row's formula is its node's own rule)."""
    sections, notice = chosen_sections(trace, fmt, phases, max_rows)
    heading = _("{output} and its gradient, node by node").format(output=trace.graph.output)
    drawn = graph_picture(trace, fmt, spec.source, gradients=not phases or bool({"backward", "summary"} & set(phases)))
    return Document(
        title=title(spec, trace),
        description=(spec.description or "").strip(),
        network=(),
        facts=facts(trace, fmt) if drawn else (*facts(trace, fmt), not_drawn(trace)),
        steps=(StepPart(1, heading, sections),),
        closing="",
        spec=None,
        fmt=fmt,
        notice=notice,
        program=program(spec),
        graph=drawn,
    )


def graph_picture(trace: ExprTrace, fmt: NumberFormat, source: str, *, gradients: bool = True) -> GraphPicture | None:
    """The computation graph placed for a document (None past ``MAX_DRAWN_NODES``): each node with its
    name and value, and its gradient after the backward pass; each edge with its local derivative."""
    if len(trace.forward) > MAX_DRAWN_NODES:
        return None
    output = trace.graph.output
    caption = _("The computation graph of {output}: each node's value").format(output=output)
    if gradients:
        caption += _(" and gradient ({gradient}); on each edge the local derivative ∂node/∂argument").format(
            gradient=f"grad.n = ∂{output}/∂n"
        )
    return place(expression_diagram(trace, fmt, source, gradients=gradients), caption)


def not_drawn(trace: ExprTrace) -> str:
    return _("graph: {n} nodes, more than a document draws ({most}); `backprop graph --format dot` draws it").format(
        n=len(trace.forward), most=MAX_DRAWN_NODES
    )
