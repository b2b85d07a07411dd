"""Every named number of a run, with its exact value: the names contract in one place.

The names and their order come from :mod:`backprop_cli.render.rows`, the layout every output format
shares, so a name listed here is exactly a name shown in the trace. The value is read exactly: the
sections are laid out a second time with :class:`ExactFormat`, whose text is the float's ``repr``
(which round-trips), and zipped with the display layout row by row.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

from backprop_cli.render.numbers import NumberFormat
from backprop_cli.render.rows import Planned, Section, step_plan
from backprop_cli.trace import StepRecord

_STEP = re.compile(r"step(\d+)/")


@dataclass(frozen=True)
class ExactFormat(NumberFormat):
    """Writes a float as its ``repr``, so ``float(text)`` gives back the very value (data, not display)."""

    def __call__(self, value: float | Fraction) -> str:
        return repr(float(value))


EXACT = ExactFormat()


@dataclass(frozen=True)
class NamedValue:
    """One number of the trace: its stable name, exact value, where it sits and how it was computed."""

    name: str  # fully qualified: ``step2/sample3/h.delta1``
    value: float
    step: int  # 1-based
    phase: str  # one of rows.PHASES
    layer: str | None
    sample: int | None  # 0-based data row, for per-sample rows of a multi-sample batch
    formula: str  # in short (unqualified) names, as the trace shows it
    written: str  # the formula with the numbers, in the display format
    shown: str  # the value in the display format
    multi_step: bool  # the run has several steps, so names carry ``stepN/``

    @property
    def is_given(self) -> bool:
        """A number the exercise hands out rather than asks for: a parameter before its step, an input
        or a target from the data, an expression's given input. No arithmetic leads to it."""
        if self.written:
            return False
        return (
            self.phase == "parameters"
            or self.formula == "given"
            or self.formula.startswith(("data row ", "target, data row "))
        )


@dataclass(frozen=True)
class NameFilter:
    """Which names to keep: empty means all. Steps and samples are 1-based, patterns are globs."""

    steps: frozenset[int] = frozenset()
    layers: frozenset[str] = frozenset()
    phases: frozenset[str] = frozenset()
    samples: frozenset[int] = frozenset()
    patterns: tuple[str, ...] = ()

    def wants_section(self, section: Section | Planned) -> bool:
        """The trace's own section filter (``backprop trace --step/--layer/--phase/--sample``)."""
        from backprop_cli.render.terminal import TraceFilter

        return TraceFilter(self.steps, self.layers, self.phases, self.samples).wants(section)

    def wants_name(self, name: str) -> bool:
        return not self.patterns or any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)

    def wants_value(self, value: NamedValue) -> bool:
        """Both choices for one named value, as if laid out again (``check``'s filters on a key)."""
        where = Section(value.step, value.phase, "", value.layer, value.sample, ())
        return self.wants_section(where) and self.wants_name(value.name)


def named_values(
    records: Iterable[StepRecord], fmt: NumberFormat | None = None, only: NameFilter | None = None
) -> Iterator[NamedValue]:
    """Every row of every step in trace order; a name shown twice (``loss`` in the summary) comes once."""
    display = fmt or NumberFormat()
    chosen = only or NameFilter()
    seen: set[str] = set()
    last = max(chosen.steps, default=None)
    for rec in records:
        if last is not None and rec.step > last:
            break  # the engine stops here too: later steps are never computed
        if chosen.steps and rec.step not in chosen.steps:
            continue
        yield from section_values(
            step_plan(rec, EXACT),
            step_plan(rec, display),
            chosen,
            seen,
            step=rec.step,
            multi_step=rec.multi_step,
        )


def section_values(
    exact_sections: Iterable[Section | Planned],
    shown_sections: Iterable[Section | Planned],
    chosen: NameFilter,
    seen: set[str],
    *,
    step: int,
    multi_step: bool,
) -> Iterator[NamedValue]:
    """The named values of one step's sections, laid out twice (exactly and for display) and zipped row by row
    (planned sections are laid out only when chosen)."""
    for exact_section, shown_section in zip(exact_sections, shown_sections, strict=True):
        if not chosen.wants_section(shown_section):
            continue
        exact = exact_section.build() if isinstance(exact_section, Planned) else exact_section
        shown = shown_section.build() if isinstance(shown_section, Planned) else shown_section
        for exact_row, row in zip(exact.rows, shown.rows, strict=True):
            if row.name in seen or not chosen.wants_name(row.name):
                continue
            seen.add(row.name)
            yield NamedValue(
                name=row.name,
                value=float(exact_row.value),
                step=step,
                phase=shown.phase,
                layer=shown.layer,
                sample=shown.sample,
                formula=row.formula,
                written=row.written,
                shown=row.value,
                multi_step=multi_step,
            )


def value_table(records: Iterable[StepRecord], fmt: NumberFormat | None = None) -> dict[str, NamedValue]:
    """Every name of the run mapped to its value, in trace order."""
    return {v.name: v for v in named_values(records, fmt)}


def closest_names(name: str, names: Sequence[str], n: int = 3) -> list[str]:
    """The real names nearest to a misspelt one (difflib), for 'did you mean' messages."""
    import difflib

    close = difflib.get_close_matches(name, names, n=n, cutoff=0.6)
    if close:
        return close
    # a right base name with a missing or wrong qualifier: ``h.z1`` in a multi-step run
    base = name.rsplit("/", 1)[-1]
    return [candidate for candidate in names if candidate.rsplit("/", 1)[-1] == base][:n]


def steps_named(names: Iterable[str]) -> frozenset[int]:
    """The steps that names refer to (``step3/…`` is step 3; a name without ``stepN/`` is in step 1)."""
    return frozenset(int(m.group(1)) if (m := _STEP.match(name)) else 1 for name in names)
