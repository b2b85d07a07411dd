"""The standalone activation layer: by hand, against the same activation inside a dense layer, by
central differences, against torch (nn.Linear → nn.ReLU/Tanh/… → nn.Linear), and through the trace."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_cli.errors import ConfigError
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from backprop_cli.nn.layers.activation import ActivationSpec
from backprop_cli.nn.train import TrainingRun, trained_config
from tests.nn.layers.kit import error, invoke, load

H = {"name": "h", "units": 2, "weights": [[0.5, -0.4], [0.3, 0.8]], "biases": [0.1, -0.2]}
OUT = {"name": "o", "units": 1, "activation": "sigmoid", "weights": [[0.7, -0.6]], "biases": [0.05]}
DATA = [{"x": [1.0, 2.0], "y": [1]}, {"x": [-1.0, 0.5], "y": [0]}]


def config(layers: list[dict[str, Any]], **rest: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "network": {"inputs": 2, "layers": layers},
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "data": DATA,
    }
    return base | rest


RELU = config([H, {"type": "activation", "name": "r", "activation": "relu"}, OUT])


def test_the_spec_reads_its_width_from_the_layer_below() -> None:
    spec = load(RELU)
    layer = spec.layers[1]
    assert isinstance(layer, ActivationSpec)
    assert (layer.kind, layer.units, layer.fan_in, layer.parameter_count, layer.tensors()) == (
        "activation",
        2,
        2,
        0,
        {},
    )
    assert spec.parameter_count == 9
    assert spec.normalised["network"]["layers"][1] == {"type": "activation", "name": "r", "activation": "relu"}


def test_by_hand_relu_zeroes_the_negative_sum_and_its_gradient() -> None:
    """Sample 1: h.z = (0.5 − 0.8 + 0.1, 0.3 + 1.6 − 0.2) = (−0.2, 1.7); r.a = (0, 1.7);
    o.z = −0.6·1.7 + 0.05 = −0.97; δ_o = σ(−0.97) − 1; r.dL_da = δ_o·(0.7, −0.6), r.δ = (0, −0.6·δ_o)."""
    rec = Engine(load(RELU)).step(1, (0, 1))
    h, r, o = rec.forward
    np.testing.assert_allclose(h.a[0], [-0.2, 1.7], rtol=1e-15)
    assert r.weights is None and r.input_names == ("h.a1", "h.a2")
    np.testing.assert_array_equal(r.z[0], h.a[0])
    np.testing.assert_allclose(r.a[0], [0.0, 1.7], rtol=1e-15)
    np.testing.assert_allclose(o.z[0], [-0.97], rtol=1e-15)
    delta_o = 1 / (1 + math.exp(0.97)) - 1
    back_o, back_r, back_h = rec.backward
    np.testing.assert_allclose(back_o.delta[0], [delta_o], rtol=1e-15)
    np.testing.assert_allclose(back_r.upstream[0], [0.7 * delta_o, -0.6 * delta_o], rtol=1e-15)
    np.testing.assert_allclose(back_r.local[0], [0.0, 1.0])
    np.testing.assert_allclose(back_r.delta[0], [0.0, -0.6 * delta_o], rtol=1e-15)
    assert back_r.grad_w is None and back_r.grad_b is None
    np.testing.assert_array_equal(back_h.upstream, back_r.delta)  # ∂L/∂(input) = δ: z is the input
    assert [u.layer for u in rec.updates] == ["h", "h", "o", "o"]  # nothing to update in r


ACTIVATIONS = [("relu", None), ("leaky_relu", 0.2), ("sigmoid", None), ("tanh", None), ("identity", None)]


def _pair(activation: str, slope: float | None, optimizer: dict[str, Any]) -> tuple[NetworkSpec, NetworkSpec]:
    """The same network twice: the activation in the dense layer h, and as a layer of its own after h."""
    extra = {} if slope is None else {"negative_slope": slope}
    fused = config([H | {"activation": activation} | extra, OUT], optimizer=optimizer, training={"steps": 3})
    apart = config(
        [H, {"type": "activation", "name": "act", "activation": activation} | extra, OUT],
        optimizer=optimizer,
        training={"steps": 3},
    )
    return load(fused), load(apart)


@pytest.mark.parametrize(("activation", "slope"), ACTIVATIONS)
@pytest.mark.parametrize(
    "optimizer",
    [{"name": "sgd", "learning_rate": 0.5}, {"name": "adam", "learning_rate": 0.1}, {"name": "momentum"}],
    ids=["sgd", "adam", "momentum"],
)
def test_an_activation_layer_gives_what_the_same_activation_in_the_dense_layer_gives(
    activation: str, slope: float | None, optimizer: dict[str, Any]
) -> None:
    fused, apart = _pair(activation, slope, optimizer)
    for one, other in zip(Engine(fused).run(), Engine(apart).run(), strict=True):
        assert other.loss.value == pytest.approx(one.loss.value, rel=1e-14)
        assert [(u.layer, u.kind) for u in one.updates] == [(u.layer, u.kind) for u in other.updates]
        for u, v in zip(one.updates, other.updates, strict=True):
            np.testing.assert_allclose(v.grad, u.grad, rtol=1e-13, atol=1e-16)
            np.testing.assert_allclose(v.new, u.new, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(other.forward[1].a, one.forward[0].a, rtol=1e-15)


@pytest.mark.parametrize(("activation", "slope"), ACTIVATIONS)
def test_fast_mode_agrees_with_the_trace(activation: str, slope: float | None) -> None:
    _, apart = _pair(activation, slope, {"name": "adam", "learning_rate": 0.1})
    traced = list(Engine(apart).run())
    fast = Engine(apart)
    for number, rows in enumerate(fast.schedule, start=1):
        fast.fast_step(number, rows)
    for u, tensor in zip(traced[-1].updates, [t for ts in fast.tensors for t in ts], strict=True):
        np.testing.assert_allclose(tensor, u.new, rtol=1e-12)


def test_softmax_as_the_last_layer_pairs_with_cross_entropy() -> None:
    """Linear → Softmax with cross-entropy: δ is the combined a − y, as for a softmax dense layer."""
    rows = [{"x": [1.0, 2.0], "y": [0, 1]}, {"x": [-1.0, 0.5], "y": [1, 0]}]
    fused = config([H | {"activation": "softmax"}], loss="cross_entropy", data=rows, training={"steps": 2})
    apart = config(
        [H, {"type": "activation", "name": "sm", "activation": "softmax"}],
        loss="cross_entropy",
        data=rows,
        training={"steps": 2},
    )
    for one, other in zip(Engine(load(fused)).run(), Engine(load(apart)).run(), strict=True):
        assert other.loss.value == pytest.approx(one.loss.value, rel=1e-14)
        assert other.backward[0].combined == one.backward[0].combined is not None
        for u, v in zip(one.updates, other.updates, strict=True):
            np.testing.assert_allclose(v.new, u.new, rtol=1e-13)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu"])
def test_central_differences_agree_on_a_network_of_mixed_layers(activation: str) -> None:
    rng = np.random.default_rng(5)
    layers = [
        {"name": "a", "units": 3, "weights": rng.normal(size=(3, 2)).tolist(), "biases": rng.normal(size=3).tolist()},
        {"type": "activation", "name": "f", "activation": activation},
        {"name": "b", "units": 2, "activation": "tanh", "weights": rng.normal(size=(2, 3)).tolist()},
        {"type": "activation", "name": "g", "activation": "sigmoid"},
        {"name": "c", "units": 1, "activation": "sigmoid", "weights": rng.normal(size=(1, 2)).tolist()},
    ]
    data = [{"x": rng.normal(size=2).tolist(), "y": [float(i % 2)]} for i in range(4)]
    result = check_gradients(load(config(layers, data=data)))
    assert len(result.checks) == 20 and not result.failed  # 6 + 3, 6 + 2, 2 + 1 parameters
    assert max(abs(c.analytic - c.numeric) for c in result.checks) < 1e-8


def test_train_runs_it_and_saves_a_config_that_loads_back(tmp_path: Path) -> None:
    spec = load(
        config([H, {"type": "activation", "name": "r", "activation": "leaky_relu", "negative_slope": 0.1}, OUT])
    )
    result = TrainingRun(replace_steps(spec, 20)).run()
    assert result.loss_final < result.loss_before
    assert [s.layer for s in result.first_step] == ["h", "o"]  # the diagnostics are of layers with weights
    assert set(result.parameters()) == {"h", "o"}
    saved = trained_config(result, tmp_path)
    assert saved["network"]["layers"][1] == {
        "type": "activation",
        "name": "r",
        "activation": "leaky_relu",
        "negative_slope": 0.1,
    }
    again = load(saved)
    np.testing.assert_array_equal(again.layers[2].tensors()["weights"], result.tensors[2]["weights"])


def replace_steps(spec: NetworkSpec, steps: int) -> NetworkSpec:
    from backprop_cli.loading.config import with_training

    return with_training(spec, steps=steps)


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        (
            {"type": "activation", "activation": "softmax"},
            "network.layers[1].activation: softmax on layer 'layer2', which is not the last",
        ),
        (
            {"type": "activation", "activation": "relu", "negative_slope": 0.1},
            "network.layers[1].negative_slope: negative_slope with activation 'relu'; expected it only with leaky_relu",
        ),
        (
            {"type": "activation", "activation": "relu", "units": 2},
            "network.layers[1].units: unknown field 'units'; expected one of type, name, activation, negative_slope",
        ),
        ({"type": "activation"}, "network.layers[1].activation: missing required field 'activation'"),
        ({"type": "activation", "activation": "relux"}, "unknown activation 'relux' (did you mean 'relu'?)"),
        ({"type": "activaton"}, "unknown layer type 'activaton' (did you mean 'activation'?); expected one of dense"),
    ],
)
def test_bad_activation_layers_are_located(layer: dict[str, Any], words: str) -> None:
    assert words in error(config([H, layer, OUT]))


def test_exact_runs_a_relu_layer_and_refuses_a_sigmoid_layer_naming_it() -> None:
    relu = config([H, {"type": "activation", "name": "r", "activation": "relu"}, OUT | {"activation": "identity"}])
    relu |= {"loss": "mse", "data": [{"x": [1.0, 2.0], "y": [1]}]}
    exact = Engine(load(relu), exact=True).step(1, (0,))
    floats = Engine(load(relu)).step(1, (0,))
    for u, v in zip(exact.updates, floats.updates, strict=True):
        np.testing.assert_allclose(np.array(u.new, dtype=float), v.new, rtol=1e-15)
    sigmoid = config(
        [H, {"type": "activation", "name": "s", "activation": "sigmoid"}, OUT | {"activation": "identity"}]
    )
    sigmoid["loss"] = "mse"
    with pytest.raises(ConfigError, match="the sigmoid activation of layer s is not rational"):
        Engine(load(sigmoid), exact=True)


@pytest.mark.parametrize(("activation", "slope"), ACTIVATIONS)
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_torch_linear_then_an_activation_module_then_linear_over_three_steps(
    activation: str, slope: float | None, optimizer: str
) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed; parity tests need `pip install torch==2.13.0`")
    _, spec = _pair(activation, slope, {"name": optimizer, "learning_rate": 0.05})
    module = {
        "relu": torch.nn.ReLU(),
        "leaky_relu": torch.nn.LeakyReLU(slope or 0.01),
        "sigmoid": torch.nn.Sigmoid(),
        "tanh": torch.nn.Tanh(),
        "identity": torch.nn.Identity(),
    }[activation]
    f64 = torch.float64
    first, last = torch.nn.Linear(2, 2, dtype=f64), torch.nn.Linear(2, 1, dtype=f64)
    with torch.no_grad():
        first.weight.copy_(torch.tensor(H["weights"], dtype=f64))
        first.bias.copy_(torch.tensor(H["biases"], dtype=f64))
        last.weight.copy_(torch.tensor(OUT["weights"], dtype=f64))
        last.bias.copy_(torch.tensor(OUT["biases"], dtype=f64))
    net = torch.nn.Sequential(first, module, last)
    params = [first.weight, first.bias, last.weight, last.bias]
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}[optimizer](params, lr=0.05)
    x = torch.tensor([row["x"] for row in DATA], dtype=f64)
    y = torch.tensor([row["y"] for row in DATA], dtype=f64)
    for rec in Engine(spec).run():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
        loss.backward()
        opt.step()
        assert rec.loss.value == pytest.approx(loss.item(), rel=1e-12)
        for u, theirs in zip(rec.updates, params, strict=True):
            np.testing.assert_allclose(u.new, theirs.detach().numpy(), rtol=1e-9, atol=1e-15)


# ---------------------------------------------------------------- through the commands, by its quantities


def test_the_trace_shows_z_as_the_input_and_passes_delta_down() -> None:
    result = invoke("trace", "relu_as_a_layer", "--width", "120", "--sample", "1")
    assert result.exit_code == 0, result.stderr
    text = result.output
    assert "Forward · layer r (relu)" in text and "z = the layer's input; a = max(0, z)" in text
    assert re.search(r"sample1/r\.z1\s+h\.a1\s+-0\.2\s+-0\.2", text)
    assert re.search(r"sample1/h\.dL_da2\s+r\.delta2\s+0\.435072\s+0\.435072", text)
    assert not re.search(r"\br\.(dL_dw|w|b)\d", text)  # no parameters, no gradients of any


def test_names_and_explain_walk_through_the_activation_layer() -> None:
    names = invoke("names", "relu_as_a_layer", "--layer", "r", "--format", "json")
    assert names.exit_code == 0, names.stderr
    listed = {entry["name"] for entry in json.loads(names.output)["names"]}
    assert {"sample1/r.z1", "sample1/r.a2", "sample2/r.da_dz1", "sample1/r.delta2", "sample1/r.dL_da1"} <= listed
    explained = invoke("explain", "relu_as_a_layer", "sample1/h.dL_dw2_1", "--depth", "3")
    assert explained.exit_code == 0, explained.stderr
    assert "sample1/h.dL_da2 = r.delta2 = 0.435072" in explained.output
    assert "sample1/r.delta2 = r.dL_da2 × r.da_dz2 = 0.435072 × 1 = 0.435072" in explained.output


def test_answers_and_check_grade_the_activation_layer(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    made = invoke("answers", "relu_as_a_layer", "--phase", "backward", "--layer", "r", "-o", str(key))
    assert made.exit_code == 0, made.stderr
    assert invoke("check", str(key)).exit_code == 0
    text = key.read_text(encoding="utf-8")
    key.write_text(re.sub(r"(?m)^  sample1/r\.delta2: .*$", "  sample1/r.delta2: 0.5", text), encoding="utf-8")
    graded = invoke("check", str(key), "--format", "json")
    assert graded.exit_code == 1
    report = json.loads(graded.stdout)
    assert [a["name"] for a in report["answers"] if a["verdict"] == "wrong"] == ["sample1/r.delta2"]
