"""A residual block whose branch is conv2d → relu → conv2d (padding 1, so the branch keeps the input's
shape): a small case checked against a window-by-window numpy reference, central differences, and torch
parity over several steps with SGD and Adam (issue 14 left a conv inside a block untested)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from tests.nn.layers.kit import TORCH, load

# one channel, 2×2: a 3×3 kernel with padding 1 keeps 2×2, so x + F(x) is defined
IMAGE = [[[1.0, -2.0], [0.5, 3.0]]]
K1 = [[[[0.0, 0.0, 0.0], [0.0, 1.0, 0.5], [0.0, -1.0, 0.0]]]]  # z[i, j] = x[i, j] + 0.5·x[i, j+1] − x[i+1, j]
K2 = [[[[0.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]]]  # z[i, j] = 2·x[i, j]
C1 = {"type": "conv2d", "name": "c1", "kernel_size": 3, "padding": 1, "weights": K1, "biases": [0.25]}
C2 = {"type": "conv2d", "name": "c2", "kernel_size": 3, "padding": 1, "weights": K2, "biases": [-0.5]}
OUT: dict[str, Any] = {"name": "o", "units": 1, "weights": [[1.0, -1.0, 0.5, 2.0]], "biases": [0.0]}


def block(*inner: dict[str, Any]) -> dict[str, Any]:
    return {"type": "residual", "name": "res1", "layers": list(inner)}


def config(layers: list[dict[str, Any]], inputs: Any = (1, 2, 2), **rest: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "network": {"inputs": list(inputs), "layers": layers},
        "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "data": [{"x": IMAGE, "y": [1.0]}],
    }
    return base | rest


RELU = {"type": "activation", "name": "f", "activation": "relu"}
HAND = config([block(C1, RELU, C2), {"type": "flatten", "name": "fl"}, OUT])


def _correlate(x: np.ndarray, w: np.ndarray, b: np.ndarray, padding: int) -> np.ndarray:
    """torch's Conv2d (stride 1) written window by window: z[o, i, j] = Σ_cuv w[o, c, u, v]·x[c, i+u, j+v] + b[o]."""
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    k = w.shape[2]
    rows, cols = padded.shape[1] - k + 1, padded.shape[2] - k + 1
    z = np.empty((w.shape[0], rows, cols))
    for o in range(w.shape[0]):
        for i in range(rows):
            for j in range(cols):
                z[o, i, j] = (w[o] * padded[:, i : i + k, j : j + k]).sum() + b[o]
    return z


def test_by_hand_the_skip_adds_the_image_to_the_conv_relu_conv_branch() -> None:
    """x = [[1, −2], [0.5, 3]]. c1 (centre 1, right 0.5, below −1, bias 0.25): z = [[1 − 1 − 0.5 + 0.25,
    −2 − 3 + 0.25], [0.5 + 1.5 + 0.25, 3 + 0.25]] = [[−0.25, −4.75], [2.25, 3.25]]; relu: [[0, 0], [2.25, 3.25]];
    c2 (2·centre, bias −0.5): [[−0.5, −0.5], [4, 6]]; res1 = x + that = [[0.5, −2.5], [4.5, 9]];
    o.z = 0.5 + 2.5 + 2.25 + 18 = 23.25. Backward: δ_o = 2·(23.25 − 1) = 44.5, res1.δ = 44.5·(1, −1, 0.5, 2);
    ∂L/∂x is the skip's δ plus the branch's c1ᵀ·(relu' ⊙ c2ᵀ·δ). The numpy reference below recomputes each."""
    rec = Engine(load(HAND)).step(1, (0,))
    x = np.array(IMAGE)
    w1, w2 = np.array(K1), np.array(K2)
    z1 = _correlate(x, w1, np.array([0.25]), 1)
    np.testing.assert_allclose(z1.ravel(), [-0.25, -4.75, 2.25, 3.25], rtol=1e-15)  # the docstring's numbers
    a1 = np.maximum(z1, 0.0)
    z2 = _correlate(a1, w2, np.array([-0.5]), 1)
    res = x + z2
    np.testing.assert_allclose(res.ravel(), [0.5, -2.5, 4.5, 9.0], rtol=1e-15)
    by_layer = {f.layer: f for f in rec.forward}
    np.testing.assert_allclose(by_layer["res1.c1"].z[0], z1.ravel(), rtol=1e-15)
    np.testing.assert_allclose(by_layer["res1.c2"].a[0], z2.ravel(), rtol=1e-15)
    np.testing.assert_allclose(by_layer["res1"].a[0], res.ravel(), rtol=1e-15)
    w_out = np.array(OUT["weights"][0])
    o_z = float(w_out @ res.ravel())
    assert o_z == pytest.approx(23.25, rel=1e-15)
    delta_o = 2 * (o_z - 1.0)
    delta = np.asarray(delta_o * w_out, dtype=np.float64).reshape(1, 2, 2)  # ∂L/∂res1.a
    by = {b.layer: b for b in rec.backward}
    np.testing.assert_allclose(by["res1"].delta[0], delta.ravel(), rtol=1e-14)
    # c2's ∂L/∂w[u, v] = Σ_ij δ[i, j]·a1_padded[i + u, j + v]; ∂L/∂b = Σ δ
    pad_a1 = np.pad(a1, ((0, 0), (1, 1), (1, 1)))
    g2 = np.array([[(delta[0] * pad_a1[0, u : u + 2, v : v + 2]).sum() for v in range(3)] for u in range(3)])
    grads = {(u.layer, u.kind): u.grad for u in rec.updates}
    np.testing.assert_allclose(grads[("res1.c2", "weights")], g2.reshape(1, 1, 3, 3), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(grads[("res1.c2", "biases")], [delta.sum()], rtol=1e-14)
    # back through c2 (full correlation with the flipped kernel = its transpose), relu, then c1
    d_a1 = _correlate(delta, w2[:, :, ::-1, ::-1].transpose(1, 0, 2, 3), np.zeros(1), 1)
    d_z1 = d_a1 * (z1 > 0)
    pad_x = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    g1 = np.array([[(d_z1[0] * pad_x[0, u : u + 2, v : v + 2]).sum() for v in range(3)] for u in range(3)])
    np.testing.assert_allclose(grads[("res1.c1", "weights")], g1.reshape(1, 1, 3, 3), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(grads[("res1.c1", "biases")], [d_z1.sum()], rtol=1e-14)
    # the gradient reaching the block's input: the skip's δ plus the branch's
    d_x = delta + _correlate(d_z1, w1[:, :, ::-1, ::-1].transpose(1, 0, 2, 3), np.zeros(1), 1)
    entry = by["res1.branch"]
    skip = np.asarray(entry.skip[0], dtype=np.float64)  # type: ignore[attr-defined]
    np.testing.assert_allclose(skip, delta.ravel(), rtol=1e-14)
    total = np.asarray(entry.branch[0], dtype=np.float64) + skip  # type: ignore[attr-defined]
    np.testing.assert_allclose(total, d_x.ravel(), rtol=1e-13)
    assert {u.layer for u in rec.updates} == {"res1.c1", "res1.c2", "o"}


def _random_case(seed: int, steps: int, optimizer: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Dense-free in front: a 2×4×4 input, res1 = [conv2d 2→3 (3×3, padding 1) → relu → conv2d 3→2
    (3×3, padding 1)] + skip → flatten → Linear(32, 2) → softmax, cross-entropy, batches of 2."""
    rng = np.random.default_rng(seed)
    p = {
        "w1": rng.normal(size=(3, 2, 3, 3)) * 0.4,
        "b1": rng.normal(size=3) * 0.1,
        "w2": rng.normal(size=(2, 3, 3, 3)) * 0.4,
        "b2": rng.normal(size=2) * 0.1,
        "wo": rng.normal(size=(2, 32)) * 0.3,
        "bo": rng.normal(size=2) * 0.1,
        "x": rng.normal(size=(4, 2, 4, 4)),
    }
    ys = np.eye(2)[[0, 1, 1, 0]]
    c1 = {"type": "conv2d", "name": "c1", "out_channels": 3, "kernel_size": 3, "padding": 1}
    c2 = {"type": "conv2d", "name": "c2", "out_channels": 2, "kernel_size": 3, "padding": 1}
    layers = [
        block(
            c1 | {"weights": p["w1"].tolist(), "biases": p["b1"].tolist()},
            RELU,
            c2 | {"weights": p["w2"].tolist(), "biases": p["b2"].tolist()},
        ),
        {"type": "flatten"},
        {"name": "o", "units": 2, "activation": "softmax", "weights": p["wo"].tolist(), "biases": p["bo"].tolist()},
    ]
    value = config(
        layers,
        (2, 4, 4),
        data=[{"x": x.tolist(), "y": y.tolist()} for x, y in zip(p["x"], ys, strict=True)],
        loss="cross_entropy",
        optimizer=optimizer,
        training={"steps": steps, "batch_size": 2},
    )
    p["y"] = ys
    return value, p


def test_central_differences_agree_through_the_conv_branch_and_the_skip() -> None:
    value, _ = _random_case(5, 1, {"name": "sgd", "learning_rate": 0.1})
    with np.errstate(all="ignore"):
        result = check_gradients(load(value))
    assert result.checks, "no parameter was checked"
    assert {c.layer for c in result.checks} >= {"res1.c1", "res1.c2", "o"}
    assert not result.failed, [(c.layer, c.kind, c.index, c.analytic, c.numeric) for c in result.failed]


def test_central_differences_catch_the_skip_left_out() -> None:
    """The skip matters to the gradients: the same layers without the block (the branch alone, no skip)
    give c1 other gradients, so the agreement above is not one that any conv stack would pass."""
    value, _ = _random_case(5, 1, {"name": "sgd", "learning_rate": 0.1})
    ours = Engine(load(value)).step(1, (0, 1))
    plain = json.loads(json.dumps(value))
    inner = plain["network"]["layers"][0]["layers"]
    plain["network"]["layers"] = [*inner, *plain["network"]["layers"][1:]]
    theirs = Engine(load(plain)).step(1, (0, 1))
    mine = {(u.layer.removeprefix("res1."), u.kind): u.grad for u in ours.updates}
    other = {(u.layer, u.kind): u.grad for u in theirs.updates}
    assert mine.keys() == other.keys()
    assert not np.allclose(mine[("c1", "weights")], other[("c1", "weights")], rtol=1e-6)


@pytest.mark.parametrize(
    ("optimizer", "make"),
    [
        ({"name": "sgd", "learning_rate": 0.1}, lambda params, torch: torch.optim.SGD(params, lr=0.1)),
        ({"name": "adam", "learning_rate": 0.01}, lambda params, torch: torch.optim.Adam(params, lr=0.01)),
    ],
    ids=["sgd", "adam"],
)
def test_torch_conv_relu_conv_residual_block_over_four_steps(optimizer: dict[str, Any], make: Any) -> None:
    """Conv2d → ReLU → Conv2d + skip, four steps of batches of 2: the loss, every gradient and updated
    parameter to 1e-9, and the fast mode (train) ending on the same parameters."""
    torch = pytest.importorskip("torch", reason=TORCH)
    f64 = torch.float64
    value, p = _random_case(11, 4, optimizer)
    spec = load(value)
    conv1 = torch.nn.Conv2d(2, 3, 3, padding=1, dtype=f64)
    conv2 = torch.nn.Conv2d(3, 2, 3, padding=1, dtype=f64)
    linear = torch.nn.Linear(32, 2, dtype=f64)
    with torch.no_grad():
        for module, w, b in ((conv1, "w1", "b1"), (conv2, "w2", "b2"), (linear, "wo", "bo")):
            module.weight.copy_(torch.tensor(p[w], dtype=f64))
            module.bias.copy_(torch.tensor(p[b], dtype=f64))
    params = [conv1.weight, conv1.bias, conv2.weight, conv2.bias, linear.weight, linear.bias]

    def net(x: Any) -> Any:
        return linear(torch.flatten(x + conv2(torch.relu(conv1(x))), 1))

    opt = make(params, torch)
    targets = torch.tensor(p["y"].argmax(axis=1))
    steps = 0
    for rec in Engine(spec).run():
        rows = list(rec.samples)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(torch.tensor(p["x"][rows], dtype=f64)), targets[rows])
        loss.backward()
        grads = [param.grad.detach().numpy().copy() for param in params]
        opt.step()
        steps += 1
        assert rec.loss.value == pytest.approx(loss.item(), rel=1e-12)
        assert [f"{u.layer}.{u.kind}" for u in rec.updates][:2] == ["res1.c1.weights", "res1.c1.biases"]
        for u, grad, param in zip(rec.updates, grads, params, strict=True):
            np.testing.assert_allclose(u.grad, grad, rtol=1e-9, atol=1e-13)
            np.testing.assert_allclose(u.new, param.detach().numpy(), rtol=1e-9, atol=1e-13)
    assert steps == 4
    engine = Engine(spec)
    for number, batch in enumerate(engine.schedule, start=1):
        engine.fast_step(number, batch)
    fast = [t for ts in engine.tensors for t in ts]
    for tensor, param in zip(fast, params, strict=True):
        np.testing.assert_allclose(tensor, param.detach().numpy(), rtol=1e-9, atol=1e-13)
