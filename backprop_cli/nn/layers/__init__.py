"""The layer ops of a network, built from its spec in order (see ``base.py`` for what an op owns)."""

from __future__ import annotations

from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.layers.dense import Dense


def build_layers(spec: NetworkSpec, *, exact: bool = False) -> tuple[Dense, ...]:
    """One op per configured layer, each reading the names of the outputs before it."""
    ops: list[Dense] = []
    names = spec.inputs
    for layer in spec.layers:
        op = Dense(layer, names, exact=exact)
        ops.append(op)
        names = op.output_names
    return tuple(ops)
