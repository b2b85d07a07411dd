from __future__ import annotations

from dataclasses import dataclass

import pytest

from backprop_cli.model.spec import BaseLayerSpec


def test_a_layer_spec_that_does_not_say_its_size_or_config_cannot_be_made() -> None:
    """units, fan_in and config are what the engine, the budgets and `train --save` read of every layer
    type: a new type that leaves one out fails where it is made, not steps into a run."""

    @dataclass(frozen=True)
    class Half(BaseLayerSpec):
        name: str = "h"
        activation: str = "identity"
        negative_slope: float = 0.01
        frozen: frozenset[str] = frozenset()

        @property
        def units(self) -> int:
            return 2

        @property
        def fan_in(self) -> int:
            return 2

    with pytest.raises(TypeError, match="config"):
        Half()  # type: ignore[abstract]
