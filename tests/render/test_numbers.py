from __future__ import annotations

import pytest

from backprop_cli.model.numbers import NumberFormat


@pytest.mark.parametrize(
    ("value", "precision", "text"),
    [
        (0.3775, 6, "0.3775"),
        (-24.0, 6, "-24"),
        (0.298371108760003, 9, "0.298371109"),
        (1e-05, 6, "1e-5"),
        (-0.0, 6, "0"),
        (123456789.0, 4, "1.235e8"),
        (float("inf"), 6, "∞"),
        (float("-inf"), 6, "-∞"),
        (float("nan"), 6, "undefined"),
    ],
)
def test_significant_digits(value: float, precision: int, text: str) -> None:
    assert NumberFormat(precision)(value) == text


def test_operands_wrap_negatives() -> None:
    fmt = NumberFormat(3)
    assert fmt.operand(-0.5) == "(-0.5)"
    assert fmt.operand(0.5) == "0.5"
