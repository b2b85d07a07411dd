"""The dropout layer: its masks (seeded per step, or given), by hand, against torch with the same masks,
by central differences, off when evaluating, and through the trace and the homework commands."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_cli.errors import ConfigError
from backprop_cli.loading.config import with_training
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.gradcheck import check_gradients
from backprop_cli.nn.layers.dropout import DropoutLayer, DropoutSpec
from backprop_cli.nn.train import TrainingRun, trained_config
from tests.nn.layers.kit import invoke, load

H = {"name": "h", "units": 3, "activation": "tanh", "weights": [[0.5, -0.4], [0.3, 0.8], [0.2, 0.1]]}
OUT = {"name": "o", "units": 1, "activation": "sigmoid", "weights": [[0.7, -0.6, 0.4]], "biases": [0.05]}
DATA = [{"x": [1.0, 2.0], "y": [1]}, {"x": [-1.0, 0.5], "y": [0]}, {"x": [0.3, -0.7], "y": [1]}]
MASK = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]]


def config(dropout: dict[str, Any], **rest: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "network": {"inputs": 2, "layers": [H, {"type": "dropout", "name": "d"} | dropout, OUT]},
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "data": DATA,
    }
    return base | rest


def test_seeded_masks_are_reproducible_fresh_each_step_and_keep_one_minus_p() -> None:
    spec = load(config({"p": 0.3, "seed": 7}))
    layer = spec.layers[1]
    assert isinstance(layer, DropoutSpec) and (layer.units, layer.parameter_count) == (3, 0)
    op, again = DropoutLayer(layer, ("h.a1", "h.a2", "h.a3")), DropoutLayer(layer, ("h.a1", "h.a2", "h.a3"))
    np.testing.assert_array_equal(op.masks(1, 4), again.masks(1, 4))
    assert not np.array_equal(op.masks(1, 50), op.masks(2, 50))
    big = op.masks(3, 20_000)
    assert set(np.unique(big)) <= {0.0, 1.0}
    assert big.mean() == pytest.approx(0.7, abs=0.01)  # kept with probability 1 − p
    assert DropoutLayer(load(config({"p": 0.0})).layers[1], ("a", "b", "c")).masks(1, 5).all()  # type: ignore[arg-type]


def test_by_hand_with_a_given_mask() -> None:
    """a = z × m / (1 − p): p = 0.5 doubles what it keeps; δ_d = ∂L/∂a × m × 2 and ∂L/∂h.a = δ_d."""
    rec = Engine(load(config({"p": 0.5, "mask": MASK}))).step(1, (0, 1, 2))
    h, d, _ = rec.forward
    np.testing.assert_array_equal(d.z, h.a)
    np.testing.assert_array_equal(d.a, h.a * np.array(MASK) * 2)
    _, back_d, back_h = rec.backward
    np.testing.assert_array_equal(back_d.local, np.array(MASK) * 2)
    np.testing.assert_array_equal(back_d.delta, back_d.upstream * np.array(MASK) * 2)
    np.testing.assert_array_equal(back_h.upstream, back_d.delta)
    assert back_h.upstream[0, 1] == 0 and back_h.upstream[1, 0] == 0  # a dropped entry passes no gradient
    assert [u.layer for u in rec.updates] == ["h", "h", "o", "o"]


def test_a_shorter_mask_is_reused_from_its_first_row() -> None:
    op = DropoutLayer(load(config({"mask": MASK[:2]})).layers[1], ("a", "b", "c"))  # type: ignore[arg-type]
    np.testing.assert_array_equal(op.masks(4, 3), [MASK[0], MASK[1], MASK[0]])


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "momentum"])
def test_fast_mode_draws_the_same_masks_as_the_trace(optimizer: str) -> None:
    spec = load(config({"p": 0.4, "seed": 2}, optimizer={"name": optimizer}, training={"steps": 4, "batch_size": 2}))
    traced = list(Engine(spec).run())
    fast = Engine(spec)
    for number, rows in enumerate(fast.schedule, start=1):
        fast.fast_step(number, rows)
    for u, tensor in zip(traced[-1].updates, [t for ts in fast.tensors for t in ts], strict=True):
        np.testing.assert_allclose(tensor, u.new, rtol=1e-12)


@pytest.mark.parametrize("dropout", [{"p": 0.4, "seed": 5}, {"p": 0.25, "mask": MASK}], ids=["seed", "mask"])
def test_central_differences_agree_with_the_masks_of_the_step(dropout: dict[str, Any]) -> None:
    result = check_gradients(load(config(dropout)))
    assert len(result.checks) == 6 + 3 + 3 + 1 and not result.failed  # h: weights, biases (zeros); o
    assert max(abs(c.analytic - c.numeric) for c in result.checks) < 1e-8


def test_train_evaluates_without_dropout_and_saves_a_config_that_loads_back(tmp_path: Path) -> None:
    spec = with_training(load(config({"p": 0.5, "seed": 1})), steps=30)
    run = TrainingRun(spec)
    before, _ = run.evaluate(0)
    plain = load(config({"p": 0.0}))
    assert before == pytest.approx(float(Engine(plain).loss()), rel=1e-15)  # p = 0 is the identity
    result = run.run()
    assert result.loss_final < result.loss_before
    saved = trained_config(result, tmp_path)
    assert saved["network"]["layers"][1] == {"type": "dropout", "name": "d", "p": 0.5, "seed": 1}
    assert isinstance(load(saved).layers[1], DropoutSpec)


def test_exact_fractions_give_the_float_trace() -> None:
    value = config({"p": 0.5, "mask": MASK}, loss="mse")
    value["network"]["layers"][0] = H | {"activation": "relu"}
    value["network"]["layers"][2] = OUT | {"activation": "identity"}
    exact = Engine(load(value), exact=True).step(1, (0, 1, 2))
    floats = Engine(load(value)).step(1, (0, 1, 2))
    for u, v in zip(exact.updates, floats.updates, strict=True):
        np.testing.assert_allclose(np.array(u.new, dtype=float), v.new, rtol=1e-15)


@pytest.mark.parametrize(
    ("dropout", "words"),
    [
        ({"p": 1.0}, "network.layers[1].p: 1.0 is too large; expected a value < 1"),
        ({"p": -0.1}, "network.layers[1].p: -0.1 is too small; expected a value >= 0"),
        ({"mask": [[1, 0]]}, "network.layers[1].mask[0]: layer 'd' mask row 0 has 2 values; expected 3"),
        ({"mask": [[1, 0, 2]]}, "network.layers[1].mask[0]: mask value 2 is not 0 or 1"),
        ({"mask": MASK, "seed": 3}, "network.layers[1].seed: both mask and seed given; expected one of them"),
        ({"rate": 0.5}, "network.layers[1].rate: unknown field 'rate'; expected one of type, name, p, seed, mask"),
    ],
)
def test_bad_dropout_layers_are_located(dropout: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(config(dropout))
    assert words in caught.value.one_line()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_torch_with_the_same_masks_over_three_steps(optimizer: str) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed; parity tests need `pip install torch==2.13.0`")
    f64 = torch.float64
    spec = load(config({"p": 0.3, "seed": 11}, optimizer={"name": optimizer, "learning_rate": 0.1}))
    spec = with_training(spec, steps=3)
    engine = Engine(spec)
    op = engine.layers[1]
    assert isinstance(op, DropoutLayer)
    first, last = torch.nn.Linear(2, 3, dtype=f64), torch.nn.Linear(3, 1, dtype=f64)
    with torch.no_grad():
        first.weight.copy_(torch.tensor(H["weights"], dtype=f64))
        first.bias.zero_()
        last.weight.copy_(torch.tensor(OUT["weights"], dtype=f64))
        last.bias.copy_(torch.tensor(OUT["biases"], dtype=f64))
    params = [first.weight, first.bias, last.weight, last.bias]
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer](params, lr=0.1)
    x = torch.tensor([row["x"] for row in DATA], dtype=f64)
    y = torch.tensor([row["y"] for row in DATA], dtype=f64)
    for rec in engine.run():
        mask = torch.tensor(op.masks(rec.step, len(DATA)), dtype=f64)
        opt.zero_grad()
        hidden = torch.tanh(first(x)) * mask / (1 - 0.3)  # torch's inverted dropout, with our mask
        loss = torch.nn.functional.binary_cross_entropy_with_logits(last(hidden), y)
        loss.backward()
        opt.step()
        assert rec.loss.value == pytest.approx(loss.item(), rel=1e-12)
        for u, theirs in zip(rec.updates, params, strict=True):
            np.testing.assert_allclose(u.new, theirs.detach().numpy(), rtol=1e-9, atol=1e-15)


def test_the_trace_shows_the_mask_the_scale_and_the_zeroed_entries(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(config({"p": 0.5, "mask": MASK})), encoding="utf-8")
    result = invoke("trace", str(path), "--width", "120", "--sample", "1", "--layer", "d")
    assert result.exit_code == 0, result.stderr
    text = result.output
    assert "Forward · layer d (dropout, p = 0.5)" in text
    assert re.search(r"sample1/d\.mask2\s+given mask\s+0", text)
    assert re.search(r"sample1/d\.a1\s+d\.z1 × d\.mask1 × 1/\(1 − 0\.5\)\s+\S+ × 1 × 2", text)
    assert "zeroed here: d.a2" in text
    assert re.search(r"sample1/d\.da_dz2\s+d\.mask2 × 1/\(1 − 0\.5\)\s+0 × 2\s+0", text)
    explained = invoke("explain", str(path), "sample1/h.dL_dw2_1", "--depth", "3")
    assert explained.exit_code == 0, explained.stderr
    assert "sample1/d.delta2 = d.dL_da2 × d.da_dz2" in explained.output
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(path), "--layer", "d", "-o", str(key)).exit_code == 0
    text = key.read_text(encoding="utf-8")
    assert "sample1/d.a1:" in text and "d.mask1" not in text  # the mask is given, as the inputs are
    key.write_text(re.sub(r"(?m)^  sample2/d\.a3: .*$", "  sample2/d.a3: 7", text), encoding="utf-8")
    graded = invoke("check", str(key), "--format", "json")
    assert graded.exit_code == 1
    assert [a["name"] for a in json.loads(graded.stdout)["answers"] if a["verdict"] == "wrong"] == ["sample2/d.a3"]
    names = invoke("names", str(path), "--layer", "d", "--format", "json")
    listed = {entry["name"] for entry in json.loads(names.output)["names"]}
    assert {"sample1/d.mask1", "sample3/d.a3", "sample2/d.delta1"} <= listed


def test_the_budgets_count_what_a_dropout_layer_lays_out_and_writes() -> None:
    from backprop_cli import budget
    from backprop_cli.layout.rows import step_plan, step_sections
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render.json_out import dumps

    spec = load(config({"p": 0.5, "seed": 4}, optimizer={"name": "adam"}, training={"steps": 2, "batch_size": 2}))
    records = list(Engine(spec).run())
    for rec in records:
        plans = list(step_plan(rec, NumberFormat()))
        assert [p.count for p in plans] == [len(p.build().quantities) for p in plans]
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


def test_the_network_tables_name_it_dropout_with_its_p(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(config({"p": 0.5, "seed": 1})), encoding="utf-8")
    header = invoke("trace", str(path), "--phase", "summary", "--width", "120").output
    assert re.search(r"\bd\s+3\s+3\s+dropout p = 0\.5\s+z × m / \(1 − 0\.5\)\s+0\b", header)
    validated = invoke("validate", str(path))
    assert "(h: 3 tanh, d: 3 dropout p = 0.5, o: 1 sigmoid)" in validated.output
    trained = invoke("train", str(path), "--steps", "3", "--width", "120")
    assert trained.exit_code == 0, trained.stderr
    assert "h: 3 tanh → d: 3 dropout p = 0.5 → o: 1 sigmoid" in trained.output
    landscape = invoke("landscape", str(path))
    assert landscape.exit_code == 2
    assert "network.layers[1]: layer 'd' is of type dropout; expected only dense layers" in landscape.stderr


def test_the_json_carries_each_sample_s_mask_and_no_parameters_of_the_layer() -> None:
    from backprop_cli.render.json_out import dumps

    rec = Engine(load(config({"p": 0.5, "mask": MASK}))).step(1, (0, 1, 2))
    document = json.loads(dumps(rec.to_dict()))
    assert set(document["parameters"]) == set(document["gradients"]) == set(document["updated"]) == {"h", "o"}
    for p, sample in enumerate(document["per_sample"]):
        assert sample["forward"]["d"]["mask"] == MASK[p]
        assert "dL_dw" not in sample["backward"]["d"] and "dL_dw" in sample["backward"]["h"]
        assert sample["backward"]["d"]["dL_da_below"] == sample["backward"]["d"]["delta"]


def test_documents_show_its_rule_above_its_forward_tables(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(config({"p": 0.5, "seed": 1})), encoding="utf-8")
    markdown = invoke("trace", str(path), "--format", "markdown", "--layer", "d", "--phase", "forward")
    assert markdown.exit_code == 0, markdown.stderr
    assert "a_j = z_j \\cdot \\frac{m_j}{1 - 0.5}, \\quad z_j = a^{\\text{in}}_j" in markdown.output
