"""Parity with PyTorch: same network, same data, same losses and SGD, to 1e-9 relative.

Runs when torch is importable (``pip install torch==2.13.0``); otherwise skipped with that reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from backprop_cli.engine import run
from backprop_cli.spec import NetworkSpec
from tests.strategies import make_spec, networks

torch = pytest.importorskip("torch", reason="torch is not installed; parity tests need `pip install torch==2.13.0`")
F = torch.nn.functional


def torch_loss(spec: NetworkSpec, params: list[Any], x: Any, y: Any) -> Any:
    a = x
    z = x
    for layer, (w, b) in zip(spec.layers, params, strict=True):
        z = F.linear(a, w, b)
        a = {
            "identity": lambda t: t,
            "relu": F.relu,
            "leaky_relu": lambda t, s=layer.negative_slope: F.leaky_relu(t, s),
            "sigmoid": torch.sigmoid,
            "tanh": torch.tanh,
            "softmax": lambda t: torch.softmax(t, dim=1),
        }[layer.activation](z)
    name, reduction = spec.loss.name, spec.loss.reduction
    if name == "mse":
        return (
            F.mse_loss(a, y, reduction="mean")
            if reduction == "mean"
            else F.mse_loss(a, y, reduction="none").mean(1).sum()
        )
    if name == "mae":
        return (
            F.l1_loss(a, y, reduction="mean")
            if reduction == "mean"
            else F.l1_loss(a, y, reduction="none").mean(1).sum()
        )
    if name == "bce":
        per_sample = F.binary_cross_entropy_with_logits(z, y, reduction="none").mean(1)
    elif name == "cross_entropy":
        per_sample = F.cross_entropy(z, y, reduction="none")  # probabilities as targets
    elif name == "sse":
        per_sample = ((a - y) ** 2).sum(1)
    else:
        per_sample = 0.5 * ((a - y) ** 2).sum(1)
    return per_sample.mean() if reduction == "mean" else per_sample.sum()


def torch_run(spec: NetworkSpec, steps: list[tuple[int, ...]]) -> list[tuple[float, list[np.ndarray]]]:
    params = []
    for layer in spec.layers:
        w = torch.tensor(layer.weights, dtype=torch.float64, requires_grad=True)
        b = None if layer.biases is None else torch.tensor(layer.biases, dtype=torch.float64, requires_grad=True)
        params.append((w, b))
    flat = [t for pair in params for t in pair if t is not None]
    opt = torch.optim.SGD(flat, lr=spec.optimizer.learning_rate)
    out = []
    for rows in steps:
        x = torch.tensor(spec.data.x[list(rows)], dtype=torch.float64)
        y = torch.tensor(spec.data.y[list(rows)], dtype=torch.float64)
        opt.zero_grad()
        loss = torch_loss(spec, params, x, y)
        loss.backward()
        grads = [t.grad.detach().numpy().copy() for t in flat]
        opt.step()
        out.append((float(loss.detach()), grads))
    return out


def ours(spec: NetworkSpec) -> list[tuple[float, list[np.ndarray], tuple[int, ...]]]:
    return [(rec.loss.value, [u.grad for u in rec.updates], rec.samples) for rec in run(spec)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_one_step_matches_autograd(spec: NetworkSpec) -> None:
    [(loss, grads, rows)] = ours(spec)
    [(t_loss, t_grads)] = torch_run(spec, [rows])
    assert loss == pytest.approx(t_loss, rel=1e-9, abs=1e-12)
    for g, t in zip(grads, t_grads, strict=True):
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("loss", ["mse", "bce", "cross_entropy"])
def test_several_sgd_steps_match_torch_optim(seed: int, loss: str) -> None:
    last = {"mse": "tanh", "bce": "sigmoid", "cross_entropy": "softmax"}[loss]
    spec = make_spec([3, 4, 3], ["relu", last], loss, seed=seed, rows=5, batch_size=2, steps=6, learning_rate=0.3)
    mine = ours(spec)
    theirs = torch_run(spec, [rows for _, _, rows in mine])
    for (loss_value, grads, _), (t_loss, t_grads) in zip(mine, theirs, strict=True):
        assert loss_value == pytest.approx(t_loss, rel=1e-9, abs=1e-12)
        for g, t in zip(grads, t_grads, strict=True):
            np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-12)
