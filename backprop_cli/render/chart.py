"""A small column chart in plain text (block characters), for the loss per epoch in a terminal.

Pure layout: values in, lines out. More points than ``width`` columns are sampled evenly, always
keeping the first and the last (the loss before training and the final loss). A log scale is used
when the values are positive and span an order of magnitude or more, and the chart says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from backprop_cli.model.numbers import NumberFormat

BLOCKS = " ▁▂▃▄▅▆▇█"


def column_chart(
    values: Sequence[float],
    *,
    height: int = 8,
    width: int = 60,
    fmt: NumberFormat = NumberFormat(3),  # noqa: B008 - frozen, immutable
    first: int = 0,
    x_label: str = "epoch",
) -> list[str]:
    """Lines of a column chart of ``values`` (point k drawn at x = first + k), y axis labelled."""
    if not values:
        return []
    n = len(values)
    columns = min(n, width)
    picked = [round(b * (n - 1) / (columns - 1)) for b in range(columns)] if columns > 1 else [0]
    shown = [values[k] for k in picked]
    low, high = min(shown), max(shown)
    log = low > 0 and high / low >= 10

    def scale(v: float) -> float:
        return math.log10(v) if log else v

    lo, hi = scale(low), scale(high)
    span = hi - lo
    eighths = [round((scale(v) - lo) / span * (height * 8 - 1)) + 1 if span > 0 else height * 4 for v in shown]
    top, bottom = fmt(high), fmt(low)
    pad = max(len(top), len(bottom))
    lines = []
    for row in range(height, 0, -1):
        cells = "".join(BLOCKS[max(0, min(8, e - (row - 1) * 8))] for e in eighths)
        label = top if row == height else bottom if row == 1 else ""
        lines.append(f"{label.rjust(pad)} ┤{cells}")
    left, right = str(first), str(first + picked[-1])
    axis = left + right.rjust(max(columns - len(left), len(right) + 1)) if n > 1 else left
    lines.append(f"{' ' * pad}  {axis} {x_label}" + ("; vertical axis: log scale" if log else ""))
    return lines
