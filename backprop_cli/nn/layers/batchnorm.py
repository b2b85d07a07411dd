"""Batch normalisation, in training steps: over features (``torch.nn.BatchNorm1d`` on (batch,
features)), or per channel of a shaped input (``BatchNorm2d`` on (batch, C, H, W), ``BatchNorm1d`` on
(batch, C, L)).

Forward, per channel c over its M values in the batch (the N samples × the S = H·W (or L) entries of
the channel; a flat input's features are channels of S = 1): mean_c = Σ x / M, var_c = Σ (x −
mean_c)² / M (biased, as torch normalises), x̂ = (x − mean_c) / √(var_c + ε), a = γ_c·x̂ + β_c for
each entry of the channel. After each training step running_mean ← (1 − m)·running_mean + m·mean and
running_var ← (1 − m)·running_var + m·var·M/(M − 1) (unbiased, as torch); evaluating (``train``'s
loss on all data) normalises with them instead of the batch's statistics, as ``model.eval()`` does:
:func:`normalise` is that one formula for both, :func:`batch_statistics` and :func:`running_update`
the two halves of a training step.

Backward, batch-coupled: a sample's ∂L/∂a here is the gradient of the summed loss Σ_s L_s by that
sample's a (the layers above are per sample, so it is that sample's own), and the layer hands down
the same for its input: with dx̂ = ∂L/∂a × γ_c,

    ∂L/∂x = (dx̂ − mean_c dx̂ − x̂ × mean_c (dx̂·x̂)) / √(var_c + ε),

the two means over the channel's M values shown as quantities of their own. ∂L/∂γ_c = Σ ∂L/∂a·x̂ and
∂L/∂β_c = Σ ∂L/∂a (per sample: over the channel's S entries) are reduced over the batch like any
gradient, so the mean (or sum) is torch's. Not rational (the square root): ``--exact`` refuses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import numpy as np

from backprop_cli.errors import ConfigError
from backprop_cli.model.i18n import N_, _, ngettext
from backprop_cli.model.names import neuron_name, param_grad_name, param_name, upstream_name
from backprop_cli.model.quantity import Const, Form, Quantity, Scalar, Slot, scalar
from backprop_cli.model.spec import Array, BaseLayerSpec
from backprop_cli.nn.check import finite
from backprop_cli.nn.layers.base import Cache, Counts, Emit, LayerPlace, ParamDef
from backprop_cli.nn.layers.dense import dot, pair_template, product, same, total
from backprop_cli.nn.ops import NamedRule
from backprop_cli.nn.records import LayerBackward, LayerForward


@dataclass(frozen=True)
class BatchNormSpec(BaseLayerSpec):
    """Batch norm over ``width`` entries: ε, momentum, γ and β, and the running statistics it starts from,
    one per channel (``shape[0]`` of a shaped input; each feature of a flat one)."""

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
    shape: tuple[int, ...] = ()  # its input's (C, H, W) or (C, L); () for features

    @property
    def units(self) -> int:
        return self.width

    @property
    def fan_in(self) -> int:
        return self.width

    @property
    def channels(self) -> int:
        return self.shape[0] if self.shape else self.width

    @property
    def spatial(self) -> int:
        """S: the entries of one channel in one sample (1 for features)."""
        return self.width // self.channels

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape  # entry by entry

    @property
    def torch_name(self) -> str:
        return "BatchNorm2d" if len(self.shape) == 3 else "BatchNorm1d"

    @property
    def label(self) -> str:
        if not self.shape:
            return _("batch norm")
        return ngettext(
            "{kind} ({torch}, {n} channel of {entries})", "{kind} ({torch}, {n} channels of {entries})", self.channels
        ).format(kind=_("batch norm"), torch=self.torch_name, n=self.channels, entries=self.spatial)

    @property
    def formula(self) -> str:
        return "γ·(z − mean)/√(var + ε) + β"

    def tensors(self) -> dict[str, Array]:
        return {"gamma": self.gamma, "beta": self.beta}

    def forward_latex(self) -> tuple[str, ...]:
        if self.shape:
            normalised = r"\hat{x} = \frac{x - \mu_c}{\sqrt{\sigma^2_c + \varepsilon}}"
            return (normalised + r", \quad a = \gamma_c \hat{x} + \beta_c \quad \text{(each entry of channel } c)",)
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
    mean: Array  # (channels,): the batch's (or, evaluating, the running) statistics
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
    running_mean: Array | None = None  # the running statistics before the step
    running_var: Array | None = None
    training: bool = True  # the batch's statistics (a training step), or the running ones (mode: eval)
    momentum: float = 0.1

    def rule_text(self, j: int) -> str:
        assert self.gamma is not None
        c = j // (self.z.shape[1] // len(self.gamma)) + 1  # the entry's channel
        return f"{self.layer}.a{j + 1} = {self.layer}.gamma{c}·{self.layer}.xhat{j + 1} + {self.layer}.beta{c}"


@dataclass(frozen=True)
class BatchNormBackward(LayerBackward):
    dxhat: Array | None = None  # (batch, width): ∂L/∂a × γ
    mean_dxhat: Array | None = None  # (channels,)
    mean_dxhat_xhat: Array | None = None  # (channels,)
    grad_gamma: Array | None = None  # (batch, channels), per sample
    grad_beta: Array | None = None  # (batch, channels), per sample
    std: Array | None = None
    var: Array | None = None
    gamma: Array | None = None  # the step's γ (before its update)

    def per_sample_grads(self) -> list[Array]:
        assert self.grad_gamma is not None and self.grad_beta is not None
        return [self.grad_gamma, self.grad_beta]


def per_channel(x: Array, channels: int) -> Array:
    """x (batch, C·S) as (batch, C, S): each channel's entries of a sample along the last axis."""
    return x.reshape(x.shape[0], channels, -1)


def per_entry(values: Array, spatial: int) -> Array:
    """A channel's value (C,) for each of its S entries: (C·S,), in the entries' row-major order."""
    return np.repeat(values, spatial) if spatial > 1 else values


def batch_statistics(x: Array, channels: int) -> tuple[Array, Array]:
    """(mean, biased variance) per channel over the batch and the channel's entries: torch's training mode."""
    grouped = per_channel(x, channels)
    if grouped.shape[2] == 1:  # features: over the batch alone
        return x.mean(axis=0), x.var(axis=0)
    return grouped.mean(axis=(0, 2)), grouped.var(axis=(0, 2))


def normalise(x: Array, mean: Array, var: Array, eps: float, gamma: Array, beta: Array) -> tuple[Array, Array, Array]:
    """(x̂, a, √(var + ε)): x̂ = (x − mean_c) / √(var_c + ε), a = γ_c·x̂ + β_c for each entry of channel c,
    with the batch's statistics (training) or the running ones (evaluating, torch's ``model.eval()``);
    the statistics, γ and β are per channel, x is (batch, C·S), for BatchNorm1d and 2d alike."""
    spatial = x.shape[1] // len(mean)
    std = np.sqrt(var + eps)
    xhat: Array = (x - per_entry(mean, spatial)) / per_entry(std, spatial)
    a: Array = per_entry(gamma, spatial) * xhat + per_entry(beta, spatial)
    return xhat, a, std


def running_update(
    running_mean: Array, running_var: Array, mean: Array, var: Array, count: int, momentum: float
) -> tuple[Array, Array]:
    """The running statistics after a training step of ``count`` values per channel (N·S): the batch's mean,
    and its variance made unbiased (× count / (count − 1)), each weighted by ``momentum`` (torch's)."""
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * (count / (count - 1))
    return new_mean, new_var


def _vector(values: list[float] | None, default: float, width: int, name: str, place: LayerPlace) -> Array:
    if values is None:
        return np.full(width, default, dtype=np.float64)
    if len(values) != width:
        what = (
            _("its channels: {shape}").format(shape=place.shape_text)
            if place.shaped
            else _("its features: {below}").format(below=place.below)
        )
        raise place.error(
            _("layer {name} {field} has {values}; expected {width} ({what})").format(
                name=repr(place.name),
                field=name,
                values=ngettext("{n} value", "{n} values", len(values)).format(n=len(values)),
                width=width,
                what=what,
            ),
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
                _(
                    "batch norm layer {name} is the last; expected a layer after it (the loss reads an output "
                    "layer's activation)"
                ).format(name=repr(place.name)),
                "type",
            )
        channels = place.shape[0] if place.shaped else place.fan_in
        gamma = _vector(m.gamma, 1.0, channels, "gamma", place)
        beta = _vector(m.beta, 0.0, channels, "beta", place)
        mean = _vector(m.running_mean, 0.0, channels, "running_mean", place)
        var = _vector(m.running_var, 1.0, channels, "running_var", place)
        shape = tuple(place.shape) if place.shaped else ()
        return BatchNormSpec(
            place.name, place.fan_in, gamma, beta, mean, var, m.eps, m.momentum, frozenset(m.frozen), shape=shape
        )

    @staticmethod
    def counts(spec: BatchNormSpec, *, hidden: bool, combined: bool, first: bool) -> Counts:
        f, c = spec.width, spec.channels
        # forward: x̂, a per entry and sample; mean, var per channel and batch. backward: ∂L/∂a (from above),
        # dx̂ per entry, ∂L/∂γ, ∂L/∂β per channel, per sample; the two batch means per channel. JSON per
        # sample: inputs, z, a; dL_da, da_dz, chain, delta, ∂L/∂x below
        # and, in a training step, the running statistics' update per channel
        json = 3 * f + 4 * f + f * (not first)
        return Counts(
            2 * f,
            f * hidden + f + 2 * c,
            json,
            batch_forward=4 * c,
            batch_backward=2 * c,
            buffers=2 * c,
            running_updates=2 * c,
        )

    def __init__(self, spec: BatchNormSpec, input_names: tuple[str, ...], *, exact: bool = False) -> None:
        self.spec = spec
        self.name = spec.name
        self.activation = "identity"
        self.input_names = input_names
        self.output_names = tuple(neuron_name(spec.name, "a", j) for j in range(spec.width))
        self.params = tuple(ParamDef(kind, kind in spec.frozen) for kind in ("gamma", "beta"))
        self.channels, self.spatial = spec.channels, spec.spatial
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
            if x.shape[0] * self.spatial < 2:
                raise ConfigError(
                    _(
                        "batch norm layer {name} in a training step of a batch of 1 sample: its variance is 0 "
                        "and torch refuses it; expected batches of at least 2 samples"
                    ).format(name=repr(self.name)),
                    path="training.batch_size",
                )
            mean, var = batch_statistics(x, self.channels)
        xhat, a, std = normalise(x, mean, var, self.spec.eps, gamma, beta)
        finite(xhat, step=step, layer=self.name, quantity=N_("normalised x̂") + during)
        finite(a, step=step, layer=self.name, quantity=N_("batch norm output a") + during)
        return BatchNormCache(x, xhat, a, mean, var, std, gamma, not evaluating)

    def delta(self, cache: Cache, upstream: Array) -> tuple[Array, Array, Array | None]:
        return upstream, np.ones_like(upstream), None  # δ here is ∂L/∂a: the backward pass starts from it

    def _channel_sums(self, values: Array) -> Array:
        """Per sample, each channel's sum over its S entries: (batch, C)."""
        if self.spatial == 1:
            return values
        summed: Array = per_channel(values, self.channels).sum(axis=2)
        return summed

    def _channel_means(self, values: Array) -> Array:
        """Each channel's mean over the batch and its entries: (C,)."""
        mean: Array = values.mean(axis=0) if self.spatial == 1 else per_channel(values, self.channels).mean(axis=(0, 2))
        return mean

    def _backward(self, cache: BatchNormCache, upstream: Array) -> tuple[Array, Array, Array, Array]:
        """(dx̂, mean of dx̂, mean of dx̂·x̂ (per channel), ∂L/∂x) over the batch; with the running
        statistics (mode: eval) they are constants, so ∂L/∂x = dx̂ / √(var + ε) and the means are 0."""
        s = self.spatial
        dxhat = upstream * per_entry(cache.gamma, s)
        if not cache.training:
            zero = np.zeros(self.channels)
            return dxhat, zero, zero, dxhat / per_entry(cache.std, s)
        mean_dxhat, mean_dxhat_xhat = self._channel_means(dxhat), self._channel_means(dxhat * cache.z)
        centred = dxhat - per_entry(mean_dxhat, s) - cache.z * per_entry(mean_dxhat_xhat, s)
        down: Array = centred / per_entry(cache.std, s)
        return dxhat, mean_dxhat, mean_dxhat_xhat, down

    def backward_fast(
        self, params: Sequence[Array], cache: Cache, delta: Array, scale: float, step: int, first: bool
    ) -> tuple[list[Array], list[float], Array | None]:
        assert isinstance(cache, BatchNormCache)
        finite(delta, step=step, layer=self.name, quantity="∂L/∂a")
        sums = self._channel_sums
        grads = [sums(delta * cache.z).sum(axis=0) * scale, sums(delta).sum(axis=0) * scale]
        norms = [finite(grads[0], step=step, layer=self.name, quantity="∂L/∂γ")]
        if first:
            return grads, norms, None
        down = self._backward(cache, delta)[3]
        finite(down, step=step, layer=self.name, quantity=N_("∂L/∂a of the layer below"))
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
            self.running_mean.copy(),
            self.running_var.copy(),
            cache.training,
            self.spec.momentum,
        )

    def backward_trace(
        self, fwd: LayerForward, upstream: Array, combined: tuple[Array, str] | None, step: int, first: bool
    ) -> BatchNormBackward:
        assert isinstance(fwd, BatchNormForward) and fwd.gamma is not None and fwd.std is not None
        assert fwd.mean is not None and fwd.var is not None
        cache = BatchNormCache(fwd.inputs, fwd.z, fwd.a, fwd.mean, fwd.var, fwd.std, fwd.gamma, fwd.training)
        finite(upstream, step=step, layer=self.name, quantity="∂L/∂a")
        dxhat, mean_dxhat, mean_dxhat_xhat, down = self._backward(cache, upstream)
        finite(down, step=step, layer=self.name, quantity=N_("∂L/∂a of the layer below"))
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
            mean_dxhat=mean_dxhat if fwd.training else None,
            mean_dxhat_xhat=mean_dxhat_xhat if fwd.training else None,
            grad_gamma=self._channel_sums(upstream * fwd.z),
            grad_beta=self._channel_sums(upstream),
            std=fwd.std,
            var=fwd.var,
            gamma=fwd.gamma,
        )

    def end_step(self, cache: Cache) -> None:
        assert isinstance(cache, BatchNormCache) and cache.training
        count = cache.x.shape[0] * self.spatial
        self.running_mean, self.running_var = running_update(
            self.running_mean, self.running_var, cache.mean, cache.var, count, self.spec.momentum
        )

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
    """Batch norm's quantities: per sample x̂ and a of each entry; the batch's mean and variance of each
    channel; backward per sample dx̂ of each entry, ∂L/∂γ and ∂L/∂β of each channel; the channel's batch
    means of dx̂ and dx̂·x̂; ∂L/∂x for the layer below (a flat input's features are its channels)."""

    def __init__(self, op: BatchNormLayer) -> None:
        self.op = op
        self.spatial = op.spatial

    def channel(self, j: int) -> int:
        """The channel of entry j."""
        return j // self.spatial

    def entries(self, c: int) -> range:
        """The entries of channel c."""
        return range(c * self.spatial, (c + 1) * self.spatial)

    def forward_count(self, fwd: LayerForward) -> int:
        return 2 * int(fwd.z.shape[1])

    def backward_count(self, back: LayerBackward, *, hidden: bool) -> int:
        width = int(back.delta.shape[1])
        return width * hidden + width + 2 * self.op.channels

    def batch_forward_count(self, fwd: LayerForward) -> int:
        assert isinstance(fwd, BatchNormForward)
        return (4 if fwd.training else 2) * self.op.channels  # mean, var (and the running statistics' update)

    def batch_backward_count(self, back: LayerBackward) -> int:
        assert isinstance(back, BatchNormBackward)
        return 0 if back.mean_dxhat is None else 2 * self.op.channels  # no batch terms with constant statistics

    def _eps(self, emit: Emit) -> Const:
        return Const(self.op.spec.eps, "ε")

    def _over(self, n: int) -> str:
        """What a channel's statistics are over, for the notes."""
        if self.spatial == 1:
            return _("the batch's {n} samples").format(n=n)
        return _("each channel's {count} values ({n} samples × {entries} entries)").format(
            count=n * self.spatial, n=n, entries=self.spatial
        )

    def batch_forward(self, fwd: LayerForward, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(fwd, BatchNormForward) and fwd.mean is not None and fwd.var is not None
        if not fwd.training:
            return self._running_statistics(fwd, emit)
        assert fwd.running_mean is not None and fwd.running_var is not None
        layer, n = self.op.name, fwd.inputs.shape[0]
        m = n * self.spatial
        out: list[Quantity] = []
        updates: list[Quantity] = []
        momentum = Const(fwd.momentum, "momentum")
        for c in range(self.op.channels):
            old_mean = Const(scalar(fwd.running_mean[c]), f"{layer}.running_mean{c + 1}")
            old_var = Const(scalar(fwd.running_var[c]), f"{layer}.running_var{c + 1}")
            new_mean, new_var = running_update(
                fwd.running_mean[c : c + 1],
                fwd.running_var[c : c + 1],
                fwd.mean[c : c + 1],
                fwd.var[c : c + 1],
                m,
                fwd.momentum,
            )
            mean_slot, var_slot = emit.q(neuron_name(layer, "mean", c)), emit.q(neuron_name(layer, "var", c))
            updates.append(
                emit.quantity(
                    emit.q(f"{layer}.running_mean{c + 1}.new"),
                    scalar(new_mean[0]),
                    "forward",
                    layer,
                    None,
                    Form("(1 − {0})·{1} + {0}·{2}", (momentum, old_mean, mean_slot), _running_mean),
                    [fwd.momentum, scalar(fwd.running_mean[c]), scalar(fwd.mean[c])],
                )
            )
            updates.append(
                emit.quantity(
                    emit.q(f"{layer}.running_var{c + 1}.new"),
                    scalar(new_var[0]),
                    "forward",
                    layer,
                    None,
                    Form(
                        f"(1 − {{0}})·{{1}} + {{0}}·{{2}}·{m}/{m - 1}",
                        (momentum, old_var, var_slot),
                        partial(_running_var, m),
                    ),
                    [fwd.momentum, scalar(fwd.running_var[c]), scalar(fwd.var[c])],
                )
            )
            cells = [(p, j) for p in range(n) for j in self.entries(c)]
            xs = tuple(emit.q(fwd.input_names[j], p) for p, j in cells)
            inner = " + ".join(f"{{{i}}}" for i in range(m))
            args = [scalar(fwd.inputs[p, j]) for p, j in cells]
            name = emit.q(neuron_name(layer, "mean", c))
            out.append(
                emit.quantity(
                    name, scalar(fwd.mean[c]), "forward", layer, None, Form(f"({inner}) / {m}", xs, _mean), args
                )
            )
            squares = " + ".join(f"({{{i}}} − {{{m}}})²" for i in range(m))
            slots: tuple[Slot, ...] = (*xs, name)
            form = Form(f"({squares}) / {m}", slots, _var)
            var_name = emit.q(neuron_name(layer, "var", c))
            out.append(
                emit.quantity(var_name, scalar(fwd.var[c]), "forward", layer, None, form, [*args, scalar(fwd.mean[c])])
            )
        note = _(
            "over {over}: mean, and the biased variance (÷ {m}) that normalises; after the step the running "
            "statistics move by the momentum {momentum} towards the mean and the unbiased variance "
            "(× {m}/{unbiased}), as torch's are"
        ).format(over=self._over(n), m=m, unbiased=m - 1, momentum=f"{fwd.momentum:g}")
        title = _("Batch statistics · layer {layer} ({kind})").format(layer=layer, kind=_("batch norm"))
        return title, out + updates, note

    def _running_statistics(self, fwd: BatchNormForward, emit: Emit) -> tuple[str, list[Quantity], str]:
        """mode: eval: the statistics are the running ones, as they stand (torch's ``model.eval()``)."""
        assert fwd.mean is not None and fwd.var is not None
        layer = self.op.name
        out: list[Quantity] = []
        for c in range(self.op.channels):
            for kind, values in (("mean", fwd.mean), ("var", fwd.var)):
                out.append(
                    emit.quantity(
                        emit.q(neuron_name(layer, kind, c)),
                        scalar(values[c]),
                        "forward",
                        layer,
                        None,
                        Form(f"running_{kind}{c + 1}"),
                        kind="given",
                    )
                )
        note = _("mode: eval: x̂ uses the running mean and variance (not updated), so no sample depends on another")
        title = _("Running statistics · layer {layer} ({kind})").format(layer=layer, kind=_("batch norm, eval"))
        return title, out, note

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(fwd, BatchNormForward) and fwd.mean is not None and fwd.var is not None
        assert fwd.gamma is not None and fwd.beta is not None
        layer, eps = self.op.name, self._eps(emit)
        out: list[Quantity] = []
        for j, source in enumerate(fwd.input_names):
            c = self.channel(j)
            slots: tuple[Slot, ...] = (
                emit.q(source, p),
                emit.q(neuron_name(layer, "mean", c)),
                emit.q(neuron_name(layer, "var", c)),
                eps,
            )
            args = [scalar(fwd.inputs[p, j]), scalar(fwd.mean[c]), scalar(fwd.var[c]), self.op.spec.eps]
            name = emit.q(neuron_name(layer, "xhat", j), p)
            form = Form("({0} − {1}) / √({2} + {3})", slots, _normalise)
            out.append(emit.quantity(name, scalar(fwd.z[p, j]), "forward", layer, p, form, args))
        for j in range(fwd.z.shape[1]):
            c = self.channel(j)
            slots = (
                emit.q(param_name(layer, "gamma", (c,))),
                emit.q(neuron_name(layer, "xhat", j), p),
                emit.q(param_name(layer, "beta", (c,))),
            )
            args = [scalar(fwd.gamma[c]), scalar(fwd.z[p, j]), scalar(fwd.beta[c])]
            name = emit.q(neuron_name(layer, "a", j), p)
            out.append(
                emit.quantity(
                    name, scalar(fwd.a[p, j]), "forward", layer, p, Form("{0}·{1} + {2}", slots, _affine), args
                )
            )
        if fwd.training:
            note = _("{normalise} with the batch's statistics; {affine}")
        else:
            note = _("{normalise} with the running statistics (mode: eval); {affine}")
        note = note.format(normalise="x̂ = (x − mean) / √(var + ε)", affine="a = γ·x̂ + β")
        if self.spatial > 1:
            first, second = self.entries(0), self.entries(1)
            names = [neuron_name(layer, "xhat", j) for j in (first[0], first[-1], second[0])]
            if self.op.channels > 1:
                channels = _(
                    ", with the mean, var, γ and β of the entry's channel ({first} … {last}: channel 1, "
                    "{second} …: channel 2, …)"
                )
            else:
                channels = _(", with the mean, var, γ and β of the entry's channel ({first} … {last}: channel 1)")
            note += channels.format(first=names[0], last=names[1], second=names[2])
        return _("Forward · layer {layer} ({kind})").format(layer=layer, kind=_("batch norm")), out, note

    def backward(
        self, back: LayerBackward, upstream: list[Quantity], p: int, emit: Emit, combined_rule: NamedRule | None
    ) -> tuple[str, list[Quantity], str]:
        assert isinstance(back, BatchNormBackward) and back.dxhat is not None and back.grad_gamma is not None
        assert back.gamma is not None and back.grad_beta is not None
        layer = self.op.name
        out = list(upstream)
        width = back.delta.shape[1]
        for j in range(width):
            c = self.channel(j)
            dl_da = emit.q(neuron_name(layer, "dL_da", j), p)
            g = emit.q(param_name(layer, "gamma", (c,)))
            args = [scalar(back.upstream[p, j]), scalar(back.gamma[c])]
            name = emit.q(neuron_name(layer, "dL_dxhat", j), p)
            out.append(
                emit.quantity(
                    name, scalar(back.dxhat[p, j]), "backward", layer, p, Form("{0} × {1}", (dl_da, g), product), args
                )
            )
        for c in range(self.op.channels):
            entries = self.entries(c)
            upstreams = [emit.q(neuron_name(layer, "dL_da", j), p) for j in entries]
            xhats = [emit.q(neuron_name(layer, "xhat", j), p) for j in entries]
            if self.spatial == 1:
                gamma_form = Form("{0} × {1}", (upstreams[0], xhats[0]), product)
                beta_form = Form("{0}", (upstreams[0],), same, "{0:v}")
            else:
                pairs = tuple(s for pair in zip(upstreams, xhats, strict=True) for s in pair)
                gamma_form = Form(pair_template(self.spatial, "·"), pairs, dot)
                beta_form = Form(" + ".join(f"{{{i}}}" for i in range(self.spatial)), tuple(upstreams), total)
            gamma_args = [scalar(v) for j in entries for v in (back.upstream[p, j], back.z[p, j])]
            name = emit.q(param_grad_name(layer, "gamma", (c,)), p)
            out.append(emit.quantity(name, scalar(back.grad_gamma[p, c]), "backward", layer, p, gamma_form, gamma_args))
            name = emit.q(param_grad_name(layer, "beta", (c,)), p)
            beta_args = [scalar(back.upstream[p, j]) for j in entries]
            out.append(emit.quantity(name, scalar(back.grad_beta[p, c]), "backward", layer, p, beta_form, beta_args))
        note = _("{dxhat}; {dgamma} and {dbeta} per sample, reduced over the batch below").format(
            dxhat="dx̂ = ∂L/∂a × γ", dgamma="∂L/∂γ = ∂L/∂a × x̂", dbeta="∂L/∂β = ∂L/∂a"
        )
        if self.spatial > 1:
            note = _(
                "{dxhat} of the entry's channel; per sample {dgamma} and {dbeta} over "
                "the channel's {n} entries, reduced over the batch below"
            ).format(dxhat="dx̂ = ∂L/∂a × γ", dgamma="∂L/∂γ = Σ ∂L/∂a·x̂", dbeta="∂L/∂β = Σ ∂L/∂a", n=self.spatial)
        return _("Backward · layer {layer} ({kind})").format(layer=layer, kind=_("batch norm")), out, note

    def batch_backward(self, back: LayerBackward, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(back, BatchNormBackward) and back.dxhat is not None
        assert back.mean_dxhat is not None and back.mean_dxhat_xhat is not None
        layer, n = self.op.name, back.delta.shape[0]
        m = n * self.spatial
        out: list[Quantity] = []
        for c in range(self.op.channels):
            cells = [(p, j) for p in range(n) for j in self.entries(c)]
            dx = tuple(emit.q(neuron_name(layer, "dL_dxhat", j), p) for p, j in cells)
            inner = " + ".join(f"{{{i}}}" for i in range(m))
            name = emit.q(neuron_name(layer, "mean_dxhat", c))
            args = [scalar(back.dxhat[p, j]) for p, j in cells]
            out.append(
                emit.quantity(
                    name, scalar(back.mean_dxhat[c]), "backward", layer, None, Form(f"({inner}) / {m}", dx, _mean), args
                )
            )
            slots: list[Slot] = []
            pair_args: list[Scalar] = []
            for i, (p, j) in enumerate(cells):
                slots += [dx[i], emit.q(neuron_name(layer, "xhat", j), p)]
                pair_args += [scalar(back.dxhat[p, j]), scalar(back.z[p, j])]
            pairs = " + ".join(f"{{{2 * i}}}·{{{2 * i + 1}}}" for i in range(m))
            name = emit.q(neuron_name(layer, "mean_dxhat_xhat", c))
            out.append(
                emit.quantity(
                    name,
                    scalar(back.mean_dxhat_xhat[c]),
                    "backward",
                    layer,
                    None,
                    Form(f"({pairs}) / {m}", tuple(slots), _mean_products),
                    pair_args,
                )
            )
        whose = _("every sample's x") if self.spatial == 1 else _("every value of a channel")
        note = _("the batch terms of ∂L/∂x: {whose} moved the mean and the variance every x̂ was made with").format(
            whose=whose
        )
        title = _("Batch terms · layer {layer} ({kind}, {n} samples)").format(layer=layer, kind=_("batch norm"), n=n)
        return title, out, note

    def downstream(self, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        """∂L/∂x = (dx̂ − mean dx̂_c − x̂ × mean (dx̂·x̂)_c) / √(var_c + ε), named as the layer below's ∂L/∂a."""
        assert isinstance(back, BatchNormBackward) and back.downstream is not None and back.dxhat is not None
        layer, eps = self.op.name, self._eps(emit)
        out = []
        if back.mean_dxhat is None:  # mode: eval: constant statistics, no batch terms
            return self._downstream_eval(back, below, p, emit)
        assert back.mean_dxhat_xhat is not None and back.var is not None
        for j, entry in enumerate(back.input_names):
            c = self.channel(j)
            slots: tuple[Slot, ...] = (
                emit.q(neuron_name(layer, "dL_dxhat", j), p),
                emit.q(neuron_name(layer, "mean_dxhat", c)),
                emit.q(neuron_name(layer, "xhat", j), p),
                emit.q(neuron_name(layer, "mean_dxhat_xhat", c)),
                emit.q(neuron_name(layer, "var", c)),
                eps,
            )
            args = [
                scalar(back.dxhat[p, j]),
                scalar(back.mean_dxhat[c]),
                scalar(back.z[p, j]),
                scalar(back.mean_dxhat_xhat[c]),
                scalar(back.var[c]),
                self.op.spec.eps,
            ]
            form = Form("({0} − {1} − {2} × {3}) / √({4} + {5})", slots, _below)
            name = emit.q(upstream_name(below, entry, j), p)
            out.append(emit.quantity(name, scalar(back.downstream[p, j]), "backward", below, p, form, args))
        return out

    def _downstream_eval(self, back: BatchNormBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        """mode: eval: ∂L/∂x = dx̂ / √(running var + ε), each sample on its own."""
        assert back.downstream is not None and back.dxhat is not None and back.var is not None
        layer, eps = self.op.name, self._eps(emit)
        out = []
        for j, entry in enumerate(back.input_names):
            c = self.channel(j)
            slots: tuple[Slot, ...] = (
                emit.q(neuron_name(layer, "dL_dxhat", j), p),
                emit.q(neuron_name(layer, "var", c)),
                eps,
            )
            args = [scalar(back.dxhat[p, j]), scalar(back.var[c]), self.op.spec.eps]
            name = emit.q(upstream_name(below, entry, j), p)
            form = Form("{0} / √({1} + {2})", slots, _scaled_down)
            out.append(emit.quantity(name, scalar(back.downstream[p, j]), "backward", below, p, form, args))
        return out


def _scaled_down(values: Sequence[Scalar]) -> Scalar:
    dxhat, var, eps = (float(v) for v in values)
    return dxhat / math.sqrt(var + eps)


def _running_mean(values: Sequence[Scalar]) -> Scalar:
    momentum, old, mean = values
    return (1 - momentum) * old + momentum * mean


def _running_var(count: int, values: Sequence[Scalar]) -> Scalar:
    momentum, old, var = values
    return (1 - momentum) * old + momentum * var * (count / (count - 1))
