"""Pooling layers as torch defines them: ``maxpool2d``, ``avgpool2d`` (on a [C, H, W] input) and
``maxpool1d``, ``avgpool1d`` (on a [C, L] input), each channel pooled on its own.

A window of ``kernel_size`` cells per spatial axis moves by ``stride`` (default ``kernel_size``, as
torch's) over the input padded with ``padding`` cells on every side; there are
⌊(size + 2·padding − kernel) / stride⌋ + 1 windows per axis (torch's ``ceil_mode=False``, dilation 1).

- max: a_o = max of window o's cells, padding read as −∞ (it never wins); the cell that wins is
  ``win_o``, the first maximum in row-major window order at a tie, as torch's CPU kernel takes it
  (it replaces the running maximum only on a strictly greater value). Backward: ∂L/∂x_i = Σ of δ_o
  over the windows o that x_i won; a cell that won no window gets 0. Max is not differentiable at a
  tie: this is the one-sided choice torch makes, and a central difference there need not agree.
- avg: a_o = (Σ of window o's cells) / k^d, padding counted as 0 cells (torch's
  ``count_include_pad=True``). Backward: ∂L/∂x_i = Σ over the windows o holding x_i of δ_o / k^d.

Values travel flat between the layers (row-major: channel, then row, then column), so output entry
o is ``p1.a{o}`` numbered as a shaped input's ``x1 …`` are. No parameters; a = z; δ_o = ∂L/∂a_o.
Rational (max and mean): ``--exact`` runs it on fractions.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from backprop_cli.model.i18n import N_, _
from backprop_cli.model.names import neuron_name, upstream_name
from backprop_cli.model.quantity import Const, Form, Quantity, Rule, Scalar, Slot, scalar
from backprop_cli.model.spec import Array, BaseLayerSpec
from backprop_cli.nn.check import finite
from backprop_cli.nn.layers.base import Cache, Counts, Emit, LayerPlace, ParamDef, shaped_only
from backprop_cli.nn.layers.dense import same, total
from backprop_cli.nn.ops import NamedRule
from backprop_cli.nn.records import LayerBackward, LayerForward

Indices = NDArray[np.intp]
NEG_INF = Const(-math.inf, "−∞")  # a padding cell of a max window
ZERO = Const(0.0)  # a padding cell of an average window


def shape_text(shape: Sequence[int]) -> str:
    """``1×4×4``."""
    return "×".join(str(n) for n in shape)


def pooled_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Windows along one axis: ⌊(size + 2·padding − kernel) / stride⌋ + 1 (torch, ``ceil_mode=False``)."""
    return (size + 2 * padding - kernel) // stride + 1


def window_map(shape: tuple[int, ...], kernel: int, stride: int, padding: int) -> Indices:
    """(outputs, k^d) of the flat input index each window reads, row-major in the window; a padding cell
    is the index ``prod(shape)`` (one past the last entry). Windows run channel by channel, row-major."""
    channels, spatial = shape[0], shape[1:]
    outs = [pooled_size(n, kernel, stride, padding) for n in spatial]
    strides = [math.prod(spatial[a + 1 :]) for a in range(len(spatial))]
    per_channel, pad = math.prod(spatial), math.prod(shape)
    rows: list[list[int]] = []
    for c in range(channels):
        for position in itertools.product(*(range(n) for n in outs)):
            cells = []
            for offset in itertools.product(range(kernel), repeat=len(spatial)):
                at = [p * stride + u - padding for p, u in zip(position, offset, strict=True)]
                inside = all(0 <= v < n for v, n in zip(at, spatial, strict=True))
                cells.append(c * per_channel + sum(v * s for v, s in zip(at, strides, strict=True)) if inside else pad)
            rows.append(cells)
    return np.array(rows, dtype=np.intp)


@dataclass(frozen=True)
class PoolSpec(BaseLayerSpec):
    """A pooling layer over an input of ``shape`` (C, H, W) or (C, L); see the module docstring."""

    kind: ClassVar[str] = "maxpool2d"
    mode: ClassVar[str] = "max"  # or "avg"
    dims: ClassVar[int] = 2  # spatial axes
    name: str
    shape: tuple[int, ...]
    kernel_size: int
    stride: int
    padding: int = 0
    activation: str = "identity"
    negative_slope: float = 0.01
    frozen: frozenset[str] = frozenset()

    @property
    def pooled_shape(self) -> tuple[int, ...]:
        """Its output's shape: (C, H_out, W_out) or (C, L_out)."""
        k, s, p = self.kernel_size, self.stride, self.padding
        return (self.shape[0], *(pooled_size(n, k, s, p) for n in self.shape[1:]))

    @property
    def units(self) -> int:
        return math.prod(self.pooled_shape)

    @property
    def fan_in(self) -> int:
        return math.prod(self.shape)

    @property
    def window(self) -> int:
        """Cells per window: k^d."""
        return int(self.kernel_size**self.dims)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return self.pooled_shape

    @property
    def label(self) -> str:
        k = "×".join([str(self.kernel_size)] * self.dims)
        pad = _(", padding {n}").format(n=self.padding) if self.padding else ""
        shapes = f"{shape_text(self.shape)} → {shape_text(self.pooled_shape)}"
        kind = _("{mode} pool {size}").format(mode=self.mode, size=k)
        return _("{kind}, stride {stride}{pad}: {shapes}").format(kind=kind, stride=self.stride, pad=pad, shapes=shapes)

    @property
    def formula(self) -> str:
        if self.mode == "max":
            return _("max of each window")
        return _("mean of each window (÷ {n})").format(n=self.window)

    def forward_latex(self) -> tuple[str, ...]:
        if self.mode == "max":
            return (r"a_o = \max_{i \in W_o} x_i",)
        return (rf"a_o = \frac{{1}}{{{self.window}}} \sum_{{i \in W_o}} x_i",)

    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        return {
            "type": self.kind,
            "name": self.name,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
        }


@dataclass(frozen=True)
class MaxPool2dSpec(PoolSpec):
    kind: ClassVar[str] = "maxpool2d"
    mode: ClassVar[str] = "max"
    dims: ClassVar[int] = 2


@dataclass(frozen=True)
class AvgPool2dSpec(PoolSpec):
    kind: ClassVar[str] = "avgpool2d"
    mode: ClassVar[str] = "avg"
    dims: ClassVar[int] = 2


@dataclass(frozen=True)
class MaxPool1dSpec(PoolSpec):
    kind: ClassVar[str] = "maxpool1d"
    mode: ClassVar[str] = "max"
    dims: ClassVar[int] = 1


@dataclass(frozen=True)
class AvgPool1dSpec(PoolSpec):
    kind: ClassVar[str] = "avgpool1d"
    mode: ClassVar[str] = "avg"
    dims: ClassVar[int] = 1


SPECS: dict[str, type[PoolSpec]] = {s.kind: s for s in (MaxPool2dSpec, AvgPool2dSpec, MaxPool1dSpec, AvgPool1dSpec)}


@dataclass(frozen=True)
class PoolCache:
    x: Array
    z: Array  # the pooled values (a = z: no activation)
    a: Array
    winners: Indices | None  # (batch, outputs): max only, the flat input index that won each window


@dataclass(frozen=True)
class PoolForward(LayerForward):
    winners: Indices | None = None
    windows: Indices | None = None  # (outputs, k^d): the op's window map (a padding cell: one past the inputs)
    mode: str = "max"

    def reads(self, j: int) -> tuple[int, ...]:
        assert self.windows is not None
        return tuple(int(i) for i in self.windows[j] if i < len(self.input_names))

    def rule_text(self, j: int) -> str:
        cells = ", ".join(self.input_names[i] for i in self.reads(j))
        if self.winners is None:
            return f"{self.layer}.a{j + 1} = mean({cells})"
        return f"{self.layer}.a{j + 1} = max({cells}) ← {self.input_names[int(self.winners[0, j])]}"

    def extra(self, p: int) -> dict[str, Array]:
        """Max pooling's ``won``: the 1-based input entry (``x5`` → 5) that won each window."""
        if self.winners is None:
            return {}
        won: Array = (self.winners[p] + 1).astype(np.float64)
        return {"won": won}


@dataclass(frozen=True)
class PoolBackward(LayerBackward):
    winners: Indices | None = None  # as the forward record's: where max pooling routes each window's δ


def _zeros(shape: tuple[int, ...], like: Array) -> Array:
    """Zeros of ``like``'s kind: float64, or exact fractions."""
    if like.dtype == object:
        out: Array = np.empty(shape, dtype=object)
        out[...] = Fraction(0)
        return out
    return np.zeros(shape, dtype=np.float64)


class PoolLayer:
    """One pooling layer of a network (the four kinds are the subclasses below)."""

    kind = "maxpool2d"
    config_model = "PoolLayerModel"

    @classmethod
    def from_config(cls, m: Any, place: LayerPlace) -> PoolSpec:
        spec_type = SPECS[m.type]
        shaped_only(place, m.type, spec_type.dims)
        k = m.kernel_size
        stride = m.stride if m.stride is not None else k
        if m.padding > k // 2:
            raise place.error(
                _(
                    "layer {name} padding {padding} is more than half the kernel {kernel}; expected at most "
                    "{most} (torch refuses it: a window of padding alone)"
                ).format(name=repr(place.name), padding=m.padding, kernel=k, most=k // 2),
                "padding",
            )
        spatial = place.shape[1:]
        if any(k > n + 2 * m.padding for n in spatial):
            template = (
                _("{name}: kernel {kernel} does not fit an input of {shape} with padding {padding}")
                if m.padding
                else _("{name}: kernel {kernel} does not fit an input of {shape}")
            )
            raise place.error(
                template.format(name=place.name, kernel=k, shape=shape_text(spatial), padding=m.padding),
                "kernel_size",
            )
        return spec_type(place.name, tuple(place.shape), k, stride, m.padding)

    @staticmethod
    def counts(spec: PoolSpec, *, hidden: bool, combined: bool, first: bool) -> Counts:
        inputs, outputs, is_max = spec.fan_in, spec.units, spec.mode == "max"
        # forward: a (and max's win) per output; backward: ∂L/∂a (from above) and δ per output.
        # JSON per sample: inputs, z, a (and win); dL_da, da_dz, chain, delta; ∂L/∂a of the layer below
        json = inputs + 2 * outputs + outputs * is_max + 4 * outputs + inputs * (not first)
        return Counts(outputs * (1 + is_max), outputs * hidden + outputs, json)

    def __init__(self, spec: PoolSpec, input_names: tuple[str, ...], *, exact: bool = False) -> None:
        self.spec = spec
        self.name = spec.name
        self.activation = "identity"
        self.slope: Scalar = 0.01
        self.input_names = input_names
        self.output_names = tuple(neuron_name(spec.name, "a", o) for o in range(spec.units))
        self.params: tuple[ParamDef, ...] = ()
        self.windows = window_map(spec.shape, spec.kernel_size, spec.stride, spec.padding)
        self.pad = spec.fan_in  # the index of a padding cell

    @property
    def rational(self) -> bool:
        return True  # max and mean

    def initial(self) -> list[Array]:
        return []

    def forward(
        self, params: Sequence[Array], x: Array, step: int, during: str = "", *, evaluating: bool = False
    ) -> PoolCache:
        n, is_max = x.shape[0], self.spec.mode == "max"
        fill: Any = -math.inf if is_max else (Fraction(0) if x.dtype == object else 0.0)
        extended = np.empty((n, x.shape[1] + 1), dtype=x.dtype)
        extended[:, :-1], extended[:, -1] = x, fill
        cells = extended[:, self.windows]  # (batch, outputs, k^d)
        winners = None
        if is_max:
            first = cells.argmax(axis=2)  # the first maximum at a tie: torch's CPU rule
            a: Array = np.take_along_axis(cells, first[:, :, None], axis=2)[:, :, 0]
            winners = self.windows[np.arange(self.windows.shape[0])[None, :], first]
        else:
            a = cells.sum(axis=2) / self.spec.window
        finite(a, step=step, layer=self.name, quantity=N_("pooled value a") + during)
        return PoolCache(x, a, a, winners)

    def delta(self, cache: Cache, upstream: Array) -> tuple[Array, Array, Array | None]:
        local: Array = np.ones_like(upstream)
        return upstream, local, None  # a = z: δ = ∂L/∂a

    def route(self, cache: PoolCache, delta: Array) -> Array:
        """∂L/∂x (batch, inputs): each window's δ to the cell that won it (max), or δ/k^d to each of its cells (avg)."""
        n, outputs = delta.shape
        down = _zeros((n, self.pad + 1), delta)
        rows = np.arange(n)[:, None]
        if cache.winners is not None:
            np.add.at(down, (np.broadcast_to(rows, cache.winners.shape), cache.winners), delta)
        else:
            k = self.windows.shape[1]
            share = np.broadcast_to((delta / self.spec.window)[:, :, None], (n, outputs, k))
            cells = np.broadcast_to(self.windows[None], (n, outputs, k))
            np.add.at(down, (np.broadcast_to(rows[:, :, None], cells.shape), cells), share)
        routed: Array = down[:, : self.pad]
        return routed

    def backward_fast(
        self, params: Sequence[Array], cache: Cache, delta: Array, scale: float, step: int, first: bool
    ) -> tuple[list[Array], list[float], Array | None]:
        assert isinstance(cache, PoolCache)
        finite(delta, step=step, layer=self.name, quantity="δ = ∂L/∂a")
        return [], [], None if first else self.route(cache, delta)

    def record_forward(self, params: Sequence[Array], cache: Cache) -> PoolForward:
        assert isinstance(cache, PoolCache)
        return PoolForward(
            self.name,
            "identity",
            self.slope,
            self.input_names,
            cache.x,
            None,
            None,
            cache.z,
            cache.a,
            cache.winners,
            self.windows,
            self.spec.mode,
        )

    def backward_trace(
        self, fwd: LayerForward, upstream: Array, combined: tuple[Array, str] | None, step: int, first: bool
    ) -> PoolBackward:
        assert isinstance(fwd, PoolForward)
        cache = PoolCache(fwd.inputs, fwd.z, fwd.a, fwd.winners)
        chain, local, _unused = self.delta(cache, upstream)
        finite(chain, step=step, layer=self.name, quantity="δ = ∂L/∂a")
        down = None if first else self.route(cache, chain)
        return PoolBackward(
            layer=self.name,
            activation="identity",
            negative_slope=self.slope,
            input_names=fwd.input_names,
            z=fwd.z,
            a=fwd.a,
            upstream=upstream,
            local=local,
            jacobian=None,
            chain=chain,
            delta=chain,
            combined=None,
            inputs=fwd.inputs,
            weights=None,
            grad_w=None,
            grad_b=None,
            downstream=down,
            winners=fwd.winners,
        )

    def blocks(self) -> PoolBlocks:
        return PoolBlocks(self)


class MaxPool2d(PoolLayer):
    kind = "maxpool2d"


class AvgPool2d(PoolLayer):
    kind = "avgpool2d"


class MaxPool1d(PoolLayer):
    kind = "maxpool1d"


class AvgPool1d(PoolLayer):
    kind = "avgpool1d"


# ---------------------------------------------------------------- quantities


def _max(values: Sequence[Scalar]) -> Scalar:
    return max(values)


def _winner(values: Sequence[Scalar]) -> Scalar:
    """``win_o``: the 1-based position of the first maximum among the window's cells (torch's at a tie)."""
    place = max(range(len(values)), key=lambda i: (values[i], -i)) + 1
    return Fraction(place) if any(isinstance(v, Fraction) for v in values) else float(place)


def _mean_of(count: int) -> Rule:
    def rule(values: Any) -> Scalar:
        total: Scalar = values[0] * 0
        for v in values:
            total = total + v
        return total / count

    return rule


def _shares(count: int) -> Rule:
    """Σ_o δ_o / k^d, in the order of the windows (as the engine adds them)."""

    def rule(values: Any) -> Scalar:
        total: Scalar = values[0] * 0 if values else 0.0
        for v in values:
            total = total + v / count
        return total

    return rule


def _nothing(values: Sequence[Scalar]) -> Scalar:
    return 0.0


NOTE_ITEMS = 12  # windows a note names one by one; the rest are counted (every win is a quantity of its own)


def _listed(items: Sequence[str]) -> str:
    """``a; b; c``, the first NOTE_ITEMS of them and how many more."""
    shown = "; ".join(items[:NOTE_ITEMS])
    return shown + (_("; … {n} more").format(n=len(items) - NOTE_ITEMS) if len(items) > NOTE_ITEMS else "")


class PoolBlocks:
    """A pooling layer's quantities: per sample each window's value (max: and the cell that won it);
    backward ∂L/∂a (from the layer above) and δ per window, and ∂L/∂x routed to the layer below."""

    def __init__(self, op: PoolLayer) -> None:
        self.op = op

    @property
    def _max(self) -> bool:
        return self.op.spec.mode == "max"

    def forward_count(self, fwd: LayerForward) -> int:
        return int(fwd.z.shape[1]) * (1 + self._max)

    def backward_count(self, back: LayerBackward, *, hidden: bool) -> int:
        outputs = int(back.delta.shape[1])
        return outputs * hidden + outputs

    def _kind(self) -> str:
        spec = self.op.spec
        return _("{mode} pool {size}").format(mode=spec.mode, size="×".join([str(spec.kernel_size)] * spec.dims))

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(fwd, PoolForward)
        op, layer, spec = self.op, self.op.name, self.op.spec
        out: list[Quantity] = []
        winners: list[Quantity] = []
        won: list[str] = []
        ties: list[str] = []
        pad_slot = NEG_INF if self._max else ZERO
        for o, cells in enumerate(op.windows):
            slots: list[Slot] = []
            args: list[Scalar] = []
            for i in cells:
                if i == op.pad:
                    slots.append(pad_slot)
                    args.append(pad_slot.value)
                else:
                    slots.append(emit.q(fwd.input_names[i], p))
                    args.append(scalar(fwd.inputs[p, i]))
            marks = ", ".join(f"{{{k}}}" for k in range(len(slots)))
            name = emit.q(neuron_name(layer, "a", o), p)
            if self._max:
                form = Form(f"max({marks})", tuple(slots), _max)
            else:
                form = Form(f"({marks.replace(', ', ' + ')}) / {spec.window}", tuple(slots), _mean_of(spec.window))
            out.append(emit.quantity(name, scalar(fwd.a[p, o]), "forward", layer, p, form, args))
            if fwd.winners is None:
                continue
            real = [(k, int(i)) for k, i in enumerate(cells) if i != op.pad]
            real_slots = tuple(slots[k] for k, _ in real)
            positions = [i for _, i in real]
            win_form = Form(f"argmax({', '.join(f'{{{k}}}' for k in range(len(real)))})", real_slots, _winner)
            winner = int(fwd.winners[p, o])
            win_name = emit.q(neuron_name(layer, "win", o), p)
            place = positions.index(winner) + 1
            value: Scalar = Fraction(place) if fwd.inputs.dtype == object else float(place)
            winners.append(emit.quantity(win_name, value, "forward", layer, p, win_form, [args[k] for k, _ in real]))
            won.append(f"{neuron_name(layer, 'a', o)} ← {fwd.input_names[winner]}")
            best = fwd.inputs[p, winner]
            tied = [fwd.input_names[i] for i in positions if i != winner and fwd.inputs[p, i] == best]
            if tied:
                ties.append(
                    _("{name}: {winner} over {others}").format(
                        name=neuron_name(layer, "a", o), winner=fwd.input_names[winner], others=", ".join(tied)
                    )
                )
        shape = _("{shape} → {pooled}, stride {stride}").format(
            shape=shape_text(spec.shape), pooled=shape_text(spec.pooled_shape), stride=spec.stride
        )
        if self._max:
            pad = _("; padding cells are −∞") if spec.padding else ""
            note = _("a = the largest cell of each window ({shape}{pad}); won: {won}").format(
                shape=shape, pad=pad, won=_listed(won)
            )
            if ties:
                note += _(
                    "; ties ({ties}): the first in row-major order wins, as torch's CPU kernel does "
                    "(max is not differentiable at a tie; δ goes to that cell alone)"
                ).format(ties=_listed(ties))
        else:
            pad = _(", padding cells count as 0 (count_include_pad)") if spec.padding else ""
            note = _("a = the mean of each window's {n} cells ({shape}{pad})").format(
                n=spec.window, shape=shape, pad=pad
            )
        title = _("Forward · layer {layer} ({kind})").format(layer=layer, kind=self._kind())
        return title, out + winners, note

    def backward(
        self, back: LayerBackward, upstream: list[Quantity], p: int, emit: Emit, combined_rule: NamedRule | None
    ) -> tuple[str, list[Quantity], str]:
        layer = self.op.name
        out = list(upstream)
        for o in range(back.delta.shape[1]):
            form = Form("{0}", (emit.q(neuron_name(layer, "dL_da", o), p),), same, "{0:v}")
            name = emit.q(neuron_name(layer, "delta", o), p)
            out.append(
                emit.quantity(name, scalar(back.delta[p, o]), "backward", layer, p, form, [scalar(back.upstream[p, o])])
            )
        if self._max:
            note = _(
                "δ = ∂L/∂a (a = z); each window's δ goes back to the cell that won it, the others get 0 "
                "(at a tie, to the first maximum, as torch)"
            )
        else:
            note = _("δ = ∂L/∂a (a = z); each window's δ goes back as δ / {n} to each of its cells").format(
                n=self.op.spec.window
            )
        return _("Backward · layer {layer} ({kind})").format(layer=layer, kind=self._kind()), out, note

    def downstream(self, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        """∂L/∂x_i for the layer below: the δ of the windows x_i won (max), or δ / k^d of those holding it (avg)."""
        assert isinstance(back, PoolBackward) and back.downstream is not None
        op, layer = self.op, self.op.name
        winners = None if back.winners is None else back.winners[p]
        out = []
        for i, entry in enumerate(back.input_names):
            if winners is not None:
                sources = [o for o in range(back.delta.shape[1]) if winners[o] == i]
            else:
                sources = [o for o, cells in enumerate(op.windows) if i in cells]
            slots = tuple(emit.q(neuron_name(layer, "delta", o), p) for o in sources)
            args = [scalar(back.delta[p, o]) for o in sources]
            if not sources:
                form = Form("0 (won no window)" if winners is not None else "0 (in no window)", (), _nothing)
            elif winners is not None:
                form = Form(" + ".join(f"{{{k}}}" for k in range(len(slots))), slots, total)
                if len(slots) == 1:
                    form = Form("{0}", slots, same, "{0:v}")
            else:
                window = op.spec.window
                form = Form(" + ".join(f"{{{k}}} / {window}" for k in range(len(slots))), slots, _shares(window))
            name = emit.q(upstream_name(below, entry, i), p)
            out.append(emit.quantity(name, scalar(back.downstream[p, i]), "backward", below, p, form, args))
        return out
