"""Parity with PyTorch: same network, same data, same losses and optimizers, to 1e-9 relative.

Runs when torch is importable (``pip install torch==2.13.0``); otherwise skipped with that reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from backprop_cli.model.spec import NetworkSpec, OptimizerSpec
from backprop_cli.nn.engine import run
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
    if reduction == "sum_all" and name in ("mse", "mae", "bce"):  # torch's own reduction='sum'
        if name == "bce":  # from the logits, as ours: BCELoss on σ(z) drifts from it at |z| ≈ 20
            return F.binary_cross_entropy_with_logits(z, y, reduction="sum")
        return (F.mse_loss if name == "mse" else F.l1_loss)(a, y, reduction="sum")
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
    return per_sample.mean() if reduction == "mean" else per_sample.sum()  # sum_all: as sum for these


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


# ---------------------------------------------------------------- every optimizer, several steps

OPTIMIZER_CASES: dict[str, tuple[str, float, dict[str, Any], Any]] = {
    # id: (our name, learning rate, our options, torch.optim factory)
    "sgd-weight-decay": ("sgd", 0.2, {"weight_decay": 0.05}, lambda p, lr: torch.optim.SGD(p, lr, weight_decay=0.05)),
    "momentum": ("momentum", 0.1, {}, lambda p, lr: torch.optim.SGD(p, lr, momentum=0.9)),
    "sgd-dampening": (
        "sgd",
        0.1,
        {"momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
        lambda p, lr: torch.optim.SGD(p, lr, momentum=0.8, dampening=0.3, weight_decay=0.01),
    ),
    "nesterov": (
        "momentum",
        0.05,
        {"momentum": 0.7, "nesterov": True},
        lambda p, lr: torch.optim.SGD(p, lr, momentum=0.7, nesterov=True),
    ),
    "adam": ("adam", 0.05, {}, lambda p, lr: torch.optim.Adam(p, lr)),
    "adam-l2-amsgrad": (
        "adam",
        0.03,
        {"beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True},
        lambda p, lr: torch.optim.Adam(p, lr, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, amsgrad=True),
    ),
    "adamw": ("adamw", 0.05, {}, lambda p, lr: torch.optim.AdamW(p, lr)),
    "adamw-amsgrad": (
        "adamw",
        0.02,
        {"weight_decay": 0.3, "amsgrad": True},
        lambda p, lr: torch.optim.AdamW(p, lr, weight_decay=0.3, amsgrad=True),
    ),
    "rmsprop": ("rmsprop", 0.01, {}, lambda p, lr: torch.optim.RMSprop(p, lr)),
    "rmsprop-centered-momentum": (
        "rmsprop",
        0.005,
        {"alpha": 0.9, "eps": 1e-7, "weight_decay": 0.02, "momentum": 0.5, "centered": True},
        lambda p, lr: torch.optim.RMSprop(p, lr, alpha=0.9, eps=1e-7, weight_decay=0.02, momentum=0.5, centered=True),
    ),
}


def torch_params_after_each_step(spec: NetworkSpec, steps: list[tuple[int, ...]], factory: Any) -> list[list[Any]]:
    """Run torch.optim on the same network; frozen parameters have requires_grad=False (never stepped)."""
    params = []
    for layer in spec.layers:
        w = torch.tensor(layer.weights, dtype=torch.float64, requires_grad="weights" not in layer.frozen)
        b = None
        if layer.biases is not None:
            b = torch.tensor(layer.biases, dtype=torch.float64, requires_grad="biases" not in layer.frozen)
        params.append((w, b))
    flat = [t for pair in params for t in pair if t is not None]
    opt = factory([t for t in flat if t.requires_grad], spec.optimizer.learning_rate)
    out = []
    for rows in steps:
        x = torch.tensor(spec.data.x[list(rows)], dtype=torch.float64)
        y = torch.tensor(spec.data.y[list(rows)], dtype=torch.float64)
        opt.zero_grad()
        torch_loss(spec, params, x, y).backward()
        opt.step()
        # copies: torch updates its state tensors in place
        out.append([(t.detach().numpy().copy(), {k: v.clone() for k, v in opt.state[t].items()}) for t in flat])
    return out


TORCH_STATE = [  # our state name, torch.optim's
    ("buf", "momentum_buffer"),
    ("m", "exp_avg"),
    ("v", "exp_avg_sq"),
    ("v_max", "max_exp_avg_sq"),
    ("v", "square_avg"),
    ("g_avg", "grad_avg"),
]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("case", sorted(OPTIMIZER_CASES))
def test_every_optimizer_matches_torch_optim_over_several_steps(case: str, seed: int) -> None:
    name, lr, options, factory = OPTIMIZER_CASES[case]
    spec = make_spec([3, 4, 2], ["tanh", "sigmoid"], "bce", seed=seed, rows=5, batch_size=2, steps=6)
    layers = list(spec.layers)
    if seed == 1:  # a frozen tensor: shown, never stepped, no state (torch: requires_grad=False)
        layers[0] = replace(layers[0], frozen=frozenset({"biases"}))
    spec = replace(spec, layers=tuple(layers), optimizer=OptimizerSpec(name, lr, options))
    records = list(run(spec))
    theirs = torch_params_after_each_step(spec, [rec.samples for rec in records], factory)
    compared = 0
    for rec, after in zip(records, theirs, strict=True):
        for u, (t_value, t_state) in zip(rec.updates, after, strict=True):
            np.testing.assert_allclose(u.new, t_value, rtol=1e-9, atol=1e-12, err_msg=f"step {rec.step} {u.layer}")
            if u.frozen:
                assert not u.state and not t_state and np.array_equal(u.new, u.old)
                continue
            for ours_name, torch_name in TORCH_STATE:
                if ours_name in u.state and torch_name in t_state:
                    np.testing.assert_allclose(u.state[ours_name], t_state[torch_name].numpy(), rtol=1e-9, atol=1e-12)
                    compared += 1
            if "step" in t_state:
                assert u.scalars.get("t", t_state["step"].item()) == t_state["step"].item()
    assert compared > 0 or (name == "sgd" and "momentum" not in options)


@pytest.mark.parametrize(
    ("loss", "last", "module"),
    [
        ("mse", "tanh", lambda: torch.nn.MSELoss(reduction="sum")),
        ("mae", "identity", lambda: torch.nn.L1Loss(reduction="sum")),
        ("bce", "sigmoid", lambda: torch.nn.BCELoss(reduction="sum")),
    ],
)
def test_reduction_sum_all_is_torch_s_sum_and_sum_is_a_k_th_of_it(loss: str, last: str, module: Any) -> None:
    """The README's claim, exactly: with K = 3 outputs, sum_all equals torch's reduction='sum' (loss and
    gradients), and sum (each sample's mean over its outputs, summed) is 1/K of it."""
    spec = make_spec([2, 3, 3], ["relu", last], loss, seed=4, rows=4, reduction="sum_all", batch_size=4)
    [(value, grads, rows)] = ours(spec)
    params = [
        (
            torch.tensor(layer.weights, dtype=torch.float64, requires_grad=True),
            torch.tensor(layer.biases, dtype=torch.float64, requires_grad=True),
        )
        for layer in spec.layers
    ]
    a = torch.tensor(spec.data.x[list(rows)], dtype=torch.float64)
    for (w, b), layer in zip(params, spec.layers, strict=True):
        z = F.linear(a, w, b)
        a = {"relu": F.relu, "tanh": torch.tanh, "identity": lambda t: t, "sigmoid": torch.sigmoid}[layer.activation](z)
    expected = module()(a, torch.tensor(spec.data.y[list(rows)], dtype=torch.float64))
    expected.backward()
    total = float(expected.detach())
    assert value == pytest.approx(total, rel=1e-9)
    for g, t in zip(grads, [t.grad.numpy() for pair in params for t in pair], strict=True):
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-12)
    [(summed, _, _)] = ours(replace(spec, loss=replace(spec.loss, reduction="sum")))
    assert summed == pytest.approx(total / 3, rel=1e-12)  # K = 3 outputs
