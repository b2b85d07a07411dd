"""A landscape in the terminal: a shaded contour map (or the loss curve over one parameter) with the paths.

Pure layout over a :class:`~backprop_cli.landscape.model.Landscape`: every line of the map is at most
``width`` cells, and the legend is rich Text that the console wraps. Shades are characters, darker
for a higher loss (``" .:-=+*#%@"``), coloured when colour is on, so the plain text says the same.
Each terminal cell shows the grid point nearest its centre.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from backprop_cli.landscape.grid import shade
from backprop_cli.landscape.model import Journey, Landscape
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import Array
from backprop_cli.render.landscape_canvas import LABEL, RUN_LETTERS, RUN_STYLES, SEGMENT, Canvas, arrow, cell

SHADES = " .:-=+*#%@"
NOT_FINITE = "!"
PALETTE = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725")
MIN_ROWS, MAX_ROWS, CURVE_ROWS = 10, 30, 16


def _shade_index(band: int, levels: int) -> int:
    return 0 if levels == 0 else round(band * (len(SHADES) - 1) / levels)


def landscape_text(view: Landscape, fmt: NumberFormat, width: int) -> list[RenderableType]:
    """The title, the picture and its legend, for a console ``width`` columns wide."""
    ticks_y = _y_ticks(view, fmt)
    gutter = max(len(t) for t in ticks_y) + 2
    columns = width - gutter - 1
    if view.y is None:
        canvas, low, high = _curve(view, columns)
        ticks_y = [fmt(high), fmt((low + high) / 2), fmt(low)]
        gutter = max(len(t) for t in ticks_y) + 2
        columns = width - gutter - 1
        canvas, low, high = _curve(view, columns)
    else:
        rows = max(MIN_ROWS, min(MAX_ROWS, columns // 2 - 4))
        canvas = _surface(view, columns, rows)
    skipped = _paths(view, canvas, low_high=None if view.y is not None else (low, high))
    title = Text(f"backprop landscape · {view.source}: {view.loss_name} loss on {view.rows_text}")
    out: list[RenderableType] = [title]
    out += [Text(view.y.label if view.y is not None else "loss", no_wrap=True, overflow="crop")]
    lines = canvas.lines()
    marks = {0: ticks_y[0], len(lines) // 2: ticks_y[1], len(lines) - 1: ticks_y[2]}
    for index, line in enumerate(lines):
        tick = marks.get(index)
        left = Text(f"{tick.rjust(gutter - 2)} ┤" if tick is not None else " " * (gutter - 2) + " │")
        out.append(left + line)
    out.append(Text(" " * (gutter - 1) + "└" + "─" * columns))
    out.append(Text(" " * gutter + _x_ticks(view.x.values, fmt, columns)))
    out.append(Text(" " * gutter + view.x.label.center(columns).rstrip(), no_wrap=True, overflow="crop"))
    out += _legend(view, fmt, skipped)
    return out


def _y_ticks(view: Landscape, fmt: NumberFormat) -> list[str]:
    if view.y is None:
        return ["0"]
    ys = view.y.values
    return [fmt(float(ys[-1])), fmt(float(ys[len(ys) // 2])), fmt(float(ys[0]))]


def _x_ticks(xs: Array, fmt: NumberFormat, columns: int) -> str:
    left, middle, right = fmt(float(xs[0])), fmt(float(xs[len(xs) // 2])), fmt(float(xs[-1]))
    line = [" "] * columns
    for text, at in ((left, 0), (right, columns - len(right)), (middle, (columns - len(middle)) // 2)):
        if all(c == " " for c in line[max(0, at - 1) : at + len(text) + 1]):
            line[at : at + len(text)] = list(text)
    return "".join(line).rstrip()


def _surface(view: Landscape, columns: int, rows: int) -> Canvas:
    canvas = Canvas(columns, rows)
    assert view.y is not None
    nx, ny = len(view.x.values), len(view.y.values)
    gx = np.rint(np.arange(columns) * (nx - 1) / (columns - 1)).astype(int)
    gy = np.rint((rows - 1 - np.arange(rows)) * (ny - 1) / (rows - 1)).astype(int)
    bands = shade(view.loss[np.ix_(gy, gx)], view.levels)  # the grid point nearest each cell's centre
    count = len(view.levels)
    index = np.rint(bands * (len(SHADES) - 1) / count).astype(int) if count else np.zeros_like(bands)
    chars = np.array([*SHADES, NOT_FINITE])[np.where(bands < 0, len(SHADES), index)]
    styles = [*PALETTE, "bold"]
    for r, (row, picked) in enumerate(
        zip(chars.tolist(), np.where(bands < 0, len(SHADES), index).tolist(), strict=True)
    ):
        for c, (char, which) in enumerate(zip(row, picked, strict=True)):
            canvas.fill(c, r, char, styles[which])
    return canvas


def _curve(view: Landscape, columns: int) -> tuple[Canvas, float, float]:
    xs, loss = view.x.values, view.loss
    values = [float(v) for v in loss if math.isfinite(v)]
    values += [float(v) for path in view.journeys for v in path.surface if math.isfinite(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        low, high = low - 1.0, high + 1.0
    canvas = Canvas(columns, CURVE_ROWS)
    previous: tuple[int, int] | None = None
    for c in range(columns):
        value = float(loss[round(c * (len(xs) - 1) / (columns - 1))])
        r = cell(value, low, high, CURVE_ROWS)
        if r is None:
            previous = None
            continue
        here = (c, CURVE_ROWS - 1 - r)
        if previous is not None:
            canvas.segment(previous, here, "·", "dim")
        canvas.put(*here, "·", "dim", SEGMENT)
        previous = here
    return canvas, low, high


def _position(
    view: Landscape, path: Journey, k: int, canvas: Canvas, low_high: tuple[float, float] | None
) -> tuple[int, int] | None:
    xs = view.x.values
    c = cell(float(path.coords[k, 0]), float(xs[0]), float(xs[-1]), canvas.columns)
    if low_high is None:
        assert view.y is not None
        ys = view.y.values
        r = cell(float(path.coords[k, 1]), float(ys[0]), float(ys[-1]), canvas.rows)
    else:
        r = cell(float(path.surface[k]), *low_high, canvas.rows)
    if c is None or r is None:
        return None
    return c, canvas.rows - 1 - r


def _paths(view: Landscape, canvas: Canvas, low_high: tuple[float, float] | None) -> list[int]:
    """Draw every path: segments, then numbered points (start and end first), then the arrow. Returns per
    path how many points fell outside the picture."""
    many = len(view.journeys) > 1
    where = [[_position(view, path, k, canvas, low_high) for k in range(path.steps_done + 1)] for path in view.journeys]
    if view.y is not None:
        for index, cells in enumerate(where):
            for a, b in itertools.pairwise(cells):
                if a is not None and b is not None:
                    canvas.segment(a, b, "•", RUN_STYLES[index])
    for index, (path, cells) in enumerate(zip(view.journeys, where, strict=True)):
        style = RUN_STYLES[index]
        order = [0, path.steps_done, *range(1, path.steps_done)] if path.steps_done else [0]
        for k in order:
            spot = cells[k]
            if spot is None:
                continue
            mark = f"{RUN_LETTERS[index]}{k}" if many else str(k)
            if not canvas.put(*spot, mark, style):
                canvas.put(*spot, RUN_LETTERS[index] if many else "•", style)
            if k == 0 and index == 0:
                _arrow(view, canvas, spot, len(mark), low_high)
    return [sum(spot is None for spot in cells) for cells in where]


def _arrow(
    view: Landscape, canvas: Canvas, spot: tuple[int, int], label: int, low_high: tuple[float, float] | None
) -> None:
    """−∇L at the start, as an arrow beside its label (screen cells are about twice as tall as wide)."""
    if view.gradient is None or not any(view.gradient):
        return
    xs = view.x.values
    dx = -view.gradient[0] / float(xs[-1] - xs[0]) * canvas.columns
    if view.y is not None:
        ys = view.y.values
        dy = -view.gradient[1] / float(ys[-1] - ys[0]) * canvas.rows * 2
    else:
        dy = 0.0  # along the curve's axis: left or right
    char, oc, orow = arrow(dx, dy)
    for reach in (1, 2):
        c = spot[0] + (label - 1 + reach if oc > 0 else oc * reach)
        if canvas.put(c, spot[1] + orow * reach, char, "bold red", LABEL):
            return


def _legend(view: Landscape, fmt: NumberFormat, skipped: list[int]) -> list[RenderableType]:
    out: list[RenderableType] = []
    if view.y is not None:
        line = Text("shades (loss): ")
        if not view.levels:
            line.append(f"the loss is the same everywhere here, {fmt(float(view.loss.flat[0]))}")
        else:
            count = len(view.levels)
            parts = [(SHADES[0], f"below {fmt(view.levels[0])}")]
            parts += [(SHADES[_shade_index(k + 1, count)], f"from {fmt(level)}") for k, level in enumerate(view.levels)]
            for index, (char, said) in enumerate(parts):
                line.append(f'"{char}"', style=PALETTE[SHADES.index(char)])
                line.append(f" {said}" + (", " if index < len(parts) - 1 else ""))
        if not np.isfinite(view.loss).all():
            line.append(f'; "{NOT_FINITE}" not finite (overflow)')
        out.append(line)
    many = len(view.journeys) > 1
    for index, (path, outside) in enumerate(zip(view.journeys, skipped, strict=True)):
        head = f"{RUN_LETTERS[index]}0…{RUN_LETTERS[index]}{path.steps_done}" if many else f"0…{path.steps_done}"
        line = Text()
        line.append(head, style=RUN_STYLES[index])
        line.append(f": {path.label}, {path.steps_done} step{'s' * (path.steps_done != 1)} from the same start")
        if path.diverged:
            line.append(f"; {path.diverged} ({path.fault})")
        if outside:
            line.append(f"; {outside} point{'s' * (outside != 1)} outside the picture")
        out.append(line)
    if view.gradient is not None:
        names = [view.x.name or "α", *([] if view.y is None else [view.y.name or "β"])]
        said = ", ".join(f"∂L/∂{n} = {fmt(g)}" for n, g in zip(names, view.gradient, strict=True))
        line = Text()
        line.append("arrow", style="bold red")
        what = "the gradient is 0 there, so there is no arrow" if not any(view.gradient) else "−∇L, downhill"
        line.append(f" at the start: {what} ({said})")
        out.append(line)
    notes = [n for n in (view.held_text, *view.notes) if n]
    if notes:
        out.append(Text("; ".join(notes)))
    return out
