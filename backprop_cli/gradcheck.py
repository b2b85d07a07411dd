"""Central differences: the independent check of every backprop gradient.

∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h with h ≈ 1e-6 in float64; compared by the relative error
|a − n| / max(|a|, |n|) (design notes). Uses only forward passes, never the backward code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backprop_cli.engine import Engine
from backprop_cli.spec import Array, NetworkSpec

DEFAULT_H = 1e-6


@dataclass(frozen=True)
class Comparison:
    layer: str
    kind: str  # "weights" or "biases"
    analytic: Array
    numeric: Array

    def relative_error(self) -> Array:
        scale = np.maximum(np.abs(self.analytic), np.abs(self.numeric))
        diff = np.abs(self.analytic - self.numeric)
        err: Array = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
        return err


def numeric_gradients(spec: NetworkSpec, rows: tuple[int, ...], h: float = DEFAULT_H) -> list[tuple[str, str, Array]]:
    """Central-difference gradients of the batch loss over ``rows`` for every parameter tensor."""
    engine = Engine(spec)
    out: list[tuple[str, str, Array]] = []
    tensors: list[tuple[str, str, Array]] = []
    for index, layer in enumerate(spec.layers):
        tensors.append((layer.name, "weights", engine.params.weights[index]))
        bias = engine.params.biases[index]
        if bias is not None:
            tensors.append((layer.name, "biases", bias))
    for name, kind, tensor in tensors:
        grad = np.zeros_like(tensor)
        for position in np.ndindex(tensor.shape):
            saved = tensor[position]
            tensor[position] = saved + h
            up = engine.loss(rows)
            tensor[position] = saved - h
            down = engine.loss(rows)
            tensor[position] = saved
            grad[position] = (up - down) / (2 * h)
        out.append((name, kind, grad))
    return out


def compare(spec: NetworkSpec, h: float = DEFAULT_H) -> list[Comparison]:
    """Backprop gradients of the first step next to central differences on the same batch."""
    engine = Engine(spec)
    rows = engine.schedule[0]
    record = engine.step(1, rows)
    numeric = {(n, k): g for n, k, g in numeric_gradients(spec, rows, h)}
    return [Comparison(u.layer, u.kind, u.grad, numeric[(u.layer, u.kind)]) for u in record.updates]
