"""Names and text: names that cannot collide or break, user text that cannot drive the terminal, and
the rough edges a new user meets (a homework recipe that grades, answers that stay hidden, rows by number)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli import main
from backprop_cli.config import load_config_text
from backprop_cli.errors import ConfigError

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


def test_the_reserved_names_come_from_the_names_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop_cli import trace

    kinds = {kind: pattern for kind, pattern, _ in trace.OWN_NAMES}
    assert kinds["loss"] == "loss" and kinds["target"] == "y{k}" and "input" not in kinds
    monkeypatch.setitem(trace.NAME_PATTERNS, "prediction", "yhat{k}")  # a name added to the contract ...
    monkeypatch.setattr(trace, "OWN_NAMES", trace._own_names())
    assert trace.reserved_input("yhat3") == ("prediction", "yhat{k}")  # ... is reserved with it
    assert trace.reserved_input("yhat") is None


def test_a_refused_input_name_would_have_lost_the_real_loss() -> None:
    """What the refusal prevents: two rows called ``loss``, the answer key keeping the input's."""
    from backprop_cli.engine import Engine
    from backprop_cli.values import value_table

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
    from backprop_cli.answers import load_answers

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
