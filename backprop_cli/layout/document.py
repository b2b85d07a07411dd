"""A whole trace as a document: header facts, then per step the chosen sections, then the run summary.

The file formats (Markdown, LaTeX, HTML) lay out this one structure, so they show the same sections
and rows as the terminal, with numbers from the same :class:`NumberFormat`. Nothing is computed here:
sections come from :func:`backprop_cli.layout.rows.step_sections`, losses from the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backprop_cli.layout.header import cap_text, closing_line, facts, network_rows, step_heading, title
from backprop_cli.layout.rows import Section, capped, rows_of_step, step_plan
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.records import StepRecord

if TYPE_CHECKING:
    from backprop_cli.layout.math import SectionMath
    from backprop_cli.model.filters import Filter

PHASE_TITLES = {
    "parameters": "Parameters",
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass",
    "reduction": "Batch reduction",
    "update": "Update",
    "summary": "Summary",
}


@dataclass(frozen=True)
class TraceJob:
    """What a writer needs to render a trace: the spec, the records as the engine streams them, the options."""

    spec: NetworkSpec
    records: Iterable[StepRecord]
    total: int  # steps in the run
    fmt: NumberFormat
    only: Filter
    loss_before: float  # on all data, before step 1
    loss_after: Callable[[], float]  # on all data, after the last step (call once the records are consumed)
    max_rows: int = 0  # 0: no cap (the command caps every format by default)
    width: int | None = None  # terminal width, for renderings of the terminal
    exact: bool = False  # the numbers are exact fractions (``--exact``)
    chosen_rows: int | None = None  # rows of the whole trace (the filters' choice), for the cap's notice
    step_rows: Callable[[StepRecord], int] | None = None  # rows of one step (the same choice), for the notice


@dataclass(frozen=True)
class StepPart:
    step: int
    heading: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Document:
    title: str
    description: str
    network: tuple[tuple[str, ...], ...]  # rows under NETWORK_COLUMNS (render/header.py)
    facts: tuple[str, ...]  # loss, optimizer, data, names: one line each
    steps: tuple[StepPart, ...]
    closing: str  # the run's loss on all data before and after, when several steps are shown whole
    spec: NetworkSpec | None  # None for an expression: no network table, no chain-rule math
    fmt: NumberFormat
    notice: str = ""  # where the row cap stopped the trace, and how to see the rest
    program: tuple[str, ...] = ()  # an expression's program, line by line


def build(job: TraceJob) -> Document:
    """Run the records through the layout and the filter, keeping every chosen section up to the row cap
    (past it nothing is laid out)."""
    spec, fmt, only = job.spec, job.fmt, job.only
    parts: list[StepPart] = []
    shown = 0
    notice = ""
    for rec in job.records:  # consumed whole, even past the chosen steps, so loss_after is the run's end
        if notice or not only.wants_step(rec.step):
            continue
        plans = (planned for planned in step_plan(rec, fmt) if only.wants(planned))
        sections: list[Section] = []
        for _, section in capped(plans, fmt, job.max_rows, shown):
            if section is None:
                step_rows = rows_of_step(rec, fmt, only.wants, job.step_rows)
                notice = cap_text(job.max_rows, rec.step, step_rows, job.chosen_rows)
                break
            shown += len(section.rows)
            sections.append(section)
        parts.append(StepPart(rec.step, step_heading(rec, job.total), tuple(sections)))
    closing = ""
    if job.total > 1 and not only.steps:
        closing = closing_line(job.loss_before, job.loss_after(), job.total, fmt)
    return Document(
        title=title(spec, exact=job.exact),
        description=(spec.description or "").strip(),
        network=network_rows(spec, fmt),
        facts=facts(spec, job.total, fmt, exact=job.exact),
        steps=tuple(parts),
        closing=closing,
        spec=spec,
        fmt=fmt,
        notice=notice,
    )


@dataclass(frozen=True)
class Placed:
    """A section where a document shows it: a phase heading when a new phase starts, the section's own
    title when it says more than the phase, and the math that goes with it."""

    section: Section
    phase_title: str | None
    subtitle: str | None
    maths: SectionMath


def placed_sections(doc: Document, part: StepPart) -> Iterator[Placed]:
    """A step's sections in reading order, the chain rule given once per layer (each sample keeps its numbers)."""
    from backprop_cli.layout.math import SectionMath, section_math

    none = SectionMath((), (), ())
    phase = None
    chained: set[str | None] = set()
    for section in part.sections:
        phase_title = None
        if section.phase != phase:
            phase = section.phase
            phase_title = PHASE_TITLES[phase]
        subtitle = section.title if section.title != PHASE_TITLES[phase] else None
        chain = section.layer not in chained
        maths = none if doc.spec is None else section_math(doc.spec, section, doc.fmt, with_chain=chain)
        if section.phase == "backward":
            chained.add(section.layer)
        yield Placed(section, phase_title, subtitle, maths)
