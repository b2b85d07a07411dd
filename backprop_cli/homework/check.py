"""Check an answers file against a recomputed trace: verdicts, a score, and three ways to report them.

Verdicts come from ``homework/ecf.py`` (correct, correct given your values, wrong, missing, invalid,
with the first wrong step); ``homework/fingerprints.py`` and ``homework/hints.py`` add what kind of
wrong an answer is, and ``homework/rounding.py`` the key's rounding protocol. Reports: a rich table
(name / given / expected / verdict) with the feedback sentences and a score line, and our own versioned
JSON (``backprop-check`` version 1); the Gradescope ``results.json`` is ``homework/gradescope.py``'s
(one renderer for `check --format gradescope` and the autograder). Whether the
expected value is shown is decided by ``reveal``: ``never``, ``wrong`` (only for answers not correct)
or ``always``; no other part of a report writes a number of the key under ``never``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from backprop_cli.errors import BackpropError, ExitCode, quoted
from backprop_cli.homework import ecf
from backprop_cli.homework.answers import AnswersFile, Tolerance
from backprop_cli.homework.values import NamedValue
from backprop_cli.model import formats
from backprop_cli.model.filters import Filter
from backprop_cli.model.i18n import N_, _, ngettext
from backprop_cli.model.names import closest_names
from backprop_cli.model.numbers import NumberFormat

if TYPE_CHECKING:
    from backprop_cli.homework.fingerprints import Finding
    from backprop_cli.homework.rounding import Rounding
    from backprop_cli.loading.expression import ExprSpec
    from backprop_cli.model.spec import NetworkSpec

FORMAT = formats.CHECK
VERSION = 1
REVEAL = ("never", "wrong", "always")
VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's four settings


class CheckFailed(BackpropError):
    """Some answers are wrong or missing: the report is written, the exit status says so."""

    exit_code = ExitCode.CHECK_FAILED


@dataclass(frozen=True)
class Verdict:
    name: str
    verdict: str  # one of ecf.VERDICTS: "correct", "ecf" (correct given your values), "wrong", "missing", "invalid"
    given: float | None
    given_text: str | None
    expected: float
    weight: float
    tolerance: Tolerance
    # a given number (NamedValue.is_given: a parameter before a step, an input, a target) that the key
    # asks for and the sheet does not hold at all, as when one was written with --given and one without
    given_left_out: bool = False
    unlisted: bool = False  # the key asks for it and the sheet does not list it at all (not even blank)
    note: str = ""  # how the answer was read (a normalisation), why it is invalid, or a misspelt name's hint
    share: float | None = None  # the part of the weight it earns (ecf.credit); None: 1 if correct, else 0
    working: ecf.Working | None = None  # the answer recomputed from the student's own factors
    shown_working: bool = True  # the working's numbers may be shown under --reveal never (none is the key's)
    fingerprints: tuple[str, ...] = ()  # the misconceptions (nn.mutations names) whose number this is
    hint: str | None = None  # what kind of wrong a plain wrong answer is (homework.hints)

    @property
    def score(self) -> float:
        if self.share is not None:
            return self.weight * self.share
        return self.weight if self.verdict == "correct" else 0.0

    @property
    def label(self) -> str:
        return ecf.LABELS.get(self.verdict, self.verdict)


#: how the text reports write the verdicts (Verdict.label), for the catalogues; translated where shown
VERDICT_LABELS = (N_("correct"), N_("correct given your values"), N_("wrong"), N_("missing"), N_("invalid"))


@dataclass(frozen=True)
class CheckResult:
    answers_file: str
    config: str  # how the config is shown
    config_sha256: str
    verdicts: tuple[Verdict, ...]
    filters_hint: str = ""  # the filter options that grade what the sheet lists, when a key holds more
    remarks: tuple[str, ...] = ()  # what lenient grading read around: a YAML slip, names not in the trace
    first_wrong: str | None = None  # the first answer, in dependency order, wrong even given the student's values
    policy: ecf.Policy = field(default_factory=ecf.Policy)
    fingerprints: tuple[Finding, ...] = ()  # the misconceptions the wrong answers match (homework.fingerprints)
    fingerprint_note: str = ""  # why none were looked for, when they were not
    rounding: Rounding | None = None  # the key's rounding protocol (None: full precision)

    def feedback(self) -> list[str]:
        """The first wrong step, the misconceptions recognised, and the ambiguous matches, as sentences."""
        from backprop_cli.homework.fingerprints import ambiguities

        lines = [line for line in [first_wrong_line(self)] if line is not None]
        lines += [f.sentence() for f in self.fingerprints if f.recognised]
        lines += ambiguities(self)
        return lines + ([self.fingerprint_note] if self.fingerprint_note else [])

    @property
    def score(self) -> float:
        return sum(v.score for v in self.verdicts)

    @property
    def max_score(self) -> float:
        return sum(v.weight for v in self.verdicts)

    def count(self, verdict: str) -> int:
        return sum(v.verdict == verdict for v in self.verdicts)

    @property
    def passed(self) -> bool:
        return all(v.verdict == "correct" for v in self.verdicts)

    def given_note(self) -> str | None:
        """Why given numbers are missing, when some are: a key and a sheet written one with --given, one without."""
        count = sum(v.given_left_out for v in self.verdicts)
        if not count:
            return None
        return ngettext(
            "{n} of the missing answers is a given number "
            "(parameters before a step, inputs, targets): the key asks for them, as `backprop answers --given` "
            "writes it, and a sheet written without --given leaves them out; write both with it or both without",
            "{n} of the missing answers are given numbers "
            "(parameters before a step, inputs, targets): the key asks for them, as `backprop answers --given` "
            "writes it, and a sheet written without --given leaves them out; write both with it or both without",
            count,
        ).format(n=count)

    def unlisted_note(self, *, for_student: bool = False) -> str | None:
        """Why answers are missing that the sheet never listed: the key holds more names than the sheet.
        ``for_student`` (Gradescope's output): without the advice to the instructor on check's filters."""
        count = sum(v.unlisted and not v.given_left_out for v in self.verdicts)
        if not count or all(v.unlisted for v in self.verdicts):
            return None  # a sheet listing none of the key's names (empty, garbage): no filter would help
        if for_student:
            return ngettext(
                "{n} of the missing answers is a name your sheet does not list",
                "{n} of the missing answers are names your sheet does not list",
                count,
            ).format(n=count)
        how = f": {self.filters_hint}" if self.filters_hint else _(" (see `backprop check --help`)")
        return ngettext(
            "{n} of the missing answers is a name the sheet does not list: "
            "the key holds more names than the sheet asks; to grade what the sheet was written for, give check "
            "the filters it was written with{how}",
            "{n} of the missing answers are names the sheet does not list: "
            "the key holds more names than the sheet asks; to grade what the sheet was written for, give check "
            "the filters it was written with{how}",
            count,
        ).format(n=count, how=how)

    def notes(self, *, for_student: bool = False) -> list[str]:
        """The notes of the report; ``for_student``: as Gradescope shows them (no advice to the instructor)."""
        unlisted = self.unlisted_note(for_student=for_student)
        given = None if for_student else self.given_note()
        return [note for note in (given, unlisted, *self.remarks) if note is not None]

    def score_line(self) -> str:
        f = NumberFormat()
        carried = self.count("ecf")
        ecf_text = _("{n} correct given your values, ").format(n=carried) if carried else ""
        invalid = self.count("invalid")
        invalid_text = _(", {n} invalid").format(n=invalid) if invalid else ""
        # every weight 0: no points to take a share of
        percent = f" ({100 * self.score / self.max_score:.0f}%)" if self.max_score else _(" (no points)")
        counts = ngettext(
            "{correct} correct, {ecf}{wrong} wrong, {missing} missing{invalid} of {n} answer",
            "{correct} correct, {ecf}{wrong} wrong, {missing} missing{invalid} of {n} answers",
            len(self.verdicts),
        ).format(
            correct=self.count("correct"),
            ecf=ecf_text,
            wrong=self.count("wrong"),
            missing=self.count("missing"),
            invalid=invalid_text,
            n=len(self.verdicts),
        )
        return _("Score: {score}/{most}").format(score=f(self.score), most=f(self.max_score)) + f"{percent} · {counts}"


def check_answers(
    answers: AnswersFile,
    table: Mapping[str, NamedValue],
    config: str,
    sha256: str,
    key: AnswersFile | None = None,
    chosen: Callable[[NamedValue], bool] | None = None,
    policy: ecf.Policy | None = None,
    rounding: Rounding | None = None,
    *,
    lenient: bool = False,
) -> CheckResult:
    """Compare every answer with the recomputed value; an unknown name is bad input, with suggestions.

    With a ``key`` (the teacher's answers file), the key decides which names are asked, their weights
    and tolerances; ``answers`` only gives the values, and a name the key does not ask is ignored.
    ``chosen`` (check's filter options) narrows the names graded to those it chooses: a key may hold
    more names than a sheet was written for. The names graded never come from a student's sheet alone,
    or leaving a question out of it would take it out of the score. An answer wrong against the key but
    right from the student's own upstream answers is ``ecf`` and earns ``policy``'s credit (the key's
    ``ecf:``, else the sheet's, else the default): see :mod:`backprop_cli.homework.ecf`.

    ``lenient`` (with a ``key``) grades a submission as far as it goes: a name of the sheet that is not
    in the trace is left out (a close one noted on the answer it was meant for, graded missing), and an
    answer that could not be read is ``invalid``; only the key's problems stay bad input.
    """
    asking = key or answers
    _something_asked(asking, config)
    strays: dict[str, list[str]] = {}  # a submission's names not in the trace -> the closest real ones
    for source in (answers, *([key] if key else [])):
        for answer in source.answers:
            if answer.name not in table:
                if lenient and key is not None and source is answers:
                    strays[answer.name] = closest_names(answer.name, list(table))
                    continue
                raise _unknown(source, answer.name, list(table), config)
    _finite(asking, table)
    given = {a.name: a for a in answers.answers}
    meant = {close[0]: stray for stray, close in strays.items() if close}  # the first stray for each name
    rules = policy or (key.ecf if key is not None else answers.ecf) or ecf.Policy()
    graded = [a for a in asking.answers if chosen is None or chosen(table[a.name])]
    if rounding is not None:  # the table is the rounded chain: what rounds to its value passes too
        from backprop_cli.homework.rounding import banded

        graded = [replace(a, tolerance=banded(a.tolerance, rounding)) for a in graded]
    tolerances = {a.name: a.tolerance for a in graded}
    fallback = asking.tolerance if rounding is None else banded(asking.tolerance, rounding)

    def accepts(name: str, value: float, expected: float) -> bool:
        return tolerances.get(name, fallback).accepts(value, expected)

    # text that is no number: what the tolerant reader marked invalid, or a value that did not parse
    invalid = frozenset(a.name for a in answers.answers if a.invalid is not None or (a.given is None and a.given_text))
    judged, workings = ecf.judge(
        [a.name for a in graded], {n: a.given for n, a in given.items() if n in table}, invalid, table, accepts
    )
    verdicts = []
    for asked in graded:
        written = given.get(asked.name)
        value, text = (written.given, written.given_text) if written else (None, None)
        note = (written.invalid or written.note or "") if written else ""
        expected = table[asked.name].value
        verdict = judged[asked.name]
        if verdict == "missing" and written is None and asked.name in meant:
            note = _("the sheet names {name}, not a name of the trace (did you mean this one?)").format(
                name=quoted(meant[asked.name])
            )
        left_out = key is not None and asked.name not in given and table[asked.name].is_given
        unlisted = key is not None and asked.name not in given and asked.name not in meant  # not misspelt
        working = workings.get(asked.name)
        own = working is not None and all(  # no key value of a number the student was asked and did not get
            f in working.used or table[f].is_given for f in working.quantity.factors if f in table
        )
        verdicts.append(
            Verdict(
                asked.name,
                verdict,
                value,
                text,
                expected,
                asked.weight,
                asked.tolerance,
                left_out,
                unlisted,
                note=note,
                share=ecf.credit(verdict, rules),
                working=working,
                shown_working=own,
            )
        )
    hint = _filters_hint(answers, key, table, meant) if key is not None and any(v.unlisted for v in verdicts) else ""
    remarks = [_("{why}: the sheet was read line by line").format(why=answers.salvaged)] if answers.salvaged else []
    if strays:
        listed = ", ".join(
            quoted(stray) + (_(" (did you mean {name}?)").format(name=quoted(close[0])) if close else "")
            for stray, close in strays.items()
        )
        remarks.append(_("not names of the trace, so not graded: {names}").format(names=listed))
    first = ecf.first_wrong(judged)
    return CheckResult(
        answers.source,
        config,
        sha256,
        tuple(verdicts),
        hint,
        tuple(remarks),
        first_wrong=first,
        policy=rules,
        rounding=rounding,
    )


def check_key(key: AnswersFile, table: Mapping[str, NamedValue], config: str) -> None:
    """What grading ``key`` against itself refuses, as :func:`check_answers` would (bad input, exit 2):
    a key that asks no names, a name not in the trace (with the closest ones), a value not finite."""
    _something_asked(key, config)
    for answer in key.answers:
        if answer.name not in table:
            raise _unknown(key, answer.name, list(table), config)
    _finite(key, table)


def _something_asked(asking: AnswersFile, config: str) -> None:
    if not asking.answers:  # bad input (exit 2), not a pass: there is nothing to mark right or wrong
        raise asking.error(
            _(
                "nothing to grade: the file asks no names; expected at least one name: value "
                "(`backprop answers {config} --blank` writes a sheet with every name)"
            ).format(config=config),
            "answers",
        )


def _finite(asking: AnswersFile, table: Mapping[str, NamedValue]) -> None:
    for answer in asking.answers:
        if not math.isfinite(table[answer.name].value):
            raise asking.error(
                _(
                    "{name} is not a number in this trace ({shown}: a saturated textbook "
                    "factor); expected a name with a finite value (the stable combined δ beside it is one)"
                ).format(name=answer.name, shown=table[answer.name].shown),
                "answers",
                answer.name,
                key=True,
            )


def with_feedback(
    result: CheckResult,
    spec: NetworkSpec | ExprSpec,
    only: Filter,
    fmt: NumberFormat,
    table: Mapping[str, NamedValue],
    *,
    hints: bool = True,
    whole: dict[str, dict[str, float]] | None = None,
) -> CheckResult:
    """``result`` with what kind of wrong each wrong answer is: the misconceptions it matches (a
    network's mutated traces, an expression's fan-out), then, with ``hints``, a hint where none does.
    One sheet and a batch's every sheet get their feedback here, the same way (``whole``: see
    fingerprints.look_for)."""
    from backprop_cli.homework.fingerprints import look_for, look_for_expression
    from backprop_cli.model.spec import NetworkSpec as Network

    if isinstance(spec, Network):  # misconceptions are mutations of a network's rules
        result = look_for(result, spec, only, fmt, table, whole)
    else:
        result = look_for_expression(result, table)
    if hints:
        from backprop_cli.homework.hints import with_hints

        result = with_hints(result, table)
    return result


def _filters_hint(
    sheet: AnswersFile, key: AnswersFile, table: Mapping[str, NamedValue], meant: Mapping[str, str]
) -> str:
    """The --step and --phase options that choose, of the key's names, exactly those ``sheet`` lists
    (as `backprop answers` wrote it with them; a misspelt name, ``meant``, counts as listed); "" when
    no such options exist."""
    listed = {a.name for a in sheet.answers} | set(meant)
    keyed = [table[a.name] for a in key.answers]
    wanted = {v.name for v in keyed if v.name in listed}
    steps = sorted({v.step for v in keyed if v.name in listed})
    phases = list(dict.fromkeys(v.phase for v in keyed if v.name in listed))
    narrowed = Filter(frozenset(steps), phases=frozenset(phases))
    if not wanted or {v.name for v in keyed if narrowed.wants_quantity(v.quantity, v.name)} != wanted:
        return ""
    options = [f"--step {step}" for step in steps] if len({v.step for v in keyed}) > len(steps) else []
    if len({v.phase for v in keyed}) > len(phases):
        options += [f"--phase {phase}" for phase in phases]
    return " ".join(options)


def _unknown(source: AnswersFile, name: str, names: list[str], config: str) -> Exception:
    close = closest_names(name, names)
    hint = (
        _("did you mean {names}?").format(names=_(" or ").join(repr(c) for c in close))
        if close
        else _("no similar name")
    )
    message = _("unknown name {name} ({hint}); expected a name from `backprop names {config}`").format(
        name=quoted(name), hint=hint, config=config
    )
    return source.error(message, "answers", name, key=True)


def revealed(verdict: Verdict, reveal: str) -> bool:
    return reveal == "always" or (reveal == "wrong" and verdict.verdict != "correct")


def working_text(verdict: Verdict, reveal: str, fmt: NumberFormat) -> str | None:
    """The answer recomputed from the student's own values, written out, where ``reveal`` allows it:
    an ``ecf`` answer's always when every number in it is the student's or handed out; a wrong one's
    (its recomputation is what they should have written) only when expected values may be shown."""
    w = verdict.working
    if w is None or verdict.given_text is None or verdict.verdict not in ("ecf", "wrong"):
        return None
    ok = verdict.verdict == "ecf"
    if reveal == "never" and not (ok and verdict.shown_working):
        return None
    return w.text(fmt, verdict.given_text, ok=ok)


def first_wrong_line(result: CheckResult) -> str | None:
    if result.first_wrong is None:
        return None
    carried = result.count("ecf")
    after = (
        ngettext(
            "; {n} answer after it follows from your own values",
            "; {n} answers after it follow from your own values",
            carried,
        ).format(n=carried)
        if carried
        else ""
    )
    return _("First wrong step: {name}").format(name=result.first_wrong) + after


# ---------------------------------------------------------------- reports

Explainer = Callable[[str], str]  # a name -> its derivation as text (explain.render_text)


def table(result: CheckResult, *, reveal: str, fmt: NumberFormat, explain: Explainer | None = None) -> Any:
    """The terminal report: one row per answer, then the derivations asked for, then the score line."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from backprop_cli.render.fit import Fitting, column_style

    styles = {"correct": "green", "ecf": "cyan", "wrong": "bold red", "missing": "yellow", "invalid": "magenta"}

    def build(whole: bool) -> Table:  # names and numbers on one line, or folded: never cut with "…"
        out = Table(box=box.SIMPLE_HEAD)
        for column in (N_("name"), N_("given"), N_("expected"), N_("verdict")):
            justify = "right" if column in ("given", "expected") else "left"
            out.add_column(_(column), justify=justify, **column_style(whole))  # type: ignore[arg-type]
        for v in result.verdicts:
            expected = fmt(v.expected) if revealed(v, reveal) else "·"
            cells = (Text(v.name), Text(v.given_text or ""), Text(expected), Text(_(v.label), style=styles[v.verdict]))
            out.add_row(*cells)
        return out

    against = _("{answers} checked against {config}").format(answers=result.answers_file, config=result.config)
    parts: list[Any] = [Text(against), Fitting(build)]
    parts += [Text(f"{v.name}: {v.note}", style="dim") for v in result.verdicts if v.note]
    feedback = result.feedback()
    parts += [Text(line, style="bold" if i == 0 and result.first_wrong else "") for i, line in enumerate(feedback)]
    # the recomputations where a wrong number is carried into the next (the rest follow alike; JSON has all)
    wrong = {v.name for v in result.verdicts if v.verdict == "wrong"}
    workings = [
        (v.name, working_text(v, reveal, fmt))
        for v in result.verdicts
        if v.working is not None and (v.verdict == "wrong" or any(n in wrong for n, _ in v.working.yours))
    ]
    parts += [Text(f"{name}: {text}") for name, text in workings if text is not None]
    hints = [Text(f"{v.name}: {v.hint}") for v in result.verdicts if v.hint]
    parts += hints
    if feedback or hints or any(text for _, text in workings):
        parts.append(Text(""))
    for v in result.verdicts:
        if explain is not None and v.verdict != "correct":
            parts.append(Text(_("How {name} is computed:").format(name=v.name), style="bold"))
            parts.append(Text(explain(v.name) + "\n"))
    tolerances = sorted({v.tolerance.shown() for v in result.verdicts})
    parts.append(Text(_("tolerance: {rules}").format(rules="; ".join(tolerances) or _("none")), style="dim"))
    parts += [Text(note, style="yellow") for note in result.notes()]
    parts.append(Text(result.score_line(), style="bold"))
    return Group(*parts)


def to_json(
    result: CheckResult, *, reveal: str, explain: Explainer | None = None, fmt: NumberFormat | None = None
) -> dict[str, Any]:
    """Our versioned report (``format: backprop-check, version: 1``); README documents every key."""
    fmt = fmt or NumberFormat()
    answers = []
    for v in result.verdicts:
        entry: dict[str, Any] = {
            "name": v.name,
            "verdict": v.verdict,
            "given": v.given,
            "given_text": v.given_text,
            "weight": v.weight,
            "score": v.score,
            "tolerance": v.tolerance.to_dict(),
        }
        if revealed(v, reveal):
            entry["expected"] = v.expected
        if v.note:
            entry["note"] = v.note
        if explain is not None and v.verdict != "correct":
            entry["derivation"] = explain(v.name)
        if v.fingerprints:
            entry["fingerprints"] = list(v.fingerprints)
        if v.hint:
            entry["hint"] = v.hint
        working = working_text(v, reveal, fmt)
        if working is not None and v.working is not None:
            entry["working"] = {
                "yours": dict(v.working.yours),
                "recomputed": v.working.recomputed,
                "text": working,
            }
        answers.append(entry)
    return {
        "format": FORMAT,
        "version": VERSION,
        "answers_file": result.answers_file,
        "config": {"path": result.config, "sha256": result.config_sha256},
        "score": result.score,
        "max_score": result.max_score,
        "passed": result.passed,
        "counts": {k: result.count(k) for k in ecf.VERDICTS},
        "first_wrong_step": result.first_wrong,
        "ecf": result.policy.to_dict(),
        "rounding": None if result.rounding is None else result.rounding.to_dict(),
        "fingerprints": [f.to_dict() for f in result.fingerprints],
        "feedback": result.feedback(),
        "answers": answers,
    }
