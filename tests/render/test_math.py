"""Math for the document formats: plain trace formulas as LaTeX and MathML, and the chain rule tree."""

from __future__ import annotations

from backprop_cli.layout.math import Frac, Group, Mi, Mn, Scripts, chain_rule, formula, row_equation
from backprop_cli.layout.rows import Row
from backprop_cli.render.math import latex, mathml


def test_formula_tokens() -> None:
    tree = formula("h.w1_1·x1 + h.b1")
    assert tree == Group(
        (Mi("h.w1_1", mono=True), *formula("·").items, Mi("x1", mono=True), *formula("+").items, Mi("h.b1", mono=True))
    )
    assert formula("1e-5") == Group((Mn("1e-5"),))
    assert formula("z_j") == Group((Scripts(Mi("z"), Mi("j")),))


def test_latex_of_trace_formulas() -> None:
    assert latex(formula("(0.675 − 1)²")) == "(0.675 - 1)^{2}"
    assert latex(formula("max(0, hidden.z1)")) == r"\max (0,\mathtt{hidden.z1})"
    assert latex(formula("1 if 0.475 > 0 else 0")) == r"1\text{ if }0.475 > 0\text{ else }0"
    assert latex(formula("η × δ")).split() == [r"\eta", r"\times", r"\delta"]
    assert latex(formula("|a − y| / 2")).strip() == r"\vert a - y \vert /2"


def test_mathml_of_a_fraction_and_scripts() -> None:
    tree = Frac(Group((Mi("∂"), Mi("L"))), Scripts(Mi("w"), Mi("ji"), Mi("in")))
    assert mathml(tree) == (
        "<mfrac><mrow><mi>∂</mi><mi>L</mi></mrow>"
        "<mrow><msubsup><mrow><mi>w</mi></mrow><mrow><mi>ji</mi></mrow><mrow><mi>in</mi></mrow></msubsup></mrow></mfrac>"
    )
    assert mathml(formula("a < b")) == "<mi>a</mi><mo>&lt;</mo><mi>b</mi>"


def test_row_equation_skips_repeats() -> None:
    row = Row("out.dL_db1", "out.delta1", "-0.65", "-0.65")
    assert latex(row_equation(row)) == r"\mathtt{out.dL\_db1} = \mathtt{out.delta1} = -0.65"


def test_chain_rule_of_a_hidden_sigmoid_layer() -> None:
    equations = [latex(eq) for eq in chain_rule("h", above="o", activation="sigmoid", slope="0.01", has_bias=True)]
    assert equations == [
        r"\frac{\partial L}{\partial a_{j}} = \sum_{k}\delta_{k}^{\text{o}} \cdot w_{kj}^{\text{o}}",
        r"\delta_{j} = \frac{\partial L}{\partial z_{j}} = \frac{\partial L}{\partial a_{j}} \cdot "
        r"\frac{\partial a_{j}}{\partial z_{j}}",
        r"\frac{\partial a_{j}}{\partial z_{j}} = a_{j} \cdot (1 - a_{j})",
        r"\frac{\partial L}{\partial w_{ji}^{\text{h}}} = \frac{\partial L}{\partial z_{j}} \cdot "
        r"\frac{\partial z_{j}}{\partial w_{ji}^{\text{h}}} = \delta_{j} \cdot a_{i}^{\text{in}}",
        r"\frac{\partial L}{\partial b_{j}^{\text{h}}} = \delta_{j}",
    ]


def test_mathml_prose_keeps_its_spaces() -> None:
    from backprop_cli.layout.math import formula
    from backprop_cli.render.math import mathml

    # browsers drop an mtext's outer spaces: relu's derivative read "1ifz > 0else0"
    assert "<mtext>\xa0if\xa0</mtext>" in mathml(formula("1 if z_j > 0 else 0"))
