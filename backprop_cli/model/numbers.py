"""The one number formatter: every output format writes numbers through here, so they agree."""

from __future__ import annotations

import math
from fractions import Fraction

from backprop_cli.model.record import record

DEFAULT_PRECISION = 6


def exact_text(value: Fraction | int | str) -> str:
    """An exact value as the trace writes it: ``-24/7``, ``3``."""
    v = Fraction(value)
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


@record
class NumberFormat:
    """Significant-digit formatting: ``0.377500``→``0.3775``, ``-24.0``→``-24``, ``1e-05``→``1e-5``."""

    precision: int = DEFAULT_PRECISION

    def __call__(self, value: float | Fraction) -> str:
        if isinstance(value, Fraction):  # exact mode: "-24/7", "3"
            return exact_text(value)
        value = float(value)
        if not math.isfinite(value):
            # only the textbook ∂L/∂a and chain of a saturated output, and an expression's local derivative
            # or gradient on its way to a select that masks it, get here (the engines stop on any other):
            # ∞ from a division by zero, "undefined" for ∞ × 0
            return "undefined" if math.isnan(value) else ("∞" if value > 0 else "-∞")
        if value == 0:
            return "0"  # also for -0.0
        text = f"{value:.{self.precision}g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent)}"
        return text

    def operand(self, value: float | Fraction) -> str:
        """A number as it appears inside arithmetic: negatives (and fractions like 3/7) in parentheses."""
        text = self(value)
        return f"({text})" if text.startswith("-") or "/" in text else text
