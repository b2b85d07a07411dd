"""The terminal trace: rich tables, one per section, with a cap so big traces do not flood.

Pure layout: sections come from :mod:`backprop_cli.layout.rows`; only ``cli.py`` owns a Console.
Cells are built as ``Text`` so that names like ``[bias]`` are never read as rich markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from backprop_cli.layout.header import (
    cap_text,
    closing_line,
    facts,
    network_columns,
    network_rows,
    step_heading,
    title,
)
from backprop_cli.layout.rows import Section, capped, rows_of_step, step_plan
from backprop_cli.model.filters import Filter
from backprop_cli.model.i18n import _
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.render import DEFAULT_MAX_ROWS
from backprop_cli.render.fit import FormulaTable

if TYPE_CHECKING:
    from backprop_cli.layout.document import Document
    from backprop_cli.nn.records import StepRecord

EVERYTHING = Filter()


@dataclass
class Output:
    """One piece of terminal output; ``phase`` lets the CLI pause between phases."""

    renderable: RenderableType
    phase: str
    step: int = 0
    notice: bool = False
    rows: int = field(default=0)


def header(spec: NetworkSpec, steps: int, fmt: NumberFormat, *, exact: bool = False) -> RenderableType:
    """What is being traced: the network, loss, optimizer and data, in a few lines."""
    # the same rows and lines as the document formats' header (render/document.py)
    table = Table(box=box.SIMPLE, show_header=True, title=Text(title(spec)), title_justify="left")
    for column in network_columns():
        table.add_column(column)
    for row in network_rows(spec, fmt):
        table.add_row(*(Text(cell) for cell in row))
    lines = Text("\n".join(facts(spec, steps, fmt, exact=exact)))
    if spec.description:
        return Group(Text(spec.description, style="italic"), table, lines)
    return Group(table, lines)


def section_table(section: Section) -> FormulaTable:
    """One section as a table: name, formula, written out, value (columns without text left out).

    Cells are ``Text``, never markup; names and numbers stay whole at any width where the longest name
    fits (render/fit.py).
    """
    has_formula = any(row.formula for row in section.rows)
    has_written = any(row.written for row in section.rows)
    headers = [_("formula")] * has_formula + [_("written out")] * has_written
    rows = []
    for row in section.rows:
        cells = [row.formula] * has_formula + [row.written] * has_written
        rows.append((row.name, cells, row.value))
    return FormulaTable(
        rows,
        headers,
        title=Text(section.title, style="bold"),
        caption=Text(section.note) if section.note else None,
    )


def trace_outputs(
    spec: NetworkSpec,
    records: Iterable[StepRecord],
    *,
    steps: int,
    fmt: NumberFormat,
    only: Filter = EVERYTHING,
    max_rows: int = DEFAULT_MAX_ROWS,
    exact: bool = False,
    chosen_rows: int | None = None,
    step_rows: Callable[[StepRecord], int] | None = None,
) -> Iterator[Output]:
    """The whole terminal trace as a stream of renderables, stopping with a notice at ``max_rows``.

    Blocks are planned and laid out only when shown: past the cap nothing more is made. The notice
    says how many rows the step has (``step_rows``, else counted from its plan) and the whole trace
    (``chosen_rows``)."""
    yield Output(header(spec, steps, fmt, exact=exact), phase="header")
    shown = 0
    for rec in records:
        if not only.wants_step(rec.step):
            continue
        yield Output(Rule(Text(step_heading(rec, steps))), phase="step", step=rec.step)
        plans = (planned for planned in step_plan(rec, fmt) if only.wants(planned))
        for planned, section in capped(plans, fmt, max_rows, shown):
            if section is None:
                notice = cap_text(max_rows, rec.step, rows_of_step(rec, fmt, only.wants, step_rows), chosen_rows)
                yield Output(Text(notice, style="yellow"), phase="notice", step=rec.step, notice=True)
                return
            shown += len(section.rows)
            yield Output(section_table(section), phase=planned.phase, step=rec.step, rows=len(section.rows))


def expression_outputs(doc: Document, tree: RenderableType | None = None) -> Iterator[RenderableType]:
    """An expression's trace on a terminal: the program and its inputs, the drawn graph (``--tree``), the
    sections, and the notice where the row cap stopped it."""
    head = [doc.title, *([doc.description] if doc.description else [])]
    yield Text("\n".join([*head, "", *("  " + line for line in doc.program), "", *doc.facts]))
    if tree is not None:
        yield tree
    for part in doc.steps:
        yield from (section_table(section) for section in part.sections)
    if doc.notice:
        yield Text(doc.notice, style="yellow")


def run_summary(before: float, after: float, steps: int, fmt: NumberFormat) -> Text:
    """The loss over all data rows before the first step and after the last one."""
    return Text(closing_line(before, after, steps, fmt), style="bold")
