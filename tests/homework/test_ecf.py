"""Error carried forward: answers right from the student's own upstream answers, and the guard against gaming."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.cli.names import compute_values, load_program
from backprop_cli.homework import ecf
from backprop_cli.homework.answers import load_answers
from backprop_cli.homework.check import check_answers
from backprop_cli.homework.values import NamedValue
from backprop_cli.model.filters import Filter
from backprop_cli.model.numbers import NumberFormat
from tests.homework import homework_examples


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def table_of(config: str, step: int = 1) -> dict[str, NamedValue]:
    spec, _ = load_program(config)
    return {v.name: v for v in compute_values(spec, NumberFormat(), Filter(steps=frozenset({step})))}


def carried(table: Mapping[str, NamedValue], slips: Mapping[str, float]) -> dict[str, float]:
    """A sheet with ``slips`` and every other computed number worked out from them (the rest consistent).

    Worked in dependency order, not the trace's: a batch norm's per-sample x̂ is shown in its sample's
    table, before the batch's mean and variance it is computed from (which need every sample's z)."""
    values: dict[str, float] = {}

    def work(name: str) -> float:
        if name in values:
            return values[name]
        v = table[name]
        q = v.quantity
        if name in slips:
            values[name] = slips[name]
        elif q.form.rule is None:  # handed out; a later step's parameter is the update before it
            values[name] = work(q.origin) if q.origin is not None and q.origin in table else v.value
        else:
            for slot in q.form.slots:  # the names it is computed from (q.factors, without finding their order)
                if isinstance(slot, str) and slot in table:
                    work(slot)
            values[name] = float(q.recompute(values))
        return values[name]

    for name in table:
        work(name)
    return values


def sheet(path: Path, config: str, values: Mapping[str, float | str | None], extra: str = "") -> Path:
    lines = [f"config: {json.dumps(config)}", *([extra] if extra else []), "answers:"]
    lines += [
        f"  {json.dumps(n)}: {'' if v is None else v if isinstance(v, str) else repr(v)}" for n, v in values.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def report(*args: str) -> tuple[int, dict[str, Any]]:
    result = invoke("check", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


# pytorch_snippet: w = 2, x = 3, target 10, squared error, η = 0.01. A student who writes z = 7 (not 6)
# and carries it on correctly: a = 7, term = (7 − 10)² = 9, loss 9, ∂L/∂a = 2·(7 − 10) = −6, ∂a/∂z = 1
# (right), δ = −6, ∂L/∂w = −6 × 3 = −18, w_new = 2 − 0.01 × (−18) = 2.18. One of those merely copies the
# slip (a = z): no credit carried forward for it; loss = term and δ = ∂L/∂a × 1 copy numbers that are
# themselves right from the student's values (term, ∂L/∂a): the chain carried on, ECF.
COPIES = ("out.a1",)
SLIP = {
    "out.z1": 7,
    "out.a1": 7,
    "loss.term1": 9,
    "loss": 9,
    "out.dL_da1": -6,
    "out.da_dz1": 1,
    "out.delta1": -6,
    "out.dL_dw1_1": -18,
    "out.w1_1.new": 2.18,
}


def test_one_early_slip_is_the_first_wrong_step_and_the_rest_earns_ecf_credit(tmp_path: Path) -> None:
    path = sheet(tmp_path / "s.yaml", "pytorch_snippet", SLIP)
    code, doc = report(str(path))
    assert code == 1
    verdicts = {a["name"]: a["verdict"] for a in doc["answers"]}
    copies = dict.fromkeys(COPIES, "wrong")
    assert verdicts == {**dict.fromkeys(SLIP, "ecf"), **copies, "out.z1": "wrong", "out.da_dz1": "correct"}
    assert doc["first_wrong_step"] == "out.z1"
    assert doc["ecf"] == {"credit": 0.5}
    assert doc["score"] == 1 + 0.5 * 6 and doc["max_score"] == 9
    assert doc["counts"] == {"correct": 1, "ecf": 6, "wrong": 2, "missing": 0, "invalid": 0}
    work = {a["name"]: a.get("working") for a in doc["answers"]}
    assert work["out.dL_dw1_1"]["yours"] == {"out.delta1": -6}
    assert work["out.dL_dw1_1"]["recomputed"] == -18
    assert work["out.dL_dw1_1"]["text"] == (
        "with your out.delta1 = -6: out.dL_dw1_1 = out.delta1 × x = (-6) × 3 = -18; you wrote -18 ✓"
    )
    text = invoke("check", str(path)).output
    assert "First wrong step: out.z1; 6 answers after it follow from your own values" in text
    assert "correct given your values" in text
    assert "Score: 4/9 (44%) · 1 correct, 6 correct given your values, 2 wrong, 0 missing of 9 answers" in text


@pytest.mark.parametrize(("credit", "score"), [("0", 1.0), ("1", 7.0), ("0.25", 2.5)])
def test_the_key_sets_the_ecf_credit(tmp_path: Path, credit: str, score: float) -> None:
    key = sheet(tmp_path / "key.yaml", "pytorch_snippet", dict.fromkeys(SLIP, None), f"ecf: {{credit: {credit}}}")
    student = sheet(tmp_path / "s.yaml", "pytorch_snippet", SLIP, "ecf: {credit: 1}")  # the student's is ignored
    code, doc = report(str(student), "--key", str(key))
    assert code == 1 and doc["score"] == score and doc["ecf"] == {"credit": float(credit)}


@pytest.mark.parametrize("policy", ["ecf: {credit: 2}", "ecf: {credit: true}", "ecf: 0.5", "ecf: {share: 1}"])
def test_a_bad_ecf_policy_is_located_bad_input(tmp_path: Path, policy: str) -> None:
    path = sheet(tmp_path / "s.yaml", "pytorch_snippet", SLIP, policy)
    result = invoke("check", str(path))
    assert result.exit_code == 2
    assert re.match(r"\S+s\.yaml:2:\d+: ecf(\.\w+)?: .*expected", result.stderr), result.stderr


@pytest.mark.parametrize(
    ("z", "why"),
    [(0, "zero where the key is not"), (600, "a hundred times the key"), (0.5, "a twelfth of the key")],
)
def test_an_implausible_factor_never_carries(tmp_path: Path, z: float, why: str) -> None:
    values = {**SLIP, "out.z1": z, "out.a1": z}
    path = sheet(tmp_path / "s.yaml", "pytorch_snippet", values)
    _, doc = report(str(path))
    verdicts = {a["name"]: a["verdict"] for a in doc["answers"]}
    assert verdicts["out.z1"] == "wrong", why
    assert verdicts["out.a1"] == "wrong", why  # a = z from an implausible z: no credit
    assert doc["first_wrong_step"] == "out.z1"


def test_a_chain_of_consistent_slips_carries_on_past_an_order_of_magnitude() -> None:
    """A factor far from the key still stands in when it follows from the student's own values."""
    assert ecf.plausible(600.0, 6.0, "ecf")
    assert not ecf.plausible(600.0, 6.0, "wrong")
    assert ecf.plausible(0.0, 6.0, "ecf") and not ecf.plausible(0.0, 6.0, "wrong")
    assert ecf.plausible(-6.0, 6.0, "wrong")  # a sign slip is a plausible attempt
    assert not ecf.plausible(3.0, 0.0, "wrong")


def test_a_sheet_of_random_numbers_gets_no_ecf_credit(tmp_path: Path) -> None:
    table = table_of("classic_2_2_2")
    rng = random.Random(16)
    values = {n: rng.uniform(-1, 1) for n, v in table.items() if not v.is_given}
    _, doc = report(str(sheet(tmp_path / "s.yaml", "classic_2_2_2", values)))
    assert doc["counts"]["ecf"] == 0 and doc["counts"]["wrong"] == len(values)


def test_an_answer_that_copies_a_wrong_factor_earns_no_ecf_and_says_why(tmp_path: Path) -> None:
    path = sheet(tmp_path / "s.yaml", "pytorch_snippet", SLIP)
    _, doc = report(str(path), "--reveal", "wrong")
    answers = {a["name"]: a for a in doc["answers"]}
    assert answers["out.a1"]["verdict"] == "wrong"
    assert answers["out.a1"]["working"]["text"] == (
        "with your out.z1 = 7: out.a1 = out.z1 = 7; you wrote 7, your out.z1 again: "
        "a copy earns no credit carried forward"
    )
    # a copy still stands in for what follows: (7 − 10)² = 9 is worked from it
    assert answers["loss.term1"]["verdict"] == "ecf"


def test_a_copy_right_from_the_student_s_values_stands_in_past_an_order_of_magnitude(tmp_path: Path) -> None:
    """z = 55 (key 6): ∂L/∂a = 2·(55 − 10) = 90 is right from the student's a but more than ten times the
    key's −8, and δ = 90 × 1 copies it (ECF: it copies a number right from the student's values);
    ∂L/∂w = 90 × 3 = 270 is judged from that δ."""
    table = table_of("pytorch_snippet")
    values = carried(table, {"out.z1": 55.0})
    assert values["out.delta1"] == 90 and values["out.dL_dw1_1"] == 270
    _, doc = report(str(sheet(tmp_path / "s.yaml", "pytorch_snippet", {n: values[n] for n in SLIP})))
    verdicts = {a["name"]: a["verdict"] for a in doc["answers"]}
    assert verdicts["out.dL_da1"] == "ecf" and verdicts["out.delta1"] == "ecf"
    assert verdicts["out.dL_dw1_1"] == "ecf" and verdicts["out.a1"] == "wrong"  # a = z copies the slip


def slips(verdicts: Mapping[str, Any]) -> list[str]:
    """The wrong answers that are not copies of a wrong factor (see ecf's docstring)."""
    return [
        v.name for v in verdicts.values() if v.verdict == "wrong" and (v.working is None or v.working.copies is None)
    ]


@pytest.mark.parametrize("name", ["classic_2_2_2", "two_layer_relu", "xor", "pytorch_snippet", "deep_relu_he"])
@pytest.mark.parametrize("constant", [1.0, 0.5, 0.1, -1.0])
def test_a_sheet_of_one_constant_gets_no_ecf_credit(name: str, constant: float, tmp_path: Path) -> None:
    table = table_of(name)
    values = {n: constant for n, v in table.items() if not v.is_given}
    _, doc = report(str(sheet(tmp_path / "s.yaml", name, values)))
    assert doc["counts"]["ecf"] == 0, [a["name"] for a in doc["answers"] if a["verdict"] == "ecf"]


def test_a_few_answers_copying_each_other_get_no_ecf_credit(tmp_path: Path) -> None:
    """The reviewer's sheet: wrong deltas and bias gradients that are the same numbers (∂L/∂b = δ)."""
    values = {"o.delta1": 0.5, "o.delta2": 0.1, "o.dL_db1": 0.5, "o.dL_db2": 0.1}
    _, doc = report(str(sheet(tmp_path / "s.yaml", "classic_2_2_2", values)))
    assert doc["counts"] == {"correct": 0, "ecf": 0, "wrong": 4, "missing": 0, "invalid": 0}
    assert doc["first_wrong_step"] == "o.delta1"


def test_invalid_answers_are_never_factors() -> None:
    table = table_of("pytorch_snippet")

    def accepts(name: str, given: float, expected: float) -> bool:
        return abs(given - expected) <= 1e-3 * abs(expected)

    given: dict[str, float | None] = {**SLIP, "out.z1": None}
    verdicts, _ = ecf.judge(list(SLIP), given, frozenset({"out.z1"}), table, accepts)
    assert verdicts["out.z1"] == "invalid" and verdicts["out.a1"] == "wrong"


def network_examples() -> list[str]:
    return homework_examples()


@pytest.mark.parametrize("name", network_examples())
def test_every_network_example_names_the_first_wrong_step_and_carries_the_rest(name: str, tmp_path: Path) -> None:
    table = table_of(name)
    computed = [n for n, v in table.items() if not v.is_given]
    first = next(n for n in computed if table[n].value != 0)  # the first weighted sum, as a rule
    slipped = table[first].value * 1.5  # within an order of magnitude: a plausible attempt
    values = carried(table, {first: slipped})
    asked = {n: values[n] for n in computed}
    path = sheet(tmp_path / "s.yaml", name, asked)
    result = check_answers(load_answers(path), table, name, "")
    assert result.first_wrong == first
    verdicts = {v.name: v.verdict for v in result.verdicts}
    by_name = {v.name: v for v in result.verdicts}
    assert verdicts[first] == "wrong"
    assert set(verdicts.values()) <= {"correct", "ecf", "wrong"}
    downstream = [n for n in computed if first in table[n].quantity.factors]
    assert downstream and all(n not in slips(by_name) for n in downstream), [(n, verdicts[n]) for n in downstream]
    # something is carried: an ECF answer, or a copy (relu_as_a_layer: a linear a = z, and r.z = h.a)
    assert result.count("ecf") + result.count("wrong") > 1
    assert slips(by_name) == [first]  # only the slip: everything after it follows from it (or copies it)


def test_gradescope_carries_the_ecf_verdicts_and_partial_scores(tmp_path: Path) -> None:
    path = sheet(tmp_path / "s.yaml", "pytorch_snippet", SLIP)
    result = invoke("check", str(path), "--format", "gradescope")
    doc = json.loads(result.stdout)
    assert doc["score"] == 4 and doc["max_score"] == 9
    tests = {t["name"]: t for t in doc["tests"]}
    assert tests["out.dL_dw1_1"]["score"] == 0.5 and tests["out.dL_dw1_1"]["status"] == "failed"
    assert "given `-18`: **correct given your values**" in tests["out.dL_dw1_1"]["output"]
    assert "with your out.delta1 = -6: out.dL_dw1_1 = out.delta1 × x" in tests["out.dL_dw1_1"]["output"]
    assert tests["out.delta1"]["score"] == 0.5  # a copy of ∂L/∂a, itself right from the student's values
    assert tests["out.a1"]["score"] == 0  # a copy of the slip z
    assert "the first wrong step" in tests["out.z1"]["output"]
    assert "First wrong step: out.z1" in doc["output"]


def test_under_reveal_never_a_recomputation_with_a_key_value_in_it_is_not_shown(tmp_path: Path) -> None:
    table = table_of("classic_2_2_2")
    values: dict[str, float | None] = dict(carried(table, {"o.dL_da1": table["o.dL_da1"].value * 1.5}))
    values["o.da_dz1"] = None  # δ from the key's ∂a/∂z would reveal it
    asked = {n: values[n] for n, v in table.items() if not v.is_given}
    path = sheet(tmp_path / "s.yaml", "classic_2_2_2", asked)
    _, doc = report(str(path))
    answers = {a["name"]: a for a in doc["answers"]}
    assert answers["o.dL_dw1_1"]["verdict"] == "ecf" and "working" in answers["o.dL_dw1_1"]
    assert answers["o.delta1"]["verdict"] == "ecf" and "working" not in answers["o.delta1"]
    assert "o.delta1: " not in invoke("check", str(path)).output
    _, doc = report(str(path), "--reveal", "wrong")
    text = {a["name"]: a for a in doc["answers"]}["o.delta1"]["working"]["text"]
    assert text.startswith("with your o.dL_da1 = 1.1") and text.endswith(" ✓")
    assert "o.delta1 = o.dL_da1 × o.da_dz1 = 1.1" in text


def test_a_slip_in_step_1_is_carried_into_step_2_through_the_student_s_own_update(tmp_path: Path) -> None:
    """single_neuron runs two steps: step 2's parameters are handed out as step 1's updates, so a step-2
    answer is judged from the student's own step-1 update (neuron.w1_1.new) even though the sheet does
    not list step2/neuron.w1_1 itself."""
    spec, _ = load_program("single_neuron")
    table = {v.name: v for v in compute_values(spec, NumberFormat())}
    slip = "step1/neuron.dL_dw1_1"
    values = carried(table, {slip: table[slip].value * 1.5})
    asked = {n: values[n] for n, v in table.items() if not v.is_given}
    result = check_answers(load_answers(sheet(tmp_path / "s.yaml", "single_neuron", asked)), table, "", "")
    verdicts = {v.name: v.verdict for v in result.verdicts}
    assert result.first_wrong == slip and slips({v.name: v for v in result.verdicts}) == [slip]
    assert verdicts["step2/neuron.z1"] == "ecf"
    working = next(v.working for v in result.verdicts if v.name == "step2/neuron.z1")
    assert working is not None and dict(working.yours) == {"step2/neuron.w1_1": values["step1/neuron.w1_1.new"]}


def test_one_answer_carried_forward_is_written_in_the_singular(tmp_path: Path) -> None:
    """∂L/∂w = −30 (key −8 × 3 = −24), then w_new = 2 − 0.01 × (−30) = 2.3 from it."""
    path = sheet(tmp_path / "s.yaml", "pytorch_snippet", {"out.dL_dw1_1": -30, "out.w1_1.new": 2.3})
    text = invoke("check", str(path)).output
    assert "First wrong step: out.dL_dw1_1; 1 answer after it follows from your own values" in text


@pytest.mark.parametrize("slip", ["out.delta1", "h1.a1"])
def test_one_slip_in_a_deep_network_is_one_wrong_answer_not_one_per_bias_gradient_below_it(slip: str) -> None:
    """What a TA marks: a slip in deep_plain's output δ (or its first activation) makes every δ below it
    right only from the student's values, and each layer's ∂L/∂b = δ copies such a δ: the chain carried
    on (ECF), as its δ is, not a wrong answer per neuron for the one slip. Only the slip and a copy of
    the slip itself (out.dL_db1 = the slipped out.delta1) are wrong. (Before: 38 and 22 wrong answers.)"""
    table = table_of("deep_plain")
    name = f"step1/sample1/{slip}"
    computed = [n for n, v in table.items() if not v.is_given]
    values = carried(table, {name: table[name].value * 1.5})

    def accepts(_: str, given: float, expected: float) -> bool:
        return abs(given - expected) <= 1e-3 * abs(expected) if expected else abs(given) < 1e-12

    verdicts, workings = ecf.judge(computed, {n: values[n] for n in computed}, frozenset(), table, accepts)
    wrong = [n for n, v in verdicts.items() if v == "wrong"]
    copy = "step1/sample1/out.dL_db1"
    assert wrong == ([name, copy] if slip == "out.delta1" else [name])
    if slip == "out.delta1":
        assert workings[copy].copies == name  # its working says it copies the slip
    # each sample's ∂L/∂b = δ follows its δ: ECF where the δ is, right where the slip left the δ right
    biases = {n: table[n].quantity.factors for n in computed if ".dL_db" in n and n != copy}
    copying = {n: factors[0] for n, factors in biases.items() if len(factors) == 1}
    assert copying and all(verdicts[n] == verdicts[delta] for n, delta in copying.items())
    assert sum(verdicts[n] == "ecf" for n in copying) > 10 and all(verdicts[n] != "wrong" for n in biases)
