"""Gradient diagnostics: how healthy each layer's gradients and activations are, step by step.

Per layer and step (all on the batch of that step):

- gradient norm ‖∂L/∂W‖: the Frobenius norm of the layer's reduced weight gradient;
- update-to-weight ratio ‖W_new − W‖ / ‖W‖: how much of the weights one step changes
  (around 1e-3 is the usual rule of thumb; far below, the layer barely learns);
- dead ReLUs: the share of a relu layer's units whose z ≤ 0 for every sample of the batch
  (their output and gradient are 0, so their weights do not learn);
- saturated units: the share of a sigmoid/tanh layer's outputs (samples × units) that sit on a flat
  tail: σ(z) < 0.01 or > 0.99 (there σ' = a(1 − a) < 0.0099, under 4% of its maximum 0.25), or
  |tanh z| > 0.99 (tanh' = 1 − a² < 0.0199, under 2% of its maximum 1).

Vanishing/exploding: the first layer's gradient norm divided by the last layer's. Below 1e-2 (two
orders of magnitude smaller) the gradients vanish on their way to the input; above 1e2 they explode.
A norm of at most 1e-12 counts as zero: a first layer's zero gradient is vanishing (nothing reaches the
input side), but a zero last layer's gradient (its inputs are 0, or the loss is flat there) is not the
denominator of a ratio: that is no comparison, never "exploding".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backprop_cli.model.i18n import N_
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import Array
from backprop_cli.nn.check import norm_of
from backprop_cli.nn.faults import fault
from backprop_cli.nn.records import StepRecord

SATURATION = 0.99  # σ outside [1 − 0.99, 0.99], |tanh| above 0.99
ORDERS = 2  # vanishing/exploding when first/last gradient norms differ by this many orders of magnitude
THRESHOLD = 10.0**ORDERS
NEGLIGIBLE = 1e-12  # a gradient norm at most this counts as zero in the first-versus-last comparison
_SHORT = NumberFormat(3)


@dataclass(frozen=True)
class LayerStats:
    """One layer's diagnostics at one step; a share is None where it does not apply."""

    layer: str
    activation: str
    grad_norm: float
    update_ratio: float | None  # None when the weights are all zero or frozen
    dead_relu: float | None  # relu layers only
    saturated: float | None  # sigmoid and tanh layers only


def layer_stats(
    layer: str,
    activation: str,
    z: Array,
    a: Array,
    grad_w: Array,
    old_w: Array,
    new_w: Array,
    frozen: bool,
    *,
    grad_norm: float | None = None,
    old_norm: float | None = None,
) -> LayerStats:
    """Diagnostics of one layer from its batch z, a (batch, units), reduced weight gradient and update.

    ``grad_norm`` and ``old_norm``, when given, are ‖grad_w‖ and ‖old_w‖ as :func:`norm_of` computed
    them already (the lean trainer has them from its finiteness checks).
    """
    norm_w = norm_of(old_w) if old_norm is None else old_norm
    ratio = None if frozen or norm_w == 0 else norm_of(new_w - old_w) / norm_w
    dead = float(np.mean(np.all(z <= 0, axis=0))) if activation == "relu" else None
    saturated = None
    if activation == "sigmoid":
        saturated = float(np.mean((a < 1 - SATURATION) | (a > SATURATION)))
    elif activation == "tanh":
        saturated = float(np.mean(np.abs(a) > SATURATION))
    return LayerStats(layer, activation, norm_of(grad_w) if grad_norm is None else grad_norm, ratio, dead, saturated)


def mean_of(values: Sequence[float] | Array) -> float:
    """The mean of finite values; where their sum overflows, Σ (v/n) instead, which cannot."""
    with np.errstate(over="ignore"):
        mean = float(np.mean(values))
    if math.isfinite(mean):
        return mean
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        return mean
    return float(np.sum(array / array.size))


def checked(stats: LayerStats, step: int) -> LayerStats:
    """``stats`` when its gradient norm and update ratio are finite, else a located NumericalFault.

    Finite gradients and weights can still give a statistic past float64 (a norm of values near 1e308,
    a ratio to weights near 1e-308): the diagnostics never show ∞.
    """
    for quantity, value in (
        (N_("the gradient norm ‖∂L/∂W‖ (a diagnostic)"), stats.grad_norm),
        (N_("the update ratio ‖ΔW‖/‖W‖ (a diagnostic)"), stats.update_ratio),
    ):
        if value is not None and not math.isfinite(value):
            raise fault(
                step=step,
                layer=stats.layer,
                quantity=quantity,
                value=value,
                detail=N_("it overflows float64 although every weight and gradient is finite; rescale the inputs"),
            )
    return stats


def from_record(rec: StepRecord) -> list[LayerStats]:
    """Diagnostics of a traced step, input layer first (the layers with weights)."""
    weights = {u.layer: u for u in rec.updates if u.kind == "weights"}
    out = []
    for fwd in rec.forward:
        if fwd.layer not in weights:
            continue
        u = weights[fwd.layer]
        stats = layer_stats(fwd.layer, fwd.activation, fwd.z, fwd.a, u.grad, u.old, u.new, u.frozen)
        out.append(checked(stats, rec.step))
    return out


@dataclass(frozen=True)
class Flow:
    """How the gradient norm changes from the last layer to the first."""

    first: str
    last: str
    first_norm: float
    last_norm: float

    @property
    def ratio(self) -> float | None:
        """first / last; None when the last layer's norm is zero (at most NEGLIGIBLE): no ratio to take."""
        if self.last_norm <= NEGLIGIBLE:
            return None
        return self.first_norm / self.last_norm

    @property
    def verdict(self) -> str:
        """'vanishing', 'exploding', 'ok', or 'none' when the last layer's gradient is zero (no comparison)."""
        if self.first_norm <= NEGLIGIBLE < self.last_norm:
            return "vanishing"
        ratio = self.ratio
        if ratio is None:
            return "none"
        if ratio < 1 / THRESHOLD:
            return "vanishing"
        if ratio > THRESHOLD:
            return "exploding"
        return "ok"

    def orders(self) -> float | None:
        """Orders of magnitude between the two norms (log10 of the ratio, signed); None without a ratio
        or with a zero first layer's norm."""
        ratio = self.ratio
        return math.log10(ratio) if ratio is not None and self.first_norm > NEGLIGIBLE else None


def flow(stats: Sequence[LayerStats]) -> Flow | None:
    """First-versus-last gradient norms; None for a single-layer network."""
    if len(stats) < 2:
        return None
    return Flow(stats[0].layer, stats[-1].layer, stats[0].grad_norm, stats[-1].grad_norm)


def describe_flow(f: Flow, num: NumberFormat = _SHORT, *, where: str = "") -> str:
    """The verdict in words, with the threshold stated."""
    rule = f"flagged when they differ by {ORDERS} orders of magnitude ({THRESHOLD:g}×) or more"
    norms = (
        f"‖∂L/∂W‖ of the first layer {f.first} = {num(f.first_norm)}, "
        f"of the last layer {f.last} = {num(f.last_norm)}{where}"
    )
    orders = f.orders()
    if f.verdict == "vanishing":
        if orders is None:
            return (
                f"vanishing gradients: {norms}; the first layer's gradient is zero (at most {NEGLIGIBLE:g}), "
                "so the layers near the input do not learn"
            )
        return (
            f"vanishing gradients: {norms}; the first layer's gradient is {-orders:.1f} orders of magnitude "
            f"smaller, so the layers near the input barely learn ({rule})"
        )
    if f.verdict == "exploding":
        assert orders is not None
        return (
            f"exploding gradients: {norms}; the first layer's gradient is {orders:.1f} orders of magnitude "
            f"larger, so the layers near the input take huge steps ({rule})"
        )
    if f.verdict == "none":
        which = "both layers' gradients are" if f.first_norm <= NEGLIGIBLE else "the last layer's gradient is"
        return (
            f"no first-versus-last comparison: {norms}; {which} zero (at most {NEGLIGIBLE:g}: the layer's "
            "inputs are 0, or the loss is flat there), and a zero gradient is neither vanishing nor exploding"
        )
    assert f.ratio is not None
    return f"no vanishing or exploding gradients: {norms} (ratio {num(f.ratio)}; {rule})"


def mean_stats(steps: Sequence[Sequence[LayerStats]]) -> list[LayerStats]:
    """Per layer, the mean of each diagnostic over ``steps`` (Nones stay None)."""

    def mean(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return mean_of(present) if present else None

    out = []
    for column in zip(*steps, strict=True):
        first = column[0]
        out.append(
            LayerStats(
                first.layer,
                first.activation,
                mean_of([s.grad_norm for s in column]),
                mean([s.update_ratio for s in column]),
                mean([s.dead_relu for s in column]),
                mean([s.saturated for s in column]),
            )
        )
    return out


@dataclass(frozen=True)
class Contrast:
    """Two runs' first-layer gradient norms side by side (``train A --compare B``): at step 1 and as the
    mean over each run's steps; ``orders`` is log10(B's / A's), None where A's is zero."""

    first: str  # run A (its config)
    second: str  # run B
    first_layers: tuple[str, str]  # the first layer with weights of each
    step1: tuple[float, float]  # ‖∂L/∂W‖ of those layers at step 1
    mean: tuple[float, float]  # the mean over each run

    @staticmethod
    def orders_between(pair: tuple[float, float]) -> float | None:
        a, b = pair
        if a <= NEGLIGIBLE or b <= NEGLIGIBLE:
            return None
        return math.log10(b / a)

    @property
    def orders(self) -> tuple[float | None, float | None]:
        """(at step 1, over the runs): log10 of B's first-layer norm over A's."""
        return self.orders_between(self.step1), self.orders_between(self.mean)


def contrast(
    a: tuple[str, Sequence[LayerStats], Sequence[LayerStats]], b: tuple[str, Sequence[LayerStats], Sequence[LayerStats]]
) -> Contrast | None:
    """The contrast of two runs given as (name, stats at step 1, mean stats); None if either has no
    layer with weights."""
    (name_a, first_a, mean_a), (name_b, first_b, mean_b) = a, b
    if not first_a or not first_b:
        return None
    return Contrast(
        name_a,
        name_b,
        (first_a[0].layer, first_b[0].layer),
        (first_a[0].grad_norm, first_b[0].grad_norm),
        (mean_a[0].grad_norm, mean_b[0].grad_norm),
    )


def describe_contrast(c: Contrast, num: NumberFormat = _SHORT) -> list[str]:
    """The contrast in words: each norm, and how many orders of magnitude apart they are (flagged, as
    vanishing gradients are, at ORDERS orders)."""
    lines = []
    for when, pair, orders in (("at step 1", c.step1, c.orders[0]), ("over each run (mean)", c.mean, c.orders[1])):
        norms = (
            f"{when}: ‖∂L/∂W‖ of the first layer is {num(pair[0])} in {c.first} ({c.first_layers[0]}) and "
            f"{num(pair[1])} in {c.second} ({c.first_layers[1]})"
        )
        if orders is None:
            lines.append(f"{norms}; one of them is zero, so there is no ratio")
        elif abs(orders) >= ORDERS:
            bigger, smaller = (c.second, c.first) if orders > 0 else (c.first, c.second)
            lines.append(
                f"{norms}: {bigger}'s is {abs(orders):.1f} orders of magnitude larger than {smaller}'s "
                f"({10 ** abs(orders):.3g}×), so its first layer learns where {smaller}'s barely moves"
            )
        else:
            lines.append(
                f"{norms}: within {ORDERS} orders of magnitude of each other ({abs(orders):.1f}; flagged at {ORDERS})"
            )
    return lines
