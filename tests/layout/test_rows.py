"""The shared layout: one row per number, formula in names, the same formula with numbers."""

from __future__ import annotations

import re

from backprop_cli.layout.rows import step_sections
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.nn.engine import run
from tests.nn.test_engine import mazur, single
from tests.strategies import make_spec


def rows_by_name(spec, precision=9):  # type: ignore[no-untyped-def]
    rec = next(run(spec))
    return {row.name: row for section in step_sections(rec, NumberFormat(precision)) for row in section.rows}


def test_every_number_of_the_classic_example_is_written_out() -> None:
    rows = rows_by_name(mazur())
    assert rows["h.z1"].written == "0.15·0.05 + 0.2·0.1 + 0.35"
    assert rows["h.z1"].value == "0.3775"
    assert rows["o.delta1"].formula == "o.dL_da1 × o.da_dz1"
    assert rows["h.dL_da1"].formula == "o.delta1·o.w1_1 + o.delta2·o.w2_1"
    assert rows["o.w1_1.new"].written == "0.4 − 0.5 × 0.0821670406"
    assert rows["o.w1_1.new"].value == "0.35891648"
    assert rows["loss"].value == "0.298371109"


def test_written_arithmetic_reproduces_the_value() -> None:
    # evaluate each written-out product/sum/difference: a student doing it by hand gets the value shown
    rows = rows_by_name(mazur(), precision=17)
    checked = 0
    for row in rows.values():
        text = row.written.replace("·", "*").replace("×", "*").replace("−", "-")
        if not text or re.search(r"[^0-9eE.+\-*/() ]", text):
            continue  # formulas with functions (σ, e^) are checked by the engine tests
        assert abs(eval(text) - float(row.value)) <= 1e-12 * max(1.0, abs(float(row.value))), row.name
        checked += 1
    assert checked > 30


def test_names_are_qualified_by_sample_and_step_when_there_are_several() -> None:
    spec = make_spec([2, 2, 1], ["tanh", "identity"], "mse", seed=1, rows=2, batch_size=2, steps=2)
    rec = next(run(spec))
    names = {row.name for s in step_sections(rec, NumberFormat()) for row in s.rows}
    assert "step1/sample1/layer1.z1" in names and "step1/sample2/layer1.z1" in names
    assert "step1/layer1.dL_dw1_1" in names  # the batch mean
    assert "step1/sample2/layer1.dL_dw1_1" in names  # one sample's contribution
    assert "step1/loss" in names and "step1/loss.after" in names


def test_combined_gradient_rows_show_the_chain_beside_the_stable_delta() -> None:
    spec = make_spec([2, 3], ["softmax"], "cross_entropy", seed=4, rows=1)
    rows = rows_by_name(spec)
    assert rows["layer1.chain1"].value == rows["layer1.delta1"].value
    assert rows["layer1.delta1"].formula == "layer1.a1·Σy − y1"
    assert "layer1.da1_dz2" in rows


def _evaluate(written: str) -> float:
    """A written-out formula evaluated the way a student would, from the numbers it shows."""
    import math

    text = written.replace("·", "*").replace("×", "*").replace("−", "-").replace("e^", "math.exp")
    text = re.sub(r"\|([^|]*)\|", r"abs(\1)", text).replace("log(", "math.log(")
    return float(eval(text, {"math": math, "max": max, "abs": abs}))


def sections_of(spec):  # type: ignore[no-untyped-def]
    return {s.title.split(" · ")[0]: s for s in step_sections(next(run(spec)), NumberFormat())}


def test_a_saturated_sigmoid_shows_computable_rows_and_says_why_the_chain_is_undefined() -> None:
    # σ(800) is exactly 1 in float64: −log(1 − a) would be log 0 and ∂L/∂a = 1/(1 − a) a division by zero
    spec = single([[800.0]], [0.0], [1.0], [0.0], loss="bce", activation="sigmoid")
    rows = rows_by_name(spec, precision=6)
    term = rows["loss.term1"]
    assert term.formula == "(max(out.z1, 0) − out.z1·y1 + log(1 + e^(−|out.z1|))) / 1"
    assert term.value == "800" and _evaluate(term.written) == 800.0  # the row can be checked by hand
    assert rows["out.dL_da1"].value == "∞" and rows["out.chain1"].written == "∞ × 0"
    assert rows["out.chain1"].value == "undefined"  # not "nan" passed off as a number
    assert rows["out.delta1"].value == "1"  # the stable (a − y)/K, the chain's limit
    loss, backward = sections_of(spec)["Loss (bce)"], sections_of(spec)["Backward"]
    assert "loss.term1 comes from the logit out.z1" in loss.note and "out.a1 shows as 1" in loss.note
    assert "out.dL_da1 is not finite in float64 (a saturated) and not used" in loss.note
    assert rows["out.dL_da1"].written == "−(0·(1 + e^(−800)) − (1 − 0)·(1 + e^800)) / 1"  # e^800 overflows
    assert "out.chain1 is undefined here (a saturated" in backward.note


def test_an_output_that_only_shows_as_1_gets_dl_da_written_from_z_so_it_can_be_recomputed() -> None:
    # σ(15) = 0.99999969 shows as 1 at 6 digits: −(0/1 − 1/(1 − 1)) could not give the value shown
    rows = rows_by_name(single([[15.0]], [0.0], [1.0], [0.0], loss="bce", activation="sigmoid"), precision=6)
    grad = rows["out.dL_da1"]
    assert grad.formula == "−(y1·(1 + e^(−out.z1)) − (1 − y1)·(1 + e^out.z1)) / 1"
    assert abs(_evaluate(grad.written.replace("e^15", "e^(15)")) - 3269018.37) < 0.01 and grad.value == "3.26902e6"
    assert rows_by_name(single([[15.0]], [0.0], [1.0], [0.0], loss="bce", activation="sigmoid"), precision=17)[
        "out.dL_da1"
    ].formula.startswith("−(y1 / out.a1")  # at 17 digits a shows as 0.99999969…: the textbook form works


def test_a_saturated_softmax_writes_the_cross_entropy_term_from_the_logits() -> None:
    spec = single([[-800.0], [0.0]], [0.0, 0.0], [1.0], [1.0, 0.0], loss="cross_entropy", activation="softmax")
    rows = rows_by_name(spec, precision=6)
    term = rows["loss.term1"]
    assert term.formula == "−y1·(out.z1 − log(e^out.z1 + e^out.z2))"
    assert term.written == "−1·((-800) − log(e^(-800) + e^0))"
    assert term.value == "800" and _evaluate(term.written.replace("e^0", "e^(0)")) == 800.0
    assert rows["loss.term2"].formula == "−y2·log out.a2"  # not saturated where y = 0: the textbook form
    assert rows["out.chain1"].value == rows["out.chain2"].value == "undefined"
    assert "out.chain1, out.chain2 are undefined" in sections_of(spec)["Backward"].note


def test_unsaturated_outputs_keep_the_textbook_loss_rows() -> None:
    spec = single([[0.5]], [0.0], [1.0], [0.0], loss="bce", activation="sigmoid")
    rows = rows_by_name(spec)
    assert rows["loss.term1"].formula == "−[y1·log out.a1 + (1 − y1)·log(1 − out.a1)] / 1"
    assert rows["out.chain1"].value == rows["out.delta1"].value
    assert "logit" not in sections_of(spec)["Loss (bce)"].note
