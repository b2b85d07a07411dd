"""The arithmetic of a 2-D convolution as ``torch.nn.Conv2d`` defines it (the op module of
``{type: conv2d}`` is to be built on these; issue 14).

torch's Conv2d is a cross-correlation (the kernel is not flipped) with implicit zero padding on both
sides: for an input x of shape (N, C, H, W), weights w of shape (O, C, kh, kw) and biases b (O,),

    z[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v w[o, c, u, v] · xp[n, c, i·s + u, j·s + v]

where xp is x padded with ``padding`` zeros on every side and s the stride; the output has
H_out = ⌊(H + 2·padding − kh) / s⌋ + 1 rows (torch's formula with dilation 1), W_out likewise.
Backward, from δ = ∂L/∂z: ∂L/∂w[o, c, u, v] = Σ_n Σ_i Σ_j δ[n, o, i, j] · xp[n, c, i·s + u, j·s + v]
(the sum over output positions), ∂L/∂b[o] = Σ δ[n, o, ·, ·], and ∂L/∂x the transposed convolution:
each δ[n, o, i, j] sends w[o, c, u, v] · δ to the input cell it read, padding cells dropped.

Every function works window by window with elementwise products and sums, so it runs on float64 and
on object arrays of fractions (``--exact``) alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_cli.model.i18n import _
from backprop_cli.model.spec import Array


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Positions along one axis: ⌊(size + 2·padding − kernel) / stride⌋ + 1 (0 or less: the kernel does not fit)."""
    return (size + 2 * padding - kernel) // stride + 1


def fit_problem(name: str, shape: tuple[int, int], kernel: tuple[int, int], padding: int) -> str | None:
    """Why a kernel does not fit an input (``c1: kernel 3 does not fit an input of 2×2 with padding 0``), or None."""
    (h, w), (kh, kw) = shape, kernel
    if kh <= h + 2 * padding and kw <= w + 2 * padding:
        return None
    shown = str(kh) if kh == kw else f"{kh}×{kw}"
    return _("{name}: kernel {kernel} does not fit an input of {shape} with padding {padding}").format(
        name=name, kernel=shown, shape=f"{h}×{w}", padding=padding
    )


def fans(out_channels: int, in_channels: int, kh: int, kw: int) -> tuple[int, int]:
    """(fan_in, fan_out) of a conv layer as torch's init computes them: C_in·kh·kw and C_out·kh·kw."""
    return in_channels * kh * kw, out_channels * kh * kw


def padded(x: Array, padding: int) -> Array:
    """x (N, C, H, W) with ``padding`` zeros on each side of H and W (zeros of x's own dtype)."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    out: Array = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=x.dtype)
    if x.dtype == object:
        out[...] = x.flat[0] * 0 if x.size else 0
    out[:, :, padding : padding + h, padding : padding + w] = x
    return out


def windows(x: Array, kh: int, kw: int, stride: int, padding: int) -> Array:
    """Every window the kernel reads: (N, H_out, W_out, C, kh, kw), from the padded input."""
    xp = padded(x, padding)
    n, c, h, w = xp.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.empty((n, ho, wo, c, kh, kw), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            out[:, i, j] = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
    return out


def forward(x: Array, weights: Array, biases: Array | None, stride: int = 1, padding: int = 0) -> Array:
    """z (N, O, H_out, W_out) of x (N, C, H, W) under weights (O, C, kh, kw) and biases (O,)."""
    _, _, kh, kw = weights.shape
    win = windows(x, kh, kw, stride, padding)  # (N, Ho, Wo, C, kh, kw)
    products: Any = win[:, :, :, None] * weights[None, None, None]  # (N, Ho, Wo, O, C, kh, kw)
    z = products.sum(axis=(4, 5, 6))  # (N, Ho, Wo, O)
    if biases is not None:
        z = z + biases
    result: Array = np.moveaxis(z, 3, 1)
    return result


def weight_gradients(x: Array, delta: Array, kernel: tuple[int, int], stride: int = 1, padding: int = 0) -> Array:
    """Each sample's ∂L/∂w (N, O, C, kh, kw): Σ over output positions of δ × the window it read."""
    kh, kw = kernel
    win = windows(x, kh, kw, stride, padding)  # (N, Ho, Wo, C, kh, kw)
    d = np.moveaxis(delta, 1, 3)  # (N, Ho, Wo, O)
    products: Any = d[:, :, :, :, None, None, None] * win[:, :, :, None]  # (N, Ho, Wo, O, C, kh, kw)
    result: Array = products.sum(axis=(1, 2))
    return result


def input_gradients(delta: Array, weights: Array, shape: tuple[int, int], stride: int = 1, padding: int = 0) -> Array:
    """∂L/∂x (N, C, H, W) of an input of ``shape`` (H, W): the transposed convolution of δ by the weights."""
    n, _, ho, wo = delta.shape
    _, c, kh, kw = weights.shape
    h, w = shape
    zero = delta.flat[0] * 0 if delta.dtype == object and delta.size else 0
    grad = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=delta.dtype)
    if delta.dtype == object:
        grad[...] = zero
    for i in range(ho):
        for j in range(wo):
            d = delta[:, :, i, j]  # (N, O)
            spread: Any = d[:, :, None, None, None] * weights[None]  # (N, O, C, kh, kw)
            grad[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw] += spread.sum(axis=1)
    result: Array = grad[:, :, padding : padding + h, padding : padding + w]
    return result
