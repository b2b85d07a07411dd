"""The config loader: happy paths, and every kind of bad input with its located one-line message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from backprop_cli.errors import ConfigError, ExitCode
from backprop_cli.loading.config import config_json_schema, load_config, load_config_text
from backprop_cli.loading.examples import example_names, example_path
from backprop_cli.model.spec import NetworkSpec

# The classic 2-2-2 network; line numbers below refer to this text.
BASE = """\
network:
  inputs: [i1, i2]
  layers:
    - name: h
      units: 2
      activation: sigmoid
      weights: [[0.15, 0.20], [0.25, 0.30]]
      biases: [0.35, 0.35]
    - name: o
      units: 2
      activation: sigmoid
      weights: [[0.40, 0.45], [0.50, 0.55]]
      biases: [0.60, 0.60]
loss: half_sse
optimizer: {name: sgd, learning_rate: 0.5}
data:
  - {x: [0.05, 0.10], y: [0.01, 0.99]}
"""

BASE_JSON = """\
{
  "$schema": "../schema/backprop-config.schema.json",
  "network": {
    "inputs": ["i1", "i2"],
    "layers": [
      {"name": "h", "units": 2, "activation": "sigmoid",
       "weights": [[0.15, 0.20], [0.25, 0.30]], "biases": [0.35, 0.35]},
      {"name": "o", "units": 2, "activation": "sigmoid",
       "weights": [[0.40, 0.45], [0.50, 0.55]], "biases": [0.60, 0.60]}
    ]
  },
  "loss": "half_sse",
  "optimizer": {"name": "sgd", "learning_rate": 0.5},
  "data": [{"x": [0.05, 0.10], "y": [0.01, 0.99]}]
}
"""


def load(text: str, source: str = "net.yaml", **kwargs: object) -> NetworkSpec:
    return load_config_text(text, source=source, base_dir=Path("."), **kwargs)  # type: ignore[arg-type]


def error(text: str, source: str = "net.yaml") -> str:
    with pytest.raises(ConfigError) as info:
        load(text, source)
    message = str(info.value)
    assert "\n" not in message and info.value.exit_code == ExitCode.BAD_INPUT
    return message


def edit(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_classic_network_loads_with_every_value() -> None:
    spec = load(BASE)
    assert spec.inputs == ("i1", "i2")
    assert [layer.name for layer in spec.layers] == ["h", "o"]
    np.testing.assert_array_equal(spec.layers[0].weights, [[0.15, 0.20], [0.25, 0.30]])
    np.testing.assert_array_equal(spec.layers[1].biases, [0.60, 0.60])  # type: ignore[arg-type]
    assert spec.layers[0].weights.dtype == np.float64
    assert spec.loss.name == "half_sse" and spec.loss.reduction == "mean"
    assert spec.optimizer.name == "sgd" and spec.optimizer.learning_rate == 0.5
    assert spec.data.x.shape == (1, 2) and spec.data.y.shape == (1, 2) and spec.data.source == "inline"
    assert spec.source == "net.yaml" and spec.parameter_count == 12


def test_yaml_and_json_give_the_same_spec() -> None:
    from_yaml, from_json = load(BASE), load(BASE_JSON, "net.json")
    assert from_yaml.normalised == from_json.normalised
    for a, b in zip(from_yaml.layers, from_json.layers, strict=True):
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.biases, b.biases)  # type: ignore[arg-type]
    np.testing.assert_array_equal(from_yaml.data.x, from_json.data.x)
    np.testing.assert_array_equal(from_yaml.data.y, from_json.data.y)
    assert from_json.source == "net.json"


def test_format_is_guessed_from_the_text_when_not_given() -> None:
    assert load(BASE_JSON, "stdin").layers[0].name == "h"  # starts with '{': parsed as JSON
    assert "non-finite number 'NaN'" in error(edit("0.5}", "NaN}", BASE_JSON), "stdin")


def test_normalised_is_complete_and_json_serialisable() -> None:
    spec = load(edit("data:", "description: classic\ntraining: {batch_size: 5}\ndata:"))
    normalised = json.loads(json.dumps(spec.normalised))
    assert normalised == spec.normalised
    assert set(normalised) == {"description", "network", "loss", "optimizer", "data", "training"}
    assert normalised["description"] == "classic"
    assert normalised["network"]["inputs"] == ["i1", "i2"]
    assert normalised["network"]["layers"][0] == {
        "name": "h",
        "units": 2,
        "fan_in": 2,
        "activation": "sigmoid",
        "bias": True,
        "weights": [[0.15, 0.20], [0.25, 0.30]],
        "biases": [0.35, 0.35],
        "frozen": [],
        "init": None,
    }
    assert normalised["loss"] == {"name": "half_sse", "reduction": "mean"}
    # every option of the optimizer, torch.optim's defaults filled in
    assert normalised["optimizer"] == {
        "name": "sgd",
        "learning_rate": 0.5,
        "momentum": 0.0,
        "dampening": 0.0,
        "weight_decay": 0.0,
        "nesterov": False,
    }
    assert normalised["data"] == {"source": "inline", "rows": 1}
    # defaults filled in; the batch size is capped at the number of rows
    assert normalised["training"] == {"steps": 1, "epochs": None, "batch_size": 1, "shuffle": False, "seed": None}


def test_defaults_and_shorthands() -> None:
    text = """\
network:
  inputs: 1
  layers:
    - weights: [[2.0]]
      activation: linear
loss: {name: mse, reduction: sum}
optimizer: {name: sgd, learning_rate: 0.1}
data:
  - {x: 3, y: 10}
training: {epochs: 2, shuffle: true, seed: 3}
"""
    spec = load(text)
    assert spec.inputs == ("x1",)
    layer = spec.layers[0]
    assert (layer.name, layer.units, layer.activation, layer.frozen) == ("layer1", 1, "identity", frozenset())
    np.testing.assert_array_equal(layer.biases, [0.0])  # type: ignore[arg-type]
    assert spec.loss.reduction == "sum"
    assert spec.training.epochs == 2 and spec.training.steps is None and spec.training.shuffle
    np.testing.assert_array_equal(spec.data.x, [[3.0]])
    np.testing.assert_array_equal(spec.data.y, [[10.0]])


def test_layer_options() -> None:
    spec = load(
        edit(
            "      biases: [0.60, 0.60]",
            "      bias: false\n      frozen: [weights]",
            edit(
                "activation: sigmoid\n      weights: [[0.15",
                "activation: leaky_relu\n      negative_slope: 0.2\n      weights: [[0.15",
            ),
        )
    )
    assert spec.layers[0].activation == "leaky_relu" and spec.layers[0].negative_slope == 0.2
    assert spec.layers[1].biases is None and spec.layers[1].frozen == frozenset({"weights"})
    assert spec.normalised["network"]["layers"][0]["negative_slope"] == 0.2
    assert spec.normalised["network"]["layers"][1]["biases"] is None


def test_init_fills_what_is_missing_and_is_recorded() -> None:
    text = edit(
        "      weights: [[0.40, 0.45], [0.50, 0.55]]\n      biases: [0.60, 0.60]",
        "      init: {method: glorot, seed: 7}",
    )
    spec, again = load(text), load(text)
    np.testing.assert_array_equal(spec.layers[1].weights, again.layers[1].weights)
    assert spec.layers[1].weights.shape == (2, 2)
    np.testing.assert_array_equal(spec.layers[1].biases, [0.0, 0.0])  # type: ignore[arg-type]
    assert spec.normalised["network"]["layers"][1]["init"] == {"method": "xavier", "seed": 7}


@pytest.mark.parametrize(
    ("short", "method"), [("he", "he"), ("kaiming", "he"), ("glorot", "xavier"), ("xavier", "xavier")]
)
def test_init_may_be_just_a_method_as_optimizer_may_be_just_a_name(short: str, method: str) -> None:
    """``init: he`` is ``init: {method: he}`` (seed 0), as ``optimizer: adam`` is ``{name: adam}``."""
    weights = "      weights: [[0.40, 0.45], [0.50, 0.55]]\n      biases: [0.60, 0.60]"
    spec = load(edit(weights, f"      init: {short}"))
    full = load(edit(weights, f"      init: {{method: {method}, seed: 0}}"))
    np.testing.assert_array_equal(spec.layers[1].weights, full.layers[1].weights)
    assert spec.normalised["network"]["layers"][1]["init"] == {"method": method, "seed": 0}  # what ran
    message = error(edit(weights, "      init: hee"))
    assert message.startswith("net.yaml:12:13: network.layers[1].init: unknown init method 'hee' (did you mean")


def test_init_aliases_are_torch_s_and_keras_s_names() -> None:
    from backprop_cli.nn.init import ALIASES, INIT_METHODS, canonical

    assert {canonical(alias) for alias in ALIASES} <= set(INIT_METHODS) - set(ALIASES)
    assert canonical("kaiming_normal") == canonical("he_normal") == "he"  # torch.nn.init.kaiming_normal_
    assert canonical("xavier_uniform") == canonical("glorot_uniform") == "xavier"  # xavier_uniform_
    assert canonical("kaiming_uniform") == "he_uniform" and canonical("glorot_normal") == "xavier_normal"


def test_units_may_come_from_the_weights() -> None:
    spec = load(edit("    - name: o\n      units: 2\n", "    - name: o\n"))
    assert spec.layers[1].units == 2


def test_all_built_in_examples_load() -> None:
    from backprop_cli.loading.expression import is_expression_document

    for name in example_names():
        if is_expression_document(example_path(name)):
            continue  # computation graphs: tests/test_expr_parse.py and tests/test_expr_cli.py
        spec = load_config(example_path(name))
        json.dumps(spec.normalised)
        assert spec.description


# (old text, new text, the exact location and path prefix, words the message must hold)
BAD = [
    (
        "activation: sigmoid\n      weights: [[0.40",
        "activation: sigmoud\n      weights: [[0.40",
        "net.yaml:11:19: network.layers[1].activation: ",
        [
            "unknown activation 'sigmoud'",
            "did you mean 'sigmoid'",
            "expected one of identity, linear, relu, leaky_relu, sigmoid, tanh, softmax",
        ],
    ),
    (
        "loss: half_sse",
        "loss: half_sss",
        "net.yaml:14:7: loss: ",
        ["unknown loss 'half_sss'", "expected one of sse, half_sse, mse, mae, bce, cross_entropy"],
    ),
    (
        "loss: half_sse",
        "loss: {name: mse, reduction: avg}",
        "net.yaml:14:30: loss.reduction: ",
        ["unknown reduction 'avg'", "expected one of mean, sum"],
    ),
    ("loss: half_sse", "loss: 5", "net.yaml:14:7: loss: ", ["got 5", "expected a loss name"]),
    (
        "name: sgd",
        "name: adamx",
        "net.yaml:15:19: optimizer.name: ",
        ["unknown optimizer 'adamx'", "did you mean 'adam", "expected one of sgd, momentum, adam, adamw, rmsprop"],
    ),
    (
        "      biases: [0.60, 0.60]",
        "      init: {method: xavir}",
        "net.yaml:13:22: network.layers[1].init.method: ",
        ["unknown init method 'xavir'", "expected one of xavier, glorot"],
    ),
    (
        "      activation: sigmoid\n      weights: [[0.15",
        "      activaton: sigmoid\n      weights: [[0.15",
        "net.yaml:6:7: network.layers[0].activaton: ",
        ["unknown field 'activaton'", "did you mean 'activation'", "expected one of name, units, activation"],
    ),
    (
        "loss: half_sse",
        "los: half_sse",
        "net.yaml:14:1: los: ",
        ["unknown field 'los'", "expected one of $schema, description, network, loss, optimizer, data, training"],
    ),
    (
        "[[0.15, 0.20], [0.25, 0.30]]",
        "[[0.15, 0.20], [0.25, 0.30, 0.1]]",
        "net.yaml:7:31: network.layers[0].weights[1]: ",
        ["layer 'h' weights row 1 has 3 values; expected 2 (the fan-in: the number of inputs)"],
    ),
    (
        "[[0.40, 0.45], [0.50, 0.55]]",
        "[[0.40], [0.50]]",
        "net.yaml:12:17: network.layers[1].weights[0]: ",
        ["row 0 has 1 value; expected 2 (the fan-in: the units of layer 'h')"],
    ),
    (
        "[[0.15, 0.20], [0.25, 0.30]]",
        "[[0.15, 0.20]]",
        "net.yaml:7:16: network.layers[0].weights: ",
        ["weights has 1 row; expected 2 (its units)"],
    ),
    (
        "biases: [0.35, 0.35]",
        "biases: [0.35]",
        "net.yaml:8:15: network.layers[0].biases: ",
        ["biases has 1 value; expected 2"],
    ),
    (
        "x: [0.05, 0.10]",
        "x: [0.05]",
        "net.yaml:17:9: data[0].x: ",
        ["x has 1 value; expected 2 (the number of inputs)"],
    ),
    (
        "y: [0.01, 0.99]",
        "y: 0.01",
        "net.yaml:17:26: data[0].y: ",
        ["y has 1 value; expected 2 (the output layer's units)"],
    ),
    ("x: [0.05, 0.10]", "x: [0.05, .inf]", "net.yaml:17:16: data[0].x[1]: ", ["non-finite number '.inf'"]),
    ("learning_rate: 0.5", "learning_rate: .NaN", "net.yaml:15:39: optimizer.learning_rate: ", ["non-finite"]),
    (
        "learning_rate: 0.5",
        "learning_rate: -1",
        "net.yaml:15:39: optimizer.learning_rate: ",
        ["-1 is too small; expected a value > 0"],
    ),
    (
        "learning_rate: 0.5",
        "learning_rate: true",
        "net.yaml:15:39: optimizer.learning_rate: ",
        ["got true (a boolean); expected a number"],
    ),
    (
        "learning_rate: 0.5",
        "learning_rate: '0.5'",
        "net.yaml:15:39: optimizer.learning_rate: ",
        ["got '0.5' (a string); expected a number"],
    ),
    (
        "      units: 2\n      activation: sigmoid\n      weights: [[0.15",
        "      units: true\n      activation: sigmoid\n      weights: [[0.15",
        "net.yaml:5:14: network.layers[0].units: ",
        ["got true (a boolean); expected an integer"],
    ),
    ("x: [0.05, 0.10]", "x: [0.05, no]", "net.yaml:17:16: data[0].x[1]: ", ["got 'no' (a string); expected a number"]),
    (
        "optimizer: {name: sgd, learning_rate: 0.5}",
        "optimizer: {learning_rate: 0.5}",
        "net.yaml:15:12: optimizer.name: ",
        ["missing required field 'name'", "expected the optimizer: sgd, momentum"],
    ),
    (
        "x: [0.05, 0.10], y: [0.01, 0.99]",
        "x: [0.05, 0.10]",
        "net.yaml:17:5: data[0].y: ",
        ["missing required field 'y'"],
    ),
    ("data:\n  - {x: [0.05, 0.10], y: [0.01, 0.99]}\n", "", "net.yaml:1:1: data: ", ["missing required field 'data'"]),
    ("data:\n  - {x: [0.05, 0.10], y: [0.01, 0.99]}\n", "data: []\n", "net.yaml:16:7: data: ", ["no data rows"]),
    (
        "  layers:",
        "  layer:",
        "net.yaml:3:3: network.layer: ",
        ["unknown field 'layer'", "expected one of inputs, layers"],
    ),
    (
        "activation: sigmoid\n      weights: [[0.15",
        "activation: softmax\n      weights: [[0.15",
        "net.yaml:6:19: network.layers[0].activation: ",
        ["softmax on layer 'h', which is not the last"],
    ),
    (
        "loss: half_sse",
        "loss: cross_entropy",
        "net.yaml:14:7: loss: ",
        ["loss 'cross_entropy'", "activation 'sigmoid'", "expected a softmax output layer"],
    ),
    (
        "activation: sigmoid\n      weights: [[0.40",
        "activation: relu\n      weights: [[0.40",
        None,
        [],
    ),  # fine with sse
    ("  inputs: [i1, i2]", "  inputs: [a, a]", "net.yaml:2:15: network.inputs[1]: ", ["duplicate input name 'a'"]),
    ("  inputs: [i1, i2]", "  inputs: true", "net.yaml:2:11: network.inputs: ", ["got true (a boolean)"]),
    ("  inputs: [i1, i2]", "  inputs: 0", "net.yaml:2:11: network.inputs: ", ["expected a count >= 1"]),
    ("    - name: o", "    - name: h", "net.yaml:9:13: network.layers[1].name: ", ["duplicate layer name 'h'"]),
    ("    - name: o", "    - name: 9o", "net.yaml:9:13: network.layers[1].name: ", ["'9o' is not a valid name"]),
    (
        "data:",
        "training: {steps: 2, epochs: 1}\ndata:",
        "net.yaml:16:30: training.epochs: ",
        ["both steps and epochs given"],
    ),
    ("data:", "training: {batch_size: 0}\ndata:", "net.yaml:16:24: training.batch_size: ", ["0 is too small"]),
    (
        "      weights: [[0.40, 0.45], [0.50, 0.55]]\n",
        "",
        "net.yaml:9:7: network.layers[1].weights: ",
        ["weights missing; expected weights [units][fan_in] or init: {method, seed}"],
    ),
    (
        "    - name: o\n      units: 2\n      activation: sigmoid\n      weights: [[0.40, 0.45], [0.50, 0.55]]\n",
        "    - name: o\n      activation: sigmoid\n",
        "net.yaml:9:7: network.layers[1].units: ",
        ["missing required field 'units'"],
    ),
    (
        "      biases: [0.60, 0.60]",
        "      bias: false\n      biases: [0.60, 0.60]",
        "net.yaml:14:15: network.layers[1].biases: ",
        ["biases given with bias: false"],
    ),
    (
        "      weights: [[0.40",
        "      negative_slope: 0.1\n      weights: [[0.40",
        "net.yaml:12:23: network.layers[1].negative_slope: ",
        ["expected it only with leaky_relu"],
    ),
    (
        "      biases: [0.60, 0.60]",
        "      init: {method: uniform, std: 2}",
        "net.yaml:13:36: network.layers[1].init.std: ",
        ["std with method 'uniform'; expected it only with method normal"],
    ),
    (
        "      biases: [0.60, 0.60]",
        "      init: {method: uniform, low: 1, high: 1}",
        "net.yaml:13:45: network.layers[1].init.high: ",
        ["expected low < high"],
    ),
    (  # numpy cannot draw from a range wider than float64 (an OverflowError traceback before)
        "      biases: [0.60, 0.60]",
        "      init: {method: uniform, low: -1e308, high: 1e308}",
        "net.yaml:13:50: network.layers[1].init.high: ",
        ["the range from low -1e+308 to high 1e+308 is wider than float64 holds", "expected high − low at most"],
    ),
    (  # draws a few σ out would be ±∞
        "      biases: [0.60, 0.60]",
        "      init: {method: normal, std: 1e307}",
        "net.yaml:13:35: network.layers[1].init.std: ",
        ["std 1e+307 is too large; expected at most 1e+306"],
    ),
    (
        "      biases: [0.60, 0.60]",
        "      frozen: [bias]",
        "net.yaml:13:16: network.layers[1].frozen[0]: ",
        ["unknown parameter kind 'bias'", "expected one of weights, biases"],
    ),
    (  # a layer's type picks its op and its config model (nn/layers LAYER_TYPES)
        "    - name: o\n",
        "    - name: o\n      type: dence\n",
        "net.yaml:10:13: network.layers[1].type: ",
        ["unknown layer type 'dence' (did you mean 'dense'?)", "expected one of dense"],
    ),
    (
        "    - name: o\n",
        "    - name: o\n      type: [dense]\n",
        "net.yaml:10:13: network.layers[1].type: ",
        ["got a list; expected a"],
    ),
]


def test_type_dense_is_the_default() -> None:
    given = load(BASE.replace("    - name: o\n", "    - name: o\n      type: dense\n"))
    default = load(BASE)
    assert [layer.kind for layer in given.layers] == ["dense", "dense"]
    assert given.normalised == default.normalised
    for ours, theirs in zip(given.layers, default.layers, strict=True):
        assert ours.config() == theirs.config()


def test_a_layer_error_comes_before_a_later_error_of_the_file() -> None:
    """The layers are validated by their type's model apart from the rest: the first error in the file is
    still the one reported, and a missing field after a misspelt one."""
    text = BASE.replace(
        "      activation: sigmoid\n      weights: [[0.40", "      activaton: sigmoid\n      weights: [[0.40"
    )
    assert error(text.replace("loss: half_sse", "loss: half_sse\ntraining: {stepz: 2}")).startswith(
        "net.yaml:11:7: network.layers[1].activaton: unknown field"
    )
    assert error(text.replace("optimizer: {name: sgd, learning_rate: 0.5}\n", "")).startswith(
        "net.yaml:11:7: network.layers[1].activaton: unknown field"
    )


@pytest.mark.parametrize(("old", "new", "prefix", "words"), BAD, ids=[b[1][:30] for b in BAD])
def test_bad_input_is_located(old: str, new: str, prefix: str | None, words: list[str]) -> None:
    text = edit(old, new)
    if prefix is None:
        load(text)
        return
    message = error(text)
    assert message.startswith(prefix), message
    for word in words:
        assert word in message, message


def test_bce_needs_a_sigmoid_output_and_targets_in_0_1() -> None:
    relu = edit("activation: sigmoid\n      weights: [[0.40", "activation: relu\n      weights: [[0.40")
    message = error(edit("loss: half_sse", "loss: bce", relu))
    assert message.startswith("net.yaml:14:7: loss: ") and "expected a sigmoid output layer" in message
    message = error(edit("y: [0.01, 0.99]", "y: [0.01, 1.5]", edit("loss: half_sse", "loss: {name: bce}")))
    assert message.startswith("net.yaml:17:33: data[0].y[1]: ") and "outside [0, 1]" in message
    assert "loss 'bce'" in message


def test_missing_network_and_layers() -> None:
    message = error("loss: mse\noptimizer: {name: sgd, learning_rate: 1}\ndata: [{x: 1, y: 1}]\n")
    assert message.startswith("net.yaml:1:1: network: missing required field 'network'")
    message = error(edit("  layers:", "  layerz:"))  # unknown field reported before the missing one
    assert "unknown field 'layerz'" in message
    message = error("network: {inputs: 1}\nloss: mse\noptimizer: {name: sgd, learning_rate: 1}\ndata: [{x: 1, y: 1}]\n")
    assert message.startswith("net.yaml:1:10: network.layers: missing required field 'layers'")
    message = error(edit("  layers:\n", "  layers: []\n", BASE.split("    - name: h")[0]) + "loss: mse\n")
    assert message.startswith("net.yaml:3:11: network.layers: has 0 items; expected at least 1")


def test_json_errors_are_located() -> None:
    assert error(edit('"name": "o"', '"name": "o", "name": "p"', BASE_JSON), "net.json").startswith(
        "net.json:8:21: network.layers[1].name: duplicate key 'name'"
    )
    assert error(edit("0.5}", "Infinity}", BASE_JSON), "net.json").startswith(
        "net.json:13:49: optimizer.learning_rate: non-finite number 'Infinity'"
    )
    assert error(edit('"loss": "half_sse",', '"loss": "half_sse"', BASE_JSON), "net.json").startswith(
        "net.json:13:3: invalid JSON: Expecting ',' delimiter"
    )
    assert error(edit('"loss"', "loss", BASE_JSON), "net.json").startswith("net.json:12:3: invalid JSON")
    assert error(edit('"sigmoid"', '"sigmoud"', BASE_JSON), "net.json").startswith(
        "net.json:6:47: network.layers[0].activation: unknown activation 'sigmoud'"
    )


def test_top_level_and_empty_files() -> None:
    expected = "empty config; expected a mapping with network, loss, optimizer and data"
    assert error("") == f"net.yaml: {expected}"
    assert error("# yaml-language-server: $schema=x.json\n\n") == f"net.yaml: {expected}"
    assert error("  \n", "net.json") == f"net.json: {expected}"
    assert error("- 1\n").startswith("net.yaml:1:1: the top level is a list; expected a mapping")


def test_malformed_yaml_is_located() -> None:
    message = error(edit("loss: half_sse", "loss: [half_sse"))
    # the unclosed bracket on line 14 is where the mistake is, not line 15 where the parser trips
    assert message.startswith("net.yaml:14:7: invalid YAML: this flow sequence is not closed (")
    message = error(edit("  inputs: [i1, i2]", "  inputs: [i1, i2]\n bad: 1"))
    assert message.startswith("net.yaml:3:") and "invalid YAML" in message


def test_load_config_reads_files_and_refuses_bad_paths(tmp_path: Path) -> None:
    (tmp_path / "net.yaml").write_text(BASE)
    (tmp_path / "net.json").write_text(BASE_JSON)
    assert load_config(tmp_path / "net.yaml").normalised == load_config(str(tmp_path / "net.json")).normalised
    assert load_config(tmp_path / "net.yaml").source == str(tmp_path / "net.yaml")
    with pytest.raises(ConfigError, match=r"nope\.yaml: no such file; expected a config file"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a directory; expected a config file"):
        load_config(tmp_path)
    (tmp_path / "bad.yaml").write_bytes(b"network:\n  inputs: \xff\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:2:11: not UTF-8 text"):
        load_config(tmp_path / "bad.yaml")


def test_json_schema() -> None:
    schema = config_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/") and schema["title"] == "backprop-cli config"
    json.dumps(schema)
    assert set(schema["properties"]) == {"$schema", "description", "network", "loss", "optimizer", "data", "training"}
    assert schema["additionalProperties"] is False
    layer = schema["$defs"]["LayerModel"]["properties"]
    assert layer["activation"]["enum"] == ["identity", "linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"]
    assert "sigmoid" not in json.dumps(schema["properties"]["loss"])
    assert {"enum": ["sse", "half_sse", "mse", "mae", "bce", "cross_entropy"], "type": "string"} in (
        schema["properties"]["loss"]["anyOf"]
    )
    assert set(schema["required"]) == {"network", "loss", "optimizer", "data"}


LABELLED = """network:
  inputs: [f1, f2]
  layers:
    - {units: 3, activation: softmax, weights: [[1, 0], [0, 1], [1, 1]], biases: [0, 0, 0]}
loss: cross_entropy
optimizer: sgd
data: {file: train.csv, features: [f1, f2], label: kind}
"""


def test_data_override_keeps_the_class_order_of_the_config_s_data(tmp_path: Path) -> None:
    """Output unit k means the class it meant in training, whatever order --data's file lists them in."""
    (tmp_path / "train.csv").write_text("f1,f2,kind\n1,0,cat\n0,1,dog\n1,1,eel\n", encoding="utf-8")
    (tmp_path / "new.csv").write_text("f1,f2,kind\n0,1,eel\n1,0,dog\n", encoding="utf-8")  # another order
    spec = load_config_text(LABELLED, source="net.yaml", base_dir=tmp_path, data_override=tmp_path / "new.csv")
    assert spec.data.class_names == ("cat", "dog", "eel")
    np.testing.assert_array_equal(spec.data.y, [[0, 0, 1], [0, 1, 0]])  # eel is unit 3, dog unit 2, as trained
    (tmp_path / "odd.csv").write_text("f1,f2,kind\n0,1,cat\n1,0,yak\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"odd\.csv:3:3: column 'kind': 'yak' is not one of the classes"):
        load_config_text(LABELLED, source="net.yaml", base_dir=tmp_path, data_override=tmp_path / "odd.csv")
    (tmp_path / "train.csv").unlink()  # without the config's own file, the order is not known: said where
    with pytest.raises(ConfigError, match=r"net\.yaml:7:14: data\.file: --data keeps the class order of the config"):
        load_config_text(LABELLED, source="net.yaml", base_dir=tmp_path, data_override=tmp_path / "new.csv")
    named = LABELLED.replace("label: kind}", "label: kind, classes: [eel, dog, cat]}")  # classes named: those
    spec = load_config_text(named, source="net.yaml", base_dir=tmp_path, data_override=tmp_path / "new.csv")
    assert spec.data.class_names == ("eel", "dog", "cat")
