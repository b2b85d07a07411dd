"""Rounding protocols: how students are told to round, and the key recomputed the way they round.

Full precision is the default: the key holds the trace's own values. A key may declare
``rounding: {decimals: 4}`` (or ``{significant: 4}``): *round every intermediate as you go*. The key
is then the trace recomputed in dependency order with every computed quantity rounded as it is made
and the rounded values fed on (``Quantity.recompute`` from the rounded factors), so a student who
rounded as told gets the key's numbers exactly. And the tolerance band carries the rounding: an answer
that rounds (by the protocol) to the key's value is accepted too, so one written with more digits
than asked passes; what follows from a student's own slightly different rounding is judged from their
values (``homework/ecf.py``: right from right factors is right).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from backprop_cli.homework.answers import Tolerance
from backprop_cli.homework.values import NamedValue, shown_value
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.quantity import Scalar

KINDS = ("decimals", "significant")
EXACT = "exact"  # ``rounding: exact``: the key in exact fractions, and an answer right only when exact


@dataclass(frozen=True)
class Rounding:
    """Round every intermediate to ``digits`` decimals, or ``digits`` significant digits."""

    kind: str  # one of KINDS, or EXACT
    digits: int = 0

    @property
    def exact(self) -> bool:
        return self.kind == EXACT

    def __call__(self, value: float) -> float:
        if self.exact or not math.isfinite(value) or value == 0:
            return value
        if self.kind == "decimals":
            return round(value, self.digits)
        return float(f"{value:.{self.digits}g}")

    def unit(self, value: float) -> float:
        """The size of the last digit kept, at ``value``."""
        if self.kind == "decimals":
            return 10.0 ** (-self.digits)
        if value == 0:
            return 0.0
        return 10.0 ** (math.floor(math.log10(abs(value))) - self.digits + 1)

    def describe(self) -> str:
        if self.exact:
            return "exact fractions: an answer is right only when it is the exact value"
        what = "decimals" if self.kind == "decimals" else "significant digits"
        return f"every intermediate rounded to {self.digits} {what} as you go"

    def to_dict(self) -> dict[str, int] | str:
        return EXACT if self.exact else {self.kind: self.digits}

    def to_yaml(self) -> str:
        return EXACT if self.exact else f"{{{self.kind}: {self.digits}}}"


#: An exact answer read as a float64 differs from the exact value's float64 by rounding alone: a decimal
#: or fraction that is the exact value gives the same float, and one recomputed in floats (ECF) is within this.
EXACT_SLACK = 1e-12


@dataclass(frozen=True)
class Banded(Tolerance):
    """A tolerance that also accepts what rounds to the expected value under ``rounding``."""

    rounding: Rounding | None = None

    def accepts(self, given: float, expected: float) -> bool:
        if self.rounding is not None and self.rounding.exact:  # the same fraction, up to float64's rounding of it
            return abs(given - expected) <= EXACT_SLACK * abs(expected) + 1e-300
        if super().accepts(given, expected):
            return True
        if self.rounding is None:
            return False
        return abs(given - expected) <= 0.5 * self.rounding.unit(expected) * (1 + 1e-9) + 1e-15

    def describe(self) -> str:
        if self.rounding is not None and self.rounding.exact:
            return "exact"
        base = super().describe()
        return base if self.rounding is None else f"{base}, or what rounds to the key's value"


def banded(tolerance: Tolerance, rounding: Rounding) -> Banded:
    return Banded(tolerance.kind, tolerance.amount, rounding)


def round_as_you_go(
    table: Mapping[str, NamedValue], rounding: Rounding, fmt: NumberFormat | None = None
) -> dict[str, NamedValue]:
    """The table recomputed in its (dependency) order with every computed number rounded as it is made.

    Given numbers stay as handed out, but a parameter of a later step is the rounded value its update
    gave (``Quantity.origin``); each quantity's slots hold the rounded factors, so its formula written
    with numbers shows the rounded chain."""
    display = fmt or NumberFormat()
    if rounding.exact:
        return dict(table)  # the exact trace itself
    values: dict[str, Scalar] = {}
    out: dict[str, NamedValue] = {}
    for name, v in table.items():
        q = v.quantity
        if q.form.rule is None:
            value: Scalar = values.get(q.origin, q.value) if q.origin is not None else q.value
        else:
            value = rounding(float(q.recompute(values)))
        values[name] = value
        args = tuple(values.get(s, a) if isinstance(s, str) else a for s, a in zip(q.form.slots, q.args, strict=True))
        out[name] = shown_value(replace(q, value=value, args=args if q.form.rule is not None else q.args), display)
    return out
