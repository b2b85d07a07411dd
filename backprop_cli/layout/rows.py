"""Lay a step's quantities out as sections of rows: name, formula, written out, value.

This is the layout every format shares: one row per quantity, with its formula in names and the same
formula with the numbers substituted, so each value can be recomputed by hand from values shown
before it. Nothing is computed here: the quantities come in blocks (``nn/blocks.py``) and every
number goes through one NumberFormat. The section title says which step and sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.quantity import PHASES, Block, Quantity
from backprop_cli.model.record import record
from backprop_cli.nn.blocks import step_blocks
from backprop_cli.nn.records import StepRecord

__all__ = [
    "PHASES",
    "Row",
    "Section",
    "block_section",
    "capped",
    "quantity_row",
    "rows_of_step",
    "step_plan",
    "step_sections",
]


@record
class Row:
    """One row of a trace table: a quantity's name, formula, the formula with numbers, and value."""

    name: str  # the stable, fully qualified name
    formula: str  # in short names
    written: str  # the formula with numbers
    value: str  # formatted value


@record
class Section:
    """One table of the trace: its step, phase, title, layer and sample, and its rows."""

    step: int
    phase: str  # one of PHASES
    title: str
    layer: str | None
    sample: int | None  # 0-based data row, for per-sample sections of a multi-sample batch
    rows: tuple[Row, ...]
    note: str = ""


def step_sections(rec: StepRecord, fmt: NumberFormat) -> Iterator[Section]:
    """Every section of one step, in reading order."""
    return (block_section(block, fmt) for block in step_blocks(rec, fmt))


def step_plan(rec: StepRecord, fmt: NumberFormat) -> Iterator[Block]:
    """Every block of one step, in reading order, planned: nothing is made until it is laid out."""
    return step_blocks(rec, fmt)


def block_section(block: Block, fmt: NumberFormat, limit: int | None = None) -> Section:
    """A block of quantities as a section of rows, every number through ``fmt`` (``limit``: its first rows)."""
    built = block.build(limit)
    rows = tuple(quantity_row(q, fmt) for q in built.quantities)
    return Section(block.step, block.phase, built.title, block.layer, block.sample, rows, built.note)


def quantity_row(q: Quantity, fmt: NumberFormat) -> Row:
    return Row(q.name, q.formula(fmt), q.written(fmt), fmt(q.value))


def capped(
    blocks: Iterable[Block], fmt: NumberFormat, max_rows: int, shown: int
) -> Iterator[tuple[Block, Section | None]]:
    """Each planned block laid out, until the cap (0: none) after ``shown`` rows: then (block, None).

    Sections are kept whole; only a first section longer than the whole cap is cut at it. Past the cap
    nothing more is made."""
    for block in blocks:
        if max_rows and shown + block.count > max_rows:
            if shown == 0:
                yield block, block_section(block, fmt, max_rows)
            yield block, None
            return
        shown += block.count
        yield block, block_section(block, fmt)


def rows_of_step(
    rec: StepRecord,
    fmt: NumberFormat,
    wants: Callable[[Block], bool],
    count: Callable[[StepRecord], int] | None = None,
) -> int:
    """The rows of a step's blocks that ``wants`` chooses: by ``count`` (arithmetic, for a big batch), else
    summed over its plan."""
    if count is not None:
        return count(rec)
    return sum(block.count for block in step_plan(rec, fmt) if wants(block))
