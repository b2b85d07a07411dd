"""``training: {mode: eval}``: every step as torch's ``model.eval()`` runs it: batch norm normalises with
its running statistics and leaves them as they are, dropout passes its input; against torch over several
steps with each optimizer (a residual block with batch norm inside), central differences, and the trace's
layout (its counts and every quantity recomputed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backprop_cli.errors import ConfigError
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from tests.nn.layers.kit import load

H = {"name": "h", "units": 2, "weights": [[0.5, -0.3], [0.2, 0.8]], "biases": [0.1, -0.1]}
FC = {"name": "fc", "units": 2, "weights": [[0.3, -0.2], [0.4, 0.2]], "biases": [0.05, -0.05]}
OUT = {"name": "o", "units": 1, "activation": "sigmoid", "weights": [[1.0, -1.0]], "biases": [0.0]}
BN = {
    "type": "batchnorm",
    "name": "bn",
    "gamma": [1.5, 0.5],
    "beta": [0.1, -0.1],
    "running_mean": [0.2, -0.1],
    "running_var": [0.5, 2.0],
}
DATA = [
    {"x": [1.0, 2.0], "y": [1]},
    {"x": [-1.0, 0.5], "y": [0]},
    {"x": [0.3, -0.7], "y": [1]},
]


def config(**rest: Any) -> dict[str, Any]:
    block = {"type": "residual", "name": "res1", "layers": [BN, {"type": "activation", "activation": "tanh"}, FC]}
    layers = [H, block, {"type": "dropout", "name": "d", "p": 0.5, "seed": 3}, OUT]
    return {
        "network": {"inputs": 2, "layers": layers},
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "data": DATA,
        "training": {"mode": "eval", "steps": 3, "batch_size": 2},
    } | rest


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
def test_torch_in_eval_mode_over_three_steps(optimizer: str) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed; parity tests need `pip install torch==2.13.0`")
    f64 = torch.float64
    spec = load(config(optimizer={"name": optimizer, "learning_rate": 0.05}))
    h, fc, out = torch.nn.Linear(2, 2, dtype=f64), torch.nn.Linear(2, 2, dtype=f64), torch.nn.Linear(2, 1, dtype=f64)
    bn = torch.nn.BatchNorm1d(2, dtype=f64)
    with torch.no_grad():
        for module, layer in ((h, H), (fc, FC), (out, OUT)):
            module.weight.copy_(torch.tensor(layer["weights"], dtype=f64))
            module.bias.copy_(torch.tensor(layer["biases"], dtype=f64))
        bn.weight.copy_(torch.tensor(BN["gamma"], dtype=f64))
        bn.bias.copy_(torch.tensor(BN["beta"], dtype=f64))
        bn.running_mean.copy_(torch.tensor(BN["running_mean"], dtype=f64))
        bn.running_var.copy_(torch.tensor(BN["running_var"], dtype=f64))
    drop = torch.nn.Dropout(0.5)
    modules = torch.nn.ModuleList([h, bn, fc, out, drop])

    def net(x: Any) -> Any:
        a = h(x)
        return out(drop(a + fc(torch.tanh(bn(a)))))

    params = [h.weight, h.bias, bn.weight, bn.bias, fc.weight, fc.bias, out.weight, out.bias]
    opt_class = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "adam": torch.optim.Adam}
    opt = opt_class.get(optimizer, torch.optim.RMSprop)(
        params, lr=0.05, **({"momentum": 0.9} if optimizer == "momentum" else {})
    )
    modules.eval()
    x_all = torch.tensor([row["x"] for row in DATA], dtype=f64)
    y_all = torch.tensor([row["y"] for row in DATA], dtype=f64)
    for rec in Engine(spec).run():
        x, y = x_all[list(rec.samples)], y_all[list(rec.samples)]
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
        loss.backward()
        opt.step()
        assert rec.loss.value == pytest.approx(loss.item(), rel=1e-12)
        for u, param in zip(rec.updates, params, strict=True):
            np.testing.assert_allclose(u.new, param.detach().numpy(), rtol=1e-9, atol=1e-14)
        np.testing.assert_array_equal(rec.buffers["res1.bn"]["running_mean"], BN["running_mean"])  # not updated
        np.testing.assert_array_equal(rec.buffers["res1.bn"]["running_var"], BN["running_var"])


def test_central_differences_agree_in_eval_mode_and_a_batch_of_one_is_allowed() -> None:
    result = check_gradients(load(config()))
    assert len(result.checks) == 6 + 4 + 6 + 3 and not result.failed
    one = check_gradients(load(config(training={"mode": "eval", "batch_size": 1})))
    assert not one.failed  # no batch statistics: a batch of one sample is fine, as in torch's eval mode
    with pytest.raises(ConfigError, match=r"batch norm layer 'res1\.bn' in a training step of a batch of 1"):
        list(Engine(load(config(training={"batch_size": 1}))).run())


def test_the_trace_in_eval_mode_lays_out_its_counts_and_every_quantity_recomputes() -> None:
    from backprop_cli import budget
    from backprop_cli.layout.rows import step_plan, step_sections
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat

    spec = load(config())
    records = list(Engine(spec).run())
    for rec in records:
        built = [p.build() for p in step_plan(rec, NumberFormat())]
        titles = [b.title for b in built]
        assert "Running statistics · layer res1.bn (batch norm, eval)" in titles
        assert not any(t.startswith("Batch terms") for t in titles)
        values = {q.name: q.value for b in built for q in b.quantities}
        assert not any(".running_mean" in name for name in values)  # no update of the buffers
        for b in built:
            for q in b.quantities:
                if q.form.rule is not None and q.kind == "computed":
                    assert q.recompute(values) == pytest.approx(q.value, rel=1e-11, abs=1e-14), q.name
    laid_out = sum(len(s.rows) for rec in records for s in step_sections(rec, NumberFormat()))
    assert budget.chosen_rows(spec, Filter()).rows == laid_out


def test_a_training_step_shows_the_running_statistics_update() -> None:
    value = config(training={"steps": 1})
    spec = load(value)
    rec = Engine(spec).step(1, (0, 1, 2))
    from backprop_cli.layout.rows import step_plan
    from backprop_cli.model.numbers import NumberFormat

    quantities = {q.name: q for p in step_plan(rec, NumberFormat()) for q in p.build().quantities}
    mean, var = quantities["res1.bn.mean1"].value, quantities["res1.bn.var1"].value
    new_mean, new_var = quantities["res1.bn.running_mean1.new"], quantities["res1.bn.running_var1.new"]
    assert new_mean.value == pytest.approx(0.9 * 0.2 + 0.1 * float(mean), rel=1e-14)
    assert new_var.value == pytest.approx(0.9 * 0.5 + 0.1 * float(var) * 3 / 2, rel=1e-14)
    assert rec.buffers["res1.bn"]["running_var"][0] == new_var.value


def test_mode_is_checked() -> None:
    with pytest.raises(
        ConfigError, match=r"training.mode: unknown training mode 'evaluate'.*expected one of train, eval"
    ):
        load(config(training={"mode": "evaluate"}))
