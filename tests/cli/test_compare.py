"""``backprop compare``: the same start, each variant's own trace, steps to the threshold, final parameters."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.landscape.compare import variants
from backprop_cli.loading.config import load_network as load
from backprop_cli.loading.examples import example_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None})


def compare_json(*args: str) -> dict[str, Any]:
    result = invoke("compare", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_variants_are_every_optimizer_at_every_rate_and_batch_size() -> None:
    spec, _ = load("xor", None)
    chosen = variants(spec, ("sgd", "adam:0.01"), (0.5, 2.0), (1, 4))
    labels = [v.label for v in chosen]
    assert labels == [
        "sgd η = 0.5, batch 1",
        "sgd η = 0.5, batch 4",
        "sgd η = 2, batch 1",
        "sgd η = 2, batch 4",
        "adam η = 0.01, batch 1",
        "adam η = 0.01, batch 4",
    ]
    assert [v.label for v in variants(spec, (), (), ())] == ["sgd η = 1"]  # the config's own run


def test_the_config_options_are_kept_only_for_its_own_optimizer() -> None:
    spec, _ = load("adam_two_steps", None)
    own, other = variants(spec, ("adam", "momentum"), (), ())
    assert own.optimizer.options == spec.optimizer.options and own.optimizer.learning_rate == 0.1
    assert other.optimizer.options == {} and other.optimizer.name == "momentum"


def test_steps_to_threshold_and_the_curves_of_lr_too_large_against_lr_just_right() -> None:
    document = compare_json("lr_too_large", "--learning-rate", "0.3", "--learning-rate", "0.05")
    large, right = document["runs"]
    # L(w) = (14/3)(w − 2)², and each step multiplies w − 2 by 1 − η·28/3: −1.8 at η = 0.3, 0.5333 at η = 0.05
    for run, factor in ((large, 1 - 0.3 * 28 / 3), (right, 1 - 0.05 * 28 / 3)):
        assert run["loss"] == pytest.approx([14 / 3 * 4 * factor ** (2 * k) for k in range(7)], rel=1e-9)
    # default threshold: 1% of the loss before, 56/3 · 0.01; 0.28444^k ≤ 0.01 first at k = 4 (k ≥ 3.66)
    assert document["threshold"] == pytest.approx(56 / 3 * 0.01)
    assert right["steps_to_threshold"] == 4 and large["steps_to_threshold"] is None
    assert math.log(0.01) / math.log((1 - 0.05 * 28 / 3) ** 2) == pytest.approx(3.66, abs=0.01)


def test_final_parameters_are_each_runs_traced_last_update(tmp_path: Path) -> None:
    document = compare_json(
        "xor", "--steps", "3", "--batch-size", "1", "--batch-size", "4", "--optimizer", "momentum:0.5"
    )
    base = yaml.safe_load(example_path("xor").read_text(encoding="utf-8"))
    for run, size in zip(document["runs"], (1, 4), strict=True):
        config = {
            **base,
            "optimizer": {"name": "momentum", "learning_rate": 0.5},
            "training": {"steps": 3, "batch_size": size},
        }
        path = tmp_path / f"xor_{size}.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        steps = json.loads(invoke("trace", str(path), "--format", "json").stdout)["steps"]
        assert run["final_parameters"] == steps[-1]["updated"]
        assert run["batch_loss"] == [s["loss"] for s in steps]
        assert run["batch_size"] == size


def test_an_explicit_threshold_and_a_diverging_run() -> None:
    result = invoke(
        "compare",
        "lr_too_large",
        "--steps",
        "700",
        "--learning-rate",
        "0.3",
        "--learning-rate",
        "0.05",
        "--threshold",
        "1e-6",
        "--format",
        "json",
    )
    assert result.exit_code == 0
    assert "note: sgd η = 0.3 diverged at step 601: drawn up to step 600" in result.stderr
    large, right = json.loads(result.stdout)["runs"]
    assert large["diverged"]["step"] == 601 and len(large["loss"]) == 601
    # 0.28444^k · 56/3 ≤ 1e-6 first at k = 14 (k ≥ 13.25)
    assert right["steps_to_threshold"] == 14


def test_the_text_form_has_the_chart_the_table_and_the_parameters() -> None:
    result = invoke(
        "compare", "lr_too_large", "--learning-rate", "0.3", "--learning-rate", "0.05", "--width", "100", "--no-color"
    )
    assert result.exit_code == 0
    text = result.stdout
    assert "loss axis: log scale" in text and "A sgd η = 0.3; B sgd η = 0.05" in text
    assert "steps to a loss ≤ 0.1867 (1% of the loss before training)" in text
    assert "final parameters" in text and "out.w1_1" in text
    for width in (60, 80, 137, 200):
        wide = invoke(
            "compare", "narrow_valley", "--optimizer", "sgd", "--optimizer", "adam:0.2", "--width", str(width)
        )
        assert max(len(line) for line in wide.stdout.splitlines()) <= width


def test_too_many_runs_and_bad_options_are_one_line() -> None:
    many = invoke("compare", "xor", *[f"--learning-rate={r}" for r in (1, 2, 3, 4, 5, 6, 7, 8, 9)])
    assert many.exit_code == 2 and "9 runs asked for; expected at most 8" in many.stderr
    big = invoke("compare", "xor", "--batch-size", "5")
    assert big.exit_code == 2 and "--batch-size: batch size 5; the data has 4 rows" in big.stderr
    bad = invoke("compare", "xor", "--threshold", "nan")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1
