"""Batch norm per channel of a shaped input (BatchNorm2d on [C, H, W], BatchNorm1d on [C, L]): by hand,
against torch over several steps with its running statistics and evaluation, central differences, and
through the trace (per-channel names, counts, recomputation, names/answers/check/explain)."""

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
from backprop_cli.nn.layers.batchnorm import BatchNormSpec, normalise, running_update
from backprop_cli.nn.train import TrainingRun, trained_config
from tests.nn.layers.kit import TORCH, invoke, load

# two samples of two channels, 2×2 each (channel 1's eight values 1 2 3 4 0 1 −1 2: mean 1.5, var 2.25)
DATA = [
    {"x": [[[1, 2], [3, 4]], [[0, -1], [2, 0.5]]], "y": [1]},
    {"x": [[[0, 1], [-1, 2]], [[1, 1], [0, 3]]], "y": [0]},
]
BN = {"type": "batchnorm", "name": "bn1", "gamma": [1.5, 0.5], "beta": [0.1, -0.1]}
OUT = {"name": "o", "units": 1, "activation": "sigmoid", "weights": [[0.7, -0.6]], "biases": [0.05]}
POOLED = [
    BN,
    {"type": "activation", "name": "r", "activation": "tanh"},
    {"type": "maxpool2d", "name": "p1", "kernel_size": 2},
]


def config(layers: list[dict[str, Any]] | None = None, inputs: Any = (2, 2, 2), **rest: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "network": {"inputs": list(inputs), "layers": layers or [*POOLED, {"type": "flatten", "name": "f"}, OUT]},
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "data": DATA,
    }
    return base | rest


def test_by_hand_each_channel_is_normalised_over_the_batch_and_its_positions() -> None:
    """Channel 1: 1 2 3 4 | 0 1 −1 2, mean 12/8 = 1.5, biased var (0.25 + 0.25 + 2.25 + 6.25 + 2.25 +
    0.25 + 6.25 + 0.25) / 8 = 18/8 = 2.25; channel 2: 0 −1 2 0.5 | 1 1 0 3, mean 6.5/8 = 0.8125."""
    spec = load(config())
    layer = spec.layers[0]
    assert isinstance(layer, BatchNormSpec)
    assert (layer.channels, layer.spatial, layer.width, layer.label) == (
        2,
        4,
        8,
        "batch norm (BatchNorm2d, 2 channels of 4)",
    )
    rec = Engine(spec).step(1, (0, 1))
    bn = rec.forward[0]
    np.testing.assert_allclose(bn.mean, [1.5, 0.8125], rtol=1e-15)  # type: ignore[attr-defined]
    var2 = sum((v - 0.8125) ** 2 for v in (0, -1, 2, 0.5, 1, 1, 0, 3)) / 8
    np.testing.assert_allclose(bn.var, [2.25, var2], rtol=1e-15)  # type: ignore[attr-defined]
    assert bn.z[0, 3] == pytest.approx((4 - 1.5) / math.sqrt(2.25 + 1e-5), rel=1e-15)  # sample 1, channel 1
    assert bn.a[1, 7] == pytest.approx(0.5 * (3 - 0.8125) / math.sqrt(var2 + 1e-5) - 0.1, rel=1e-14)
    # running statistics: (1 − 0.1)·0 + 0.1·1.5 and (1 − 0.1)·1 + 0.1·2.25·8/7 (unbiased over M = 8 values)
    np.testing.assert_allclose(rec.buffers["bn1"]["running_mean"], [0.15, 0.08125], rtol=1e-15)
    assert rec.buffers["bn1"]["running_var"][0] == pytest.approx(0.9 + 0.1 * 2.25 * 8 / 7, rel=1e-15)
    grads = {u.kind: u for u in rec.updates if u.layer == "bn1"}
    assert grads["gamma"].per_sample.shape == (2, 2)  # per sample, per channel: Σ over its 4 entries


def test_normalise_and_running_update_are_the_one_formula_of_both_modes() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0, 0.0, -1.0, 2.0, 0.5]])
    xhat, a, std = normalise(x, np.array([1.0, 0.0]), np.array([4.0, 1.0]), 0.0, np.array([2.0, 1.0]), np.zeros(2))
    np.testing.assert_allclose(std, [2.0, 1.0])
    np.testing.assert_allclose(xhat, [[0.0, 0.5, 1.0, 1.5, 0.0, -1.0, 2.0, 0.5]])
    np.testing.assert_allclose(a, [[0.0, 1.0, 2.0, 3.0, 0.0, -1.0, 2.0, 0.5]])
    mean, var = running_update(np.zeros(1), np.ones(1), np.array([2.0]), np.array([3.0]), 4, 0.5)
    np.testing.assert_allclose([mean[0], var[0]], [1.0, 0.5 + 0.5 * 3.0 * 4 / 3])


def test_one_sample_of_several_positions_is_a_batch_torch_accepts() -> None:
    spec = load(config(training={"batch_size": 1}))
    rec = Engine(spec).step(1, (0,))  # M = 4 values per channel
    np.testing.assert_allclose(rec.forward[0].mean, [2.5, 0.375], rtol=1e-15)  # type: ignore[attr-defined]


def test_bad_batchnorm2d_layers_are_located() -> None:
    with pytest.raises(ConfigError) as caught:
        load(config([BN | {"gamma": [1.0, 2.0, 3.0]}, {"type": "flatten"}, OUT | {"weights": [[0.1] * 8]}]))
    assert "network.layers[0].gamma: layer 'bn1' gamma has 3 values; expected 2 (its channels: 2×2×2)" in (
        caught.value.one_line()
    )


def torch_net(torch: Any, kind: str, eps: float, momentum: float, channels: int) -> tuple[Any, Any, Any]:
    f64 = torch.float64
    bn = getattr(torch.nn, kind)(channels, eps=eps, momentum=momentum, dtype=f64)
    last = torch.nn.Linear(channels, 1, dtype=f64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(BN["gamma"], dtype=f64))
        bn.bias.copy_(torch.tensor(BN["beta"], dtype=f64))
        last.weight.copy_(torch.tensor(OUT["weights"], dtype=f64))
        last.bias.copy_(torch.tensor(OUT["biases"], dtype=f64))
    pool = torch.nn.MaxPool2d(2) if kind == "BatchNorm2d" else torch.nn.AvgPool1d(3)
    return torch.nn.Sequential(bn, torch.nn.Tanh(), pool, torch.nn.Flatten(), last), bn, last


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("kind", ["BatchNorm2d", "BatchNorm1d"])
def test_torch_batchnorm_per_channel_over_three_steps(kind: str, optimizer: str) -> None:
    """BatchNorm2d on [2, 2, 2] → tanh → MaxPool2d(2) (or BatchNorm1d on [2, 3] → tanh → AvgPool1d(3))
    → Flatten → Linear, bce, batches of 2 of 4 rows, three steps: loss, γ, β, the weights, the
    running statistics, and the evaluation loss with the running statistics (model.eval())."""
    torch = pytest.importorskip("torch", reason=TORCH)
    f64 = torch.float64
    rng = np.random.default_rng(5)
    shape = (2, 2, 2) if kind == "BatchNorm2d" else (2, 3)
    xs = rng.normal(size=(4, *shape))
    data = [{"x": x.tolist(), "y": [float(i % 2)]} for i, x in enumerate(xs)]
    pool = {"type": "maxpool2d", "kernel_size": 2} if kind == "BatchNorm2d" else {"type": "avgpool1d", "kernel_size": 3}
    layers = [BN | {"eps": 1e-3, "momentum": 0.2}, {"type": "activation", "activation": "tanh"}, pool]
    value = config(
        [*layers, {"type": "flatten"}, OUT],
        shape,
        data=data,
        optimizer={"name": optimizer, "learning_rate": 0.1},
        training={"steps": 3, "batch_size": 2},
    )
    spec = load(value)
    net, bn, last = torch_net(torch, kind, 1e-3, 0.2, 2)
    params = [bn.weight, bn.bias, last.weight, last.bias]
    opt_class = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "momentum": torch.optim.SGD}[optimizer]
    opt = opt_class(params, lr=0.1, **({"momentum": 0.9} if optimizer == "momentum" else {}))
    x_all = torch.tensor(xs, dtype=f64)
    y_all = torch.tensor([row["y"] for row in data], dtype=f64)
    engine = Engine(spec)
    for rec in engine.run():
        rows = list(rec.samples)
        net.train()
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x_all[rows]), y_all[rows])
        loss.backward()
        opt.step()
        assert rec.loss.value == pytest.approx(loss.item(), rel=1e-12)
        for u, theirs in zip(rec.updates, params, strict=True):
            np.testing.assert_allclose(u.new, theirs.detach().numpy(), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(rec.buffers["bn1"]["running_mean"], bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(rec.buffers["bn1"]["running_var"], bn.running_var.numpy(), rtol=1e-12)
    net.eval()
    with torch.no_grad():
        theirs_eval = torch.nn.functional.binary_cross_entropy_with_logits(net(x_all), y_all).item()
    with np.errstate(all="ignore"):
        caches = engine.forward(engine.x, 3, evaluating=True)
    assert float(engine.batch_loss(caches[-1].z, caches[-1].a, engine.y, 3)[2]) == pytest.approx(theirs_eval, rel=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fast_mode_gives_the_trace_and_the_same_running_statistics(optimizer: str) -> None:
    spec = load(config(optimizer={"name": optimizer}, training={"steps": 3, "batch_size": 2}))
    records = list(Engine(spec).run())
    fast = Engine(spec)
    for number, rows in enumerate(fast.schedule, start=1):
        fast.fast_step(number, rows)
    for u, tensor in zip(records[-1].updates, [t for ts in fast.tensors for t in ts], strict=True):
        np.testing.assert_allclose(tensor, u.new, rtol=1e-12)
    for key, values in fast.buffers()["bn1"].items():
        np.testing.assert_allclose(values, records[-1].buffers["bn1"][key], rtol=1e-14)


def test_central_differences_agree_through_batchnorm2d_and_pooling() -> None:
    result = check_gradients(load(config()))
    assert len(result.checks) == 4 + 3 and not result.failed
    assert max(abs(c.analytic - c.numeric) for c in result.checks) < 1e-8


def test_train_saves_the_per_channel_running_statistics_and_loads_back(tmp_path: Path) -> None:
    spec = with_training(load(config(training={"batch_size": 2})), steps=5)
    result = TrainingRun(spec).run()
    saved = trained_config(result, tmp_path)
    entry = saved["network"]["layers"][0]
    assert len(entry["running_mean"]) == len(entry["gamma"]) == 2 and entry["running_mean"] != [0.0, 0.0]
    again = load(saved).layers[0]
    assert isinstance(again, BatchNormSpec) and again.shape == (2, 2, 2)
    np.testing.assert_array_equal(again.gamma, result.tensors[0]["gamma"])


def numbers(value: object) -> int:
    if isinstance(value, dict):
        return sum(numbers(v) for v in value.values())
    if isinstance(value, list):
        return sum(numbers(v) for v in value)
    return int(isinstance(value, int | float) and not isinstance(value, bool))


def test_the_trace_counts_lays_out_and_recomputes_every_quantity(tmp_path: Path) -> None:
    from backprop_cli import budget
    from backprop_cli.layout.rows import step_plan, step_sections
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render.json_out import dumps

    spec = load(config(optimizer={"name": "adam"}, training={"steps": 2}))
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
                assert q.recompute(values) == pytest.approx(q.value, rel=1e-12, abs=1e-14), q.name
    assert "step1/bn1.var2" in values and "step1/bn1.var3" not in values  # per channel
    assert "step1/sample2/bn1.xhat8" in values and "step1/sample2/bn1.dL_dgamma2" in values
    laid_out = sum(len(s.rows) for rec in records for s in step_sections(rec, NumberFormat()))
    assert budget.chosen_rows(spec, Filter()).rows == laid_out
    for rec in records:
        actual = numbers(json.loads(dumps(rec.to_dict())))
        assert actual <= budget.json_numbers(spec, len(rec.samples), budget.optimizer_states(spec)) <= actual + 10
        step = rec.to_dict()
        assert step["parameters"]["bn1"]["gamma"].shape == (2,)  # torch's state_dict shapes: one per channel
        assert step["buffers"]["bn1"]["running_var"].shape == (2,)

    path = tmp_path / "net.json"
    path.write_text(json.dumps(config()), encoding="utf-8")
    text = invoke("trace", str(path), "--width", "150", "--layer", "bn1").output
    assert re.search(r"bn1\.mean1\s+\(sample1/x1 \+ sample1/x2 \+ sample1/x3 \+ sample1/x4 \+", text), text
    assert re.search(r"sample1/bn1\.dL_dgamma1\s+bn1\.dL_da1·bn1\.xhat1 \+ bn1\.dL_da2·bn1\.xhat2 \+", text)
    assert "over each channel's 8 values (2 samples × 4 entries)" in " ".join(text.split())
    explained = invoke("explain", str(path), "bn1.dL_dgamma1", "--depth", "2")
    assert explained.exit_code == 0, explained.stderr
    assert "sample1/bn1.dL_dgamma1" in explained.output
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(path), "--layer", "bn1", "-o", str(key)).exit_code == 0
    assert "bn1.mean_dxhat_xhat2" in key.read_text(encoding="utf-8")
    assert invoke("check", str(key)).exit_code == 0
    names = invoke("names", str(path), "--only", "bn1.var*")
    assert names.exit_code == 0 and re.search(r"^bn1\.var1\s+2\.25$", names.output, re.M), names.output


def test_batch_terms_over_the_batch_alone_are_caught_by_the_central_differences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backward pass that takes its batch means over the samples only (as if each cell were a feature
    of its own) is not the gradient of per-channel statistics: the first batch norm's γ and β see it,
    through the ∂L/∂x the second hands down."""
    from backprop_cli.nn.layers.batchnorm import BatchNormLayer, per_channel

    second = BN | {"name": "bn2", "gamma": [0.8, 1.2], "beta": [0.0, 0.2]}
    spec = load(
        config([BN, {"type": "activation", "activation": "tanh"}, second, *POOLED[1:], {"type": "flatten"}, OUT])
    )
    assert not check_gradients(spec).failed
    monkeypatch.setattr(
        BatchNormLayer, "_channel_means", lambda self, values: per_channel(values, self.channels).mean(axis=0)[:, 0]
    )
    assert check_gradients(spec).failed


@pytest.mark.parametrize("shape", [(2, 2, 3), (3, 4)])
def test_central_differences_of_the_loss_by_each_input_through_batch_norm_per_channel(shape: tuple[int, ...]) -> None:
    """∂L/∂x handed down by batch norm (its batch terms per channel) against central differences by x."""
    from tests.nn.layers.test_pool import input_gradients

    rng = np.random.default_rng(11)
    channels = shape[0]
    bn = {"type": "batchnorm", "gamma": rng.uniform(0.5, 1.5, channels).tolist(), "beta": [0.1] * channels}
    layers = [{"type": "activation", "name": "i", "activation": "identity"}, bn]
    layers += [{"type": "activation", "activation": "tanh"}, {"type": "flatten"}]
    layers.append({"name": "o", "units": 1, "activation": "sigmoid", "init": {"method": "xavier", "seed": 4}})
    data = [{"x": rng.normal(size=shape).tolist(), "y": [float(i % 2)]} for i in range(3)]
    analytic, numeric = input_gradients(load(config(layers, shape, data=data)))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)
    per_channel_sums = analytic.reshape(3, channels, -1).sum(axis=(0, 2))  # a shift of a channel changes no x̂
    np.testing.assert_allclose(per_channel_sums, 0.0, atol=1e-15)
