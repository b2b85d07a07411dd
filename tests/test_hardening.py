"""Hostile and broken input, numerical faults, output files, pipes and Ctrl-C: nothing crashes or hangs.

Every outcome the command line may have for bad input is pinned here: exit 2 with one located line
on stderr (``file:line:col: field.path: what is wrong; what was expected``), exit 3 for a numerical
fault, 0 for a mutation that happens to be valid, and never a traceback. Subprocess tests run the
real ``python -m backprop_cli`` for what CliRunner cannot show (pipes, signals, memory).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode
from backprop_cli.loading.examples import example_names, example_path

EXAMPLES = {name: yaml.safe_load(example_path(name).read_text(encoding="utf-8")) for name in example_names()}
DATA_FILES = [p for p in example_path("x").parent.iterdir() if p.suffix in (".csv", ".json") and "schema" not in p.name]
TEXTS = {name: example_path(name).read_text(encoding="utf-8") for name in example_names()}
# file, then :line or :line:col, then an optional field path, then the message: all on one line
LOCATED = re.compile(r"^(?P<file>[^\n]+?)(:(?P<line>\d+)(:(?P<col>\d+))?)?: (?P<rest>[^\n]+)$")
FUZZ = settings(
    max_examples=int(os.environ.get("BACKPROP_FUZZ_EXAMPLES", "1000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None})


@contextlib.contextmanager
def memory_cap(extra: int = 2 * 2**30) -> Iterator[None]:
    """Cap this process's address space at its current size plus ``extra`` bytes: a config that would
    allocate without bound fails here with MemoryError (a bug to fix) instead of taking the machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    cap = size + extra if hard == resource.RLIM_INFINITY else min(size + extra, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


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
        # a file name that cannot be shown as it is (a bidi override, a control character) is quoted
        assert lines[0].startswith((source, repr(source)[:-1])), lines[0]


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
            factor = draw(st.sampled_from([-1, 0, 1e6, 1e300, 10**9]))
            with contextlib.suppress(OverflowError):  # a huge int times a float: leave it as it is
                parent[last] = parent[last] * factor
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
    with memory_cap():
        result = invoke("validate", str(config))
    assert_clean_outcome(result, str(folder))  # the config or its data file


@settings(FUZZ, max_examples=max(1, FUZZ.max_examples // 5))
@given(case=mutated_config(), fmt=st.sampled_from(["text", "json"]))
def test_mutated_configs_that_load_also_trace_cleanly(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, Any], fmt: str
) -> None:
    """Past validation: the engine and renderers meet odd but valid values (exit 3 for overflow is fine)."""
    folder = tmp_path_factory.mktemp("fuzztrace", numbered=True)
    for data in DATA_FILES:
        (folder / data.name).write_bytes(data.read_bytes())
    config = folder / "net.json"
    try:
        config.write_text(_serialise(case[1], "json"), encoding="utf-8")
    except (ValueError, OverflowError, RecursionError):
        return
    steps = [] if "expression" in EXAMPLES[case[0]] else ["--steps", "2"]  # expression examples have no steps
    with memory_cap():
        result = invoke("trace", str(config), *steps, "--format", fmt, "--max-rows", "60", "--width", "100")
    if result.exit_code == ExitCode.NUMERICAL_FAULT:
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("numerical fault at ")  # step or node
        return
    assert_clean_outcome(result, str(folder))


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


# ---- hostile YAML: refused early, in bounded memory, nothing executed ----------------------------------


# The command line in a fresh interpreter that reports its own peak resident memory (VmHWM) last on
# stderr: the benchmarks' probe script, shared.
HWM_PROBE = Path(__file__).resolve().parents[1] / "benchmarks" / "hwm_probe.py"


def run_cli(*args: str, cwd: Path, timeout: float = 60) -> tuple[int, str, float, float]:
    """``backprop ARGS`` as a real process: (exit status, stderr, seconds, peak RSS in MiB).

    ``timeout`` only guards against a hang; the time is returned for failure messages, not asserted.
    """
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(HWM_PROBE), *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"backprop {' '.join(args)} hung for {timeout} s") from None
    stderr, _, hwm = done.stderr.decode().rpartition("VmHWM ")
    return done.returncode, stderr, time.perf_counter() - start, int(hwm) / 1024


@pytest.fixture(scope="module")
def baseline_rss(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Peak memory of validating a small example: the yardstick for 'bounded'."""
    code, _, _, rss = run_cli("validate", "classic_2_2_2", cwd=tmp_path_factory.mktemp("baseline"))
    assert code == 0
    return rss


PYTHON_TAGS = [
    '!!python/object/apply:os.system ["touch PWNED"]',
    "!!python/object/apply:subprocess.call [[touch, PWNED]]",
    "!!python/name:os.system",
    '!!python/object/new:os.system ["touch PWNED"]',
    "!!python/module:os",
    '!<tag:yaml.org,2002:python/object/apply:os.system> ["touch PWNED"]',
]


@pytest.mark.parametrize("tag", PYTHON_TAGS)
@pytest.mark.parametrize("where", ["top", "value", "row"])
def test_python_tags_are_refused_and_nothing_runs(tmp_path: Path, tag: str, where: str) -> None:
    text = TEXTS["single_neuron"]
    if where == "top":
        text = f"{tag}\n"
    elif where == "value":
        text = text.replace("loss: ", f"loss: {tag} #", 1)
    else:
        text += f"\n  - {{x: {tag}, y: [1]}}\n" if "data:" in text else ""
    config = tmp_path / "net.yaml"
    config.write_text(text, encoding="utf-8")
    result = invoke("validate", str(config))
    assert_clean_outcome(result, str(config))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "is not allowed" in result.stderr or "invalid YAML" in result.stderr, result.stderr
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


def test_python_tags_do_not_run_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "net.yaml").write_text('network: !!python/object/apply:os.system ["touch PWNED"]\n')
    code, stderr, _, _ = run_cli("trace", "net.yaml", cwd=tmp_path)
    assert code == ExitCode.BAD_INPUT and "Traceback" not in stderr
    assert stderr.startswith("net.yaml:1:10: network: tag !!python/object/apply:os.system is not allowed")
    assert not (tmp_path / "PWNED").exists()


def _billion_laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\nnetwork: *a9\n"


HOSTILE = {
    "billion laughs": ("net.yaml", _billion_laughs(), "anchors (&a0) are not allowed"),
    "50,000-deep flow list": ("net.yaml", "[" * 50_000 + "]" * 50_000, "nested too deeply"),
    "50,000-deep flow mapping": ("net.yaml", "{a: " * 50_000 + "}" * 50_000, "nested too deeply"),
    "50,000-deep JSON": ("net.json", '{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
    "50,000-deep JSON list": ("net.json", "[" * 50_000 + "]" * 50_000, "nested too deeply"),
    "50,000 nested block lists": ("net.yaml", "- " * 50_000 + "1\n", "nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_yaml_is_refused_in_bounded_memory(tmp_path: Path, case: str) -> None:
    name, text, expected = HOSTILE[case]
    config = tmp_path / name
    config.write_text(text, encoding="utf-8")
    tracemalloc.start()
    try:
        result = invoke("validate", str(config))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_clean_outcome(result, str(config))
    assert result.exit_code == ExitCode.BAD_INPUT and expected in result.stderr, result.stderr
    # the text itself is at most 150 kB; building the refused structure would take far more
    assert peak < 16 * 2**20, f"{case}: {peak / 2**20:.1f} MiB allocated"


def test_hostile_yaml_in_a_real_process(tmp_path: Path, baseline_rss: float) -> None:
    for case in ("billion laughs", "50,000-deep flow mapping"):  # the rest only in process (above), for time
        name, text, expected = HOSTILE[case]
        (tmp_path / name).write_text(text, encoding="utf-8")
        code, stderr, seconds, rss = run_cli("trace", name, cwd=tmp_path)
        assert code == ExitCode.BAD_INPUT and expected in stderr and "Traceback" not in stderr, (case, stderr)
        assert len(stderr.splitlines()) == 1, stderr
        assert rss < baseline_rss + 16, f"{case}: {rss:.0f} MiB vs {baseline_rss:.0f} MiB ({seconds:.2f} s)"


@pytest.mark.parametrize("option", ["config", "--data"])
def test_a_100_mb_file_is_refused_unread(tmp_path: Path, baseline_rss: float, option: str) -> None:
    big = tmp_path / ("big.yaml" if option == "config" else "big.csv")
    with big.open("wb") as stream:  # 100 MB of real text, not a sparse file
        stream.write(b"# " + b"x" * (2**20 - 3) + b"\n")
        for _ in range(99):
            stream.write(b"1," * (2**19 - 1) + b"1\n")
    args = ["validate", big.name] if option == "config" else ["validate", "single_neuron", "--data", big.name]
    code, stderr, seconds, rss = run_cli(*args, cwd=tmp_path)
    assert code == ExitCode.BAD_INPUT and "Traceback" not in stderr
    assert stderr.startswith(f"{big.name}: file is too large; expected a "), stderr
    assert rss < baseline_rss + 16, f"{rss:.0f} MiB vs {baseline_rss:.0f} MiB ({seconds:.2f} s)"


def test_an_endless_device_is_refused_after_the_limit(tmp_path: Path, baseline_rss: float) -> None:
    code, stderr, seconds, rss = run_cli("validate", "/dev/zero", cwd=tmp_path)
    assert code == ExitCode.BAD_INPUT and "Traceback" not in stderr, stderr
    assert stderr.startswith("/dev/zero: file is too large"), stderr
    assert rss < baseline_rss + 16, f"{rss:.0f} MiB vs {baseline_rss:.0f} MiB ({seconds:.2f} s)"


def test_an_endless_device_as_the_data_file_is_refused_near_the_limits_memory(
    tmp_path: Path, baseline_rss: float
) -> None:
    (tmp_path / "rows.csv").symlink_to("/dev/zero")
    (tmp_path / "net.yaml").write_text(
        "network:\n  inputs: 1\n  layers:\n    - {units: 1, activation: identity, weights: [[1.0]], biases: [0.0]}\n"
        "loss: mse\noptimizer: sgd\ndata: rows.csv\n",
        encoding="utf-8",
    )
    code, stderr, seconds, rss = run_cli("validate", "net.yaml", cwd=tmp_path)
    assert (
        code == ExitCode.BAD_INPUT and stderr == "rows.csv: file is too large; expected a CSV file of at most 64 MiB\n"
    )
    # what was read (the 64 MiB limit) is held once: gathering chunks and joining them held it twice
    assert rss < baseline_rss + 64 + 16, f"{rss:.0f} MiB vs {baseline_rss:.0f} MiB ({seconds:.2f} s)"


# regression (found by the fuzz test): `inputs: 100000000` built 10^8 names and took 17 GB; a layer of
# 10^8 units drew its weights before anything else was checked
@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        ("inputs: 1\n", "inputs: 100000000\n", "network.inputs", "100000000 inputs is too many"),
        ("units: 1\n", "units: 100000000\n      init: {method: he}\n", "network.layers[0].units", "100,000,000 × 1"),
    ],
)
def test_absurd_sizes_are_bad_input_not_an_allocation(
    tmp_path: Path, old: str, new: str, where: str, words: str
) -> None:
    text = TEXTS["single_neuron"]
    text = re.sub(r"\n\s*weights:.*|\n\s*biases:.*", "", text) if "units" in old else text
    assert old in text
    config = tmp_path / "net.yaml"
    config.write_text(text.replace(old, new, 1), encoding="utf-8")
    with memory_cap(256 * 2**20):
        result = invoke("validate", str(config))
    assert_clean_outcome(result, str(config))
    assert result.exit_code == ExitCode.BAD_INPUT and f"{where}: " in result.stderr and words in result.stderr


# ---- numerical faults: located, exit 3, no partial output ------------------------------------------------


def _network(weights: str, data: str, *, activation: str = "identity", loss: str = "sse", steps: int = 1) -> str:
    return textwrap.dedent(
        f"""\
        network:
          inputs: 2
          layers:
            - {{name: out, units: 1, activation: {activation}, weights: {weights}, biases: [0.0]}}
        loss: {loss}
        optimizer: {{name: sgd, learning_rate: 0.1}}
        data: {data}
        training: {{steps: {steps}}}
        """
    )


FAULTS = {
    # 1e200·1e200 overflows the weighted sum (exp of it would overflow too; the sum is caught first)
    "overflow": (_network("[[1.0e+200, 0.0]]", "[{x: [1.0e+200, 0.0], y: [1.0]}]"), "weighted sum z", "inf"),
    # finite data whose products overflow: the sum is inf, or inf − inf = NaN, by the order BLAS adds in
    "nan from data": (
        _network("[[2.0, 2.0]]", "[{x: [1.0e+308, -1.0e+308], y: [1.0]}]"),
        "weighted sum z",
        "(inf|nan)",
    ),
    # the squared error of a huge but finite prediction overflows
    "overflow in the loss": (_network("[[1.0e+100, 0.0]]", "[{x: [1.0e+100, 0.0], y: [1.0]}]"), "loss term", "inf"),
    # a learning rate far too large: every step multiplies the weight by about −99
    "exploding weights": (
        _network("[[1.0, 1.0]]", "[{x: [100.0, 100.0], y: [1.0]}]", steps=500),
        "is not finite",
        "",
    ),
}


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("case", sorted(FAULTS))
def test_numerical_faults_are_located_exit_3_and_leave_no_file(tmp_path: Path, case: str, fmt: str) -> None:
    text, quantity, value = FAULTS[case]
    config = tmp_path / "net.yaml"
    config.write_text(text, encoding="utf-8")
    out = tmp_path / f"trace.{fmt}"
    # past the row cap the run goes on unshown, so the fault is met in text too (no cap would pass the row budget)
    result = invoke("trace", str(config), "--format", fmt, "-o", str(out))
    assert result.exit_code == ExitCode.NUMERICAL_FAULT, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output + result.stderr
    # steps are 1-based: a fault met while computing the loss before step 1 is located at step 1, not 0
    assert re.match(r"numerical fault at step [1-9]\d*, layer out(, neuron \d+)?: ", lines[0]), lines[0]
    assert quantity in lines[0] and re.search(rf"\({value}", lines[0]), lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]  # no output, no temporary


def test_saturated_logits_give_exact_finite_losses_not_log_of_zero(tmp_path: Path) -> None:
    # σ(−1000) is 0 in float64, so a textbook −log σ(z) would be −log 0 = ∞; from the logits,
    # bce = max(z, 0) − z·y + log(1 + e^(−|z|)) = 0 + 1000 + log(1 + e^−1000) = 1000 exactly
    config = tmp_path / "bce.yaml"
    config.write_text(_network("[[1.0, 0.0]]", "[{x: [-1000.0, 0.0], y: [1.0]}]", activation="sigmoid", loss="bce"))
    result = invoke("trace", str(config), "--format", "json")
    assert result.exit_code == 0, result.stderr
    step = json.loads(result.output)["steps"][0]
    assert step["loss"] == 1000.0
    # ∂L/∂z = σ(z) − y = 0 − 1 = −1; ∂L/∂w = −1 · x = (1000, 0)
    assert step["gradients"]["out"]["weights"] == [[1000.0, 0.0]]


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("net.yaml", _network("[[1.0, 1.0]]", "[{x: [.nan, 1.0], y: [1.0]}]"), ":7:"),
        ("net.json", '{"network": {"inputs": 1, "layers": [{"units": 1}]}, "data": [{"x": NaN}]}', ":1:"),
    ],
)
def test_nan_in_data_is_bad_input_where_it_stands(tmp_path: Path, name: str, text: str, where: str) -> None:
    config = tmp_path / name
    config.write_text(text, encoding="utf-8")
    result = invoke("trace", str(config), "--format", "json", "-o", str(tmp_path / "out.json"))
    assert_clean_outcome(result, str(config))
    assert result.exit_code == ExitCode.BAD_INPUT and where in result.stderr and "non-finite" in result.stderr
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("cell", ["nan", "inf", "-Infinity", "1e999"])
def test_nan_in_a_csv_cell_is_bad_input_at_its_cell(tmp_path: Path, cell: str) -> None:
    (tmp_path / "d.csv").write_text(f"a,b,y\n1,2,3\n4,{cell},6\n", encoding="utf-8")
    config = tmp_path / "net.yaml"
    config.write_text(_network("[[1.0, 1.0]]", "{file: d.csv}"), encoding="utf-8")
    result = invoke("trace", str(config), "--format", "json")
    assert result.exit_code == ExitCode.BAD_INPUT and result.stdout == ""
    assert result.stderr.startswith(f"{tmp_path / 'd.csv'}:3:2: column 'b': {cell!r} is not a number"), result.stderr


# ---- output files: atomic, never an input ----------------------------------------------------------------


def test_an_error_midway_keeps_the_old_output_file_untouched(tmp_path: Path) -> None:
    config = tmp_path / "net.yaml"
    config.write_text(FAULTS["exploding weights"][0], encoding="utf-8")
    out = tmp_path / "trace.json"
    out.write_text("the previous run's trace\n", encoding="utf-8")
    result = invoke("trace", str(config), "--format", "json", "-o", str(out))
    assert result.exit_code == ExitCode.NUMERICAL_FAULT
    assert out.read_text(encoding="utf-8") == "the previous run's trace\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml", "trace.json"]


def _config_with_data_file(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n1,2,3\n4,5,6\n", encoding="utf-8")
    config = tmp_path / "net.yaml"
    config.write_text(_network("[[1.0, 1.0]]", "{file: d.csv}"), encoding="utf-8")
    return config, data


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_data_file_a_config_names_is_never_overwritten(tmp_path: Path, fmt: str) -> None:
    # regression: only the config and --data were protected; -o d.csv replaced the config's data file
    config, data = _config_with_data_file(tmp_path)
    before = data.read_bytes()
    result = invoke("trace", str(config), "--format", fmt, "-o", str(data))
    assert result.exit_code == ExitCode.BAD_INPUT and "refusing to overwrite the input" in result.stderr
    assert data.read_bytes() == before


@pytest.mark.parametrize("how", ["--data", "symlink", "relative"])
def test_inputs_reached_by_another_name_are_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    config, data = _config_with_data_file(tmp_path)
    before = config.read_bytes(), data.read_bytes()
    monkeypatch.chdir(tmp_path)
    if how == "--data":
        args = ["trace", str(config), "--data", "d.csv", "-o", str(tmp_path / "." / "d.csv")]
    elif how == "symlink":
        (tmp_path / "link.yaml").symlink_to(config)
        args = ["trace", "link.yaml", "-o", str(config)]
    else:
        args = ["trace", str(config), "-o", "./sub/../net.yaml"]
        (tmp_path / "sub").mkdir()
    result = invoke(*args)
    assert result.exit_code == ExitCode.BAD_INPUT and "refusing to overwrite the input" in result.stderr
    assert (config.read_bytes(), data.read_bytes()) == before


# regression (found by the fuzz test): `optimizer: {name: [], …}` raised TypeError (unhashable list)
@pytest.mark.parametrize("name", ["[]", "{a: 1}", "[sgd]", "1"])
def test_an_optimizer_name_that_is_not_a_string_is_bad_input(tmp_path: Path, name: str) -> None:
    config = tmp_path / "net.yaml"
    config.write_text(_network("[[1.0, 1.0]]", "[{x: [1, 2], y: [3]}]").replace("name: sgd", f"name: {name}"))
    result = invoke("validate", str(config))
    assert_clean_outcome(result, str(config))
    assert result.exit_code == ExitCode.BAD_INPUT and f"{config}:6:" in result.stderr and "optimizer" in result.stderr


# ---- pipes and Ctrl-C: quiet, conventional exit status ------------------------------------------------

SIGPIPE_STATUS = 128 + signal.SIGPIPE  # 141, what a shell reports for a writer killed by SIGPIPE


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_closed_pipe_ends_quietly(tmp_path: Path, fmt: str) -> None:
    """``backprop trace xor --steps 200 | head -1``: the reader leaves early; no traceback, exit 0 or 141."""
    process = subprocess.Popen(  # the default row cap still writes far more than a pipe holds
        [sys.executable, "-m", "backprop_cli", "trace", "xor", "--steps", "200", "--format", fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # what head does after its line
    stderr = process.stderr.read().decode()
    status = process.wait(timeout=60)
    assert first
    assert stderr == "", stderr
    assert status in (0, SIGPIPE_STATUS, -signal.SIGPIPE), status


def _sigint_at_default() -> None:
    """In the child before exec: SIGINT at its default, as in a terminal. A child of a background job of
    a non-interactive shell inherits SIGINT ignored, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_ends_with_130_and_one_line(tmp_path: Path) -> None:
    """SIGINT while a long trace is being written: exit 130, 'interrupted', no traceback, no partial file."""
    out = tmp_path / "trace.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backprop_cli",
            "trace",
            "xor",
            "--steps",
            "5000",  # the longest xor run the trace budget takes (10,000 steps × layers): seconds of writing
            "--format",
            "json",
            "-o",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
        preexec_fn=_sigint_at_default,
    )
    try:
        deadline = time.monotonic() + 60
        # wait until the run is writing (its temporary file grows), so the signal lands mid-trace
        while not any(p.name.startswith(".trace.json.") and p.stat().st_size > 0 for p in tmp_path.iterdir()):
            assert process.poll() is None, process.communicate(timeout=60)
            assert time.monotonic() < deadline, "the trace never started writing"
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait(timeout=60)
    assert process.returncode == ExitCode.INTERRUPTED == 130
    assert stderr.decode() == "interrupted\n" and stdout == b""
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary


# regression: `--steps 100000000` built a schedule of 10^8 batches (gigabytes, minutes) before step 1
@pytest.mark.parametrize("command", ["trace", "train"])
def test_an_absurdly_long_run_is_bad_input_before_anything_is_built(command: str) -> None:
    if command not in main.list_commands(click.Context(main)):
        pytest.skip(f"no {command} command in this build")
    with memory_cap(512 * 2**20):
        result = invoke(command, "xor", "--steps", "100000000", "--format", "json")
    assert_clean_outcome(result, "--steps")
    assert result.exit_code == ExitCode.BAD_INPUT and result.stdout == ""
    assert result.stderr == (
        "--steps: 100,000,000 steps of 4 rows is too long a run; expected at most 5,000,000 rows in all "
        "(steps × batch size); shorten it with --steps\n"
    )


# ---- the fast schema check never accepts what the pydantic models refuse -------------------------------


def test_the_models_have_nothing_the_schema_cannot_show() -> None:
    """schemacheck reads only the JSON Schema: a validator, or a union that is not SkipValidation (whose
    value a builder would then get converted), would make it disagree with the models."""
    import types
    import typing

    from pydantic import BaseModel, SkipValidation

    from backprop_cli.loading import models as config_models

    models = [m for m in vars(config_models).values() if isinstance(m, type) and issubclass(m, BaseModel)]
    assert len(models) >= 8
    for model in models:
        decorators = model.__pydantic_decorators__
        assert not (decorators.validators or decorators.field_validators or decorators.model_validators), model
        assert not decorators.root_validators, model
        if model is config_models.RowModel:  # only the schema of rows: `data` is SkipValidation, data.py checks
            continue
        for name, field in model.model_fields.items():
            args = [a for a in typing.get_args(field.annotation) if a is not type(None)]
            union = typing.get_origin(field.annotation) in (typing.Union, types.UnionType) and len(args) > 1
            skipped = any(isinstance(m, SkipValidation) for m in field.metadata)
            assert not union or skipped, f"{model.__name__}.{name}: {field.annotation}"


@FUZZ
@given(case=mutated_config())
def test_the_fast_check_accepts_only_what_pydantic_accepts_and_gives_the_same_values(case: tuple[str, Any]) -> None:
    from pydantic import ValidationError

    from backprop_cli.loading import models as config_models
    from backprop_cli.loading.schemacheck import validated

    _, value = case
    parts = [("ConfigModel", value)]
    if isinstance(value, dict):
        for key, model in (("loss", "LossModel"), ("optimizer", "OptimizerModel"), ("data", "DataFileModel")):
            part = value.get(key)
            parts.append((model, {"name": part} if isinstance(part, str) and key != "data" else part))
    for name, part in parts:
        fast = validated(name, part)
        if fast is None:
            continue  # pydantic decides, and words the error
        try:
            slow = getattr(config_models, name).model_validate(part)
        except ValidationError as error:
            raise AssertionError(f"schemacheck accepted what {name} refuses: {error}") from None
        assert fast.model_dump() == slow.model_dump(warnings=False), name  # SkipValidation fields: as written


def _read_pty_until(leader: int, marker: bytes, seconds: float) -> bytes:
    """What the terminal shows until ``marker`` appears, waiting at most ``seconds`` in all."""
    import select

    shown = b""
    deadline = time.monotonic() + seconds
    while marker not in shown:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} within {seconds} s; the terminal showed: {shown[-300:]!r}"
        ready, _, _ = select.select([leader], [], [], left)
        if ready:
            try:
                shown += os.read(leader, 65536)
            except OSError:  # the terminal closed: the process ended without pausing
                break
    return shown


def test_ctrl_c_at_a_pause_ends_with_130_and_one_line() -> None:
    """``backprop trace --pause`` waiting for Enter on a terminal: SIGINT ends it as Ctrl-C should, even
    when it arrives as the prompt appears (regression: 3 runs in 25 waited for Enter, and hung the suite)."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_cli", "trace", "xor", "--pause", "--width", "100"],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"},
        preexec_fn=_sigint_at_default,
    )
    os.close(follower)
    try:
        shown = _read_pty_until(leader, b"Enter: next phase", 60)  # the prompt: it is waiting
        process.send_signal(signal.SIGINT)  # at once: the moment the race was lost in
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait(timeout=60)
        os.close(leader)
    assert b"Enter: next phase" in shown
    assert process.returncode == ExitCode.INTERRUPTED and stderr.decode() == "interrupted\n", (
        process.returncode,
        stderr,
    )
