"""Rounding protocols as data: how students are told to round, and the chain rounded as they go.

A :class:`Rounding` rounds one number (to N decimals, or N significant digits); :class:`RoundedChain`
walks a run's quantities in their (dependency) order and gives each computed one the value its rule
makes from the *rounded* values of its factors, rounded in turn: the numbers of a student who rounds
every intermediate as told. A given number stays as handed out, but a parameter of a later step is the
rounded value its update gave (``Quantity.origin``). One chain serves a whole run: its steps in order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from backprop_cli.model.quantity import Quantity, Scalar
from backprop_cli.model.record import record

KINDS = ("decimals", "significant")
EXACT = "exact"  # ``rounding: exact``: the key in exact fractions, and an answer right only when exact


@record
class Rounding:
    """Round every intermediate to ``digits`` decimals, or ``digits`` significant digits."""

    kind: str  # one of KINDS, or EXACT
    digits: int = 0

    @property
    def exact(self) -> bool:
        return self.kind == EXACT

    def __call__(self, value: float) -> float:
        """Rounded half away from zero, as by hand, on the number as hand arithmetic has it (float64's
        noise past 15 significant digits dropped: 0.6 − 0.5 × 0.1385 is 0.53075, so 0.5308 to 4 decimals)."""
        if self.exact or not math.isfinite(value) or value == 0:
            return value
        number = Decimal(f"{value:.15g}")
        exponent = -self.digits if self.kind == "decimals" else number.adjusted() - self.digits + 1
        return float(number.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP))

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


@dataclass
class RoundedChain:
    """The values of a run's quantities rounded as they go, by name (filled as quantities are rounded)."""

    rounding: Rounding
    values: dict[str, Scalar] = field(default_factory=dict)

    def round(self, q: Quantity) -> Quantity:
        """``q`` with the value its rule makes from the rounded factors, rounded, and those factors in its slots."""
        if self.rounding.exact:
            return q
        if q.form.rule is None:
            if q.kind == "again" and q.name in self.values:  # a number shown a second time (the summary's loss)
                value: Scalar = self.values[q.name]
            else:
                value = self.values.get(q.origin, q.value) if q.origin is not None else q.value
            self.values.setdefault(q.name, value)
            return replace(q, value=value)
        value = self.rounding(float(q.recompute(self.values)))
        self.values[q.name] = value
        args = tuple(
            self.values.get(s, a) if isinstance(s, str) else a for s, a in zip(q.form.slots, q.args, strict=True)
        )
        return replace(q, value=value, args=args)
