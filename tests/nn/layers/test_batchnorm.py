"""Batch norm over features: by hand, against torch's BatchNorm1d (training steps, running statistics,
evaluation), by central differences, and through the trace (batch blocks, budgets, recomputation)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_cli.errors import ConfigError
from backprop_cli.loading.config import with_training
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from backprop_cli.nn.layers.batchnorm import BatchNormSpec
from backprop_cli.nn.train import TrainingRun, trained_config
from tests.nn.layers.kit import invoke, load

H = {"name": "h", "units": 2, "weights": [[0.5, -0.4], [0.3, 0.8]], "biases": [0.1, -0.2]}
OUT = {"name": "o", "units": 1, "activation": "sigmoid", "weights": [[0.7, -0.6]], "biases": [0.05]}
DATA = [
    {"x": [1.0, 2.0], "y": [1]},
    {"x": [-1.0, 0.5], "y": [0]},
    {"x": [0.3, -0.7], "y": [1]},
    {"x": [0.9, -0.2], "y": [0]},
]
BN = {"type": "batchnorm", "name": "bn", "gamma": [1.5, 0.5], "beta": [0.1, -0.1]}


def config(bn: dict[str, Any] | None = None, activation: str = "tanh", **rest: Any) -> dict[str, Any]:
    layers = [H, BN | (bn or {}), {"type": "activation", "name": "f", "activation": activation}, OUT]
    base: dict[str, Any] = {
        "network": {"inputs": 2, "layers": layers},
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "data": DATA,
    }
    return base | rest


def test_by_hand_the_batch_statistics_and_the_normalised_values() -> None:
    """h.a1 over the four rows: 0.5·x1 − 0.4·x2 + 0.1 = −0.2, −0.6, 0.53, 0.63; mean 0.09, biased
    variance ((−0.29)² + (−0.69)² + 0.44² + 0.54²) / 4 = 1.0454 / 4 = 0.26135."""
    rec = Engine(load(config())).step(1, (0, 1, 2, 3))
    h, bn = rec.forward[0], rec.forward[1]
    np.testing.assert_allclose(h.a[:, 0], [-0.2, -0.6, 0.53, 0.63], rtol=1e-14)
    assert bn.mean[0] == pytest.approx(0.09, rel=1e-14)  # type: ignore[attr-defined]
    assert bn.var[0] == pytest.approx(0.26135, rel=1e-14)  # type: ignore[attr-defined]
    assert bn.z[0, 0] == pytest.approx(-0.29 / math.sqrt(0.26135 + 1e-5), rel=1e-14)
    assert bn.a[0, 0] == pytest.approx(1.5 * bn.z[0, 0] + 0.1, rel=1e-14)
    assert rec.buffers["bn"]["running_mean"][0] == pytest.approx(0.1 * 0.09, rel=1e-14)
    assert rec.buffers["bn"]["running_var"][0] == pytest.approx(0.9 + 0.1 * 0.26135 * 4 / 3, rel=1e-14)
    assert [(u.layer, u.kind) for u in rec.updates][2:4] == [("bn", "gamma"), ("bn", "beta")]


def test_the_gradient_below_sums_to_zero_over_the_batch_per_feature() -> None:
    """Σ_s ∂L/∂x_s = 0: shifting every sample's x by the same amount does not change x̂."""
    rec = Engine(load(config())).step(1, (0, 1, 2, 3))
    below = rec.backward[2].downstream  # bn's, handed to h
    assert below is not None
    np.testing.assert_allclose(below.sum(axis=0), 0.0, atol=1e-15)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "momentum"])
@pytest.mark.parametrize("batch_size", [4, 2])
def test_torch_batchnorm1d_over_three_steps_with_its_running_statistics(optimizer: str, batch_size: int) -> None:
    """h without biases, as Linear(bias=False) before BatchNorm1d is written: a bias there has gradient 0
    up to rounding, which Adam's ε turns into steps of 1e-10 that differ from torch's rounding."""
    torch = pytest.importorskip("torch", reason="torch is not installed; parity tests need `pip install torch==2.13.0`")
    f64 = torch.float64
    value = config(
        {"eps": 1e-3, "momentum": 0.2},
        optimizer={"name": optimizer, "learning_rate": 0.1},
        training={"steps": 3, "batch_size": batch_size},
    )
    value["network"]["layers"][0] = {k: v for k, v in H.items() if k != "biases"} | {"bias": False}
    spec = load(value)
    first, bn, last = (
        torch.nn.Linear(2, 2, bias=False, dtype=f64),
        torch.nn.BatchNorm1d(2, eps=1e-3, momentum=0.2, dtype=f64),
        torch.nn.Linear(2, 1, dtype=f64),
    )
    with torch.no_grad():
        first.weight.copy_(torch.tensor(H["weights"], dtype=f64))
        bn.weight.copy_(torch.tensor(BN["gamma"], dtype=f64))
        bn.bias.copy_(torch.tensor(BN["beta"], dtype=f64))
        last.weight.copy_(torch.tensor(OUT["weights"], dtype=f64))
        last.bias.copy_(torch.tensor(OUT["biases"], dtype=f64))
    net = torch.nn.Sequential(first, bn, torch.nn.Tanh(), last)
    params = [first.weight, bn.weight, bn.bias, last.weight, last.bias]
    opt_class = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "momentum": torch.optim.SGD}[optimizer]
    opt = opt_class(params, lr=0.1, **({"momentum": 0.9} if optimizer == "momentum" else {}))
    x_all = torch.tensor([row["x"] for row in DATA], dtype=f64)
    y_all = torch.tensor([row["y"] for row in DATA], dtype=f64)
    engine = Engine(spec)
    for rec in engine.run():
        x, y = x_all[list(rec.samples)], y_all[list(rec.samples)]
        net.train()
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
        loss.backward()
        opt.step()
        assert rec.loss.value == pytest.approx(loss.item(), rel=1e-12)
        for u, theirs in zip(rec.updates, params, strict=True):
            np.testing.assert_allclose(u.new, theirs.detach().numpy(), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(rec.buffers["bn"]["running_mean"], bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(rec.buffers["bn"]["running_var"], bn.running_var.numpy(), rtol=1e-12)
    net.eval()  # evaluation uses the running statistics: train's loss on all data
    with torch.no_grad():
        theirs_eval = torch.nn.functional.binary_cross_entropy_with_logits(net(x_all), y_all).item()
    with np.errstate(all="ignore"):
        caches = engine.forward(engine.x, 3, evaluating=True)
    ours_eval = float(engine.batch_loss(caches[-1].z, caches[-1].a, engine.y, 3)[2])
    assert ours_eval == pytest.approx(theirs_eval, rel=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fast_mode_gives_the_trace_and_the_same_running_statistics(optimizer: str) -> None:
    spec = load(config(optimizer={"name": optimizer}, training={"steps": 4, "batch_size": 2}))
    trace = Engine(spec)
    records = list(trace.run())
    fast = Engine(spec)
    for number, rows in enumerate(fast.schedule, start=1):
        fast.fast_step(number, rows)
    for u, tensor in zip(records[-1].updates, [t for ts in fast.tensors for t in ts], strict=True):
        np.testing.assert_allclose(tensor, u.new, rtol=1e-12)
    for key, values in fast.buffers()["bn"].items():
        np.testing.assert_allclose(values, records[-1].buffers["bn"][key], rtol=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_central_differences_agree_through_the_batch_coupled_backward(activation: str) -> None:
    result = check_gradients(load(config(activation=activation)))
    assert len(result.checks) == 6 + 4 + 3 and not result.failed
    assert max(abs(c.analytic - c.numeric) for c in result.checks) < 1e-8


def test_train_evaluates_with_the_running_statistics_and_saves_them(tmp_path: Path) -> None:
    spec = with_training(load(config(training={"batch_size": 2})), steps=20)
    run = TrainingRun(spec)
    result = run.run()
    engine = run.engine
    with np.errstate(all="ignore"):
        evaluated = engine.forward(engine.x, 20, evaluating=True)[-1]
        batch = engine.forward(engine.x, 20)[-1]
    assert result.loss_final == pytest.approx(float(engine.batch_loss(evaluated.z, evaluated.a, engine.y, 20)[2]))
    assert result.loss_final != pytest.approx(float(engine.batch_loss(batch.z, batch.a, engine.y, 20)[2]))
    assert [s.layer for s in result.first_step] == ["h", "o"]  # the diagnostics are of weight matrices
    assert set(result.parameters()["bn"]) == {"gamma", "beta"}
    saved = trained_config(result, tmp_path)["network"]["layers"][1]
    running = run.engine.buffers()["bn"]
    assert saved["running_mean"] == running["running_mean"].tolist() != [0.0, 0.0]
    assert saved["running_var"] == running["running_var"].tolist()
    again = load(trained_config(result, tmp_path))
    layer = again.layers[1]
    assert isinstance(layer, BatchNormSpec)
    np.testing.assert_array_equal(layer.gamma, result.tensors[1]["gamma"])


def test_a_batch_of_one_sample_is_refused_and_exact_is_refused_naming_the_layer() -> None:
    with pytest.raises(ConfigError, match="batch norm layer 'bn' in a training step of a batch of 1 sample"):
        Engine(load(config(training={"batch_size": 1}))).step(1, (0,))
    relu = config(activation="relu", loss="mse")
    relu["network"]["layers"][3] = OUT | {"activation": "identity"}
    with pytest.raises(ConfigError, match=r"layer bn \(a batchnorm layer\) is not rational"):
        Engine(load(relu), exact=True)


@pytest.mark.parametrize(
    ("bn", "words"),
    [
        ({"gamma": [1.0]}, "network.layers[1].gamma: layer 'bn' gamma has 1 value; expected 2"),
        ({"running_var": [1.0, -1.0]}, "network.layers[1].running_var[1]: -1.0 is too small; expected a value >= 0"),
        ({"eps": 0}, "network.layers[1].eps: 0 is too small; expected a value > 0"),
        ({"momentum": 1.5}, "network.layers[1].momentum: 1.5 is too large; expected a value <= 1"),
        ({"frozen": ["weights"]}, "unknown parameter kind 'weights'; expected one of gamma, beta"),
    ],
)
def test_bad_batchnorm_layers_are_located(bn: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(config(bn))
    assert words in caught.value.one_line()


def test_the_last_layer_may_not_be_batch_norm() -> None:
    value = config()
    value["network"]["layers"] = [H, BN]
    with pytest.raises(ConfigError, match="batch norm layer 'bn' is the last; expected a layer after it"):
        load(value)


def test_the_trace_lays_out_the_batch_blocks_and_every_quantity_recomputes(tmp_path: Path) -> None:
    from backprop_cli import budget
    from backprop_cli.layout.rows import step_plan, step_sections
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render.json_out import dumps

    spec = load(config(optimizer={"name": "adam"}, training={"steps": 2}))
    records = list(Engine(spec).run())
    for rec in records:
        plans = list(step_plan(rec, NumberFormat()))
        built = [p.build() for p in plans]
        assert [p.count for p in plans] == [len(b.quantities) for b in built]
        values = {q.name: q.value for b in built for q in b.quantities}
        for b in built:
            for q in b.quantities:
                if q.form.rule is not None and q.kind == "computed":
                    assert q.recompute(values) == pytest.approx(q.value, rel=1e-11, abs=1e-14), q.name
        titles = [b.title for b in built]
        stats = titles.index("Batch statistics · layer bn (batch norm)")
        assert titles[stats - 1] == "Forward · layer bn (batch norm) · sample 4"  # after its samples
        assert titles[stats + 1] == "Forward · layer f (tanh) · sample 1"  # before the layer that reads it
    laid_out = sum(len(s.rows) for rec in records for s in step_sections(rec, NumberFormat()))
    assert budget.chosen_rows(spec, Filter()).rows == laid_out
    states = budget.optimizer_states(spec)

    def numbers(value: object) -> int:
        if isinstance(value, dict):
            return sum(numbers(v) for v in value.values())
        if isinstance(value, list):
            return sum(numbers(v) for v in value)
        return int(isinstance(value, int | float) and not isinstance(value, bool))

    for rec in records:
        actual = numbers(json.loads(dumps(rec.to_dict())))
        assert actual <= budget.json_numbers(spec, len(rec.samples), states) <= actual * 1.1 + 10

    path = tmp_path / "net.json"
    path.write_text(json.dumps(config()), encoding="utf-8")
    text = invoke("trace", str(path), "--width", "130", "--layer", "bn").output
    assert re.search(r"bn\.mean1\s+\(sample1/h\.a1 \+ sample2/h\.a1 \+ sample3/h\.a1 \+", text), text
    assert "Batch terms · layer bn (batch norm, 4 samples)" in text
    explained = invoke("explain", str(path), "sample1/h.dL_dw1_1", "--depth", "3")
    assert explained.exit_code == 0, explained.stderr
    assert "bn.mean_dxhat1" in explained.output and "bn.mean_dxhat_xhat1" in explained.output
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(path), "--layer", "bn", "-o", str(key)).exit_code == 0
    assert invoke("check", str(key)).exit_code == 0
