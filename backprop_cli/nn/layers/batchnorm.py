"""Batch normalisation over features (``torch.nn.BatchNorm1d`` on (batch, features)), in training steps.

Forward, over the N samples of the batch, per feature j: mean_j = Σ_s x_sj / N, var_j = Σ_s (x_sj −
mean_j)² / N (biased, as torch normalises), x̂_sj = (x_sj − mean_j) / √(var_j + ε), a_sj = γ_j·x̂_sj +
β_j. After each training step running_mean ← (1 − m)·running_mean + m·mean and running_var ← (1 −
m)·running_var + m·var·N/(N − 1) (unbiased, as torch); evaluating (``train``'s loss on all data) uses
them instead of the batch's statistics, as ``model.eval()`` does.

Backward, batch-coupled: a sample's ∂L/∂a here is the gradient of the summed loss Σ_s L_s by that
sample's a (the layers above are per sample, so it is that sample's own), and the layer hands down
the same for its input: with dx̂_s = ∂L/∂a_s × γ,

    ∂L/∂x_sj = (dx̂_sj − mean_i dx̂_ij − x̂_sj × mean_i (dx̂_ij·x̂_ij)) / √(var_j + ε),

whose two batch means are shown as quantities of their own. ∂L/∂γ_j = Σ_s ∂L/∂a_sj·x̂_sj and ∂L/∂β_j =
Σ_s ∂L/∂a_sj come per sample and are reduced like any gradient, so the mean (or sum) over the batch is
torch's. Not rational (the square root): ``--exact`` refuses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from backprop_cli.errors import ConfigError
from backprop_cli.model.i18n import _
from backprop_cli.model.names import neuron_name, param_grad_name, param_name
from backprop_cli.model.quantity import Const, Form, Quantity, Scalar, Slot, scalar
from backprop_cli.model.spec import Array, BaseLayerSpec
from backprop_cli.nn.check import finite
from backprop_cli.nn.layers.base import Cache, Counts, Emit, LayerPlace, ParamDef, count, flat_only
from backprop_cli.nn.layers.dense import product, same
from backprop_cli.nn.ops import NamedRule
from backprop_cli.nn.records import LayerBackward, LayerForward


@dataclass(frozen=True)
class BatchNormSpec(BaseLayerSpec):
    """Batch norm over ``width`` features: ε, momentum, γ and β, and the running statistics it starts from."""

    kind: ClassVar[str] = "batchnorm"
    name: str
    width: int
    gamma: Array
    beta: Array
    running_mean: Array
    running_var: Array
    eps: float = 1e-5
    momentum: float = 0.1
    frozen: frozenset[str] = frozenset()
    activation: str = "identity"
    negative_slope: float = 0.01

    @property
    def units(self) -> int:
        return self.width

    @property
    def fan_in(self) -> int:
        return self.width

    @property
    def label(self) -> str:
        return "batch norm"

    @property
    def formula(self) -> str:
        return "γ·(z − mean)/√(var + ε) + β"

    def tensors(self) -> dict[str, Array]:
        return {"gamma": self.gamma, "beta": self.beta}

    def forward_latex(self) -> tuple[str, ...]:
        normalised = r"\hat{x}_j = \frac{x_j - \mu_j}{\sqrt{\sigma^2_j + \varepsilon}}"
        return (normalised + r", \quad a_j = \gamma_j \hat{x}_j + \beta_j",)

    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        values = {**self.tensors(), "running_mean": self.running_mean, "running_var": self.running_var}
        values |= dict(tensors or {})
        entry: dict[str, Any] = {"type": self.kind, "name": self.name, "eps": self.eps, "momentum": self.momentum}
        entry |= {key: values[key].tolist() for key in ("gamma", "beta", "running_mean", "running_var")}
        if self.frozen:
            entry["frozen"] = sorted(self.frozen)
        return entry


@dataclass(frozen=True)
class BatchNormCache:
    x: Array
    z: Array  # x̂
    a: Array
    mean: Array  # (width,): the batch's (or, evaluating, the running) statistics
    var: Array
    std: Array  # √(var + ε)
    gamma: Array
    training: bool


@dataclass(frozen=True)
class BatchNormForward(LayerForward):
    mean: Array | None = None
    var: Array | None = None
    std: Array | None = None
    gamma: Array | None = None
    beta: Array | None = None


@dataclass(frozen=True)
class BatchNormBackward(LayerBackward):
    dxhat: Array | None = None  # (batch, width): ∂L/∂a × γ
    mean_dxhat: Array | None = None  # (width,)
    mean_dxhat_xhat: Array | None = None  # (width,)
    grad_gamma: Array | None = None  # (batch, width), per sample
    std: Array | None = None
    var: Array | None = None
    gamma: Array | None = None  # the step's γ (before its update)

    def per_sample_grads(self) -> list[Array]:
        assert self.grad_gamma is not None
        return [self.grad_gamma, self.upstream]


def _vector(values: list[float] | None, default: float, width: int, name: str, place: LayerPlace) -> Array:
    if values is None:
        return np.full(width, default, dtype=np.float64)
    if len(values) != width:
        raise place.error(
            f"layer {place.name!r} {name} has {count(len(values), 'value')}; expected {width} "
            f"(its features: {place.below})",
            name,
        )
    return np.array(values, dtype=np.float64)


class BatchNormLayer:
    """One batch norm layer of a network; see the module docstring."""

    kind = "batchnorm"
    config_model = "BatchNormLayerModel"

    @staticmethod
    def from_config(m: Any, place: LayerPlace) -> BatchNormSpec:
        if place.last:
            raise place.error(
                f"batch norm layer {place.name!r} is the last; expected a layer after it (the loss reads an output "
                "layer's activation)",
                "type",
            )
        flat_only(place, "BatchNorm1d, over features")
        width = place.fan_in
        gamma = _vector(m.gamma, 1.0, width, "gamma", place)
        beta = _vector(m.beta, 0.0, width, "beta", place)
        mean = _vector(m.running_mean, 0.0, width, "running_mean", place)
        var = _vector(m.running_var, 1.0, width, "running_var", place)
        return BatchNormSpec(place.name, width, gamma, beta, mean, var, m.eps, m.momentum, frozenset(m.frozen))

    @staticmethod
    def counts(spec: BatchNormSpec, *, hidden: bool, combined: bool, first: bool) -> Counts:
        f = spec.width
        # forward: x̂, a per sample; mean, var per batch. backward: ∂L/∂a (from above), dx̂, ∂L/∂γ, ∂L/∂β per
        # sample; the two batch means. JSON per sample: inputs, z, a; dL_da, da_dz, chain, delta, ∂L/∂x below
        json = 3 * f + 4 * f + f * (not first)
        return Counts(2 * f, f * hidden + 3 * f, json, batch_forward=2 * f, batch_backward=2 * f, buffers=2 * f)

    def __init__(self, spec: BatchNormSpec, input_names: tuple[str, ...], *, exact: bool = False) -> None:
        self.spec = spec
        self.name = spec.name
        self.activation = "identity"
        self.input_names = input_names
        self.output_names = tuple(neuron_name(spec.name, "a", j) for j in range(spec.width))
        self.params = tuple(ParamDef(kind, kind in spec.frozen) for kind in ("gamma", "beta"))
        self.running_mean = spec.running_mean.astype(np.float64, copy=True)
        self.running_var = spec.running_var.astype(np.float64, copy=True)

    @property
    def rational(self) -> bool:
        return False  # √(var + ε)

    def initial(self) -> list[Array]:
        return [self.spec.gamma.astype(np.float64, copy=True), self.spec.beta.astype(np.float64, copy=True)]

    def forward(
        self, params: Sequence[Array], x: Array, step: int, during: str = "", *, evaluating: bool = False
    ) -> BatchNormCache:
        gamma, beta = params
        if evaluating:
            mean, var = self.running_mean, self.running_var
        else:
            if x.shape[0] < 2:
                raise ConfigError(
                    f"batch norm layer {self.name!r} in a training step of a batch of 1 sample: its variance is 0 "
                    "and torch refuses it; expected batches of at least 2 samples",
                    path="training.batch_size",
                )
            mean, var = x.mean(axis=0), x.var(axis=0)
        std = np.sqrt(var + self.spec.eps)
        xhat = (x - mean) / std
        finite(xhat, step=step, layer=self.name, quantity="normalised x̂" + during)
        a = gamma * xhat + beta
        finite(a, step=step, layer=self.name, quantity="batch norm output a" + during)
        return BatchNormCache(x, xhat, a, mean, var, std, gamma, not evaluating)

    def delta(self, cache: Cache, upstream: Array) -> tuple[Array, Array, Array | None]:
        return upstream, np.ones_like(upstream), None  # δ here is ∂L/∂a: the backward pass starts from it

    def _backward(self, cache: BatchNormCache, upstream: Array) -> tuple[Array, Array, Array, Array]:
        """(dx̂, mean of dx̂, mean of dx̂·x̂, ∂L/∂x) over the batch."""
        dxhat = upstream * cache.gamma
        mean_dxhat, mean_dxhat_xhat = dxhat.mean(axis=0), (dxhat * cache.z).mean(axis=0)
        down: Array = (dxhat - mean_dxhat - cache.z * mean_dxhat_xhat) / cache.std
        return dxhat, mean_dxhat, mean_dxhat_xhat, down

    def backward_fast(
        self, params: Sequence[Array], cache: Cache, delta: Array, scale: float, step: int, first: bool
    ) -> tuple[list[Array], list[float], Array | None]:
        assert isinstance(cache, BatchNormCache)
        finite(delta, step=step, layer=self.name, quantity="∂L/∂a")
        grads = [(delta * cache.z).sum(axis=0) * scale, delta.sum(axis=0) * scale]
        norms = [finite(grads[0], step=step, layer=self.name, quantity="∂L/∂γ")]
        if first:
            return grads, norms, None
        down = self._backward(cache, delta)[3]
        finite(down, step=step, layer=self.name, quantity="∂L/∂a of the layer below")
        return grads, norms, down

    def record_forward(self, params: Sequence[Array], cache: Cache) -> BatchNormForward:
        assert isinstance(cache, BatchNormCache)
        return BatchNormForward(
            self.name,
            "identity",
            0.01,
            self.input_names,
            cache.x,
            None,
            None,
            cache.z,
            cache.a,
            cache.mean,
            cache.var,
            cache.std,
            params[0],
            params[1],
        )

    def backward_trace(
        self, fwd: LayerForward, upstream: Array, combined: tuple[Array, str] | None, step: int, first: bool
    ) -> BatchNormBackward:
        assert isinstance(fwd, BatchNormForward) and fwd.gamma is not None and fwd.std is not None
        assert fwd.mean is not None and fwd.var is not None
        cache = BatchNormCache(fwd.inputs, fwd.z, fwd.a, fwd.mean, fwd.var, fwd.std, fwd.gamma, True)
        finite(upstream, step=step, layer=self.name, quantity="∂L/∂a")
        dxhat, mean_dxhat, mean_dxhat_xhat, down = self._backward(cache, upstream)
        finite(down, step=step, layer=self.name, quantity="∂L/∂a of the layer below")
        return BatchNormBackward(
            layer=self.name,
            activation="identity",
            negative_slope=0.01,
            input_names=fwd.input_names,
            z=fwd.z,
            a=fwd.a,
            upstream=upstream,
            local=np.ones_like(upstream),
            jacobian=None,
            chain=upstream,
            delta=upstream,
            combined=None,
            inputs=fwd.inputs,
            weights=None,
            grad_w=None,
            grad_b=None,
            downstream=None if first else down,
            dxhat=dxhat,
            mean_dxhat=mean_dxhat,
            mean_dxhat_xhat=mean_dxhat_xhat,
            grad_gamma=upstream * fwd.z,
            std=fwd.std,
            var=fwd.var,
            gamma=fwd.gamma,
        )

    def end_step(self, cache: Cache) -> None:
        assert isinstance(cache, BatchNormCache) and cache.training
        n, m = cache.x.shape[0], self.spec.momentum
        self.running_mean = (1 - m) * self.running_mean + m * cache.mean
        self.running_var = (1 - m) * self.running_var + m * cache.var * (n / (n - 1))

    def buffers(self) -> dict[str, Array]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def blocks(self) -> BatchNormBlocks:
        return BatchNormBlocks(self)


def _mean(values: Sequence[Scalar]) -> Scalar:
    return sum(values, 0.0) / len(values)


def _var(values: Sequence[Scalar]) -> Scalar:
    *xs, mean = values
    return sum(((x - mean) ** 2 for x in xs), 0.0) / len(xs)


def _normalise(values: Sequence[Scalar]) -> Scalar:
    x, mean, var, eps = (float(v) for v in values)
    return (x - mean) / math.sqrt(var + eps)


def _affine(values: Sequence[Scalar]) -> Scalar:
    return values[0] * values[1] + values[2]


def _mean_products(values: Sequence[Scalar]) -> Scalar:
    return sum((values[i] * values[i + 1] for i in range(0, len(values), 2)), 0.0) / (len(values) // 2)


def _below(values: Sequence[Scalar]) -> Scalar:
    dxhat, mean_dxhat, xhat, mean_dxhat_xhat, var, eps = (float(v) for v in values)
    return (dxhat - mean_dxhat - xhat * mean_dxhat_xhat) / math.sqrt(var + eps)


class BatchNormBlocks:
    """Batch norm's quantities: per sample x̂ and a; the batch's mean and variance; backward per sample
    dx̂, ∂L/∂γ, ∂L/∂β; the batch means of dx̂ and dx̂·x̂; ∂L/∂x for the layer below."""

    def __init__(self, op: BatchNormLayer) -> None:
        self.op = op

    def forward_count(self, fwd: LayerForward) -> int:
        return 2 * int(fwd.z.shape[1])

    def backward_count(self, back: LayerBackward, *, hidden: bool) -> int:
        width = int(back.delta.shape[1])
        return width * hidden + 3 * width

    def batch_forward_count(self, fwd: LayerForward) -> int:
        return 2 * int(fwd.z.shape[1])

    def batch_backward_count(self, back: LayerBackward) -> int:
        return 2 * int(back.delta.shape[1])

    def _eps(self, emit: Emit) -> Const:
        return Const(self.op.spec.eps, "ε")

    def batch_forward(self, fwd: LayerForward, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(fwd, BatchNormForward) and fwd.mean is not None and fwd.var is not None
        layer, n = self.op.name, fwd.inputs.shape[0]
        out: list[Quantity] = []
        for j, source in enumerate(fwd.input_names):
            xs = tuple(emit.q(source, p) for p in range(n))
            inner = " + ".join(f"{{{i}}}" for i in range(n))
            args = [scalar(v) for v in fwd.inputs[:, j]]
            name = emit.q(neuron_name(layer, "mean", j))
            out.append(
                emit.quantity(
                    name, scalar(fwd.mean[j]), "forward", layer, None, Form(f"({inner}) / {n}", xs, _mean), args
                )
            )
            squares = " + ".join(f"({{{i}}} − {{{n}}})²" for i in range(n))
            slots: tuple[Slot, ...] = (*xs, name)
            form = Form(f"({squares}) / {n}", slots, _var)
            var_name = emit.q(neuron_name(layer, "var", j))
            out.append(
                emit.quantity(var_name, scalar(fwd.var[j]), "forward", layer, None, form, [*args, scalar(fwd.mean[j])])
            )
        note = (
            f"over the batch's {n} samples: mean, and the biased variance (÷ {n}) that normalises; running_var "
            f"is updated with the unbiased one (÷ {n - 1}), as torch does"
        )
        return f"Batch statistics · layer {layer} (batch norm)", out, note

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(fwd, BatchNormForward) and fwd.mean is not None and fwd.var is not None
        assert fwd.gamma is not None and fwd.beta is not None
        layer, eps = self.op.name, self._eps(emit)
        out: list[Quantity] = []
        for j, source in enumerate(fwd.input_names):
            slots: tuple[Slot, ...] = (
                emit.q(source, p),
                emit.q(neuron_name(layer, "mean", j)),
                emit.q(neuron_name(layer, "var", j)),
                eps,
            )
            args = [scalar(fwd.inputs[p, j]), scalar(fwd.mean[j]), scalar(fwd.var[j]), self.op.spec.eps]
            name = emit.q(neuron_name(layer, "xhat", j), p)
            form = Form("({0} − {1}) / √({2} + {3})", slots, _normalise)
            out.append(emit.quantity(name, scalar(fwd.z[p, j]), "forward", layer, p, form, args))
        for j in range(fwd.z.shape[1]):
            slots = (
                emit.q(param_name(layer, "gamma", (j,))),
                emit.q(neuron_name(layer, "xhat", j), p),
                emit.q(param_name(layer, "beta", (j,))),
            )
            args = [scalar(fwd.gamma[j]), scalar(fwd.z[p, j]), scalar(fwd.beta[j])]
            name = emit.q(neuron_name(layer, "a", j), p)
            out.append(
                emit.quantity(
                    name, scalar(fwd.a[p, j]), "forward", layer, p, Form("{0}·{1} + {2}", slots, _affine), args
                )
            )
        note = "x̂ = (x − mean) / √(var + ε) with the batch's statistics; a = γ·x̂ + β"
        return _("Forward · layer {layer} ({kind})").format(layer=layer, kind=_("batch norm")), out, note

    def backward(
        self, back: LayerBackward, upstream: list[Quantity], p: int, emit: Emit, combined_rule: NamedRule | None
    ) -> tuple[str, list[Quantity], str]:
        assert isinstance(back, BatchNormBackward) and back.dxhat is not None and back.grad_gamma is not None
        assert back.gamma is not None
        layer = self.op.name
        out = list(upstream)
        width = back.delta.shape[1]
        for j in range(width):
            dl_da = emit.q(neuron_name(layer, "dL_da", j), p)
            g = emit.q(param_name(layer, "gamma", (j,)))
            args = [scalar(back.upstream[p, j]), scalar(back.gamma[j])]
            name = emit.q(neuron_name(layer, "dL_dxhat", j), p)
            out.append(
                emit.quantity(
                    name, scalar(back.dxhat[p, j]), "backward", layer, p, Form("{0} × {1}", (dl_da, g), product), args
                )
            )
        for j in range(width):
            dl_da = emit.q(neuron_name(layer, "dL_da", j), p)
            xhat = emit.q(neuron_name(layer, "xhat", j), p)
            name = emit.q(param_grad_name(layer, "gamma", (j,)), p)
            args = [scalar(back.upstream[p, j]), scalar(back.z[p, j])]
            out.append(
                emit.quantity(
                    name,
                    scalar(back.grad_gamma[p, j]),
                    "backward",
                    layer,
                    p,
                    Form("{0} × {1}", (dl_da, xhat), product),
                    args,
                )
            )
            name = emit.q(param_grad_name(layer, "beta", (j,)), p)
            out.append(
                emit.quantity(
                    name,
                    scalar(back.upstream[p, j]),
                    "backward",
                    layer,
                    p,
                    Form("{0}", (dl_da,), same, "{0:v}"),
                    [scalar(back.upstream[p, j])],
                )
            )
        note = "dx̂ = ∂L/∂a × γ; ∂L/∂γ = ∂L/∂a × x̂ and ∂L/∂β = ∂L/∂a per sample, reduced over the batch below"
        return _("Backward · layer {layer} ({kind})").format(layer=layer, kind=_("batch norm")), out, note

    def batch_backward(self, back: LayerBackward, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(back, BatchNormBackward) and back.dxhat is not None
        assert back.mean_dxhat is not None and back.mean_dxhat_xhat is not None
        layer, n = self.op.name, back.delta.shape[0]
        out: list[Quantity] = []
        for j in range(back.delta.shape[1]):
            dx = tuple(emit.q(neuron_name(layer, "dL_dxhat", j), p) for p in range(n))
            inner = " + ".join(f"{{{i}}}" for i in range(n))
            name = emit.q(neuron_name(layer, "mean_dxhat", j))
            args = [scalar(v) for v in back.dxhat[:, j]]
            out.append(
                emit.quantity(
                    name, scalar(back.mean_dxhat[j]), "backward", layer, None, Form(f"({inner}) / {n}", dx, _mean), args
                )
            )
            slots: list[Slot] = []
            pair_args: list[Scalar] = []
            for p in range(n):
                slots += [dx[p], emit.q(neuron_name(layer, "xhat", j), p)]
                pair_args += [scalar(back.dxhat[p, j]), scalar(back.z[p, j])]
            pairs = " + ".join(f"{{{2 * i}}}·{{{2 * i + 1}}}" for i in range(n))
            name = emit.q(neuron_name(layer, "mean_dxhat_xhat", j))
            out.append(
                emit.quantity(
                    name,
                    scalar(back.mean_dxhat_xhat[j]),
                    "backward",
                    layer,
                    None,
                    Form(f"({pairs}) / {n}", tuple(slots), _mean_products),
                    pair_args,
                )
            )
        note = "the batch terms of ∂L/∂x: every sample's x moved the mean and the variance every x̂ was made with"
        return f"Batch terms · layer {layer} (batch norm, {n} samples)", out, note

    def downstream(self, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        """∂L/∂x_j = (dx̂_j − mean dx̂_j − x̂_j × mean (dx̂·x̂)_j) / √(var_j + ε), named as the layer below's ∂L/∂a."""
        assert isinstance(back, BatchNormBackward) and back.downstream is not None and back.dxhat is not None
        assert back.mean_dxhat is not None and back.mean_dxhat_xhat is not None and back.var is not None
        layer, eps = self.op.name, self._eps(emit)
        out = []
        for j in range(back.delta.shape[1]):
            slots: tuple[Slot, ...] = (
                emit.q(neuron_name(layer, "dL_dxhat", j), p),
                emit.q(neuron_name(layer, "mean_dxhat", j)),
                emit.q(neuron_name(layer, "xhat", j), p),
                emit.q(neuron_name(layer, "mean_dxhat_xhat", j)),
                emit.q(neuron_name(layer, "var", j)),
                eps,
            )
            args = [
                scalar(back.dxhat[p, j]),
                scalar(back.mean_dxhat[j]),
                scalar(back.z[p, j]),
                scalar(back.mean_dxhat_xhat[j]),
                scalar(back.var[j]),
                self.op.spec.eps,
            ]
            form = Form("({0} − {1} − {2} × {3}) / √({4} + {5})", slots, _below)
            name = emit.q(neuron_name(below, "dL_da", j), p)
            out.append(emit.quantity(name, scalar(back.downstream[p, j]), "backward", below, p, form, args))
        return out
