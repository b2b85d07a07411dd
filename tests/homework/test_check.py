"""`backprop answers` and `backprop check` end to end: verdicts, scores, exit codes, reports, bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.loading.examples import example_path
from tests.homework import homework_examples

# The Gradescope autograder results.json, as Gradescope documents it (top level and tests[] fields).
GRADESCOPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["score", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
        "stdout_visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "output"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "output": {"type": "string"},
                    "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                    "number": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Mazur's 2-2-2 network, copied so that a test may change it."""
    path = tmp_path / "net.yaml"
    shutil.copy(example_path("classic_2_2_2"), path)
    return path


def make(config: Path, *args: str) -> Path:
    out = config.parent / ("sheet.yaml" if "--blank" in args else "key.yaml")
    result = invoke("answers", str(config), *args, "-o", str(out))
    assert result.exit_code == 0, result.output + result.stderr
    return out


def fill(path: Path, answers: dict[str, str]) -> None:
    """Put answers into a sheet (or replace those of a key), keeping everything else as written."""
    text = path.read_text(encoding="utf-8")
    for name, value in answers.items():
        text, count = re.subn(rf"(?m)^  {re.escape(name)}:.*$", f"  {name}: {value}", text)
        assert count == 1, name
    path.write_text(text, encoding="utf-8")


def report(*args: str) -> tuple[int, dict[str, Any]]:
    result = invoke("check", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_an_answer_key_checks_all_correct(config: Path) -> None:
    key = make(config)
    result = invoke("check", str(key))
    assert result.exit_code == 0, result.stderr
    assert re.search(r"Score: (\d+)/\1 \(100%\) · \1 correct, 0 wrong, 0 missing of \1 answers", result.output)
    assert result.stderr == ""


def test_one_value_beyond_tolerance_is_exactly_one_wrong_answer(config: Path) -> None:
    key = make(config)
    fill(key, {"o.w1_1.new": "0.3594"})  # 0.35891648 ± 0.1% is 0.35856 … 0.35928
    code, doc = report(str(key))
    assert code == 1
    assert doc["counts"] == {"correct": len(doc["answers"]) - 1, "ecf": 0, "wrong": 1, "missing": 0, "invalid": 0}
    assert [a["name"] for a in doc["answers"] if a["verdict"] == "wrong"] == ["o.w1_1.new"]
    assert "check failed: 1 wrong and 0 missing" in invoke("check", str(key)).stderr


def test_fractions_and_rounded_answers_within_the_default_tolerance_pass(config: Path) -> None:
    sheet = make(config, "--blank", "--only", "h.z1", "--only", "o.w1_1.new", "--only", "o.dL_dw1_1")
    # Mazur: net_h1 = 0.3775 = 151/400; ∂E/∂w5 = 0.082167041; w5+ = 0.35891648
    fill(sheet, {"h.z1": "151/400", "o.dL_dw1_1": "0.08217", "o.w1_1.new": "0.3589"})
    code, doc = report(str(sheet))
    assert code == 0, doc
    assert [(a["name"], a["given_text"], a["verdict"]) for a in doc["answers"]] == [
        ("h.z1", "151/400", "correct"),
        ("o.dL_dw1_1", "0.08217", "correct"),
        ("o.w1_1.new", "0.3589", "correct"),
    ]


def test_blanks_are_missing_and_weights_and_overrides_count(config: Path) -> None:
    sheet = make(config, "--blank", "--phase", "update", "--only", "o.*")
    fill(
        sheet,
        {
            "o.w1_1.new": "{value: 0.36, weight: 4, tolerance: {decimals: 2}}",  # 0.35891648 rounded
            "o.w1_2.new": "{value: 0.41, weight: 2}",  # default tolerance: 0.3% off, wrong
            "o.w2_1.new": "0.5113",
        },
    )
    code, doc = report(str(sheet))
    assert code == 1
    verdicts = {a["name"]: (a["verdict"], a["score"], a["weight"]) for a in doc["answers"]}
    assert verdicts["o.w1_1.new"] == ("correct", 4.0, 4.0)
    assert verdicts["o.w1_2.new"] == ("wrong", 0.0, 2.0)
    assert verdicts["o.w2_1.new"] == ("correct", 1.0, 1.0)
    assert verdicts["o.b1.new"] == ("missing", 0.0, 1.0)
    assert (doc["score"], doc["max_score"]) == (5.0, 4 + 2 + 1 + 3.0)  # o.w2_2, o.b1, o.b2 blank
    assert doc["format"] == "backprop-check" and doc["version"] == 1 and doc["passed"] is False


def test_reveal_controls_the_expected_value(config: Path) -> None:
    sheet = make(config, "--blank", "--only", "h.z1", "--only", "h.z2")
    fill(sheet, {"h.z1": "0.3775", "h.z2": "0.4"})  # net_h2 = 0.3925
    for reveal, shown in (("never", []), ("wrong", ["h.z2"]), ("always", ["h.z1", "h.z2"])):
        _, doc = report(str(sheet), "--reveal", reveal)
        assert [a["name"] for a in doc["answers"] if "expected" in a] == shown
        text = invoke("check", str(sheet), "--reveal", reveal).output
        assert ("0.3925" in text) == (reveal != "never")
    text = invoke("check", str(sheet), "--reveal", "never").output
    assert re.search(r"h\.z2\s+0\.4\s+·\s+wrong", text)


def test_gradescope_results_validate_against_the_documented_fields(config: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra: pip install '.[test]'")
    sheet = make(config, "--blank", "--only", "h.*")
    fill(sheet, {"h.z1": "{value: 0.3775, weight: 2}", "h.z2": "1"})
    result = invoke("check", str(sheet), "--format", "gradescope", "--visibility", "after_published", "--explain")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, GRADESCOPE_SCHEMA)
    tests = {t["name"]: t for t in doc["tests"]}
    assert tests["h.z1"] == {
        "name": "h.z1",
        "number": "1",
        "score": 2.0,
        "max_score": 2.0,
        "status": "passed",
        "output": "given `0.3775`: **correct**",  # Markdown: the student's text as a code span
        "output_format": "md",
        "tags": ["forward"],
        "visibility": "after_published",
        "extra_data": {"verdict": "correct", "first_wrong_step": False, "fingerprints": []},
    }
    assert tests["h.z2"]["status"] == "failed" and tests["h.z2"]["score"] == 0
    assert "h.z2 = h.w2_1·i1 + h.w2_2·i2 + h.b2" in tests["h.z2"]["output"]  # --explain
    assert doc["score"] == 2.0 and doc["max_score"] == len(tests) + 1
    with pytest.raises(jsonschema.ValidationError):  # the schema does reject what Gradescope would
        jsonschema.validate(doc | {"tests": [tests["h.z1"] | {"status": "ok"}]}, GRADESCOPE_SCHEMA)


def test_explain_attaches_the_derivation_of_wrong_answers(config: Path) -> None:
    sheet = make(config, "--blank", "--only", "o.dL_dw1_1")
    fill(sheet, {"o.dL_dw1_1": "0.08"})
    result = invoke("check", str(sheet), "--explain", "--depth", "1", "--reveal", "wrong")
    assert result.exit_code == 1
    assert "How o.dL_dw1_1 is computed:" in result.output
    # Mazur: ∂E/∂w5 = δ_o1 × out_h1 = 0.138498562 × 0.593269992 = 0.082167041
    assert "o.dL_dw1_1 = o.delta1 × h.a1 = 0.138499 × 0.59327 = 0.082167" in result.output
    assert "├─ o.delta1 = o.dL_da1 × o.da_dz1 = 0.741365 × 0.186816 = 0.138499" in result.output


def test_output_file_and_config_option(config: Path, tmp_path: Path) -> None:
    key = make(config)
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(str(key), moved / "key.yaml")
    result = invoke("check", str(moved / "key.yaml"))  # the recorded path no longer leads to the config
    assert result.exit_code == 2 and "config.path: config '../net.yaml' not found" not in result.stderr
    assert "config.path: config 'net.yaml' not found beside the answers file" in result.stderr
    out = tmp_path / "report.txt"
    result = invoke("check", str(moved / "key.yaml"), "--config", str(config), "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert "Score:" in out.read_text(encoding="utf-8")


def test_bad_answers_files_exit_2_with_a_located_message(config: Path, tmp_path: Path) -> None:
    key = make(config)
    text = key.read_text(encoding="utf-8")
    cases = {
        "malformed": text.replace("answers:\n", "answers: [\n", 1),
        "wrong type": text.replace("  h.z1: 0.3775", "  h.z1: [0.3775]"),
        "unknown name": text.replace("  h.z1: 0.3775", "  h.zz1: 0.3775"),
    }
    expected = {
        "malformed": r"key\.yaml:\d+:\d+: invalid YAML",
        "wrong type": r"key\.yaml:\d+:9: answers\.h\.z1: the answer is a list; expected a decimal",
        "unknown name": r"key\.yaml:\d+:3: answers\.h\.zz1: unknown name 'h\.zz1' \(did you mean 'h\.z1'",
    }
    for case, body in cases.items():
        bad = tmp_path / "key.yaml"
        bad.write_text(body, encoding="utf-8")
        result = invoke("check", str(bad))
        assert result.exit_code == 2, case
        assert re.search(expected[case], result.stderr), (case, result.stderr)
        assert "Traceback" not in result.output + result.stderr
        key.write_text(text, encoding="utf-8")


def test_a_missing_answers_file_is_bad_input(tmp_path: Path) -> None:
    result = invoke("check", str(tmp_path / "gone.yaml"))
    assert result.exit_code == 2 and "gone.yaml: no such file; expected a YAML answers file" in result.stderr


def test_a_config_that_does_not_match_is_refused(config: Path, tmp_path: Path) -> None:
    key = make(config)
    other = tmp_path / "other.yaml"
    shutil.copy(example_path("xor"), other)
    result = invoke("check", str(key), "--config", str(other))
    assert result.exit_code == 2
    assert re.search(r"key\.yaml:\d+:\d+: config\.sha256: the config .*other\.yaml does not match", result.stderr)
    config.write_text(config.read_text(encoding="utf-8").replace("0.15", "0.16"), encoding="utf-8")
    result = invoke("check", str(key))
    assert result.exit_code == 2 and "config.sha256: the config" in result.stderr


def test_a_key_decides_names_weights_and_tolerances(config: Path, tmp_path: Path) -> None:
    key = make(config, "--phase", "update", "--only", "o.w1_*")
    fill(key, {"o.w1_1.new": "{value: 0.35891648, weight: 3}"})  # the key's values are recomputed anyway
    sheet = make(config, "--blank", "--phase", "update", "--only", "o.*")
    # the student loosens a tolerance, answers a name the key does not ask, and skips o.w1_2.new
    fill(sheet, {"o.w1_1.new": "{value: 0.4, tolerance: {absolute: 1}}", "o.b1.new": "0.530750719"})
    code, doc = report(str(sheet), "--key", str(key))
    assert code == 1
    assert [(a["name"], a["verdict"], a["weight"], a["tolerance"]) for a in doc["answers"]] == [
        ("o.w1_1.new", "wrong", 3.0, {"relative": 0.001}),
        ("o.w1_2.new", "missing", 1.0, {"relative": 0.001}),
    ]
    without_key = report(str(sheet))[1]["answers"]
    assert [a["verdict"] for a in without_key if a["name"] == "o.w1_1.new"] == ["correct"]  # what --key prevents
    other = tmp_path / "other.yaml"
    shutil.copy(example_path("xor"), other)
    stranger = tmp_path / "stranger.yaml"
    assert invoke("answers", str(other), "--blank", "-o", str(stranger)).exit_code == 0
    result = invoke("check", str(stranger), "--key", str(key))
    assert result.exit_code == 2 and "stranger.yaml:" in result.stderr and "config.sha256" in result.stderr


def test_a_run_of_several_steps_is_checked_by_step_qualified_names(tmp_path: Path) -> None:
    config = tmp_path / "xor3.yaml"
    text = re.sub(r"(?m)^training:.*$", "training: {steps: 3}", example_path("xor").read_text(encoding="utf-8"))
    config.write_text(text, encoding="utf-8")
    key = make(config, "--step", "2", "--phase", "update")
    assert "  step2/h.w1_1.new: " in key.read_text(encoding="utf-8")
    assert invoke("check", str(key)).exit_code == 0
    fill(key, {"step2/h.w1_1.new": "0.5"})
    code, doc = report(str(key))
    assert code == 1 and doc["counts"]["wrong"] == 1
    fill(key, {"step2/h.w1_1.new": "0.5\n  h.w1_1.new: 0.5"})  # no step qualifier in a 3-step run
    result = invoke("check", str(key))
    assert result.exit_code == 2
    assert "unknown name 'h.w1_1.new' (did you mean 'step2/h.w1_1.new' or 'step1/h.w1_1.new'" in result.stderr


def test_answers_for_a_built_in_example_name_it(tmp_path: Path) -> None:
    out = tmp_path / "key.yaml"
    assert invoke("answers", "pytorch_snippet", "-o", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert 'path: "pytorch_snippet"' in text and "  out.dL_dw1_1: -24.0" in text  # the seed case's gradient
    assert invoke("check", str(out)).exit_code == 0
    assert invoke("answers", "pytorch_snippet", "--only", "nothing*").exit_code == 2


@pytest.mark.parametrize("command", ["names", "explain", "answers", "check", "variants"])
def test_every_new_command_has_help_with_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Example" in result.output


def network_examples() -> list[str]:

    return homework_examples()


@pytest.mark.parametrize("name", network_examples())
def test_every_built_in_network_s_answer_key_checks_all_correct(name: str, tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    result = invoke("answers", name, "--step", "1", "--given", "-o", str(key))
    assert result.exit_code == 0, result.stderr
    code, doc = report(str(key))
    assert code == 0 and doc["counts"]["wrong"] == doc["counts"]["missing"] == 0, doc["counts"]
    listed = invoke("names", name, "--step", "1").stdout.splitlines()
    assert doc["counts"]["correct"] == len(listed)  # with --given, every name of step 1 is in the key
    assert invoke("answers", name, "--step", "1", "-o", str(key)).exit_code == 0
    code, doc = report(str(key))
    assert code == 0 and doc["counts"]["wrong"] == doc["counts"]["missing"] == 0, doc["counts"]
    assert 0 < doc["counts"]["correct"] < len(listed)  # without: the given numbers are left out


def test_filters_that_choose_only_given_numbers_are_bad_input_not_an_empty_key(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    result = invoke("answers", "xor", "--phase", "parameters", "-o", str(key))
    assert result.exit_code == 2 and not key.exists()
    assert result.stderr.startswith("--phase: the filters choose only given numbers (9: parameters before a step")
    assert "--given to keep them" in result.stderr
    assert invoke("answers", "xor", "--phase", "parameters", "--given", "-o", str(key)).exit_code == 0
    assert "h.w1_1: 0.5" in key.read_text()
    zero = invoke("answers", "xor", "--only", "zzz*")
    assert zero.exit_code == 2 and zero.stderr.startswith("--only: no name matches the filters")
    both = invoke("answers", "xor", "--layer", "o", "--only", "h.*")
    assert both.exit_code == 2 and both.stderr.startswith("--only/--layer: no name matches the filters"), both.stderr


def test_a_key_with_given_numbers_against_a_sheet_without_them_says_why_they_are_missing(tmp_path: Path) -> None:
    key, sheet = tmp_path / "key.yaml", tmp_path / "sheet.yaml"
    assert invoke("answers", "xor", "--step", "1", "--given", "-o", str(key)).exit_code == 0
    assert invoke("answers", "xor", "--step", "1", "-o", str(sheet)).exit_code == 0  # right, without the given
    asked = {name: yaml.safe_load(path.read_text())["answers"] for name, path in (("key", key), ("sheet", sheet))}
    given = len(asked["key"]) - len(asked["sheet"])
    assert given > 0 and set(asked["sheet"]) < set(asked["key"])
    result = invoke("check", str(sheet), "--key", str(key))
    assert result.exit_code == 1
    out = " ".join(result.stdout.split())
    assert f"{given} of the missing answers are given numbers" in out
    assert f"0 wrong, {given} missing" in out
    grader = json.loads(invoke("check", str(sheet), "--key", str(key), "--format", "gradescope").stdout)
    assert f"{given} of the missing answers are given numbers" in grader["output"]
    same = invoke("check", str(sheet), "--key", str(sheet))  # both without --given: nothing missing, no note
    assert same.exit_code == 0 and "given numbers" not in same.stdout
    blank = tmp_path / "blank.yaml"  # the given numbers are on the sheet, left blank: missing, but no note
    assert invoke("answers", "xor", "--step", "1", "--given", "--blank", "-o", str(blank)).exit_code == 0
    for args in ([str(blank)], [str(blank), "--key", str(key)]):
        unanswered = invoke("check", *args)
        assert unanswered.exit_code == 1 and "given numbers" not in unanswered.stdout


@pytest.mark.parametrize("weight", ["1e308", "1.0e+400", "-1", ".nan", "1000001", "10000000000000000000000000"])
def test_a_weight_past_the_bound_is_bad_input_where_it_stands(config: Path, weight: str) -> None:
    key = make(config)
    fill(key, {"h.z1": f"{{value: 0.3775, weight: {weight}}}", "h.z2": f"{{value: 0.3925, weight: {weight}}}"})
    result = invoke("check", str(key), "--format", "gradescope")
    assert result.exit_code == 2 and result.stdout == "", result.stdout
    # the YAML reader refuses what is not a finite number at all; the answers reader what is out of bounds
    assert re.fullmatch(r"\S*key\.yaml:\d+:\d+: answers\.h\.z1\.weight: (weight is .*; expected a number from 0 "
                        r"to 1,000,000 \(the answer's points\)|.*expected a finite number)\n",
                        result.stderr), result.stderr  # fmt: skip


def test_the_largest_weights_give_a_finite_score(config: Path) -> None:
    key = make(config)
    fill(key, {"h.z1": "{value: 0.3775, weight: 1000000}", "h.z2": "{value: 0.3925, weight: 1000000}"})
    code, doc = report(str(key))
    assert code == 0 and doc["max_score"] == 2_000_000 + 47 and doc["score"] == doc["max_score"]


def test_zero_weights_score_no_points_without_a_percentage(config: Path) -> None:
    key = make(config, "--only", "h.z*")
    fill(key, {"h.z1": "{value: 0.3775, weight: 0}", "h.z2": "{value: 0.3925, weight: 0}"})
    result = invoke("check", str(key))
    assert result.exit_code == 0 and "Score: 0/0 (no points) · 2 correct" in result.stdout, result.stdout


@pytest.mark.parametrize("empty", ["answers: {}", "answers:"])
def test_an_answers_file_that_asks_nothing_is_nothing_to_grade_exit_2(config: Path, tmp_path: Path, empty: str) -> None:
    key = make(config)
    sheet = tmp_path / "empty.yaml"
    sheet.write_text(re.sub(r"(?s)answers:\n.*", empty + "\n", key.read_text(encoding="utf-8")), encoding="utf-8")
    for args in ([str(sheet)], [str(sheet), "--format", "gradescope"], [str(key), "--key", str(sheet)]):
        result = invoke("check", *args)
        assert result.exit_code == 2 and result.stdout == "", (args, result.stdout)
        assert re.fullmatch(r"\S*empty\.yaml:\d+:\d+: answers: nothing to grade: the file asks no names; .*\n",
                            result.stderr), result.stderr  # fmt: skip
    # a key that asks names grades an empty sheet as it grades a blank one: every answer missing
    result = invoke("check", str(sheet), "--key", str(key))
    assert result.exit_code == 1 and "0 wrong and 49 missing of 49 answers" in result.stderr


def test_a_name_without_a_finite_value_cannot_be_asked(tmp_path: Path) -> None:
    """A saturated bce output: the textbook ∂L/∂a is ∞ in the trace (the combined δ is finite)."""
    config = tmp_path / "bce.yaml"
    config.write_text(
        "network: {inputs: 1, layers: [{name: o, units: 1, activation: sigmoid, weights: [[1.0]], biases: [0]}]}\n"
        "loss: bce\noptimizer: sgd\ndata: [{x: [-1000.0], y: [1.0]}]\n",
        encoding="utf-8",
    )
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(f"config: {{path: {config.name}}}\nanswers:\n  o.delta1: -1\n  o.dL_da1: 1\n", encoding="utf-8")
    result = invoke("check", str(sheet), "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert re.fullmatch(r"\S*sheet\.yaml:4:3: answers\.o\.dL_da1: o\.dL_da1 is not a number in this trace .*\n",
                        result.stderr), result.stderr  # fmt: skip


def test_a_whole_vector_or_matrix_is_answered_by_its_matrix_view_name(tmp_path: Path) -> None:
    # two_layer_relu: δ_hidden = (−0.65, 0) (relu is off for neuron 2), ∂L/∂W_out = δ_out·a_hiddenᵀ = (−0.65)·(0.475, 0)
    key = tmp_path / "key.yaml"
    assert invoke("answers", "two_layer_relu", "-o", str(key)).exit_code == 0
    head = re.search(r"(?s)^.*?answers:\n", key.read_text(encoding="utf-8"))
    assert head is not None
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(head.group(0) + "  hidden.delta: [-0.65, 0]\n  out.dL_dW: [[-0.30875, 0.1]]\n", encoding="utf-8")
    status, body = report(str(sheet))
    verdicts = {t["name"]: t["verdict"] for t in body["answers"]}
    assert verdicts == {
        "hidden.delta1": "correct",
        "hidden.delta2": "correct",
        "out.dL_dw1_1": "correct",
        "out.dL_dw1_2": "wrong",
    }
    assert status == 1
    sheet.write_text(head.group(0) + "  hidden.delta: [[1, 2], [3]]\n", encoding="utf-8")
    result = invoke("check", str(sheet))
    assert result.exit_code == 2 and "a list answers a matrix or vector name" in result.stderr
    sheet.write_text(head.group(0) + "  hidden.z1: [1, 2]\n", encoding="utf-8")  # a scalar's name
    assert "the answer is a list; expected a decimal" in invoke("check", str(sheet)).stderr


def test_a_submission_cannot_raise_its_own_ecf_credit_or_set_its_rounding(config: Path) -> None:
    """Graded against a key, a sheet's `ecf:` and `rounding:` are ignored as its tolerance is: the key's
    policy (here the default, half the points) scores an answer that is right from the student's own
    values. One slip (o.delta1) carries into o.dL_dw1_1, which is correct given it."""
    key = make(config, "--phase", "backward")
    sheet = config.parent / "submission.yaml"
    text = key.read_text(encoding="utf-8")
    delta = float(re.search(r"(?m)^  o\.delta1: (\S+)$", text)[1])  # type: ignore[index]
    h_a1 = float(yaml.safe_load(invoke("answers", str(config), "--only", "h.a1").stdout)["answers"]["h.a1"])
    text = re.sub(r"(?m)^  o\.delta1: .*$", f"  o.delta1: {delta * 2!r}", text)
    text = re.sub(r"(?m)^  o\.dL_dw1_1: .*$", f"  o.dL_dw1_1: {delta * 2 * h_a1!r}", text)
    sheet.write_text(text + "ecf: {credit: 1}\nrounding: {decimals: 1}\n", encoding="utf-8")
    code, doc = report("--key", str(key), str(sheet))
    assert code == 1
    verdicts = {a["name"]: (a["verdict"], a["score"]) for a in doc["answers"]}
    assert verdicts["o.delta1"] == ("wrong", 0) and verdicts["o.dL_dw1_1"] == ("ecf", 0.5)
    assert doc["ecf"] == {"credit": 0.5} and doc["rounding"] is None


def test_a_misspelt_name_gets_the_did_you_mean_not_the_filters_hint(config: Path) -> None:
    key = make(config, "--phase", "forward")
    sheet = config.parent / "mine.yaml"
    sheet.write_text(key.read_text(encoding="utf-8").replace("  h.a2:", "  h.aa2:"), encoding="utf-8")
    result = invoke("check", str(sheet), "--key", str(key))
    assert result.exit_code == 1, result.stderr
    assert "the sheet names 'h.aa2', not a name of the trace (did you mean this one?)" in result.stdout
    assert "filters" not in result.stdout and "holds more names" not in result.stdout, result.stdout
    short = config.parent / "short.yaml"  # a name left out, not misspelt: the hint stays
    short.write_text(re.sub(r"(?m)^  h\.a2:.*\n", "", key.read_text(encoding="utf-8")), encoding="utf-8")
    assert "holds more names than the sheet asks" in invoke("check", str(short), "--key", str(key)).stdout
