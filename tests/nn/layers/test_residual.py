"""Residual blocks: a = f(x + F(x)) by hand, against torch over several steps with each optimizer (train
and eval mode, batch norm inside the block), central differences on random networks with blocks, a
wrong derivative caught, located shape errors, and the commands (names, answers, check, explain,
gradcheck, train --save, --exact)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from backprop_cli.errors import ConfigError
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from backprop_cli.nn.train import TrainingRun, trained_config
from tests.nn.layers.kit import invoke, load
from tests.strategies import residual_networks

H = {"name": "h", "units": 2, "activation": "tanh", "weights": [[0.5, -0.3], [0.2, 0.8]], "biases": [0.1, -0.1]}
FC1 = {"name": "fc1", "units": 3, "weights": [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]], "biases": [0.0, 0.1, 0.0]}
FC2 = {"name": "fc2", "units": 2, "weights": [[0.3, -0.2, 0.1], [0.4, 0.2, -0.5]], "biases": [0.05, -0.05]}
OUT = {"name": "o", "units": 1, "activation": "sigmoid", "weights": [[1.0, -1.0]], "biases": [0.0]}
DATA = [
    {"x": [1.0, 2.0], "y": [1]},
    {"x": [-1.0, 0.5], "y": [0]},
    {"x": [0.3, -0.7], "y": [1]},
    {"x": [0.9, -0.2], "y": [0]},
]
GAMMA, BETA = [1.5, 0.5, 0.8], [0.1, -0.1, 0.2]


def block(*inner: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return {"type": "residual", "name": "res1", "layers": list(inner)} | rest


def config(res: dict[str, Any] | None = None, **rest: Any) -> dict[str, Any]:
    res = res or block(FC1, {"type": "activation", "name": "f", "activation": "relu"}, FC2)
    return {
        "network": {"inputs": 2, "layers": [H, res, OUT]},
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "data": DATA,
    } | rest


def test_by_hand_the_skip_the_branch_and_the_gradient_as_the_sum_of_the_two_paths() -> None:
    """Row 1, x = (1, 2): h.z = (0.5 − 0.6 + 0.1, 0.2 + 1.6 − 0.1) = (0, 1.7), h.a = (tanh 0, tanh 1.7).
    fc1.z = (0.2·t, 0.4·t + 0.1, −0.6·t) with t = tanh 1.7 (h.a1 = 0); relu keeps the first two;
    fc2.z1 = 0.3·0.2t − 0.2·(0.4t + 0.1) + 0.05, fc2.z2 = 0.4·0.2t + 0.2·(0.4t + 0.1) − 0.05;
    res1.a = fc2.a + h.a; o.z = res1.a1 − res1.a2. Backward with δ_o = σ(o.z) − 1: res1.delta =
    (δ_o, −δ_o); the branch gives ∂L/∂x = W1ᵀ·(relu' ⊙ W2ᵀ·δ), the skip δ itself; h receives their sum."""
    rec = Engine(load(config())).step(1, (0,))
    t = math.tanh(1.7)
    fc2 = [0.3 * 0.2 * t - 0.2 * (0.4 * t + 0.1) + 0.05, 0.4 * 0.2 * t + 0.2 * (0.4 * t + 0.1) - 0.05]
    res = [fc2[0] + 0.0, fc2[1] + t]
    names = [f.layer for f in rec.forward]
    assert names == ["h", "res1.branch", "res1.fc1", "res1.f", "res1.fc2", "res1", "o"]
    join = rec.forward[5]
    np.testing.assert_allclose(join.a[0], res, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(join.skip[0], [0.0, t], atol=1e-16)  # type: ignore[attr-defined]
    o_z = res[0] - res[1]
    delta_o = 1 / (1 + math.exp(-o_z)) - 1
    by = {b.layer: b for b in rec.backward}
    np.testing.assert_allclose(by["res1"].delta[0], [delta_o, -delta_o], rtol=1e-14)
    w1, w2 = np.array(FC1["weights"]), np.array(FC2["weights"])
    branch = w1.T @ (np.array([1.0, 1.0, 0.0]) * (w2.T @ np.array([delta_o, -delta_o])))
    entry = by["res1.branch"]
    np.testing.assert_allclose(entry.branch[0], branch, rtol=1e-13)  # type: ignore[attr-defined]
    np.testing.assert_allclose(entry.skip[0], [delta_o, -delta_o], rtol=1e-14)  # type: ignore[attr-defined]
    np.testing.assert_allclose(by["h"].upstream[0], branch + np.array([delta_o, -delta_o]), rtol=1e-13)
    assert {u.layer for u in rec.updates} == {"h", "res1.fc1", "res1.fc2", "o"}


def _torch_block(torch: Any, bn: bool) -> tuple[Any, list[Any], Any]:
    """h → [fc1 → (BatchNorm1d) → relu → fc2] + skip → o, as torch modules with our start values."""
    f64 = torch.float64
    h, fc1, fc2, out = (
        torch.nn.Linear(2, 2, dtype=f64),
        torch.nn.Linear(2, 3, bias=not bn, dtype=f64),
        torch.nn.Linear(3, 2, dtype=f64),
        torch.nn.Linear(2, 1, dtype=f64),
    )
    norm = torch.nn.BatchNorm1d(3, eps=1e-3, momentum=0.2, dtype=f64)
    with torch.no_grad():
        for module, layer in ((h, H), (fc1, FC1), (fc2, FC2), (out, OUT)):
            module.weight.copy_(torch.tensor(layer["weights"], dtype=f64))
            if module.bias is not None:
                module.bias.copy_(torch.tensor(layer["biases"], dtype=f64))
        norm.weight.copy_(torch.tensor(GAMMA, dtype=f64))
        norm.bias.copy_(torch.tensor(BETA, dtype=f64))
    branch = torch.nn.Sequential(fc1, *([norm] if bn else []), torch.nn.ReLU(), fc2)

    class Net(torch.nn.Module):  # type: ignore[misc]
        def forward(self, x: Any) -> Any:
            a = torch.tanh(h(x))
            return out(a + branch(a))

    net = Net()
    net.modules_ = torch.nn.ModuleList([h, branch, out])
    params = [
        h.weight,
        h.bias,
        fc1.weight,
        *([norm.weight, norm.bias] if bn else [fc1.bias]),
        fc2.weight,
        fc2.bias,
        out.weight,
        out.bias,
    ]
    return net, params, norm


OPTIMIZERS = {
    "sgd": ({}, {}),
    "momentum": ({"momentum": 0.9}, {"momentum": 0.9}),
    "nesterov": ({"momentum": 0.9, "nesterov": True}, {"momentum": 0.9, "nesterov": True}),
    "adam": ({}, {}),
    "adamw": ({}, {}),
    "rmsprop": ({}, {}),
}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("bn", [False, True])
def test_torch_residual_block_over_four_steps_train_and_eval(optimizer: str, bn: bool) -> None:
    """Linear → (BatchNorm1d →) ReLU → Linear + skip, four steps of batches of 2 with each optimizer:
    every updated parameter to 1e-9, batch norm's running statistics, and the loss in eval mode."""
    torch = pytest.importorskip("torch", reason="torch is not installed; parity tests need `pip install torch==2.13.0`")
    f64 = torch.float64
    # fc1 without biases before batch norm, as Linear(bias=False) before BatchNorm1d is written: a bias
    # there has gradient 0 up to rounding, which Adam's ε turns into steps that differ from torch's rounding
    inner: list[dict[str, Any]] = [{k: v for k, v in FC1.items() if k != "biases"} | {"bias": False} if bn else FC1]
    if bn:
        inner.append({"type": "batchnorm", "name": "bn", "eps": 1e-3, "momentum": 0.2, "gamma": GAMMA, "beta": BETA})
    inner += [{"type": "activation", "name": "f", "activation": "relu"}, FC2]
    ours, theirs = OPTIMIZERS[optimizer]
    name = {"nesterov": "momentum"}.get(optimizer, optimizer)
    spec = load(
        config(
            block(*inner),
            optimizer={"name": name, "learning_rate": 0.05} | ours,
            training={"steps": 4, "batch_size": 2},
        )
    )
    net, params, norm = _torch_block(torch, bn)
    opt_class = {
        "sgd": torch.optim.SGD,
        "momentum": torch.optim.SGD,
        "nesterov": torch.optim.SGD,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "rmsprop": torch.optim.RMSprop,
    }[optimizer]
    opt = opt_class(params, lr=0.05, **theirs)
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
        assert [f"{u.layer}.{u.kind}" for u in rec.updates][2] == "res1.fc1.weights"
        for u, param in zip(rec.updates, params, strict=True):
            np.testing.assert_allclose(u.new, param.detach().numpy(), rtol=1e-9, atol=1e-13)
        if bn:
            np.testing.assert_allclose(rec.buffers["res1.bn"]["running_mean"], norm.running_mean.numpy(), rtol=1e-12)
            np.testing.assert_allclose(rec.buffers["res1.bn"]["running_var"], norm.running_var.numpy(), rtol=1e-12)
    net.eval()  # batch norm on its running statistics: train's loss on all data
    with torch.no_grad():
        theirs_eval = torch.nn.functional.binary_cross_entropy_with_logits(net(x_all), y_all).item()
    with np.errstate(all="ignore"):
        caches = engine.forward(engine.x, 4, evaluating=True)
    assert float(engine.batch_loss(caches[-1].z, caches[-1].a, engine.y, 4)[2]) == pytest.approx(theirs_eval, rel=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fast_mode_gives_the_trace_with_a_block(optimizer: str) -> None:
    bn = {"type": "batchnorm", "name": "bn", "gamma": GAMMA, "beta": BETA}
    spec = load(
        config(
            block(FC1, bn, {"type": "activation", "activation": "tanh"}, FC2, activation="relu"),
            optimizer={"name": optimizer},
            training={"steps": 3, "batch_size": 2},
        )
    )
    records = list(Engine(spec).run())
    fast = Engine(spec)
    for number, rows in enumerate(fast.schedule, start=1):
        fast.fast_step(number, rows)
    for u, tensor in zip(records[-1].updates, [t for ts in fast.tensors for t in ts], strict=True):
        np.testing.assert_allclose(tensor, u.new, rtol=1e-12)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(spec=residual_networks())
def test_central_differences_agree_on_random_networks_with_residual_blocks(spec: NetworkSpec) -> None:
    with np.errstate(all="ignore"):
        result = check_gradients(spec)
    assert not result.failed, [(c.layer, c.kind, c.index, c.analytic, c.numeric) for c in result.failed]


@SETTINGS
@given(spec=residual_networks())
def test_fast_mode_gives_the_trace_on_random_networks_with_residual_blocks(spec: NetworkSpec) -> None:
    traced = Engine(spec).step(1, tuple(range(spec.data.rows)))
    fast = Engine(spec).fast_step(1, tuple(range(spec.data.rows)))
    updates = iter(traced.updates)
    for grads in fast.grads:
        for grad in grads:
            np.testing.assert_allclose(grad, next(updates).grad, rtol=1e-10, atol=1e-13)


def test_a_skip_left_out_of_the_gradient_is_caught_by_central_differences(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: an entry that passes down only the branch's ∂L/∂x (the skip's dropped)."""
    from backprop_cli.nn.layers import residual

    spec = load(config())
    assert not check_gradients(spec).failed
    real = residual.ResidualEntry.backward_trace

    def branch_only(
        self: Any, fwd: Any, upstream: Any, combined: Any, step: int, first: bool, *, skip: Any = None
    ) -> Any:
        return real(self, fwd, upstream, combined, step, first, skip=0 * skip)

    monkeypatch.setattr(residual.ResidualEntry, "backward_trace", branch_only)
    failed = check_gradients(spec).failed
    assert failed and {c.layer for c in failed} == {"h"}


@pytest.mark.parametrize(
    ("res", "words"),
    [
        (
            block(FC1),
            "net.json:1:.*network.layers\\[1\\].layers: residual block 'res1': its branch gives an output "
            "of shape 3 \\(layer 'res1.fc1'\\), its input has shape 2; expected the same shape",
        ),
        (block(FC1 | {"weights": [[0.1], [0.2], [0.3]]}, FC2), "network.layers\\[1\\].layers\\[0\\].weights"),
        (block(), "network.layers\\[1\\].layers: has 0 items; expected a list of at least 1"),
        (block(FC1 | {"name": "branch"}, FC2), "layers\\[0\\].name: inner layer name 'branch' is taken"),
        (block(FC1, FC2, activation="softmax"), "softmax on residual block 'res1'"),
        (block(FC1, FC2, negative_slope=0.2), "negative_slope with activation 'identity'"),
        (block(FC1, FC1, FC2), "duplicate layer name 'res1.fc1'"),
    ],
)
def test_bad_residual_blocks_are_located(res: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load(config(res))


def test_a_shape_error_exits_2_with_one_located_line(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(config(block(FC1))), encoding="utf-8")
    result = invoke("trace", str(path))
    assert result.exit_code == 2
    assert "its branch gives an output of shape 3" in result.stderr and "its input has shape 2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_the_trace_lays_out_the_block_and_every_quantity_recomputes() -> None:
    from backprop_cli import budget
    from backprop_cli.layout.rows import step_plan, step_sections
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render.json_out import dumps

    bn = {"type": "batchnorm", "name": "bn", "gamma": GAMMA, "beta": BETA}
    spec = load(
        config(
            block(FC1, bn, {"type": "activation", "activation": "relu"}, FC2),
            optimizer={"name": "adam"},
            training={"steps": 2},
        )
    )
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
        assert "step1/sample1/res1.dL_dx2" in values or "step2/sample1/res1.dL_dx2" in values
        forms = {q.name: q.form.template for b in built for q in b.quantities}
        step = f"step{rec.step}/sample2/"
        assert forms[step + "res1.z1"] == "{0} + {1}" and forms[step + "res1.dL_dx1"] == "{0} + {1}"
    laid_out = sum(len(s.rows) for rec in records for s in step_sections(rec, NumberFormat()))
    assert budget.chosen_rows(spec, Filter()).rows == laid_out

    def numbers(value: object) -> int:
        if isinstance(value, dict):
            return sum(numbers(v) for v in value.values())
        if isinstance(value, list):
            return sum(numbers(v) for v in value)
        return int(isinstance(value, int | float) and not isinstance(value, bool))

    states = budget.optimizer_states(spec)
    for rec in records:
        actual = numbers(json.loads(dumps(rec.to_dict())))
        assert actual <= budget.json_numbers(spec, len(rec.samples), states) <= actual * 1.1 + 10


def test_json_keys_the_inner_layers_as_block_inner_and_the_config_nests_them(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(config()), encoding="utf-8")
    result = invoke("trace", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.output)
    step = doc["steps"][0]
    assert list(step["parameters"]) == ["h", "res1.fc1", "res1.fc2", "o"]
    assert step["parameters"]["res1.fc1"]["weights"] == FC1["weights"]
    nested = doc["config"]["network"]["layers"][1]
    assert nested["type"] == "residual" and [entry["name"] for entry in nested["layers"]] == ["fc1", "f", "fc2"]
    sample = step["per_sample"][0]
    assert sample["forward"]["res1"]["skip"] == sample["forward"]["h"]["a"]


def test_names_answers_check_explain_and_gradcheck(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(config()), encoding="utf-8")
    names = invoke("names", str(path))
    assert names.exit_code == 0, names.stderr
    for name in (
        "sample1/res1.skip1",
        "sample1/res1.dL_dskip2",
        "sample1/res1.dL_dx1",
        "sample1/res1.branch.dL_da1",
        "res1.fc1.w3_2",
        "sample2/res1.fc2.delta1",
    ):
        assert name in names.output, name
    explained = invoke("explain", str(path), "sample1/h.dL_da1", "--depth", "2")
    assert explained.exit_code == 0, explained.stderr
    assert "res1.dL_dx1" in explained.output and "res1.dL_dskip1" in explained.output
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(path), "-o", str(key)).exit_code == 0
    assert invoke("check", str(key)).exit_code == 0
    checked = invoke("gradcheck", str(path))
    assert checked.exit_code == 0, checked.output + checked.stderr
    assert "res1.fc1.dL_dw1_1" in checked.output


def test_train_save_loads_back_and_continues_the_same_run(tmp_path: Path) -> None:
    bn = {"type": "batchnorm", "name": "bn", "gamma": GAMMA, "beta": BETA}
    spec = load(
        config(
            block(FC1, bn, {"type": "activation", "activation": "relu"}, FC2), training={"steps": 3, "batch_size": 2}
        )
    )
    result = TrainingRun(spec).run()
    saved = trained_config(result)
    assert saved["network"]["layers"][1]["type"] == "residual"
    again = load(saved)
    assert [layer.name for layer in again.layers] == [layer.name for layer in spec.layers]
    engine = Engine(again)
    for index, trained in enumerate(result.tensors):
        for kind, tensor in trained.items():
            np.testing.assert_array_equal(engine.named_tensors(index)[kind], tensor)
    assert engine.buffers()["res1.bn"]["running_var"].tolist() == result.buffers[3]["running_var"].tolist()


def test_exact_runs_a_rational_block_and_agrees_with_the_float_run(tmp_path: Path) -> None:
    from fractions import Fraction

    value = config(loss="mse", optimizer={"name": "sgd", "learning_rate": 0.5})
    # (biases moved off H's: its h.z1 of row 1 is exactly 0 in fractions, 2.8e-17 in floats, a ReLU's kink)
    value["network"]["layers"][0] = H | {"activation": "relu", "biases": [0.15, -0.1]}
    value["network"]["layers"][2] = OUT | {"activation": "identity"}
    spec = load(value)
    exact = Engine(spec, exact=True).step(1, (0, 1, 2, 3))
    floating = Engine(spec).step(1, (0, 1, 2, 3))
    for u, v in zip(exact.updates, floating.updates, strict=True):
        assert all(isinstance(x, Fraction) for x in u.new.flat)
        np.testing.assert_allclose(u.new.astype(float), v.new, rtol=1e-12)
    path = tmp_path / "net.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    result = invoke("trace", str(path), "--exact", "--layer", "res1.branch")
    assert result.exit_code == 0, result.stderr
    assert "res1.dL_dx1" in result.output


def test_train_compare_says_the_first_layers_gradients_are_orders_of_magnitude_apart() -> None:
    """The seed lesson: deep_plain's first layer gets a gradient 10⁵ times smaller than deep_residual's,
    deep_sigmoid's (over the run) 10³ times smaller than deep_sigmoid_batchnorm's."""
    result = invoke("train", "deep_plain", "--compare", "deep_residual", "--epochs", "20", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.output)
    assert [run["config"]["description"] for run in doc["runs"]][1].startswith("Skip connections")
    contrast = doc["contrast"]
    plain, residual = contrast["step1"]["norms"]
    assert plain == doc["runs"][0]["diagnostics"]["step1"][0]["grad_norm"]
    assert residual == doc["runs"][1]["diagnostics"]["step1"][0]["grad_norm"]
    assert contrast["step1"]["orders"] == pytest.approx(math.log10(residual / plain), rel=1e-12)
    assert contrast["step1"]["orders"] > 4
    assert re.search(r"deep_residual's is 5\.\d orders of magnitude larger than deep_plain's", contrast["text"][0])
    text = invoke("train", "deep_sigmoid", "--compare", "deep_sigmoid_batchnorm", "--no-parameters", "--width", "200")
    assert text.exit_code == 0, text.stderr
    assert "Comparison · deep_sigmoid (built-in example) and deep_sigmoid_batchnorm (built-in example)" in text.output
    assert re.search(
        r"over each run \(mean\): .*deep_sigmoid_batchnorm's is [34]\.\d orders of magnitude larger", text.output
    )
