"""Numbers at the edge of float64: random valid networks through every output format.

A valid config may still overflow while it runs: then the run is a numerical fault (exit 3, one line
naming the step, layer and quantity), never a traceback, never a loss of ``∞`` with exit 0, and no JSON
document ever holds ``Infinity`` or ``NaN`` (Python's json module writes them unless told not to;
a strict reader refuses them).
"""

from __future__ import annotations

import json
import os
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode

NUMBERS_FUZZ = settings(
    max_examples=int(os.environ.get("BACKPROP_NUMBERS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FAULT = re.compile(r"^numerical fault at (step \d+|node \S+)[^\n]*$")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "100"})


def strict_json(text: str) -> Any:
    """json.loads that refuses the non-standard constants Infinity, -Infinity and NaN."""

    def refuse(token: str) -> Any:
        raise AssertionError(f"the JSON holds {token}")

    return json.loads(text, parse_constant=refuse)


def outcome(result: Result) -> int:
    """The exit status of a run that ended cleanly: 0, or 3 with one located line; never a traceback."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}") from result.exception
    assert "Traceback" not in result.output + result.stderr
    assert result.exit_code in (ExitCode.OK, ExitCode.NUMERICAL_FAULT), (result.exit_code, result.stderr)
    if result.exit_code == ExitCode.NUMERICAL_FAULT:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and FAULT.match(lines[0]), result.stderr
    return result.exit_code


# ---- random valid networks, scaled towards float64's edge ------------------------------------------

HIDDEN = ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]
OPTIMIZERS = [
    "sgd",
    {"name": "momentum", "learning_rate": 0.1},
    {"name": "adam", "learning_rate": 0.1},
    {"name": "rmsprop"},
    {"name": "adamw", "learning_rate": 0.5},
]


def _number(scale: int) -> st.SearchStrategy[float]:
    """A finite float of about 10^scale in size, either sign (or 0)."""
    return st.one_of(
        st.just(0.0),
        st.builds(lambda m, s: s * m * 10.0**scale, st.floats(0.1, 9.9), st.sampled_from([1.0, -1.0])),
    )


@st.composite
def network_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid config: 1-3 dense layers, any loss that fits the output, values up to about 1e300."""
    depth = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    loss = draw(st.sampled_from(["sse", "half_sse", "mse", "mae", "bce", "cross_entropy"]))
    activations = [draw(st.sampled_from(HIDDEN)) for _ in range(depth)]
    if loss == "bce":
        activations[-1] = "sigmoid"
    elif loss == "cross_entropy":
        activations[-1] = "softmax"
        sizes[-1] = max(2, sizes[-1])
    scale = draw(st.sampled_from([0, 1, 50, 100, 150, 154, 155, 200, 300]))  # some values near 10^scale
    near = _number(scale) | _number(0)
    layers = []
    for fan_in, units in pairwise(sizes):
        layer: dict[str, Any] = {
            "units": units,
            "activation": activations[len(layers)],
            "weights": [[draw(near) for _ in range(fan_in)] for _ in range(units)],
        }
        if draw(st.booleans()):
            layer["biases"] = [draw(near) for _ in range(units)]
        layers.append(layer)
    rows = []
    for _ in range(draw(st.integers(1, 3))):
        x = [draw(near) for _ in range(sizes[0])]
        if loss == "cross_entropy":
            hot = draw(st.integers(0, sizes[-1] - 1))
            y = [1.0 if k == hot else 0.0 for k in range(sizes[-1])]
        elif loss == "bce":
            y = [draw(st.sampled_from([0.0, 0.5, 1.0])) for _ in range(sizes[-1])]
        else:
            y = [draw(near) for _ in range(sizes[-1])]
        rows.append({"x": x, "y": y})
    return {
        "network": {"inputs": sizes[0], "layers": layers},
        "loss": {"name": loss, "reduction": draw(st.sampled_from(["mean", "sum", "sum_all"]))},
        "optimizer": draw(st.sampled_from(OPTIMIZERS)),
        "data": rows,
        "training": {"steps": draw(st.integers(1, 3)), "batch_size": draw(st.integers(1, 3))},
    }


def _write(folder: Path, config: dict[str, Any]) -> Path:
    path = folder / "net.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@NUMBERS_FUZZ
@given(config=network_configs())
def test_random_valid_networks_end_in_a_result_or_a_located_fault_in_every_format(
    tmp_path_factory: pytest.TempPathFactory, config: dict[str, Any]
) -> None:
    """Every output format of trace, train, names and answers ends in a result or a located fault (exit 3),
    never a traceback, and every JSON document they write is standard JSON."""
    path = _write(tmp_path_factory.mktemp("numbers", numbered=True), config)
    runs = {
        f"trace {fmt}": invoke("trace", str(path), "--format", fmt, "--max-rows", "0")
        for fmt in ("json", "markdown", "latex", "html", "svg")
    }
    runs["trace text"] = invoke("trace", str(path), "--max-rows", "0", "--diagnostics")
    runs |= {f"train {fmt}": invoke("train", str(path), "--format", fmt) for fmt in ("text", "json")}
    runs["names json"] = invoke("names", str(path), "--format", "json")
    runs["answers"] = invoke("answers", str(path))
    codes = {what: outcome(result) for what, result in runs.items()}
    # the same run faults in every format of a command, or in none; names and answers compute the trace's
    # steps without its loss on all data rows, so they may succeed where the trace faults, never the reverse
    assert len({code for what, code in codes.items() if what.startswith("trace")}) == 1, codes
    assert codes["names json"] == codes["answers"], codes
    assert codes["trace json"] == ExitCode.NUMERICAL_FAULT or codes["names json"] == ExitCode.OK, codes
    assert codes["train text"] == codes["train json"], codes
    for what, result in runs.items():
        if result.exit_code == ExitCode.OK and "json" in what:
            strict_json(result.output)


# ---- the cases the review met, each by name ------------------------------------------------------

OVERFLOWING_LOSS = {  # terms that are each finite, a per-sample sum that is not
    "network": {"inputs": 1, "layers": [{"units": 2, "weights": [[1.2e154], [1.2e154]], "biases": [0, 0]}]},
    "loss": "sse",
    "optimizer": {"name": "sgd", "learning_rate": 1e-300},
    "data": [{"x": [1], "y": [0, 0]}],
}
OVERFLOWING_MEAN = {  # each sample's loss finite (1e308), the batch's sum of them not
    "network": {"inputs": 1, "layers": [{"units": 1, "weights": [[1e154]], "biases": [0]}]},
    "loss": {"name": "sse", "reduction": "sum"},
    "optimizer": {"name": "sgd", "learning_rate": 1e-300},
    "data": [{"x": [1], "y": [0]}, {"x": [1], "y": [0]}],
}


@pytest.mark.parametrize("config", [OVERFLOWING_LOSS, OVERFLOWING_MEAN], ids=["per-sample", "batch"])
@pytest.mark.parametrize(
    "command", [("trace", "text"), ("trace", "json"), ("train", "text"), ("train", "json"), ("names", "json")]
)
def test_a_loss_that_overflows_is_a_located_fault_not_infinity(
    tmp_path: Path, config: dict[str, Any], command: tuple[str, str]
) -> None:
    result = invoke(command[0], str(_write(tmp_path, config)), "--format", command[1])
    assert outcome(result) == ExitCode.NUMERICAL_FAULT, result.output
    assert re.match(r"numerical fault at step 1, layer layer1: the (loss of data row \d|batch loss)", result.stderr)


SATURATED_BCE = {  # found by the fuzz above on CI: a = σ(40) is 1.0 in float64, so bce's textbook ∂L/∂a is ∞
    "network": {
        "inputs": 1,
        "layers": [
            {"units": 3, "activation": "identity", "weights": [[5.713862020165447], [0.0], [0.0]]},
            {"units": 1, "activation": "sigmoid", "weights": [[-7.0, 0.0, 0.0]]},
        ],
    },
    "loss": {"name": "bce", "reduction": "mean"},
    "optimizer": "sgd",
    "data": [{"x": [-1.0], "y": [0.0]}],
}


def test_a_saturated_textbook_factor_is_null_in_the_names_document(tmp_path: Path) -> None:
    """The trace shows ∂L/∂a of a saturated sigmoid as ∞ (δ comes from the stable form); its JSON says null,
    in `names --format json` and `trace --quantities` alike, as the README's JSON section says."""
    path = str(_write(tmp_path, SATURATED_BCE))
    names = invoke("names", path, "--format", "json")
    assert names.exit_code == ExitCode.OK, names.output
    listed = {entry["name"]: entry["value"] for entry in strict_json(names.output)["names"]}
    assert listed["layer2.dL_da1"] is None and listed["layer2.chain1"] is None
    assert listed["layer2.delta1"] == 1.0  # the stable form is finite
    trace = invoke("trace", path, "--format", "json", "--quantities")
    assert trace.exit_code == ExitCode.OK, trace.output
    quantities = {q["name"]: q["value"] for step in strict_json(trace.output)["steps"] for q in step["quantities"]}
    assert quantities["layer2.dL_da1"] is None


ADAM_STATE_OVERFLOW = {  # a gradient of 1e200: Adam's v = (1 − β₂)·g² is ∞ while its step stays finite
    "network": {"inputs": 1, "layers": [{"units": 1, "weights": [[1.0]], "biases": [0]}]},
    "loss": "mae",
    "optimizer": {"name": "adam", "learning_rate": 0.1},
    "data": [{"x": [1e200], "y": [0]}],
}


def test_an_optimizer_state_that_overflows_is_a_located_fault_in_the_trace(tmp_path: Path) -> None:
    result = invoke("trace", str(_write(tmp_path, ADAM_STATE_OVERFLOW)), "--format", "json")
    assert outcome(result) == ExitCode.NUMERICAL_FAULT
    assert result.stderr.startswith("numerical fault at step 1, layer layer1, neuron 1: adam's v of layer1.w1_1 ")


def test_the_trace_documents_writer_refuses_non_finite_floats() -> None:
    """orjson writes ∞ and NaN as null; the trace's writer refuses them loudly instead."""
    import numpy as np

    from backprop_cli.render.json_out import dumps

    assert dumps({"a": np.array([1.0, 2.0]), "b": [0.5, None]}) == '{"a":[1.0,2.0],"b":[0.5,null]}'
    for bad in ({"x": float("inf")}, {"x": [1.0, {"y": float("nan")}]}, {"x": np.array([[1.0, np.inf]])}):
        with pytest.raises(ValueError, match="not JSON compliant"):
            dumps(bad)


@pytest.mark.parametrize("command", ["check", "gradcheck", "names", "train"])
def test_every_json_writer_refuses_non_finite_floats(command: str) -> None:
    """A regression that lets ∞ or NaN reach a JSON writer is a loud ValueError, not `Infinity` in a file."""
    import importlib
    import inspect

    module = {
        "check": "backprop_cli.cli.check",
        "gradcheck": "backprop_cli.cli.gradcheck",
        "names": "backprop_cli.cli.names",
        "train": "backprop_cli.cli.train",
    }[command]
    source = inspect.getsource(importlib.import_module(module))
    calls = re.findall(r"json\.dumps\((?:[^()]|\([^()]*\))*\)", source)
    assert calls and all("allow_nan=False" in call for call in calls), calls
