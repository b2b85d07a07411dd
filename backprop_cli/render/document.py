"""A whole trace as a document: header facts, then per step the chosen sections, then the run summary.

The file formats (Markdown, LaTeX, HTML) lay out this one structure, so they show the same sections
and rows as the terminal, with numbers from the same :class:`NumberFormat`. Nothing is computed here:
sections come from :func:`backprop_cli.render.rows.step_sections`, losses from the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backprop_cli.ops import ACTIVATIONS, LOSSES
from backprop_cli.optim import hyper_text
from backprop_cli.render.numbers import NumberFormat
from backprop_cli.render.rows import Section, step_sections
from backprop_cli.spec import NetworkSpec
from backprop_cli.trace import StepRecord

if TYPE_CHECKING:  # terminal.py builds its header from this module
    from backprop_cli.render.math import SectionMath
    from backprop_cli.render.terminal import TraceFilter

NETWORK_COLUMNS = ("layer", "units", "fan-in", "activation", "a = f(z)", "parameters")
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
    only: TraceFilter
    loss_before: float  # on all data, before step 1
    loss_after: Callable[[], float]  # on all data, after the last step (call once the records are consumed)
    max_rows: int = 0  # 0: no cap (the terminal rendering caps by default)
    width: int | None = None  # terminal width, for renderings of the terminal


@dataclass(frozen=True)
class StepPart:
    step: int
    heading: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Document:
    title: str
    description: str
    network: tuple[tuple[str, ...], ...]  # rows under NETWORK_COLUMNS
    facts: tuple[str, ...]  # loss, optimizer, data, names: one line each
    steps: tuple[StepPart, ...]
    closing: str  # the run's loss on all data before and after, when several steps are shown whole
    spec: NetworkSpec
    fmt: NumberFormat


def network_rows(spec: NetworkSpec, fmt: NumberFormat) -> tuple[tuple[str, ...], ...]:
    """The network table: inputs, then one row per layer."""
    rows: list[tuple[str, ...]] = [("inputs", str(len(spec.inputs)), "", "", ", ".join(spec.inputs), "")]
    for layer in spec.layers:
        act = ACTIVATIONS[layer.activation]
        frozen = f" (frozen: {', '.join(sorted(layer.frozen))})" if layer.frozen else ""
        bias = "" if layer.biases is not None else ", no bias"
        rows.append(
            (
                layer.name,
                str(layer.units),
                str(layer.fan_in),
                layer.activation,
                act.template.format(z="z", s=fmt.operand(layer.negative_slope)),
                f"{layer.parameter_count}{bias}{frozen}",
            )
        )
    return tuple(rows)


def facts(spec: NetworkSpec, steps: int, fmt: NumberFormat) -> tuple[str, ...]:
    """Loss, optimizer, data and how names are built, one line each (the terminal header's lines too)."""
    loss = LOSSES[spec.loss.name]
    hyper = hyper_text(spec.optimizer, fmt)  # every hyper-parameter the update formulas use, by symbol
    rows = spec.data.rows
    shuffled = f"; rows shuffled each pass (seed {spec.training.seed or 0})" if spec.training.shuffle else ""
    return (
        f"loss: {spec.loss.name} ({loss.formula}), reduction {spec.loss.reduction} over the batch",
        f"optimizer: {spec.optimizer.name} ({hyper})",
        f"data: {rows} row{'s' if rows != 1 else ''} ({spec.data.source}); steps: {steps}{shuffled}",
        "names: layer.z1 = weighted sum of neuron 1, layer.w1_2 = weight into neuron 1 from input 2 "
        "(1-based); the trace shows each formula, then the same formula with its numbers",
    )


def step_heading(rec: StepRecord, total: int) -> str:
    several = len(rec.samples) > 1
    rows = ", ".join(str(s + 1) for s in rec.samples)
    return f"Step {rec.step} of {total} · batch: data row{'s' if several else ''} {rows}"


def closing_line(before: float, after: float, steps: int, fmt: NumberFormat) -> str:
    return (
        f"Loss on all data: {fmt(before)} before step 1, {fmt(after)} after step {steps} (change {fmt(after - before)})"
    )


def build(job: TraceJob) -> Document:
    """Run the records through the layout and the filter, keeping every chosen section."""
    spec, fmt, only = job.spec, job.fmt, job.only
    parts: list[StepPart] = []
    for rec in job.records:  # consumed whole, even past the chosen steps, so loss_after is the run's end
        if not only.wants_step(rec.step):
            continue
        sections = tuple(s for s in step_sections(rec, fmt) if only.wants(s))
        parts.append(StepPart(rec.step, step_heading(rec, job.total), sections))
    closing = ""
    if job.total > 1 and not only.steps:
        closing = closing_line(job.loss_before, job.loss_after(), job.total, fmt)
    return Document(
        title=f"backprop trace · {spec.source}",
        description=(spec.description or "").strip(),
        network=network_rows(spec, fmt),
        facts=facts(spec, job.total, fmt),
        steps=tuple(parts),
        closing=closing,
        spec=spec,
        fmt=fmt,
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
    from backprop_cli.render.math import section_math

    phase = None
    chained: set[str | None] = set()
    for section in part.sections:
        phase_title = None
        if section.phase != phase:
            phase = section.phase
            phase_title = PHASE_TITLES[phase]
        subtitle = section.title if section.title != PHASE_TITLES[phase] else None
        maths = section_math(doc.spec, section, doc.fmt, with_chain=section.layer not in chained)
        if section.phase == "backward":
            chained.add(section.layer)
        yield Placed(section, phase_title, subtitle, maths)
