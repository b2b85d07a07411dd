"""The network as a picture, as plain data: a column of circles per layer (inputs first), every pair of
neighbouring columns joined, one layer lit. The slide decks draw it on every slide with the slide's layer
lit; the HTML and LaTeX documents draw it unlit near the top. The writers (render/pictures.py for SVG,
render/tikz.py for TikZ) only scale and write it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop_cli.model.i18n import _
from backprop_cli.model.spec import NetworkSpec

MAX_DRAWN_UNITS = 8  # a layer drawn with more units shows its first ones and a ⋮

# the network picture's own coordinates (the writers scale them): columns of circles left to right
PICTURE_WIDTH = 320.0
PICTURE_HEIGHT = 200.0
RADIUS = 9.0


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    lit: bool


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    lit: bool


@dataclass(frozen=True)
class Picture:
    """The network: a column of circles per layer (inputs first), every pair of neighbours joined, the
    slide's layer lit (with the lines into it)."""

    circles: tuple[Circle, ...]
    lines: tuple[tuple[float, float, float, float, bool], ...]  # x1, y1, x2, y2, lit
    labels: tuple[Label, ...]  # the layers' names under their columns; ⋮ where units are left out


def picture(spec: NetworkSpec, lit: str | None) -> Picture:
    """The network drawn as columns of circles, ``lit`` (a layer's name, or "inputs") highlighted."""
    columns = [("inputs", len(spec.inputs))] + [(layer.name, layer.units) for layer in spec.layers]
    step = PICTURE_WIDTH / len(columns)
    top, bottom = 14.0, PICTURE_HEIGHT - 30.0
    centres: list[list[tuple[float, float]]] = []
    circles: list[Circle] = []
    labels: list[Label] = []
    for index, (name, units) in enumerate(columns):
        x = step * (index + 0.5)
        drawn = min(units, MAX_DRAWN_UNITS)
        gap = (bottom - top) / max(drawn, 1)
        ys = [top + gap * (k + 0.5) for k in range(drawn)]
        centres.append([(x, y) for y in ys])
        circles += [Circle(x, y, name == lit) for y in ys]
        shown = _(name) if index == 0 else name  # a layer's name as it is; the inputs' column in words
        labels.append(Label(x, PICTURE_HEIGHT - 8.0, shown, name == lit))
        if units > drawn:
            labels.append(Label(x, bottom + 6.0, "⋮", name == lit))
    lines = []
    for index in range(1, len(columns)):
        into = columns[index][0] == lit
        for x1, y1 in centres[index - 1]:
            for x2, y2 in centres[index]:
                lines.append((x1 + RADIUS, y1, x2 - RADIUS, y2, into))
    return Picture(tuple(circles), tuple(lines), tuple(labels))
