"""The names contract: every name the trace shows, with the value it shows, is listed by `backprop names`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.homework.values import named_values, value_table
from backprop_cli.model.names import closest_names
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.nn.engine import run
from tests.nn.test_engine import mazur

# a table row of the terminal trace: name, two or more spaces, …, the value last
ROW = re.compile(r"^(?P<name>\S+)\s{2,}(?:.*\s{2,})?(?P<value>-?[0-9][0-9.e+-]*|-?inf|nan)$")
CASES = [
    ("two_layer_relu",),
    ("classic_2_2_2",),
    ("softmax_classifier",),
    ("xor",),  # a batch of four: sample1/ … and the reduced names
    ("xor", "--steps", "2"),  # several steps: step1/ … step2/
    ("pytorch_snippet",),
]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None})


def trace_rows(*args: str) -> dict[str, str]:
    """name -> value as the terminal trace prints them, read from the rendered tables."""
    result = invoke("trace", *args, "--width", "400", "--max-rows", "0")
    assert result.exit_code == 0, result.output
    body = result.output.split("names: ", 1)[1]  # past the header table
    shown: dict[str, str] = {}
    for line in body.splitlines():
        match = ROW.match(line.strip())
        if match and match["name"] != "name":
            assert shown.get(match["name"], match["value"]) == match["value"], match["name"]
            shown[match["name"]] = match["value"]
    return shown


def names_rows(*args: str) -> dict[str, str]:
    result = invoke("names", *args)
    assert result.exit_code == 0, result.output
    return dict(line.split() for line in result.output.splitlines())


@pytest.mark.parametrize("args", CASES, ids=" ".join)
def test_every_name_in_the_terminal_trace_is_listed_by_names_with_the_same_value(args: tuple[str, ...]) -> None:
    shown = trace_rows(*args)
    listed = names_rows(*args)
    assert len(shown) >= 14
    assert shown == listed


def test_names_json_has_full_precision_values_and_places() -> None:
    doc = json.loads(invoke("names", "classic_2_2_2", "--format", "json").output)
    assert doc["format"] == "backprop-names" and doc["version"] == 1
    by_name = {entry["name"]: entry for entry in doc["names"]}
    # Mazur's walkthrough: net_h1 = 0.3775, ∂E/∂w5 = 0.082167041, w5+ = 0.35891648
    assert by_name["h.z1"]["value"] == pytest.approx(0.3775, abs=1e-15)
    assert by_name["o.dL_dw1_1"]["value"] == pytest.approx(0.082167041, abs=1e-9)
    assert by_name["o.w1_1.new"] | {"value": None} == {
        "name": "o.w1_1.new",
        "value": None,
        "step": 1,
        "phase": "update",
        "layer": "o",
        "sample": None,
        "formula": "o.w1_1 − η × o.dL_dw1_1",
        "factors": ["o.w1_1", "o.dL_dw1_1"],  # what the formula is written with, by qualified name
        "given": False,
    }


def test_values_are_exact_not_rounded() -> None:
    rec = next(run(mazur()))
    table = value_table([rec])
    assert table["h.a1"].value == rec.forward[0].a[0, 0]  # bit for bit, not 0.593270
    assert table["o.w1_1.new"].value == rec.updates[2].new[0, 0]
    assert table["h.a1"].shown == "0.59327"


def test_a_name_shown_twice_is_listed_once() -> None:
    names = [v.name for v in named_values(run(mazur()))]
    assert names.count("loss") == 1  # the loss section and the summary both show it
    assert len(names) == len(set(names))


def test_filters_choose_like_the_trace() -> None:
    listed = names_rows("xor", "--phase", "backward", "--sample", "2")
    assert listed and all(name.startswith("sample2/") for name in listed)
    assert "sample2/h.delta1" in listed
    grads = names_rows("classic_2_2_2", "--only", "*.dL_dw*")
    assert sorted(grads) == sorted(f"{layer}.dL_dw{j}_{i}" for layer in "ho" for j in (1, 2) for i in (1, 2))


def test_a_precision_changes_the_display_not_the_names() -> None:
    six = names_rows("classic_2_2_2")
    nine = names_rows("classic_2_2_2", "--precision", "9")
    assert list(six) == list(nine)
    assert (six["o.w1_1.new"], nine["o.w1_1.new"]) == ("0.358916", "0.35891648")


def test_bad_filters_are_bad_input() -> None:
    result = invoke("names", "xor", "--layer", "hidden")
    assert result.exit_code == 2 and "--layer: unknown layer 'hidden'" in result.stderr
    result = invoke("names", "circuit_add_mul", "--layer", "h")
    assert result.exit_code == 2 and "--layer: an expression has one step, no layers" in result.stderr


def test_expression_configs_have_the_names_contract_too(tmp_path: Path) -> None:
    program = tmp_path / "circuit.yaml"
    program.write_text("expression: |\n  q = x + y\n  f = q * z\nvalues: {x: -2, y: 5, z: -4}\n", encoding="utf-8")
    listed = dict(line.split() for line in invoke("names", str(program)).output.splitlines())
    assert (listed["grad.x"], listed["grad.y"], listed["grad.z"], listed["f"]) == ("-4", "-4", "3", "-12")
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(program), "-o", str(key)).exit_code == 0
    assert invoke("check", str(key)).exit_code == 0
    key.write_text(key.read_text(encoding="utf-8").replace("grad.z: 3.0", "grad.z: 2.0"), encoding="utf-8")
    result = invoke("check", str(key))
    assert result.exit_code == 1 and "1 wrong" in result.output
    assert "grad.x.via.q = grad.q × dq_dx" in invoke("explain", str(program), "grad.x").output


def test_closest_names_suggests_real_names() -> None:
    names = [v.name for v in named_values(run(mazur()), NumberFormat())]
    assert closest_names("h.detla1", names)[0] == "h.delta1"
    assert "o.w1_1.new" in closest_names("o.w1_1.nwe", names)
    assert closest_names("zzzzzz", names) == []


def test_non_finite_textbook_factors_keep_their_name() -> None:
    # a saturated sigmoid with BCE: ∂L/∂a is inf in the textbook chain, δ stays finite
    from backprop_cli.model.spec import DataSpec, LayerSpec, LossSpec, NetworkSpec, OptimizerSpec

    spec = NetworkSpec(
        ("x1",),
        (LayerSpec("o", "sigmoid", np.array([[100.0]]), np.array([0.0])),),
        LossSpec("bce"),
        OptimizerSpec("sgd", 0.1),
        DataSpec(np.array([[1.0]]), np.array([[0.0]]), "inline"),
    )
    table = value_table(run(spec))
    assert "o.dL_da1" in table and np.isfinite(table["o.delta1"].value)
