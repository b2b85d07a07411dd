"""The dropout layer (inverted, as ``torch.nn.Dropout(p)`` in training): a_j = z_j × m_j / (1 − p).

z is the layer's input (shown under its own name, ``d.z1 = h.a1``), m a mask of 0s and 1s, one per
sample and entry, each 1 with probability 1 − p: drawn afresh each step from
``numpy.random.default_rng([seed, step])`` (so a run is reproducible and the trace and ``train`` draw
the same masks), or given (``mask:`` one row per sample of a batch, at every step; a batch longer
than the rows reuses them from the first). Backward: ∂a_j/∂z_j = m_j / (1 − p), δ_j = ∂L/∂a_j ×
∂a_j/∂z_j, and ∂L/∂input_j = δ_j, so a dropped entry passes no gradient. When evaluating (the loss on
all data of ``train``) the layer passes its input, as torch's ``model.eval()`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from backprop_cli.model.i18n import N_, _, ngettext
from backprop_cli.model.names import neuron_name
from backprop_cli.model.quantity import Const, Form, Quantity, Scalar, scalar
from backprop_cli.model.spec import Array, BaseLayerSpec
from backprop_cli.nn.check import finite
from backprop_cli.nn.layers.base import Cache, Counts, Emit, LayerPlace, ParamDef, parameterless_backward
from backprop_cli.nn.layers.dense import delta_passed_down, exact_array, product, same
from backprop_cli.nn.ops import NamedRule
from backprop_cli.nn.optim import exact_number
from backprop_cli.nn.records import LayerBackward, LayerForward


@dataclass(frozen=True)
class DropoutSpec(BaseLayerSpec):
    """Inverted dropout over ``width`` entries with probability ``p``; a ``seed``, or a given ``mask``."""

    kind: ClassVar[str] = "dropout"
    name: str
    width: int
    p: float
    seed: int = 0
    mask: tuple[tuple[float, ...], ...] | None = None  # rows of 0s and 1s, one per sample of a batch
    activation: str = "identity"
    negative_slope: float = 0.01
    frozen: frozenset[str] = frozenset()

    @property
    def units(self) -> int:
        return self.width

    @property
    def fan_in(self) -> int:
        return self.width

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape  # entry by entry

    @property
    def label(self) -> str:
        return f"dropout p = {self.p:g}"

    @property
    def formula(self) -> str:
        return f"z × m / (1 − {self.p:g})"

    def forward_latex(self) -> tuple[str, ...]:
        return (rf"a_j = z_j \cdot \frac{{m_j}}{{1 - {self.p:g}}}, \quad z_j = a^{{\text{{in}}}}_j",)

    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": self.kind, "name": self.name, "p": self.p}
        if self.mask is not None:
            entry["mask"] = [list(row) for row in self.mask]
        else:
            entry["seed"] = self.seed
        return entry


@dataclass(frozen=True)
class DropoutCache:
    x: Array
    z: Array  # the input
    a: Array
    mask: Array  # (batch, width) of 0 and 1 (all 1 when evaluating)
    scale: Scalar  # 1 / (1 − p); 1 when evaluating


@dataclass(frozen=True)
class DropoutForward(LayerForward):
    mask: Array | None = None  # (batch, width)
    scale: Scalar = 1.0

    def extra(self, p: int) -> dict[str, Array]:
        return {} if self.mask is None else {"mask": self.mask[p]}


@dataclass(frozen=True)
class DropoutBackward(LayerBackward):
    scale: Scalar = 1.0  # 1 / (1 − p); 1 when evaluating (training: {mode: eval})


class DropoutLayer:
    """One dropout layer of a network; see the module docstring."""

    kind = "dropout"
    config_model = "DropoutLayerModel"

    @staticmethod
    def from_config(m: Any, place: LayerPlace) -> DropoutSpec:
        if m.mask is not None and m.seed is not None:
            raise place.error(_("both mask and seed given; expected one of them"), "seed")
        mask = None
        if m.mask is not None:
            rows = m.mask
            if not rows:
                raise place.error(_("mask has no rows; expected rows of 0 and 1, one per sample"), "mask")
            for r, row in enumerate(rows):
                at = ("mask", r)
                if len(row) != place.fan_in:
                    values = ngettext("{n} value", "{n} values", len(row)).format(n=len(row))
                    raise place.error(
                        _("layer {name} mask row {r} has {values}; expected {fan_in} (the fan-in: {below})").format(
                            name=repr(place.name), r=r, values=values, fan_in=place.fan_in, below=place.below
                        ),
                        *at,
                    )
                bad = next((v for v in row if v not in (0, 1)), None)
                if bad is not None:
                    raise place.error(
                        _("mask value {value:g} is not 0 or 1; expected 0 (dropped) or 1 (kept)").format(value=bad), *at
                    )
            mask = tuple(tuple(float(v) for v in row) for row in rows)
        return DropoutSpec(place.name, place.fan_in, m.p, m.seed or 0, mask)

    @staticmethod
    def counts(spec: DropoutSpec, *, hidden: bool, combined: bool, first: bool) -> Counts:
        width = spec.width
        # forward: m, z, a; backward: ∂L/∂a (from above), ∂a/∂z, δ; JSON: inputs, z, a, mask; ∂L/∂a, ∂a/∂z, chain, δ
        return Counts(3 * width, width * hidden + 2 * width, 4 * width + 4 * width + width * (not first))

    def __init__(self, spec: DropoutSpec, input_names: tuple[str, ...], *, exact: bool = False) -> None:
        self.spec = spec
        self.name = spec.name
        self.activation = "identity"
        self.exact = exact
        self.p: Scalar = exact_number(spec.p) if exact else spec.p
        self.scale: Scalar = 1 / (1 - self.p)
        self.input_names = input_names
        self.output_names = tuple(neuron_name(spec.name, "a", j) for j in range(spec.width))
        self.params: tuple[ParamDef, ...] = ()

    @property
    def rational(self) -> bool:
        return True

    def initial(self) -> list[Array]:
        return []

    def masks(self, step: int, batch: int) -> Array:
        """The masks of a batch of ``batch`` samples at ``step`` (1-based), (batch, width)."""
        spec = self.spec
        if spec.mask is not None:
            rows = np.array(spec.mask, dtype=np.float64)
            drawn = rows[np.arange(batch) % len(rows)]
        else:
            rng = np.random.default_rng([spec.seed, step])
            drawn = (rng.random((batch, spec.width)) >= spec.p).astype(np.float64)
        return exact_array(drawn) if self.exact else drawn

    def forward(
        self, params: Sequence[Array], x: Array, step: int, during: str = "", *, evaluating: bool = False
    ) -> DropoutCache:
        if evaluating:
            return DropoutCache(x, x, x, np.ones_like(x), 1)
        mask = self.masks(step, x.shape[0])
        scale: Any = self.scale  # a float, or a Fraction in exact mode (numpy multiplies either)
        a: Array = x * mask * scale
        finite(a, step=step, layer=self.name, quantity=N_("dropout output a") + during)
        return DropoutCache(x, x, a, mask, self.scale)

    def delta(self, cache: Cache, upstream: Array) -> tuple[Array, Array, Array | None]:
        assert isinstance(cache, DropoutCache)
        scale: Any = cache.scale
        local: Array = cache.mask * scale
        return upstream * local, local, None

    def backward_fast(
        self, params: Sequence[Array], cache: Cache, delta: Array, scale: float, step: int, first: bool
    ) -> tuple[list[Array], list[float], Array | None]:
        finite(delta, step=step, layer=self.name, quantity="δ = ∂L/∂z")
        return [], [], None if first else delta  # ∂L/∂input = δ: z is the input

    def record_forward(self, params: Sequence[Array], cache: Cache) -> DropoutForward:
        assert isinstance(cache, DropoutCache)
        return DropoutForward(
            self.name,
            "identity",
            0.01,
            self.input_names,
            cache.x,
            None,
            None,
            cache.z,
            cache.a,
            cache.mask,
            cache.scale,
        )

    def backward_trace(
        self, fwd: LayerForward, upstream: Array, combined: tuple[Array, str] | None, step: int, first: bool
    ) -> LayerBackward:
        assert isinstance(fwd, DropoutForward) and fwd.mask is not None
        chain, local, _ = self.delta(DropoutCache(fwd.inputs, fwd.z, fwd.a, fwd.mask, fwd.scale), upstream)
        back = parameterless_backward(self.name, fwd, upstream, (chain, local, None), combined, step=step, first=first)
        return DropoutBackward(**{f.name: getattr(back, f.name) for f in fields(back)}, scale=fwd.scale)

    def blocks(self) -> DropoutBlocks:
        return DropoutBlocks(self)


def _scaled(values: Sequence[Scalar]) -> Scalar:
    return values[0] * values[1] * values[2]


def _times(values: Sequence[Scalar]) -> Scalar:
    return values[0] * values[1]


class DropoutBlocks:
    """A dropout layer's quantities: per sample its mask, z (its input) and a = z × m / (1 − p); backward
    ∂a/∂z = m / (1 − p), δ, and ∂L/∂input = δ for the layer below."""

    def __init__(self, op: DropoutLayer) -> None:
        self.op = op

    def forward_count(self, fwd: LayerForward) -> int:
        return 3 * int(fwd.z.shape[1])

    def backward_count(self, back: LayerBackward, *, hidden: bool) -> int:
        width = int(back.delta.shape[1])
        return width * hidden + 2 * width

    def _scale(self, emit: Emit, scale: Scalar) -> Const:
        """The scale of the step: 1/(1 − p), or 1 when evaluating (mode: eval, as torch's model.eval())."""
        if scale != self.op.scale:
            return Const(scale, "1 (eval: no dropout)")
        return Const(self.op.scale, f"1/(1 − {emit.numbers.operand(self.op.p)})")

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(fwd, DropoutForward) and fwd.mask is not None
        op, layer = self.op, self.op.name
        spec = op.spec
        drawn = _("given mask") if spec.mask is not None else _("drawn, seed {seed}").format(seed=spec.seed)
        out: list[Quantity] = []
        for j in range(fwd.z.shape[1]):
            name = emit.q(neuron_name(layer, "mask", j), p)
            out.append(emit.quantity(name, scalar(fwd.mask[p, j]), "forward", layer, p, Form(drawn), kind="given"))
        for j, source in enumerate(fwd.input_names):
            form = Form("{0}", (emit.q(source, p),), same, "{0:v}")
            name = emit.q(neuron_name(layer, "z", j), p)
            out.append(emit.quantity(name, scalar(fwd.z[p, j]), "forward", layer, p, form, [scalar(fwd.inputs[p, j])]))
        scale = self._scale(emit, fwd.scale)
        for j in range(fwd.z.shape[1]):
            slots = (emit.q(neuron_name(layer, "z", j), p), emit.q(neuron_name(layer, "mask", j), p), scale)
            form = Form("{0} × {1} × {2}", slots, _scaled)
            args = [scalar(fwd.z[p, j]), scalar(fwd.mask[p, j]), scale.value]
            name = emit.q(neuron_name(layer, "a", j), p)
            out.append(emit.quantity(name, scalar(fwd.a[p, j]), "forward", layer, p, form, args))
        dropped = [neuron_name(layer, "a", j) for j in range(fwd.z.shape[1]) if fwd.mask[p, j] == 0]
        zeroed = _("; zeroed here: {names}").format(names=", ".join(dropped)) if dropped else _("; none zeroed here")
        note = _("{formula} with p = {p}, m {drawn}").format(
            formula="a = z × m / (1 − p)", p=emit.numbers.operand(op.p), drawn=drawn
        )
        note += zeroed
        kind = f"dropout, p = {emit.numbers.operand(op.p)}"
        return _("Forward · layer {layer} ({kind})").format(layer=layer, kind=kind), out, note

    def downstream(self, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        return delta_passed_down(self.op.name, back, below, p, emit)

    def backward(
        self, back: LayerBackward, upstream: list[Quantity], p: int, emit: Emit, combined_rule: NamedRule | None
    ) -> tuple[str, list[Quantity], str]:
        layer = self.op.name
        out = list(upstream)
        assert isinstance(back, DropoutBackward)
        scale = self._scale(emit, back.scale)
        width = back.delta.shape[1]
        for j in range(width):
            mask = emit.q(neuron_name(layer, "mask", j), p)
            form = Form("{0} × {1}", (mask, scale), _times)
            args: list[Scalar] = [scalar(back.local[p, j] / scale.value), scale.value]  # the mask: 0 or 1
            name = emit.q(neuron_name(layer, "da_dz", j), p)
            out.append(emit.quantity(name, scalar(back.local[p, j]), "backward", layer, p, form, args))
        for j in range(width):
            slots = (emit.q(neuron_name(layer, "dL_da", j), p), emit.q(neuron_name(layer, "da_dz", j), p))
            args = [scalar(back.upstream[p, j]), scalar(back.local[p, j])]
            name = emit.q(neuron_name(layer, "delta", j), p)
            out.append(
                emit.quantity(
                    name, scalar(back.delta[p, j]), "backward", layer, p, Form("{0} × {1}", slots, product), args
                )
            )
        note = _("{formula} with {where}: a dropped entry passes no gradient").format(
            formula="δ = ∂L/∂a × ∂a/∂z", where="∂a/∂z = m / (1 − p)"
        )
        return _("Backward · layer {layer} ({kind})").format(layer=layer, kind="dropout"), out, note
