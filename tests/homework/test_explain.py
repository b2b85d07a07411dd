"""Derivations: every factor a formula names resolves to the right number (same sample, same step)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.cli.names import compute_values, load_program
from backprop_cli.homework.explain import derive, factor_names, render_text
from backprop_cli.homework.values import NamedValue
from backprop_cli.model.numbers import NumberFormat


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None})


def table_of(config: str, steps: int | None = None) -> dict[str, NamedValue]:
    spec, _ = load_program(config, None, steps)
    return {v.name: v for v in compute_values(spec, NumberFormat())}


@pytest.mark.parametrize(
    ("config", "steps", "at_least"),
    [
        ("classic_2_2_2", None, 40),
        ("xor", 2, 240),  # four samples, two steps: sample and step qualifiers everywhere
        ("softmax_classifier", None, 30),
    ],
)
def test_every_formula_recomputes_its_value_from_the_factors_it_names(
    config: str, steps: int | None, at_least: int
) -> None:
    """Each number again from its factors' values as listed under their names (not its own copies)."""
    table = table_of(config, steps)
    checked = 0
    for value in table.values():
        q = value.quantity
        if q.form.rule is None:
            continue
        factors = {name: table[name].value for name in q.factors}
        assert q.recompute(factors) == pytest.approx(value.value, rel=1e-12, abs=1e-15), (value.name, value.formula)
        checked += 1
    assert checked >= at_least


def test_a_first_layer_weight_gradient_unfolds_through_delta_the_sum_and_the_loss() -> None:
    table = table_of("classic_2_2_2")
    tree = render_text(derive("h.dL_dw1_1", table))
    lines = tree.splitlines()
    # Mazur: ∂E/∂w1 = 0.000438568 = δ_h1 × i1 with ∂E/∂out_h1 = Σ over both outputs of δ_o·w
    assert lines[0] == "h.dL_dw1_1 = h.delta1 × i1 = 0.00877135 × 0.05 = 0.000438568"
    assert "h.dL_da1 = o.delta1·o.w1_1 + o.delta2·o.w2_1" in tree
    assert "o.dL_da1 = o.a1 − y1" in tree  # half_sse: the loss's own derivative
    assert "y1 = 0.01 (target, data row 1)" in tree
    assert "i1 = 0.05 (input, data row 1)" in tree and "h.w1_1 = 0.15 (parameter)" in tree
    assert "(derived above)" in tree  # o.a1 feeds both ∂L/∂a and ∂a/∂z: unfolded once
    assert "not expanded" not in tree


def test_depth_limits_the_unfolding() -> None:
    table = table_of("classic_2_2_2")
    shallow = render_text(derive("h.dL_dw1_1", table, depth=1)).splitlines()
    assert shallow[1:] == [
        "├─ h.delta1 = h.dL_da1 × h.da_dz1 = 0.0363503 × 0.241301 = 0.00877135",
        "└─ i1 = 0.05 (input, data row 1)",
        "(factors deeper than --depth are not expanded)",
    ]


def test_without_numbers_a_derivation_shows_formulas_and_no_value() -> None:
    table = table_of("classic_2_2_2")
    lines = render_text(derive("h.dL_dw1_1", table, depth=1), numbers=False).splitlines()
    assert lines == [
        "h.dL_dw1_1 = h.delta1 × i1",
        "├─ h.delta1 = h.dL_da1 × h.da_dz1",
        "└─ i1 (input, data row 1)",
        "(factors deeper than --depth are not expanded)",
    ]


def test_factors_resolve_within_the_sample_and_step() -> None:
    table = table_of("xor", 2)
    assert factor_names(table["step2/sample3/h.dL_dw1_1"], table) == ["step2/sample3/h.delta1", "step2/sample3/x1"]
    # the update uses the batch-reduced gradient and the parameter of its own step
    assert factor_names(table["step2/h.w1_1.new"], table) == ["step2/h.w1_1", "step2/h.dL_dw1_1"]
    # a parameter after step 1 is a leaf that names where it came from
    leaf = derive("step2/h.w1_1", table)
    assert leaf.kind == "parameter" and "step1/h.w1_1.new" in leaf.line()


def test_explain_command_and_unknown_names() -> None:
    result = invoke("explain", "pytorch_snippet", "out.dL_dw1_1")
    assert result.exit_code == 0, result.output
    # the seed case: L = (w·x − 10)², w = 2, x = 3, dL/dw = 2·(6 − 10)·3 = −24
    assert result.output.splitlines()[0] == "out.dL_dw1_1 = out.delta1 × x = (-8) × 3 = -24"
    assert "out.dL_da1 = 2·(out.a1 − y1) = 2·(6 − 10) = -8" in result.output
    result = invoke("explain", "pytorch_snippet", "out.dL_dw1")
    assert result.exit_code == 2
    assert "NAME: unknown name 'out.dL_dw1' (did you mean 'out.dL_dw1_1'" in result.stderr
    result = invoke("explain", "xor", "step3/h.z1")
    assert result.exit_code == 2 and "NAME: step 3 does not exist; the run has 1 step" in result.stderr
