"""The flatten layer and shaped inputs (``network.inputs: [C, H, W]``): loading (nested rows, located
shape errors), the layer by hand, central differences, torch (nn.Flatten → nn.Linear), and the trace."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_cli.loading.config import load_config_text
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from backprop_cli.nn.layers.flatten import FlattenSpec
from backprop_cli.nn.train import TrainingRun, trained_config
from tests.nn.layers.kit import error, invoke, load

OUT = {"name": "o", "units": 1, "activation": "sigmoid", "weights": [[0.1, -0.2, 0.3, 0.4]], "biases": [0.5]}
IMAGE = [[[1.0, 2.0], [3.0, 4.0]]]  # one channel, 2×2


def config(layers: list[dict[str, Any]], inputs: Any = (1, 2, 2), **rest: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "network": {"inputs": list(inputs) if isinstance(inputs, tuple) else inputs, "layers": layers},
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "data": [{"x": IMAGE, "y": [1]}, {"x": [0.5, -1.0, 2.0, 0.0], "y": [0]}],
    }
    return base | rest


FLAT = config([{"type": "flatten", "name": "f"}, OUT])


def test_a_shaped_input_is_its_entries_in_row_major_order_nested_or_not() -> None:
    spec = load(FLAT)
    assert spec.input_shape == (1, 2, 2)
    assert spec.inputs == ("x1", "x2", "x3", "x4")
    np.testing.assert_array_equal(spec.data.x, [[1, 2, 3, 4], [0.5, -1, 2, 0]])
    assert spec.normalised["network"]["inputs"] == [1, 2, 2]
    layer = spec.layers[0]
    assert isinstance(layer, FlattenSpec)
    assert (layer.units, layer.fan_in, layer.shape, layer.label) == (4, 4, (1, 2, 2), "flatten 1×2×2 → 4")
    # two channels of a sequence: [C][L], channel first
    seq = load(config([{"type": "flatten"}, OUT], (2, 2), data=[{"x": [[1, 2], [3, 4]], "y": [1]}]))
    np.testing.assert_array_equal(seq.data.x, [[1, 2, 3, 4]])


def test_by_hand_flatten_passes_values_up_and_gradients_down_unchanged() -> None:
    spec = load(config([{"type": "flatten", "name": "f"}, OUT], data=[{"x": IMAGE, "y": [1]}]))
    rec = next(iter(Engine(spec).run()))
    # z = 0.1·1 − 0.2·2 + 0.3·3 + 0.4·4 + 0.5 = 2.7; a = σ(2.7); δ = (a − 1)·a(1 − a)
    a = 1 / (1 + np.exp(-2.7))
    delta = (a - 1) * a * (1 - a)
    grads = {u.kind: u.grad for u in rec.updates if u.layer == "o"}
    np.testing.assert_allclose(grads["weights"], [[delta * 1, delta * 2, delta * 3, delta * 4]], rtol=1e-14)
    np.testing.assert_allclose(grads["biases"], [delta], rtol=1e-14)
    assert {u.layer for u in rec.updates} == {"o"}  # flatten has no parameters


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (
            config([OUT]),
            "network.layers[0]: layer 'o' (dense) gets an input of shape 1×2×2; expected a flat input: put a "
            "{type: flatten} layer before it",
        ),
        (  # batch norm on a shaped input is per channel (BatchNorm2d): one γ per channel
            config([{"type": "batchnorm", "gamma": [1, 2]}, {"type": "flatten"}, OUT]),
            "network.layers[0].gamma: layer 'layer1' gamma has 2 values; expected 1 (its channels: 1×2×2)",
        ),
        (
            config([{"type": "activation", "activation": "relu"}, OUT]),
            "network.layers[1]: layer 'o' (dense) gets an input of shape 1×2×2",
        ),
        (config([OUT], (1, 2, 0)), "network.inputs[2]: got 0; expected a shape of integers >= 1, [C, H, W] or [C, L]"),
        (config([OUT], [1, "x"]), "network.inputs[1]: got 'x' (a string); expected a shape of integers >= 1"),
        (config([OUT], (1, 2, 2, 2)), "network.inputs: a shape of 4 axes; expected [C, H, W] (an image) or [C, L]"),
        (
            config([{"type": "flatten"}, OUT], data=[{"x": [[[1, 2], [3]]], "y": [1]}]),
            "data[0].x[0][1]: has 1 item on axis 3; expected 2 (x has shape 1×2×2)",
        ),
        (
            config([{"type": "flatten"}, OUT], data=[{"x": [[1, 2], [3, 4]], "y": [1]}]),
            "data[0].x: has 2 items on axis 1; expected 1 (x has shape 1×2×2)",
        ),
        (
            config([{"type": "flatten"}, OUT], data=[{"x": [[[1, 2], [3, True]]], "y": [1]}]),
            "data[0].x[0][1][1]: got true (a boolean); expected a number",
        ),
        (
            config([{"type": "flatten"}, OUT], data=[{"x": [1, 2, 3], "y": [1]}]),
            "data[0].x: x has 3 values; expected 4 (the inputs: C·H·W of the shape 1×2×2, row-major, or nested",
        ),
        (
            config([{"type": "flatten", "units": 3}, OUT]),
            "network.layers[0].units: unknown field 'units'; expected one of type, name",
        ),
    ],
)
def test_bad_shapes_are_located(value: dict[str, Any], words: str) -> None:
    assert words in error(value)


def test_central_differences_agree_through_flatten_and_elementwise_layers_on_a_shaped_input() -> None:
    rng = np.random.default_rng(14)
    layers = [
        {"type": "activation", "name": "t", "activation": "tanh"},  # keeps the shape
        {"type": "flatten", "name": "f"},
        {"name": "h", "units": 3, "activation": "sigmoid", "weights": rng.normal(size=(3, 8)).tolist()},
        {"name": "o", "units": 1, "activation": "sigmoid", "weights": rng.normal(size=(1, 3)).tolist()},
    ]
    data = [{"x": rng.normal(size=(2, 2, 2)).tolist(), "y": [float(i % 2)]} for i in range(3)]
    result = check_gradients(load(config(layers, (2, 2, 2), data=data, loss="bce")))
    assert len(result.checks) == 31 and not result.failed  # 24 + 3, 3 + 1 parameters
    assert max(abs(c.analytic - c.numeric) for c in result.checks) < 1e-8


def test_torch_flatten_then_linear_over_three_steps() -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed; parity tests need `pip install torch==2.13.0`")
    spec = load(config([{"type": "flatten", "name": "f"}, OUT], training={"steps": 3}))
    f64 = torch.float64
    last = torch.nn.Linear(4, 1, dtype=f64)
    with torch.no_grad():
        last.weight.copy_(torch.tensor(OUT["weights"], dtype=f64))
        last.bias.copy_(torch.tensor(OUT["biases"], dtype=f64))
    net = torch.nn.Sequential(torch.nn.Flatten(), last, torch.nn.Sigmoid())
    opt = torch.optim.SGD(last.parameters(), lr=0.5)
    x = torch.tensor([IMAGE, [[[0.5, -1.0], [2.0, 0.0]]]], dtype=f64)  # (batch, C, H, W), as torch reads images
    y = torch.tensor([[1.0], [0.0]], dtype=f64)
    records = list(Engine(spec).run())
    assert len(records) == 3
    for rec in records:
        opt.zero_grad()
        loss = (0.5 * ((net(x) - y) ** 2).sum(dim=1)).mean()  # half_sse, mean over the batch
        loss.backward()
        opt.step()
        assert rec.loss.value == pytest.approx(loss.item(), rel=1e-12)
        for u, theirs in zip(rec.updates, [last.weight, last.bias], strict=True):
            np.testing.assert_allclose(u.new, theirs.detach().numpy(), rtol=1e-9, atol=1e-15)


def test_train_saves_a_shaped_config_that_loads_back(tmp_path: Path) -> None:
    from backprop_cli.loading.config import with_training

    spec = with_training(load(FLAT), steps=5)
    result = TrainingRun(spec).run()
    saved = trained_config(result, tmp_path)
    assert saved["network"]["layers"][0] == {"type": "flatten", "name": "f"}
    again = load(saved)
    assert again.input_shape == (1, 2, 2)
    np.testing.assert_array_equal(again.layers[1].tensors()["weights"], result.tensors[1]["weights"])


def test_the_trace_shows_flatten_as_the_identity_in_row_major_order(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(FLAT), encoding="utf-8")
    result = invoke("trace", str(path), "--width", "120", "--sample", "1")
    assert result.exit_code == 0, result.stderr
    text = result.output
    assert "Forward · layer f (flatten) · sample 1" in text
    assert re.search(r"input entry j of the 1×2×2 input, in\s+row-major order", text)
    assert re.search(r"sample1/f\.z3\s+x3\s+3\s+3", text)
    assert re.search(r"sample1/f\.a3\s+f\.z3\s+3\s+3", text)
    assert re.search(r"flatten 1×2×2 → 4", text)
    assert re.search(r"inputs\s+4\s+x1 … x4 \(1×2×2, row-major\)", text)


def test_a_csv_gives_a_shaped_input_its_c_h_w_feature_columns(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("p1,p2,p3,p4,t\n1,2,3,4,1\n0.5,-1,2,0,0\n", encoding="utf-8")
    value = FLAT | {"data": {"file": "rows.csv"}}
    spec = load_config_text(json.dumps(value), source="net.json", base_dir=tmp_path, fmt="json")
    np.testing.assert_array_equal(spec.data.x, [[1, 2, 3, 4], [0.5, -1, 2, 0]])
    np.testing.assert_array_equal(spec.data.y, [[1], [0]])
