"""backprop train: the lean trainer against the traced engine, the shipped runs, the summary, --save, faults."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode
from backprop_cli.loading.config import load_config
from backprop_cli.loading.examples import example_path
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import OptimizerSpec, TrainingSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.train import Accuracy, TrainingRun, accuracy, train
from backprop_cli.render.chart import column_chart
from tests.strategies import make_spec


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None})


def summary(*args: str) -> dict[str, object]:
    result = invoke("train", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc: dict[str, object] = json.loads(result.output)
    return doc


# ---------------------------------------------------------------- the lean path is the engine's arithmetic

LEAN_CASES = [
    # sizes, activations, loss, reduction, batch size, shuffle
    ([3, 4, 2], ["sigmoid", "identity"], "mse", "mean", 2, False),
    ([2, 5, 3], ["tanh", "softmax"], "cross_entropy", "mean", 3, True),
    ([2, 4, 3, 1], ["relu", "leaky_relu", "sigmoid"], "bce", "sum", 2, True),
    ([3, 3, 3], ["relu", "softmax"], "mse", "mean", None, False),  # softmax without CE: the Jacobian path
    ([2, 3, 2], ["leaky_relu", "identity"], "mae", "sum", 4, True),
    ([4, 2], ["identity"], "half_sse", "mean", 1, True),
]


@pytest.mark.parametrize(("sizes", "activations", "loss", "reduction", "batch", "shuffle"), LEAN_CASES)
def test_lean_trainer_gives_the_engines_parameters(
    sizes: list[int], activations: list[str], loss: str, reduction: str, batch: int | None, shuffle: bool
) -> None:
    spec = make_spec(sizes, activations, loss, seed=len(sizes) + sizes[1], rows=5, reduction=reduction)
    spec = replace(spec, training=TrainingSpec(epochs=4, batch_size=batch, shuffle=shuffle, seed=3))
    engine = Engine(spec)
    losses = [rec.loss.value for rec in engine.run()]
    trainer = TrainingRun(spec)
    lean = [trainer.step(k, rows)[0] for k, rows in enumerate(trainer.schedule, start=1)]
    assert len(lean) == len(losses) >= 4
    np.testing.assert_allclose(lean, losses, rtol=1e-12, atol=0)
    for ours, theirs in zip(trainer.weights, engine.params.weights, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    for ours_b, theirs_b in zip(trainer.biases, engine.params.biases, strict=True):
        assert ours_b is not None and theirs_b is not None
        np.testing.assert_allclose(ours_b, theirs_b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("momentum", {"nesterov": True, "weight_decay": 0.01}),
        ("adam", {}),
        ("adamw", {"weight_decay": 0.1}),
        ("rmsprop", {"centered": True}),
    ],
)
def test_lean_trainer_with_stateful_optimizers(name: str, options: dict[str, float | bool]) -> None:
    spec = make_spec([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=12, rows=6)
    spec = replace(
        spec,
        optimizer=OptimizerSpec(name, 0.05, options),
        training=TrainingSpec(epochs=3, batch_size=4, shuffle=True, seed=5),
    )
    engine = Engine(spec)
    for _ in engine.run():
        pass
    result = train(spec)
    for ours, theirs in zip(result.weights, engine.params.weights, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_lean_trainer_keeps_frozen_parameters_and_layers_without_bias() -> None:
    spec = make_spec([2, 3, 1], ["tanh", "identity"], "mse", seed=4, rows=4, bias=False)
    frozen = replace(spec.layers[0], frozen=frozenset({"weights"}))
    spec = replace(spec, layers=(frozen, spec.layers[1]), training=TrainingSpec(steps=5, batch_size=2))
    engine = Engine(spec)
    for _ in engine.run():
        pass
    result = train(spec)
    np.testing.assert_array_equal(result.weights[0], spec.layers[0].weights)
    np.testing.assert_allclose(result.weights[1], engine.params.weights[1], rtol=1e-12)
    assert result.biases == (None, None)
    assert result.first_step[0].update_ratio is None  # frozen: no update to measure


def test_history_has_one_point_per_epoch_and_the_final_loss_is_recomputed() -> None:
    spec = make_spec([2, 3, 1], ["sigmoid", "identity"], "mse", seed=9, rows=5)
    spec = replace(spec, training=TrainingSpec(epochs=3, batch_size=2))
    result = train(spec)
    assert [p.epoch for p in result.history] == [0, 1, 2, 3]
    assert [p.step for p in result.history] == [0, 3, 6, 9]  # ⌈5 / 2⌉ = 3 steps per epoch
    engine = Engine(spec)
    for _ in engine.run():
        pass
    assert result.final.loss == pytest.approx(engine.loss(), rel=1e-12)
    assert result.before.loss == pytest.approx(Engine(spec).loss(), rel=1e-15)


def test_the_loss_on_all_data_is_evaluated_before_and_after_or_after_every_pass() -> None:
    spec = make_spec([2, 3, 2], ["tanh", "softmax"], "cross_entropy", seed=6, rows=5)
    spec = replace(spec, training=TrainingSpec(epochs=3, batch_size=2, shuffle=True, seed=1))
    lean, every = train(spec), train(spec, each_pass=True)
    assert [p.loss is None for p in lean.history] == [False, True, True, False]
    assert [p.accuracy is None for p in lean.history] == [False, True, True, False]
    for epochs, point in enumerate(every.history):
        engine = Engine(replace(spec, training=replace(spec.training, epochs=epochs)))
        if epochs:
            for _ in engine.run():
                pass
        assert point.loss == pytest.approx(engine.loss(), rel=1e-12), epochs
    # evaluating changes nothing of the training itself
    assert [p.batch_loss for p in lean.history] == [p.batch_loss for p in every.history]
    assert lean.loss_final == every.loss_final and lean.loss_before == every.loss_before
    for ours, theirs in zip(lean.weights, every.weights, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_the_chart_shows_mean_batch_losses_or_with_eval_each_pass_the_loss_on_all_data() -> None:
    lean, every = summary("iris", "--epochs", "3"), summary("iris", "--epochs", "3", "--eval-each-pass")
    assert [p["loss"] is None for p in lean["history"]] == [False, True, True, False]  # type: ignore[index, union-attr]
    assert all(p["loss"] is not None for p in every["history"])  # type: ignore[index, union-attr]
    default = " ".join(invoke("train", "iris", "--epochs", "3", "--width", "100").output.split())
    assert "Mean batch loss of each pass (each batch's loss before its update)" in default
    assert "1 3 epoch" in default  # passes 1 to 3: no pass 0 without a batch
    evaluated = " ".join(invoke("train", "iris", "--epochs", "3", "--eval-each-pass", "--width", "100").output.split())
    assert "Loss on all data rows, before training (0) and after each pass" in evaluated
    assert "0 3 epoch" in evaluated
    assert lean["version"] == every["version"] == 2  # 2: the loss on all data may be null


def test_a_last_pass_cut_short_is_left_out_of_the_mean_batch_loss_chart() -> None:
    def text(*args: str) -> str:
        result = invoke("train", "iris", *args, "--no-parameters", "--width", "100")
        assert result.exit_code == 0, result.stderr
        return " ".join(result.output.split())

    cut = text("--steps", "12")  # 5 steps a pass: passes 1 and 2 whole, pass 3 two steps
    assert "1 2 pass over the data pass 3 ran 2 steps of 5 and is left out of the chart" in cut
    alone = text("--steps", "3")  # one pass, cut short: its mean is all there is, said so
    assert "Mean batch loss of each pass" in alone and "1 pass over the data the one pass ran 3 steps of 5" in alone
    whole = text("--epochs", "1")  # one whole pass: the mean batch loss chart all the same, no note
    assert "Mean batch loss of each pass" in whole and "1 epoch final loss" in whole


def test_the_finiteness_check_is_the_norm_and_locates_a_fault() -> None:
    from backprop_cli.nn.check import finite as _finite
    from backprop_cli.nn.engine import NumericalFault

    values = np.array([[3.0, -4.0]])
    assert _finite(values, step=1, layer="h", quantity="z") == 5.0
    huge = np.array([[1e200, 1.0]])  # finite, but its square sum overflows: the norm is rescaled
    with np.errstate(over="ignore"):  # as the trainer runs it
        assert _finite(huge, step=1, layer="h", quantity="z") == 1e200
        assert _finite(np.array([[1.7e308, 1.7e308]]), step=1, layer="h", quantity="z") == float("inf")  # past
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(NumericalFault) as caught:
            _finite(np.array([[1.0, 2.0], [3.0, bad]]), step=7, layer="h", quantity="z")
        assert (caught.value.step, caught.value.neuron) == (7, 2)


# ---------------------------------------------------------------- accuracy and the chart, by hand


def test_accuracy_for_softmax_sigmoid_and_regression() -> None:
    spec = make_spec([2, 3], ["softmax"], "cross_entropy", seed=1)
    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    y = np.array([[1.0, 0, 0], [0, 1.0, 0], [1.0, 0, 0]])
    assert accuracy(spec, a, y) == Accuracy(2, 3)  # rows 1 and 3 right, row 2 predicts class 3
    sig = make_spec([2, 1], ["sigmoid"], "bce", seed=1)
    assert accuracy(sig, np.array([[0.9], [0.4], [0.5]]), np.array([[1.0], [1.0], [1.0]])) == Accuracy(2, 3)
    assert accuracy(sig, np.array([[0.9]]), np.array([[0.3]])) is None  # soft targets: no classes
    reg = make_spec([2, 1], ["identity"], "mse", seed=1)
    assert accuracy(reg, np.array([[1.0]]), np.array([[1.0]])) is None


def test_column_chart_by_hand() -> None:
    lines = column_chart([4.0, 3.0, 2.0], height=2, width=10)
    # linear scale 2..4 over 2 rows of 8 eighths: 4 → 16 (both rows full), 3 → 9 (bottom full, ▁ on top),
    # 2 → 1 (▁ at the bottom)
    assert lines[0] == "4 ┤█▁ "
    assert lines[1] == "2 ┤██▁"
    assert lines[2].split() == ["0", "2", "epoch"]
    log = column_chart([100.0, 10.0, 1.0], height=2, width=10)
    assert log[-1].endswith("; vertical axis: log scale")
    one = column_chart([2.5], height=2, first=1)
    assert one[-1].split() == ["1", "epoch"]  # one point: one label, not "1 1"
    many = column_chart([float(v) for v in range(1, 201)], width=50)
    assert len(many[0]) == len("200 ┤") + 50 and many[-1].split()[:2] == ["0", "199"]


# ---------------------------------------------------------------- the shipped runs


def test_iris_reaches_95_percent_reproducibly() -> None:
    first, second = summary("iris"), summary("iris")
    acc = first["accuracy"]
    assert isinstance(acc, dict) and acc["total"] == 150
    assert acc["share"] >= 0.95, acc
    assert first == second  # same seeded start, same shuffled order, same numbers
    history = first["history"]
    assert isinstance(history, list) and len(history) == 401  # before training + 400 epochs
    assert history[-1]["loss"] < history[0]["loss"] / 10


def test_the_vanishing_pair_differs_by_orders_of_magnitude_and_says_so() -> None:
    sigmoid, relu = summary("deep_sigmoid"), summary("deep_relu_he")

    def first_layer(doc: dict[str, object], key: str) -> float:
        diagnostics = doc["diagnostics"]
        assert isinstance(diagnostics, dict)
        return float(diagnostics[key][0]["grad_norm"])

    for key in ("step1", "mean"):
        assert first_layer(relu, key) / first_layer(sigmoid, key) > 100  # ≥ 2 orders of magnitude
    text = invoke("train", "deep_sigmoid", "--width", "200").output
    assert "at step 1: vanishing gradients" in text and "barely learn" in text
    assert "no vanishing or exploding gradients" in invoke("train", "deep_relu_he", "--width", "200").output
    accuracy_relu = relu["accuracy"]
    accuracy_sigmoid = sigmoid["accuracy"]
    assert isinstance(accuracy_relu, dict) and isinstance(accuracy_sigmoid, dict)
    assert accuracy_relu["share"] == 1.0 and accuracy_sigmoid["share"] == 0.5  # XOR solved vs chance


def test_the_learning_rate_pair_converges_and_diverges() -> None:
    right = summary("lr_just_right")
    assert right["loss_final"] < right["loss_before"] / 100
    large = summary("lr_too_large")
    assert large["loss_final"] > large["loss_before"] * 100


def test_a_diverging_run_stops_at_the_first_non_finite_value() -> None:
    # lr_too_large by hand: w ← w − 0.3·mean(2(w·x − 2x)·x) = w − 2.8(w − 2) on x = 1, 2, 3; find the
    # step after which a loss term overflows. The next step's batch (all rows) meets it first; with
    # --eval-each-pass, the loss on all rows evaluated after that step does (one full batch = one pass).
    w, step = 0.0, 0
    while True:
        step += 1
        w = w - 0.3 * sum(2 * (w * x - 2 * x) * x for x in (1.0, 2.0, 3.0)) / 3
        terms = np.array([(w * x - 2 * x) for x in (1.0, 2.0, 3.0)])
        with np.errstate(over="ignore"):
            if not np.isfinite(terms**2).all():
                break
    expected = {
        (): f"numerical fault at step {step + 1}, layer out, neuron 1: mse loss term is not finite",
        ("--eval-each-pass",): (
            f"numerical fault at step {step}, layer out, neuron 1: "
            f"mse loss term (evaluating all data after step {step})"
        ),
    }
    for options, words in expected.items():
        result = invoke("train", "lr_too_large", "--steps", "1000", *options)
        assert result.exit_code == ExitCode.NUMERICAL_FAULT
        message = result.stderr.strip()
        assert len(message.splitlines()) == 1 and "Traceback" not in message
        assert words in message


def test_train_text_summary_and_no_progress_bar_off_a_terminal() -> None:
    result = invoke("train", "iris", "--width", "120")
    assert result.exit_code == 0
    assert result.stderr == ""  # the progress bar is only drawn on a terminal
    out = result.output
    for piece in (
        "Mean batch loss of each pass",
        "final loss:",
        "training accuracy: 9",
        "Gradient diagnostics",
        "Trained parameters",
        "species.w1_1",
        "shuffled each pass with seed 0",
        "iris.csv",
    ):
        assert piece in out, piece


def test_no_parameters_leaves_the_parameter_table_out() -> None:
    result = invoke("train", "deep_sigmoid", "--no-parameters", "--width", "120")
    assert result.exit_code == 0
    assert "Trained parameters" not in result.output and "Gradient diagnostics" in result.output


def test_past_max_rows_the_parameters_are_summarised_per_tensor() -> None:
    capped = invoke("train", "iris", "--max-rows", "5", "--width", "120").output
    assert "Trained parameters: 15, summarised per weight matrix and bias vector" in capped
    assert not any(line.lstrip().startswith("species.w1_1") for line in capped.splitlines())
    doc = summary("iris")
    before = load_config(example_path("iris")).layers[0].weights
    after = np.array(doc["parameters"]["species"]["weights"])  # type: ignore[index]
    moved = np.abs(after - before)
    row = next(line for line in capped.splitlines() if line.lstrip().startswith("species.weights"))
    cells = row.split()
    assert cells[1] == "3×4"
    np.testing.assert_allclose(
        [float(c) for c in cells[2:]], [before.mean(), after.mean(), moved.mean(), moved.max()], rtol=1e-5
    )
    assert "--max-rows 0, --format json, or --save FILE" in " ".join(capped.split())
    full = invoke("train", "iris", "--width", "120").output  # 15 ≤ 400: every parameter, before and after
    assert sum(line.lstrip().startswith("species.") for line in full.splitlines()) == 15  # 3×4 weights, 3 biases
    assert "summarised" not in full


def test_color_is_forced_on_or_off() -> None:
    assert "\x1b[" in invoke("train", "iris", "--steps", "1", "--color").output
    assert "\x1b[" not in invoke("train", "iris", "--steps", "1", "--no-color").output


def test_epochs_and_steps_overrides() -> None:
    assert summary("lr_just_right", "--steps", "3")["steps"] == 3
    assert summary("iris", "--epochs", "2")["steps"] == 10
    result = invoke("train", "iris", "--epochs", "2", "--steps", "3")
    assert result.exit_code == ExitCode.BAD_INPUT and "--epochs" in result.stderr


def test_saved_network_traces_with_the_trained_parameters(tmp_path: Path) -> None:
    saved = tmp_path / "trained.yaml"
    doc = summary("classic_2_2_2", "--steps", "20", "--save", str(saved))
    text = saved.read_text()
    assert text.startswith("# yaml-language-server: $schema=backprop-config.schema.json\n")
    trace = invoke("trace", str(saved), "--format", "json")
    assert trace.exit_code == 0, trace.stderr
    step = json.loads(trace.output)["steps"][0]
    assert step["parameters"] == doc["parameters"]  # full precision survives the YAML round trip
    assert step["loss"] == pytest.approx(doc["loss_final"], rel=1e-15)  # one row: batch = all data


def test_saved_iris_keeps_its_class_names_and_order_and_traces_one_step(tmp_path: Path) -> None:
    saved = tmp_path / "iris.yaml"
    doc = summary("iris", "--epochs", "3", "--save", str(saved))
    config = yaml.safe_load(saved.read_text())
    assert config["data"]["classes"] == ["setosa", "versicolor", "virginica"]  # kept as data, not a comment
    assert config["data"]["label"] == "species" and Path(config["data"]["file"]).name == "iris.csv"
    assert config["training"] == {"steps": 1, "batch_size": 30, "shuffle": True, "seed": 0}
    assert "(3 epochs, batches of 30, shuffled with seed 0)" in saved.read_text()
    # train's own help example: the saved network traced, one step, not the run again
    trace = invoke("trace", str(saved), "--format", "json")
    assert trace.exit_code == 0, trace.stderr
    traced = json.loads(trace.output)
    assert len(traced["steps"]) == 1 and traced["config"]["data"]["class_names"] == config["data"]["classes"]
    assert traced["summary"]["loss_before"] == pytest.approx(doc["loss_final"], rel=1e-12)  # the trained network
    text = invoke("trace", str(saved), "--phase", "summary").output
    assert "Step 1 of 1" in " ".join(text.split())


def test_a_saved_config_beside_its_data_names_it_relatively(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("a,b,kind\n1,0,cat\n0,1,dog\n1,1,cat\n", encoding="utf-8")
    (tmp_path / "net.yaml").write_text(
        "network: {inputs: [a, b], layers: [{units: 2, activation: softmax, init: xavier}]}\n"
        "loss: cross_entropy\noptimizer: sgd\ndata: {file: rows.csv, label: kind}\ntraining: {epochs: 2}\n",
        encoding="utf-8",
    )
    saved = tmp_path / "trained.yaml"
    assert invoke("train", str(tmp_path / "net.yaml"), "--save", str(saved)).exit_code == 0
    data = yaml.safe_load(saved.read_text())["data"]
    assert data == {"file": "rows.csv", "features": ["a", "b"], "label": "kind", "classes": ["cat", "dog"]}
    (tmp_path / "other.csv").write_text("a,b,kind\n0,1,dog\n", encoding="utf-8")  # dog first here
    step = json.loads(invoke("trace", str(saved), "--data", str(tmp_path / "other.csv"), "--format", "json").output)
    assert step["steps"][0]["per_sample"][0]["target"] == [0.0, 1.0]  # dog is still output unit 2


def test_thousand_rows_a_hundred_epochs(tmp_path: Path) -> None:
    """The size the issue names runs through the command (its time is measured in benchmarks, not here)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 4))
    label = (x[:, 0] + x[:, 1] > 0).astype(int)
    rows = "\n".join(",".join(f"{v:.6f}" for v in r) + f",{'ab'[c]}" for r, c in zip(x, label, strict=True))
    (tmp_path / "rows.csv").write_text("a,b,c,d,label\n" + rows + "\n")
    config = tmp_path / "net.yaml"
    config.write_text(
        """
network:
  inputs: [a, b, c, d]
  layers:
    - {name: h, units: 16, activation: relu, init: {method: he, seed: 1}}
    - {name: o, units: 2, activation: softmax, init: {method: xavier, seed: 2}}
loss: cross_entropy
optimizer: {name: sgd, learning_rate: 0.1}
data: {file: rows.csv, label: label}
training: {epochs: 100, batch_size: 32, shuffle: true, seed: 1}
"""
    )
    doc = summary(str(config))
    assert doc["steps"] == 100 * 32  # ⌈1000 / 32⌉ = 32 steps per epoch
    acc = doc["accuracy"]
    assert isinstance(acc, dict) and acc["share"] > 0.95  # a linearly separable rule


def test_train_help_has_examples() -> None:
    result = invoke("train", "--help")
    assert result.exit_code == 0 and "Examples:" in result.output and "backprop train iris" in result.output


@pytest.mark.parametrize("width", ["80", "60", "40"])
def test_narrow_terminals_fold_tables_but_never_cut_a_name_or_number(width: str) -> None:
    out = invoke("train", "deep_sigmoid", "--max-rows", "5", "--width", width).output
    assert "Gradient diagnostics" in out and "summarised per weight matrix and bias vector" in " ".join(out.split())
    assert "…" not in out
    if width == "80":  # wide enough: every name and number whole, on one line
        ratio = summary("deep_sigmoid")["diagnostics"]["mean"][0]["update_ratio"]  # type: ignore[index]
        assert f" {NumberFormat(6)(ratio)} " in out and " h1.weights " in out


def test_a_file_name_that_looks_like_an_emoji_code_is_printed_as_written(tmp_path: Path) -> None:
    target = tmp_path / ":smile:.yaml"
    result = invoke("train", "lr_just_right", "--steps", "1", "--save", str(target), "--width", "200")
    assert result.exit_code == 0 and target.exists()
    assert f"saved the trained network to {target}" in result.output and "😄" not in result.output


def test_the_parameter_table_folds_long_names_at_a_narrow_width_instead_of_cutting_them(tmp_path: Path) -> None:
    config = tmp_path / "net.yaml"
    config.write_text(
        "network:\n  inputs: 1\n  layers:\n    - {name: a_rather_long_layer_name_here, units: 1, activation: identity,"
        " weights: [[0.123456789]], biases: [0.5], frozen: [weights]}\n"
        "loss: mse\noptimizer: sgd\ndata: [{x: [1.23456789], y: [2]}]\n",
        encoding="utf-8",
    )
    narrow = invoke("train", str(config), "--width", "40", "--no-color")
    assert narrow.exit_code == 0, narrow.stderr
    table = narrow.output.split("Trained parameters", 1)[1]
    assert "…" not in table
    words = [w for w in table.split() if not re.fullmatch(r"[-\d.e]+", w)]  # the name column, folded
    assert "a_rather_long_layer_name_here.w1_1(frozen)a_rather_long_layer_name_here.b1" in "".join(words)
    wide = invoke("train", str(config), "--width", "120", "--no-color").output
    assert "a_rather_long_layer_name_here.w1_1 (frozen)" in wide  # whole, on one line, where it fits


# ---------------------------------------------------------------- data.test: held-out rows after training


def _held_out(tmp_path: Path, test_rows: str | None) -> Path:
    """A two-class softmax network trained on train.csv; with ``test_rows``, data.test names test.csv."""
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "train.csv").write_text("a,b,kind\n0,0,no\n1,0,yes\n0,1,no\n1,1,yes\n", encoding="utf-8")
    held_out = ""
    if test_rows is not None:
        (tmp_path / "test.csv").write_text("a,b,kind\n" + test_rows, encoding="utf-8")
        held_out = ", test: test.csv"
    config = tmp_path / "net.yaml"
    config.write_text(
        "network:\n  inputs: [a, b]\n  layers:\n"
        "    - {units: 2, activation: softmax, init: {method: xavier, seed: 3}}\n"
        "loss: cross_entropy\noptimizer: {name: sgd, learning_rate: 0.5}\ntraining: {steps: 30}\n"
        f"data: {{file: train.csv, label: kind{held_out}}}\n",
        encoding="utf-8",
    )
    return config


def test_test_rows_are_evaluated_once_with_the_trained_parameters_and_never_trained_on(tmp_path: Path) -> None:
    config = _held_out(tmp_path, "1,0.5,yes\n0.2,0.9,no\n0.9,0.1,no\n")
    spec = load_config(config)
    assert spec.data.test is not None and spec.data.test.rows == 3
    result = train(spec)
    assert result.test is not None
    # the same network trained without the test file: the test rows change nothing in training
    alone = train(load_config(_held_out(tmp_path / "plain", None)))
    assert alone.test is None
    for ours, theirs in zip(result.tensors, alone.tensors, strict=True):
        np.testing.assert_array_equal(ours["weights"], theirs["weights"])
    # the test loss and accuracy by hand from the trained weights: softmax of W·x + b, classes in the
    # training file's order (no, yes), so row 3 ("no") is judged with the same output units
    w, b = result.tensors[0]["weights"], result.tensors[0]["biases"]
    x = np.array([[1, 0.5], [0.2, 0.9], [0.9, 0.1]])
    y = np.array([[0, 1], [1, 0], [1, 0]])
    z = x @ w.T + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert result.test.loss == pytest.approx(float(-(y * np.log(p)).sum(axis=1).mean()), rel=1e-12)
    assert result.test.accuracy == Accuracy(int((p.argmax(axis=1) == y.argmax(axis=1)).sum()), 3)


def test_test_rows_in_the_summary_and_its_json(tmp_path: Path) -> None:
    config = _held_out(tmp_path, "1,0.5,yes\n0.2,0.9,no\n")
    result = invoke("train", str(config), "--no-color")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.output.split())  # the terminal's line breaks aside
    assert re.search(r"test rows: loss \S+ on 2 rows never trained on \(\S*test\.csv\)", text)
    assert re.search(r"test accuracy: \d+\.\d% \(\d of 2 rows right\)", text)
    doc = summary(str(config))
    test = doc["test"]
    assert isinstance(test, dict) and test["rows"] == 2 and test["accuracy"]["total"] == 2
    assert "test" not in summary("xor")  # no data.test: no key


def test_a_test_file_with_a_class_training_never_saw_is_located(tmp_path: Path) -> None:
    config = _held_out(tmp_path, "1,0.5,yes\n0.2,0.9,maybe\n")
    result = invoke("train", str(config))
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "test.csv" in line and "maybe" in line


def test_the_digits_cnn_learns_real_images_to_the_test_accuracy_its_description_states() -> None:
    spec = load_config(example_path("digits_cnn"))
    assert spec.data.rows == 1297 and spec.data.test is not None and spec.data.test.rows == 500
    pixels = np.concatenate([spec.data.x, spec.data.test.x])  # UCI's counts of on pixels in 4×4 blocks
    assert pixels.shape == (1797, 64) and pixels.min() == 0 and pixels.max() == 16
    assert (pixels == pixels.round()).all()
    assert set(spec.data.y.argmax(axis=1)) == set(range(10)) == set(spec.data.test.y.argmax(axis=1))
    result = train(spec)
    assert result.test is not None and result.test.accuracy is not None
    stated = re.search(r"(\d+) % test accuracy", spec.description or "")
    assert stated is not None
    # the description's figure is the run's, rounded down; the held-out rows are learnt, not memorised
    assert int(100 * result.test.accuracy.share) == int(stated.group(1))
    assert result.before.accuracy is not None and result.before.accuracy.share < 0.2
    assert result.final.accuracy is not None and result.final.accuracy.share > result.test.accuracy.share
