"""Finite or a located fault: the one check every op runs on what it computes."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from backprop_cli.errors import NumericalFault
from backprop_cli.spec import Array


def locate(values: Array, *, step: int, layer: str | None, quantity: str) -> None:
    """Raise a located NumericalFault at the first non-finite entry (neuron = last axis, 1-based)."""
    if np.isfinite(values).all():
        return
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
    neuron = index[-1] + 1 if index else None
    raise NumericalFault(step=step, layer=layer, neuron=neuron, quantity=quantity, value=float(values[index]))


def norm_of(values: Array) -> float:
    """The Frobenius norm √(Σ v²), as a dot product of the flat array (cheaper per call than np.linalg.norm)."""
    flat = values.ravel()
    return math.sqrt(float(np.dot(flat, flat)))


#: The size of one exact value, numerator and denominator together: past it a run is refused (the
#: fractions of a long exact run grow with every step, and Python will not print an int of more than
#: 4,300 digits, about 14,000 bits).
MAX_EXACT_BITS = 12_000


def exact_size(values: Array, *, step: int, layer: str | None, quantity: str) -> None:
    """Refuse an exact value that has grown past MAX_EXACT_BITS, named like a numerical fault."""
    for index, value in np.ndenumerate(values):
        exact = Fraction(value)
        if exact.numerator.bit_length() + exact.denominator.bit_length() > MAX_EXACT_BITS:
            where = tuple(int(i) for i in index)
            raise NumericalFault(
                step=step,
                layer=layer,
                neuron=where[-1] + 1 if where else None,
                quantity=quantity,
                detail=f"its exact fraction has grown past {MAX_EXACT_BITS:,} bits; trace fewer steps with --exact "
                "(--steps) or drop --exact",
                what="too large to write exactly",
            )


def finite(values: Array, *, step: int, layer: str | None, quantity: str) -> float:
    """The norm √(Σ v²) of ``values``, raising a located NumericalFault if one of them is not finite.

    One dot product serves as the test: it is finite when every value is, and it doubles as the
    diagnostics' norm. A square sum past float64's range (a value from about 1e154 up, or many a little
    smaller) is the only false alarm; :func:`locate` then looks value by value, finds them finite, and
    the norm is ∞, as :func:`norm_of` gives it. Exact values (fractions) are checked for size instead,
    and have no norm here (0).
    """
    if values.dtype == object:
        exact_size(values, step=step, layer=layer, quantity=quantity)
        return 0.0
    norm = norm_of(values)
    if not math.isfinite(norm):
        locate(values, step=step, layer=layer, quantity=quantity)
    return norm
