"""Tolerant reading: numbers as students type them, sheets whose YAML slipped, and a config's identity."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.homework.answers import config_identity, config_sha256
from backprop_cli.homework.tolerant import NotANumber, read_number, salvage
from backprop_cli.loading.examples import example_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


@pytest.mark.parametrize(
    ("text", "value", "said"),
    [
        ("0.3775", 0.3775, ""),
        ("−0.1385", -0.1385, "Unicode minus read as -"),  # U+2212, as the trace prints it
        ("0,1385", 0.1385, "decimal comma read as a point"),
        ("−0,1385", -0.1385, "Unicode minus read as -; decimal comma read as a point"),
        ("13.85%", 0.1385, "percent: 13.85% read as 13.85/100"),
        ("3/4", 0.75, ""),
        ("-16/2", -8.0, ""),
        ("1.5/3", 0.5, ""),
        ("2.5e-3", 0.0025, ""),
        ("2.5×10^-3", 0.0025, "2.5×10^-3 read as 2.5e-3"),
        ("2.5·10⁻³", 0.0025, "2.5×10^-3 read as 2.5e-3"),
        ("  0.5  ", 0.5, ""),  # surrounding spaces: nothing changed that the student wrote
        ("0. 5", 0.5, "spaces removed"),
        ("12,5", 12.5, "decimal comma read as a point"),  # two digits after the comma: not thousands
        ("0,125", 0.125, "decimal comma read as a point"),  # 0 before it: not thousands either
    ],
)
def test_numbers_as_typed_are_read_and_each_normalisation_is_said(text: str, value: float, said: str) -> None:
    reading = read_number(text)
    assert reading.value == pytest.approx(value, rel=1e-15, abs=0) and reading.note == said


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1,234", "ambiguous"),  # 1.234 or 1234
        ("1,2.3", "one decimal mark"),
        ("abc", "not a number"),
        ("1/0", "divides by zero"),
        ("1e999", "not finite"),
        ("[0.3", "not a number"),
        ("x" * 700, "at most"),
    ],
)
def test_what_no_normalisation_makes_a_number_says_why(text: str, why: str) -> None:
    with pytest.raises(NotANumber, match=why):
        read_number(text)


def test_salvage_reads_every_line_that_reads_on_its_own() -> None:
    found = salvage(
        "format: backprop-answers\nstudent: s17\nconfig:\n  path: net.yaml\n  sha256: abc\nanswers:\n"
        "  h.z1: 0.3775  # a comment\n  h.z2: [0.39\n  h.a1:\n"
    )
    assert found.top == {
        "format": "backprop-answers",
        "student": "s17",
        "config.path": "net.yaml",
        "config.sha256": "abc",
    }
    assert [(a.name, a.text, a.line, a.col) for a in found.answers] == [
        ("h.z1", "0.3775", 7, 3),
        ("h.z2", "[0.39", 8, 3),
        ("h.a1", "", 9, 3),
    ]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "net.yaml"
    shutil.copy(example_path("classic_2_2_2"), path)
    return path


def answers(config: Path, out: Path, *args: str) -> Path:
    result = invoke("answers", str(config), *args, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out


def graded(sheet: Path, key: Path) -> tuple[Result, dict[str, Any]]:
    result = invoke("check", str(sheet), "--key", str(key), "--format", "json")
    return result, json.loads(result.stdout)


def test_a_typo_ridden_submission_is_graded_as_far_as_it_goes(config: Path) -> None:
    key = answers(config, config.parent / "key.yaml", "--phase", "forward")
    sheet = config.parent / "sheet.yaml"
    text = answers(config, sheet, "--phase", "forward", "--blank").read_text(encoding="utf-8")
    filled = {
        "h.z1": "0,3775",  # decimal comma: 0.3775 (Mazur: 0.15·0.05 + 0.20·0.10 + 0.35)
        "h.z2": "0.3925",  # right as written
        "h.a1": "59.327%",  # σ(0.3775) = 0.593269992, as a percentage
        "o.z1": "zero point one",  # not a number: invalid, the rest still graded
    }
    for name, value in filled.items():
        text = re.sub(rf"(?m)^  {re.escape(name)}:$", f"  {name}: {value}", text)
    text = text.replace("  h.a2:", "  h.aa2: 0.596884")  # misspelt h.a2 = σ(0.3925) = 0.596884378
    sheet.write_text(text, encoding="utf-8")
    result, doc = graded(sheet, key)
    assert result.exit_code == 1 and "1 invalid" in result.stderr
    verdicts = {a["name"]: (a["verdict"], a.get("note", "")) for a in doc["answers"]}
    assert verdicts["h.z1"] == ("correct", "decimal comma read as a point")
    assert verdicts["h.z2"] == ("correct", "")
    assert verdicts["h.a1"] == ("correct", "percent: 59.327% read as 59.327/100")
    assert verdicts["o.z1"][0] == "invalid" and "not a number" in verdicts["o.z1"][1]
    assert verdicts["h.a2"] == ("missing", "the sheet names 'h.aa2', not a name of the trace (did you mean this one?)")
    assert doc["counts"]["invalid"] == 1 and doc["counts"]["correct"] == 3


def test_a_yaml_slip_in_one_answer_still_grades_the_others(config: Path) -> None:
    key = answers(config, config.parent / "key.yaml", "--phase", "forward")
    sheet = config.parent / "sheet.yaml"
    text = answers(config, sheet, "--phase", "forward", "--blank").read_text(encoding="utf-8")
    text = text.replace("  h.z1:\n", "  h.z1: 0.3775\n").replace("  h.z2:\n", "  h.z2: [0.3925\n")
    text = text.replace("  h.a1:\n", "  h.a1: −0.5\n")  # wrong (σ is positive), with a Unicode minus
    sheet.write_text(text, encoding="utf-8")
    result, doc = graded(sheet, key)
    assert result.exit_code == 1
    verdicts = {a["name"]: a["verdict"] for a in doc["answers"]}
    assert verdicts["h.z1"] == "correct" and verdicts["h.z2"] == "invalid" and verdicts["h.a1"] == "wrong"
    text_report = invoke("check", str(sheet), "--key", str(key)).stdout
    assert "the sheet was read line by line" in text_report and "invalid YAML" in text_report


def test_without_a_key_a_sheet_is_still_held_to_its_names(config: Path) -> None:
    sheet = answers(config, config.parent / "key.yaml", "--phase", "forward")
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("  h.z1:", "  h.zz1:"), encoding="utf-8")
    result = invoke("check", str(sheet))
    assert result.exit_code == 2 and "unknown name 'h.zz1' (did you mean 'h.z1'" in result.stderr


def test_a_comment_or_reordered_keys_keep_the_config_s_identity(config: Path, tmp_path: Path) -> None:
    key = answers(config, config.parent / "key.yaml", "--phase", "forward")
    before = config_identity(config)
    raw = config_sha256(config)
    text = key.read_text(encoding="utf-8")
    assert f'sha256: "{before}"' in text and f'raw_sha256: "{raw}"' in text
    config.write_text("# week 3, problem 2\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    assert config_identity(config) == before and config_sha256(config) != raw
    assert invoke("check", str(key)).exit_code == 0
    flipped = tmp_path / "flipped.json"  # the same config as JSON with its top keys reversed
    import yaml

    value = yaml.safe_load(config.read_text(encoding="utf-8"))
    flipped.write_text(json.dumps(dict(reversed(list(value.items())))), encoding="utf-8")
    assert config_identity(flipped) == before
    config.write_text(config.read_text(encoding="utf-8").replace("[[0.15, 0.20]", "[[0.16, 0.20]"), encoding="utf-8")
    assert config_identity(config) != before
    result = invoke("check", str(key))
    assert result.exit_code == 2 and "config.sha256: the config" in result.stderr


def test_a_sheet_written_with_the_raw_hash_still_belongs_to_its_config(config: Path) -> None:
    key = answers(config, config.parent / "key.yaml", "--phase", "forward")
    text = key.read_text(encoding="utf-8")
    old = re.sub(r'(?m)^  sha256: ".*"\n  raw_sha256: "(.*)"$', r'  sha256: "\1"', text)
    assert old != text and "raw_sha256" not in old
    key.write_text(old, encoding="utf-8")
    assert invoke("check", str(key)).exit_code == 0


@pytest.mark.parametrize("name", ["classic_2_2_2", "iris", "xor", "adam_two_steps"])
def test_the_identity_of_a_loaded_config_s_document_is_the_file_s(name: str) -> None:
    # batch grading hashes the document the loader parsed instead of reading the config again
    from backprop_cli.cli.names import load_program
    from backprop_cli.homework.answers import value_identity

    spec, path = load_program(name)
    document = getattr(spec, "document", None)
    assert document is not None and value_identity(document.value) == config_identity(path)
