"""The standalone activation layer: a = f(z) of each entry of its input, z being that input.

``{type: activation, activation: relu}`` applies an activation on its own, as ``torch.nn.ReLU`` does
after ``nn.Linear`` or ``nn.BatchNorm1d``: no parameters, as many outputs as inputs. Forward: z_j is
input j (shown under the layer's own name, so its blocks read as a dense layer's do), a_j = f(z_j).
Backward: δ_j = ∂L/∂a_j × ∂a_j/∂z_j (softmax: through its Jacobian; the loss's combined δ where it
pairs with this activation), and ∂L/∂input_j = δ_j, since z is the input itself. Per sample in trace
mode, for the whole batch at once in fast mode: nothing is reduced, there is no parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from backprop_cli.model.i18n import N_, _
from backprop_cli.model.names import neuron_name
from backprop_cli.model.quantity import Form, Quantity, Scalar, scalar
from backprop_cli.model.spec import Array, BaseLayerSpec
from backprop_cli.nn.check import finite
from backprop_cli.nn.layers.base import Cache, Counts, Emit, LayerPlace, ParamDef, parameterless_backward
from backprop_cli.nn.layers.dense import (
    DenseBlocks,
    DenseCache,
    activation_rules,
    chain_through,
    delta_passed_down,
    same,
)
from backprop_cli.nn.ops import ACTIVATIONS, RATIONAL_ACTIVATIONS
from backprop_cli.nn.optim import exact_number
from backprop_cli.nn.records import LayerBackward, LayerForward


@dataclass(frozen=True)
class ActivationSpec(BaseLayerSpec):
    """A standalone activation over ``width`` entries (its fan-in and its units)."""

    kind: ClassVar[str] = "activation"
    name: str
    activation: str  # one of ACTIVATIONS ("linear" is resolved to "identity")
    width: int
    negative_slope: float = 0.01  # leaky_relu only
    frozen: frozenset[str] = frozenset()  # no parameters: always empty

    @property
    def units(self) -> int:
        return self.width

    @property
    def fan_in(self) -> int:
        return self.width

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape  # entry by entry

    def forward_latex(self) -> tuple[str, ...]:
        return (r"z_j = a^{\text{in}}_j", ACTIVATIONS[self.activation].latex)

    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": self.kind, "name": self.name, "activation": self.activation}
        if self.activation == "leaky_relu":
            entry["negative_slope"] = self.negative_slope
        return entry


class ActivationLayer:
    """One standalone activation of a network; see the module docstring."""

    kind = "activation"
    config_model = "ActivationLayerModel"

    @staticmethod
    def from_config(m: Any, place: LayerPlace) -> ActivationSpec:
        activation = "identity" if m.activation == "linear" else m.activation
        if activation == "softmax" and not place.last:
            raise place.error(
                _("softmax on layer {name}, which is not the last; expected softmax only on the output layer").format(
                    name=repr(place.name)
                ),
                "activation",
            )
        if m.negative_slope is not None and activation != "leaky_relu":
            raise place.error(
                _("negative_slope with activation {activation}; expected it only with leaky_relu").format(
                    activation=repr(activation)
                ),
                "negative_slope",
            )
        slope = m.negative_slope if m.negative_slope is not None else 0.01
        return ActivationSpec(place.name, activation, place.fan_in, slope)

    @staticmethod
    def counts(spec: ActivationSpec, *, hidden: bool, combined: bool, first: bool) -> Counts:
        width, softmax = spec.width, spec.activation == "softmax"
        local = width * width if softmax else width
        backward = width * hidden + local + width * (1 + combined)  # ∂L/∂a, ∂a/∂z, (chain,) δ
        json = 3 * width + 4 * width + width * width * softmax + width * (not first)
        return Counts(2 * width, backward, json)

    def __init__(self, spec: ActivationSpec, input_names: tuple[str, ...], *, exact: bool = False) -> None:
        self.spec = spec
        self.name = spec.name
        self.activation = spec.activation
        self.exact = exact
        self.slope: Scalar = exact_number(spec.negative_slope) if exact else spec.negative_slope
        self.input_names = input_names
        self.output_names = tuple(neuron_name(spec.name, "a", j) for j in range(spec.width))
        self.act = ACTIVATIONS[spec.activation]
        self.params: tuple[ParamDef, ...] = ()
        self._forward, self._derivative = activation_rules(spec.activation, spec.negative_slope, exact=exact)

    @property
    def rational(self) -> bool:
        return self.activation in RATIONAL_ACTIVATIONS

    def initial(self) -> list[Array]:
        return []

    def forward(
        self, params: Sequence[Array], x: Array, step: int, during: str = "", *, evaluating: bool = False
    ) -> DenseCache:
        a = self._forward(x)
        finite(a, step=step, layer=self.name, quantity=N_("activation a") + during)
        return DenseCache(x, x, a)

    def delta(self, cache: Cache, upstream: Array) -> tuple[Array, Array, Array | None]:
        return chain_through(self._derivative, self.activation, cache, upstream)

    def backward_fast(
        self, params: Sequence[Array], cache: Cache, delta: Array, scale: float, step: int, first: bool
    ) -> tuple[list[Array], list[float], Array | None]:
        finite(delta, step=step, layer=self.name, quantity="δ = ∂L/∂z")
        return [], [], None if first else delta  # ∂L/∂input = δ: z is the input

    def record_forward(self, params: Sequence[Array], cache: Cache) -> LayerForward:
        return LayerForward(
            self.name, self.activation, self.slope, self.input_names, cache.x, None, None, cache.z, cache.a
        )

    def backward_trace(
        self, fwd: LayerForward, upstream: Array, combined: tuple[Array, str] | None, step: int, first: bool
    ) -> LayerBackward:
        derivative = self.delta(DenseCache(fwd.inputs, fwd.z, fwd.a), upstream)
        return parameterless_backward(
            self.name,
            fwd,
            upstream,
            derivative,
            combined,
            step=step,
            first=first,
            activation=self.activation,
            slope=self.slope,
        )

    def blocks(self) -> ActivationBlocks:
        return ActivationBlocks(self)


class ActivationBlocks(DenseBlocks):
    """A standalone activation's quantities: z_j (its input j), a_j = f(z_j); backward as a dense
    layer's without weights; ∂L/∂input_j = δ_j for the layer below."""

    def backward_count(self, back: LayerBackward, *, hidden: bool) -> int:
        width = int(back.delta.shape[1])
        local = width * width if back.jacobian is not None else width
        return width * hidden + local + width * (1 + bool(back.combined))

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        op = self.op
        out = self.sums(fwd, p, emit) + self.activations(fwd, p, emit)
        activation = op.act.template.format(z="z", s=emit.numbers.operand(op.slope))
        note = _("z = the layer's input; a = {activation}").format(activation=activation)
        return _("Forward · layer {layer} ({kind})").format(layer=op.name, kind=op.activation), out, note

    def sums(self, fwd: LayerForward, p: int, emit: Emit) -> list[Quantity]:
        """z_j = input j, named as this layer's."""
        layer = self.op.name
        return [
            emit.quantity(
                emit.q(neuron_name(layer, "z", j), p),
                scalar(fwd.z[p, j]),
                "forward",
                layer,
                p,
                Form("{0}", (emit.q(source, p),), same, "{0:v}"),
                [scalar(fwd.inputs[p, j])],
            )
            for j, source in enumerate(fwd.input_names)
        ]

    def downstream(self, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        """∂L/∂a_j of the layer below is δ_j (z is that a)."""
        return delta_passed_down(self.op.name, back, below, p, emit)
