"""A trace document as a handout: the worksheet with numbered blanks where the sheet asks, or its solution.

The worksheet keeps the trace's layout (same sections, same rows, same order) and changes what a row
shows: a name the sheet asks becomes ``(n) ________`` with its formula in names only; a row before the
first asked one is shown whole (the numbers the exercise starts from); a row after it that is not
asked shows its formula only, since its numbers would give answers away. The solution has the same
rows and the same numbering, with every value. No chain-rule math is shown in either: the worked
equations carry the numbers. Nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from backprop_cli.layout.document import Document, StepPart
from backprop_cli.layout.rows import Row

BLANK = "________"
HIDDEN = "·"


class Answer(str):
    """A handout's cell for an asked name: its number and its value (``None``: the worksheet's blank).

    As text it reads ``(n) value`` or ``(n) ________``, so a renderer that sets cells as they are still
    shows it; the document formats set the number and the blank in their own terms (LaTeX's
    ``\\textbf{(n)}~`` and ``\\underline{\\hspace{5em}}``, a no-break space in Markdown and HTML)."""

    number: int
    shown: str | None

    def __new__(cls, number: int, shown: str | None) -> Answer:
        cell = super().__new__(cls, f"({number}) {BLANK if shown is None else shown}")
        cell.number = number
        cell.shown = shown
        return cell

    @property
    def label(self) -> str:
        return f"({self.number})"


def numbering(asked: Sequence[str]) -> dict[str, int]:
    """The number of each asked name: 1, 2, … in the order the sheet lists them."""
    return {name: i for i, name in enumerate(dict.fromkeys(asked), start=1)}


def handout(doc: Document, asked: Sequence[str], *, solution: bool) -> Document:
    """The worksheet (``solution`` False) or the solution of ``doc`` for the names ``asked``."""
    number = numbering(asked)
    started = False
    steps: list[StepPart] = []
    for part in doc.steps:
        sections = []
        for section in part.sections:
            rows: list[Row] = []
            for row in section.rows:
                if row.name in number:
                    started = True
                    n = number[row.name]
                    shown = Answer(n, row.value if solution else None)
                    rows.append(replace(row, written=row.written if solution else "", value=shown))
                elif started and not solution:
                    rows.append(replace(row, written="", value=HIDDEN))
                else:
                    rows.append(row)
            sections.append(replace(section, rows=tuple(rows)))
        steps.append(replace(part, sections=tuple(sections)))
    what = "Solution" if solution else "Worksheet"
    how = (
        f"{len(number)} numbered answers, (1) to ({len(number)}), as in the worksheet"
        if solution
        else f"fill in the {len(number)} numbered blanks, (1) to ({len(number)}), by the names shown; "
        f"{HIDDEN} marks a number that would give an answer away"
    )
    return replace(doc, title=f"{what}: {doc.title}", instructions=(how,), steps=tuple(steps), spec=None)
