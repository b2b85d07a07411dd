"""Hints for a plain wrong answer: what kind of wrong it is, so a student knows where to look.

For an answer that is wrong even given the student's own values and matches no misconception, the
first of these that fits (each within the answer's own tolerance):

- **sign**: the number negated is right;
- **power of ten**: the number times 10^k is right (k = ±1 … ±6): a decimal point, a unit;
- **a factor's value**: the number is the right value of one of the quantity's own factors (δ written
  where δ × a_prev was asked: the product is not finished), or of a given one (the old parameter
  written for its update: the update was not applied);
- **rounded too coarsely**: the number is the right value rounded to fewer significant digits (1 to 3)
  or decimals (0 to 3) than the tolerance accepts, not 0 (a 0 is no rounding to speak of, and would
  tell that the value is under ½), and no factor's value explains it (checked before);
- **a neighbour's value**: the number is the right value of a quantity named like it but for another
  neuron, weight, sample or step (``h.delta2`` for ``h.delta1``, ``step1/`` for ``step2/``).

A hint names a kind of mistake and, for the last two, a name; it writes no number of the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from backprop_cli.homework.values import NamedValue
from backprop_cli.model.i18n import _

if TYPE_CHECKING:
    from backprop_cli.homework.check import CheckResult

_DIGITS = re.compile(r"\d+")


def with_hints(result: CheckResult, table: Mapping[str, NamedValue]) -> CheckResult:
    """``result`` with a hint on every answer wrong even given the student's values and matching no
    misconception (look for those first)."""
    verdicts = []
    for v in result.verdicts:
        if v.verdict == "wrong" and v.given is not None and not v.fingerprints:
            v = replace(v, hint=hint(v.name, v.given, table, v.tolerance.accepts))
        verdicts.append(v)
    return replace(result, verdicts=tuple(verdicts))


def hint(
    name: str, given: float, table: Mapping[str, NamedValue], accepts: Callable[[float, float], bool]
) -> str | None:
    """The hint for ``given`` as the answer for ``name``, or None when no kind fits."""
    value = table[name]
    expected = value.value
    if expected != 0 and given != 0 and accepts(-given, expected):
        return _("sign only: the size is right and the sign is not; check which way the difference goes")
    for k in (1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6):
        if given != 0 and accepts(given * 10.0**k, expected):
            times = f"1/{10**k:,}" if k > 0 else f"{10**-k:,}"
            return _("off by a power of ten: yours is {times} times the right value; check the decimal point").format(
                times=times
            )
    q = value.quantity
    for factor in q.factors:
        if factor not in table or factor == name or not accepts(given, table[factor].value):
            continue
        if not table[factor].is_given:
            return _("the value of {name}, one of its factors: finish the formula").format(name=q.short(factor))
        if factor == _before(name):
            return _("the value of the old parameter {name}: the update was not applied").format(name=q.short(factor))
        return _("the value of {name}, given in the question: finish the formula").format(name=q.short(factor))
    if _coarse(given, expected):
        return _(
            "rounded too coarsely: the right value rounded to fewer digits than the tolerance accepts; "
            "keep more digits (4 significant at least) until the end"
        )
    shape = _DIGITS.sub("#", name)
    for other, v in table.items():
        if other != name and _DIGITS.sub("#", other) == shape and not v.is_given and accepts(given, v.value):
            return _("the value of {name}, a neighbour: check the indices (neuron, sample, step)").format(
                name=value.quantity.short(other)
            )
    return None


def _before(name: str) -> str | None:
    """The parameter an update's name updates (``step1/o.w1_1.new`` → ``step1/o.w1_1``), else None."""
    return name[: -len(".new")] if name.endswith(".new") else None


def _coarse(given: float, expected: float) -> bool:
    """Whether ``given`` is ``expected`` rounded to 1–3 significant digits or 0–3 decimals (never 0)."""
    if given == expected or given == 0:
        return False
    for digits in (1, 2, 3):
        if given == float(f"{expected:.{digits}g}"):
            return True
    return any(given == round(expected, decimals) for decimals in (0, 1, 2, 3))
