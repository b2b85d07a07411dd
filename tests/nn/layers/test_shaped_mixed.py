"""Random networks on shaped inputs mixing batch norm per channel, activations, pooling, flatten and
dense layers: central differences and the two engine modes agree on every one (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from tests.strategies import shaped_networks

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(spec=shaped_networks())
def test_central_differences_agree_on_shaped_networks(spec: NetworkSpec) -> None:
    with np.errstate(all="ignore"):
        result = check_gradients(spec)
    assert result.checks and not result.failed, [
        (c.layer, c.kind, c.index, c.analytic, c.numeric) for c in result.failed
    ]


@SETTINGS
@given(spec=shaped_networks())
def test_fast_mode_gives_the_trace_on_shaped_networks(spec: NetworkSpec) -> None:
    traced = Engine(spec).step(1, tuple(range(spec.data.rows)))
    fast = Engine(spec).fast_step(1, tuple(range(spec.data.rows)))
    updates = iter(traced.updates)
    for index, grads in enumerate(fast.grads):
        for grad in grads:
            u = next(updates)
            assert u.layer == spec.layers[index].name
            np.testing.assert_allclose(grad, u.grad, rtol=1e-10, atol=1e-13)
