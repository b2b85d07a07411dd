"""Every named number of a run, with its exact value: the names contract in one place.

The names, their order and their values are the trace's quantities (``nn/blocks.py``,
``graph/blocks.py``), in the blocks the trace shows: a name listed here is exactly a name shown in the
trace, and its value is the quantity's own, never read back from text. A :class:`NamedValue` is a
quantity with its formula and value written at one precision, for listings and messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from backprop_cli.model.filters import Filter
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.quantity import Block, Quantity, Scalar
from backprop_cli.nn.records import StepRecord

_STEP = re.compile(r"step(\d+)/")


@dataclass(frozen=True)
class NamedValue:
    """One number of the trace: its quantity, and its formula and value as written at one precision.

    The three texts are written when first read, once: a batch grades every name of a run against its
    value and reads a text only for the few names a report or a message shows."""

    quantity: Quantity
    fmt: NumberFormat  # the display format its texts are written in

    @cached_property
    def formula(self) -> str:  # in short (unqualified) names, as the trace shows it
        return self.quantity.formula(self.fmt)

    @cached_property
    def written(self) -> str:  # the formula with the numbers, in the display format
        return self.quantity.written(self.fmt)

    @cached_property
    def shown(self) -> str:  # the value in the display format
        return self.fmt(self.quantity.value)

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
    return NamedValue(q, fmt)


def named_values(
    records: Iterable[StepRecord], fmt: NumberFormat | None = None, only: Filter | None = None
) -> Iterator[NamedValue]:
    """Every quantity of every step in trace order; a name shown twice (``loss`` in the summary) comes once."""
    from backprop_cli.nn.blocks import step_blocks

    display = fmt or NumberFormat()
    chosen = only or Filter()
    seen: set[str] = set()
    last = max(chosen.steps, default=None)
    for rec in records:
        if last is not None and rec.step > last:
            break  # the engine stops here too: later steps are never computed
        if chosen.steps and rec.step not in chosen.steps:
            continue
        yield from block_values(step_blocks(rec, display), display, chosen, seen)


def block_values(blocks: Iterable[Block], fmt: NumberFormat, chosen: Filter, seen: set[str]) -> Iterator[NamedValue]:
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
