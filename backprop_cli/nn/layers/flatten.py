"""The flatten layer: a shaped input (C, H, W or C, L) as one flat row, as ``torch.nn.Flatten()`` does.

Entry j of its output is entry j of its input in row-major order (channel, then row, then column:
``x1 … x16`` of a 1×4×4 input read along each row of the image in turn), so a = z: no parameters, the
identity entry by entry, and its backward pass sends δ_j = ∂L/∂a_j back unchanged to input entry j.
The values already travel flat between the layers (their shape is the config's, see ``output_shape``);
what flatten changes is that the layers after it see a vector: a dense layer needs one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from backprop_cli.model.i18n import _
from backprop_cli.model.quantity import Quantity
from backprop_cli.model.spec import Array
from backprop_cli.nn.layers.activation import ActivationBlocks, ActivationLayer, ActivationSpec
from backprop_cli.nn.layers.base import Cache, Emit, LayerPlace
from backprop_cli.nn.layers.dense import DenseCache
from backprop_cli.nn.records import LayerForward


def shape_text(shape: tuple[int, ...]) -> str:
    """``1×4×4``."""
    return "×".join(str(n) for n in shape)


@dataclass(frozen=True)
class FlattenSpec(ActivationSpec):
    """The identity over ``width`` entries, from a shaped input of ``shape`` to a flat row."""

    kind: ClassVar[str] = "flatten"
    shape: tuple[int, ...] = ()  # its input's; (width,) when that is already flat

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (self.width,)

    @property
    def label(self) -> str:
        return _("flatten {shape} → {width}").format(shape=shape_text(self.shape), width=self.width)

    @property
    def formula(self) -> str:
        return _("z (row-major)")

    def forward_latex(self) -> tuple[str, ...]:
        return (r"a_j = a^{\text{in}}_j \quad \text{(row-major order)}",)

    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        return {"type": self.kind, "name": self.name}


class FlattenLayer(ActivationLayer):
    """One flatten layer of a network; see the module docstring."""

    kind = "flatten"
    config_model = "FlattenLayerModel"
    # δ = ∂L/∂a itself in float64 (see ``delta``): the fast step takes it as it comes, without the
    # local derivative of ones the trace shows (an array the size of the layer's input every step)
    passes_delta = True

    @staticmethod
    def from_config(m: Any, place: LayerPlace) -> FlattenSpec:
        return FlattenSpec(place.name, "identity", place.fan_in, shape=place.shape or (place.fan_in,))

    def forward(
        self, params: Sequence[Array], x: Array, step: int, during: str = "", *, evaluating: bool = False
    ) -> DenseCache:
        """a = z = x, the same array: nothing is computed, so nothing new to check (x was, where it was made)."""
        return DenseCache(x, x, x)

    def delta(self, cache: Cache, upstream: Array) -> tuple[Array, Array, Array | None]:
        """δ = ∂L/∂a × 1 = ∂L/∂a itself (float64; exact fractions keep the activation's own rule)."""
        if upstream.dtype == object:
            return super().delta(cache, upstream)
        return upstream, np.ones_like(upstream), None

    def backward_fast(
        self, params: Sequence[Array], cache: Cache, delta: Array, scale: float, step: int, first: bool
    ) -> tuple[list[Array], list[float], Array | None]:
        """δ passed down as it came: the layer above checked it (its ∂L/∂a of the layer below)."""
        return [], [], None if first else delta

    def blocks(self) -> FlattenBlocks:
        assert isinstance(self.spec, FlattenSpec)
        return FlattenBlocks(self, self.spec.shape)


class FlattenBlocks(ActivationBlocks):
    """A flatten layer's quantities, as an identity activation's: z_j = input j, a_j = z_j."""

    def __init__(self, op: FlattenLayer, shape: tuple[int, ...]) -> None:
        super().__init__(op)
        self.shape = shape

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        op = self.op
        out = self.sums(fwd, p, emit) + self.activations(fwd, p, emit)
        note = _("a = z: input entry j of the {shape} input, in row-major order").format(shape=shape_text(self.shape))
        return _("Forward · layer {layer} ({kind})").format(layer=op.name, kind="flatten"), out, note
