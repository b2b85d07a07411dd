"""Lay a step's quantities out as sections of rows: name, formula, written out, value.

This is the layout every format shares: one row per quantity, with its formula in names and the same
formula with the numbers substituted, so each value can be recomputed by hand from values shown
before it. Nothing is computed here: the quantities come in blocks (``nn/blocks.py``) and every
number goes through one NumberFormat. The section title says which step and sample.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.quantity import PHASES, Block, Quantity
from backprop_cli.nn.blocks import step_blocks
from backprop_cli.nn.records import StepRecord

__all__ = ["PHASES", "Row", "Section", "block_section", "quantity_row", "step_sections"]


@dataclass(frozen=True)
class Row:
    name: str  # the stable, fully qualified name
    formula: str  # in short names
    written: str  # the formula with numbers
    value: str  # formatted value


@dataclass(frozen=True)
class Section:
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


def block_section(block: Block, fmt: NumberFormat) -> Section:
    """A block of quantities as a section of rows, every number through ``fmt``."""
    return Section(
        block.step, block.phase, block.title, block.layer, block.sample, quantity_rows(block, fmt), block.note
    )


def quantity_row(q: Quantity, fmt: NumberFormat) -> Row:
    return Row(q.name, q.formula(fmt), q.written(fmt), fmt(q.value))


def quantity_rows(block: Block, fmt: NumberFormat) -> tuple[Row, ...]:
    return tuple(quantity_row(q, fmt) for q in block.quantities())
