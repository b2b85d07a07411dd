"""Expression parsing: the whitelist, located errors, and hostile input refused before anything runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.errors import ConfigError
from backprop_cli.graph.parse import MAX_CHARS, Apply, Num, Var, Where, parse_program
from backprop_cli.loading.expression import expression_from_option, load_expression_config

INLINE = Where("--expr")


def refused(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_program(text, INLINE)
    return caught.value


def test_assignments_operators_and_calls_parse() -> None:
    program = parse_program("q = x + y; f = q * z\nc += c ** 2\ng = max(relu(-x), 0.5, -3)", INLINE)
    assert [s.target for s in program] == ["q", "f", "c", "g"]
    assert program[0].value == Apply("add", (Var("x", 1, 5), Var("y", 1, 9)), 1, 5)
    # c += c ** 2 is c + c ** 2, with the exponent kept as a number
    assert program[2].value == Apply(
        "add", (Var("c", 2, 1), Apply("pow", (Var("c", 2, 6), Num("2", 2.0, 2, 11)), 2, 6)), 2, 1
    )
    # -3 is a literal, not a negation node; relu(-x) negates a name
    assert program[3].value.args[2] == Num("-3", -3.0, 3, 24)  # type: ignore[union-attr]
    assert program[3].value.args[0] == Apply("relu", (Apply("neg", (Var("x", 3, 15),), 3, 14),), 3, 9)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("import os", "1:1", "import is not allowed"),
        ("f = x.real", "1:5", "attribute access"),
        ("f = (lambda: 1)()", "1:6", "lambda"),
        ("f = [x for x in y]", "1:5", "comprehension"),
        ("f = sum(x for x in y)", "1:5", "unknown function 'sum'"),
        ("f = __import__('os')", "1:5", "unknown function '__import__'"),
        ("f = x[0]", "1:5", "indexing"),
        ("f = 'text'", "1:5", "a string"),
        ("f = x if y else z", "1:5", "conditional"),
        ("f = x < y", "1:5", "comparison"),
        ("f = 10**10**10", "1:9", "exponent must be a number"),
        ("f = x ** 1000", "1:10", "exponent 1000 is too large"),
        ("f = x ** y", "1:10", "exponent must be a number"),
        ("f = x % 2", "1:5", "operator % is not supported"),
        ("f = 1e999", "1:5", "too large"),
        ("f = max(x)", "1:5", "at least 2 arguments"),
        ("f = exp(x, y)", "1:5", "takes 1 argument"),
        ("f = exp(x=1)", "1:9", "keyword"),
        ("exp = 2", "1:1", "function name"),
        ("f = x\nx + 1", "2:1", "bare expression"),
        ("a, b = 1, 2", "1:1", "exactly one name"),
        ("def f(): pass", "1:1", "function definition"),
        ("f = x +", "1:8", "syntax error"),
        ("f = (" * 40 + "x" + ")" * 40, "1:", "parentheses nested too deeply"),
        ("f = " + "-" * 5000 + "x", "1:", "operators in one statement"),
        ("f = " + " + ".join(["x"] * 2000), "1:", "operators in one statement"),
        ("f = " + "x**2**" * 150 + "2", "1:", "operators in one statement"),
        ("x" * (MAX_CHARS + 1), "1:1", "characters"),
        ("f = x\0", "1:1", "NUL"),
    ],
)
def test_hostile_or_unsupported_input_is_refused_and_located(text: str, where: str, words: str) -> None:
    error = refused(text)
    message = error.one_line()
    assert message.startswith(f"--expr:{where}"), message
    assert re.match(r"--expr:\d+:\d+: ", message), message
    assert words in message


def test_nothing_is_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for text in (
        f"f = __import__('os').system('touch {marker}')",
        f"f = open('{marker}', 'w')",
        f"import os; f = os.system('touch {marker}')",
        f"f = exec(\"open('{marker}', 'w')\")",
    ):
        refused(text)
    assert not marker.exists()


def test_unknown_names_are_located_and_name_the_inputs() -> None:
    with pytest.raises(ConfigError) as caught:
        expression_from_option("q = x + y\nf = q * w", ["x=1", "y=2"])
    assert caught.value.one_line().startswith("--expr:2:9: unknown name 'w'; expected an input from --set (x, y)")


def test_set_values_are_checked() -> None:
    for bad in ("x", "x=", "x=abc", "1x=2", "exp=1", "x=1e999"):
        with pytest.raises(ConfigError) as caught:
            expression_from_option("f = x", [bad])
        assert caught.value.path == "--set"
    assert expression_from_option("f = x", ["x=-24/7"]).values == {"x": "-24/7"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "circuit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_errors_point_into_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "description: x\nexpression: |\n  q = x + y\n  f = q * z.w\nvalues: {x: 1, y: 2, z: 3}\n")
    with pytest.raises(ConfigError) as caught:
        load_expression_config(path, str(path))
    # line 4 of the file, column 11 (the program line "f = q * z.w" is indented by two)
    assert caught.value.one_line().startswith(f"{path}:4:11: expression.line 2: attribute access")


def test_config_single_line_expression_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "expression: 'f = x +* 2'\nvalues: {x: 1}\n")
    with pytest.raises(ConfigError) as caught:
        load_expression_config(path, str(path))
    assert caught.value.one_line().startswith(f"{path}:1:21: expression.line 1: syntax error")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("expression: 'f = x'\nvalues: {x: true}\n", "2:13: values.x: true (a boolean)"),
        ("expression: 'f = x'\nvalues: [1]\n", "2:9: values: a list"),
        ("expression: 'f = x'\nvalues: {x: 1}\nnetwork: {}\n", "3:1: network: unknown key 'network'"),
        ("expression: 'f = x'\nvalues: {x: 1}\noutput: g\n", "output: unknown output 'g'"),
        ("expression: ''\nvalues: {x: 1}\n", "1:13: expression: '' (a string); expected the program"),
    ],
)
def test_config_structure_errors_are_located(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_expression_config(path, str(path))
    assert words in caught.value.one_line()


TOKENS = ["x", "y", "f", "=", "+", "-", "*", "/", "**", "(", ")", ",", ";", "\n", "2", "0.5", "1e308", "exp", "max",
          ".", "[", "]", "lambda", ":", "import", "'s'", "+=", " "]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)))
def test_any_text_is_parsed_or_refused_with_a_located_error(text: str) -> None:
    """Fuzzing: never a traceback, never anything but a located ConfigError."""
    try:
        parse_program(text, INLINE)
    except ConfigError as error:
        assert re.match(r"--expr:\d+:\d+: ", error.one_line()), error.one_line()
