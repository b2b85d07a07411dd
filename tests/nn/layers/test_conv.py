"""The arithmetic of a 2-D convolution (nn/layers/conv.py): by hand, by central differences, on
fractions, and against torch.nn.functional.conv2d and its autograd."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.nn.layers import conv

X = np.array([[[[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, -1.0, 1.0]]]])  # (1, 1, 3, 3)
W = np.array([[[[1.0, -1.0], [0.5, 2.0]]]])  # (1, 1, 2, 2)


def test_by_hand_each_output_is_its_window_times_the_kernel_plus_the_bias() -> None:
    z = conv.forward(X, W, np.array([0.5]))
    # window (0,0): 1·1 + 2·(−1) + 0·0.5 + 1·2 = 1, + 0.5; (0,1): 2 − 0 + 0.5 + 6 = 8.5, + 0.5
    # window (1,0): 0 − 1 + 1 − 2 = −2, + 0.5; (1,1): 1 − 3 − 0.5 + 2 = −0.5, + 0.5
    np.testing.assert_array_equal(z, [[[[1.5, 9.0], [-1.5, 0.0]]]])


def test_by_hand_stride_and_padding_follow_torch_s_output_size() -> None:
    assert conv.output_size(3, 2, 1, 0) == 2
    assert conv.output_size(5, 3, 2, 1) == 3  # ⌊(5 + 2 − 3) / 2⌋ + 1
    assert conv.output_size(4, 2, 2, 0) == 2
    z = conv.forward(X, np.ones((1, 1, 1, 1)), None, stride=2, padding=1)
    # padded to 5×5, 1×1 kernel at rows/cols 0, 2, 4: the corners of padding and x[0, 0], x[0, 2], …
    np.testing.assert_array_equal(z, [[[[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]])


def test_by_hand_gradients_are_sums_over_output_positions() -> None:
    delta = np.array([[[[1.0, 0.0], [0.0, 2.0]]]])
    grad_w = conv.weight_gradients(X, delta, (2, 2))
    # δ(0,0)·window(0,0) + δ(1,1)·window(1,1) = [[1, 2], [0, 1]] + 2·[[1, 3], [−1, 1]]
    np.testing.assert_array_equal(grad_w, [[[[[3.0, 8.0], [-2.0, 3.0]]]]])
    grad_x = conv.input_gradients(delta, W, (3, 3))
    # δ(0,0) spreads w over cells (0..1, 0..1), δ(1,1) = 2 spreads 2w over cells (1..2, 1..2)
    np.testing.assert_array_equal(grad_x, [[[[1.0, -1.0, 0.0], [0.5, 4.0, -2.0], [0.0, 1.0, 4.0]]]])


def test_a_kernel_that_does_not_fit_is_said_with_the_shapes() -> None:
    assert conv.fit_problem("c1", (2, 2), (3, 3), 0) == "c1: kernel 3 does not fit an input of 2×2 with padding 0"
    assert conv.fit_problem("c1", (2, 2), (3, 3), 1) is None
    assert conv.fit_problem("c1", (4, 2), (3, 4), 0) == "c1: kernel 3×4 does not fit an input of 4×2 with padding 0"
    assert conv.fans(8, 3, 3, 3) == (27, 72)  # torch: fan_in = C_in·kh·kw, fan_out = C_out·kh·kw


def test_fractions_give_the_same_numbers_exactly() -> None:
    xf = np.vectorize(Fraction)(X).astype(object)
    wf = np.vectorize(Fraction)(W).astype(object)
    z = conv.forward(xf, wf, np.array([Fraction(1, 2)], dtype=object), padding=1)
    np.testing.assert_array_equal(z.astype(np.float64), conv.forward(X, W, np.array([0.5]), padding=1))
    assert all(isinstance(v, Fraction) for v in z.flat)
    delta = np.vectorize(Fraction)(np.ones(z.shape)).astype(object)
    gx = conv.input_gradients(delta, wf, (3, 3), padding=1)
    assert all(isinstance(v, Fraction) for v in gx.flat)


def _loss(x: np.ndarray, w: np.ndarray, b: np.ndarray, r: np.ndarray, stride: int, padding: int) -> float:
    return float((conv.forward(x, w, b, stride, padding) * r).sum())  # L = Σ r·z: ∂L/∂z = r


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    stride=st.integers(1, 2),
    padding=st.integers(0, 1),
    kernel=st.integers(1, 3),
    channels=st.integers(1, 2),
)
def test_central_differences_agree_with_the_gradients(
    seed: int, stride: int, padding: int, kernel: int, channels: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, channels, 4, 3))
    w = rng.normal(size=(2, channels, kernel, kernel))
    b = rng.normal(size=2)
    z = conv.forward(x, w, b, stride, padding)
    r = rng.normal(size=z.shape)
    h = 1e-6
    analytic_w = conv.weight_gradients(x, r, (kernel, kernel), stride, padding).sum(axis=0)
    analytic_x = conv.input_gradients(r, w, (4, 3), stride, padding)
    for array, analytic in ((w, analytic_w), (x, analytic_x)):
        for index in np.ndindex(array.shape):
            keep = array[index]
            array[index] = keep + h
            up = _loss(x, w, b, r, stride, padding)
            array[index] = keep - h
            down = _loss(x, w, b, r, stride, padding)
            array[index] = keep
            assert analytic[index] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-8)
    np.testing.assert_allclose(
        r.sum(axis=(0, 2, 3)),
        [(_loss(x, w, b + e, r, stride, padding) - _loss(x, w, b - e, r, stride, padding)) / 2 for e in np.eye(2)],
        rtol=1e-9,
    )


@pytest.mark.parametrize(("stride", "padding", "kernel"), [(1, 0, 3), (2, 1, 3), (1, 1, 2), (3, 0, 2)])
def test_torch_conv2d_forward_and_autograd_agree(stride: int, padding: int, kernel: int) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed; parity tests need `pip install torch==2.13.0`")
    rng = np.random.default_rng(stride * 10 + padding + kernel)
    x = rng.normal(size=(3, 2, 5, 6))
    w = rng.normal(size=(4, 2, kernel, kernel))
    b = rng.normal(size=4)
    tx, tw, tb = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b))
    tz = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    z = conv.forward(x, w, b, stride, padding)
    assert z.shape == tuple(tz.shape)
    np.testing.assert_allclose(z, tz.detach().numpy(), rtol=1e-12, atol=1e-12)
    r = rng.normal(size=z.shape)
    (tz * torch.tensor(r)).sum().backward()
    assert tw.grad is not None and tx.grad is not None and tb.grad is not None
    np.testing.assert_allclose(
        conv.weight_gradients(x, r, (kernel, kernel), stride, padding).sum(axis=0),
        tw.grad.numpy(),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        conv.input_gradients(r, w, (5, 6), stride, padding), tx.grad.numpy(), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(r.sum(axis=(0, 2, 3)), tb.grad.numpy(), rtol=1e-12)
