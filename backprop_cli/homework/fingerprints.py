"""Misconception fingerprints: wrong answers matched against the traces of known wrong rules.

Every mutation of ``nn/mutations.py`` that applies to the network is run as a whole trace; an answer
that is wrong against the key (or right only given the student's own values) *matches* a mutation when
the mutation changes that number (beyond the answer's tolerance), the student's number is the mutated
one (within it), and the mutation is the closest explanation by a margin (``MARGIN``): the answer is at
most half as far from the mutated number as from every other explanation whose number differs from it
beyond the tolerance: the key's, every other mutation's, each factor's (a parameter left as it was
looks like a small step), and the answer recomputed from the student's own values. Near the key, where
the wrong rules give numbers a hair apart (a small update: η² for η, w + η·g, w left alone), the
numbers cannot tell the explanations apart and none is named. A mutation is **recognised** in a sheet
when it is the only one to match at least one answer that is wrong even given the student's own
values: a root of the sheet's errors, not one carried forward from another slip nor a copy of another
answer that agrees with it (a slip carried
through a deep network shifts many numbers by a little, and a mutation that shifts them by a little
too can agree with some by chance). Answers that
two mutations explain alike are ambiguous: they name both, and neither is recognised from them alone,
so the feedback never names a wrong one. Correct answers never match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from backprop_cli.errors import BackpropError
from backprop_cli.homework.values import NamedValue
from backprop_cli.model.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from backprop_cli.homework.check import CheckResult
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.model.spec import NetworkSpec

MATCHED = ("wrong", "ecf")  # the verdicts a fingerprint may explain
MARGIN = 0.5  # a match is at most this share of the distance to any other explanation

#: An expression's misconception, varied at the grain of its quantities: a value read several times
#: (fan-out) has the sum of its contributions for gradient; a student who follows one path takes one.
FAN_OUT = (
    "fan_out_not_summed",
    N_("fan-out not summed"),
    N_("a value used more than once got the gradient of one of its uses only"),
    N_("the gradient of a value read several times is the sum of the contributions along every use"),
)


#: The first phase of step 1 whose numbers each mutation's rule can change (the forward pass is never
#: varied): a mutation is not run for a sheet whose answers to explain all come before it in step 1,
#: where its trace is the key's number for number (a test checks this on every built-in example).
FIRST_PHASE = {
    "missing_activation_derivative": "backward",
    "updated_weights_in_backward": "backward",
    "gradient_ascent": "update",
    "missing_half": "loss",
    "missing_mean": "loss",
    "mean_sum_swapped": "loss",
    "transposed_weights": "backward",
    "learning_rate_twice": "update",
    "bias_gradient_forgotten": "update",
    "softmax_elementwise": "backward",
}


def _about(mutation: str) -> tuple[str, str, str, str]:
    """(name, title, mistake, rule) of a trace's mutation (``name/variant`` for one of several)."""
    from backprop_cli.nn.mutations import BY_NAME

    base = mutation.split("/")[0]
    if base == FAN_OUT[0]:
        return FAN_OUT
    m = BY_NAME[base]
    return m.name, m.title, m.mistake, m.rule


@dataclass(frozen=True)
class Finding:
    """A mutation that matches some answers of a sheet (recognised when ``unique`` is not empty)."""

    name: str
    title: str
    mistake: str
    rule: str
    answers: tuple[str, ...]  # every answer whose number it gives
    unique: tuple[str, ...]  # of those, the wrong ones (not ECF) that no other mutation gives

    @property
    def recognised(self) -> bool:
        return bool(self.unique)

    def sentence(self) -> str:
        """The finding as the report writes it, in the reader's language (``to_dict`` keeps the English)."""
        count = len(self.answers)
        return ngettext(
            "Misconception, {title}: {mistake}; {n} answer ({answers}) matches it. The rule: {rule}.",
            "Misconception, {title}: {mistake}; {n} answers ({answers}) match it. The rule: {rule}.",
            count,
        ).format(
            title=_(self.title), mistake=_(self.mistake), n=count, answers=_listed(self.answers), rule=_(self.rule)
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "mistake": self.mistake,
            "rule": self.rule,
            "answers": list(self.answers),
            "unique": list(self.unique),
            "recognised": self.recognised,
        }


def _listed(names: tuple[str, ...], most: int = 4) -> str:
    shown = ", ".join(names[:most])
    return shown + (_(" and {n} more").format(n=len(names) - most) if len(names) > most else "")


def look_for(
    result: CheckResult,
    spec: NetworkSpec,
    only: Filter,
    fmt: NumberFormat,
    table: Mapping[str, NamedValue],
    whole: dict[str, dict[str, float]] | None = None,
) -> CheckResult:
    """``result`` with its fingerprints, when some answer is wrong and the traces fit the names budget
    (each mutated trace lays out the steps the check did: at most ``budgets.names`` values in all).

    Each mutated trace is laid out only where the sheet's wrong answers sit (their steps, phases, layers
    and samples): the other blocks cannot change a match. ``whole``, a cache one key's sheets share (a
    batch with one key for the class), holds the whole traces instead, computed for the first sheet."""
    from backprop_cli.model.budgets import limits_of
    from backprop_cli.nn.mutations import MUTATIONS

    if not any(v.verdict in MATCHED for v in result.verdicts):
        return result
    count = sum(m.applicable(spec) for m in MUTATIONS)
    if count * len(table) > limits_of(None).names:
        note = _(
            "misconceptions not looked for: {count} alternative traces of {numbers:,} numbers each are more "
            "than {most:,}; grade fewer steps at a time"
        ).format(count=count, numbers=len(table), most=limits_of(None).names)
        return replace(result, fingerprint_note=note)
    if whole is None:
        places = where_wrong(result, only, table)
        return match(result, alternatives(spec, places, fmt, could_explain(result, table)), table)
    if not whole:
        whole.update(alternatives(spec, only, fmt) or {"": {}})  # "": computed, and no mutation ran
    return match(result, {m: values for m, values in whole.items() if m}, table)


def could_explain(result: CheckResult, table: Mapping[str, NamedValue]) -> frozenset[str]:
    """The mutations whose traces may differ from the key at some answer a mutation may explain: all,
    but those whose FIRST_PHASE comes after every such answer of step 1 (when all are of step 1)."""
    from backprop_cli.model.quantity import PHASES
    from backprop_cli.nn.mutations import MUTATIONS

    placed = [table[v.name] for v in result.verdicts if v.verdict in MATCHED and v.given is not None]
    if any(v.step != 1 for v in placed):
        return frozenset(m.name for m in MUTATIONS)
    latest = max((PHASES.index(v.phase) for v in placed), default=len(PHASES))
    return frozenset(m.name for m in MUTATIONS if PHASES.index(FIRST_PHASE[m.name]) <= latest)


def where_wrong(result: CheckResult, only: Filter, table: Mapping[str, NamedValue]) -> Filter:
    """``only`` narrowed to the places (steps, phases, layers, samples) of the answers a mutation may
    explain: every block holding one of them passes (and a few others may)."""
    from backprop_cli.model.filters import Filter

    placed = [table[v.name] for v in result.verdicts if v.verdict in MATCHED and v.given is not None]
    steps = frozenset(v.step for v in placed)
    layers = frozenset(v.layer for v in placed if v.layer is not None)
    samples = frozenset(v.sample + 1 for v in placed if v.sample is not None)
    return Filter(
        only.steps & steps if only.steps else steps,
        layers if all(v.layer is not None for v in placed) else frozenset(),
        frozenset(v.phase for v in placed),
        samples if all(v.sample is not None for v in placed) else frozenset(),
        only.patterns,
    )


def look_for_expression(result: CheckResult, table: Mapping[str, NamedValue]) -> CheckResult:
    """An expression's sheet matched against its fan-out misconception (cheap: the quantities recomputed)."""
    if not any(v.verdict in MATCHED for v in result.verdicts):
        return result
    traces = {f"{FAN_OUT[0]}/first": one_path(table, 0), f"{FAN_OUT[0]}/last": one_path(table, -1)}
    return match(result, {k: v for k, v in traces.items() if v}, table)


def one_path(table: Mapping[str, NamedValue], pick: int) -> dict[str, float]:
    """The expression recomputed with every sum of gradient contributions replaced by one of them (the
    first or the last, ``pick``), and everything after recomputed from that: {} when nothing fans out."""
    values: dict[str, float] = {}
    changed = False
    for name, v in table.items():
        q = v.quantity
        if q.form.rule is None:
            values[name] = float(q.value)
        elif len(q.factors) > 1 and all(".via." in f for f in q.factors):  # a sum of contributions
            values[name] = values.get(q.factors[pick], float(q.value))
            changed = True
        else:
            try:
                values[name] = float(q.recompute(values))
            except (ArithmeticError, ValueError):
                values[name] = float(q.value)
    return values if changed else {}


def alternatives(
    spec: NetworkSpec, only: Filter, fmt: NumberFormat, names: frozenset[str] | None = None
) -> dict[str, dict[str, float]]:
    """Each applicable mutation's trace (of those ``names`` names, if given), as name → value over the
    steps ``only`` chooses (a mutation whose trace fails numerically, as an update up the gradient may,
    gives none)."""
    from backprop_cli.homework.values import named_values
    from backprop_cli.nn.mutations import MUTATIONS

    out: dict[str, dict[str, float]] = {}
    for mutation in MUTATIONS:
        if (names is not None and mutation.name not in names) or not mutation.applicable(spec):
            continue
        try:
            out[mutation.name] = {v.name: v.value for v in named_values(mutation.run(spec), fmt, only)}
        except (BackpropError, ArithmeticError, ValueError):
            continue
    return out


def match(
    result: CheckResult, traces: Mapping[str, Mapping[str, float]], table: Mapping[str, NamedValue]
) -> CheckResult:
    """``result`` with each answer's matching mutations and the sheet's findings, most answers first."""
    per_answer: dict[str, tuple[str, ...]] = {}
    for v in result.verdicts:
        if v.verdict not in MATCHED or v.given is None:
            continue
        given, quantity = v.given, table[v.name].quantity
        key = table[v.name].value
        rivals = [key, *(table[f].value for f in quantity.factors if f in table)]
        if v.working is not None:
            rivals.append(v.working.recomputed)
        mutated = {m: values[v.name] for m, values in traces.items() if v.name in values}
        names = []
        for mutation, other in mutated.items():
            if v.tolerance.accepts(other, key) or not v.tolerance.accepts(given, other):
                continue  # the mutation does not change this number, or the student's is not it
            others = [*rivals, *(x for m, x in mutated.items() if _about(m)[0] != _about(mutation)[0])]
            distinct = [x for x in others if not v.tolerance.accepts(x, other)]  # alike: named together
            if all(abs(given - other) <= MARGIN * abs(given - x) for x in distinct):
                names.append(_about(mutation)[0])  # the variants of one misconception count as one
        if names:
            per_answer[v.name] = tuple(dict.fromkeys(names))
    verdict = {v.name: v.verdict for v in result.verdicts}
    # a wrong answer that only copies another answer the student gave (a bias gradient that is its delta)
    # is explained by that answer, not a root of the sheet's errors: it recognises nothing on its own
    copied = {
        v.name
        for v in result.verdicts
        if v.working is not None
        and v.working.copies is not None
        and v.given is not None
        and v.tolerance.accepts(v.given, v.working.recomputed)
    }
    findings = []
    for mutation in dict.fromkeys(_about(t)[0] for t in traces):
        answers = tuple(n for n, ms in per_answer.items() if mutation in ms)
        if not answers:
            continue
        unique = tuple(n for n in answers if per_answer[n] == (mutation,) and verdict[n] == "wrong" and n not in copied)
        findings.append(Finding(*_about(mutation), answers, unique))
    findings.sort(key=lambda f: (not f.recognised, -len(f.answers)))
    verdicts = tuple(replace(v, fingerprints=per_answer.get(v.name, ())) for v in result.verdicts)
    return replace(result, verdicts=verdicts, fingerprints=tuple(findings))


def ambiguities(result: CheckResult) -> list[str]:
    """One line per set of mutations that give some answers alike: both named, neither claimed."""
    title = {f.name: f.title for f in result.fingerprints}
    groups: dict[tuple[str, ...], list[str]] = {}
    for v in result.verdicts:
        if len(v.fingerprints) > 1 and v.verdict == "wrong":
            groups.setdefault(v.fingerprints, []).append(v.name)
    return [
        ngettext(
            "{names} matches {misconceptions} alike: these numbers cannot tell them apart",
            "{names} match {misconceptions} alike: these numbers cannot tell them apart",
            len(names),
        ).format(
            names=_listed(tuple(names)),
            misconceptions=(_(" and ") if len(ms) == 2 else ", ").join(_(title[n]) for n in ms),
        )
        for ms, names in groups.items()
    ]
