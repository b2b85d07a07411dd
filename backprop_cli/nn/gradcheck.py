"""Central differences: the independent check of every backprop gradient.

∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h with h ≈ 1e-6 in float64; compared by the relative error
|a − n| / max(|a|, |n|) (design notes). Uses only forward passes, never the backward code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backprop_cli.model.spec import Array, NetworkSpec
from backprop_cli.nn.engine import Engine

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
        tensors += [(layer.name, kind, tensor) for kind, tensor in engine.named_tensors(index).items()]
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


# ---------------------------------------------------------------- every parameter, with a verdict

RTOL = 1e-5  # a gradient passes when its relative error is at most this ...
ATOL = 1e-8  # ... or when backprop and the estimate differ by at most this (both near zero)
KINKED = ("relu", "leaky_relu")  # activations with a kink at z = 0 (as is mae's |a − y| at a = y)


@dataclass(frozen=True)
class ParamCheck:
    """One parameter's backprop gradient next to its central-difference estimate."""

    layer: str
    kind: str  # "weights" or "biases"
    index: tuple[int, ...]
    analytic: float
    numeric: float
    kink: bool  # θ ± h changed the sign of a ReLU z or of mae's a − y: the estimate straddles a kink

    @property
    def absolute_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def relative_error(self) -> float:
        scale = max(abs(self.analytic), abs(self.numeric))
        return self.absolute_error / scale if scale > 0 else 0.0

    @property
    def verdict(self) -> str:
        """'pass'; 'kink' (disagrees, but across a kink: flagged, not failed); or 'fail'."""
        if self.relative_error <= RTOL or self.absolute_error <= ATOL:
            return "pass"
        return "kink" if self.kink else "fail"


@dataclass(frozen=True)
class GradCheck:
    rows: tuple[int, ...]  # the batch checked: the first step's
    h: float
    loss: float
    checks: tuple[ParamCheck, ...]

    @property
    def failed(self) -> tuple[ParamCheck, ...]:
        return tuple(c for c in self.checks if c.verdict == "fail")

    @property
    def kinks(self) -> tuple[ParamCheck, ...]:
        return tuple(c for c in self.checks if c.verdict == "kink")


def _signs(engine: Engine, x: Array, y: Array) -> tuple[list[Array], float]:
    """The sign patterns at every kink (ReLU z's, mae's a − y) and the batch loss, for the current parameters."""
    spec = engine.spec
    caches = engine.forward(x, 1)  # the first step's forward pass (its dropout masks)
    signs = [np.sign(c.z) for layer, c in zip(spec.layers, caches, strict=True) if layer.activation in KINKED]
    if spec.loss.name == "mae":
        signs.append(np.sign(caches[-1].a - y))
    return signs, float(engine.batch_loss(caches[-1].z, caches[-1].a, y, 0)[2])


def check_gradients(spec: NetworkSpec, h: float = DEFAULT_H) -> GradCheck:
    """Every parameter of the first step's batch: backprop (the traced engine) against central differences.

    The estimate uses forward passes only. A disagreement where θ ± h flips the sign of a ReLU's z
    (or z was exactly 0) or of mae's a − y is a kink: the loss is not differentiable there, so
    the estimate averages two one-sided slopes, and the check flags it instead of failing it.
    """
    engine = Engine(spec)
    rows = engine.schedule[0]
    with np.errstate(all="ignore"):
        record = engine.step(1, rows)
    grads = {(u.layer, u.kind): u.grad for u in record.updates}
    probe = Engine(spec)  # the parameters before the step, nudged one at a time
    idx = list(rows)
    x, y = spec.data.x[idx], spec.data.y[idx]
    checks: list[ParamCheck] = []
    with np.errstate(all="ignore"):
        base, _ = _signs(probe, x, y)
        for index, layer in enumerate(spec.layers):
            for kind, tensor in probe.named_tensors(index).items():
                for position in np.ndindex(tensor.shape):
                    saved = tensor[position]
                    tensor[position] = saved + h
                    up_signs, up = _signs(probe, x, y)
                    tensor[position] = saved - h
                    down_signs, down = _signs(probe, x, y)
                    tensor[position] = saved
                    kink = any(
                        bool((s0 != s1).any() or (s0 != s2).any())
                        for s0, s1, s2 in zip(base, up_signs, down_signs, strict=True)
                    )
                    analytic = float(grads[(layer.name, kind)][position])
                    checks.append(
                        ParamCheck(
                            layer.name, kind, tuple(int(i) for i in position), analytic, (up - down) / (2 * h), kink
                        )
                    )
    return GradCheck(tuple(rows), h, float(record.loss.value), tuple(checks))
