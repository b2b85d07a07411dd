"""The matrix view: every entry is the scalar trace's quantity of the same name, the shapes multiply."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main
from backprop_cli.layout.matrix import Equation, Matrix, step_matrices
from backprop_cli.loading.config import load_network as load
from backprop_cli.model.filters import Filter
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.nn.engine import Engine
from tests.render.formats_helpers import terminal_values, trace

CASES = ["two_layer_relu", "classic_2_2_2", "xor", "softmax_classifier", "lr_just_right", "adam_two_steps"]


def sections(example: str, only: Filter | None = None, step: int = 1) -> list:  # type: ignore[type-arg]
    spec, _ = load(example, None)
    rec = list(Engine(spec).run())[step - 1]
    return list(step_matrices(rec, NumberFormat(), only or Filter()))


def quantities(example: str) -> dict[str, float]:
    """Every quantity of step 1 by name, from the JSON trace (full precision)."""
    document = json.loads(trace(example, "--format", "json", "--quantities", "--step", "1"))
    return {q["name"]: q["value"] for q in document["steps"][0]["quantities"]}


@pytest.mark.parametrize("example", CASES)
def test_every_entry_is_the_scalar_quantity_of_its_name(example: str) -> None:
    fmt = NumberFormat()
    scalar = quantities(example)
    shown = dict(terminal_values(trace(example, "--width", "400", "--no-color", "--step", "1")))
    entries = [(n, v) for s in sections(example) for eq in s.equations for m in eq.matrices() for n, v in m.entries()]
    assert len(entries) > 10
    for name, value in entries:
        assert value == fmt(scalar[name]) == shown[name], name


def _products(eq: Equation) -> list[tuple[Matrix, Matrix]]:
    terms = list(eq.terms)
    return [
        (left, right)
        for left, op, right in zip(terms, terms[1:], terms[2:], strict=False)
        if op == "·" and isinstance(left, Matrix) and isinstance(right, Matrix)
    ]


@pytest.mark.parametrize("example", CASES)
def test_the_shapes_of_every_product_fit_and_make_the_left_side(example: str) -> None:
    for section in sections(example):
        for eq in section.equations:
            for left, right in _products(eq):
                assert left.shape[1] == right.shape[0], (section.title, eq.shapes)
            lhs = eq.terms[0]
            assert isinstance(lhs, Matrix)
            if len(_products(eq)) == 1 and eq.terms[1] == "=" and len(eq.terms) == 5:  # lhs = A · B
                left, right = _products(eq)[0]
                assert lhs.shape == (left.shape[0], right.shape[1]), eq.shapes


def test_the_transpose_in_the_backward_pass_is_named_and_explained() -> None:
    # two_layer_relu: out.W = [[1, −1.5]] (1×2), δ_out = −0.65, so ∂L/∂a_hidden = Wᵀ·δ = (−0.65, 0.975)
    backward = next(s for s in sections("two_layer_relu") if s.title == "Backward · layer out")
    down = next(eq for eq in backward.equations if eq.terms[0].name == "hidden.dL_da")  # type: ignore[union-attr]
    transposed = down.terms[2]
    assert isinstance(transposed, Matrix) and transposed.name == "out.Wᵀ"
    assert transposed.names == (("out.w1_1",), ("out.w1_2",)) and transposed.values == (("1",), ("-1.5",))
    assert down.terms[0].values == (("-0.65",), ("0.975",))  # type: ignore[union-attr]
    assert "so W is transposed (2×1)" in down.why and down.shapes == "2×1 = 2×1 · 1×1"
    outer = next(eq for eq in backward.equations if eq.terms[0].name == "out.dL_dW")  # type: ignore[union-attr]
    assert outer.shapes == "1×2 = 1×1 · 1×2" and "outer product" in outer.why


def test_a_batch_gradient_is_the_mean_of_its_samples_outer_products() -> None:
    # lr_just_right: x = 1, 2, 3, δ = −4, −8, −12 (w = 0, y = 2x): ∂L/∂w = (1/3)·Δᵀ·X = (−4 − 16 − 36)/3
    reduction = next(s for s in sections("lr_just_right") if s.phase == "reduction")
    (eq,) = reduction.equations
    assert [t if isinstance(t, str) else t.name for t in eq.terms] == [
        "step1/out.dL_dW",
        "=",
        "1/3",
        "·",
        "step1/out.Deltaᵀ",
        "·",
        "step1/X",
    ]
    delta, inputs = eq.terms[4], eq.terms[6]
    assert isinstance(delta, Matrix) and delta.values == (("-4", "-8", "-12"),)
    assert isinstance(inputs, Matrix) and inputs.values == (("1",), ("2",), ("3",))
    assert eq.terms[0].values == (("-18.6667",),)  # type: ignore[union-attr]
    assert "step1/sample1/out.dL_dW + step1/sample2/out.dL_dW + step1/sample3/out.dL_dW" in eq.why


def test_filters_choose_sections_and_samples() -> None:
    chosen = sections("xor", Filter(phases=frozenset({"backward"}), layers=frozenset({"h"}), samples=frozenset({3})))
    assert [s.title for s in chosen] == ["Backward · layer h · sample 3"]


def test_cli_writes_the_matrix_view_and_refuses_where_it_has_none() -> None:
    out = trace("two_layer_relu", "--view", "matrix", "--width", "120")
    assert "hidden.dL_da   out.Wᵀ" in out and "(2×2)" in out
    for fmt in ("markdown", "latex", "html"):
        assert "hidden.W" in trace("two_layer_relu", "--view", "matrix", "--format", fmt)
    assert "\\begin{bmatrix}" in trace("xor", "--view", "matrix", "--format", "markdown")
    for args in (["--format", "json"], ["--format", "slides"], ["--expr", "f = x * y", "--set", "x=1", "--set", "y=2"]):
        result = CliRunner().invoke(main, ["trace", "--view", "matrix", *args])
        assert result.exit_code == 2 and "--view" in result.stderr and "Traceback" not in result.stderr


def test_a_layer_without_weights_is_refused_by_what_is_written_for_dense_layers() -> None:
    from dataclasses import dataclass, replace

    from backprop_cli.errors import ConfigError
    from backprop_cli.layout.matrix import dense_only
    from backprop_cli.layout.notebook import check
    from backprop_cli.layout.torch_script import script

    @dataclass(frozen=True)
    class Standalone:  # what issue 14's layer types look like here: a name, no weights
        name: str
        activation: str = "relu"

    spec, _ = load("two_layer_relu", None)
    dense_only(spec, "the matrix view", "--view")  # dense layers pass
    mixed = replace(spec, layers=(spec.layers[0], Standalone("r"), spec.layers[1]))  # type: ignore[arg-type]
    for refuse in (
        lambda: dense_only(mixed, "the matrix view", "--view"),
        lambda: check(mixed, Filter()),
        lambda: script(mixed, Filter()),
    ):
        with pytest.raises(ConfigError, match="is written for dense layers; layer r has no weights"):
            refuse()
