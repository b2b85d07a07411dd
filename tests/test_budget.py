"""Budgets: every command's work is estimated before it starts, and what passes a budget is refused at once,
located, naming the option that narrows it. Small budgets are set for a test (budget.LIMITS), not giant inputs."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli import budget
from backprop_cli.budget import Budgets
from backprop_cli.cli.kit import load
from backprop_cli.cli.main import main
from backprop_cli.errors import ConfigError, ExitCode
from backprop_cli.layout import rows
from backprop_cli.layout.rows import step_plan, step_sections
from backprop_cli.loading.examples import example_names, example_path
from backprop_cli.loading.expression import is_expression
from backprop_cli.model import budgets
from backprop_cli.model.filters import Filter as TraceFilter
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.nn import blocks
from backprop_cli.nn.engine import Engine
from backprop_cli.render import DEFAULT_MAX_ROWS
from backprop_cli.render.json_out import dumps

NETWORKS = [name for name in example_names() if not is_expression(name)]
LOCATED = re.compile(r"^[^:\n]+:\d+:\d+: [^:]+: ")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def small(monkeypatch: pytest.MonkeyPatch, **limits: int) -> None:
    """Make some budgets small for this test (every check reads budget.LIMITS when called)."""
    chosen = replace(Budgets(), **limits)
    monkeypatch.setattr(budgets, "LIMITS", chosen)  # where every check reads them
    monkeypatch.setattr(budget, "LIMITS", chosen)


def refused(result: Result, where: str, *words: str) -> str:
    """One line on stderr, exit 2, starting at ``where`` (a file:line:col or an option) and saying ``words``."""
    assert result.exit_code == ExitCode.BAD_INPUT, (result.exit_code, result.output, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output + result.stderr, result.stderr
    assert lines[0].startswith(where), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def net(
    tmp_path: Path, *, units: tuple[int, ...] = (2, 1), training: str = "{steps: 1}", optimizer: str = "sgd"
) -> Path:
    """A seeded sigmoid network of ``units`` (inputs first) on two data rows."""
    inputs = units[0]
    layers = "\n".join(
        f"    - {{units: {n}, activation: sigmoid, init: {{method: xavier, seed: {i}}}}}"
        for i, n in enumerate(units[1:])
    )
    x = ", ".join(["0.5"] * inputs)
    y = ", ".join(["1"] * units[-1])
    path = tmp_path / "net.yaml"
    path.write_text(
        f"network:\n  inputs: {inputs}\n  layers:\n{layers}\nloss: mse\n"
        f"optimizer: {{name: {optimizer}, learning_rate: 0.1}}\n"
        f"data:\n  - {{x: [{x}], y: [{y}]}}\n  - {{x: [{x}], y: [{y}]}}\ntraining: {training}\n",
        encoding="utf-8",
    )
    return path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# ---- the estimates are the real counts -------------------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
def test_planned_rows_are_the_rows_laid_out_and_the_budgets_estimate(name: str) -> None:
    spec, _ = load(name, None, 2)  # two steps: optimizer state carried in, names with step qualifiers
    records = list(Engine(spec).run())
    for rec in records:
        plans = list(step_plan(rec, NumberFormat()))
        built = [planned.build() for planned in plans]
        assert [p.count for p in plans] == [len(b.quantities) for b in built]  # the plan counts what it makes
        assert [len(b.quantities) for b in built] == [len(s.rows) for s in step_sections(rec, NumberFormat())]
    laid_out = sum(len(s.rows) for rec in records for s in step_sections(rec, NumberFormat()))
    assert budget.chosen_rows(spec, TraceFilter()).rows == laid_out


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw", "rmsprop"])
@pytest.mark.parametrize(
    "only",
    [
        TraceFilter(),
        TraceFilter(phases=frozenset({"backward", "update"})),
        TraceFilter(layers=frozenset({"layer1"})),
        TraceFilter(steps=frozenset({2}), samples=frozenset({2})),
    ],
)
def test_the_row_estimate_follows_the_filters_and_the_optimizer(
    tmp_path: Path, optimizer: str, only: TraceFilter
) -> None:
    config = net(tmp_path, units=(3, 4, 2), training="{steps: 3, batch_size: 2, shuffle: true}", optimizer=optimizer)
    spec, _ = load(str(config), None)
    laid_out = sum(
        len(s.rows) for rec in Engine(spec).run() for s in step_sections(rec, NumberFormat()) if only.wants(s)
    )
    assert budget.chosen_rows(spec, only).rows == laid_out


@pytest.mark.parametrize("name", NETWORKS)
def test_the_json_estimate_is_close_above_the_numbers_written(name: str) -> None:
    spec, _ = load(name, None, 2)
    states = budget.optimizer_states(spec)

    def numbers(value: object) -> int:
        if isinstance(value, dict):
            return sum(numbers(v) for v in value.values())
        if isinstance(value, list):
            return sum(numbers(v) for v in value)
        return int(isinstance(value, int | float) and not isinstance(value, bool))

    for rec in Engine(spec).run():
        actual = numbers(json.loads(dumps(rec.to_dict())))
        assert actual <= budget.json_numbers(spec, len(rec.samples), states) <= actual * 1.1 + 10


# ---- the run ------------------------------------------------------------------------------------------------


def test_a_run_too_long_to_trace_is_refused_at_its_line_in_every_command(tmp_path: Path) -> None:
    # 20,000 steps through 1 layer: past the trace's 10,000 steps × layers, within the train's 50,000
    config = net(tmp_path, training="{steps: 20000}")
    where = f"{config}:{line_of(config, 'steps: 20000')}:"
    for command in ("trace", "validate", "names", "answers"):
        line = refused(invoke(command, str(config)), where, "training.steps: ", "too long a run to trace", "--steps")
        assert "`backprop train` runs it" in line
    assert invoke("trace", str(config), "--steps", "10").exit_code == 0


def test_validate_checks_what_trace_checks(tmp_path: Path) -> None:
    # regression: `validate` said ok to steps: 1000000000000, which `trace` then refused with no file or line
    config = net(tmp_path, training="{steps: 1000000000000}")
    where = f"{config}:{line_of(config, 'steps:')}:19: training.steps: "
    for command in ("validate", "trace"):
        refused(invoke(command, str(config)), where, "1,000,000,000,000 steps", "expected at most 5,000,000 rows")


def test_the_steps_option_is_named_when_it_set_the_run() -> None:
    refused(invoke("trace", "xor", "--steps", "6000"), "--steps: ", "6,000 steps through 2 layers")
    refused(invoke("train", "iris", "--epochs", "12000"), "--epochs: ", "60,000 steps", "too long a run to train")


def test_a_run_of_too_much_arithmetic_is_refused_at_its_batch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    small(monkeypatch, trace_products=100)
    config = net(tmp_path, units=(20, 3))  # 63 parameters × (2 rows + 2 × 2 for the loss on all data)
    refused(invoke("trace", str(config)), f"{config}:", "data: ", "378 rows × parameters", "training.batch_size")
    config = net(tmp_path, units=(20, 3), training="{steps: 3}")
    refused(invoke("trace", str(config)), f"{config}:", "training.steps: ", "too much arithmetic to trace")


def test_budgets_are_checked_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    small(monkeypatch, trace_layer_steps=1)

    def no_engine(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine was started")

    monkeypatch.setattr("backprop_cli.nn.engine.Engine.__init__", no_engine)
    for command in ("trace", "names", "answers", "gradcheck", "graph"):
        refused(invoke(command, "classic_2_2_2"), "", "1 step through 2 layers")  # 2 steps × layers > 1


# ---- rows laid out: the cap in every format, and the budget past it ----------------------------------------


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html", "svg"])
def test_the_row_cap_stops_every_format_and_says_how_much_there_is(fmt: str) -> None:
    result = invoke("trace", "xor", "--steps", "3", "--max-rows", "40", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    text = html.unescape(re.sub(r"<[^>]+>", " ", result.output)).replace("\xa0", " ")  # svg and html
    words = " ".join(re.sub(r"\\\w+\{|[{}*\\]", " ", text).split())  # latex and markdown
    assert "trace stopped after 40 rows" in words and "step 1 has 151 rows and the whole trace 453" in words
    assert "Step 2 of 3" not in words and "--max-rows" in words


def test_nothing_past_the_cap_is_laid_out(monkeypatch: pytest.MonkeyPatch) -> None:
    made = []
    real = rows.Row

    def counted(*fields: str) -> rows.Row:
        made.append(fields[0])
        return real(*fields)

    monkeypatch.setattr(rows, "Row", counted)
    for fmt in ("text", "markdown"):
        made.clear()
        result = invoke("trace", "xor", "--steps", "50", "--max-rows", "40", "--format", fmt)
        assert result.exit_code == 0 and "after step 50" in result.output  # the run went on, unshown
        assert 0 < len(made) <= 40, len(made)  # 50 steps of 151 rows: only what is shown was built


def test_a_first_section_longer_than_the_cap_is_cut_at_it(tmp_path: Path) -> None:
    config = net(tmp_path, units=(300, 1))  # its parameters table alone has 301 rows
    result = invoke("trace", str(config), "--max-rows", "10")
    assert result.exit_code == 0, result.stderr
    assert "layer1.w1_10 " in result.output and "layer1.w1_11 " not in result.output
    assert "trace stopped after 10 rows" in " ".join(result.output.split())


def test_the_default_cap_shows_a_whole_step_of_a_textbook_network(tmp_path: Path) -> None:
    # a student's 3-4-2 network with Adam and a batch of 3: 404 rows a step (the old cap, 400, cut step 1)
    config = tmp_path / "first.yaml"
    config.write_text(
        "network:\n  inputs: 3\n  layers:\n"
        "    - {name: h, units: 4, activation: sigmoid, init: {method: xavier, seed: 1}}\n"
        "    - {name: o, units: 2, activation: sigmoid, init: {method: xavier, seed: 2}}\n"
        "loss: mse\noptimizer: {name: adam, learning_rate: 0.5}\ndata:\n"
        "  - {x: [0.1, 0.2, 0.3], y: [0, 1]}\n  - {x: [0.4, 0.5, 0.6], y: [1, 0]}\n"
        "  - {x: [0.7, 0.8, 0.9], y: [0, 1]}\n",
        encoding="utf-8",
    )
    spec, _ = load(str(config), None)
    assert budget.chosen_rows(spec, TraceFilter()).rows == 404 <= DEFAULT_MAX_ROWS
    result = invoke("trace", str(config))
    assert result.exit_code == 0 and "trace stopped" not in result.output and "Summary" in result.output
    # and a whole step of every built-in example, but the deep networks made to run with `train` whose batch
    # norm or residual layers make a step too long for the cap (their traces stop at it, tests/cli/test_main.py)
    for name in [n for n in NETWORKS if n not in ("deep_sigmoid_batchnorm", "deep_residual", "digits_cnn")]:
        spec, _ = load(name, None)
        assert budget.chosen_rows(spec, TraceFilter(steps=frozenset({1}))).rows <= DEFAULT_MAX_ROWS, name


@pytest.mark.parametrize("fmt", ["text", "html", "latex", "markdown", "svg"])
def test_no_cap_past_the_row_budget_is_refused_naming_the_filters(fmt: str) -> None:
    # regression: `trace iris --format html` wrote 802 MB (the whole 2,000 steps) without a word
    line = refused(invoke("trace", "iris", "--format", fmt, "--max-rows", "0"), "--max-rows: ", "3,098,000 rows")
    assert "--step, --layer, --phase or --sample" in line
    if fmt == "html":  # one step is within the budget (the engine still runs all 2,000 steps)
        assert invoke("trace", "iris", "--format", fmt, "--max-rows", "0", "--step", "1").exit_code == 0


def test_a_cap_above_the_budget_is_refused_only_when_it_would_lay_out_more(monkeypatch: pytest.MonkeyPatch) -> None:
    small(monkeypatch, rows=100)
    refused(invoke("trace", "xor", "--max-rows", "120"), "--max-rows: ", "a cap of 120 rows would lay out 120")
    assert invoke("trace", "xor", "--max-rows", "120", "--phase", "forward").exit_code == 0  # 36 rows chosen


# ---- numbers, names and keys --------------------------------------------------------------------------------


def test_a_json_trace_past_the_number_budget_is_refused_naming_step(monkeypatch: pytest.MonkeyPatch) -> None:
    small(monkeypatch, numbers=500)
    refused(invoke("trace", "xor", "--steps", "3", "--format", "json"), "--format: ", "3 steps", "--step")
    assert json.loads(invoke("trace", "xor", "--steps", "3", "--format", "json", "--step", "2").output)["steps"]


def test_names_past_the_budget_are_refused_naming_the_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    small(monkeypatch, names=100)
    for command in ("names", "answers"):
        line = refused(invoke(command, "xor"), "--step: ", f"{command} would lay out 151 named values", "--phase")
        assert "--only filters after" in line
        assert invoke(command, "xor", "--phase", "update").exit_code == 0


def test_names_of_a_long_run_are_refused_at_once() -> None:
    # regression: `names deep_sigmoid --format json` took 23 s and 2.7 GB; `answers deep_sigmoid` wrote 45 MB
    for args in (["names", "deep_sigmoid", "--format", "json"], ["answers", "deep_sigmoid"]):
        refused(invoke(*args), "--step: ", f"999,500 named values; expected at most {Budgets().names:,}")


def test_answers_never_writes_a_key_that_check_refuses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    assert invoke("answers", "xor", "-o", str(key)).exit_code == 0
    size = key.stat().st_size
    small(monkeypatch, key_bytes=size)  # the same limit for both: the key just fits
    assert invoke("check", str(key)).exit_code == 0
    small(monkeypatch, key_bytes=size - 1)
    key.unlink()
    refused(invoke("answers", "xor", "-o", str(key)), "answers: ", f"{size:,} bytes", "backprop check")
    assert not key.exists()
    key.write_text("x" * size)
    refused(invoke("check", str(key)), str(key), "too large")


def test_check_reads_a_key_of_every_name_the_budget_allows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a key of as many names as the budget allows holds a name and a value for each, and 14 more values
    # (format, version, student, config: path, sha256 and raw_sha256, answers): what check reads must cover that
    limits = Budgets()
    assert limits.key_values >= 2 * limits.names + 14
    key = tmp_path / "key.yaml"
    # xor: 151 rows laid out, 150 names (the summary's loss is the batch loss), all in a key with --given
    # (no student: here, so 12 values besides the names)
    small(monkeypatch, names=151, key_values=2 * 150 + 12)
    assert invoke("answers", "xor", "--given", "-o", str(key)).exit_code == 0
    assert invoke("check", str(key)).exit_code == 0
    small(monkeypatch, names=151, key_values=2 * 150 + 11)
    refused(invoke("check", str(key)), f"{key}:", "more than 311 values in this answers file")


# ---- files: values, data cells, the slow CSV reader ---------------------------------------------------------


def test_a_config_past_the_value_budget_is_refused_where_the_budget_ends(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # regression: a 1000×1000 inline weight matrix took 120 s and 2.3 GB to trace
    small(monkeypatch, config_values=100)
    rows_text = ", ".join("[" + ", ".join(["0.1"] * 12) + "]" for _ in range(12))
    config = tmp_path / "big.yaml"
    config.write_text(
        f"network:\n  inputs: 12\n  layers:\n    - {{units: 12, activation: identity, weights: [{rows_text}], "
        "bias: false}\nloss: mse\noptimizer: {name: sgd, learning_rate: 0.1}\n"
        f"data: [{{x: [{', '.join(['1'] * 12)}], y: [{', '.join(['1'] * 12)}]}}]\n",
        encoding="utf-8",
    )
    line = refused(invoke("validate", str(config)), f"{config}:4:", "network.layers[0].weights[7][", "init:")
    assert "more than 100 values in this config file" in line
    as_json = tmp_path / "big.json"
    as_json.write_text(json.dumps(load_yaml(config)), encoding="utf-8")
    refused(invoke("validate", str(as_json)), f"{as_json}: network.layers[0].weights[", "more than 100 values")


def load_yaml(path: Path) -> object:
    import yaml

    return yaml.safe_load(path.read_text())


def rows_config(tmp_path: Path, data: str) -> Path:
    config = tmp_path / "net.yaml"
    config.write_text(
        "network:\n  inputs: 2\n  layers:\n    - {units: 1, activation: sigmoid, init: {method: xavier, seed: 0}}\n"
        f"loss: mse\noptimizer: {{name: sgd, learning_rate: 0.1}}\ndata: {data}\n",
        encoding="utf-8",
    )
    return config


def test_yaml_and_json_data_past_their_budgets_are_refused_suggesting_csv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    small(monkeypatch, data_values=50, rows_file_bytes=2000)
    rows_yaml = tmp_path / "rows.yaml"
    rows_yaml.write_text("".join(f"- {{x: [{i}, 1], y: [0.5]}}\n" for i in range(20)), encoding="utf-8")
    # five values a row (two keys, three numbers): the 51st is the first key of row 11
    line = refused(invoke("validate", str(rows_config(tmp_path, "rows.yaml"))), f"{rows_yaml}:11:4: [10].x: ")
    assert "more than 50 values in this data file" in line and "CSV file" in line
    rows_json = tmp_path / "rows.json"
    rows_json.write_text(json.dumps([{"x": [i, 1], "y": [0.5]} for i in range(20)]), encoding="utf-8")
    refused(invoke("validate", str(rows_config(tmp_path, "rows.json"))), f"{rows_json}: [10]: ", "CSV file")
    rows_yaml.write_text("".join(f"- {{x: [{i}, 1], y: [0.5]}}\n" for i in range(100)), encoding="utf-8")
    line = refused(invoke("validate", str(rows_config(tmp_path, "rows.yaml"))), f"{rows_yaml}: ", "CSV file")
    assert "too large to read row by row" in line


def test_the_slow_csv_reader_is_bounded_and_still_names_a_bad_cell(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # regression: a 60 MiB CSV with one quote character took the cell-by-cell reader 66 s and 8 GB
    small(monkeypatch, slow_csv_cells=30)
    csv_file = tmp_path / "rows.csv"
    body = "".join(f"{i},1,0.5\n" for i in range(20))
    csv_file.write_text('"a",b,y\n' + body, encoding="utf-8")
    config = rows_config(tmp_path, "rows.csv")
    refused(invoke("validate", str(config)), f"{csv_file}:12: ", "cell by cell", "at most 30 cells")  # row 11
    csv_file.write_text('"a",b,y\n1,x,0.5\n' + body, encoding="utf-8")
    refused(invoke("validate", str(config)), f"{csv_file}:2:2: column 'b': 'x' is not a number")
    csv_file.write_text("a,b,y\n" + body, encoding="utf-8")  # plain: the fast reader, not bounded by it
    assert invoke("validate", str(config)).exit_code == 0


def test_a_csv_past_the_cell_budget_is_refused_unparsed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    small(monkeypatch, csv_cells=50)
    (tmp_path / "rows.csv").write_text("a,b,y\n" + "".join(f"{i},1,0.5\n" for i in range(20)), encoding="utf-8")
    refused(invoke("validate", str(rows_config(tmp_path, "rows.csv"))), f"{tmp_path / 'rows.csv'}: ", "50 cells")


# ---- the other commands ---------------------------------------------------------------------------------------


def test_width_has_a_sane_maximum() -> None:
    # regression: --width 100000000 ran away
    result = invoke("trace", "--width", "100000000")
    assert result.exit_code == ExitCode.BAD_INPUT and "--width" in result.stderr and "1000" in result.stderr
    assert invoke("trace", "--width", "1000", "--phase", "summary").exit_code == 0


def test_train_refuses_what_its_outputs_could_not_hold(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    small(monkeypatch, rows=5, numbers=30)
    refused(invoke("train", "classic_2_2_2", "--max-rows", "0"), "--max-rows: ", "all 12 parameters")
    assert invoke("train", "classic_2_2_2", "--no-parameters", "--max-rows", "0").exit_code == 0
    refused(invoke("train", "classic_2_2_2", "--format", "json"), "--format: ", "training JSON")
    small(monkeypatch, config_values=100)  # the config itself holds fewer; the trained one about 116
    saved = tmp_path / "trained.yaml"
    refused(invoke("train", "classic_2_2_2", "--save", str(saved)), "--save: ", "what a config file may hold")
    assert not saved.exists()


def test_gradcheck_and_drawings_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    small(monkeypatch, gradcheck_parameters=10, drawing=20)
    path = str(example_path("classic_2_2_2"))
    refused(invoke("gradcheck", "classic_2_2_2"), f"{path}:", "12 parameters", "expected at most 10 parameters")
    refused(invoke("graph", "classic_2_2_2"), f"{path}:", "drawing would have", "--nodes layer")
    assert invoke("graph", "classic_2_2_2", "--nodes", "layer").exit_code == 0
    refused(invoke("graph", "two_layer_relu", "--exact"), "", "exact graph of step 1")


def test_an_exact_trace_is_bounded_by_its_own_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # fractions cost about a thousand times a float's arithmetic: --exact has a budget of its own
    small(monkeypatch, exact_products=5)
    assert invoke("trace", "two_layer_relu").exit_code == 0
    refused(invoke("trace", "two_layer_relu", "--exact"), "", "too much arithmetic to trace exactly (--exact)")


def test_an_unknown_output_in_an_expression_config_is_at_its_line(tmp_path: Path) -> None:
    # regression: `output: unknown` said only the file
    config = tmp_path / "f.yaml"
    config.write_text("expression: |\n  f = x * 2\nvalues: {x: 1}\noutput: unknown\n", encoding="utf-8")
    for command in ("validate", "trace"):
        refused(invoke(command, str(config)), f"{config}:4:9: output: ", "unknown output 'unknown'")


# ---- real processes on big inputs: refused at once, in little memory --------------------------------------


def run(*args: str, cwd: Path, timeout: float = 60) -> tuple[int, str, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args], cwd=cwd, capture_output=True, timeout=timeout, check=False
    )
    return done.returncode, done.stderr.decode(), time.perf_counter() - start


def test_big_inputs_are_refused_before_they_are_read(tmp_path: Path) -> None:
    # regression: 60 MiB of YAML data took 111 s and 6.8 GB; here 8 MiB is refused by its size
    (tmp_path / "rows.yaml").write_text("- {x: [0.1, 0.2], y: [1]}\n" * 330_000, encoding="utf-8")
    rows_config(tmp_path, "rows.yaml")
    status, stderr, seconds = run("validate", "net.yaml", cwd=tmp_path)
    assert status == ExitCode.BAD_INPUT and "write the rows as a CSV file" in stderr, (stderr, seconds)
    # regression: 20,000,000 steps were accepted (and the trace ran for minutes)
    status, stderr, seconds = run("trace", "single_neuron", "--steps", "20000000", cwd=tmp_path)
    assert status == ExitCode.BAD_INPUT and stderr.startswith("--steps: 20,000,000 steps"), (stderr, seconds)


def test_the_readme_states_every_budget() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Limits and budgets") : readme.index("## Development")]
    for name, value in vars(Budgets()).items():
        shown = budget.size_text(value) if name.endswith("bytes") else f"{value:,}"
        assert shown in section, (name, shown)
    assert f"`--max-rows`, {DEFAULT_MAX_ROWS:,} by default" in section


def test_a_big_batch_is_planned_only_up_to_the_cap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # regression: a CSV of 1.6 million rows traced as one batch took 70 s and 3 GB, planning every sample
    data = tmp_path / "rows.csv"
    data.write_text("a,b,y\n" + "".join(f"{i % 7},1,0.5\n" for i in range(3000)), encoding="utf-8")
    config = rows_config(tmp_path, "rows.csv")
    planned = []
    real = blocks.Block

    def counted(*fields: object) -> blocks.Block:
        planned.append(fields[1])
        return real(*fields)  # type: ignore[arg-type]

    monkeypatch.setattr(blocks, "Block", counted)
    result = invoke("trace", str(config), "--max-rows", "40", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert len(planned) < 20, len(planned)  # 3,000 samples × 4 sections, of which a few are shown
    words = " ".join(result.output.split())
    assert "data rows 1, 2, 3," in words and "100, … (3,000 rows)" in words and ", 101," not in words
    # 13 rows a sample (inputs and target 3, forward 2, loss 3, backward 5), and 13 for the whole batch
    assert "step 1 has 39,013 rows" in words


@pytest.mark.parametrize("name", ["classic_2_2_2", "iris", "deep_sigmoid"])
def test_the_train_json_estimate_is_above_the_numbers_written(name: str) -> None:
    def numbers(value: object) -> int:
        if isinstance(value, dict):
            return sum(numbers(v) for v in value.values())
        if isinstance(value, list):
            return sum(numbers(v) for v in value)
        return int(isinstance(value, int | float) and not isinstance(value, bool))

    actual = numbers(json.loads(invoke("train", name, "--format", "json").output))
    spec, _ = load(name, None)
    run = budget.run_of(spec)
    passes = -(-run.steps // run.batches_per_pass) if run.batches_per_pass else run.steps
    assert actual <= budget.train_json_numbers(spec, passes) <= 2 * actual + 100


def test_the_loss_after_every_pass_counts_in_the_train_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # iris: 2,000 steps of 30 rows and 400 passes over 150 rows, through 15 parameters
    small(monkeypatch, train_products=1_000_000)
    assert invoke("train", "iris").exit_code == 0  # (60,000 + 300) × 15 = 904,500
    refused(invoke("train", "iris", "--eval-each-pass"), "--eval-each-pass: ", "400 passes", "1,804,500")


def test_the_estimates_follow_the_schedule_when_a_batch_does_not_divide_the_data(tmp_path: Path) -> None:
    # 3 rows in batches of 2: whatever the engine makes of each pass's last batch, the counts are its own
    config = tmp_path / "net.yaml"
    rows_text = "".join(f"  - {{x: [{i}, 1], y: [0.5]}}\n" for i in range(3))
    config.write_text(
        "network:\n  inputs: 2\n  layers:\n    - {units: 2, activation: tanh, init: {method: xavier, seed: 0}}\n"
        "    - {units: 1, activation: sigmoid, init: {method: xavier, seed: 1}}\n"
        f"loss: mse\noptimizer: {{name: adam, learning_rate: 0.1}}\ndata:\n{rows_text}"
        "training: {steps: 5, batch_size: 2}\n",
        encoding="utf-8",
    )
    spec, _ = load(str(config), None)
    records = list(Engine(spec).run())
    laid_out = sum(len(s.rows) for rec in records for s in step_sections(rec, NumberFormat()))
    assert budget.chosen_rows(spec, TraceFilter()).rows == laid_out
    states = budget.optimizer_states(spec)
    sizes = budget.batch_sizes(spec, budget.run_of(spec))
    assert sizes == [len(rec.samples) for rec in records]
    assert budget.check_json(spec) == sum(budget.json_numbers(spec, size, states) for size in sizes)


def test_the_engine_bounds_its_schedule_for_a_caller_that_did_not_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # library use, or a command without a budget check: still refused before the schedule is built
    small(monkeypatch, scheduled_rows=100)
    spec, _ = load("xor", None, 26)  # 26 steps of 4 rows
    with pytest.raises(ConfigError, match="26 steps of 4 rows is too long a run; expected at most 100 rows"):
        Engine(spec)
