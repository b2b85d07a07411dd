"""Finite or a located fault: the one check every op runs on what it computes."""

from __future__ import annotations

import math

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


def finite(values: Array, *, step: int, layer: str | None, quantity: str) -> float:
    """The norm √(Σ v²) of ``values``, raising a located NumericalFault if one of them is not finite.

    One dot product serves as the test: it is finite when every value is, and it doubles as the
    diagnostics' norm. A square sum past float64's range (a value from about 1e154 up, or many a little
    smaller) is the only false alarm; :func:`locate` then looks value by value, finds them finite, and
    the norm is ∞, as :func:`norm_of` gives it.
    """
    norm = norm_of(values)
    if not math.isfinite(norm):
        locate(values, step=step, layer=layer, quantity=quantity)
    return norm
