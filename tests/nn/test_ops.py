"""Every activation and loss derivative against central differences, parametrised over the registry."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_cli.nn.ops import ACTIVATIONS, LOSSES, sigmoid, softmax, softmax_jacobian

H = 1e-6
# points away from the ReLU / MAE kinks, where a one-sided derivative is a choice, not a limit
Z = np.array([[-2.5, -0.7, 0.3, 1.9], [0.05, -0.05, 3.0, -3.0]])


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "softmax"])
def test_activation_derivative_matches_central_difference(name: str) -> None:
    act = ACTIVATIONS[name]
    a = act.forward(Z, 0.1)
    analytic = act.derivative(Z, a, 0.1)
    numeric = (act.forward(Z + H, 0.1) - act.forward(Z - H, 0.1)) / (2 * H)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_softmax_jacobian_matches_central_difference() -> None:
    a = softmax(Z)
    jac = softmax_jacobian(a)
    for j in range(Z.shape[1]):
        step = np.zeros_like(Z)
        step[:, j] = H
        column = (softmax(Z + step) - softmax(Z - step)) / (2 * H)  # ∂a_k/∂z_j for every k
        np.testing.assert_allclose(jac[:, :, j], column, rtol=1e-6, atol=1e-9)


def _targets(name: str, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(3)
    if name == "cross_entropy":
        return np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])]
    if name == "bce":
        return rng.uniform(0.05, 0.95, size=shape)
    return rng.normal(size=shape)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradient_matches_central_difference(name: str) -> None:
    loss = LOSSES[name]
    z = Z.copy()
    a = softmax(z) if name == "cross_entropy" else sigmoid(z) if name == "bce" else z
    y = _targets(name, a.shape)
    analytic = loss.grad(a, y, z)
    numeric = np.zeros_like(a)
    for k in range(a.shape[1]):
        step = np.zeros_like(a)
        step[:, k] = H
        if name in ("bce", "cross_entropy"):
            # these terms read the logits; perturb a through its own definition: a ± h, z = inverse
            up = _loss_of_a(name, a + step, y)
            down = _loss_of_a(name, a - step, y)
        else:
            up = loss.terms(a + step, y, z + step).sum(axis=1)
            down = loss.terms(a - step, y, z - step).sum(axis=1)
        numeric[:, k] = (up - down) / (2 * H)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def _loss_of_a(name: str, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The textbook form in terms of a (not normalised for softmax), to differentiate by a."""
    if name == "bce":
        return -(y * np.log(a) + (1 - y) * np.log(1 - a)).mean(axis=1)
    return -(y * np.log(a)).sum(axis=1)


@pytest.mark.parametrize("name", [n for n, loss in LOSSES.items() if loss.combined is not None])
def test_combined_gradient_equals_the_textbook_chain(name: str) -> None:
    loss = LOSSES[name]
    act = ACTIVATIONS[loss.pairs_with or ""]
    a = act.forward(Z, 0.0)
    y = _targets(name, a.shape)
    upstream = loss.grad(a, y, Z)
    if name == "cross_entropy":
        chain = np.einsum("bk,bkj->bj", upstream, softmax_jacobian(a))
    else:
        chain = upstream * act.derivative(Z, a, 0.0)
    assert loss.combined is not None
    np.testing.assert_allclose(loss.combined(a, y), chain, rtol=1e-10, atol=1e-12)


def test_loss_terms_from_logits_match_the_textbook_form() -> None:
    a_sig = sigmoid(Z)
    y = _targets("bce", Z.shape)
    np.testing.assert_allclose(LOSSES["bce"].terms(a_sig, y, Z).sum(axis=1), _loss_of_a("bce", a_sig, y), rtol=1e-12)
    a_soft = softmax(Z)
    y = _targets("cross_entropy", Z.shape)
    np.testing.assert_allclose(
        LOSSES["cross_entropy"].terms(a_soft, y, Z).sum(axis=1), _loss_of_a("cross_entropy", a_soft, y), rtol=1e-12
    )


def test_sigmoid_and_softmax_do_not_overflow() -> None:
    z = np.array([[-1000.0, 1000.0, 0.0]])
    with np.errstate(over="raise"):
        assert np.all(np.isfinite(sigmoid(z)))
        assert np.all(np.isfinite(softmax(z)))
    assert sigmoid(z)[0, 0] == 0.0 and sigmoid(z)[0, 1] == 1.0


def test_kink_conventions_follow_pytorch() -> None:
    zero = np.zeros((1, 1))
    assert ACTIVATIONS["relu"].derivative(zero, zero, 0.0)[0, 0] == 0.0
    assert ACTIVATIONS["leaky_relu"].derivative(zero, zero, 0.2)[0, 0] == 0.2
    assert LOSSES["mae"].grad(zero, zero, zero)[0, 0] == 0.0


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_templates_fill_with_names_and_numbers(name: str) -> None:
    act = ACTIVATIONS[name]
    assert "z1" in act.template.format(z="z1", s="0.01") or name == "softmax"
    act.derivative_template.format(z="z1", a="a1", s="0.01")
