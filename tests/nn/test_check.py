"""check.checked_after: one test standing for ``finite(delta)`` then ``finite(grad_w)``, naming the same fault."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.errors import NumericalFault
from backprop_cli.nn.check import checked_after, finite, norm_of


def two_checks(delta: np.ndarray, grad_w: np.ndarray) -> float | str:
    """What the two checks in order give: the norm, or the fault's quantity and neuron."""
    try:
        finite(delta, step=1, layer="h", quantity="δ = ∂L/∂z")
        return finite(grad_w, step=1, layer="h", quantity="weight gradient ∂L/∂w")
    except NumericalFault as fault:
        return f"{fault.quantity} {fault.neuron}"


def one_check(delta: np.ndarray, grad_w: np.ndarray) -> float | str:
    try:
        return checked_after(delta, grad_w, exact=False, step=1, layer="h")
    except NumericalFault as fault:
        return f"{fault.quantity} {fault.neuron}"


SPECIAL = st.sampled_from([0.0, 1.0, -2.5, 1e300, -1e300, np.inf, -np.inf, np.nan])


@settings(max_examples=200, deadline=None)
@given(
    delta=st.lists(SPECIAL, min_size=6, max_size=6),
    x=st.lists(st.sampled_from([0.0, 1.0, -3.0, 1e-300, 1e200]), min_size=4, max_size=4),
)
def test_a_gradient_reduced_from_delta_is_checked_as_delta_then_the_gradient_are(
    delta: list[float], x: list[float]
) -> None:
    d = np.array(delta).reshape(2, 3)  # (batch 2, units 3)
    a = np.array(x).reshape(2, 2)  # (batch 2, fan_in 2), finite as every layer's input is
    with np.errstate(all="ignore"):
        grad_w = d.T @ a
    assert one_check(d, grad_w) == two_checks(d, grad_w)


def test_a_non_finite_delta_is_named_before_the_gradient_it_spoils() -> None:
    d = np.array([[1.0, np.nan], [2.0, 3.0]])
    with np.errstate(all="ignore"):
        grad_w = d.T @ np.zeros((2, 3))  # nan·0 is nan: the gradient is spoiled too
    with pytest.raises(NumericalFault, match="δ = ∂L/∂z") as caught:
        checked_after(d, grad_w, exact=False, step=3, layer="o")
    assert (caught.value.step, caught.value.layer, caught.value.neuron) == (3, "o", 2)


def test_a_finite_gradient_gives_the_norm_norm_of_gives() -> None:
    rng = np.random.default_rng(5)
    d, a = rng.normal(size=(4, 3)), rng.normal(size=(4, 5))
    grad_w = d.T @ a
    assert checked_after(d, grad_w, exact=False, step=1, layer="h") == norm_of(grad_w)
