"""The layer ops of a network, built from its spec in order (see ``base.py`` for what an op owns).

``LAYER_TYPES`` is the registry: a spec's ``kind`` (the config's ``type:``) → the op class that runs it,
named by module and class and imported when a config first uses that type (a network of dense layers
does not import the others: the start of ``backprop trace`` is benchmarked). A new layer type is one
op module beside ``dense.py`` and one entry here (and its config model in ``loading/models.py``); see
"How to add a layer type" in the README.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import cast

from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.layers.base import LayerOp, LayerType


class _Registry(Mapping[str, LayerType]):
    """Layer types by kind, each ``module:Class`` imported on first use."""

    def __init__(self, entries: dict[str, str], hidden: dict[str, str] | None = None) -> None:
        self._entries = entries
        self._hidden = hidden or {}  # kinds a spec may have but a config may not name (a block's parts)
        self._loaded: dict[str, LayerType] = {}

    def __getitem__(self, kind: str) -> LayerType:
        if kind not in self._loaded:
            module, _, name = (self._entries.get(kind) or self._hidden[kind]).partition(":")
            self._loaded[kind] = cast(LayerType, getattr(importlib.import_module(module), name))
        return self._loaded[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


LAYER_TYPES: Mapping[str, LayerType] = _Registry(
    {
        "dense": "backprop_cli.nn.layers.dense:Dense",
        "activation": "backprop_cli.nn.layers.activation:ActivationLayer",
        "dropout": "backprop_cli.nn.layers.dropout:DropoutLayer",
        "batchnorm": "backprop_cli.nn.layers.batchnorm:BatchNormLayer",
        "flatten": "backprop_cli.nn.layers.flatten:FlattenLayer",
        "maxpool2d": "backprop_cli.nn.layers.pool:MaxPool2d",
        "avgpool2d": "backprop_cli.nn.layers.pool:AvgPool2d",
        "maxpool1d": "backprop_cli.nn.layers.pool:MaxPool1d",
        "avgpool1d": "backprop_cli.nn.layers.pool:AvgPool1d",
        "conv2d": "backprop_cli.nn.layers.conv2d:Conv2d",
        "conv1d": "backprop_cli.nn.layers.conv2d:Conv1d",
        "residual": "backprop_cli.nn.layers.residual:Residual",
    },
    hidden={"residual_entry": "backprop_cli.nn.layers.residual:ResidualEntry"},
)


def build_layers(spec: NetworkSpec, *, exact: bool = False) -> tuple[LayerOp, ...]:
    """One op per configured layer, each reading the names of the outputs before it."""
    ops: list[LayerOp] = []
    names = spec.inputs
    for layer in spec.layers:
        op = LAYER_TYPES[layer.kind](layer, names, exact=exact)
        ops.append(op)
        names = op.output_names
    return tuple(ops)
