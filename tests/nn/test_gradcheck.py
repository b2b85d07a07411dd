"""backprop gradcheck: backprop against central differences, verdicts, kinks, and a broken derivative caught."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode
from backprop_cli.nn import ops
from backprop_cli.nn.gradcheck import ATOL, RTOL, ParamCheck, check_gradients
from tests.strategies import make_spec


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None})


@pytest.mark.parametrize(
    "name", ["classic_2_2_2", "two_layer_relu", "xor", "softmax_classifier", "dog_not_dog", "iris", "deep_sigmoid"]
)
def test_shipped_networks_pass(name: str) -> None:
    result = invoke("gradcheck", name, "--width", "120")
    assert result.exit_code == ExitCode.OK, result.output
    assert "ok: " in result.output and "FAIL" not in result.output


@pytest.mark.parametrize(
    ("sizes", "activations", "loss"),
    [
        ([3, 4, 2], ["tanh", "softmax"], "cross_entropy"),
        ([2, 3, 3, 1], ["sigmoid", "leaky_relu", "sigmoid"], "bce"),
        ([3, 3, 2], ["relu", "softmax"], "mse"),
        ([2, 2, 2], ["identity", "identity"], "half_sse"),
    ],
)
def test_random_networks_pass(sizes: list[int], activations: list[str], loss: str) -> None:
    spec = make_spec(sizes, activations, loss, seed=7, rows=3)
    result = check_gradients(spec)
    assert len(result.checks) == sum(layer.parameter_count for layer in spec.layers)
    assert not result.failed
    assert max(c.relative_error for c in result.checks if abs(c.analytic) > 1e-6) < RTOL


def test_a_broken_activation_derivative_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    sigmoid = ops.ACTIVATIONS["sigmoid"]
    broken = replace(sigmoid, derivative=lambda z, a, s: a * (1.0 - a) * 1.1)  # 10% too large
    monkeypatch.setitem(ops.ACTIVATIONS, "sigmoid", broken)
    result = invoke("gradcheck", "classic_2_2_2", "--width", "120")
    assert result.exit_code == ExitCode.CHECK_FAILED
    assert "FAILED:" in result.output and "FAIL\n" in result.output  # the last column: no padding after it
    doc = json.loads(invoke("gradcheck", "classic_2_2_2", "--format", "json").output)
    assert doc["passed"] is False
    verdicts = {c["name"]: c["verdict"] for c in doc["checks"]}
    assert all(v == "fail" for v in verdicts.values())  # both layers are sigmoid: every gradient is off


def test_a_broken_loss_gradient_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    sse = ops.LOSSES["sse"]
    monkeypatch.setitem(ops.LOSSES, "sse", replace(sse, grad=lambda a, y, z: a - y))  # the ½ is missing
    assert invoke("gradcheck", "two_layer_relu").exit_code == ExitCode.CHECK_FAILED


RELU_AT_ZERO = """
network:
  inputs: 2
  layers:
    - {name: h, units: 2, activation: relu, weights: [[1.0, -1.0], [0.5, 0.25]], biases: [0.0, 0.1]}
    - {name: o, units: 1, activation: identity, weights: [[2.0, 1.0]], biases: [0.0]}
loss: sse
optimizer: {name: sgd, learning_rate: 0.1}
data:
  - {x: [1.0, 1.0], y: [3.0]}
"""


def test_relu_kink_is_flagged_not_failed(tmp_path: Path) -> None:
    # h.z1 = 1·1 − 1·1 + 0 = 0 exactly: relu'(0) = 0 (PyTorch's choice), so backprop gives 0 for h's
    # first-row parameters, while (L(+h) − L(−h)) / 2h sees the slope of one side only: a kink.
    config = tmp_path / "kink.yaml"
    config.write_text(RELU_AT_ZERO)
    result = invoke("gradcheck", str(config), "--format", "json")
    assert result.exit_code == ExitCode.OK
    checks = {c["name"]: c for c in json.loads(result.output)["checks"]}
    for name in ("h.dL_dw1_1", "h.dL_dw1_2", "h.dL_db1"):
        assert checks[name]["backprop"] == 0.0
        assert checks[name]["verdict"] == "kink"
    # o.a = 2·0 + 1·(0.5 + 0.25 + 0.1) = 0.85; ∂L/∂o.b1 = 2(0.85 − 3) = −4.3, exact in both
    assert checks["o.dL_db1"]["verdict"] == "pass"
    assert checks["o.dL_db1"]["backprop"] == pytest.approx(-4.3, abs=1e-12)
    text = invoke("gradcheck", str(config), "--width", "140").output
    assert "3 at a kink" in text and "flagged, not failed" in text


def test_verdict_thresholds() -> None:
    assert ParamCheck("o", "weights", (0, 0), 1.0, 1.0 + 0.5 * RTOL, False).verdict == "pass"
    assert ParamCheck("o", "weights", (0, 0), 1.0, 1.0 + 3 * RTOL, False).verdict == "fail"
    assert ParamCheck("o", "weights", (0, 0), 1.0, 1.0 + 3 * RTOL, True).verdict == "kink"
    assert ParamCheck("o", "weights", (0, 0), 0.0, 0.5 * ATOL, False).verdict == "pass"  # both near zero
    assert ParamCheck("o", "weights", (0, 0), 2.0, 1.0, False).relative_error == 0.5


def test_gradcheck_uses_the_first_steps_batch() -> None:
    spec = make_spec([2, 2], ["sigmoid"], "mse", seed=3, rows=4, batch_size=2)
    result = check_gradients(spec)
    assert result.rows == (0, 1)
    assert np.isfinite(result.loss)


def test_gradcheck_help_has_an_example() -> None:
    result = invoke("gradcheck", "--help")
    assert result.exit_code == 0 and "Example" in result.output and "1e-5" in result.output


@pytest.mark.parametrize("command", ["gradcheck", "train"])
def test_expression_programs_are_bad_input_with_a_pointer_to_trace(command: str) -> None:
    result = invoke(command, "circuit_add_mul")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "an expression program" in result.stderr and "backprop trace circuit_add_mul" in result.stderr


def test_color_is_forced_on_or_off() -> None:
    coloured, plain = invoke("gradcheck", "xor", "--color"), invoke("gradcheck", "xor", "--no-color")
    assert coloured.exit_code == plain.exit_code == 0
    assert "\x1b[" in coloured.output and "\x1b[" not in plain.output
