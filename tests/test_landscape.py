"""``backprop landscape``: the grid is the trace's loss, the path is the trace's parameters, bad input is one line."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.landscape import directions, runs
from backprop_cli.landscape.build import Request, build
from backprop_cli.landscape.compare import variants
from backprop_cli.loading.config import load_network as load
from backprop_cli.loading.examples import example_path
from backprop_cli.nn.engine import Engine

# "Equal" to rounding: the grid sums the same products as the engine, in a batched matmul
REL = 1e-12


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None})


def landscape_json(*args: str) -> dict[str, Any]:
    result = invoke("landscape", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def config_with(tmp_path: Path, example: str, values: dict[str, float], **top: Any) -> Path:
    """The example's YAML with some parameters set (by stable name), written to a file of its own."""
    document = yaml.safe_load(example_path(example).read_text(encoding="utf-8"))
    layers = document["network"]["layers"]
    for name, value in values.items():
        layer_name, entry = name.split(".")
        layer = next(item for item in layers if item["name"] == layer_name)
        if entry.startswith("w"):
            j, i = (int(n) - 1 for n in entry[1:].split("_"))
            layer["weights"][j][i] = value
        else:
            layer["biases"][int(entry[1:]) - 1] = value
    document.update(top)
    path = tmp_path / f"{example}_{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def traced_loss(config: Path) -> float:
    result = invoke("trace", str(config), "--format", "json", "--steps", "1")
    assert result.exit_code == 0, result.stderr
    return float(json.loads(result.stdout)["steps"][0]["loss"])


def test_grid_values_are_the_loss_backprop_trace_computes(tmp_path: Path) -> None:
    # the default example, one data row: a full batch, so the trace's step-1 loss is the loss on all data
    document = landscape_json("--x", "hidden.w1_1", "--y", "out.w1_1", "--grid", "7", "--x-range", "-1:2")
    xs, ys, loss = document["x"]["values"], document["y"]["values"], document["loss"]
    for gy, gx in [(0, 0), (2, 5), (3, 3), (6, 1), (6, 6)]:
        config = config_with(tmp_path, "two_layer_relu", {"hidden.w1_1": xs[gx], "out.w1_1": ys[gy]})
        assert loss[gy][gx] == pytest.approx(traced_loss(config), rel=REL, abs=1e-15), (gx, gy)


def test_grid_values_on_a_batch_and_after_some_steps_are_the_engines() -> None:
    # xor: sigmoid layers, bce, 4 rows in batches of 2; held after 3 steps, the loss on the batch step 4 trains on
    spec, _ = load("xor", None)
    spec = replace(spec, training=replace(spec.training, steps=5, batch_size=2))
    view = build(spec, Request("h.w1_1", "o.b1", points=5, step=3, batch=True), variants(spec, (), (), ()))
    assert view.rows == (2, 3)  # step 4's batch: data rows 3 and 4
    engine = Engine(spec)
    for _ in zip(range(3), engine.run(), strict=False):  # three steps of the real engine
        pass
    weights, biases = engine.params.weights, engine.params.biases
    held = np.concatenate([np.concatenate([w.ravel(), b.ravel()]) for w, b in zip(weights, biases, strict=True)])
    plan = runs.layout(spec)
    assert view.y is not None
    for gy, gx in [(0, 0), (1, 3), (4, 4)]:
        theta = held.copy()
        theta[plan.index("h.w1_1", "--x")] = view.x.values[gx]
        theta[plan.index("o.b1", "--y")] = view.y.values[gy]
        expected = Engine(runs.with_parameters(spec, theta)).loss((2, 3))
        assert view.loss[gy, gx] == pytest.approx(expected, rel=REL)


def test_random_and_pca_planes_are_the_engines_loss_at_c_plus_alpha_d1_plus_beta_d2() -> None:
    spec, _ = load("deep_relu_he", None, 30)
    plan = runs.layout(spec)
    first = runs.run(spec, variants(spec, (), (), ())[0])
    every = range(spec.data.rows)
    for plane in (directions.random(plan, first.points[-1], 3, curve=False), directions.pca(first.points, curve=False)):
        assert plane.d2 is not None
        alphas, betas = np.array([-0.7, 0.0, 0.4]), np.array([0.2, -1.1, 0.9])
        got = runs.plane_losses(spec, plane.centre, plane.d1, plane.d2, alphas, betas, every)
        for a, b, value in zip(alphas, betas, got, strict=True):
            theta = plane.centre + a * plane.d1 + b * plane.d2
            assert value == pytest.approx(Engine(runs.with_parameters(spec, theta)).loss(), rel=REL)


def test_random_directions_are_filter_normalised() -> None:
    spec, _ = load("deep_relu_he", None)
    plan = runs.layout(spec)
    theta = runs.start(spec)
    plane = directions.random(plan, theta, 0, curve=False)
    for block in plan.blocks:
        d = plane.d1[block.start : block.stop].reshape(block.shape)
        if block.kind == "biases":
            assert not d.any()  # biases held, as in the authors' code
            continue
        w = theta[block.start : block.stop].reshape(block.shape)
        assert np.linalg.norm(d, axis=1) == pytest.approx(np.linalg.norm(w, axis=1), rel=1e-12)


def test_pca_directions_hold_the_paths_variance() -> None:
    spec, _ = load("narrow_valley", None, 12)
    first = runs.run(spec, variants(spec, (), (), ())[0])
    plane = directions.pca(first.points, curve=False)
    assert plane.d2 is not None
    assert abs(float(plane.d1 @ plane.d2)) < 1e-12 and float(plane.d1 @ plane.d1) == pytest.approx(1.0)
    # a two-parameter network: two components hold all of the path's variance, and the points project exactly
    assert plane.coords(first.points) @ np.stack([plane.d1, plane.d2]) + plane.centre == pytest.approx(first.points)


def test_the_path_is_the_traces_parameters_step_by_step(tmp_path: Path) -> None:
    trace = invoke("trace", "narrow_valley", "--format", "json", "--steps", "6")
    steps = json.loads(trace.stdout)["steps"]
    document = landscape_json("narrow_valley", "--steps", "6", "--x", "out.w1_1", "--y", "out.b1")
    points = document["paths"][0]["points"]
    assert len(points) == 7
    for k, point in enumerate(points):
        expected = steps[k]["parameters"]["out"] if k < 6 else steps[5]["updated"]["out"]
        assert (point["x"], point["y"]) == (expected["weights"][0][0], expected["biases"][0])
        if k < 6:
            assert point["loss"] == pytest.approx(steps[k]["loss"], rel=REL)  # full batch: the trace's loss


def test_each_optimizers_path_is_its_own_trace(tmp_path: Path) -> None:
    document = landscape_json(
        "narrow_valley", "--steps", "4", "--optimizer", "sgd", "--optimizer", "adam:0.2", "--optimizer", "momentum:0.03"
    )
    assert [p["label"] for p in document["paths"]] == ["sgd η = 0.1", "adam η = 0.2", "momentum η = 0.03"]
    for path, optimizer in zip(
        document["paths"][1:],
        [{"name": "adam", "learning_rate": 0.2}, {"name": "momentum", "learning_rate": 0.03}],
        strict=True,
    ):
        config = config_with(tmp_path, "narrow_valley", {}, optimizer=optimizer, training={"steps": 4})
        steps = json.loads(invoke("trace", str(config), "--format", "json").stdout)["steps"]
        last = steps[-1]["updated"]["out"]
        assert (path["points"][-1]["x"], path["points"][-1]["y"]) == (last["weights"][0][0], last["biases"][0])
        assert [p["x"] for p in path["points"][:-1]] == [s["parameters"]["out"]["weights"][0][0] for s in steps]


def test_default_axes_are_the_two_parameters_the_first_step_moves_most_and_the_range_holds_the_path() -> None:
    document = landscape_json("narrow_valley")
    assert (document["x"]["name"], document["y"]["name"]) == ("out.w1_1", "out.b1")
    assert "the parameters the first step moves most" in document["notes"][0]
    xs, ys = document["x"]["values"], document["y"]["values"]
    assert len(xs) == len(ys) == 101
    for point in document["paths"][0]["points"]:
        assert xs[0] < point["x"] < xs[-1] and ys[0] < point["y"] < ys[-1]


def test_a_201_grid_of_the_default_example_and_the_gradient_at_the_start() -> None:
    document = landscape_json("--grid", "201", "--x", "hidden.w1_1", "--y", "out.w1_1")
    assert len(document["loss"]) == 201 and len(document["loss"][0]) == 201
    trace = json.loads(invoke("trace", "--format", "json").stdout)["steps"][0]["gradients"]
    assert document["gradient_at_start"] == [trace["hidden"]["weights"][0][0], trace["out"]["weights"][0][0]]


def test_one_parameter_gives_the_loss_curve_with_the_steps_on_it() -> None:
    # lr_just_right: L(w) = (14/3)(w − 2)² on its data (mean of (w·x − 2x)² over x = 1, 2, 3)
    document = landscape_json("lr_just_right", "--x", "out.w1_1", "--grid", "11", "--x-range", "0:4")
    assert document["kind"] == "curve" and document["y"] is None
    assert document["loss"] == pytest.approx([14 / 3 * (w - 2) ** 2 for w in np.linspace(0, 4, 11)], rel=1e-12)
    for point in document["paths"][0]["points"]:
        assert point["on_plane"] == pytest.approx(point["loss"], rel=1e-12)  # one parameter: on the curve


def test_a_run_that_diverges_is_drawn_up_to_its_last_finite_step_and_says_so() -> None:
    result = invoke("landscape", "lr_too_large", "--x", "out.w1_1", "--steps", "1000", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "diverged at step 601: drawn up to step 600" in result.stderr
    path = json.loads(result.stdout)["paths"][0]
    assert path["diverged"]["step"] == 601 and "not finite" in path["diverged"]["fault"]
    assert len(path["points"]) == 601 and path["scheduled"] == 1000
    text = invoke("landscape", "lr_too_large", "--x", "out.w1_1", "--steps", "1000", "--no-color", "--width", "100")
    assert text.exit_code == 0 and "diverged at step 601: drawn up to step 600" in " ".join(text.stdout.split())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--x", "out.w11"], "--x: 'out.w11' is not a parameter of this network; did you mean out.w1_1"),
        (
            ["--x", "out.w1_1", "--y", "hiden.b2"],
            "--y: 'hiden.b2' is not a parameter of this network; did you mean hidden.b2",
        ),
        (["--x", "out.w1_1", "--y", "out.w1_1"], "--y: --x and --y both name out.w1_1"),
        (["--y", "out.w1_1"], "--y: --y without --x"),
        (["--x-range", "1:1", "--x", "out.w1_1"], "--x-range: '1:1' is a range of zero width; expected LO < HI"),
        (["--x-range", "3:1", "--x", "out.w1_1"], "--x-range: '3:1' is a range from high to low"),
        (["--x-range", "a:b", "--x", "out.w1_1"], "--x-range: 'a:b'; expected LO:HI"),
        (["--x-range", "0:inf", "--x", "out.w1_1"], "--x-range: '0:inf'; expected finite numbers"),
        (["--span", "0"], "--span: 0.0; expected a half-width > 0"),
        (["--grid", "1000000"], "--grid: a grid of 1,000,000 points per side; expected 3 to 1,001"),
        (["--grid", "2"], "--grid: a grid of 2 points per side; expected 3 to 1,001"),
        (["--step", "5"], "--step: step 5 is past the end; the first run has 1 step(s)"),
        (["--optimizer", "adma"], "--optimizer: unknown optimizer 'adma'; did you mean adam?"),
        (["--optimizer", "adam:fast"], "--optimizer: 'adam:fast'; expected NAME or NAME:LEARNING_RATE"),
        (["--optimizer", "adam:-1"], "--optimizer: 'adam:-1'; expected a learning rate > 0"),
        (["--learning-rate", "0"], "--learning-rate: 0.0; expected a learning rate > 0"),
        (["--direction", "pca"], "--direction: a path of 1 step; PCA of the path needs at least 2"),
        (["--direction", "random", "--x", "out.w1_1"], "--direction: --x/--y with --direction random"),
        (["--batch", "--step", "1"], "--batch: --batch at step 1: the run has no step 2"),
        (["--optimizer", "sgd", "--optimizer", "sgd"], "--optimizer: sgd η = 0.1 asked for twice"),
    ],
)
def test_bad_input_is_one_located_line_and_exit_2(args: list[str], expected: str) -> None:
    result = invoke("landscape", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert expected in result.stderr, result.stderr


def test_the_work_bound_is_checked_before_the_grid_is_evaluated() -> None:
    result = invoke("landscape", "iris", "--steps", "1", "--grid", "1001", "--direction", "random")
    assert result.exit_code == 2
    assert (
        "--grid: 1,002,001 grid points × 150 data rows × 15 parameters is 2,254,502,250 multiply-adds" in result.stderr
    )


def test_an_expression_program_has_no_landscape() -> None:
    result = invoke("landscape", "circuit_add_mul")
    assert result.exit_code == 2 and "landscapes are drawn for network configs" in result.stderr


def test_pca_of_a_path_that_moves_along_a_line_is_refused() -> None:
    # one parameter: every step moves along the same line, so there is no second principal direction
    result = invoke("landscape", "lr_just_right", "--direction", "pca")
    assert result.exit_code == 2 and "the path moves along one line only" in result.stderr


def test_json_to_a_file_is_written_atomically_and_never_over_an_input(tmp_path: Path) -> None:
    target = tmp_path / "grid.json"
    assert invoke("landscape", "--grid", "5", "--format", "json", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["format"] == "backprop-landscape"
    config = config_with(tmp_path, "two_layer_relu", {})
    before = config.read_bytes()
    refused = invoke("landscape", str(config), "--format", "png", "-o", str(config))
    assert refused.exit_code == 2 and "refusing to overwrite the input" in refused.stderr
    assert config.read_bytes() == before


def test_matplotlib_is_imported_only_for_images() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from backprop_cli.cli.main import main\n"
        "for args in (['trace'], ['landscape', '--grid', '5'], ['compare', 'lr_just_right', '--format', 'json']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
        "print('matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
