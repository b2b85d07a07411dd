"""Compact documents: the per-sample sections of a batch folded into one table per layer and phase.

A batch of three samples shows each layer's forward pass three times, each with its own display
equations; folded, the layer has one table whose rows are its quantities (name and formula once) and
whose columns are the samples' values, the first sample's numbers written out so that a row can still
be recomputed by hand. Nothing is computed here: the rows are the sections' own formatted text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backprop_cli.layout.rows import Section

#: stands for the sample in a folded table's names: ``step1/sampleN/out.z1`` with a column ``sample3``
#: is the quantity ``step1/sample3/out.z1``
SAMPLE_SLOT = "sampleN"


@dataclass(frozen=True)
class SampleRow:
    name: str  # the stable name with SAMPLE_SLOT for its sample
    formula: str
    written: str  # the first sample's formula with its numbers
    values: tuple[str, ...]  # per sample of the table, in its order ("" where a sample has no such row)


@dataclass(frozen=True)
class SampleTable:
    """Per-sample sections of one phase and layer, folded: a row per quantity, a column per sample."""

    step: int
    phase: str
    title: str  # the sections' title without its sample
    layer: str | None
    samples: tuple[int, ...]  # 0-based data rows, one column each
    rows: tuple[SampleRow, ...]
    note: str
    first: Section  # the first sample's section, for the math that goes with it

    @property
    def columns(self) -> tuple[str, ...]:
        """The column headings: the name segment each column puts in place of SAMPLE_SLOT."""
        return tuple(f"sample{s + 1}" for s in self.samples)

    def names(self) -> Iterable[tuple[str, str]]:
        """(full stable name, value) of every cell, sample by sample within a row."""
        for row in self.rows:
            for column, value in zip(self.columns, row.values, strict=True):
                if value:
                    yield row.name.replace(SAMPLE_SLOT, column, 1), value


def generic_title(section: Section) -> str:
    """A per-sample section's title without its `` · sample N`` (nn/blocks.py appends it)."""
    if section.sample is None:
        return section.title
    from backprop_cli.nn.blocks import sample_suffix

    return section.title.removesuffix(sample_suffix(section.sample))


def _slot(name: str, sample: int) -> str:
    return name.replace(f"sample{sample + 1}/", SAMPLE_SLOT + "/", 1)


def _generic(formula: str, sample: int) -> str:
    """An input's formula for any sample: ``data row 3`` of sample3 is ``data row N`` of sampleN."""
    return re.sub(rf"\bdata row {sample + 1}\b", "data row N", formula)


def fold(sections: Sequence[Section], per_table: int) -> list[Section | SampleTable]:
    """A step's sections with the per-sample ones of the same phase, layer and title folded into tables
    of at most ``per_table`` samples, each where its first sample's section was. A group whose samples
    do not share their formulas row for row stays unfolded."""
    groups: dict[tuple[str, str | None, str], list[Section]] = {}
    order: list[Section | tuple[str, str | None, str]] = []
    for section in sections:
        if section.sample is None:
            order.append(section)
            continue
        key = (section.phase, section.layer, generic_title(section))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(section)
    out: list[Section | SampleTable] = []
    for item in order:
        if isinstance(item, Section):
            out.append(item)
            continue
        members = groups[item]
        for start in range(0, len(members), per_table):
            chunk = members[start : start + per_table]
            table = _table(chunk, item[2])
            out.extend([table] if table is not None else chunk)
    return out


def _table(members: Sequence[Section], title: str) -> SampleTable | None:
    first = members[0]
    samples = tuple(s.sample for s in members if s.sample is not None)
    names: list[str] = []
    formulas: dict[str, str] = {}
    written: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for position, section in enumerate(members):
        for row in section.rows:
            slotted = _slot(row.name, samples[position])
            formula = _generic(row.formula, samples[position])
            if slotted not in values:
                names.append(slotted)
                formulas[slotted] = formula
                written[slotted] = row.written if position == 0 else ""  # the column it is headed by
                values[slotted] = [""] * len(members)
            elif formulas[slotted] != formula:
                return None  # the same name with another formula: the samples' tables do not fold
            values[slotted][position] = row.value
    rows = tuple(SampleRow(n, formulas[n], written[n], tuple(values[n])) for n in names)
    notes = {s.note for s in members}
    note = first.note if len(notes) == 1 else ""
    return SampleTable(first.step, first.phase, title, first.layer, samples, rows, note, first)
