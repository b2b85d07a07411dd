"""Names and text: names that cannot collide or break, user text that cannot drive the terminal, and
the rough edges a new user meets (a homework recipe that grades, answers that stay hidden, rows by number)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.errors import ConfigError
from backprop_cli.loading.config import load_config_text

NET = """\
network:
  inputs: [a, b]
  layers:
    - name: o
      units: 2
      weights: [[0.5, -0.5], [0.25, 0.75]]
      biases: [0.1, 0.2]
loss: mse
optimizer: {name: sgd, learning_rate: 0.1}
data:
  - {x: [1, 2], y: [1, 0]}
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None, "COLUMNS": "100"})


def load_error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, source="net.yaml", base_dir=Path("."))
    return caught.value.one_line()


# ---------------------------------------------------------------- input and layer names


@pytest.mark.parametrize(
    ("inputs", "where", "says"),
    [
        ("[loss, b]", "net.yaml:2:12: network.inputs[0]: ", "the trace calls the loss 'loss'"),
        ("[a, y1]", "net.yaml:2:15: network.inputs[1]: ", "the trace calls the target 'y{k}'"),
        ("[y2, b]", "net.yaml:2:12: network.inputs[0]: ", "'y{k}'"),
        ("[a, y17]", "net.yaml:2:15: network.inputs[1]: ", "'y{k}'"),
        ('["x1\\n", b]', "net.yaml:2:12: network.inputs[0]: ", "expected a name of letters, digits and _"),
        ('[a, "b\\r"]', "net.yaml:2:15: network.inputs[1]: ", "expected a name of letters, digits and _"),
    ],
)
def test_an_input_name_that_is_the_traces_own_or_not_a_name_is_refused_located(
    inputs: str, where: str, says: str
) -> None:
    message = load_error(NET.replace("[a, b]", inputs))
    assert message.startswith(where) and says in message, message


def test_names_beside_the_reserved_ones_stay_allowed() -> None:
    for inputs in ("[y0, y1_]", "[losses, loss_]", "[x2, x1]", "[y, o]"):
        load_config_text(NET.replace("[a, b]", inputs), source="net.yaml", base_dir=Path("."))


def test_a_layer_called_loss_is_refused_located() -> None:
    message = load_error(NET.replace("name: o", "name: loss"))
    assert message.startswith("net.yaml:4:13: network.layers[0].name: layer name 'loss' is taken"), message


@pytest.mark.parametrize("layer", ['"h.z1"', '"step1/h"', '"h\\n"', '"sample2"'])
def test_a_layer_name_that_would_read_as_a_qualified_or_dotted_name_is_refused(layer: str) -> None:
    if layer == '"sample2"':  # a plain identifier: sample2.z1 cannot be read as the qualifier sample2/
        load_config_text(NET.replace("name: o", f"name: {layer}"), source="net.yaml", base_dir=Path("."))
        return
    message = load_error(NET.replace("name: o", f"name: {layer}"))
    assert message.startswith("net.yaml:4:13: network.layers[0].name: ") and "is not a valid name" in message


def test_the_reserved_names_come_from_the_names_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop_cli.model import names as trace

    kinds = {kind: pattern for kind, pattern, _ in trace.OWN_NAMES}
    assert kinds["loss"] == "loss" and kinds["target"] == "y{k}" and "input" not in kinds
    monkeypatch.setitem(trace.NAME_PATTERNS, "prediction", "yhat{k}")  # a name added to the contract ...
    monkeypatch.setattr(trace, "OWN_NAMES", trace._own_names())
    assert trace.reserved_input("yhat3") == ("prediction", "yhat{k}")  # ... is reserved with it
    assert trace.reserved_input("yhat") is None


def test_a_refused_input_name_would_have_lost_the_real_loss() -> None:
    """What the refusal prevents: two rows called ``loss``, the answer key keeping the input's."""
    from backprop_cli.homework.values import value_table
    from backprop_cli.nn.engine import Engine

    spec = load_config_text(NET, source="net.yaml", base_dir=Path("."))
    table = value_table(Engine(spec).run())
    assert table["loss"].phase == "loss" and table["a"].formula == "data row 1"


# ---------------------------------------------------------------- user text in YAML comments

HOSTILE_FILE_NAMES = [
    "net\ntolerance: {absolute: 1e300}\n#",
    "net\rtolerance: {absolute: 1e300}",
    "net\x85tolerance: {absolute: 1e300}",
    "net\u2028tolerance: {absolute: 1e300}",
    "net\x1b]0;title\x07\x1b[2J",
    "net\\n'\" # : {}",
    "réseau ✓",
]


def _sheet_data(directory: Path, file_name: str, *args: str) -> dict[str, object]:
    import yaml

    config = directory / f"{file_name}.yaml"
    config.write_text(NET, encoding="utf-8")
    result = CliRunner().invoke(main, ["answers", str(config), *args, "-o", str(directory / "sheet.yaml")])
    assert result.exit_code == 0, result.output + result.stderr
    data: dict[str, object] = yaml.safe_load((directory / "sheet.yaml").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("file_name", HOSTILE_FILE_NAMES)
@pytest.mark.parametrize("blank", [True, False])
def test_a_sheet_parses_to_the_same_data_whatever_the_config_file_is_called(
    tmp_path: Path, file_name: str, blank: bool
) -> None:
    from backprop_cli.homework.answers import load_answers

    args = ("--blank",) if blank else ()
    for folder in ("plain", "hostile"):
        (tmp_path / folder).mkdir()
    plain = _sheet_data(tmp_path / "plain", "net", *args)
    hostile = _sheet_data(tmp_path / "hostile", file_name, *args)
    config = hostile.pop("config")
    plain.pop("config")
    assert hostile == plain  # no key injected, none lost: the name stayed inside its comment
    assert isinstance(config, dict) and config["path"] == f"{file_name}.yaml"
    assert load_answers(tmp_path / "hostile" / "sheet.yaml").tolerance.kind == "relative"


def test_train_save_keeps_the_config_name_inside_its_comment(tmp_path: Path) -> None:
    import yaml

    name = HOSTILE_FILE_NAMES[0]
    config = tmp_path / f"{name}.yaml"
    config.write_text(NET, encoding="utf-8")
    saved = tmp_path / "trained.yaml"
    result = CliRunner().invoke(main, ["train", str(config), "--steps", "2", "--save", str(saved)])
    assert result.exit_code == 0, result.output + result.stderr
    data = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert "tolerance" not in data and {"network", "loss", "optimizer", "data"} <= data.keys()


# ---------------------------------------------------------------- user text in terminal output

# ESC ] 0 ; title BEL (set the title), ESC [ 2 J (clear the screen), C1 CSI, DEL, a bidi override
ACTING = "\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\u202e"
_SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own colours, which --color asks for


def _acts(text: str) -> list[str]:
    """The characters left that would make a terminal act, once rich's own colour codes are taken out."""
    return re.findall("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", _SGR.sub("", text))


def _quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar: JSON's escapes, and DEL, which JSON leaves raw."""
    import json

    return json.dumps(text).replace("\x7f", "\\x7f")


def _hostile_files(tmp_path: Path) -> dict[str, Path]:
    files = {"network": tmp_path / "net.yaml", "expression": tmp_path / "expr.yaml", "csv": tmp_path / "csv.yaml"}
    files["network"].write_text(NET + f"description: {_quoted(ACTING)}\n", encoding="utf-8")
    program = f"q = x + y  # {ACTING}\nf = q * x\n"
    files["expression"].write_text(
        f"expression: {_quoted(program)}\nvalues: {{x: 2, y: 3}}\noutput: f\n", encoding="utf-8"
    )
    (tmp_path / "rows.csv").write_text(f"u,label\n1,cat{ACTING}\n2,dog\n", encoding="utf-8")
    files["csv"].write_text(
        "network:\n  inputs: [u]\n  layers: [{units: 2, activation: softmax, weights: [[0.5], [-0.5]]}]\n"
        "loss: cross_entropy\noptimizer: sgd\ndata: {file: rows.csv, features: [u], label: label}\n",
        encoding="utf-8",
    )
    return files


@pytest.mark.parametrize("color", ["--no-color", "--color"])
def test_user_text_never_reaches_the_terminal_as_control_characters(tmp_path: Path, color: str) -> None:
    files = _hostile_files(tmp_path)
    runs = [  # the description, a comment of the program, a class label (train's summary names the classes)
        ["trace", str(files["network"]), color],
        ["trace", str(files["expression"]), color],
        ["train", str(files["csv"]), "--steps", "3", color],
        ["trace", str(files["network"]), "--format", "svg"],
    ]
    for args in runs:
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert not _acts(result.stdout), (args, _acts(result.stdout))
        assert "]0;pwned[2J31m" in result.stdout  # what is left of the text is printed, not dropped


def test_a_message_naming_a_hostile_file_is_printable(tmp_path: Path) -> None:
    result = invoke("trace", str(tmp_path / f"missing{ACTING}.yaml"))
    assert result.exit_code == 2 and "missing" in result.stderr
    assert not _acts(result.stderr)


def test_every_rich_console_is_the_safe_one() -> None:
    """One place: a Console made anywhere else would print user text raw."""
    package = Path(__file__).parent.parent / "backprop_cli"
    makers = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(?<![A-Za-z])Console\(", line) and path.name != "console.py"
    ]
    assert not makers, f"rich Consoles made outside render/console.py: {makers}"


def test_printable_keeps_text_and_drops_what_acts() -> None:
    from backprop_cli.render import printable

    assert printable("a\tb\nc é ✓ ∂L/∂w") == "a\tb\nc é ✓ ∂L/∂w"
    assert printable(ACTING) == "]0;pwned[2J31m"


# ---------------------------------------------------------------- no trailing spaces in plain output

REPO = Path(__file__).parent.parent


@pytest.mark.parametrize(
    "args",
    [
        ["trace", "two_layer_relu"],
        ["trace", "xor", "--width", "60"],
        ["trace", "circuit_add_mul"],
        ["train", "xor", "--steps", "5"],
        ["gradcheck", "xor"],
        ["graph", "xor", "--format", "tree"],
        ["names", "xor"],
        ["explain", "xor", "h.dL_dw1_1"],
    ],
)
def test_piped_output_has_no_trailing_spaces(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    padded = [line for line in result.stdout.splitlines() if line != line.rstrip()]
    assert not padded, padded[:3]


def test_committed_renders_pass_git_diff_check() -> None:
    """git diff --check refuses lines that end in spaces or tabs: no golden file or doc has one."""
    docs = [*(REPO / "docs").rglob("*.md"), *(REPO / "docs").rglob("*.yaml")]
    files = [*(REPO / "tests" / "golden").glob("*.txt"), *docs]
    assert files
    padded = [
        f"{path.relative_to(REPO)}:{n}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line != line.rstrip(" \t")
    ]
    assert not padded, padded[:5]


# ---------------------------------------------------------------- names whole at every width

BATCH_3_4_2 = """\
network:
  inputs: 3
  layers:
    - {name: h, units: 4, activation: sigmoid, init: {method: xavier, seed: 1}}
    - {name: o, units: 2, activation: sigmoid, init: {method: xavier, seed: 2}}
loss: mse
optimizer: {name: adam, learning_rate: 0.5}
data:
  - {x: [0.1, 0.2, 0.3], y: [0, 1]}
  - {x: [0.4, 0.5, 0.6], y: [1, 0]}
  - {x: [0.7, 0.8, 0.9], y: [1, 1]}
training: {steps: 2, batch_size: 3}
"""


@pytest.mark.parametrize("example", ["xor", "classic_2_2_2", "softmax_classifier", "adam_two_steps", "3-4-2"])
def test_every_name_cell_appears_whole_and_every_line_fits(tmp_path: Path, example: str) -> None:
    import json

    config = example
    if example == "3-4-2":  # a student's first own network: 832 name cells, long qualified names
        config = str(tmp_path / "net.yaml")
        Path(config).write_text(BATCH_3_4_2, encoding="utf-8")
    names = [entry["name"] for entry in json.loads(invoke("names", config, "--format", "json").stdout)["names"]]
    for width in (40, 60, 80, 100):
        result = invoke("trace", config, "--width", str(width), "--max-rows", "0", "--no-color")
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= width, width
        starts = {line.split(" ", 1)[0] for line in lines}
        broken = [name for name in names if name not in starts]
        assert not broken, (width, broken[:5])


# ---------------------------------------------------------------- --reveal never hides every answer


def _wrong_sheet(tmp_path: Path) -> tuple[Path, dict[str, float]]:
    """A sheet for classic_2_2_2's backward pass with every answer wrong, and the key's values."""
    import yaml

    sheet = tmp_path / "sheet.yaml"
    result = invoke("answers", "classic_2_2_2", "--phase", "backward", "-o", str(sheet))
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load(sheet.read_text(encoding="utf-8"))
    expected: dict[str, float] = dict(data["answers"])
    data["answers"] = {name: 123.456 for name in expected}
    sheet.write_text(yaml.safe_dump(data), encoding="utf-8")
    return sheet, expected


@pytest.mark.parametrize("output_format", ["text", "json", "gradescope"])
def test_reveal_never_shows_no_expected_value_in_any_format_even_with_explain(
    tmp_path: Path, output_format: str
) -> None:
    from backprop_cli.model.numbers import NumberFormat

    sheet, expected = _wrong_sheet(tmp_path)
    args = ["check", str(sheet), "--reveal", "never", "--explain", "--depth", "0", "--format", output_format]
    result = invoke(*args)
    assert result.exit_code == 1, result.stderr
    text = result.stdout
    if output_format != "text":
        import json

        report = json.loads(text)
        assert all("expected" not in entry for entry in report.get("answers", []))
        text = json.dumps(report, ensure_ascii=False)
    assert "How" in text or "derivation" in text  # the derivations are there ...
    assert "h.delta1 = h.dL_da1 × h.da_dz1" in text
    shown = {text for value in expected.values() for text in (NumberFormat()(value), repr(value), str(value))}
    leaked = sorted(number for number in shown if len(number.lstrip("-")) > 3 and number in text)
    assert not leaked, leaked  # ... and no expected value in them, in the table, the JSON or the feedback


def test_reveal_wrong_explain_still_shows_the_numbers(tmp_path: Path) -> None:
    sheet, expected = _wrong_sheet(tmp_path)
    result = invoke("check", str(sheet), "--reveal", "wrong", "--explain")
    assert result.exit_code == 1
    from backprop_cli.model.numbers import NumberFormat

    assert all(NumberFormat()(value) in result.stdout for value in expected.values())


# ---------------------------------------------------------------- the homework recipe grades


def _recipe(tmp_path: Path) -> tuple[Path, Path]:
    """The README's recipe: a key of every name, a sheet of the backward pass, filled in correctly."""
    import yaml

    key, sheet = tmp_path / "key.yaml", tmp_path / "sheet.yaml"
    assert invoke("answers", "classic_2_2_2", "-o", str(key)).exit_code == 0
    assert invoke("answers", "classic_2_2_2", "--blank", "--phase", "backward", "-o", str(sheet)).exit_code == 0
    values = yaml.safe_load(key.read_text(encoding="utf-8"))["answers"]
    data = yaml.safe_load(sheet.read_text(encoding="utf-8"))
    data["answers"] = {name: values[name] for name in data["answers"]}
    sheet.write_text(yaml.safe_dump(data), encoding="utf-8")
    return key, sheet


def test_the_homework_recipe_scores_a_correct_sheet_full_marks(tmp_path: Path) -> None:
    key, sheet = _recipe(tmp_path)
    result = invoke("check", str(sheet), "--key", str(key), "--phase", "backward")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Score: 22/22 (100%)" in result.stdout


def test_without_the_filters_the_report_says_which_grade_the_sheet(tmp_path: Path) -> None:
    key, sheet = _recipe(tmp_path)
    for output_format in ("text", "gradescope"):
        result = invoke("check", str(sheet), "--key", str(key), "--format", output_format)
        assert result.exit_code == 1
        assert "27 of the missing answers are names the sheet does not list" in " ".join(result.stdout.split())
        assert "filters it was written with: --phase backward" in " ".join(result.stdout.split())


def test_a_question_left_out_of_a_sheet_is_still_missing(tmp_path: Path) -> None:
    import yaml

    key, sheet = _recipe(tmp_path)
    data = yaml.safe_load(sheet.read_text(encoding="utf-8"))
    del data["answers"]["h.dL_dw1_1"]  # a hard one, dropped by the student
    sheet.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = invoke("check", str(sheet), "--key", str(key), "--phase", "backward", "--format", "json")
    assert result.exit_code == 1
    import json

    report = json.loads(result.stdout)
    assert (
        report["counts"] == {"correct": 21, "ecf": 0, "wrong": 0, "missing": 1, "invalid": 0}
        and report["max_score"] == 22
    )


def test_check_filters_that_choose_nothing_are_refused(tmp_path: Path) -> None:
    key, sheet = _recipe(tmp_path)
    result = invoke("check", str(sheet), "--key", str(key), "--only", "nothing*")
    assert result.exit_code == 2 and "--only: no name the key asks matches the filters" in result.stderr
    alone = invoke("check", str(sheet), "--only", "h.*")  # without a key the filters narrow the sheet
    assert alone.exit_code == 0 and "Score: 12/12" in alone.stdout


# ---------------------------------------------------------------- rows: 1-based beside 0-based

TWO_STEPS = """\
network:
  inputs: 1
  layers: [{units: 1, weights: [[1]]}]
loss: mse
optimizer: sgd
data: [{x: 1, y: 2}, {x: 2, y: 3}, {x: 3, y: 4}, {x: 4, y: 5}]
training: {steps: 2, batch_size: 2}
"""


@pytest.mark.parametrize("command", ["trace", "names", "answers"])
def test_a_sample_the_chosen_step_does_not_hold_is_refused_with_the_rows_it_holds(tmp_path: Path, command: str) -> None:
    config = tmp_path / "net.yaml"
    config.write_text(TWO_STEPS, encoding="utf-8")
    result = invoke(command, str(config), "--step", "2", "--sample", "2")
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith("--sample: data row 2 is not in the batch of step 2 (step 2 holds rows 3, 4)")
    assert invoke(command, str(config), "--step", "2", "--sample", "3").exit_code == 0
    one = config.with_name("one.yaml")
    one.write_text(TWO_STEPS.replace("steps: 2", "steps: 1"), encoding="utf-8")
    never = invoke(command, str(one), "--sample", "4")
    assert never.exit_code == 2 and "the run's only step holds rows 1, 2" in never.stderr


def test_the_trace_json_has_rows_1_based_beside_samples_0_based(tmp_path: Path) -> None:
    import json

    config = tmp_path / "net.yaml"
    config.write_text(TWO_STEPS, encoding="utf-8")
    steps = json.loads(invoke("trace", str(config), "--format", "json").stdout)["steps"]
    assert [(s["samples"], s["rows"]) for s in steps] == [([0, 1], [1, 2]), ([2, 3], [3, 4])]
    assert [(p["sample"], p["row"]) for p in steps[1]["per_sample"]] == [(2, 3), (3, 4)]
    names = json.loads(invoke("names", str(config), "--step", "2", "--format", "json").stdout)["names"]
    assert {n["sample"] for n in names if n["name"].startswith("step2/sample")} == {3, 4}  # the same 1-based rows
    exact = json.loads(invoke("trace", str(config), "--exact", "--format", "json").stdout)
    assert exact["kind"] == "network" and exact["exact"] is True
    assert [(s["samples"], s["rows"]) for s in exact["steps"]] == [([0, 1], [1, 2]), ([2, 3], [3, 4])]


# ---------------------------------------------------------------- the options a new user reaches for


def test_explain_takes_width_and_colour() -> None:
    narrow = invoke("explain", "classic_2_2_2", "h.dL_dw1_1", "--depth", "3", "--width", "50")
    assert narrow.exit_code == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 50 and len(lines) > 14  # long lines go on under their branch
    assert "│  ├─ h.dL_da1 = o.delta1·o.w1_1 + o.delta2·o.w2_1" in lines
    plain = invoke("explain", "classic_2_2_2", "h.dL_dw1_1", "--no-color", "--width", "200").stdout
    coloured = invoke("explain", "classic_2_2_2", "h.dL_dw1_1", "--color", "--width", "200").stdout
    assert "\x1b[" not in plain and "\x1b[36mh.dL_dw1_1\x1b[0m" in coloured
    assert _SGR.sub("", coloured) == plain


@pytest.mark.parametrize("command", ["names", "answers"])
def test_an_only_pattern_that_matches_nothing_exits_2_with_the_closest_names(command: str) -> None:
    result = invoke(command, "xor", "--only", "*.dL_dW*")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("--only: no name matches the filters (did you mean 'sample1/o.dL_dw1_1'")
    typo = invoke(command, "xor", "--only", "*h.detla1")
    assert typo.exit_code == 2 and "'sample1/h.delta1'" in typo.stderr
    both = invoke(command, "xor", "--only", "zzz", "--phase", "forward")
    assert both.exit_code == 2 and both.stderr.startswith("--only/--phase: no name matches the filters")


def test_validate_on_an_answers_file_points_to_check(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    assert invoke("answers", "xor", "-o", str(key)).exit_code == 0
    for command in ("validate", "trace"):
        result = invoke(command, str(key))
        assert result.exit_code == 2
        assert re.match(rf"{re.escape(str(key))}:\d+:\d+: format: this is an answers file", result.stderr)
        assert f"`backprop check {key}`" in result.stderr and "unknown field" not in result.stderr
    trace = tmp_path / "trace.json"
    assert invoke("trace", "xor", "--format", "json", "-o", str(trace)).exit_code == 0
    assert "this is a trace written by `backprop trace --format json`" in invoke("validate", str(trace)).stderr


def test_no_built_in_description_reads_as_a_random_seed() -> None:
    """'The seed snippet' read as a random seed; 'seed' in a description means one (seed 0) or nothing."""
    from backprop_cli.loading.examples import describe, example_names

    odd = [name for name in example_names() if re.search(r"\bseed\b(?! \d)", describe(name))]
    assert not odd, odd


def test_answers_takes_steps_and_data_and_check_recomputes_that_run(tmp_path: Path) -> None:
    import yaml

    config = tmp_path / "net.yaml"
    config.write_text(TWO_STEPS.replace("steps: 2", "steps: 1"), encoding="utf-8")
    (tmp_path / "more.yaml").write_text("[{x: 5, y: 1}, {x: 6, y: 2}]\n", encoding="utf-8")
    key = tmp_path / "key.yaml"
    result = invoke("answers", str(config), "--steps", "3", "--data", str(tmp_path / "more.yaml"), "-o", str(key))
    assert result.exit_code == 0, result.stderr
    recorded = yaml.safe_load(key.read_text(encoding="utf-8"))
    assert recorded["config"]["steps"] == 3 and recorded["config"]["data"]["path"] == "more.yaml"
    assert "step3/layer1.w1_1.new" in recorded["answers"]
    assert "step1/sample1/layer1.z1" in recorded["answers"]  # the recorded data: 2 rows, a batch of 2
    checked = invoke("check", str(key))
    assert checked.exit_code == 0 and "100%" in checked.stdout, checked.stdout + checked.stderr
    (tmp_path / "more.yaml").write_text("[{x: 5, y: 1}, {x: 6, y: 3}]\n", encoding="utf-8")
    changed = invoke("check", str(key))
    assert changed.exit_code == 2 and "config.data.sha256: the data file 'more.yaml' does not match" in changed.stderr


@pytest.mark.parametrize("path", ["../outside.yaml", "/etc/hostname"])
def test_a_data_path_in_an_answers_file_may_not_leave_its_folder(tmp_path: Path, path: str) -> None:
    import yaml

    config = tmp_path / "net.yaml"
    config.write_text(TWO_STEPS, encoding="utf-8")
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(config), "-o", str(key)).exit_code == 0
    data = yaml.safe_load(key.read_text(encoding="utf-8"))
    data["config"]["data"] = {"path": path, "sha256": "0" * 64}
    key.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = invoke("check", str(key))
    assert result.exit_code == 2 and "config.data.path: data path" in result.stderr and "leaves" in result.stderr


def test_the_check_table_never_cuts_a_name_or_number_with_an_ellipsis(tmp_path: Path) -> None:
    key, sheet = _recipe(tmp_path)
    args = ["check", str(sheet), "--key", str(key), "--phase", "backward", "--reveal", "always"]
    for width in (40, 60, 100):
        result = invoke(*args, "--width", str(width))
        assert result.exit_code == 0 and "…" not in result.stdout, (width, result.stdout)
    wide = invoke("check", str(sheet), "--key", str(key), "--phase", "backward", "--width", "100").stdout
    assert all(f" {name} " in wide for name in ("h.dL_dw1_1", "o.delta2", "h.da_dz2"))


def test_a_misspelt_name_with_check_filters_is_the_located_unknown_name(tmp_path: Path) -> None:
    import yaml

    _, sheet = _recipe(tmp_path)
    data = yaml.safe_load(sheet.read_text(encoding="utf-8"))
    data["answers"]["h.detla1"] = 1
    sheet.write_text(yaml.safe_dump(data), encoding="utf-8")
    for phase in ("backward", "forward"):  # forward: the filters choose none of the sheet's names either
        result = invoke("check", str(sheet), "--phase", phase)
        assert result.exit_code == 2 and "unknown name 'h.detla1' (did you mean 'h.delta1'" in result.stderr
