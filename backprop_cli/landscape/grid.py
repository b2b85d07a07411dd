"""Grids over a plane: their ranges, their budget, the loss on them and the levels that shade them.

Budget, checked before anything is computed: at most :data:`MAX_GRID` points per side, and at most
:data:`MAX_WORK` multiply-adds in all, counted as grid points × data rows × parameters (a 201×201
grid of the default example is 40,401 × 1 × 9; of iris, 40,401 × 150 × 15).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from backprop_cli.errors import ConfigError
from backprop_cli.model.spec import Array

MIN_GRID, MAX_GRID, DEFAULT_GRID = 3, 1001, 101
MAX_WORK = 2_000_000_000
MARGIN = 0.15  # of the path's extent, on each side of a default range
LEVELS = 9  # shading levels: the deciles of the grid's loss


def check_grid(points: int, surface: bool, rows: int, parameters: int) -> None:
    if not MIN_GRID <= points <= MAX_GRID:
        raise ConfigError(f"a grid of {points:,} points per side; expected {MIN_GRID} to {MAX_GRID:,}", path="--grid")
    total = points * points if surface else points
    work = total * rows * parameters
    if work > MAX_WORK:
        raise ConfigError(
            f"{total:,} grid points × {rows:,} data rows × {parameters:,} parameters is {work:,} multiply-adds; "
            f"expected at most {MAX_WORK:,} (a smaller --grid, or --batch)",
            path="--grid",
        )


def parse_range(text: str, option: str) -> tuple[float, float]:
    """``LO:HI`` (or ``LO,HI``) with LO < HI, both finite."""
    parts = text.replace(",", ":").split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"{text!r}; expected LO:HI, e.g. -2:3", path=option) from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"{text!r}; expected finite numbers LO:HI", path=option)
    if not low < high:
        what = "a range of zero width" if low == high else "a range from high to low"
        raise ConfigError(f"{text!r} is {what}; expected LO < HI", path=option)
    return low, high


def span_range(centre: float, span: float) -> tuple[float, float]:
    if not (math.isfinite(span) and span > 0):
        raise ConfigError(
            f"{span!r}; expected a half-width > 0 (a range of zero width has no landscape)", path="--span"
        )
    low, high = centre - span, centre + span
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ConfigError(f"{span!r} around {centre!r} is not a range floats can hold", path="--span")
    return low, high


def default_range(values: Sequence[float], *, at_least: tuple[float, float] | None = None) -> tuple[float, float]:
    """A range holding every finite value (the path and the held point) with a margin on each side."""
    finite = [v for v in values if math.isfinite(v)]
    if at_least is not None:
        finite += list(at_least)
    low, high = min(finite), max(finite)
    extent = high - low
    if extent == 0 or not math.isfinite(extent):  # a parameter the run does not move
        half = max(abs(low) * 0.5, 1.0) if math.isfinite(low) else 1.0
        return low - half, low + half
    low, high = low - MARGIN * extent, high + MARGIN * extent
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(
            "the path leaves the range of floating-point numbers; choose --x-range/--y-range", path="--steps"
        )
    return low, high


def axis(low: float, high: float, points: int) -> Array:
    values: Array = np.linspace(low, high, points)
    return values


def levels(values: Array, count: int = LEVELS) -> tuple[float, ...]:
    """Shading levels: the grid's finite loss at the quantiles k/(count + 1), to 2 significant digits.

    Quantiles give every shade about the same share of the picture whatever the loss's scale (a
    quadratic bowl, a cliff of overflowing values); only levels strictly between the lowest and the
    highest finite value are kept, so a flat landscape has none.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return ()
    low, high = float(finite.min()), float(finite.max())
    picked = np.quantile(finite, [k / (count + 1) for k in range(1, count + 1)])
    out: list[float] = []
    for q in picked:
        level = _two_digits(float(q))
        if low < level < high and (not out or level > out[-1]):
            out.append(level)
    return tuple(out)


def _two_digits(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    digits = 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def shade(values: Array, cuts: Sequence[float]) -> Array:
    """Each value's band: the number of levels at or below it (0 … len(cuts)); −1 where not finite."""
    bands = np.searchsorted(np.asarray(cuts, dtype=np.float64), values, side="right")
    out: Array = np.where(np.isfinite(values), bands, -1)
    return out
