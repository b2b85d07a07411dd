"""``--exact`` on networks: the first step as a graph of fractions agrees with the float engine."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.cli import main
from backprop_cli.clikit import load
from backprop_cli.engine import Engine
from backprop_cli.errors import ConfigError
from backprop_cli.expr.network import exact, run_exact, update_sections
from backprop_cli.spec import NetworkSpec, OptimizerSpec
from backprop_cli.trace import param_name
from tests.strategies import make_spec


def float_step(spec: NetworkSpec) -> tuple[float, dict[str, float], dict[str, float], float]:
    """Loss, gradients and updated parameters of step 1 from the float engine, by name."""
    engine = Engine(spec)
    rec = next(iter(engine.run()))
    grads, new = {}, {}
    for u in rec.updates:
        for index in np.ndindex(u.old.shape):
            name = param_name(u.layer, u.kind, tuple(int(i) for i in index))
            grads[name], new[name] = float(u.grad[index]), float(u.new[index])
    return rec.loss.value, grads, new, rec.loss_after


def test_pytorch_snippet_exactly() -> None:
    # L = (w·x − 10)² at w = 2, x = 3: dL/dw = 2·(6 − 10)·3 = −24; w − 0.01 × (−24) = 2.24 = 56/25
    step = run_exact(load("pytorch_snippet", None)[0])
    assert step.trace.value == 16
    assert step.trace.gradients == {"out.w1_1": Fraction(-24)}
    assert [(u.name, u.new) for u in step.updates] == [("out.w1_1", Fraction(56, 25))]
    assert step.loss_after == (Fraction(56, 25) * 3 - 10) ** 2


@pytest.mark.parametrize("name", ["two_layer_relu", "pytorch_snippet", "single_neuron"])
def test_examples_agree_with_the_float_trace(name: str) -> None:
    spec = load(name, None)[0]
    step = run_exact(spec)
    loss, grads, new, after = float_step(spec)
    assert float(step.trace.value) == pytest.approx(loss, rel=1e-12)
    assert {k: float(v) for k, v in step.trace.gradients.items()} == pytest.approx(grads, rel=1e-12, abs=1e-15)
    assert {u.name: float(u.new) for u in step.updates} == pytest.approx(new, rel=1e-12, abs=1e-15)
    assert float(step.loss_after) == pytest.approx(after, rel=1e-12, abs=1e-15)


def test_the_exact_gradients_are_also_listed_under_the_float_traces_names() -> None:
    from backprop_cli.render.numbers import NumberFormat
    from backprop_cli.values import named_values

    spec = load("two_layer_relu", None)[0]
    floats = {v.name: v.value for v in named_values(Engine(spec).run()) if ".dL_dw" in v.name or ".dL_db" in v.name}
    sections = list(update_sections(run_exact(spec), NumberFormat(17)))
    listed = sections[0]
    assert listed.title == "Gradients · as named in the float trace"
    assert {row.name for row in listed.rows} == set(floats)  # every dL_dw and dL_db of step 1
    for row in listed.rows:
        assert row.formula.startswith("grad.") and float(Fraction(row.value)) == pytest.approx(floats[row.name])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 3), min_size=2, max_size=4),
    st.lists(st.sampled_from(["identity", "relu", "leaky_relu"]), min_size=3, max_size=3),
    st.sampled_from(["sse", "half_sse", "mse"]),
    st.sampled_from(["mean", "sum"]),
    st.integers(1, 3),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_random_rational_networks_agree_with_float_mode(
    sizes: list[int], activations: list[str], loss: str, reduction: str, rows: int, bias: bool, seed: int
) -> None:
    spec = make_spec(sizes, activations[: len(sizes) - 1], loss, seed=seed, rows=rows, reduction=reduction, bias=bias)
    step = run_exact(spec)
    loss_value, grads, new, after = float_step(spec)
    assert float(step.trace.value) == pytest.approx(loss_value, rel=1e-9, abs=1e-12)
    for name, value in step.trace.gradients.items():
        assert float(value) == pytest.approx(grads[name], rel=1e-9, abs=1e-12), name
    for u in step.updates:
        assert float(u.new) == pytest.approx(new[u.name], rel=1e-9, abs=1e-12), u.name
    assert float(step.loss_after) == pytest.approx(after, rel=1e-9, abs=1e-12)


def test_decimal_text_is_read_exactly() -> None:
    assert exact(0.1) == Fraction(1, 10)
    assert exact(-0.65) == Fraction(-13, 20)


def test_irrational_networks_are_refused_with_reasons() -> None:
    with pytest.raises(ConfigError) as caught:
        run_exact(load("xor", None)[0])
    message = caught.value.one_line()
    assert "layer h has activation sigmoid" in message and "the loss bce is not rational" in message
    spec = load("two_layer_relu", None)[0]
    adam = NetworkSpec(**{**spec.__dict__, "optimizer": OptimizerSpec("adam", 0.1)})
    with pytest.raises(ConfigError, match="the optimizer is adam"):
        run_exact(adam)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None})
    return result.exit_code, result.stdout, result.stderr


def test_cli_json_carries_exact_strings() -> None:
    code, out, err = invoke("trace", "two_layer_relu", "--exact", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "network-exact" and doc["step"] == 1 and doc["samples"] == [0]
    assert doc["loss"] == "169/1600"  # 0.105625
    assert doc["gradients"]["out.w1_1"] == "-247/800"  # -0.30875
    assert doc["updated"]["out.w1_1"] == "8247/8000"  # 1 − 0.1 × (−0.30875) = 1.030875


def test_cli_text_and_refusals() -> None:
    code, out, err = invoke("trace", "pytorch_snippet", "--exact", "--phase", "update")
    assert code == 0, err
    assert "out.w1_1.new   out.w1_1 − η × grad.out.w1_1   2 − (1/100) × (-24)   56/25" in out
    code, _, err = invoke("trace", "xor", "--exact")
    assert code == 2 and "--exact: layer h has activation sigmoid" in err
    code, _, err = invoke("trace", "two_layer_relu", "--exact", "--layer", "out")
    assert code == 2 and "--layer is not supported with --exact on a network" in err
    code, out, err = invoke("graph", "pytorch_snippet", "--exact", "--format", "tree")
    assert code == 0 and "out.w1_1 · value 2 ·" in out and "grad.out.w1_1 -24" in out


def test_the_graph_writes_the_config_s_numbers_as_the_exact_values_they_stand_for() -> None:
    """x = 3 is `× 3`, not `× 3.0`; a target of 10 is `− 10`; 0.1 is `(1/10)`, as every exact value is shown."""
    step = run_exact(load("pytorch_snippet", None)[0])
    literals = {n.name: [a.text for a in n.args if not isinstance(a, str)] for n in step.trace.graph.nodes}
    assert literals["out.p1_1"] == ["3"] and literals["loss.diff1"] == ["10"]
    tree = CliRunner().invoke(main, ["graph", "pytorch_snippet", "--exact", "--format", "tree"]).output
    assert "out.w1_1 × 3 " in tree and "out.a1 − 10 " in tree and ".0" not in tree
    spec = make_spec([1, 1], ["leaky_relu"], "mse", seed=0, rows=1)
    spec = replace(spec, data=replace(spec.data, x=np.array([[0.1]]), y=np.array([[-2.5]])))
    rows = {r.name: r for s in run_exact_sections(spec) for r in s.rows}
    assert rows["layer1.p1_1"].formula == "layer1.w1_1 × (1/10)"
    assert rows["loss.diff1"].formula == "layer1.a1 − (-5/2)"
    assert rows["layer1.a1"].formula == "leaky_relu(layer1.z1, 1/10)"  # the slope 0.1, bare inside a call


def run_exact_sections(spec: NetworkSpec) -> list[Any]:
    from backprop_cli.expr.rows import expr_sections
    from backprop_cli.render.numbers import NumberFormat

    return list(expr_sections(run_exact(spec).trace, NumberFormat()))
