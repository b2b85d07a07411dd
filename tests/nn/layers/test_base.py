"""The protocol checks of ``nn/layers/base.py``, remembered by class, against plain isinstance."""

from __future__ import annotations

import pytest

from backprop_cli.errors import BackpropError
from backprop_cli.loading.config import load_network
from backprop_cli.loading.examples import example_names, example_path
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.layers import build_layers
from backprop_cli.nn.layers.base import (
    _CONFORMS,
    BatchBlocks,
    Forks,
    Joins,
    Stateful,
    has_batch_blocks,
    is_fork,
    is_join,
    is_stateful,
)


def networks() -> list[tuple[str, NetworkSpec]]:
    found = []
    for name in example_names():
        try:
            spec, _ = load_network(str(example_path(name)))
        except BackpropError:  # an expression example (a circuit) is no network
            continue
        found.append((name, spec))
    return found


def test_each_remembered_check_agrees_with_isinstance_on_every_example_s_ops() -> None:
    """Twice over each example (the second time from the cache), and each protocol seen both ways."""
    _CONFORMS.clear()
    seen: dict[str, set[bool]] = {"Joins": set(), "Forks": set(), "Stateful": set(), "BatchBlocks": set()}
    examples = networks()
    assert {"deep_residual", "deep_sigmoid_batchnorm", "classic_2_2_2"} <= {name for name, _ in examples}
    for _ in range(2):
        for name, spec in examples:
            for op in build_layers(spec):
                blocks = op.blocks()
                for protocol, ours, thing in (
                    (Joins, is_join(op), op),
                    (Forks, is_fork(op), op),
                    (Stateful, is_stateful(op), op),
                    (BatchBlocks, has_batch_blocks(blocks), blocks),
                ):
                    assert ours == isinstance(thing, protocol), (name, op.name, protocol.__name__)
                    seen[protocol.__name__].add(ours)
    assert all(both == {True, False} for both in seen.values()), seen


@pytest.mark.parametrize("check", [is_join, is_fork, is_stateful, has_batch_blocks])
def test_something_that_is_no_op_conforms_to_none(check: object) -> None:
    assert callable(check) and check(object()) is False and check(3) is False
