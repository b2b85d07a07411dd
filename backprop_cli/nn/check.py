"""Finite or a located fault: the one check every op runs on what it computes."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from backprop_cli.model.i18n import N_, _
from backprop_cli.model.quantity import MAX_EXACT_DIGITS, too_large
from backprop_cli.model.spec import Array
from backprop_cli.nn.faults import fault


def locate(values: Array, *, step: int, layer: str | None, quantity: str) -> None:
    """Raise a located NumericalFault at the first non-finite entry (neuron = last axis, 1-based)."""
    if np.isfinite(values).all():
        return
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
    neuron = index[-1] + 1 if index else None
    raise fault(step=step, layer=layer, neuron=neuron, quantity=quantity, value=float(values[index]))


def norm_of(values: Array) -> float:
    """The Frobenius norm √(Σ v²), as one sum of products over the flat array (cheaper per call than
    np.linalg.norm). ``einsum``'s own loop, not BLAS's ``dot``: OpenBLAS threads a long dot product, and
    on a loaded machine of two cores that made one of 346,112 numbers (a conv layer's z over a batch of
    64) take 26 ms instead of 1.4 ms (benchmarks/conv.py).

    Where the square sum overflows although every value is finite (values from about 1e154 up), the
    norm is taken again as m·√(Σ (v/m)²) with m = max |v|: ∞ only when the norm itself is past float64.
    """
    flat = values.ravel()
    with np.errstate(over="ignore"):
        square = float(np.einsum("i,i->", flat, flat))
    if math.isfinite(square) or not np.isfinite(flat).all():
        return math.sqrt(square)
    largest = float(np.abs(flat).max())
    scaled = flat / largest
    return largest * math.sqrt(float(np.einsum("i,i->", scaled, scaled)))


def exact_size(values: Array, *, step: int, layer: str | None, quantity: str) -> None:
    """Refuse an exact value grown past the one bound (``model.quantity.too_large``), named like a fault."""
    for index, value in np.ndenumerate(values):
        if too_large(Fraction(value)):
            where = tuple(int(i) for i in index)
            raise fault(
                step=step,
                layer=layer,
                neuron=where[-1] + 1 if where else None,
                quantity=quantity,
                detail=_(
                    "its exact numerator or denominator has grown past {digits} digits; trace fewer "
                    "steps with --exact (--steps) or drop --exact"
                ).format(digits=f"{MAX_EXACT_DIGITS:,}"),
                what=N_("too large to write exactly"),
            )


def finite(values: Array, *, step: int, layer: str | None, quantity: str) -> float:
    """The norm √(Σ v²) of ``values``, raising a located NumericalFault if one of them is not finite.

    One dot product serves as the test: it is finite when every value is, and it doubles as the
    diagnostics' norm (:func:`norm_of` rescales a square sum that overflows). A norm that is still ∞
    with every value finite is past float64 itself: where it is a diagnostic (‖∂L/∂W‖),
    ``diagnostics.checked`` stops the run on it. Exact values (fractions) are checked for size
    instead, and have no norm here (0).
    """
    if values.dtype == object:
        exact_size(values, step=step, layer=layer, quantity=quantity)
        return 0.0
    norm = norm_of(values)
    if not math.isfinite(norm):
        locate(values, step=step, layer=layer, quantity=quantity)
    return norm


def checked_after(delta: Array, grad_w: Array, *, exact: bool, step: int, layer: str) -> float:
    """‖∂L/∂w‖ of a weight gradient reduced from ``delta`` (Σ over the batch of δ times finite inputs),
    checked as ``finite(delta)`` then ``finite(grad_w)`` would check them, at the cost of one check.

    A non-finite δ makes every weight gradient it reaches non-finite (∞·0 is nan, ∞·x is ±∞, and ∞
    added to anything finite or to −∞ stays non-finite), so when ‖∂L/∂w‖ is finite δ was too and is
    not tested; when it is not, δ is tested first, so a fault names the same quantity as before.
    Exact values (``exact``: δ was tested for size by the caller) are tested as :func:`finite` does.
    """
    if not exact:
        norm = norm_of(grad_w)
        if math.isfinite(norm):
            return norm
        finite(delta, step=step, layer=layer, quantity="δ = ∂L/∂z")
    return finite(grad_w, step=step, layer=layer, quantity=N_("weight gradient ∂L/∂w"))
