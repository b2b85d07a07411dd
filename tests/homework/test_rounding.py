"""Rounding protocols: a round-as-you-go key, and a hand-rounded worked solution graded against it."""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.homework.answers import DEFAULT_TOLERANCE
from backprop_cli.homework.rounding import Rounding, banded, round_as_you_go
from tests.homework.test_ecf import sheet, table_of


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def r4(x: float) -> float:
    """To 4 decimals as by hand: half away from zero, on the decimal the arithmetic gives."""
    return float(Decimal(f"{x:.15g}").quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def hand_rounded() -> dict[str, float]:
    """Mazur's 2-2-2 worked by hand, every intermediate rounded to 4 decimals before it is used."""
    z1, z2 = r4(0.15 * 0.05 + 0.20 * 0.10 + 0.35), r4(0.25 * 0.05 + 0.30 * 0.10 + 0.35)  # 0.3775, 0.3925
    h1, h2 = r4(sigmoid(z1)), r4(sigmoid(z2))  # 0.5933, 0.5969
    o1 = r4(0.40 * h1 + 0.45 * h2 + 0.60)  # 1.1059
    o2 = r4(0.50 * h1 + 0.55 * h2 + 0.60)  # 1.2249
    a1, a2 = r4(sigmoid(o1)), r4(sigmoid(o2))  # 0.7514, 0.7729
    t1, t2 = r4(0.5 * (a1 - 0.01) ** 2), r4(0.5 * (a2 - 0.99) ** 2)  # 0.2748, 0.0236
    d1, d2 = r4(a1 - 0.01), r4(a2 - 0.99)  # ∂E/∂out: 0.7414, -0.2171
    s1, s2 = r4(a1 * (1 - a1)), r4(a2 * (1 - a2))  # σ′: 0.1868, 0.1755
    delta1, delta2 = r4(d1 * s1), r4(d2 * s2)  # 0.1385, -0.0381
    dw11 = r4(delta1 * h1)  # 0.0822
    return {
        "h.z1": z1,
        "h.z2": z2,
        "h.a1": h1,
        "h.a2": h2,
        "o.z1": o1,
        "o.z2": o2,
        "o.a1": a1,
        "o.a2": a2,
        "loss.term1": t1,
        "loss.term2": t2,
        "loss": r4(t1 + t2),
        "o.dL_da1": d1,
        "o.dL_da2": d2,
        "o.da_dz1": s1,
        "o.da_dz2": s2,
        "o.delta1": delta1,
        "o.delta2": delta2,
        "o.dL_dw1_1": dw11,
        "h.dL_da1": r4(delta1 * 0.40 + delta2 * 0.50),
        "o.w1_1.new": r4(0.40 - 0.5 * dw11),
    }


def test_the_hand_rounded_solution_is_the_printed_one() -> None:
    got = hand_rounded()
    assert (got["o.z1"], got["o.a1"], got["loss.term2"], got["o.delta2"]) == (1.1059, 0.7514, 0.0236, -0.0381)


def test_a_round_as_you_go_key_accepts_the_hand_rounded_solution_and_full_precision_shows_where_it_differs(
    tmp_path: Path,
) -> None:
    key = tmp_path / "key.yaml"
    assert invoke("answers", "classic_2_2_2", "--round-as-you-go", "4", "-o", str(key)).exit_code == 0
    assert "rounding: {decimals: 4}" in key.read_text(encoding="utf-8")
    student = sheet(tmp_path / "s.yaml", "classic_2_2_2", hand_rounded())
    result = invoke("check", str(student), "--key", str(key), "--format", "json", *only(hand_rounded()))
    doc = json.loads(result.stdout)
    assert result.exit_code == 0, [(a["name"], a["verdict"]) for a in doc["answers"] if a["verdict"] != "correct"]
    assert doc["counts"]["correct"] == len(hand_rounded()) and doc["rounding"] == {"decimals": 4}
    full = tmp_path / "full.yaml"
    assert invoke("answers", "classic_2_2_2", "-o", str(full)).exit_code == 0
    doc = json.loads(
        invoke("check", str(student), "--key", str(full), "--format", "json", *only(hand_rounded())).stdout
    )
    differs = {a["name"] for a in doc["answers"] if a["verdict"] != "correct"}
    assert "loss.term2" in differs  # 0.0236 for 0.0235620 …: 0.16% off, past the default 0.1%
    assert "h.z1" not in differs and "o.a1" not in differs


def only(names: dict[str, float]) -> list[str]:
    return [arg for name in names for arg in ("--only", name)]


def test_the_key_is_the_chain_recomputed_from_rounded_numbers() -> None:
    table = table_of("classic_2_2_2")
    rounded = round_as_you_go(table, Rounding("decimals", 4))
    hand = hand_rounded()
    assert {n: rounded[n].value for n in hand} == hand
    assert rounded["o.delta1"].written == "0.7414 × 0.1868"  # the formula shows the rounded factors
    assert rounded["i1"].value == table["i1"].value  # given numbers as handed out


def test_significant_digits_and_the_band_of_an_answer_written_with_more_digits() -> None:
    three = Rounding("significant", 3)
    assert three(0.000874307) == 0.000874 and three(-24.51) == -24.5 and three(0.0) == 0
    assert three.unit(0.000874) == pytest.approx(1e-6)
    four = Rounding("decimals", 4)
    assert four(0.6 - 0.5 * 0.1385) == 0.5308  # 0.53075 by hand (0.5307499… in float64): half up
    assert four(-0.53075) == -0.5308 and four(2.5e-5) == 0.0 and four(5e-5) == 0.0001
    tolerance = banded(DEFAULT_TOLERANCE, Rounding("decimals", 4))
    assert tolerance.accepts(0.000874, 0.0009)  # rounds to the key's 0.0009: what the protocol asks
    assert not DEFAULT_TOLERANCE.accepts(0.000874, 0.0009)
    assert not tolerance.accepts(0.00084, 0.0009)


@pytest.mark.parametrize("rounding", ["rounding: {decimals: 0}", "rounding: {digits: 4}", "rounding: 4"])
def test_a_bad_rounding_protocol_is_located_bad_input(tmp_path: Path, rounding: str) -> None:
    path = sheet(tmp_path / "s.yaml", "classic_2_2_2", {"h.z1": 0.3775}, rounding)
    result = invoke("check", str(path))
    assert result.exit_code == 2 and ":2:" in result.stderr and "rounding" in result.stderr, result.stderr


def test_significant_needs_round_as_you_go() -> None:
    result = invoke("answers", "classic_2_2_2", "--significant")
    assert result.exit_code == 2 and "--significant" in result.stderr


def test_an_exact_key_accepts_only_exact_answers(tmp_path: Path) -> None:
    # pytorch_snippet: w_new = 2 − 0.01 × (−24) = 2.24 = 56/25; loss after = (2.24·3 − 10)² = 6724/625
    key = tmp_path / "key.yaml"
    assert invoke("answers", "pytorch_snippet", "--exact", "-o", str(key)).exit_code == 0
    text = key.read_text(encoding="utf-8")
    assert "rounding: exact" in text and "out.w1_1.new: 56/25" in text and "loss.after: 6724/625" in text
    assert invoke("check", str(key)).exit_code == 0
    for given, verdict in (("56/25", "correct"), ("2.24", "correct"), ("2.2400001", "wrong"), ("112/50", "correct")):
        student = sheet(tmp_path / "s.yaml", "pytorch_snippet", {"out.w1_1.new": given})
        doc = json.loads(invoke("check", str(student), "--key", str(key), "--format", "json").stdout)
        answer = next(a for a in doc["answers"] if a["name"] == "out.w1_1.new")
        assert answer["verdict"] == verdict, given
        assert doc["rounding"] == "exact"
    full = tmp_path / "full.yaml"
    assert invoke("answers", "pytorch_snippet", "-o", str(full)).exit_code == 0
    doc = json.loads(invoke("check", str(student), "--key", str(full), "--format", "json").stdout)
    assert next(a for a in doc["answers"] if a["name"] == "out.w1_1.new")["verdict"] == "correct"  # within 0.1%


def test_exact_keys_need_rational_ops_and_one_protocol() -> None:
    result = invoke("answers", "classic_2_2_2", "--exact")
    assert result.exit_code == 2 and result.stderr.startswith("--exact: the sigmoid activations of layers h and o")
    result = invoke("answers", "pytorch_snippet", "--exact", "--round-as-you-go", "4")
    assert result.exit_code == 2 and "two protocols" in result.stderr
