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
from backprop_cli.layout.network_picture import Picture, picture
from backprop_cli.layout.rows import Section, capped, rows_of_step, step_plan
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.records import StepRecord

if TYPE_CHECKING:
    from backprop_cli.layout.compact import SampleTable
    from backprop_cli.layout.graph_picture import GraphPicture
    from backprop_cli.layout.math import SectionMath
    from backprop_cli.layout.matrix import MatrixStep
    from backprop_cli.model.filters import Filter

PHASE_TITLES = {
    "parameters": N_("Parameters"),
    "forward": N_("Forward pass"),
    "loss": N_("Loss"),
    "backward": N_("Backward pass"),
    "reduction": N_("Batch reduction"),
    "update": N_("Update"),
    "summary": N_("Summary"),
}


FOLDED = N_(
    "samples side by side: a batch's samples are the columns of one table per layer, each formula written "
    "once; a row's name with sampleN under the column sample3 is the name of sample 3 (step1/sample3/out.z1)"
)


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
    compact: bool | None = None  # fold a batch's samples into one table per layer (None: when batches have several)
    fragment: bool = False  # LaTeX: no preamble (``--fragment``)
    theme: str = "light"  # SVG: light or dark
    view: str = "scalar"  # or "matrix": the step in vector form (layout/matrix.py)


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
    compact: bool = False  # samples folded into one table per layer, each formula shown once (layout/compact.py)
    fragment: bool = False  # LaTeX: no preamble (``--fragment``)
    theme: str = "light"  # SVG: light or dark
    matrix: tuple[MatrixStep, ...] = ()  # the matrix view's steps (``--view matrix``), instead of ``steps``
    picture: Picture | None = None  # a network's picture, drawn near the top (layout/network_picture.py)
    graph: GraphPicture | None = None  # an expression's computation graph, placed (layout/graph_picture.py)
    instructions: tuple[str, ...] = ()  # a handout's lines to its reader, listed after the facts: prose, no formulas


def build(job: TraceJob) -> Document:
    """Run the records through the layout and the filter, keeping every chosen section up to the row cap
    (past it nothing is laid out)."""
    spec, fmt, only = job.spec, job.fmt, job.only
    if job.view == "matrix":
        from backprop_cli.layout.matrix import NAMES, matrix_steps

        steps = matrix_steps(job.records, job.total, fmt, only)
        closing = closing_line(job.loss_before, job.loss_after(), job.total, fmt) if job.total > 1 else ""
        return Document(
            title=title(spec, exact=job.exact) + " · matrix view",
            description=(spec.description or "").strip(),
            network=network_rows(spec, fmt),
            facts=(*facts(spec, job.total, fmt, exact=job.exact), _(NAMES)),
            steps=(),
            closing=closing if not only.steps else "",
            spec=spec,
            fmt=fmt,
            fragment=job.fragment,
            matrix=steps,
            picture=picture(spec, None),
        )
    parts: list[StepPart] = []
    shown = 0
    notice = ""
    for rec in job.records:  # consumed whole, even past the chosen steps, so loss_after is the run's end
        if notice or not only.wants_step(rec.step):
            continue
        plans = (planned for planned in step_plan(rec, fmt) if only.wants(planned))
        sections: list[Section] = []
        for _planned, section in capped(plans, fmt, job.max_rows, shown):
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
    compact = several_samples(spec) if job.compact is None else job.compact
    folded = (_(FOLDED),) if compact and several_samples(spec) else ()
    return Document(
        title=title(spec, exact=job.exact),
        description=(spec.description or "").strip(),
        network=network_rows(spec, fmt),
        facts=facts(spec, job.total, fmt, exact=job.exact) + folded,
        steps=tuple(parts),
        closing=closing,
        spec=spec,
        fmt=fmt,
        notice=notice,
        compact=compact,
        fragment=job.fragment,
        theme=job.theme,
        picture=picture(spec, None),
    )


def several_samples(spec: NetworkSpec) -> bool:
    """Whether a step's batch holds more than one sample (the batches of a pass are its size or smaller)."""
    return min(spec.training.batch_size or spec.data.rows, spec.data.rows) > 1


@dataclass(frozen=True)
class Placed:
    """A section where a document shows it: a phase heading when a new phase starts, the section's own
    title when it says more than the phase, and the math that goes with it."""

    section: Section
    phase_title: str | None
    subtitle: str | None
    maths: SectionMath
    table: SampleTable | None = None  # a compact document's folded samples (``section`` is the first one's)

    @property
    def numbers_of(self) -> str:
        """Whose numbers a worked neuron uses: the table's, or a folded table's first column's."""
        return _("{column} in the table").format(column=self.table.columns[0]) if self.table else _("the table")


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
            phase_title = _(PHASE_TITLES[phase])
        subtitle = section.title if section.title != _(PHASE_TITLES[phase]) else None
        chain = section.layer not in chained
        maths = none if doc.spec is None else section_math(doc.spec, section, doc.fmt, with_chain=chain)
        if section.phase == "backward":
            chained.add(section.layer)
        yield Placed(section, phase_title, subtitle, maths)


#: samples side by side in a compact document's table (more make another table below it)
SAMPLES_PER_TABLE = 6


def placed_document(doc: Document, per_table: int = SAMPLES_PER_TABLE) -> Iterator[tuple[StepPart, list[Placed]]]:
    """Every step's sections in reading order, placed. A full document gives each step the chain rule once
    per layer; a compact one folds a batch's samples into tables of at most ``per_table`` columns and
    shows each layer's equations (forward, loss, chain rule) once in the whole document, its worked
    neuron once per step."""
    if not doc.compact:
        for part in doc.steps:
            yield part, list(placed_sections(doc, part))
        return
    from backprop_cli.layout.compact import SampleTable, fold, generic_title
    from backprop_cli.layout.math import SectionMath, section_math

    shown: set[tuple[str, str | None]] = set()
    for part in doc.steps:
        placed: list[Placed] = []
        phase = None
        worked_here: set[tuple[tuple[str, str | None], str]] = set()
        for item in fold(part.sections, per_table):
            section = item.first if isinstance(item, SampleTable) else item
            phase_title = None
            if section.phase != phase:
                phase = section.phase
                phase_title = _(PHASE_TITLES[phase])
            title = item.title if isinstance(item, SampleTable) else generic_title(section)
            subtitle = title if title != _(PHASE_TITLES[phase]) else None
            key = (section.phase, section.layer)
            maths = SectionMath((), (), ())
            if doc.spec is not None:
                full = section_math(doc.spec, section, doc.fmt, with_chain=key not in shown)
                ops = full.ops_latex if key not in shown else ()
                worked = full.worked if (key, title) not in worked_here else ()  # not again under a second table
                worked_here.add((key, title))
                maths = SectionMath(ops, full.chain, worked)
                if full.ops_latex or full.chain:
                    shown.add(key)
            table = item if isinstance(item, SampleTable) else None
            placed.append(Placed(section, phase_title, subtitle, maths, table))
        yield part, placed
