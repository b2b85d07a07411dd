"""The conv2d and conv1d layer ops: by hand, against the window-by-window reference (conv.py), central
differences (hypothesis too), torch parity over several steps with each optimizer, a wrong derivative
caught, located config errors, and the trace with names, answers, check, explain, --exact, gradcheck,
train --save and the JSON's torch shapes."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn import init as init_module
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from backprop_cli.nn.layers import conv
from backprop_cli.nn.layers.conv2d import ConvLayer, ConvSpec, column_map
from tests.nn.layers.kit import TORCH, error, invoke, load
from tests.strategies import conv_networks

# a 1×3×3 image and one 2×2 filter: z = 2×2
IMAGE = [[[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [2.0, -2.0, 1.0]]]
KERNEL = [[[[1.0, -1.0], [0.5, 2.0]]]]
CONV = {"type": "conv2d", "name": "c1", "kernel_size": 2, "weights": KERNEL, "biases": [0.25]}
OUT = {"name": "o", "units": 1, "weights": [[1.0, -2.0, 0.5, 1.5]], "biases": [0.0]}


def config(layers: list[dict[str, Any]], inputs: Any = (1, 3, 3), **rest: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "network": {"inputs": list(inputs), "layers": layers},
        "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "data": [{"x": IMAGE, "y": [1.0]}],
    }
    return base | rest


HAND = config([CONV, {"type": "flatten", "name": "f"}, OUT])


def test_by_hand_a_2x2_filter_on_a_3x3_image() -> None:
    """z[i, j] = Σ_uv w[u, v]·x[i + u, j + v] + b, without flipping the kernel (torch's cross-correlation)."""
    rec = Engine(load(HAND)).step(1, (0,))
    # z11 = 1·1 − 1·2 + 0.5·(−1) + 2·0.5 + 0.25 = −0.25; z12 = 1·2 − 1·0 + 0.5·0.5 + 2·3 + 0.25 = 8.5
    # z21 = 1·(−1) − 1·0.5 + 0.5·2 + 2·(−2) + 0.25 = −4.25; z22 = 1·0.5 − 1·3 + 0.5·(−2) + 2·1 + 0.25 = −1.25
    np.testing.assert_allclose(rec.forward[0].z, [[-0.25, 8.5, -4.25, -1.25]], rtol=1e-15)
    # o.z = 1·(−0.25) − 2·8.5 + 0.5·(−4.25) + 1.5·(−1.25) = −21.25; mse: δ_o = 2·(−21.25 − 1) = −44.5
    delta = -44.5 * np.array([1.0, -2.0, 0.5, 1.5])  # the conv's δ (identity): δ_o·w
    np.testing.assert_allclose(rec.backward[-1].delta, [delta], rtol=1e-15)
    # ∂L/∂w[u, v] = Σ_ij δ[i, j]·x[i + u, j + v]; ∂L/∂b = Σ δ
    x = np.array(IMAGE[0])
    d = delta.reshape(2, 2)
    expected = np.array([[(d * x[u : u + 2, v : v + 2]).sum() for v in range(2)] for u in range(2)])
    grads = {u.kind: u.grad for u in rec.updates if u.layer == "c1"}
    assert grads["weights"].shape == (1, 1, 2, 2)
    np.testing.assert_allclose(grads["weights"][0, 0], expected, rtol=1e-14)
    assert grads["weights"][0, 0, 0, 0] == pytest.approx(-44.5 * (1 * 1 - 2 * 2 + 0.5 * -1 + 1.5 * 0.5), rel=1e-14)
    assert grads["biases"][0] == pytest.approx(delta.sum(), rel=1e-14)


def test_by_hand_the_transposed_convolution_sends_delta_times_w_to_each_cell_read() -> None:
    """An activation below the conv receives ∂L/∂x: cell (1, 1) was read by all four windows."""
    relu = {"type": "activation", "name": "r", "activation": "identity"}
    rec = Engine(load(config([relu, CONV, {"type": "flatten"}, OUT]))).step(1, (0,))
    d = (-44.5 * np.array([1.0, -2.0, 0.5, 1.5])).reshape(2, 2)
    w = np.array(KERNEL[0][0])
    down = np.zeros((3, 3))
    for i in range(2):
        for j in range(2):
            down[i : i + 2, j : j + 2] += d[i, j] * w
    routed = rec.backward[-2].downstream  # the conv's ∂L/∂x, what r receives
    assert routed is not None
    np.testing.assert_allclose(routed[0], down.ravel(), rtol=1e-14)
    # the centre cell x5: δ11·w22 + δ12·w21 + δ21·w12 + δ22·w11
    assert routed[0, 4] == pytest.approx(d[0, 0] * 2 + d[0, 1] * 0.5 + d[1, 0] * -1 + d[1, 1] * 1, rel=1e-14)


@pytest.mark.parametrize(
    ("shape", "out", "kernel", "stride", "padding"), [((2, 5, 4), 3, 3, 2, 1), ((3, 4, 4), 2, 2, 1, 0)]
)
def test_the_op_agrees_with_the_window_by_window_reference(
    shape: tuple[int, ...], out: int, kernel: int, stride: int, padding: int
) -> None:
    """The im2col op's z, per-sample ∂L/∂w and ∂L/∂x against conv.py's loops over windows."""
    rng = np.random.default_rng(4)
    weights, biases = rng.normal(size=(out, shape[0], kernel, kernel)), rng.normal(size=out)
    layer = {
        "type": "conv2d",
        "name": "c",
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "weights": weights.tolist(),
        "biases": biases.tolist(),
    }
    data = [{"x": [0.0] * math.prod(shape), "y": [1.0]}]
    spec = load(config([layer, {"type": "flatten"}, {"units": 1, "init": "he"}], shape, data=data))
    op = ConvLayer(spec.layers[0], spec.inputs)  # type: ignore[arg-type]
    x = rng.normal(size=(3, *shape))
    cache = op.forward(op.initial(), x.reshape(3, -1), 1)
    z = conv.forward(x, weights, biases, stride, padding)
    np.testing.assert_allclose(cache.z, z.reshape(3, -1), rtol=1e-12)
    delta = rng.normal(size=cache.z.shape)
    rec = op.backward_trace(op.record_forward(op.initial(), cache), delta, None, 1, False)
    assert rec.kernel_grad is not None and rec.downstream is not None  # type: ignore[attr-defined]
    reference = conv.weight_gradients(x, delta.reshape(z.shape), (kernel, kernel), stride, padding)
    np.testing.assert_allclose(rec.kernel_grad, reference, rtol=1e-12)  # type: ignore[attr-defined]
    below = conv.input_gradients(delta.reshape(z.shape), weights, shape[1:], stride, padding)  # type: ignore[arg-type]
    np.testing.assert_allclose(rec.downstream, below.reshape(3, -1), rtol=1e-12, atol=1e-14)
    grads, _norms, fast_down = op.backward_fast(op.initial(), cache, delta, 1.0, 1, False)
    np.testing.assert_allclose(grads[0], reference.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(grads[1], delta.reshape(z.shape).sum(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(fast_down, rec.downstream, rtol=1e-13)  # type: ignore[arg-type]


def test_the_column_map_reads_each_window_channel_by_channel_and_padding_past_the_end() -> None:
    # 2×2×2, kernel 2: one position, reading channel 1's x1 x2 x3 x4 then channel 2's x5 … x8
    np.testing.assert_array_equal(column_map((2, 2, 2), 2, 1, 0), [[0, 1, 2, 3, 4, 5, 6, 7]])
    # a sequence 1×3, kernel 2, padding 1: (pad, x1), (x2, x3)… with stride 2
    np.testing.assert_array_equal(column_map((1, 3), 2, 2, 1), [[3, 0], [1, 2]])


def input_gradients(spec: NetworkSpec, h: float = 1e-6) -> tuple[Any, Any]:
    """(the trace's ∂L/∂x of the batch loss: the first layer's δ over N, central differences of the loss by x)."""
    rec = Engine(spec).step(1, tuple(range(spec.data.rows)))
    analytic = rec.backward[-1].delta / spec.data.rows  # the first layer is an identity activation: z = x
    engine = Engine(spec)
    numeric = np.zeros_like(engine.x)
    for index in np.ndindex(engine.x.shape):
        keep = engine.x[index]
        engine.x[index] = keep + h
        up = float(engine.loss())
        engine.x[index] = keep - h
        down = float(engine.loss())
        engine.x[index] = keep
        numeric[index] = (up - down) / (2 * h)
    return analytic, numeric


def smooth_net(
    kind: str, inputs: tuple[int, ...], kernel: int, stride: int, padding: int, seed: int = 14
) -> NetworkSpec:
    rng = np.random.default_rng(seed)
    layer = {
        "type": kind,
        "name": "c",
        "out_channels": 2,
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "activation": "tanh",
        "init": {"method": "xavier", "seed": seed},
        "biases": [0.1, -0.2],
    }
    layers = [
        {"type": "activation", "name": "t", "activation": "identity"},
        layer,
        {"type": "flatten"},
        {"name": "o", "units": 1, "activation": "sigmoid", "init": {"method": "pytorch", "seed": seed}},
    ]
    data = [{"x": rng.normal(size=inputs).tolist(), "y": [float(i % 2)]} for i in range(3)]
    return load(config(layers, inputs, data=data, loss="bce"))


@pytest.mark.parametrize(
    ("kind", "inputs", "kernel", "stride", "padding"),
    [
        ("conv2d", (2, 4, 4), 3, 1, 1),
        ("conv2d", (1, 5, 4), 2, 2, 0),
        ("conv1d", (2, 6), 3, 2, 1),
        ("conv1d", (1, 5), 2, 1, 0),
    ],
)
def test_central_differences_agree_through_convolution(
    kind: str, inputs: tuple[int, ...], kernel: int, stride: int, padding: int
) -> None:
    """∂L/∂x (the transposed convolution) against central differences of the loss by each input, and
    every kernel weight's and bias's gradient by gradcheck."""
    spec = smooth_net(kind, inputs, kernel, stride, padding)
    analytic, numeric = input_gradients(spec)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)
    assert np.count_nonzero(analytic) > 0
    result = check_gradients(spec)
    conv_spec = spec.layers[1]
    assert isinstance(conv_spec, ConvSpec)
    assert len(result.checks) == conv_spec.weights.size + 2 + conv_spec.units + 1 and not result.failed


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv_networks())
def test_central_differences_agree_on_random_conv_networks(spec: NetworkSpec) -> None:
    result = check_gradients(spec)
    assert not result.failed, [c for c in result.checks if not c.ok]


def test_a_wrong_derivative_is_caught_by_the_central_differences(monkeypatch: pytest.MonkeyPatch) -> None:
    """The transposed convolution with the kernel flipped (a true convolution's backward, not torch's
    cross-correlation's) is not ∂L/∂x; nor is a weight gradient that forgets the stride."""
    spec = smooth_net("conv2d", (1, 4, 4), 3, 1, 1)
    good, numeric = input_gradients(spec)
    np.testing.assert_allclose(good, numeric, rtol=1e-6, atol=1e-9)
    original = ConvLayer.transposed
    monkeypatch.setattr(ConvLayer, "transposed", lambda self, d, w: original(self, d, w[..., ::-1, ::-1]))
    bad, _ = input_gradients(spec)
    assert not np.allclose(bad, numeric, rtol=1e-3, atol=1e-6)
    monkeypatch.undo()
    original_trace = ConvLayer.backward_trace

    def doubled(self: ConvLayer, *args: Any) -> Any:  # Σ δ × x over the positions counted twice
        rec = original_trace(self, *args)
        return replace(rec, kernel_grad=rec.kernel_grad * 2)

    monkeypatch.setattr(ConvLayer, "backward_trace", doubled)
    failed = check_gradients(spec).failed
    assert failed and {c.kind for c in failed} == {"weights"}


OPTIMIZERS = {
    "sgd": ({"name": "sgd", "learning_rate": 0.1}, lambda p, torch: torch.optim.SGD(p, lr=0.1)),
    "momentum": (
        {"name": "momentum", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
        lambda p, torch: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    ),
    "adam": ({"name": "adam", "learning_rate": 0.01}, lambda p, torch: torch.optim.Adam(p, lr=0.01)),
    "adamw": (
        {"name": "adamw", "learning_rate": 0.01, "weight_decay": 0.1},
        lambda p, torch: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
    ),
    "rmsprop": (
        {"name": "rmsprop", "learning_rate": 0.01, "centered": True},
        lambda p, torch: torch.optim.RMSprop(p, lr=0.01, centered=True),
    ),
}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("dims", [2, 1])
def test_torch_conv_pool_dense_over_three_steps(dims: int, optimizer: str) -> None:
    """Conv (stride 1, padding 1, ReLU) → max pool → flatten → Linear → softmax, cross-entropy, batches of
    2 over three steps: the loss, every updated parameter, and ∂L/∂x against torch's Conv2d/Conv1d."""
    torch = pytest.importorskip("torch", reason=TORCH)
    f64 = torch.float64
    rng = np.random.default_rng(21 + dims)
    shape = (2, 5, 5) if dims == 2 else (2, 7)
    kernel = (3, 2, 3, 3) if dims == 2 else (3, 2, 3)
    weights, biases = rng.normal(size=kernel) * 0.5, rng.normal(size=3) * 0.1
    conv_layer = {
        "type": f"conv{dims}d",
        "name": "c1",
        "out_channels": 3,
        "kernel_size": 3,
        "padding": 1,
        "activation": "relu",
        "weights": weights.tolist(),
        "biases": biases.tolist(),
    }
    pooled = 3 * (4 if dims == 2 else 3)  # 3×2×2, or 3×3
    dense_w, dense_b = rng.normal(size=(2, pooled)), rng.normal(size=2) * 0.1
    out = {"name": "o", "units": 2, "activation": "softmax", "weights": dense_w.tolist(), "biases": dense_b.tolist()}
    pool = {"type": f"maxpool{dims}d", "name": "p1", "kernel_size": 2}
    xs = rng.normal(size=(4, *shape))
    ys = np.eye(2)[[0, 1, 1, 0]]
    data = [{"x": x.tolist(), "y": y.tolist()} for x, y in zip(xs, ys, strict=True)]
    ours, make = OPTIMIZERS[optimizer]
    training = {"steps": 3, "batch_size": 2}
    spec = load(
        config(
            [conv_layer, pool, {"type": "flatten"}, out],
            shape,
            data=data,
            loss="cross_entropy",
            optimizer=ours,
            training=training,
        )
    )
    module = (torch.nn.Conv2d if dims == 2 else torch.nn.Conv1d)(2, 3, 3, padding=1, dtype=f64)
    linear = torch.nn.Linear(pooled, 2, dtype=f64)
    with torch.no_grad():
        module.weight.copy_(torch.tensor(weights, dtype=f64))
        module.bias.copy_(torch.tensor(biases, dtype=f64))
        linear.weight.copy_(torch.tensor(dense_w, dtype=f64))
        linear.bias.copy_(torch.tensor(dense_b, dtype=f64))
    pool_module = torch.nn.MaxPool2d(2) if dims == 2 else torch.nn.MaxPool1d(2)
    net = torch.nn.Sequential(module, torch.nn.ReLU(), pool_module, torch.nn.Flatten(), linear)
    opt = make(list(net.parameters()), torch)
    targets = torch.tensor(ys.argmax(axis=1))
    theirs_after = [module.weight, module.bias, linear.weight, linear.bias]
    for rec in Engine(spec).run():
        rows = list(rec.samples)
        x = torch.tensor(xs[rows], dtype=f64, requires_grad=True)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), targets[rows])
        loss.backward()
        grads = [p.grad.detach().numpy().copy() for p in theirs_after]  # type: ignore[union-attr]
        opt.step()
        assert rec.loss.value == pytest.approx(loss.item(), rel=1e-12)
        assert [u.old.shape for u in rec.updates] == [tuple(p.shape) for p in theirs_after]  # torch's shapes
        for u, grad, param in zip(rec.updates, grads, theirs_after, strict=True):
            np.testing.assert_allclose(u.grad, grad, rtol=1e-9, atol=1e-15)
            np.testing.assert_allclose(u.new, param.detach().numpy(), rtol=1e-9, atol=1e-15)
        assert x.grad is not None
        down = rec.backward[-1]  # the conv is the first layer: no ∂L/∂x; compare the fast mode's below
        assert down.downstream is None
    # the fast mode (train) gives the same parameters as the trace after three steps
    engine = Engine(spec)
    for number, rows in enumerate(engine.schedule, start=1):
        engine.fast_step(number, rows)
    for tensors, param in zip([*engine.tensors[0], *engine.tensors[3]], theirs_after, strict=True):
        np.testing.assert_allclose(tensors, param.detach().numpy(), rtol=1e-9, atol=1e-15)


def test_torch_agrees_on_the_input_gradient_through_a_strided_conv() -> None:
    torch = pytest.importorskip("torch", reason=TORCH)
    f64 = torch.float64
    spec = smooth_net("conv2d", (2, 5, 5), 3, 2, 1, seed=5)
    conv_spec = spec.layers[1]
    assert isinstance(conv_spec, ConvSpec) and conv_spec.biases is not None
    x = torch.tensor(spec.data.x.reshape(3, 2, 5, 5), dtype=f64, requires_grad=True)
    z = torch.nn.functional.conv2d(x, torch.tensor(conv_spec.weights), torch.tensor(conv_spec.biases), 2, 1)
    out_spec = spec.layers[-1]
    w_o = torch.tensor(out_spec.tensors()["weights"])
    b_o = torch.tensor(out_spec.tensors()["biases"])
    logits = torch.tanh(z).flatten(1) @ w_o.T + b_o
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(spec.data.y)).backward()
    analytic, _numeric = input_gradients(spec)
    assert x.grad is not None
    np.testing.assert_allclose(analytic, x.grad.reshape(3, -1).numpy(), rtol=1e-9, atol=1e-15)


def test_init_uses_torch_s_conv_fan_in_and_fan_out() -> None:
    """xavier: U(−a, a) with a = √(6 / (C_in·k² + C_out·k²)); he: σ = √(2 / (C_in·k²)) (torch.nn.init on a
    (C_out, C_in, k, k) tensor), drawn as (C_out, C_in·k²) and reshaped."""
    layer = {
        "type": "conv2d",
        "name": "c",
        "out_channels": 4,
        "kernel_size": 3,
        "init": {"method": "xavier", "seed": 3},
    }
    data = [{"x": [0.0] * 50, "y": [1.0]}]
    spec = load(config([layer, {"type": "flatten"}, {"units": 1, "init": "he"}], (2, 5, 5), data=data))
    conv_spec = spec.layers[0]
    assert isinstance(conv_spec, ConvSpec)
    assert conv.fans(4, 2, 3, 3) == (18, 36)
    expected, _b = init_module.initialise(init_module.InitSpec("xavier", 3), units=4, fan_in=18, fan_out=36)
    np.testing.assert_array_equal(conv_spec.weights, expected.reshape(4, 2, 3, 3))
    bound = math.sqrt(6 / (18 + 36))
    assert np.abs(conv_spec.weights).max() <= bound
    assert np.abs(conv_spec.weights).max() > math.sqrt(6 / (18 + 4 * 18)) * 0  # drawn, not zeros
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(conv_spec.weights.reshape(4, 18), rng.uniform(-bound, bound, size=(4, 18)))


@pytest.mark.parametrize(
    ("layer", "inputs", "words"),
    [
        (
            {"type": "conv2d", "name": "c1", "out_channels": 2, "kernel_size": 3, "init": "he"},
            (1, 2, 2),
            "network.layers[0].kernel_size: c1: kernel 3 does not fit an input of 2×2 with padding 0",
        ),
        (
            {"type": "conv1d", "name": "c1", "out_channels": 2, "kernel_size": 4, "init": "he"},
            (1, 2),
            "network.layers[0].kernel_size: c1: kernel 4 does not fit an input of length 2 with padding 0",
        ),
        (
            {"type": "conv2d", "name": "c", "out_channels": 2, "kernel_size": 2, "init": "he"},
            (1, 4),
            "network.layers[0].type: layer 'c' (conv2d) gets an input of shape 1×4; expected a shaped input [C, H, W]",
        ),
        (
            {"type": "conv2d", "name": "c", "kernel_size": 2, "weights": [[[[1, 2], [3, 4]], [[1, 2], [3, 4]]]]},
            (1, 3, 3),
            "network.layers[0].weights[0]: layer 'c' weights[0] has 2 entries; expected 1 (input channels)",
        ),
        (
            {"type": "conv2d", "name": "c", "kernel_size": 2, "weights": [[[[1, 2], [3]]]]},
            (1, 3, 3),
            "network.layers[0].weights[0][0][1]: layer 'c' weights[0][0][1] has 1 entry; expected 2 (kernel cells)",
        ),
        (
            {"type": "conv2d", "name": "c", "kernel_size": 2, "out_channels": 2, "weights": [[[[1, 2], [3, 4]]]]},
            (1, 3, 3),
            "network.layers[0].weights: layer 'c' weights has 1 entry; expected 2 (filters)",
        ),
        (
            {"type": "conv2d", "name": "c", "kernel_size": 2, "weights": [[[[1, 2], [3, 4]]]], "biases": [1, 2]},
            (1, 3, 3),
            "network.layers[0].biases: layer 'c' biases has 2 entries; expected 1 (out_channels)",
        ),
        (
            {"type": "conv2d", "name": "c", "kernel_size": 2},
            (1, 3, 3),
            "network.layers[0].out_channels: missing required field 'out_channels'",
        ),
        (
            {"type": "conv2d", "name": "c", "kernel_size": 2, "out_channels": 1},
            (1, 3, 3),
            "network.layers[0].weights: weights missing; expected weights [out][in][k][k] or init",
        ),
        (
            {"type": "conv2d", "name": "c", "kernel_size": 2, "out_channels": 1, "activation": "softmax", "init": "he"},
            (1, 3, 3),
            "network.layers[0].activation: softmax on conv2d layer 'c'; expected softmax only on a dense output layer",
        ),
        (
            {"type": "conv2d", "kernel_size": 0, "out_channels": 1, "init": "he"},
            (1, 3, 3),
            "network.layers[0].kernel_size: 0 is too small; expected a value >= 1",
        ),
    ],
)
def test_bad_conv_layers_are_located(layer: dict[str, Any], inputs: tuple[int, ...], words: str) -> None:
    value = config([layer, {"type": "flatten"}, {"name": "o", "units": 1, "init": "he"}], inputs)
    value["data"] = [{"x": [0.0] * math.prod(inputs), "y": [1]}]
    assert words in error(value)


def test_a_conv_layer_last_is_refused() -> None:
    value = config([CONV])
    assert "network.layers[0].type: conv2d layer 'c1' is the last; expected a layer after it" in error(value)


def test_a_kernel_that_does_not_fit_exits_2_with_one_located_line(tmp_path: Path) -> None:
    layer = {"type": "conv2d", "name": "c1", "out_channels": 2, "kernel_size": 3, "init": "he"}
    value = config([layer, {"type": "flatten"}, OUT | {"weights": [[1.0] * 8]}], (1, 2, 2))
    value["data"] = [{"x": [0.0] * 4, "y": [1]}]
    path = tmp_path / "net.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    result = invoke("trace", str(path))
    assert result.exit_code == 2
    assert re.fullmatch(
        r".*net\.json:\d+:\d+: network\.layers\[0\]\.kernel_size: c1: kernel 3 does not fit an input of 2×2 with "
        r"padding 0\n",
        result.stderr,
    )


def numbers(value: object) -> int:
    if isinstance(value, dict):
        return sum(numbers(v) for v in value.values())
    if isinstance(value, list):
        return sum(numbers(v) for v in value)
    return int(isinstance(value, int | float) and not isinstance(value, bool))


@pytest.mark.parametrize("dims", [2, 1])
def test_the_trace_counts_lays_out_and_recomputes_every_conv_quantity(dims: int) -> None:
    from backprop_cli import budget
    from backprop_cli.layout.rows import step_plan, step_sections
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render.json_out import dumps

    shape = (2, 4, 4) if dims == 2 else (2, 6)
    layer = {
        "type": f"conv{dims}d",
        "name": "c1",
        "out_channels": 2,
        "kernel_size": 2,
        "padding": 1,
        "stride": 2,
        "activation": "leaky_relu",
        "init": {"method": "he", "seed": 2},
        "biases": [0.5, -0.5],
    }
    layers = [{"type": "activation", "name": "r", "activation": "tanh"}, layer]
    layers += [{"type": f"maxpool{dims}d", "name": "p1", "kernel_size": 2}, {"type": "flatten"}]
    layers.append({"name": "o", "units": 1, "activation": "sigmoid", "init": {"method": "xavier", "seed": 2}})
    rng = np.random.default_rng(9)
    data = [{"x": rng.normal(size=shape).tolist(), "y": [i % 2]} for i in range(2)]
    spec = load(config(layers, shape, data=data, loss="bce", optimizer={"name": "adam"}, training={"steps": 2}))
    records = list(Engine(spec).run())
    built = []
    for rec in records:
        plans = list(step_plan(rec, NumberFormat()))
        built += [p.build() for p in plans]
        assert [p.count for p in plans] == [len(b.quantities) for b in built[-len(plans) :]]
    values = {q.name: q.value for b in built for q in b.quantities}
    assert len(values) == sum(q.kind != "again" for b in built for q in b.quantities)  # every name once
    for b in built:
        for q in b.quantities:
            assert all(f in values for f in q.factors), q.name
            if q.form.rule is not None and q.kind == "computed":
                assert q.recompute(values) == pytest.approx(q.value, rel=1e-12, abs=1e-15), q.name
    for rec in records:
        actual = numbers(json.loads(dumps(rec.to_dict())))
        assert actual <= budget.json_numbers(spec, len(rec.samples), budget.optimizer_states(spec)) <= actual + 10
    laid_out = sum(len(s.rows) for rec in records for s in step_sections(rec, NumberFormat()))
    assert budget.chosen_rows(spec, Filter()).rows == laid_out


def test_the_example_writes_out_each_sum_its_delta_and_the_kernel_gradients() -> None:
    text = invoke("trace", "conv_cs231n", "--width", "200").output
    assert "Forward · layer c1 (conv 3×3, relu)" in text
    # z of filter 1 at row 1, column 1 reads the padded corner: four real cells, padding left out
    assert re.search(
        r"c1\.z1_1_1\s+c1\.w1_1_2_2·x1 \+ c1\.w1_1_2_3·x2 \+ c1\.w1_1_3_2·x6 \+ c1\.w1_1_3_3·x7 \+ c1\.b1", text
    )
    assert re.search(r"c1\.delta1_2_2\s+c1\.dL_da1_2_2 × c1\.da_dz1_2_2", text)
    assert re.search(r"c1\.dL_dw1_1_2_2\s+c1\.delta1_1_1·x1 \+ c1\.delta1_1_2·x2 \+", text)
    assert "… (13 more terms)" in text  # 25 output positions, the first 12 written
    assert re.search(r"c1\.dL_da1_\d_\d\s+p1\.delta\d", text)  # the pool sends δ to conv's cells, named as them
    words = " ".join(text.split())
    assert "Σ over the 25 output positions of δ × the input cell it read there" in words
    assert "a sum of more than 12 terms writes its first 12" in words


def test_names_answers_check_and_explain_take_the_conv_quantities(tmp_path: Path) -> None:
    names = invoke("names", "conv_cs231n", "--layer", "c1")
    assert names.exit_code == 0, names.stderr
    assert re.search(r"^c1\.w2_1_3_3\.new\s+-0\.98", names.output, re.M)
    assert re.search(r"^c1\.z1_1_1\s+1\.2$", names.output, re.M)
    key = tmp_path / "key.yaml"
    assert invoke("answers", "conv_cs231n", "--layer", "c1", "-o", str(key)).exit_code == 0
    text = key.read_text(encoding="utf-8")
    assert "c1.dL_dw1_1_2_2" in text and "c1.z2_5_5" in text
    checked = invoke("check", str(key))
    assert checked.exit_code == 0, checked.output
    explained = invoke("explain", "conv_cs231n", "c1.dL_db1")
    assert explained.exit_code == 0, explained.stderr
    assert "c1.delta1_1_1 = c1.dL_da1_1_1 × c1.da_dz1_1_1" in explained.output, explained.output
    down = invoke("explain", "conv_cs231n", "c1.dL_da1_1_3", "--depth", "1")
    assert down.exit_code == 0 and "c1.dL_da1_1_3 = p1.delta2" in down.output, down.output


def test_exact_conv_gives_fractions_equal_to_the_float_run() -> None:
    """--exact: a conv with relu is rational; identity → conv (stride 2, padding 1) → avg pool → dense, mse."""
    layers = [
        {"type": "activation", "name": "r", "activation": "identity"},
        CONV | {"stride": 2, "padding": 1, "activation": "relu", "out_channels": 1},
        {"type": "avgpool2d", "name": "p", "kernel_size": 2},
        {"type": "flatten"},
        {"name": "o", "units": 1, "weights": [[0.5]]},
    ]
    spec = load(config(layers, data=[{"x": IMAGE, "y": [0.5]}]))
    exact, floats = Engine(spec, exact=True).step(1, (0,)), Engine(spec).step(1, (0,))
    assert exact.forward[1].z.dtype == object and all(isinstance(v, Fraction) for v in exact.forward[1].z[0])
    np.testing.assert_allclose(exact.forward[1].a.astype(float), floats.forward[1].a, rtol=1e-15)
    routed = exact.backward[-2].downstream
    assert routed is not None and all(isinstance(v, Fraction) for v in routed[0])
    np.testing.assert_allclose(routed.astype(float), floats.backward[-2].downstream, rtol=1e-14)  # type: ignore[arg-type]
    for e, f in zip(exact.updates, floats.updates, strict=True):
        np.testing.assert_allclose(e.new.astype(float), f.new, rtol=1e-14)


def test_gradcheck_train_save_and_the_json_in_torch_shapes(tmp_path: Path) -> None:
    from backprop_cli.loading.config import with_training
    from backprop_cli.nn.train import TrainingRun, trained_config

    result = invoke("gradcheck", "conv_cs231n")
    assert result.exit_code == 0 and "gradients agree" in result.output, result.output
    document = json.loads(invoke("trace", "conv_cs231n", "--format", "json").output)
    step = document["steps"][0]
    assert np.array(step["parameters"]["c1"]["weights"]).shape == (2, 1, 3, 3)  # torch's Conv2d.weight
    assert np.array(step["gradients"]["c1"]["weights"]).shape == (2, 1, 3, 3)
    assert np.array(step["updated"]["c1"]["biases"]).shape == (2,)
    spec = with_training(load(HAND), steps=4)
    run = TrainingRun(spec).run()
    saved = trained_config(run, tmp_path)
    entry = saved["network"]["layers"][0]
    assert {k: entry[k] for k in ("type", "name", "out_channels", "kernel_size", "stride", "padding")} == {
        "type": "conv2d",
        "name": "c1",
        "out_channels": 1,
        "kernel_size": 2,
        "stride": 1,
        "padding": 0,
    }
    again = load(saved)
    np.testing.assert_array_equal(again.layers[0].tensors()["weights"], run.tensors[0]["weights"])
    trained = invoke("train", "conv_cs231n", "--steps", "3")
    assert trained.exit_code == 0, trained.output


def test_the_graph_draws_each_output_from_the_cells_of_its_window() -> None:
    result = invoke("graph", "conv_cs231n", "--format", "dot")
    assert result.exit_code == 0, result.stderr
    node = re.search(r'(n\d+) \[label="c1\.a1_1_1 = relu\(c1\.z1_1_1\)', result.output)
    assert node, result.output[:2000]
    ids = {m.group(2): m.group(1) for m in re.finditer(r'(n\d+) \[label="(x\d+)\\n', result.output)}
    into = {m.group(1) for m in re.finditer(rf"(n\d+) -> {node.group(1)}\b", result.output)}
    assert into == {ids["x1"], ids["x2"], ids["x6"], ids["x7"]}
