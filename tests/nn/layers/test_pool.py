"""Pooling layers (maxpool2d, avgpool2d, maxpool1d, avgpool1d): by hand, torch's tie rule and padding,
central differences, torch parity over several steps, located config errors, and the trace with
names, answers, check and explain."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from backprop_cli.nn.layers.pool import PoolSpec, window_map
from tests.nn.layers.kit import TORCH, error, invoke, load

# one channel, 4×4: windows of 2×2 hold (1, 2, 3, 0.5), (0, −1, 2, 2), (−1, −2, 0, 1), (0.5, 0.25, 1.5, 1)
IMAGE = [[[1, 2, 0, -1], [3, 0.5, 2, 2], [-1, -2, 0.5, 0.25], [0, 1, 1.5, 1]]]
OUT = {"name": "o", "units": 1, "activation": "sigmoid", "weights": [[0.1, -0.2, 0.3, 0.4]], "biases": [0.05]}


def config(layers: list[dict[str, Any]], inputs: Any = (1, 4, 4), **rest: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "network": {"inputs": list(inputs), "layers": layers},
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "data": [{"x": IMAGE, "y": [1]}],
    }
    return base | rest


RELU = {"type": "activation", "name": "r", "activation": "relu"}  # r.a = relu(x): a layer below the pool
MAX = config([RELU, {"type": "maxpool2d", "name": "p1", "kernel_size": 2}, {"type": "flatten", "name": "f"}, OUT])


def test_the_windows_of_a_2x2_pool_read_the_input_row_major_and_padding_past_the_end() -> None:
    # 1×4×4 in 2×2 windows of stride 2: x1 x2 x5 x6 (0-based 0 1 4 5), then x3 x4 x7 x8, …
    np.testing.assert_array_equal(
        window_map((1, 4, 4), 2, 2, 0), [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]
    )
    # 1×2×2 padded by 1 in 2×2 windows of stride 2: each window holds one real cell (index 4 = padding)
    np.testing.assert_array_equal(
        window_map((1, 2, 2), 2, 2, 1), [[4, 4, 4, 0], [4, 4, 1, 4], [4, 2, 4, 4], [3, 4, 4, 4]]
    )
    # a sequence 2×5, kernel 3, stride 2: per channel windows (0 1 2), (2 3 4); channel 2 from index 5
    np.testing.assert_array_equal(window_map((2, 5), 3, 2, 0), [[0, 1, 2], [2, 3, 4], [5, 6, 7], [7, 8, 9]])


def test_by_hand_max_pooling_takes_each_window_s_largest_and_routes_delta_to_it() -> None:
    spec = load(MAX)
    pool = spec.layers[1]
    assert isinstance(pool, PoolSpec)
    assert (pool.units, pool.fan_in, pool.stride, pool.pooled_shape) == (4, 16, 2, (1, 2, 2))
    rec = next(iter(Engine(spec).run()))
    fwd = rec.forward[1]
    # relu(x) then max of each window: max(1, 2, 3, 0.5) = 3, max(0, 0, 2, 2) = 2, max(0, 0, 0, 1) = 1, 1.5
    np.testing.assert_array_equal(fwd.a, [[3, 2, 1, 1.5]])
    # winners (0-based): x5 = 3; x7 over x8 at the tie 2 = 2 (the first, as torch); x14 = 1; x15 = 1.5
    np.testing.assert_array_equal(fwd.winners, [[4, 6, 13, 14]])  # type: ignore[attr-defined]
    # z = 0.1·3 − 0.2·2 + 0.3·1 + 0.4·1.5 + 0.05 = 0.85; δ_o = σ(0.85) − 1 (bce); δ of the pool = δ_o·w
    a = 1 / (1 + np.exp(-0.85))
    pool_delta = (a - 1) * np.array([0.1, -0.2, 0.3, 0.4])
    np.testing.assert_allclose(rec.backward[2].delta[0], pool_delta, rtol=1e-14)  # the pool: δ = ∂L/∂a
    below = np.zeros(16)
    below[[4, 6, 13, 14]] = pool_delta  # to each window's winner, 0 to the others
    routed = rec.backward[2].downstream
    assert routed is not None
    np.testing.assert_allclose(routed[0], below, rtol=1e-14)
    assert {u.layer for u in rec.updates} == {"o"}  # no parameters in the pool


def test_by_hand_average_pooling_with_padding_counts_the_padding_cells() -> None:
    """A 1×2×2 input padded by 1 in 2×2 windows: every window holds one real cell and three zeros, so
    a = x/4 (torch's count_include_pad=True), and each cell gets δ/4 of its one window."""
    layers = [RELU, {"type": "avgpool2d", "name": "p", "kernel_size": 2, "padding": 1}, {"type": "flatten"}, OUT]
    spec = load(config(layers, (1, 2, 2), data=[{"x": [[[1.0, 2.0], [3.0, 4.0]]], "y": [0]}]))
    rec = next(iter(Engine(spec).run()))
    np.testing.assert_allclose(rec.forward[1].a, [[0.25, 0.5, 0.75, 1.0]], rtol=1e-15)
    z = 0.1 * 0.25 - 0.2 * 0.5 + 0.3 * 0.75 + 0.4 * 1.0 + 0.05  # 0.6
    delta = 1 / (1 + np.exp(-z)) * np.array([0.1, -0.2, 0.3, 0.4])  # bce, y = 0: δ_o = σ(z)
    routed = rec.backward[2].downstream
    assert routed is not None
    np.testing.assert_allclose(routed[0], delta / 4, rtol=1e-14)


def test_by_hand_overlapping_windows_add_their_deltas_in_a_cell() -> None:
    """A sequence 1×4, kernel 2, stride 1: windows (x1 x2), (x2 x3), (x3 x4). Max of (1, 5, 2, 0):
    5, 5, 2; x2 won two windows and gets δ1 + δ2. Avg: x2 and x3 get δ/2 from two windows each."""
    out = {"name": "o", "units": 1, "weights": [[1.0, 2.0, 3.0]], "biases": [0.0]}
    data = [{"x": [[1.0, 5.0, 2.0, 0.0]], "y": [0]}]
    for kind, expected in (("maxpool1d", [0, 1 + 2, 3, 0]), ("avgpool1d", [0.5, 1.5, 2.5, 1.5])):
        layers = [RELU, {"type": kind, "name": "p", "kernel_size": 2, "stride": 1}, {"type": "flatten"}, out]
        rec = next(iter(Engine(load(config(layers, (1, 4), data=data, loss="sse"))).run()))
        # sse: ∂L/∂z_o = 2·z_o; δ of the pool = 2·z_o·w
        z = float(rec.forward[-1].z[0, 0])
        routed = rec.backward[2].downstream
        assert routed is not None
        np.testing.assert_allclose(routed[0], 2 * z * np.array(expected, dtype=float), rtol=1e-14)
        assert z == pytest.approx(5 + 10 + 6 if kind == "maxpool1d" else 3 + 7 + 3, rel=1e-15)


def test_max_pooling_breaks_ties_as_torch_does() -> None:
    torch = pytest.importorskip("torch", reason=TORCH)
    window = [[[[2.0, 2.0], [2.0, 2.0]]], [[[1.0, 3.0], [3.0, 1.0]]]]
    x = torch.tensor(window, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.max_pool2d(x, 2).sum().backward()
    layers = [
        RELU,
        {"type": "maxpool2d", "name": "p", "kernel_size": 2},
        {"type": "flatten"},
        OUT | {"weights": [[1.0]]},
    ]
    data = [{"x": w, "y": [1]} for w in window]
    rec = next(iter(Engine(load(config(layers, (1, 2, 2), data=data))).run()))
    routed = rec.backward[2].downstream
    assert routed is not None
    np.testing.assert_array_equal(routed != 0, x.grad.reshape(2, 4).numpy() != 0)  # the first maximum takes δ


@pytest.mark.parametrize(
    ("layers", "inputs", "words"),
    [
        (
            [{"type": "maxpool2d", "name": "p1", "kernel_size": 2}],
            (1, 1, 1),
            "network.layers[0].kernel_size: p1: kernel 2 does not fit an input of 1×1",
        ),
        (
            [{"type": "avgpool2d", "name": "p1", "kernel_size": 4, "padding": 1}],
            (1, 1, 1),
            "network.layers[0].kernel_size: p1: kernel 4 does not fit an input of 1×1 with padding 1",
        ),
        (
            [{"type": "maxpool1d", "name": "p", "kernel_size": 2}],
            (1, 4, 4),
            "network.layers[0].type: layer 'p' (maxpool1d) gets an input of shape 1×4×4; expected a shaped input "
            "[C, L]",
        ),
        (
            [{"type": "maxpool2d", "name": "p", "kernel_size": 2}],
            4,
            "network.layers[0].type: layer 'p' (maxpool2d) gets an input of shape 4; expected a shaped input [C, H, W]",
        ),
        (
            [{"type": "maxpool2d", "name": "p", "kernel_size": 2, "padding": 2}],
            (1, 4, 4),
            "network.layers[0].padding: layer 'p' padding 2 is more than half the kernel 2; expected at most 1",
        ),
        (
            [{"type": "maxpool2d", "kernel_size": 0}],
            (1, 4, 4),
            "network.layers[0].kernel_size: 0 is too small; expected a value >= 1",
        ),
        (
            [{"type": "avgpool2d", "kernel_size": 2, "stride": 0}],
            (1, 4, 4),
            "network.layers[0].stride: 0 is too small; expected a value >= 1",
        ),
        (
            [{"type": "maxpool2d"}],
            (1, 4, 4),
            "network.layers[0].kernel_size: missing required field 'kernel_size'; expected the size of a window",
        ),
        (
            [{"type": "maxpool2d", "kernel_size": 2, "units": 2}],
            (1, 4, 4),
            "network.layers[0].units: unknown field 'units'; expected one of type, name, kernel_size, stride, padding",
        ),
    ],
)
def test_bad_pooling_layers_are_located(layers: list[dict[str, Any]], inputs: Any, words: str) -> None:
    value = config([*layers, {"type": "flatten"}, {"name": "o", "units": 1, "init": "he"}])
    value["network"]["inputs"] = list(inputs) if isinstance(inputs, tuple) else inputs
    value["data"] = [{"x": [0.0] * (int(np.prod(inputs))), "y": [1]}]
    assert words in error(value)


def test_a_bad_pooling_layer_exits_2_with_one_located_line(tmp_path: Path) -> None:
    value = config([{"type": "maxpool2d", "name": "p1", "kernel_size": 2}, {"type": "flatten"}, OUT], (1, 1, 1))
    value["data"] = [{"x": [0.0], "y": [1]}]
    path = tmp_path / "net.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    result = invoke("trace", str(path))
    assert result.exit_code == 2
    assert re.fullmatch(
        r".*net\.json:\d+:\d+: network\.layers\[0\]\.kernel_size: p1: kernel 2 does not fit an "
        r"input of 1×1\n",
        result.stderr,
    )


def input_gradients(spec: NetworkSpec, h: float = 1e-6) -> tuple[Any, Any]:
    """(the trace's ∂L/∂x of the batch loss: the first layer's δ over N, central differences of the loss by x)."""
    rec = Engine(spec).step(1, tuple(range(spec.data.rows)))
    analytic = rec.backward[-1].delta / spec.data.rows  # the first layer is an activation: z = x; L is a mean
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


@pytest.mark.parametrize(
    ("kind", "inputs", "kernel", "stride", "padding"),
    [
        ("maxpool2d", (2, 3, 3), 2, 1, 1),
        ("avgpool2d", (2, 3, 3), 2, 1, 1),
        ("maxpool2d", (1, 5, 4), 3, 2, 1),
        ("avgpool2d", (1, 5, 4), 3, 2, 0),
        ("maxpool1d", (2, 5), 2, 2, 1),
        ("avgpool1d", (2, 5), 3, 1, 1),
    ],
)
def test_central_differences_agree_through_pooling(
    kind: str, inputs: tuple[int, ...], kernel: int, stride: int, padding: int
) -> None:
    """∂L/∂x through tanh, the pool, flatten and two dense layers against central differences of the loss
    by each input, and every parameter's gradient by gradcheck."""
    rng = np.random.default_rng(14)
    pool = {"type": kind, "name": "p", "kernel_size": kernel, "stride": stride, "padding": padding}
    width = len(window_map(inputs, kernel, stride, padding))  # the pooled entries
    layers = [
        {"type": "activation", "name": "t", "activation": "tanh"},
        pool,
        {"type": "flatten"},
        {"name": "h", "units": 3, "activation": "sigmoid", "weights": rng.normal(size=(3, width)).tolist()},
        {"name": "o", "units": 1, "activation": "sigmoid", "weights": rng.normal(size=(1, 3)).tolist()},
    ]
    data = [{"x": rng.normal(size=inputs).tolist(), "y": [float(i % 2)]} for i in range(3)]
    spec = load(config(layers, inputs, data=data))
    analytic, numeric = input_gradients(spec)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)
    assert np.count_nonzero(analytic) > 0
    result = check_gradients(spec)
    assert len(result.checks) == 3 * width + 3 + 3 + 1 and not result.failed


def test_a_wrong_routing_is_caught_by_the_central_differences(monkeypatch: pytest.MonkeyPatch) -> None:
    """δ sent to the last maximum of each window instead of the first (or to every cell) is not ∂L/∂x."""
    from backprop_cli.nn.layers import pool

    layers = [{"type": "activation", "name": "t", "activation": "tanh"}, {"type": "maxpool2d", "kernel_size": 2}]
    layers += [{"type": "flatten"}, OUT]
    rng = np.random.default_rng(3)
    spec = load(config(layers, data=[{"x": rng.normal(size=(1, 4, 4)).tolist(), "y": [1]}]))
    good, numeric = input_gradients(spec)
    np.testing.assert_allclose(good, numeric, rtol=1e-6, atol=1e-9)
    monkeypatch.setattr(pool.PoolLayer, "route", lambda self, cache, delta: np.repeat(delta, 4, axis=1))
    bad, _ = input_gradients(spec)
    assert not np.allclose(bad, numeric, rtol=1e-3, atol=1e-6)


TORCH_POOLS = {
    "maxpool2d": ("MaxPool2d", (2, 4, 5)),
    "avgpool2d": ("AvgPool2d", (2, 4, 5)),
    "maxpool1d": ("MaxPool1d", (2, 7)),
    "avgpool1d": ("AvgPool1d", (2, 7)),
}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("kind", list(TORCH_POOLS))
def test_torch_pooling_over_three_steps(kind: str, optimizer: str) -> None:
    """tanh → pool (kernel 3, stride 2, padding 1) → flatten → Linear → sigmoid, bce, batches of 2 over
    three steps: the loss, every updated parameter and ∂L/∂x (the pool's routing) against torch."""
    torch = pytest.importorskip("torch", reason=TORCH)
    f64 = torch.float64
    name, shape = TORCH_POOLS[kind]
    rng = np.random.default_rng(7)
    pool = {"type": kind, "name": "p", "kernel_size": 3, "stride": 2, "padding": 1}
    width = len(window_map(shape, 3, 2, 1))
    weights, biases = rng.normal(size=(1, width)), rng.normal(size=1)
    out = {"name": "o", "units": 1, "activation": "sigmoid", "weights": weights.tolist(), "biases": biases.tolist()}
    xs = rng.normal(size=(4, *shape))
    data = [{"x": x.tolist(), "y": [float(i % 2)]} for i, x in enumerate(xs)]
    layers = [{"type": "activation", "name": "t", "activation": "tanh"}, pool, {"type": "flatten"}, out]
    spec = load(
        config(
            layers,
            shape,
            data=data,
            optimizer={"name": optimizer, "learning_rate": 0.1},
            training={"steps": 3, "batch_size": 2},
        )
    )
    last = torch.nn.Linear(width, 1, dtype=f64)
    with torch.no_grad():
        last.weight.copy_(torch.tensor(weights, dtype=f64))
        last.bias.copy_(torch.tensor(biases, dtype=f64))
    torch_pool = getattr(torch.nn, name)(3, stride=2, padding=1)
    net = torch.nn.Sequential(torch.nn.Tanh(), torch_pool, torch.nn.Flatten(), last)
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(last.parameters(), lr=0.1)
    y_all = torch.tensor([[float(i % 2)] for i in range(4)], dtype=f64)
    for rec in Engine(spec).run():
        rows = list(rec.samples)
        x = torch.tensor(xs[rows], dtype=f64, requires_grad=True)
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y_all[rows])
        loss.backward()
        opt.step()
        assert rec.loss.value == pytest.approx(loss.item(), rel=1e-12)
        for u, theirs in zip(rec.updates, [last.weight, last.bias], strict=True):
            np.testing.assert_allclose(u.new, theirs.detach().numpy(), rtol=1e-9, atol=1e-15)
        assert x.grad is not None
        ours = rec.backward[-1].delta / len(rows)  # tanh's δ = ∂L_s/∂x_s; the batch loss is their mean
        np.testing.assert_allclose(ours, x.grad.reshape(len(rows), -1).numpy(), rtol=1e-9, atol=1e-15)


def numbers(value: object) -> int:
    if isinstance(value, dict):
        return sum(numbers(v) for v in value.values())
    if isinstance(value, list):
        return sum(numbers(v) for v in value)
    return int(isinstance(value, int | float) and not isinstance(value, bool))


@pytest.mark.parametrize("kind", ["maxpool2d", "avgpool2d"])
def test_the_trace_counts_lays_out_and_recomputes_every_pooling_quantity(kind: str) -> None:
    from backprop_cli import budget
    from backprop_cli.layout.rows import step_plan, step_sections
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render.json_out import dumps

    layers = [RELU, {"type": kind, "name": "p1", "kernel_size": 2, "stride": 1}, {"type": "flatten"}]
    layers.append({"name": "o", "units": 1, "activation": "sigmoid", "init": {"method": "xavier", "seed": 2}})
    data = [{"x": IMAGE, "y": [1]}, {"x": (-np.array(IMAGE)).tolist(), "y": [0]}]
    spec = load(config(layers, data=data, optimizer={"name": "adam"}, training={"steps": 2}))
    records = list(Engine(spec).run())
    built = []
    for rec in records:
        plans = list(step_plan(rec, NumberFormat()))
        built += [p.build() for p in plans]
        assert [p.count for p in plans] == [len(b.quantities) for b in built[-len(plans) :]]
    values = {q.name: q.value for b in built for q in b.quantities}
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


def test_the_trace_writes_out_each_window_its_winner_and_the_routing(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(MAX), encoding="utf-8")
    text = invoke("trace", str(path), "--width", "140").output
    assert "Forward · layer p1 (max pool 2×2)" in text
    assert re.search(r"p1\.a1\s+max\(r\.a1, r\.a2, r\.a5, r\.a6\)\s+max\(1, 2, 3, 0\.5\)\s+3\n", text), text
    assert re.search(r"p1\.win2\s+argmax\(r\.a3, r\.a4, r\.a7, r\.a8\)\s+argmax\(0, 0, 2, 2\)\s+3\n", text)
    words = " ".join(text.split())  # the notes wrap
    assert "won: p1.a1 ← r.a5; p1.a2 ← r.a7;" in words
    assert "ties (p1.a2: r.a7 over r.a8): the first in row-major order wins" in words
    assert re.search(r"r\.dL_da5\s+p1\.delta1\s", text)
    assert re.search(r"r\.dL_da8\s+0 \(won no window\)", text)
    document = json.loads(invoke("trace", str(path), "--format", "json").output)
    step = document["steps"][0]
    assert set(step["parameters"]) == {"o"}  # no parameters of the pool in the JSON
    assert step["per_sample"][0]["forward"]["p1"]["won"] == [5, 7, 14, 15]  # r.a5, r.a7 (the tie), …
    assert step["per_sample"][0]["backward"]["p1"]["dL_da_below"][4] != 0


def test_names_answers_check_and_explain_take_the_pooling_quantities(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(MAX), encoding="utf-8")
    names = invoke("names", str(path), "--layer", "p1")
    assert names.exit_code == 0, names.stderr
    assert re.search(r"^p1\.win1\s+3$", names.output, re.M) and re.search(r"^p1\.a4\s+1\.5$", names.output, re.M)
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(path), "--layer", "p1", "-o", str(key)).exit_code == 0
    assert "p1.win1" in key.read_text(encoding="utf-8")
    assert invoke("check", str(key)).exit_code == 0
    explained = invoke("explain", str(path), "o.dL_dw1_1")
    assert explained.exit_code == 0, explained.stderr
    assert "f.a1 = f.z1" in explained.output and "p1.a1 = max(r.a1, r.a2, r.a5, r.a6)" in explained.output
    down = invoke("explain", str(path), "r.delta5", "--depth", "2")
    assert down.exit_code == 0 and "r.dL_da5 = p1.delta1" in down.output, down.output


def test_exact_pooling_gives_fractions_equal_to_the_float_run() -> None:
    """--exact: max and mean are rational; relu → max pool → avg pool → flatten → dense, mse."""
    layers = [
        RELU,
        {"type": "maxpool2d", "name": "p1", "kernel_size": 2, "stride": 1},
        {"type": "avgpool2d", "name": "p2", "kernel_size": 2, "padding": 1},
        {"type": "flatten"},
        {"name": "o", "units": 1, "weights": [[0.5, -0.25, 0.125, 1.0]]},  # 4×4 → 3×3 → 2×2
    ]
    spec = load(config(layers, loss="mse", data=[{"x": IMAGE, "y": [0.5]}]))
    exact, floats = Engine(spec, exact=True).step(1, (0,)), Engine(spec).step(1, (0,))
    assert exact.forward[2].a.dtype == object
    np.testing.assert_allclose(exact.forward[2].a.astype(float), floats.forward[2].a, rtol=1e-15)
    routed = exact.backward[-2].downstream  # ∂L/∂(r.a), through both pools, as fractions
    assert routed is not None and all(isinstance(v, Fraction) for v in routed[0])
    np.testing.assert_allclose(routed.astype(float), floats.backward[-2].downstream, rtol=1e-14)  # type: ignore[arg-type]
    np.testing.assert_allclose(exact.updates[0].new.astype(float), floats.updates[0].new, rtol=1e-14)


def test_gradcheck_and_train_run_a_pooling_network_and_save_it(tmp_path: Path) -> None:
    from backprop_cli.loading.config import with_training
    from backprop_cli.nn.train import TrainingRun, trained_config

    for name in ("pool_small", "batchnorm2d_pool"):
        result = invoke("gradcheck", name)
        assert result.exit_code == 0 and "gradients agree" in result.output, result.output
    spec = with_training(load(MAX), steps=5)
    run = TrainingRun(spec).run()
    saved = trained_config(run, tmp_path)
    assert saved["network"]["layers"][1] == {
        "type": "maxpool2d",
        "name": "p1",
        "kernel_size": 2,
        "stride": 2,
        "padding": 0,
    }
    again = load(saved)
    np.testing.assert_array_equal(again.layers[-1].tensors()["weights"], run.tensors[-1]["weights"])


def test_a_long_note_names_the_first_windows_and_counts_the_rest() -> None:
    from backprop_cli.nn.layers.pool import NOTE_ITEMS, _listed

    items = [f"p.a{o} ← x{o}" for o in range(1, 20)]
    assert _listed(items[:3]) == "p.a1 ← x1; p.a2 ← x2; p.a3 ← x3"
    assert _listed(items).endswith(f"p.a{NOTE_ITEMS} ← x{NOTE_ITEMS}; … {19 - NOTE_ITEMS} more")


def test_the_graph_draws_each_window_s_cells_into_its_pooled_value(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(MAX), encoding="utf-8")
    result = invoke("graph", str(path), "--format", "dot")
    assert result.exit_code == 0, result.stderr
    text = result.output
    node = re.search(r'(n\d+) \[label="p1\.a1 = max\(r\.a1, r\.a2, r\.a5, r\.a6\) ← r\.a5', text)
    assert node, text
    ids = {m.group(2): m.group(1) for m in re.finditer(r'(n\d+) \[label="(r\.a\d+) = relu', text)}
    into = {m.group(1) for m in re.finditer(rf"(n\d+) -> {node.group(1)}\b", text)}
    assert into == {ids["r.a1"], ids["r.a2"], ids["r.a5"], ids["r.a6"]}
