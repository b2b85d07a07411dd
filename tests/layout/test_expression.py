"""The expression layout: sections of rows with names, formulas, numbers written out, and exact fractions."""

from __future__ import annotations

from fractions import Fraction

from backprop_cli.graph.engine import ExprTrace, compute
from backprop_cli.layout.expression import expr_sections
from backprop_cli.layout.rows import PHASES, Row, Section
from backprop_cli.loading.expression import expression_from_option
from backprop_cli.model.numbers import NumberFormat

FMT = NumberFormat(6)


def sections(program: str, *sets: str, exact: bool = False) -> list[Section]:
    return list(expr_sections(traced(program, *sets, exact=exact), FMT))


def traced(program: str, *sets: str, exact: bool = False) -> ExprTrace:
    return compute(expression_from_option(program, list(sets)), exact=exact)


def by_name(found: list[Section]) -> dict[str, Row]:
    return {row.name: row for s in found for row in s.rows}


def test_sections_in_reading_order() -> None:
    found = sections("q = x + y\nf = q * z", "x=-2", "y=5", "z=-4")
    assert [s.title for s in found] == [
        "Inputs",
        "Forward · node by node",
        "Backward · f = q × z",
        "Backward · q = x + y",
        "Result · f and its gradients by the inputs",
    ]
    assert all(s.phase in PHASES for s in found)
    rows = by_name(found)
    assert rows["q"] == Row("q", "x + y", "(-2) + 5", "3")
    assert rows["grad.f"] == Row("grad.f", "∂f/∂f", "", "1")
    assert rows["df_dq"] == Row("df_dq", "z", "(-4)", "-4")
    assert rows["grad.q.via.f"] == Row("grad.q.via.f", "grad.f × df_dq", "1 × (-4)", "-4")
    assert rows["grad.q"] == Row("grad.q", "grad.q.via.f", "-4", "-4")
    assert rows["grad.z"] == Row("grad.z", "grad.z.via.f", "3", "3")


def test_every_named_value_is_shown_with_its_value() -> None:
    t = traced("a = x * y\nb = x * x\nf = a + b\ng = exp(a) / b", "x=3", "y=-2")
    rows = by_name(list(expr_sections(t, FMT)))
    for name, value in t.named_values():
        assert rows[name].value == FMT(value), name


def test_local_derivative_formulas_of_every_operation() -> None:
    program = "\n".join(
        [
            "a = x / y",
            "b = x ** 3",
            "c = -x",
            "d = exp(x)",
            "e = log(y)",
            "g = sqrt(y)",
            "h = abs(x)",
            "i = tanh(x)",
            "j = sigmoid(x)",
            "k = relu(x)",
            "m = max(x, y)",
            "f = a + b - c + d + e + g + h + i + j + k + m",
        ]
    )
    rows = by_name(sections(program, "x=2", "y=4"))
    assert (rows["da_dx"].formula, rows["da_dx"].written) == ("1 / y", "1 / 4")
    assert (rows["da_dy"].formula, rows["da_dy"].written, rows["da_dy"].value) == ("−x / y²", "−2 / 4²", "-0.125")
    assert (rows["db_dx"].formula, rows["db_dx"].written, rows["db_dx"].value) == ("3·x^2", "3·2^2", "12")
    assert rows["dc_dx"].formula == "−1"
    assert rows["dd_dx"].formula == "d"  # ∂exp(x)/∂x = exp(x), the node's own value
    assert (rows["de_dy"].formula, rows["de_dy"].value) == ("1 / y", "0.25")
    assert (rows["dg_dy"].formula, rows["dg_dy"].written, rows["dg_dy"].value) == ("1 / (2·g)", "1 / (2·2)", "0.25")
    assert rows["dh_dx"].formula == "sign(x)"
    assert rows["di_dx"].formula == "1 − i²"
    assert rows["dj_dx"].formula == "j·(1 − j)"
    assert (rows["dk_dx"].formula, rows["dk_dx"].written) == ("1 if x > 0 else 0", "1 if 2 > 0 else 0")
    assert (rows["dm_dy"].formula, rows["dm_dy"].value) == ("1 if y = m else 0 (ties share 1)", "1")


def test_exact_rows_show_fractions() -> None:
    found = sections("f = 24 / (7 * x)", "x=1", exact=True)
    forward = by_name([s for s in found if s.title.startswith("Forward")])
    assert (forward["f"].written, forward["f"].value) == ("24 / 7", "24/7")
    rows = by_name(found)
    assert rows["df_dt1"].written == "−24 / 7²"
    assert rows["grad.x"].value == "-24/7"
    assert rows["grad.x.via.t1"].written == "(-24/49) × 7"


def test_number_format_writes_fractions() -> None:
    assert FMT(Fraction(-24, 7)) == "-24/7"
    assert FMT(Fraction(3)) == "3"
    assert FMT.operand(Fraction(3, 7)) == "(3/7)"  # so 2 / (3/7) is not read as 2 / 3 / 7
    assert FMT.operand(Fraction(-2)) == "(-2)"
    assert FMT.operand(0.5) == "0.5"  # floats unchanged
