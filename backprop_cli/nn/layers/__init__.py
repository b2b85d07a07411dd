"""The layer ops of a network, built from its spec in order (see ``base.py`` for what an op owns).

``LAYER_TYPES`` is the registry: a spec's ``kind`` (the config's ``type:``) → the op class that runs it.
A new layer type is one op module beside ``dense.py`` and one line here (and its config model in
``loading/models.py``); see "How to add a layer type" in the README.
"""

from __future__ import annotations

from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.layers.activation import ActivationLayer
from backprop_cli.nn.layers.base import LayerOp, LayerType
from backprop_cli.nn.layers.dense import Dense
from backprop_cli.nn.layers.dropout import DropoutLayer

LAYER_TYPES: dict[str, LayerType] = {
    Dense.kind: Dense,
    ActivationLayer.kind: ActivationLayer,
    DropoutLayer.kind: DropoutLayer,
}


def build_layers(spec: NetworkSpec, *, exact: bool = False) -> tuple[LayerOp, ...]:
    """One op per configured layer, each reading the names of the outputs before it."""
    ops: list[LayerOp] = []
    names = spec.inputs
    for layer in spec.layers:
        op = LAYER_TYPES[layer.kind](layer, names, exact=exact)
        ops.append(op)
        names = op.output_names
    return tuple(ops)
