"""Every named number of a run, with its exact value: the names contract in one place.

The names, their order and their values are the trace's quantities (``nn/blocks.py``,
``graph/blocks.py``), in the blocks the trace shows: a name listed here is exactly a name shown in the
trace, and its value is the quantity's own, never read back from text. A :class:`NamedValue` is a
quantity with its formula and value written at one precision, for listings and messages.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.quantity import Block, Placed, Quantity, Scalar
from backprop_cli.nn.records import StepRecord

_STEP = re.compile(r"step(\d+)/")


@dataclass(frozen=True)
class NamedValue:
    """One number of the trace: its quantity, and its formula and value as written at one precision."""

    quantity: Quantity
    formula: str  # in short (unqualified) names, as the trace shows it
    written: str  # the formula with the numbers, in the display format
    shown: str  # the value in the display format

    @property
    def name(self) -> str:  # fully qualified: ``step2/sample3/h.delta1``
        return self.quantity.name

    @property
    def value(self) -> float:
        return float(self.quantity.value)

    @property
    def exact(self) -> Scalar:
        return self.quantity.value

    @property
    def step(self) -> int:
        return self.quantity.step

    @property
    def phase(self) -> str:
        return self.quantity.phase

    @property
    def layer(self) -> str | None:
        return self.quantity.layer

    @property
    def sample(self) -> int | None:  # 0-based data row, for per-sample rows of a multi-sample batch
        return self.quantity.sample

    @property
    def multi_step(self) -> bool:
        return self.quantity.multi_step

    @property
    def is_given(self) -> bool:
        """A number the exercise hands out rather than asks for: a parameter before its step, an input
        or a target from the data, an expression's given input. No arithmetic leads to it."""
        return self.quantity.is_given


def shown_value(q: Quantity, fmt: NumberFormat) -> NamedValue:
    return NamedValue(q, q.formula(fmt), q.written(fmt), fmt(q.value))


@dataclass(frozen=True)
class NameFilter:
    """Which names to keep: empty means all. Steps and samples are 1-based, patterns are globs."""

    steps: frozenset[int] = frozenset()
    layers: frozenset[str] = frozenset()
    phases: frozenset[str] = frozenset()
    samples: frozenset[int] = frozenset()
    patterns: tuple[str, ...] = ()

    def wants_section(self, section: Placed) -> bool:
        """The trace's own section filter (``backprop trace --step/--layer/--phase/--sample``)."""
        from backprop_cli.render.terminal import TraceFilter

        return TraceFilter(self.steps, self.layers, self.phases, self.samples).wants(section)

    def wants_name(self, name: str) -> bool:
        return not self.patterns or any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)

    def wants_value(self, value: NamedValue) -> bool:
        """Both choices for one named value, as if laid out again (``check``'s filters on a key)."""
        return self.wants_section(value.quantity) and self.wants_name(value.name)


def named_values(
    records: Iterable[StepRecord], fmt: NumberFormat | None = None, only: NameFilter | None = None
) -> Iterator[NamedValue]:
    """Every quantity of every step in trace order; a name shown twice (``loss`` in the summary) comes once."""
    from backprop_cli.nn.blocks import step_blocks

    display = fmt or NumberFormat()
    chosen = only or NameFilter()
    seen: set[str] = set()
    last = max(chosen.steps, default=None)
    for rec in records:
        if last is not None and rec.step > last:
            break  # the engine stops here too: later steps are never computed
        if chosen.steps and rec.step not in chosen.steps:
            continue
        yield from block_values(step_blocks(rec, display), display, chosen, seen)


def block_values(
    blocks: Iterable[Block], fmt: NumberFormat, chosen: NameFilter, seen: set[str]
) -> Iterator[NamedValue]:
    """The named values of some blocks, filtered, each name once."""
    for block in blocks:
        if not chosen.wants_section(block):
            continue
        for q in block.quantities():
            if q.name in seen or not chosen.wants_name(q.name):
                continue
            seen.add(q.name)
            yield shown_value(q, fmt)


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
