"""A character canvas for terminal pictures: cells with a style, drawn in layers, read out as rich Text.

Layers decide what may cover what: the shading is layer 0, a path's segments layer 1, labels (step
numbers, run letters, the gradient arrow) layer 2. A label is written only where every cell it needs
holds something of a lower layer, so numbers never overwrite each other.
"""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Span, Text

BACKGROUND, SEGMENT, LABEL = 0, 1, 2

# One colour per run (the same order as the images'); a run is also told apart by its letter.
RUN_STYLES = (
    "bold red",
    "bold magenta",
    "bold dark_orange",
    "bold green4",
    "bold blue",
    "bold cyan",
    "bold black",
    "bold yellow",
)
RUN_LETTERS = "ABCDEFGH"


class Canvas:
    def __init__(self, columns: int, rows: int) -> None:
        self.columns, self.rows = columns, rows
        self.chars = [[" "] * columns for _ in range(rows)]
        self.styles: list[list[Style | str | None]] = [[None] * columns for _ in range(rows)]
        self.layers = [[BACKGROUND] * columns for _ in range(rows)]

    def inside(self, column: int, row: int) -> bool:
        return 0 <= column < self.columns and 0 <= row < self.rows

    def fill(self, column: int, row: int, char: str, style: Style | str | None) -> None:
        self.chars[row][column], self.styles[row][column] = char, style

    def put(self, column: int, row: int, text: str, style: Style | str | None, layer: int = LABEL) -> bool:
        """Write ``text`` from (column, row) rightwards if it fits and covers only lower layers."""
        cells = [(column + k, row) for k in range(len(text))]
        if not all(self.inside(c, r) and self.layers[r][c] < layer for c, r in cells):
            return False
        for (c, r), char in zip(cells, text, strict=True):
            self.chars[r][c], self.styles[r][c], self.layers[r][c] = char, style, layer
        return True

    def segment(self, start: tuple[int, int], end: tuple[int, int], char: str, style: Style | str | None) -> None:
        """A straight line of ``char`` between two cells (both ends excluded: the points are labelled)."""
        (c0, r0), (c1, r1) = start, end
        steps = max(abs(c1 - c0), abs(r1 - r0))
        for k in range(1, steps):
            c = round(c0 + (c1 - c0) * k / steps)
            r = round(r0 + (r1 - r0) * k / steps)
            self.put(c, r, char, style, SEGMENT)

    def lines(self) -> list[Text]:
        """One Text a row, with one span for each run of cells in the same style (not one a cell: rich
        lays out spans, and a 200-column map has 6,000 cells)."""
        out = []
        for chars, styles in zip(self.chars, self.styles, strict=True):
            spans = []
            begin = 0
            for index in range(1, self.columns + 1):
                if index == self.columns or styles[index] != styles[begin]:
                    if styles[begin]:
                        spans.append(Span(begin, index, styles[begin] or ""))
                    begin = index
            out.append(Text("".join(chars), spans=spans))
        return out


ARROWS = "→↗↑↖←↙↓↘"  # counter-clockwise from east, every 45°


def arrow(dx: float, dy_up: float) -> tuple[str, int, int]:
    """The arrow character for a screen direction (dy_up: upwards positive) and its neighbour cell offset."""
    sector = round(math.atan2(dy_up, dx) / (math.pi / 4)) % 8
    offsets = ((1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1))
    return ARROWS[sector], *offsets[sector]


def cell(value: float, low: float, high: float, cells: int) -> int | None:
    """The cell (0 … cells − 1) a value falls in on an axis from low to high; None outside it."""
    if not math.isfinite(value) or not low <= value <= high:
        return None
    return min(cells - 1, max(0, round((value - low) / (high - low) * (cells - 1))))
