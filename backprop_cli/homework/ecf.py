"""Error carried forward: an answer judged right *given the student's own upstream answers*.

A TA grades a chain the way it was computed: find the first wrong number, then check whether what
follows is right from it. Each quantity knows its formula over its factors (``Quantity.recompute``), so
an answer wrong against the key is recomputed with the student's own values for the factors they gave
(the key's for the rest); when the answer matches that, it is ``ecf``: *correct given your values*.

The anti-gaming guard: a student's value stands in for a factor only when it is itself a plausible
attempt at that factor: not blank; right against the key, right given the student's own values (so a
chain of consistent slips carries on), or else non-zero, of the key's sign or the opposite, and within
an order of magnitude (a factor of ``MAGNITUDE``) of the key's non-zero value. A 0 where the key is not
0, or a number where the key is 0, counts only when it follows from the student's own factors. And at
least one factor must be the student's wrong value: an answer that is wrong with every factor right is
plainly wrong. A sheet of random numbers gets no ECF credit: no answer follows from the others.

And no credit for a copy of a slip: an answer that is the very number of one of the student's wrong
factors (``o.dL_db1 = o.delta1``, ``loss = loss.term1``, a linear ``a = z``, ``relu(1) = 1``, ``1 × 1 =
1``) where that factor is itself wrong even given the student's values shows nothing beyond it (the same
wrong number written twice), so it is ``wrong`` as the factor is (its working says it is a copy); it
still stands in for what follows, as an answer right from the student's values does. A copy of a factor
that is itself right from the student's values (``ecf``) is the chain carried on, as a TA marks it: a
slip in a deep network's output δ makes every layer's δ below it ECF, and each ∂L/∂b = δ is ECF with
it, not one more wrong answer per neuron for the one slip. So a sheet of one constant still gets no ECF
credit: every answer is a copy of every factor, and none of those is right from the student's values.

Verdicts, in order of credit: ``correct``, ``ecf``, ``wrong``, ``missing`` (blank), ``invalid`` (a value
given as text that is no number: tolerant readers of sheets may produce it; it is never a factor).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from backprop_cli.homework.values import NamedValue
from backprop_cli.model.i18n import _
from backprop_cli.model.quantity import Numbers, Quantity

VERDICTS = ("correct", "ecf", "wrong", "missing", "invalid")
LABELS = {"ecf": "correct given your values"}  # how the text reports write a verdict
DEFAULT_CREDIT = 0.5
MAGNITUDE = 10.0  # a stand-in factor is within this factor of the key's value


@dataclass(frozen=True)
class Policy:
    """How much an ``ecf`` answer earns: ``credit`` × its weight (a number from 0 to 1; default 0.5).
    Written in a key as ``ecf: {credit: 0.5}`` beside ``answers:``."""

    credit: float = DEFAULT_CREDIT

    def to_dict(self) -> dict[str, float]:
        return {"credit": self.credit}


@dataclass(frozen=True)
class Working:
    """An answer recomputed from the student's own factors: which factors were theirs, and the value."""

    name: str
    yours: tuple[tuple[str, float], ...]  # (factor, the student's wrong value) that stood in for the key's
    used: frozenset[str]  # every factor whose value is the student's (right ones as they wrote them)
    recomputed: float
    quantity: Quantity  # with the student's values put in its slots
    copies: str | None = None  # the student's wrong factor whose very number the answer is (no ECF credit)

    def text(self, numbers: Numbers, given_text: str, *, ok: bool) -> str:
        """``with your h.a1 = 0.6: o.z1 = o.w1_1·h.a1 + o.b1 = 0.4·0.6 + 0.6 = 0.84; you wrote 0.84 ✓``;
        for a copy, ``…; you wrote 0.5, your o.delta1 again: a copy earns no credit carried forward``."""
        q = self.quantity
        yours = ", ".join(f"{q.short(n)} = {numbers(v)}" for n, v in self.yours)
        chain = [q.short(q.name), q.formula(numbers)]
        written = q.written(numbers)
        if written and written not in chain:
            chain.append(written)
        if numbers(self.recomputed) != chain[-1]:
            chain.append(numbers(self.recomputed))
        where = _("with your {values}").format(values=yours) if yours else _("from your values")
        if self.copies is not None:
            copy = _("your {name} again: a copy earns no credit carried forward").format(name=q.short(self.copies))
            return _("{where}: {chain}; you wrote {given}, {copy}").format(
                where=where, chain=" = ".join(chain), given=given_text, copy=copy
            )
        mark = "✓" if ok else "✗"
        return _("{where}: {chain}; you wrote {given} {mark}").format(
            where=where, chain=" = ".join(chain), given=given_text, mark=mark
        )


def _source(factor: str, given: Mapping[str, float], table: Mapping[str, NamedValue]) -> str | None:
    """The answer that gives a factor's value: the factor's own, or for a parameter of a later step
    (handed out, so not on the sheet) the student's update of it in the step before; None: neither."""
    if factor not in table:
        return None
    if factor in given:
        return factor
    origin = table[factor].quantity.origin
    return origin if origin is not None and origin in given else None


class Accepts(Protocol):
    """Whether a value is within an answer's tolerance of another: ``accepts(name, given, expected)``."""

    def __call__(self, name: str, given: float, expected: float, /) -> bool: ...


def plausible(given: float, expected: float, own: str | None) -> bool:
    """Whether a student's value may stand in for a factor (``own``: its verdict; see the module docstring)."""
    if own in ("correct", "ecf"):
        return True
    if given == 0 or expected == 0 or not math.isfinite(given):
        return False
    ratio = abs(given / expected)
    return 1 / MAGNITUDE <= ratio <= MAGNITUDE


def rework(
    value: NamedValue,
    given: Mapping[str, float],
    verdicts: Mapping[str, str],
    table: Mapping[str, NamedValue],
    accepts: Accepts,
) -> Working | None:
    """The answer recomputed with the student's own values for the factors they gave (a wrong one only
    when plausible); None when they gave none, or the rule cannot take them (a log of a negative).
    With every factor right, a match is the key's tolerance carried through the formula: right."""
    q = value.quantity
    if q.form.rule is None:
        return None
    used: dict[str, float] = {}  # every factor the student gave (a right one as they rounded it)
    yours: dict[str, float] = {}  # of those, the wrong ones that stand in for the key's
    for factor in q.factors:
        source = _source(factor, given, table)
        if source is None:
            continue
        mine, key = given[source], table[factor].value
        if verdicts.get(source) == "correct" or accepts(source, mine, key):
            used[factor] = mine
        elif plausible(mine, key, verdicts.get(source)):
            used[factor] = yours[factor] = mine
    if not used:
        return None
    args = tuple(used.get(s, a) if isinstance(s, str) else a for s, a in zip(q.form.slots, q.args, strict=True))
    try:
        recomputed = float(q.form.evaluate(args))
    except (ArithmeticError, ValueError):
        return None
    if not math.isfinite(recomputed):
        return None
    quantity = replace(q, value=recomputed, args=args)
    return Working(value.name, tuple(yours.items()), frozenset(used), recomputed, quantity)


def judge(
    asked: Sequence[str],
    given: Mapping[str, float | None],
    invalid: frozenset[str],
    table: Mapping[str, NamedValue],
    accepts: Accepts,
) -> tuple[dict[str, str], dict[str, Working]]:
    """Every asked name's verdict, and the working of each answer recomputed from the student's values.

    Walked in the trace's order (every factor before what it feeds), so a factor's own verdict, which
    decides whether it may stand in, is known when it is used. A copy of a slip (see the module
    docstring) is ``wrong`` but stands in for what follows as an answer right from the student's values
    does; a copy of factors that are all ``ecf`` is ``ecf``."""
    wanted = set(asked)
    verdicts: dict[str, str] = {}
    standing: dict[str, str] = {}  # the verdicts as factors see them: a copy follows from the student's values
    workings: dict[str, Working] = {}
    known = {n: v for n, v in given.items() if v is not None}
    for name, value in table.items():
        if name not in wanted:
            continue
        mine = given.get(name)
        if name in invalid:
            verdicts[name] = "invalid"
        elif mine is None:
            verdicts[name] = "missing"
        elif accepts(name, mine, value.value):
            verdicts[name] = "correct"
        else:
            working = rework(value, known, standing, table, accepts)
            if working is None or not accepts(name, mine, working.recomputed):
                verdicts[name] = "wrong"
            elif not working.yours:  # right from factors all right: the key's tolerance, carried through
                verdicts[name] = "correct"
            else:
                copied = [f for f, v in working.yours if accepts(name, mine, v)]
                carried = all(verdicts.get(_source(f, known, table) or "") == "ecf" for f in copied)
                working = replace(working, copies=None if carried else copied[0])
                verdicts[name] = "ecf" if carried else "wrong"
                standing[name] = "ecf"
            if working is not None:
                workings[name] = working
        standing.setdefault(name, verdicts[name])
    return verdicts, workings


def first_wrong(verdicts: Mapping[str, str]) -> str | None:
    """The first answer, in dependency order, that is wrong even given the student's own values."""
    return next((name for name, verdict in verdicts.items() if verdict == "wrong"), None)


def credit(verdict: str, policy: Policy) -> float:
    """The share of an answer's weight a verdict earns."""
    return 1.0 if verdict == "correct" else policy.credit if verdict == "ecf" else 0.0
