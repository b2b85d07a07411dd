"""The command line through click's CliRunner: help, formats, filters, exit codes, stderr."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode
from backprop_cli.loading.examples import example_names, example_path

COMMANDS = ["trace", "validate", "schema", "examples"]


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None, **(env or {})})


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output


def test_version_and_group_help() -> None:
    assert invoke("--version").output.startswith("backprop, version ")
    result = invoke("--help")
    assert result.exit_code == 0 and all(c in result.output for c in COMMANDS)


def test_trace_without_a_config_traces_the_default_example() -> None:
    result = invoke("trace", "--width", "120")
    assert result.exit_code == 0, result.output
    assert "Forward · layer hidden (relu)" in result.output
    assert "Backward · layer out (identity)" in result.output
    assert "hidden.dL_dw1_1" in result.output and "out.w1_2.new" in result.output


def test_pytorch_snippet_gives_minus_24() -> None:
    result = invoke("trace", "pytorch_snippet", "--format", "json")
    doc = json.loads(result.output)
    assert doc["steps"][0]["gradients"]["out"]["weights"] == [[-24.0]]
    assert doc["steps"][0]["loss"] == 16.0


def test_single_neuron_seed_numbers_through_the_cli() -> None:
    doc = json.loads(invoke("trace", "single_neuron", "--format", "json").output)
    first, second = doc["steps"]
    assert first["loss"] == 4.0
    assert first["gradients"]["neuron"] == {"weights": [[-8.0]], "biases": [-4.0]}
    assert second["loss"] == pytest.approx(0.0, abs=1e-28)
    text = invoke("trace", "single_neuron", "--width", "120").output
    assert "step1/neuron.w1_1.new" in text and "1 − 0.1 × (-8)" in text


@pytest.mark.parametrize(("example", "loss"), [("dog_not_dog", 0.57), ("dog_not_dog_squared", 0.3249)])
def test_dog_classifier_losses(example: str, loss: float) -> None:
    doc = json.loads(invoke("trace", example, "--format", "json").output)
    assert doc["steps"][0]["loss"] == pytest.approx(loss, rel=1e-12)


def test_json_contract_keys_are_pinned() -> None:
    doc = json.loads(invoke("trace", "classic_2_2_2", "--format", "json").output)
    assert {"format", "version", "kind", "exact", "config", "steps", "summary"} <= doc.keys()
    assert doc["format"] == "backprop-trace" and doc["version"] == 2
    assert doc["kind"] == "network" and doc["exact"] is False
    step = doc["steps"][0]
    assert {"step", "samples", "rows", "loss", "parameters", "gradients", "updated"} <= step.keys()
    assert step["step"] == 1 and step["samples"] == [0] and step["rows"] == [1]  # 0-based rows, and 1-based
    assert step["loss"] == 0.2983711087600027  # full precision, repr round-trip
    assert set(step["parameters"]) == {"h", "o"}
    assert step["parameters"]["h"] == {"weights": [[0.15, 0.2], [0.25, 0.3]], "biases": [0.35, 0.35]}
    assert step["updated"]["o"]["weights"][0][0] == pytest.approx(0.35891648, abs=1e-8)
    sample = step["per_sample"][0]
    assert {"forward", "backward", "loss", "loss_terms", "target"} <= sample.keys()
    assert {"dL_da", "da_dz", "delta", "dL_dw", "dL_db"} <= sample["backward"]["o"].keys()
    assert step["optimizer"] == {"name": "sgd", "lr": 0.5} and "optimizer_state" not in step  # plain SGD keeps none


def test_json_optimizer_state_keys_are_pinned() -> None:
    step = json.loads(invoke("trace", "adam_two_steps", "--format", "json").output)["steps"][1]
    assert {"step", "samples", "loss", "parameters", "gradients", "updated"} <= step.keys()  # added to, not renamed
    # by layer and kind like "updated"; arrays shaped like the parameter, t the tensor's step count
    assert set(step["optimizer_state"]["out"]["weights"]) == {"t", "m", "v", "m_hat", "v_hat", "step"}
    assert step["optimizer_state"]["out"]["weights"]["t"] == 2
    # and every state scalar by its trace name
    names = {f"step2/out.w1_1.{s}" for s in ("m", "v", "m_hat", "v_hat", "step")}
    assert set(step["optimizer_values"]) == names


def test_json_of_a_layer_without_bias_has_no_biases_key() -> None:
    doc = json.loads(invoke("trace", "pytorch_snippet", "--format", "json").output)
    assert set(doc["steps"][0]["parameters"]["out"]) == {"weights"}


def test_output_file_is_written_and_the_input_never_overwritten(tmp_path: Path) -> None:
    config = write(tmp_path, "net.yaml", example_path("classic_2_2_2").read_text())
    out = tmp_path / "trace.json"
    assert invoke("trace", str(config), "--format", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["steps"][0]["step"] == 1
    result = invoke("trace", str(config), "-o", str(config))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "refusing to overwrite the input" in result.stderr
    assert config.read_text() == example_path("classic_2_2_2").read_text()


def test_output_files_get_a_normal_files_mode_not_the_temporarys(tmp_path: Path) -> None:
    out = tmp_path / "trace.md"
    previous = os.umask(0o022)
    try:
        assert invoke("trace", "xor", "--format", "markdown", "-o", str(out)).exit_code == 0
        assert out.stat().st_mode & 0o777 == 0o644  # 0666 less the umask, as `>` would make it
        out.chmod(0o640)  # replacing a file keeps its mode
        assert invoke("trace", "xor", "--format", "markdown", "-o", str(out)).exit_code == 0
        assert out.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(previous)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["trace", "--bogus"], "backprop trace: No such option '--bogus'; see 'backprop trace --help'"),
        (
            ["trace", "--colour"],
            "backprop trace: No such option '--colour'; did you mean one of: '--color', '--no-color'?; "
            "see 'backprop trace --help'",
        ),
        (
            ["trace", "--precision", "30"],
            "backprop trace: Invalid value for '--precision': 30 is not in the range 1<=x<=17; "
            "see 'backprop trace --help'",
        ),
        (["explain", "xor"], "backprop explain: Missing argument 'NAME'; see 'backprop explain --help'"),
        (["tracee"], "backprop: No such command 'tracee'; did you mean 'trace'?; see 'backprop --help'"),
        (  # train is loaded lazily, and still suggested
            ["trian"],
            "backprop: No such command 'trian'; did you mean one of: 'trace', 'train', 'variants'?; "
            "see 'backprop --help'",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], line: str) -> None:
    result = CliRunner().invoke(main, args, prog_name="backprop", env={"NO_COLOR": None})
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr == line + "\n" and result.stdout == ""


def test_bare_backprop_prints_its_help_not_one_squashed_line() -> None:
    result = CliRunner().invoke(main, [], prog_name="backprop")
    assert result.exit_code == 2  # click's own code for "no command given, here is the help"
    text = result.stderr or result.stdout
    assert text.startswith("Usage: backprop [OPTIONS] COMMAND [ARGS]...\n") and "\nCommands:\n" in text


def test_help_and_version_still_exit_0() -> None:
    for args in (["--help"], ["trace", "--help"], ["--version"]):
        result = CliRunner().invoke(main, args, prog_name="backprop")
        assert result.exit_code == 0 and result.stdout and not result.stderr, args


DIVERGING = """
network:
  inputs: 1
  layers:
    - {name: out, units: 1, activation: identity, weights: [[1.0]], biases: [0.0]}
loss: sse
optimizer: {name: sgd, learning_rate: 10.0}
data:
  - {x: [3.0], y: [1.0]}
training: {steps: 400}
"""


def test_numerical_fault_exits_3_and_leaves_no_partial_file(tmp_path: Path) -> None:
    config = write(tmp_path, "diverge.yaml", DIVERGING)
    out = tmp_path / "trace.json"
    result = invoke("trace", str(config), "--format", "json", "-o", str(out))
    assert result.exit_code == ExitCode.NUMERICAL_FAULT
    assert "numerical fault at step" in result.stderr and "layer out" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [config]  # no temporary left behind either


def test_a_fault_after_the_row_cap_still_exits_3(tmp_path: Path) -> None:
    # the terminal trace stops showing rows at --max-rows, but the run goes on and meets the overflow
    config = write(tmp_path, "diverge.yaml", DIVERGING)
    result = invoke("trace", str(config), "--max-rows", "40", "--width", "120")
    assert "… trace stopped after 40 rows" in result.stdout and "Step 400 of 400" not in result.stdout
    assert result.exit_code == ExitCode.NUMERICAL_FAULT
    assert result.stderr.startswith("numerical fault at step ")


def test_a_run_past_the_row_cap_ends_with_its_last_steps_loss() -> None:
    result = invoke("trace", "xor", "--steps", "50", "--max-rows", "40", "--width", "120")
    assert result.exit_code == 0 and "… trace stopped after 40 rows" in result.stdout
    assert "after step 50 (change" in result.stdout.splitlines()[-1]


def test_bad_config_is_one_located_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    text = example_path("classic_2_2_2").read_text().replace("activation: sigmoid", "activation: sigmoud", 1)
    config = write(tmp_path, "net.yaml", text)
    result = invoke("trace", str(config))
    assert result.exit_code == ExitCode.BAD_INPUT
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if "sigmoud" in line)
    assert lines[0].startswith(f"{config}:{line_no}:")
    assert "network.layers[0].activation" in lines[0] and "sigmoud" in lines[0] and "sigmoid" in lines[0]
    assert "Traceback" not in result.output + result.stderr


def test_missing_file_and_unknown_example_exit_2() -> None:
    result = invoke("trace", "no/such/file.yaml")
    assert result.exit_code == ExitCode.BAD_INPUT and "no/such/file.yaml" in result.stderr
    result = invoke("trace", "no_such_example")
    assert result.exit_code == ExitCode.BAD_INPUT and "classic_2_2_2" in result.stderr


def test_phase_layer_step_and_sample_filters() -> None:
    only_backward = invoke("trace", "classic_2_2_2", "--phase", "backward", "--width", "120").output
    assert "Backward · layer o" in only_backward and "Forward ·" not in only_backward
    assert "Update ·" not in only_backward
    only_h = invoke("trace", "classic_2_2_2", "--layer", "h", "--width", "120").output
    assert "layer h" in only_h and "layer o" not in only_h
    second = invoke("trace", "single_neuron", "--step", "2", "--width", "120").output
    assert "Step 2 of 2" in second and "Step 1 of 2" not in second
    sample = invoke("trace", "xor", "--sample", "3", "--phase", "forward", "--width", "120").output
    assert "sample 3" in sample and "sample 2" not in sample


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer", "nope"], "unknown layer 'nope'; expected one of h, o"),
        (["--step", "9"], "step 9 is past the end; the run has 1 step"),
        (["--sample", "5"], "data row 5 does not exist"),
    ],
)
def test_filters_naming_nothing_are_bad_input(args: list[str], message: str) -> None:
    result = invoke("trace", "classic_2_2_2", *args)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert message in result.stderr


def test_large_traces_stop_at_the_cap_with_a_notice() -> None:
    result = invoke("trace", "xor", "--max-rows", "30", "--width", "120")
    assert result.exit_code == 0
    text = " ".join(result.output.split())  # the notice wraps at the terminal's width
    assert "trace stopped after 30 rows" in text and "the run goes on to its last step" in text
    assert "--format json" in text
    assert "Update ·" not in result.output


def test_steps_override() -> None:
    doc = json.loads(invoke("trace", "classic_2_2_2", "--steps", "3", "--format", "json").output)
    assert [s["step"] for s in doc["steps"]] == [1, 2, 3]
    assert doc["steps"][1]["parameters"] == doc["steps"][0]["updated"]


def test_colour_is_off_when_piped_and_with_no_color_and_on_when_forced() -> None:
    assert "\x1b[" not in invoke("trace").output
    assert "\x1b[" not in invoke("trace", "--no-color").output
    assert "\x1b[36m" in invoke("trace", "--color").output  # names in cyan
    assert "\x1b[36m" not in invoke("trace", "--color", env={"NO_COLOR": "1"}).output


def test_precision_changes_digits_not_names() -> None:
    short = invoke("trace", "classic_2_2_2", "--precision", "3", "--phase", "summary").output
    long = invoke("trace", "classic_2_2_2", "--precision", "12", "--phase", "summary").output
    assert re.search(r"\b0\.298\b(?!\d)", short) and "0.2983" not in short
    assert "0.29837110876" in long and "loss.after" in short and "loss.after" in long


def test_data_option_replaces_the_config_data(tmp_path: Path) -> None:
    data = write(tmp_path, "rows.csv", "i1,i2,t1,t2\n0.05,0.10,0.01,0.99\n1,2,0,1\n")
    doc = json.loads(invoke("trace", "classic_2_2_2", "--data", str(data), "--format", "json").output)
    assert doc["steps"][0]["samples"] == [0, 1]


def test_validate_says_what_it_found() -> None:
    result = invoke("validate", "classic_2_2_2")
    assert result.exit_code == 0
    assert "2 layers" in result.output and "12 parameters" in result.output and "1 data row" in result.output


def test_schema_is_json_schema_of_the_config() -> None:
    schema = json.loads(invoke("schema").output)
    assert "network" in json.dumps(schema) and "properties" in schema


def test_the_shipped_schema_file_is_up_to_date() -> None:
    shipped = json.loads((example_path("classic_2_2_2").parent / "backprop-config.schema.json").read_text())
    hint = "regenerate: backprop schema -o configs/backprop-config.schema.json"
    assert shipped == json.loads(invoke("schema").output), hint


def test_examples_lists_every_example_with_a_description() -> None:
    result = invoke("examples")
    assert result.exit_code == 0
    for name in example_names():
        line = next(line for line in result.output.splitlines() if line.startswith(name + " "))
        assert len(line.split(None, 1)[1]) > 20
    assert "(default)" in result.output


# Training runs (hundreds of steps) are traced up to the default row cap, which also stops the engine;
# `backprop train` runs them whole (tests/test_train.py).
LONG_EXAMPLES = {
    "iris",
    "deep_sigmoid",
    "deep_relu_he",
    "deep_sigmoid_batchnorm",
    "deep_plain",
    "deep_residual",
    "digits_cnn",
}


@pytest.mark.parametrize("name", example_names())
def test_every_example_traces_cleanly(name: str) -> None:
    assert invoke("validate", name).exit_code == 0
    cap = () if name in LONG_EXAMPLES else ("--max-rows", "0")
    result = invoke("trace", name, "--width", "120", *cap)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
        timeout=120,
    )
    assert result.returncode == 0 and "backprop, version" in result.stdout


def test_the_terminal_trace_imports_no_other_command_and_no_document_format() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from backprop_cli.cli.main import main\n"
        "assert CliRunner().invoke(main, ['trace']).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith(('backprop_cli.cli.', 'backprop_cli.render.'))))\n"
        "print(sorted(m for m in sys.modules if m.startswith('backprop_cli.graph')))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    loaded, graph = run.stdout.splitlines()
    assert graph == "[]"  # a network's trace asks whether its config is an expression without the expression engine
    # not another command's module (answers, check …), nor document, markdown, latex, html, svg, chart …
    expected = [f"backprop_cli.cli.{name}" for name in ("encoding", "expression", "help", "kit", "main", "output")]
    expected += [f"backprop_cli.render.{name}" for name in ("console", "fit", "terminal")]
    assert loaded.strip() == str(expected)
    train = invoke("train", "xor", "--steps", "1", "--format", "json")
    assert train.exit_code == 0 and json.loads(train.output)["steps"] == 1


def test_split_writes_one_whole_document_per_step(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from backprop_cli.cli.main import main

    target = tmp_path / "trace.md"
    result = CliRunner().invoke(main, ["trace", "lr_just_right", "--format", "markdown", "--split", "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"trace-step{k}.md" for k in range(1, 7)]
    for k in range(1, 7):
        text = (tmp_path / f"trace-step{k}.md").read_text(encoding="utf-8")
        assert text.startswith("# backprop trace · lr\\_just\\_right")
        assert f"## Step {k} of 6" in text and text.count("## Step ") == 1
        assert "z_j = \\sum_i w_{ji}" in text  # each file is whole: its equations too
        assert ("Loss on all data" in text) == (k == 6)
    for bad in (["--format", "markdown"], ["--format", "svg", "-o", str(tmp_path / "x.svg")]):
        refused = CliRunner().invoke(main, ["trace", "lr_just_right", "--split", *bad])
        assert refused.exit_code == 2 and "--split: one file per step" in refused.stderr
