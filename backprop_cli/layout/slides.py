"""A trace as a slide deck, as plain data: one slide per phase and layer, each revealed step by step.

The deck is laid out from the :class:`~backprop_cli.layout.document.Document` every file format shares
(same sections, rows and numbers): a title slide with the network and the facts, then per step and
section a slide whose table reveals row by row, the formula first and its numbers next. A layer's
chain rule has a slide of its own before its table, its worked neuron one after it. Every slide
carries a picture of the network with the slide's layer lit. The HTML deck (render/slides.py) and the
Beamer deck (render/beamer.py) only write this out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from backprop_cli.layout.compact import SampleTable
from backprop_cli.layout.document import Document, Placed, placed_document
from backprop_cli.layout.math import Group
from backprop_cli.layout.network_picture import MAX_DRAWN_UNITS as MAX_DRAWN_UNITS
from backprop_cli.layout.network_picture import Picture, picture
from backprop_cli.layout.rows import Section
from backprop_cli.model.i18n import _

ROWS_PER_SLIDE = 10  # a projector's table, in lines of text: more continue on the next slide
CELL_CHARACTERS = 36  # what a formula or written-out cell holds on one line
SAMPLES_PER_SLIDE = 4  # value columns side by side


@dataclass(frozen=True)
class SlideRow:
    name: str
    formula: str
    written: str
    values: tuple[str, ...]  # one per value column


@dataclass(frozen=True)
class Slide:
    kind: str  # "table", "chain" (a layer's chain rule) or "worked" (its neuron 1 with numbers)
    heading: str  # the step and phase
    title: str  # the section
    layer: str | None
    picture: Picture | None
    equations: tuple[str, ...]  # LaTeX of the operation (forward, loss), shown before the table
    chain: tuple[Group, ...]  # the chain rule (a "chain" slide) or the worked equations (a "worked" slide)
    columns: tuple[str, ...]  # the value columns' headings: ("value",), or a batch's samples
    written_heading: str  # the written-out column's heading ("" when no row has one)
    rows: tuple[SlideRow, ...]
    note: str
    has_formula: bool

    def reveals(self) -> list[tuple[int, int]]:
        """When each part appears, counted in key presses from 1: (formula's, numbers') per row (the same
        for a row without formula), or one per equation of a chain or worked slide."""
        if self.kind != "table":
            return [(k + 1, k + 1) for k in range(len(self.chain))]
        out, count = [], 0
        for row in self.rows:
            count += 1
            formula = count
            if row.formula or row.written:
                count += 1
            out.append((formula, count))
        return out

    @property
    def steps(self) -> int:
        return max((last for _first, last in self.reveals()), default=0)


@dataclass(frozen=True)
class Deck:
    title: str
    description: str
    network: tuple[tuple[str, ...], ...]
    facts: tuple[str, ...]
    picture: Picture | None
    slides: tuple[Slide, ...]
    closing: str
    notice: str


def _lit(section: Section) -> str | None:
    if section.layer is not None:
        return section.layer
    if section.phase == "forward":
        return "inputs"  # the inputs and targets
    return None


def _rows(placed: Placed) -> tuple[tuple[str, ...], str, list[SlideRow]]:
    """The value columns, the written-out heading and the rows of a placed section."""
    table = placed.table
    if isinstance(table, SampleTable):
        columns = table.columns
        written = _("written out ({column})").format(column=columns[0]) if any(r.written for r in table.rows) else ""
        return columns, written, [SlideRow(r.name, r.formula, r.written, r.values) for r in table.rows]
    rows = [SlideRow(r.name, r.formula, r.written, (r.value,)) for r in placed.section.rows]
    return (_("value"),), _("written out") if any(r.written for r in rows) else "", rows


def _lines(row: SlideRow) -> int:
    """The lines a row takes on a slide, about: its formula and written-out cells wrap at CELL_CHARACTERS."""
    longest = max(len(row.formula), len(row.written), 1)
    return -(-longest // CELL_CHARACTERS)


def _chunks(rows: list[SlideRow]) -> list[list[SlideRow]]:
    """Rows cut into slides of at most ROWS_PER_SLIDE lines (a row never split; a long one alone)."""
    chunks: list[list[SlideRow]] = [[]]
    used = 0
    for row in rows:
        lines = _lines(row)
        if chunks[-1] and used + lines > ROWS_PER_SLIDE:
            chunks.append([])
            used = 0
        chunks[-1].append(row)
        used += lines
    return chunks


def slides_of(doc: Document, placed: Placed, heading: str, phase: str) -> Iterator[Slide]:
    """The slides of one placed section: its chain rule, its table (continued past ROWS_PER_SLIDE), the
    worked neuron."""
    section, maths = placed.section, placed.maths
    title = placed.subtitle or phase
    art = picture(doc.spec, _lit(section)) if doc.spec is not None else None
    base = Slide("table", f"{heading} · {phase}", title, section.layer, art, (), (), (), "", (), "", False)
    if maths.chain:
        yield replace(base, kind="chain", title=_("{title}: the chain rule").format(title=title), chain=maths.chain)
    columns, written, rows = _rows(placed)
    note = placed.table.note if placed.table else section.note
    chunks = _chunks(rows)
    for number, chunk in enumerate(chunks):
        more = _(" ({part} of {parts})").format(part=number + 1, parts=len(chunks)) if len(chunks) > 1 else ""
        yield replace(
            base,
            title=title + more,
            equations=maths.ops_latex if number == 0 else (),
            columns=columns,
            written_heading=written if any(r.written for r in chunk) else "",
            rows=tuple(chunk),
            note=note if number == len(chunks) - 1 else "",
            has_formula=any(r.formula for r in chunk),
        )
    if maths.worked:
        worked = _("{title}: neuron 1 worked, with the numbers of {whose}").format(title=title, whose=placed.numbers_of)
        yield replace(base, kind="worked", title=worked, chain=maths.worked)


def deck(doc: Document) -> Deck:
    """The whole deck of a document (a network's or an expression's trace)."""
    slides: list[Slide] = []
    for part, placed_list in placed_document(doc, SAMPLES_PER_SLIDE):
        phase = ""
        for placed in placed_list:
            phase = placed.phase_title or phase
            slides += slides_of(doc, placed, part.heading, phase)
    art = picture(doc.spec, None) if doc.spec is not None else None
    return Deck(doc.title, doc.description, doc.network, doc.facts, art, tuple(slides), doc.closing, doc.notice)
