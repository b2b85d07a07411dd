"""Answers files: tolerances, numbers as decimals or fractions, located errors, writing and reading back."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest

from backprop_cli.errors import ConfigError
from backprop_cli.homework.answers import (
    DEFAULT_TOLERANCE,
    Tolerance,
    check_config,
    config_reference,
    config_sha256,
    load_answers,
    resolve_config,
    write_answers,
)
from backprop_cli.homework.values import named_values
from backprop_cli.loading.examples import example_path
from backprop_cli.nn.engine import run
from tests.nn.test_engine import mazur

HASH = "0123456789" * 6 + "abcd"


def sheet(tmp_path: Path, body: str, *, header: str = f"config: {{path: xor, sha256: {HASH}}}\n") -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(header + body, encoding="utf-8")
    return path


def located(tmp_path: Path, body: str, header: str | None = None) -> str:
    path = sheet(tmp_path, body) if header is None else sheet(tmp_path, body, header=header)
    with pytest.raises(ConfigError) as caught:
        load_answers(path)
    return caught.value.one_line()


# ---------------------------------------------------------------- tolerance


def test_the_default_accepts_any_answer_rounded_to_four_significant_digits() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        expected = rng.uniform(-1, 1) * 10 ** rng.randint(-6, 4)
        assert DEFAULT_TOLERANCE.accepts(float(f"{expected:.4g}"), expected), expected
    assert DEFAULT_TOLERANCE.accepts(0.3775, 0.377541)  # Mazur's net_h1 written to 4 digits
    assert not DEFAULT_TOLERANCE.accepts(0.38, 0.377541)  # 2 significant digits: 0.65% off
    assert not DEFAULT_TOLERANCE.accepts(0.5, -0.29548)
    assert DEFAULT_TOLERANCE.accepts(0.0, 3e-17)  # zero up to float64 rounding
    assert not DEFAULT_TOLERANCE.accepts(0.0, 1e-6)


def test_absolute_relative_and_decimal_tolerances() -> None:
    assert Tolerance("absolute", 0.01).accepts(0.36, 0.35891648)
    assert not Tolerance("absolute", 0.001).accepts(0.36, 0.35891648)
    assert Tolerance("relative", 0.01).accepts(0.0826, 0.082167041)
    assert not Tolerance("relative", 0.001).accepts(0.0826, 0.082167041)
    # rounded to N decimals: within half a unit of the last decimal, exact halves included
    assert Tolerance("decimals", 2).accepts(0.36, 0.35891648)
    assert Tolerance("decimals", 2).accepts(0.38, 0.375)
    assert not Tolerance("decimals", 3).accepts(0.36, 0.35891648)
    assert Tolerance("decimals", 0).accepts(-24, -24.4)
    assert Tolerance("decimals", 3).describe() == "rounded to 3 decimals"
    assert DEFAULT_TOLERANCE.describe() == "relative 0.001"


# ---------------------------------------------------------------- reading


def test_numbers_fractions_blanks_weights_and_overrides(tmp_path: Path) -> None:
    path = sheet(
        tmp_path,
        "tolerance: {absolute: 0.5}\n"
        "answers:\n"
        "  a: 0.25\n"
        "  b: 3/4\n"
        "  c: '-1/8'\n"
        '  d: "2.5e-3"\n'
        "  e:\n"
        "  f: {value: 7, weight: 2, tolerance: {decimals: 1}}\n"
        "  g: {weight: 3}\n",
    )
    answers = load_answers(path)
    got = {a.name: (a.given, a.given_text, a.weight, a.tolerance) for a in answers.answers}
    half = Tolerance("absolute", 0.5)
    assert got == {
        "a": (0.25, "0.25", 1.0, half),
        "b": (0.75, "3/4", 1.0, half),
        "c": (-0.125, "-1/8", 1.0, half),
        "d": (0.0025, "2.5e-3", 1.0, half),
        "e": (None, None, 1.0, half),
        "f": (7.0, "7", 2.0, Tolerance("decimals", 1)),
        "g": (None, None, 3.0, half),
    }
    assert (answers.config_path, answers.config_sha256) == ("xor", HASH)
    assert answers.answers[1].line == 5  # where b is, for messages


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("answers:\n  h.z1: [1, 2]\n", r"answers\.yaml:3:9: answers\.h\.z1: the answer is a list; expected a decimal"),
        ("answers:\n  h.z1: true\n", r":3:9: answers\.h\.z1: the answer is true \(a boolean\)"),
        ("answers:\n  h.z1: abc\n", r":3:9: answers\.h\.z1: the answer 'abc' \(a string\) is not a number"),
        ("answers:\n  h.z1: 1/0\n", r":3:9: answers\.h\.z1: the fraction '1/0' divides by zero"),
        (
            "answers:\n  h.z1: {value: 1, weight: -1}\n",
            r":3:28: answers\.h\.z1\.weight: weight is -1; expected a number from 0 to 1,000,000",
        ),
        (
            "answers:\n  h.z1: {valeu: 1}\n",
            r":3:10: answers\.h\.z1\.valeu: unknown key 'valeu' \(did you mean 'value'\?\)",
        ),
        ("answers:\n  h.z1: {value: 1, tolerance: {decimals: 1.5}}\n", r":3:42: .*decimals is 1\.5; expected a whole"),
        (
            "answers:\n  h.z1: {value: 1, tolerance: {absolute: 1, relative: 2}}\n",
            r":3:31: answers\.h\.z1\.tolerance: tolerance gives absolute and relative; expected .* only one",
        ),
        ("tolerance: 0.01\nanswers: {}\n", r":2:12: tolerance: tolerance is 0\.01; expected a mapping with one of"),
        ("answer:\n  h.z1: 1\n", r":2:1: answer: unknown key 'answer' \(did you mean 'answers'\?\)"),
        ("answers: [1, 2]\n", r":2:10: answers: answers is a list; expected a mapping of name: value"),
        ("answers:\n  h.z1: 1\n  h.z1: 2\n", r":4:3: .*duplicate key 'h\.z1'"),
        ("answers:\n  h.z1: [1\n", r"answers\.yaml:\d+:\d+: invalid YAML"),
        ("version: 2\nanswers: {}\n", r":2:10: version: version 2 is not supported; expected 1"),
    ],
)
def test_bad_answers_files_are_located(tmp_path: Path, body: str, message: str) -> None:
    assert re.search(message, located(tmp_path, body)), located(tmp_path, body)


def test_a_bad_config_record_is_located(tmp_path: Path) -> None:
    text = located(tmp_path, "answers: {}\n", header="config: {path: xor, sha256: abc}\n")
    assert re.search(r":1:29: config\.sha256: 'abc' \(a string\) is not a SHA-256; expected 64 hex digits", text)
    assert "empty answers file" in located(tmp_path, "", header="")


# ---------------------------------------------------------------- config identity


def test_config_paths_are_written_relative_to_the_answers_file(tmp_path: Path) -> None:
    config = tmp_path / "nets" / "net.yaml"
    config.parent.mkdir()
    config.write_text("x: 1\n", encoding="utf-8")
    (tmp_path / "sheets").mkdir()
    assert config_reference(config, tmp_path / "sheets") == "../nets/net.yaml"
    assert config_reference(example_path("xor"), tmp_path) == "xor"  # a built-in example by name
    answers_file = tmp_path / "sheets" / "a.yaml"
    answers_file.write_text(
        f"config: {{path: ../nets/net.yaml, sha256: {config_sha256(config)}}}\nanswers: {{}}\n", encoding="utf-8"
    )
    answers = load_answers(answers_file)
    assert resolve_config(answers, trusted=True).resolve() == config.resolve()  # a key: the grader's own file
    check_config(answers, config, "net.yaml")  # same bytes: accepted
    config.write_text("x: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"a\.yaml:1:42: config\.sha256: the config net\.yaml does not match"):
        check_config(answers, config, "net.yaml")


def test_a_missing_config_is_located(tmp_path: Path) -> None:
    answers = load_answers(sheet(tmp_path, "answers: {}\n", header="config: {path: gone.yaml}\n"))
    with pytest.raises(ConfigError, match=r"answers\.yaml:1:\d+: config\.path: config 'gone\.yaml' not found"):
        resolve_config(answers)
    answers = load_answers(sheet(tmp_path, "answers: {}\n", header=""))
    with pytest.raises(ConfigError, match=r"no config named; expected config\.path here, or --config"):
        resolve_config(answers)


# ---------------------------------------------------------------- writing


@pytest.mark.parametrize("blank", [False, True])
def test_written_answers_read_back_exactly(tmp_path: Path, blank: bool) -> None:
    values = list(named_values(run(mazur())))
    stream = io.StringIO()
    count = write_answers(
        stream, values, config_ref="classic_2_2_2", sha256=HASH, label="mazur", blank=blank, include_given=True
    )
    path = tmp_path / "key.yaml"
    path.write_text(stream.getvalue(), encoding="utf-8")
    answers = load_answers(path)
    assert count == len(values) == len(answers.answers)
    assert [a.name for a in answers.answers] == [v.name for v in values]
    if blank:
        assert all(a.given is None for a in answers.answers)
    else:
        assert [a.given for a in answers.answers] == [v.value for v in values]  # bit for bit
    assert answers.config_path == "classic_2_2_2" and answers.tolerance == DEFAULT_TOLERANCE


def test_given_numbers_are_left_out_of_a_key_unless_asked_for(tmp_path: Path) -> None:
    values = list(named_values(run(mazur())))
    stream = io.StringIO()
    count = write_answers(stream, values, config_ref="classic_2_2_2", sha256=HASH, label="mazur", blank=False)
    names = re.findall(r"^  ([^ #][^:]*):", stream.getvalue().split("\nanswers:")[1], flags=re.M)
    given = {"h.w1_1", "h.b1", "o.w2_2", "x1", "x2", "y1", "y2"}  # parameters, inputs and targets of Mazur's net
    assert count == len(names) and not given & set(names)
    assert {"h.z1", "h.a1", "loss", "o.delta1", "h.dL_dw1_1", "h.w1_1.new"} <= set(names)
    assert len(names) == len(values) - 16  # 8 weights, 4 biases, 2 inputs, 2 targets
    assert "# 16 given numbers (parameters before a step, inputs, targets) are left out; --given keeps them." in (
        stream.getvalue()
    )


def test_names_that_yaml_would_read_as_other_types_are_quoted() -> None:
    from backprop_cli.homework.answers import _key

    assert _key("h.z1") == "h.z1" and _key("step2/sample3/h.delta1") == "step2/sample3/h.delta1"
    assert _key("true") == '"true"' and _key("null") == '"null"'
