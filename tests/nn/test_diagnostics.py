"""Gradient diagnostics by hand, traced and lean paths agreeing, and `trace --diagnostics`."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode
from backprop_cli.model.spec import TrainingSpec
from backprop_cli.nn.diagnostics import Flow, describe_flow, flow, from_record, layer_stats
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.train import TrainingRun
from tests.strategies import make_spec


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None})


def test_layer_stats_by_hand() -> None:
    z = np.array([[-1.0, 2.0, 0.0], [-0.5, -1.0, 0.0]])
    relu = layer_stats(
        "h",
        "relu",
        z,
        np.maximum(z, 0),
        grad_w=np.array([[3.0, 4.0]]),  # ‖·‖ = 5
        old_w=np.array([[6.0, 8.0]]),  # ‖·‖ = 10
        new_w=np.array([[6.3, 8.4]]),  # ΔW = (0.3, 0.4), ‖ΔW‖ = 0.5
        frozen=False,
    )
    assert relu.grad_norm == 5.0
    assert relu.update_ratio == pytest.approx(0.05, rel=1e-12)
    assert relu.dead_relu == pytest.approx(2 / 3)  # units 1 and 3 have z ≤ 0 on both samples
    assert relu.saturated is None
    a = np.array([[0.995, 0.5], [0.2, 0.001]])
    sig = layer_stats("s", "sigmoid", a, a, np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), False)
    assert sig.saturated == 0.5 and sig.dead_relu is None and sig.update_ratio is None  # ‖W‖ = 0
    t = np.array([[-0.999, 0.98, 0.995, 0.1]])
    assert layer_stats("t", "tanh", t, t, t, t, t, True).saturated == 0.5


def test_norms_and_means_of_huge_finite_values_are_finite_and_a_statistic_past_float64_is_a_fault() -> None:
    from backprop_cli.errors import NumericalFault
    from backprop_cli.nn.diagnostics import checked, mean_of, norm_of

    assert norm_of(np.array([3e200, 4e200])) == pytest.approx(5e200, rel=1e-15)  # Σ v² overflows, the norm not
    assert norm_of(np.array([1.5e308, 1.5e308])) == math.inf  # √2·1.5e308 is past float64 itself
    assert mean_of([1.5e308, 1.5e308]) == 1.5e308  # numpy's sum first would give ∞
    stats = layer_stats("h", "identity", np.zeros((1, 1)), np.zeros((1, 1)), np.array([[1.5e308, 1.5e308]]),
                        np.ones((1, 2)), np.ones((1, 2)), False)  # fmt: skip
    with pytest.raises(NumericalFault, match=r"step 4, layer h: the gradient norm ‖∂L/∂W‖ \(a diagnostic\)"):
        checked(stats, 4)


def test_flow_thresholds_and_words() -> None:
    assert Flow("h1", "out", 1e-5, 1e-2).verdict == "vanishing"  # 3 orders smaller
    assert Flow("h1", "out", 1e-3, 1e-2).verdict == "ok"  # 1 order: under the threshold
    assert Flow("h1", "out", 50.0, 0.1).verdict == "exploding"  # 500×
    assert Flow("h1", "out", 0.0, 0.0).ratio is None  # no ratio to a zero gradient
    assert Flow("h1", "out", 1.0, 0.0).ratio is None
    words = describe_flow(Flow("h1", "out", 1e-5, 1e-2))
    assert words.startswith("vanishing gradients") and "3.0 orders of magnitude smaller" in words
    assert "2 orders of magnitude (100×)" in words
    assert describe_flow(Flow("h1", "out", 50.0, 0.1)).startswith("exploding gradients")


@pytest.mark.parametrize(
    ("first", "last", "verdict", "words"),
    [
        # a zero last-layer gradient (its inputs are 0) is no ratio, and never "exploding … inf orders"
        (0.5, 0.0, "none", "no first-versus-last comparison: ‖∂L/∂W‖ of the first layer h1 = 0.5, of the last "
         "layer out = 0; the last layer's gradient is zero (at most 1e-12"),
        (0.5, 1e-300, "none", "the last layer's gradient is zero"),  # tiny: not a denominator either
        (0.0, 0.0, "none", "both layers' gradients are zero"),
        (0.0, 0.3, "vanishing", "vanishing gradients: ‖∂L/∂W‖ of the first layer h1 = 0, of the last layer out = "
         "0.3; the first layer's gradient is zero (at most 1e-12), so the layers near the input do not learn"),
        (1e-300, 0.3, "vanishing", "the first layer's gradient is zero"),
    ],
)  # fmt: skip
def test_a_zero_or_tiny_gradient_is_not_exploding(first: float, last: float, verdict: str, words: str) -> None:
    f = Flow("h1", "out", first, last)
    assert f.verdict == verdict
    text = describe_flow(f)
    assert words in text and "inf" not in text and "exploding gradients" not in text, text


def test_a_zero_last_layer_gradient_in_train_and_trace(tmp_path: Path) -> None:
    """The hidden layer's outputs are all 0 (identity of z = 0), so ∂L/∂W of the last layer is 0 while the first
    layer's gradient is not: once called "exploding gradients … inf orders of magnitude larger"."""
    config = tmp_path / "zero.yaml"
    config.write_text(
        "network: {inputs: 1, layers: [{name: h, units: 1, weights: [[1.0]], biases: [-1.0]},\n"
        "                               {name: out, units: 1, weights: [[2.0]], biases: [0.5]}]}\n"
        "loss: mse\noptimizer: sgd\ndata: [{x: [1.0], y: [3.0]}]\n",
        encoding="utf-8",
    )
    for args in (["train", str(config), "--format", "json"], ["trace", str(config), "--diagnostics"]):
        result = invoke(*args)
        assert result.exit_code == 0, result.stderr
        assert "exploding gradients" not in result.output and "inf orders" not in result.output
        assert "no first-versus-last comparison" in result.output
    flow = json.loads(invoke("train", str(config), "--format", "json").output)["diagnostics"]["flow"]["step1"]
    assert (flow["ratio"], flow["verdict"], flow["last_norm"]) == (None, "none", 0.0)


def test_traced_and_lean_diagnostics_agree() -> None:
    spec = make_spec([3, 4, 4, 2], ["relu", "tanh", "identity"], "mse", seed=5, rows=4)
    spec = replace(spec, training=TrainingSpec(steps=3, batch_size=2))
    traced = [from_record(rec) for rec in Engine(spec).run()]
    trainer = TrainingRun(spec)
    lean = [trainer.step(k, rows)[1] for k, rows in enumerate(trainer.schedule, start=1)]
    for t_step, l_step in zip(traced, lean, strict=True):
        for t, m in zip(t_step, l_step, strict=True):
            assert (t.layer, t.activation, t.dead_relu, t.saturated) == (
                m.layer,
                m.activation,
                m.dead_relu,
                m.saturated,
            )
            assert t.grad_norm == pytest.approx(m.grad_norm, rel=1e-12)
            assert t.update_ratio == pytest.approx(m.update_ratio, rel=1e-9)
    first = flow(traced[0])
    assert first is not None and (first.first, first.last) == ("layer1", "layer3")


def test_trace_diagnostics_adds_a_table_per_shown_step() -> None:
    result = invoke("trace", "deep_sigmoid", "--diagnostics", "--phase", "summary", "--step", "2", "--width", "200")
    assert result.exit_code == 0, result.stderr
    out = result.output
    assert "Gradient diagnostics · step 2" in out and "step 1" not in out.replace("Step 1 of", "")
    assert "vanishing gradients" in out and "‖∂L/∂W‖" in out
    single = invoke("trace", "single_neuron", "--diagnostics", "--width", "200").output
    assert single.count("Gradient diagnostics · step") == 2
    assert "one layer: no first-versus-last gradient comparison" in single


def test_trace_diagnostics_is_text_only() -> None:
    result = invoke("trace", "classic_2_2_2", "--diagnostics", "--format", "json")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "--diagnostics" in result.stderr and "--format text" in result.stderr
