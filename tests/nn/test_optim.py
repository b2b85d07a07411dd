"""Optimizers: hand-computed updates and state, the config options, frozen tensors, the update table.

Parity with torch.optim on random networks is in tests/test_torch_parity.py (skipped without torch);
the numbers here are worked out by hand and always run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main
from backprop_cli.errors import ConfigError, ExitCode
from backprop_cli.layout.rows import step_sections
from backprop_cli.loading.config import load_config_text
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import Array, NetworkSpec, OptimizerSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.optim import SGD, Adam, RMSprop, make_optimizer
from tests.strategies import make_spec


def a(*values: float) -> Array:
    return np.array(values, dtype=np.float64)


# ---------------------------------------------------------------- SGD family, by hand


def test_plain_sgd_is_p_minus_lr_g() -> None:
    step = SGD(0.1).step("w", a(1.0), a(2.0))
    assert step.new[0] == pytest.approx(0.8)  # 1 − 0.1·2
    assert not step.state and step.formula == "{old} − {lr} × {grad}"


def test_momentum_buffer_after_two_steps() -> None:
    opt = SGD(0.1, momentum=0.9)
    first = opt.step("w", a(1.0), a(2.0))
    assert first.state["buf"][0] == 2.0  # torch starts the buffer as a copy of g
    assert first.new[0] == pytest.approx(0.8)  # 1 − 0.1·2
    assert first.formulas["buf"] == "{grad}" and not first.prior
    second = opt.step("w", first.new, a(3.0))
    assert second.state["buf"][0] == pytest.approx(4.8)  # 0.9·2 + (1 − 0)·3
    assert second.prior["buf_prev"][0] == 2.0
    assert second.new[0] == pytest.approx(0.32)  # 0.8 − 0.1·4.8


def test_dampening_scales_the_new_gradient_but_not_the_first() -> None:
    opt = SGD(0.1, momentum=0.9, dampening=0.5)
    assert opt.step("w", a(1.0), a(2.0)).state["buf"][0] == 2.0  # first step: b = g, undamped (torch)
    assert opt.step("w", a(0.8), a(3.0)).state["buf"][0] == pytest.approx(3.3)  # 0.9·2 + 0.5·3


def test_nesterov_looks_ahead_along_the_buffer() -> None:
    opt = SGD(0.1, momentum=0.9, nesterov=True)
    first = opt.step("w", a(1.0), a(2.0))
    assert first.state["nesterov"][0] == pytest.approx(3.8)  # 2 + 0.9·2
    assert first.new[0] == pytest.approx(0.62)  # 1 − 0.1·3.8
    second = opt.step("w", first.new, a(3.0))
    assert second.state["buf"][0] == pytest.approx(4.8)  # 0.9·2 + 3
    assert second.state["nesterov"][0] == pytest.approx(7.32)  # 3 + 0.9·4.8
    assert second.new[0] == pytest.approx(-0.112)  # 0.62 − 0.732


def test_sgd_weight_decay_adds_lambda_p_to_the_gradient() -> None:
    step = SGD(0.1, weight_decay=0.5).step("w", a(2.0), a(1.0))
    assert step.state["g"][0] == 2.0  # 1 + 0.5·2
    assert step.new[0] == pytest.approx(1.8)  # 2 − 0.1·2


def test_state_is_kept_per_tensor() -> None:
    opt = SGD(0.1, momentum=0.9)
    opt.step("h.weights", a(1.0), a(2.0))
    other = opt.step("h.biases", a(1.0), a(5.0))
    assert other.state["buf"][0] == 5.0 and not other.prior  # a fresh buffer, not h.weights'


# ---------------------------------------------------------------- Adam family, by hand


def test_adam_first_step_moves_each_parameter_by_about_lr_sign_g() -> None:
    g = a(-24.0, 0.003, 1e3, -0.5)
    step = Adam(0.01).step("w", a(1.0, 1.0, 1.0, 1.0), g)
    # t = 1: m̂ = g and v̂ = g², so the step is η·g / (|g| + ε) ≈ η·sign(g) whatever |g| is
    np.testing.assert_allclose(step.state["m"], 0.1 * g)  # (1 − β₁)·g
    np.testing.assert_allclose(step.state["v"], 0.001 * g * g)  # (1 − β₂)·g²
    np.testing.assert_allclose(step.state["m_hat"], g)
    np.testing.assert_allclose(step.state["v_hat"], g * g)
    np.testing.assert_allclose(1.0 - step.new, 0.01 * np.sign(g), rtol=1e-5)
    assert step.scalars == {"t": 1.0}


def test_adam_second_step_by_hand() -> None:
    opt = Adam(0.1, betas=(0.9, 0.99))
    opt.step("w", a(2.0), a(-24.0))  # m = −2.4, v = 5.76, p = 2.1 (see the first-step test)
    second = opt.step("w", a(2.1), a(-22.2))
    m = 0.9 * -2.4 + 0.1 * -22.2  # −4.38
    v = 0.99 * 5.76 + 0.01 * 22.2**2  # 10.6308
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.99**2)  # −23.0526…, 534.211…
    assert second.state["m"][0] == pytest.approx(-4.38)
    assert second.state["v"][0] == pytest.approx(10.6308)
    assert second.state["m_hat"][0] == pytest.approx(m_hat)
    assert second.state["v_hat"][0] == pytest.approx(v_hat)
    assert second.new[0] == pytest.approx(2.1 - 0.1 * m_hat / (v_hat**0.5 + 1e-8))
    assert second.prior["m_prev"][0] == pytest.approx(-2.4) and second.scalars == {"t": 2.0}


def test_adamw_decays_the_parameter_not_the_gradient() -> None:
    step = Adam(0.1, weight_decay=0.5, decoupled=True, name="adamw").step("w", a(2.0), a(4.0))
    assert step.state["decayed"][0] == pytest.approx(1.9)  # 2·(1 − 0.1·0.5)
    assert step.state["m_hat"][0] == pytest.approx(4.0)  # the gradient itself, no λ·p added
    assert step.new[0] == pytest.approx(1.9 - 0.1 * 4 / (4 + 1e-8))
    coupled = Adam(0.1, weight_decay=0.5).step("w", a(2.0), a(4.0))
    assert coupled.state["g"][0] == 5.0  # Adam's L2: 4 + 0.5·2


def test_amsgrad_keeps_the_largest_v() -> None:
    opt = Adam(0.1, betas=(0.5, 0.5), amsgrad=True)
    opt.step("w", a(0.0), a(4.0))  # v = 8
    second = opt.step("w", a(0.0), a(0.0))  # v = 4, v_max stays 8
    assert second.state["v"][0] == 4.0 and second.state["v_max"][0] == 8.0
    assert second.state["v_hat"][0] == pytest.approx(8 / 0.75)  # v_max / (1 − 0.5²)


# ---------------------------------------------------------------- RMSprop, by hand


def test_rmsprop_first_step() -> None:
    step = RMSprop(0.01).step("w", a(1.0), a(4.0))
    assert step.state["v"][0] == pytest.approx(0.16)  # 0.99·0 + 0.01·4²
    assert step.state["denom"][0] == pytest.approx(0.4 + 1e-8)  # √0.16 + ε
    assert step.new[0] == pytest.approx(1 - 0.01 * 4 / 0.40000001)  # ≈ 0.9: ten times η, a known RMSprop jolt


def test_rmsprop_centered_with_momentum() -> None:
    opt = RMSprop(0.1, alpha=0.5, eps=0.0, momentum=0.5, centered=True)
    first = opt.step("w", a(0.0), a(2.0))
    # v = 0.5·4 = 2, ḡ = 0.5·2 = 1, d = √(2 − 1) = 1, b = 0.5·0 + 2/1 = 2, step = 0.1·2
    assert first.state["g_avg"][0] == 1.0 and first.state["denom"][0] == 1.0 and first.state["buf"][0] == 2.0
    assert first.new[0] == pytest.approx(-0.2)
    second = opt.step("w", first.new, a(2.0))
    # v = 0.5·2 + 0.5·4 = 3, ḡ = 0.5·1 + 0.5·2 = 1.5, d = √(3 − 2.25) = √0.75, b = 0.5·2 + 2/√0.75
    assert second.state["buf"][0] == pytest.approx(1 + 2 / 0.75**0.5)
    assert second.new[0] == pytest.approx(-0.2 - 0.1 * (1 + 2 / 0.75**0.5))


# ---------------------------------------------------------------- registry and frozen tensors


@pytest.mark.parametrize(
    ("name", "lr", "hyper"),
    [
        ("sgd", 1e-3, {"lr": 1e-3}),
        ("momentum", 1e-3, {"lr": 1e-3, "momentum": 0.9, "dampening": 0.0}),
        ("adam", 1e-3, {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
        ("adamw", 1e-3, {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2}),
        ("rmsprop", 1e-2, {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8}),
    ],
)
def test_bare_names_get_torch_defaults(name: str, lr: float, hyper: dict[str, float]) -> None:
    spec = load(BASE.replace("optimizer: {name: sgd, learning_rate: 0.5}", f"optimizer: {name}"))
    assert spec.optimizer.learning_rate == lr
    assert dict(make_optimizer(spec.optimizer).hyper) == hyper


def test_a_frozen_tensor_is_shown_never_updated_and_keeps_no_state() -> None:
    spec = make_spec([2, 2, 1], ["tanh", "identity"], "mse", seed=3, rows=2, steps=3)
    frozen_layer = replace(spec.layers[0], frozen=frozenset({"weights"}))
    spec = replace(spec, layers=(frozen_layer, spec.layers[1]), optimizer=OptimizerSpec("adam", 0.1))
    records = list(Engine(spec).run())
    for rec in records:
        weights = next(u for u in rec.updates if u.layer == "layer1" and u.kind == "weights")
        biases = next(u for u in rec.updates if u.layer == "layer1" and u.kind == "biases")
        assert weights.frozen and not weights.state and np.array_equal(weights.new, spec.layers[0].weights)
        assert biases.scalars == {"t": float(rec.step)}  # the others advance one step per step
    rows = [row for s in step_sections(records[1], NumberFormat()) if s.phase == "update" for row in s.rows]
    assert "step2/layer1.w1_1.new" in [r.name for r in rows]
    assert not any(r.name.startswith("step2/layer1.w1_1.m") for r in rows)


# ---------------------------------------------------------------- config


BASE = """\
network:
  inputs: 1
  layers:
    - {name: out, units: 1, weights: [[2.0]], bias: false}
loss: mse
optimizer: {name: sgd, learning_rate: 0.5}
data:
  - {x: 3, y: 10}
"""


def load(text: str) -> NetworkSpec:
    return load_config_text(text, source="net.yaml", base_dir=Path("."))


def error(optimizer: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(BASE.replace("optimizer: {name: sgd, learning_rate: 0.5}", optimizer))
    return str(info.value)


@pytest.mark.parametrize(
    ("optimizer", "expected"),
    [
        (
            "optimizer: {name: adam, betas: [0.9, 0.999], momentum: 0.9}",
            "net.yaml:6:46: optimizer.momentum: unknown option 'momentum' for optimizer 'adam'; "
            "expected one of name, learning_rate, betas, eps, weight_decay, amsgrad",
        ),
        (
            "optimizer: {name: sgd, momentun: 0.9}",
            "net.yaml:6:24: optimizer.momentun: unknown option 'momentun' for optimizer 'sgd' "
            "(did you mean 'momentum'?); expected one of name, learning_rate, momentum, dampening, weight_decay, "
            "nesterov",
        ),
        (
            "optimizer: {name: adam, betas: [0.9, 1.0]}",
            "net.yaml:6:38: optimizer.betas[1]: 1.0 is too large; expected a value < 1",
        ),
        ("optimizer: {name: adam, betas: [0.9]}", "net.yaml:6:32: optimizer.betas: has 1 items; expected at least 2"),
        (
            "optimizer: {name: adam, eps: -1e-8}",
            "net.yaml:6:30: optimizer.eps: -1e-08 is too small; expected a value >= 0",
        ),
        (
            "optimizer: {name: rmsprop, alpha: 1.5}",
            "net.yaml:6:35: optimizer.alpha: 1.5 is too large; expected a value <= 1",
        ),
        ("optimizer: {name: sgd, nesterov: yes}", "net.yaml:6:34: optimizer.nesterov: got 'yes' (a string); expected"),
        (
            "optimizer: {name: sgd, momentum: 0.9, dampening: 0.1, nesterov: true}",
            "net.yaml:6:65: optimizer.nesterov: nesterov with dampening 0.1; expected momentum > 0 and dampening 0",
        ),
        (
            "optimizer: {name: sgd, nesterov: true}",
            "net.yaml:6:34: optimizer.nesterov: nesterov with momentum 0; expected momentum > 0",
        ),
        (
            "optimizer: {name: momentum, momentum: 0}",
            "net.yaml:6:39: optimizer.momentum: momentum 0 with optimizer 'momentum'; expected μ > 0",
        ),
    ],
)
def test_bad_options_are_one_located_line(optimizer: str, expected: str) -> None:
    message = error(optimizer)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_given_options_reach_the_optimizer_and_the_normalised_config() -> None:
    spec = load(BASE.replace("{name: sgd, learning_rate: 0.5}", "{name: adam, learning_rate: 0.1, betas: [0.8, 0.9]}"))
    assert dict(make_optimizer(spec.optimizer).hyper) == {"lr": 0.1, "beta1": 0.8, "beta2": 0.9, "eps": 1e-8}
    assert spec.normalised["optimizer"] == {
        "name": "adam",
        "learning_rate": 0.1,
        "betas": [0.8, 0.9],
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
    }


# ---------------------------------------------------------------- the trace: table and JSON


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output + result.stderr
    return result.output


def test_the_update_table_writes_adam_state_out_before_the_new_value() -> None:
    text = invoke("trace", "adam_two_steps", "--width", "200", "--phase", "update", "--step", "2")
    lines = [line.split() for line in text.splitlines()]
    names = [line[0] for line in lines if line and line[0].startswith("step2/out.w1_1")]
    assert names == [f"step2/out.w1_1.{s}" for s in ("m", "v", "m_hat", "v_hat", "step", "new")]
    assert "β₁ × step1/out.w1_1.m + (1 − β₁) × out.dL_dw1_1" in text  # the previous m, by its name
    assert "0.9 × (-2.4) + (1 − 0.9) × (-22.2)" in text  # …and with the numbers
    assert "(-4.38) / (1 − 0.9^2)" in text  # m̂ = m / (1 − β₁ᵗ) at t = 2
    assert "t = 2" in text


def test_json_carries_the_state_by_layer_and_by_name() -> None:
    doc = json.loads(invoke("trace", "adam_two_steps", "--format", "json"))
    first, second = doc["steps"]
    state = second["optimizer_state"]["out"]["weights"]
    assert state["t"] == 2
    assert state["m"] == [[pytest.approx(-4.38)]]
    assert second["optimizer_values"]["step2/out.w1_1.m_hat"] == pytest.approx(-4.38 / 0.19)
    assert first["optimizer_values"]["step1/out.w1_1.m"] == pytest.approx(-2.4)
    assert second["optimizer"] == {"name": "adam", "lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8}


def test_adam_with_eps_0_and_a_zero_gradient_is_a_named_numerical_fault(tmp_path: Path) -> None:
    # the hidden ReLU is dead (z = −4), so h's gradients are 0: m̂/√v̂ = 0/0 without ε
    config = tmp_path / "dead.yaml"
    config.write_text(
        BASE.replace(
            "    - {name: out, units: 1, weights: [[2.0]], bias: false}",
            "    - {name: h, units: 1, activation: relu, weights: [[-1.0]], biases: [-1.0]}\n"
            "    - {name: out, units: 1, weights: [[2.0]], biases: [0.5]}",
        ).replace("{name: sgd, learning_rate: 0.5}", "{name: adam, eps: 0}"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["trace", str(config)])
    assert result.exit_code == ExitCode.NUMERICAL_FAULT
    assert result.stderr.startswith("numerical fault at step 1, layer h, neuron 1: the updated h.w1_1 is not finite")
    assert "keep eps > 0" in result.stderr


def test_optimizer_symbols_are_set_as_math_in_latex() -> None:
    # β₁, β₂ as subscripts and g² as a power of the whole name, not characters pdflatex cannot set
    tex = invoke("trace", "adam_two_steps", "--format", "latex", "--step", "2", "--phase", "update")
    assert "[U+" not in tex
    assert r"(1 - {\beta_{1}}^{t})" in tex and r"{\mathtt{out.dL\_dw1\_1}}^{2}" in tex


def test_the_json_schema_knows_the_options_and_their_ranges() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra: pip install '.[test]'")
    import yaml

    from backprop_cli.loading.config import config_json_schema
    from backprop_cli.loading.examples import example_path

    schema = config_json_schema()
    document = yaml.safe_load(example_path("adam_two_steps").read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)  # editors accept the example
    for bad in ({"betas": [0.9, 1.0]}, {"eps": -1.0}, {"alpha": 2.0}, {"nesterov": "yes"}, {"momentun": 0.9}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**document, "optimizer": {"name": "adam", **bad}}, schema)


def test_switched_on_flags_are_in_the_update_title_and_the_json(tmp_path: Path) -> None:
    config = tmp_path / "nesterov.yaml"
    config.write_text(BASE.replace("{name: sgd, learning_rate: 0.5}", "{name: momentum, nesterov: true}"), "utf-8")
    text = invoke("trace", str(config), "--phase", "update", "--width", "150")
    assert "Update · layer out weights (momentum, η = 0.001, μ = 0.9, τ = 0, nesterov)" in text
    step = json.loads(invoke("trace", str(config), "--format", "json"))["steps"][0]
    assert step["optimizer"] == {"name": "momentum", "lr": 0.001, "momentum": 0.9, "dampening": 0.0, "nesterov": True}
    assert set(step["optimizer_state"]["out"]["weights"]) == {"buf", "nesterov"}  # no t: SGD keeps no step count
