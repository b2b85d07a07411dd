"""Every quantity of every built-in example recomputes from its factors, and every walk ends at givens."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

import backprop_cli as bp
from backprop_cli.cli.main import main
from backprop_cli.loading.examples import example_names
from backprop_cli.model.quantity import Const, Form, Quantity

BIG = {
    "iris",
    "deep_sigmoid",
    "deep_relu_he",
    "deep_sigmoid_batchnorm",
    "deep_plain",
    "deep_residual",
    "digits_cnn",
}  # one step of these is thousands of quantities already


def traced(name: str) -> bp.Trace:
    spec = bp.load(name)
    if hasattr(spec, "graph"):
        return bp.trace(spec)
    return bp.trace(spec, steps=1 if name in BIG else 3)


@pytest.mark.parametrize("name", example_names())
def test_every_quantity_recomputes_from_its_factors_values(name: str) -> None:
    t = traced(name)
    computed = 0
    for q in t:
        for factor in q.factors:
            assert factor in t, (q.name, factor)  # every factor is a quantity of the same trace
        if q.form.rule is None:
            assert q.is_given or q.kind == "again", q.name
            continue
        value = q.recompute({f: t[f].value for f in q.factors})
        assert float(value) == pytest.approx(float(q.value), rel=1e-12, abs=1e-12) or (
            math.isnan(float(value)) and math.isnan(float(q.value))
        ), (q.name, q.formula)
        computed += 1
    assert computed > 0


@pytest.mark.parametrize("name", [n for n in example_names() if n not in BIG])
def test_explain_of_any_name_reaches_only_inputs_and_parameters(name: str) -> None:
    """Walking the factors from any quantity ends at given numbers (inputs, targets, parameters before
    the first step) or at constants: nothing computed is left without the factors it came from."""
    t = traced(name)
    for q in t:
        todo, seen = [q.name], set()
        while todo:
            current = t[todo.pop()]
            if current.name in seen:
                continue
            seen.add(current.name)
            if not current.factors:
                assert current.is_given or current.form.rule is not None, current.name
                if current.is_given and current.phase == "parameters":
                    assert current.origin is None or current.origin in t  # after step 1: the update before
                continue
            todo.extend(current.factors)
        for leaf in seen:
            if t[leaf].phase == "parameters" and t[leaf].origin is not None:
                assert t[leaf].origin in t


def test_a_student_value_for_a_factor_changes_the_recomputation() -> None:
    """recompute(values) uses the values given and the trace's own for the factors left out."""
    t = bp.trace("pytorch_snippet")
    grad = t["out.dL_dw1_1"]  # δ × x = (−8) × 3
    assert grad.factors == ("out.delta1", "x")
    assert grad.recompute() == -24
    assert grad.recompute({"out.delta1": -7.0}) == -21.0


def test_formulas_write_names_relative_to_their_own_place() -> None:
    q = Quantity(
        "step2/sample3/h.dL_dw1_1",
        0.5,
        "backward",
        2,
        "h",
        2,
        Form("{0} × {1} + {2}", ("step2/sample3/h.delta1", "step2/sample3/x1", Const(0.25, "η"))),
        (1.0, 0.5, 0.25),
        True,
    )
    from backprop_cli.model.numbers import NumberFormat

    assert q.formula(NumberFormat()) == "h.delta1 × x1 + η"
    assert q.written(NumberFormat()) == ""  # no rule: a given number is not written out
    assert q.short("step1/h.w1_1.new") == "step1/h.w1_1.new"  # another step keeps its qualifier


@pytest.mark.parametrize("name", ["xor", "circuit_add_mul", "adam_two_steps"])
def test_names_json_lists_exactly_the_apis_quantities(name: str) -> None:
    result = CliRunner().invoke(main, ["names", name, "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["names"]
    t = bp.trace(name)
    assert [entry["name"] for entry in listed] == t.names()
    for entry in listed:
        q = t[entry["name"]]
        assert entry["factors"] == list(q.factors) and entry["value"] == pytest.approx(float(q.value))


@pytest.mark.parametrize("name", example_names())
def test_every_examples_trace_document_validates_against_the_trace_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    runner = CliRunner()
    schema = json.loads(runner.invoke(main, ["schema", "--trace"]).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    spec = bp.load(name)
    small = ["--step", "1", "--layer", spec.layers[-1].name] if name in BIG else []
    runs = [["--format", "json", *small], ["--format", "json", "--quantities", *small]]
    rational = (hasattr(spec, "graph") and name != "sigmoid_neuron_circuit") or (
        not hasattr(spec, "graph")
        and all(layer.activation in ("identity", "relu", "leaky_relu") for layer in spec.layers)
        and spec.loss.name in ("sse", "half_sse", "mse", "mae")
        and spec.optimizer.name in ("sgd", "momentum")
    )
    if rational:
        runs.append(["--format", "json", "--exact", "--quantities"])
    for args in runs:
        result = runner.invoke(main, ["trace", name, *args])
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        jsonschema.validate(document, schema)
        assert document["exact"] is ("--exact" in args)
