"""Hostile and broken input, numerical faults, output files, pipes and Ctrl-C: nothing crashes or hangs.

Every outcome the command line may have for bad input is pinned here: exit 2 with one located line
on stderr (``file:line:col: field.path: what is wrong; what was expected``), exit 3 for a numerical
fault, 0 for a mutation that happens to be valid, and never a traceback. Subprocess tests run the
real ``python -m backprop_cli`` for what CliRunner cannot show (pipes, signals, memory).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_cli.cli import main
from backprop_cli.errors import ExitCode
from backprop_cli.examples import example_names, example_path

EXAMPLES = {name: yaml.safe_load(example_path(name).read_text(encoding="utf-8")) for name in example_names()}
DATA_FILES = [p for p in example_path("x").parent.iterdir() if p.suffix in (".csv", ".json") and "schema" not in p.name]
TEXTS = {name: example_path(name).read_text(encoding="utf-8") for name in example_names()}
# file, then :line or :line:col, then an optional field path, then the message: all on one line
LOCATED = re.compile(r"^(?P<file>[^\n]+?)(:(?P<line>\d+)(:(?P<col>\d+))?)?: (?P<rest>[^\n]+)$")
FUZZ = settings(
    max_examples=int(os.environ.get("BACKPROP_FUZZ_EXAMPLES", "1000")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),  # CI explores the same cases every run; locally, new ones
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None})


def assert_clean_outcome(result: Result, source: str) -> None:
    """Exit 0, or exit 2 with exactly one located line naming ``source``; never a traceback."""
    assert "Traceback" not in result.output + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}") from result.exception
    assert result.exit_code in (ExitCode.OK, ExitCode.BAD_INPUT), (result.exit_code, result.stderr)
    if result.exit_code == ExitCode.BAD_INPUT:
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        match = LOCATED.match(lines[0])
        assert match is not None, lines[0]
        assert lines[0].startswith(source), lines[0]


# ---- mutated configs --------------------------------------------------------------------------------

ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "sigmoïd",
        "re\u0301lu",  # combining accent
        "\u202erelu",  # right-to-left override
        "relu\u200b",  # zero-width space
        "ｒｅｌｕ",  # full-width letters
        "🧠",
        "x\u2028y",  # line separator
        "ΣΔ∂",
        "null",
        "1e-3",
        "[1, 2]",
        "{a: 1}",
        "*alias",
        "&anchor",
        "!!python/object/apply:os.system",
        "a" * 300,
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 10**6, 2**63, -(2**63) - 1, 10**400]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-320, 1e308, -1e308, 1e-9, 0.5]),
    ODD_TEXT,
    st.text(max_size=8),
)


def _deep(value: Any, depth: int, kind: str) -> Any:
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


ANY_VALUE = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=6), SCALARS, max_size=3),
    st.builds(_deep, SCALARS, st.integers(1, 80), st.sampled_from(["list", "dict"])),
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*at, key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out.extend(_paths(child, (*at, i)))
    return out


def _get(value: Any, at: tuple[Any, ...]) -> Any:
    for part in at:
        value = value[part]
    return value


def _misspell(key: str, how: int, position: int) -> str:
    if not key:
        return "x"
    i = position % len(key)
    return [
        key[:i] + key[i + 1 :],  # a letter dropped
        key[:i] + key[i] + key[i:],  # a letter doubled
        key[:i] + key[i:][::-1][:1] + key[i + 1 :] if i else key[::-1],  # letters moved
        key.upper(),
        key + "s",
        key.replace("_", "-"),
    ][how % 6]


@st.composite
def mutated_config(draw: st.DrawFn) -> tuple[str, Any]:
    """An example config with 1-3 mutations: a value replaced, a key misspelt, removed or added."""
    name = draw(st.sampled_from(sorted(EXAMPLES)))
    value = json.loads(json.dumps(EXAMPLES[name]))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        at = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["replace", "misspell", "remove", "add", "scale"]))
        if not at:
            value = draw(ANY_VALUE) if kind == "replace" else value
            continue
        parent, last = _get(value, at[:-1]), at[-1]
        if kind == "replace":
            parent[last] = draw(ANY_VALUE)
        elif kind == "scale" and isinstance(parent[last], int | float) and not isinstance(parent[last], bool):
            parent[last] = parent[last] * draw(st.sampled_from([-1, 0, 1e6, 1e300, 10**9]))
        elif kind == "misspell" and isinstance(parent, dict):
            new_key = _misspell(str(last), draw(st.integers(0, 5)), draw(st.integers(0, 20)))
            parent[new_key] = parent.pop(last)
        elif kind == "remove":
            del parent[last]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(st.one_of(ODD_TEXT, st.text(min_size=1, max_size=6)))] = draw(ANY_VALUE)
        elif kind == "add" and isinstance(parent, list):
            parent.append(draw(ANY_VALUE))
    return name, value


def _serialise(value: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(value, ensure_ascii=False)
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=80)


@FUZZ
@given(case=mutated_config(), fmt=st.sampled_from(["yaml", "json"]))
def test_mutated_configs_end_in_exit_0_or_one_located_line(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, Any], fmt: str
) -> None:
    _, value = case
    try:
        text = _serialise(value, fmt)
    except (ValueError, OverflowError, RecursionError, yaml.YAMLError):
        return  # not representable in this format; nothing to feed
    folder = tmp_path_factory.mktemp("fuzz", numbered=True)
    for data in DATA_FILES:  # examples that read a data file find it beside the config
        (folder / data.name).write_bytes(data.read_bytes())
    config = folder / f"net.{fmt}"
    config.write_text(text, encoding="utf-8")
    assert_clean_outcome(invoke("validate", str(config)), str(folder))  # the config or its data file


@st.composite
def mangled_text(draw: st.DrawFn) -> str:
    """An example's text with a slice replaced by YAML punctuation, odd unicode or control characters."""
    text = TEXTS[draw(st.sampled_from(sorted(TEXTS)))]
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 12)))
    junk = draw(
        st.one_of(
            st.text(alphabet=":-[]{},#&*!|>'\"%@`?\t\n \\0.e+", max_size=6),
            ODD_TEXT,
            st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=4),
        )
    )
    return text[:start] + junk + text[end:]


@FUZZ
@given(text=mangled_text())
def test_mangled_yaml_text_ends_in_exit_0_or_one_located_line(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    folder = tmp_path_factory.mktemp("mangled", numbered=True)
    for data in DATA_FILES:
        (folder / data.name).write_bytes(data.read_bytes())
    config = folder / "net.yaml"
    config.write_text(text, encoding="utf-8")
    assert_clean_outcome(invoke("validate", str(config)), str(folder))


# regression (found by the fuzz test): an integer past float64's range crashed data loading with
# OverflowError, and one past 4,300 digits made int() itself raise
@pytest.mark.parametrize("digits", [400, 5000])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_integers_beyond_float_range_are_refused_where_they_stand(tmp_path: Path, digits: int, fmt: str) -> None:
    value = dict(EXAMPLES["single_neuron"])
    value["data"] = [{"x": [12345], "y": [1]}]
    config = tmp_path / f"net.{fmt}"
    config.write_text(_serialise(value, fmt).replace("12345", "9" * digits), encoding="utf-8")
    result = invoke("validate", str(config))
    assert_clean_outcome(result, str(config))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert f"data[0].x[0]: number 99999999999999999999… ({digits} digits) is too large" in result.stderr
    assert re.match(rf"{re.escape(str(config))}:\d+:\d+: ", result.stderr)
