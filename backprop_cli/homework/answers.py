"""Answers files: an answer key or a student's sheet, as YAML, tied to one config by its content hash.

```yaml
format: backprop-answers
version: 1
config: {path: net.yaml, sha256: 3f2a…}   # path relative to this file (or a built-in example's name)
tolerance: {relative: 0.001}               # optional; the default, see DEFAULT_TOLERANCE
answers:
  h.z1: 0.3775                             # a decimal
  h.dL_dw1_1: 3/4                          # or an exact fraction
  o.w1_1.new:                              # blank: counted as missing
  o.delta1: {value: 0.74, weight: 2, tolerance: {decimals: 2}}
```

Reading goes through :mod:`backprop_cli.loading.yamlsafe`, so every problem is reported as ``file:line:col``.
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from backprop_cli.errors import ConfigError, quoted
from backprop_cli.homework.ecf import Policy
from backprop_cli.homework.values import NamedValue
from backprop_cli.loading.yamlsafe import (
    CONFIG_LIMIT,
    Document,
    Values,
    comment_text,
    describe,
    is_refused_value,
    is_syntax_problem,
    load_file,
    read_bytes,
    read_text,
)
from backprop_cli.model import budgets as budget
from backprop_cli.model import formats
from backprop_cli.model.numbers import NumberFormat, exact_text

if TYPE_CHECKING:
    from backprop_cli.homework.rounding import Rounding

FORMAT = formats.ANSWERS
VERSION = 1
TOLERANCE_KINDS = ("relative", "absolute", "decimals")
# points for one answer: bounded, so that no sum of weights (at most a few hundred thousand answers
# fit in an answers file) can overflow the score
MAX_WEIGHT = 1_000_000
ZERO_SLACK = 1e-9  # the default also accepts |given − expected| ≤ 1e-9: 0 for a value that is 0 up to rounding
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_./]*")
_TOP_KEYS = ("format", "version", "student", "config", "tolerance", "rounding", "ecf", "answers")


@dataclass(frozen=True)
class Tolerance:
    """How close an answer must be: relative to the expected value, absolute, or rounded to N decimals."""

    kind: str  # one of TOLERANCE_KINDS
    amount: float  # the fraction, the difference, or the number of decimals

    def accepts(self, given: float, expected: float) -> bool:
        """``|given − expected|`` within the bound; a hair of float slack so that exact halves pass."""
        difference = abs(given - expected)
        if self.kind == "relative":
            bound = max(self.amount * abs(expected), ZERO_SLACK)
        elif self.kind == "absolute":
            bound = self.amount
        else:  # rounded to N decimals: within half a unit of the last decimal
            bound = 0.5 * 10.0 ** (-self.amount)
        return difference <= bound * (1 + 1e-9) + 1e-15

    def describe(self) -> str:
        if self.kind == "decimals":
            return f"rounded to {int(self.amount)} decimals"
        return f"{self.kind} {NumberFormat()(self.amount)}"

    def shown(self) -> str:
        """:meth:`describe` in the reader's language (the report's tolerance line; files keep English)."""
        from backprop_cli.model.i18n import _

        if self.kind == "decimals":
            return _("rounded to {n} decimals").format(n=int(self.amount))
        amount = NumberFormat()(self.amount)
        return (_("relative {amount}") if self.kind == "relative" else _("absolute {amount}")).format(amount=amount)

    def to_dict(self) -> dict[str, float]:
        return {self.kind: int(self.amount) if self.kind == "decimals" else self.amount}


#: Accepts every answer correctly rounded to 4 significant digits (rounding moves a value by at most
#: 0.05% of itself), and 0 for a value that is zero up to float64 rounding (ZERO_SLACK).
DEFAULT_TOLERANCE = Tolerance("relative", 1e-3)


@dataclass(frozen=True)
class Answer:
    name: str
    given: float | None  # None: blank, counted as missing
    given_text: str | None  # as written: "3/4", "0.3775"
    weight: float
    tolerance: Tolerance
    line: int | None  # where the answer is, for messages
    col: int | None
    note: str | None = None  # how the text was read, when it was normalised: "Unicode minus read as -"
    invalid: str | None = None  # why a submission's answer could not be read (lenient loading only)


@dataclass(frozen=True)
class RunChoice:
    """What `backprop answers --steps/--data` changed of the config's run, so `check` recomputes that run."""

    steps: int | None = None
    data_path: str | None = None  # relative to the answers file, as written
    data_sha256: str | None = None


@dataclass(frozen=True)
class AnswersFile:
    source: str  # the name used in messages
    directory: Path  # relative config paths are read from here
    config_path: str | None
    config_sha256: str | None
    tolerance: Tolerance
    answers: tuple[Answer, ...]
    document: Document
    run: RunChoice = RunChoice()  # the --steps and --data the file was written with
    student: str | None = None  # the student id a submission carries (`student:`), for batch grading
    salvaged: str | None = None  # why the file was read line by line (its YAML did not parse), if it was
    ecf: Policy | None = None  # ``ecf: {credit: 0.5}``: what an answer right from the student's own values earns
    rounding: Rounding | None = None  # ``rounding: {decimals: 4}``: the key is the chain rounded as you go

    def error(self, message: str, *loc: str | int, key: bool = False) -> ConfigError:
        return self.document.error(message, loc, key=key)


# ---------------------------------------------------------------- config identity


def config_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (a data file's identity; a config's raw hash, for information)."""
    return hashlib.sha256(read_bytes(path, str(path), limit=CONFIG_LIMIT, what="config file")).hexdigest()


def config_identity(path: Path) -> str:
    """The SHA-256 of a config's normalised content: its parsed value as canonical JSON (keys sorted,
    no comments, no layout), so a comment or a reordered key does not change which config it is.
    Text that does not parse falls back to the raw hash: the loader reports it when the config is read."""
    shown = str(path)
    text = read_text(path, shown, limit=CONFIG_LIMIT, what="config file")
    return text_identity(text, shown, json_text=path.suffix.lower() == ".json")


def text_identity(text: str, shown: str, *, json_text: bool = False) -> str:
    """:func:`config_identity` of a config's text."""
    from backprop_cli.loading.yamlsafe import parse

    try:
        value = parse(text, shown, fmt="json" if json_text else "yaml").value
    except ConfigError:
        return hashlib.sha256(text.encode()).hexdigest()
    return value_identity(value)


def value_identity(value: Any) -> str:
    """:func:`config_identity` of a config already parsed (its document's value)."""
    canonical = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):  # a non-string key keeps its type apart from the string it prints as
        return {(k if isinstance(k, str) else f"\0{type(k).__name__}:{k!r}"): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return f"\0float:{value!r}"
    return value


def config_reference(config: Path, answers_dir: Path) -> str:
    """How an answers file names its config: a built-in example by name, else a path from the answers file."""
    from backprop_cli.loading.examples import EXAMPLES_DIR

    if config.parent.resolve() == EXAMPLES_DIR.resolve():
        return config.stem
    return Path(os.path.relpath(config.resolve(), answers_dir.resolve())).as_posix()


def resolve_config(answers: AnswersFile, *, trusted: bool = False) -> Path:
    """The config an answers file names: a path from the answers file's folder, else a built-in example.

    A student's sheet (not ``trusted``) may only name a config inside its own folder: an absolute
    path, a ``..`` or a symlink that leads out of it is refused, so a submission cannot make the
    grader read another file. A ``trusted`` file (the grader's key) may name any path.
    """
    from backprop_cli.loading.examples import example_names, example_path

    if answers.config_path is None:
        raise answers.error("no config named; expected config.path here, or --config on the command line", "config")
    candidate = answers.directory / answers.config_path
    if not trusted:
        folder = Path(os.path.realpath(answers.directory))
        if Path(answers.config_path).is_absolute() or not Path(os.path.realpath(candidate)).is_relative_to(folder):
            raise answers.error(
                f"config {quoted(answers.config_path)} is outside the answers file's folder; expected a config "
                "beside it or below it (or --config, or --key, to choose the config)",
                "config",
                "path",
            )
    if os.path.isfile(candidate):  # never raises: an unreadable one is the loader's to report
        return candidate
    if answers.config_path in example_names():
        return example_path(answers.config_path)
    raise answers.error(
        f"config {quoted(answers.config_path)} not found beside the answers file ({quoted(str(candidate))}); "
        "expected an existing config file, or pass --config",
        "config",
        "path",
    )


def check_config(answers: AnswersFile, config: Path, shown: str, identity: str | None = None) -> None:
    """Refuse a config whose content differs from the one the answers file was written for
    (``identity``: the config's, when the caller has it already)."""
    if answers.config_sha256 is None:
        return
    actual = identity or config_identity(config)
    # files written before the normalised identity recorded the raw bytes' hash: still theirs
    if actual != answers.config_sha256 and config_sha256(config) != answers.config_sha256:
        raise answers.error(
            f"the config {shown} does not match this answers file (its sha256 is {actual[:12]}…, the file "
            f"records {answers.config_sha256[:12]}…); expected the config the answers were written for, or "
            "new answers from `backprop answers`",
            "config",
            "sha256",
        )


# ---------------------------------------------------------------- writing


def _key(name: str) -> str:
    """A name as a YAML key: plain where YAML reads it back as that string, else quoted."""
    plain = _PLAIN_KEY.fullmatch(name) and name.lower() not in ("true", "false", "null")
    return name if plain else json.dumps(name)


def _phase_words() -> dict[str, str]:
    """The phases' names as the sheet's comments show them, in the reader's language (looked up now)."""
    from backprop_cli.model.i18n import pgettext

    return {
        "parameters": pgettext("phase", "parameters"),
        "forward": pgettext("phase", "forward"),
        "loss": pgettext("phase", "loss"),
        "backward": pgettext("phase", "backward"),
        "reduction": pgettext("phase", "reduction"),
        "update": pgettext("phase", "update"),
        "summary": pgettext("phase", "summary"),
    }


def write_answers(
    stream: TextIO,
    values: Iterable[NamedValue],
    *,
    config_ref: str,
    sha256: str,
    label: str,
    blank: bool,
    include_given: bool = False,
    run: RunChoice | None = None,
    raw_sha256: str | None = None,
    student: str | None = None,
    header_lines: Iterable[str] = (),
    rounding: Rounding | None = None,
) -> int:
    """Write an answer key (or, ``blank``, the same sheet with empty values); returns the count written.

    Given numbers (parameters before a step, inputs and targets: see ``NamedValue.is_given``) are
    left out unless ``include_given``: nothing is computed to find them."""
    from backprop_cli.model.i18n import _, ngettext
    from backprop_cli.model.spec import shown_source

    lines: list[str] = []
    last: tuple[object, ...] | None = None
    count = skipped = handed_out = 0
    phases = _phase_words()
    for v in values:
        if v.is_given and not include_given:
            handed_out += 1
            continue
        if not math.isfinite(v.value):
            skipped += 1  # a saturated textbook factor (shown as inf in the trace) cannot be an answer
            continue
        group = (v.step, v.phase, v.layer, v.sample)
        if group != last:
            where = [_("step {step}").format(step=v.step), phases.get(v.phase, v.phase)]
            where += [_("layer {layer}").format(layer=v.layer)] if v.layer else []
            where += [_("sample {sample}").format(sample=v.sample + 1)] if v.sample is not None else []
            lines.append(f"  # {' · '.join(where)}")
            last = group
        number = exact_text(v.exact) if isinstance(v.exact, Fraction) else repr(v.value)
        lines.append(f"  {_key(v.name)}:" + ("" if blank else f" {number}"))
        count += 1
    if blank:
        title = ngettext(
            "backprop blank answer sheet for {label}: {n} numbers, named as in `backprop trace`.",
            "backprop blank answer sheet for {label}: {n} numbers, named as in `backprop trace`.",
            count,
        )
    else:
        title = ngettext(
            "backprop answer key for {label}: {n} numbers, named as in `backprop trace`.",
            "backprop answer key for {label}: {n} numbers, named as in `backprop trace`.",
            count,
        )
    notes = [
        title.format(label=comment_text(shown_source(label)), n=count),
        _("Answers are decimals (0.3775) or fractions (3/4); a blank counts as missing."),
        _("Default tolerance: {tolerance} (answers rounded to 4 significant digits pass).").format(
            tolerance=DEFAULT_TOLERANCE.shown()
        ),
        _(
            "Override it for the whole file (tolerance: {absolute}, {relative} or {decimals}) or per\n"
            "answer:  name: {per_answer}"
        ).format(
            absolute="{absolute: 0.01}",
            relative="{relative: 0.01}",
            decimals="{decimals: 3}",
            per_answer="{value: 0.5, weight: 2, tolerance: {decimals: 2}}",
        ),
        _("Check with: backprop check THIS_FILE"),
    ]
    if handed_out:
        notes.append(
            ngettext(
                "{n} given number (parameters before a step, inputs, targets) is left out; --given keeps them.",
                "{n} given numbers (parameters before a step, inputs, targets) are left out; --given keeps them.",
                handed_out,
            ).format(n=handed_out)
        )
    if skipped:
        notes.append(
            ngettext(
                "{n} non-finite values of the trace are left out.",
                "{n} non-finite values of the trace are left out.",
                skipped,
            ).format(n=skipped)
        )
    # a translation may break a note into lines: each is a comment of its own, so the YAML reads the same
    header = [f"# {line}" for note in notes for line in note.split("\n")]
    header += [f"# {comment_text(line)}" for line in header_lines]
    body = [f"format: {FORMAT}", f"version: {VERSION}"]
    body += [f"student: {json.dumps(student)}"] if student is not None else []
    body += ["config:", f"  path: {json.dumps(config_ref)}"]
    body.append(f"  sha256: {json.dumps(sha256)}")
    if raw_sha256 is not None and raw_sha256 != sha256:
        body.append(f"  raw_sha256: {json.dumps(raw_sha256)}")
    if run is not None and run.steps is not None:
        body.append(f"  steps: {run.steps}")
    if run is not None and run.data_path is not None:
        body += ["  data:", f"    path: {json.dumps(run.data_path)}", f"    sha256: {json.dumps(run.data_sha256)}"]
    if rounding is not None:
        from backprop_cli.homework.rounding import comment

        body.append(f"rounding: {rounding.to_yaml()}  # {comment_text(comment(rounding))}")
    body.append("answers:" + ("" if lines else " {}"))
    stream.write("\n".join([*header, *body, *lines]) + "\n")
    return count


# ---------------------------------------------------------------- reading


def load_answers(path: str | os.PathLike[str], *, lenient: bool = False) -> AnswersFile:
    """Read and validate an answers file; every problem is a located ConfigError.

    ``lenient`` reads a student's submission (graded against a key) as far as it can be read: a YAML
    slip has the file read line by line (:func:`tolerant.salvage`), an answer that is not a number is
    kept as invalid with the reason, and what only a key decides (tolerance, unknown top keys) is not
    held against it. What a file must hold to be graded at all (its answers mapping) is still checked.
    """
    shown = os.fspath(path)
    salvaged = None
    twice: dict[str, tuple[int, int]] = {}
    try:
        doc = load_file(path, shown, limit=budget.LIMITS.key_bytes, what="YAML answers file", values=_values())
    except ConfigError as error:
        readable_around = is_syntax_problem(error) or (is_refused_value(error) and Path(shown).suffix != ".json")
        if not (lenient and readable_around):
            raise
        utf16 = _utf16_document(path, shown)  # Notepad's "Unicode": valid YAML, in another encoding
        if utf16 is not None:
            doc = utf16
        else:
            (doc, twice), salvaged = _salvaged(path, shown), error.one_line()
    top = doc.value
    expected = "expected a mapping with config and answers (see `backprop answers`)"
    if top is None:
        raise ConfigError(f"empty answers file; {expected}", file=shown)
    if not isinstance(top, dict):
        raise doc.error(f"the top level is {describe(top)}; {expected}", ())
    if not lenient:
        _known_keys(doc, top, _TOP_KEYS, ())
        if "format" in top and top["format"] != FORMAT:
            raise doc.error(f"format is {describe(top['format'])}; expected {FORMAT!r}", ("format",))
        if "version" in top and (type(top["version"]) is not int or top["version"] != VERSION):
            raise doc.error(f"version {describe(top['version'])} is not supported; expected {VERSION}", ("version",))
    student = top.get("student")
    if student is not None and (isinstance(student, bool) or not isinstance(student, str | int)):
        raise doc.error(f"student is {describe(student)}; expected the student's id", ("student",))
    config_path, sha = _config(doc, top.get("config"))
    run = _run(doc, top.get("config"))
    tolerance = DEFAULT_TOLERANCE
    if "tolerance" in top and not lenient:  # a submission's own tolerance is never used: the key's is
        tolerance = _tolerance(doc, top["tolerance"], ("tolerance",))
    if "answers" not in top:
        raise doc.error(f"no answers; {expected}", (), key=False)
    given = top["answers"]
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise doc.error(f"answers is {describe(given)}; expected a mapping of name: value", ("answers",))
    read = _lenient_answer if lenient else _answer
    answers = tuple(one for name, entry in given.items() for one in _answers(doc, name, entry, tolerance, read))
    if twice:  # a name written twice in a salvaged sheet: neither value is taken
        answers = tuple(
            dataclasses.replace(a, given=None, invalid=_twice_message(twice[a.name])) if a.name in twice else a
            for a in answers
        )
    # like its tolerance, a submission's own credit policy and rounding are never used: the key's are
    policy = _policy(doc, top["ecf"]) if "ecf" in top and not lenient else None
    rounding = _rounding(doc, top["rounding"]) if "rounding" in top and not lenient else None
    who = None if student is None else str(student)
    return AnswersFile(
        shown,
        Path(shown).parent,
        config_path,
        sha,
        tolerance,
        answers,
        doc,
        run,
        student=who,
        salvaged=salvaged,
        ecf=policy,
        rounding=rounding,
    )


def _twice_message(lines: tuple[int, int]) -> str:
    return f"written twice (lines {lines[0]} and {lines[1]}); expected each name once"


def _sheet_text(path: str | os.PathLike[str], shown: str) -> str:
    """A sheet's text however it is encoded: UTF-16 by its byte order mark, else UTF-8 with each
    undecodable byte replaced by U+FFFD (an answer holding one is then invalid, not the sheet)."""
    raw = bytes(read_bytes(path, shown, limit=budget.LIMITS.key_bytes, what="YAML answers file"))
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def _utf16_document(path: str | os.PathLike[str], shown: str) -> Document | None:
    """A sheet in UTF-16 (by its byte order mark) whose text is valid YAML, parsed; else None."""
    from backprop_cli.loading.yamlsafe import parse

    raw = bytes(read_bytes(path, shown, limit=budget.LIMITS.key_bytes, what="YAML answers file"))
    if not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    try:
        text = raw.decode("utf-16")
        return parse(text, shown, fmt="json" if Path(shown).suffix.lower() == ".json" else "yaml", values=_values())
    except (UnicodeDecodeError, ConfigError):
        return None  # read line by line, as any other sheet that does not parse


def _salvaged(path: str | os.PathLike[str], shown: str) -> tuple[Document, dict[str, tuple[int, int]]]:
    """A sheet whose YAML does not parse, as the document its readable lines make (see tolerant.salvage),
    and the answer names written twice (with the lines of their first two)."""
    from backprop_cli.homework.tolerant import plain_value, salvage

    found = salvage(_sheet_text(path, shown))
    twice: dict[str, tuple[int, int]] = {}
    value: dict[str, Any] = {"answers": {}}
    marks: dict[tuple[str | int, ...], tuple[int, int]] = {}
    if "student" in found.top:
        value["student"] = found.top["student"]
    config = {k.removeprefix("config."): v for k, v in found.top.items() if k.startswith("config.")}
    if config:
        value["config"] = config
    for entry in found.answers:
        if entry.name not in value["answers"]:
            value["answers"][entry.name] = plain_value(entry.text)
            marks[("answers", entry.name)] = (entry.line, entry.col)
        elif entry.name not in twice:
            twice[entry.name] = (marks[("answers", entry.name)][0], entry.line)
    return Document(value, shown, marks, marks), twice


def _lenient_answer(doc: Document, name: Any, entry: Any, tolerance: Tolerance) -> Answer:
    """An answer as :func:`_answer` reads it, or, when it cannot be read, an invalid one saying why."""
    try:
        return _answer(doc, name, entry, tolerance)
    except ConfigError as error:
        mark = doc.mark(("answers", str(name)), key=True)
        text = entry if isinstance(entry, str) else None if entry is None else json.dumps(entry, default=str)
        return Answer(
            str(name),
            None,
            text,
            1.0,
            tolerance,
            mark[0] if mark else None,
            mark[1] if mark else None,
            invalid=error.message,
        )


def _rounding(doc: Document, value: Any) -> Rounding:
    """``rounding: {decimals: 4}`` or ``{significant: 4}``: every intermediate rounded as you go."""
    from backprop_cli.homework.rounding import EXACT, KINDS, Rounding

    expected = "expected {decimals: N} or {significant: N} with N from 1 to 15, or exact"
    if value == EXACT:
        return Rounding(EXACT)
    if not isinstance(value, dict) or len(value) != 1:
        raise doc.error(f"rounding is {describe(value)}; {expected}", ("rounding",))
    _known_keys(doc, value, KINDS, ("rounding",))
    ((kind, digits),) = value.items()
    if type(digits) is not int or not 1 <= digits <= 15:
        raise doc.error(f"rounding.{kind} is {describe(digits)}; {expected}", ("rounding", kind))
    return Rounding(kind, digits)


def _policy(doc: Document, value: Any) -> Policy:
    """``ecf: {credit: 0.5}``: the share of an answer's weight that an error carried forward earns."""
    expected = "expected a mapping {credit: N} with N from 0 to 1 (0.5: half the points)"
    if not isinstance(value, dict):
        raise doc.error(f"ecf is {describe(value)}; {expected}", ("ecf",))
    _known_keys(doc, value, ("credit",), ("ecf",))
    amount = value.get("credit", Policy().credit)
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not 0 <= amount <= 1:
        raise doc.error(f"ecf.credit is {describe(amount)}; {expected}", ("ecf", "credit"))
    return Policy(float(amount))


def _values() -> Values:
    hint = "; write fewer names (`backprop answers` with --step, --layer, --phase, --sample or --only)"
    return Values(budget.LIMITS.key_values, "answers file", hint)


def _known_keys(doc: Document, mapping: Mapping[str, Any], allowed: tuple[str, ...], at: tuple[str | int, ...]) -> None:
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {quoted(close[0])}?)" if close else ""
            raise doc.error(
                f"unknown key {quoted(key)}{hint}; expected one of {', '.join(allowed)}", (*at, key), key=True
            )


def _config(doc: Document, value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str):  # a bare path
        return value, None
    if not isinstance(value, dict):
        raise doc.error(f"config is {describe(value)}; expected a mapping with path and sha256", ("config",))
    _known_keys(doc, value, ("path", "sha256", "raw_sha256", "steps", "data"), ("config",))
    path, sha = value.get("path"), value.get("sha256")
    if path is not None and not isinstance(path, str):
        raise doc.error(f"config.path is {describe(path)}; expected a file path", ("config", "path"))
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
        raise doc.error(f"{describe(sha)} is not a SHA-256; expected 64 hex digits", ("config", "sha256"))
    return path, sha


def _run(doc: Document, value: Any) -> RunChoice:
    """config.steps and config.data {path, sha256}: the run `answers --steps/--data` wrote the file for."""
    if not isinstance(value, dict):
        return RunChoice()
    steps, data = value.get("steps"), value.get("data")
    if steps is not None and (type(steps) is not int or steps < 1):
        raise doc.error(f"config.steps is {describe(steps)}; expected a whole number ≥ 1", ("config", "steps"))
    if data is None:
        return RunChoice(steps)
    if not isinstance(data, dict):
        raise doc.error(f"config.data is {describe(data)}; expected a mapping with path and sha256", ("config", "data"))
    _known_keys(doc, data, ("path", "sha256"), ("config", "data"))
    path, sha = data.get("path"), data.get("sha256")
    if not isinstance(path, str) or not path:
        raise doc.error(f"config.data.path is {describe(path)}; expected a file path", ("config", "data", "path"))
    if not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
        raise doc.error(f"{describe(sha)} is not a SHA-256; expected 64 hex digits", ("config", "data", "sha256"))
    return RunChoice(steps, path, sha)


def resolve_data(answers: AnswersFile) -> Path | None:
    """The data file an answers file was written with (``answers --data``), checked against its SHA-256.

    The path is read from the answers file's folder and may not leave it: an answers file never makes
    the grader read a file elsewhere (``check --data`` names one)."""
    run = answers.run
    if run.data_path is None:
        return None
    at = ("config", "data", "path")
    relative = Path(run.data_path)
    if relative.is_absolute() or ".." in relative.parts:
        raise answers.error(
            f"data path {run.data_path!r} leaves the answers file's folder; expected a path inside it, or "
            "--data on the command line",
            *at,
        )
    candidate = answers.directory / relative
    if not candidate.is_file():
        raise answers.error(
            f"data file {run.data_path!r} not found beside the answers file; expected it there, or --data", *at
        )
    actual = config_sha256(candidate)
    if actual != run.data_sha256:
        raise answers.error(
            f"the data file {run.data_path!r} does not match this answers file (its sha256 is {actual[:12]}…); "
            "expected the data the answers were written for",
            "config",
            "data",
            "sha256",
        )
    return candidate


def _tolerance(doc: Document, value: Any, at: tuple[str | int, ...]) -> Tolerance:
    expected = "expected a mapping with one of relative, absolute or decimals, e.g. {relative: 0.001}"
    if not isinstance(value, dict) or not value:
        raise doc.error(f"tolerance is {describe(value)}; {expected}", at)
    if len(value) > 1:
        raise doc.error(f"tolerance gives {' and '.join(map(str, value))}; {expected.replace('one', 'only one')}", at)
    _known_keys(doc, value, TOLERANCE_KINDS, at)
    ((kind, amount),) = value.items()
    if kind == "decimals":
        if type(amount) is not int or not 0 <= amount <= 15:
            raise doc.error(f"decimals is {describe(amount)}; expected a whole number from 0 to 15", (*at, kind))
        return Tolerance(kind, float(amount))
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
        raise doc.error(f"{kind} tolerance is {describe(amount)}; expected a number ≥ 0", (*at, kind))
    return Tolerance(kind, float(amount))


def _answers(
    doc: Document, name: Any, entry: Any, tolerance: Tolerance, read: Callable[..., Answer] | None = None
) -> list[Answer]:
    """An answer, or a whole matrix's or vector's (``out.W: [[1, -1.5]]``, ``hidden.delta: [-0.65, 0]``,
    the matrix view's names): one answer per entry, each named as the trace names it. ``read`` reads
    one answer (``_answer``, or the lenient reader of batch grading)."""
    read = read or _answer
    value = entry.get("value") if isinstance(entry, dict) else entry
    if not isinstance(value, list):
        return [read(doc, name, entry, tolerance)]
    from backprop_cli.model.names import matrix_names

    at: tuple[str | int, ...] = ("answers", name) if isinstance(name, str) else ("answers",)
    rows = [row if isinstance(row, list) else [row] for row in value]
    names = matrix_names(name, len(rows), len(rows[0]) if rows else 0) if isinstance(name, str) and rows else None
    if names is None and not (isinstance(name, str) and matrix_names(name, 1, 1)):
        return [read(doc, name, entry, tolerance)]  # a list under a scalar's name: "the answer is a list"
    if names is None or any(len(row) != len(rows[0]) for row in rows):
        raise doc.error(
            f"a list answers a matrix or vector name (out.W, hidden.delta), with one row of entries per row; "
            f"{name!r} with {describe(value)} is neither",
            at,
        )
    mark = doc.mark(at, key=True)
    out = []
    for row_names, row in zip(names, rows, strict=True):
        for entry_name, number in zip(row_names, row, strict=True):
            one = read(doc, entry_name, {**entry, "value": number} if isinstance(entry, dict) else number, tolerance)
            out.append(replace(one, line=mark[0] if mark else None, col=mark[1] if mark else None))
    return out


def _answer(doc: Document, name: Any, entry: Any, tolerance: Tolerance) -> Answer:
    if not isinstance(name, str):
        raise doc.error(f"the name {describe(name)} is not a name; expected a name such as h.z1", ("answers",))
    at: tuple[str | int, ...] = ("answers", name)
    weight = 1.0
    if isinstance(entry, dict):
        _known_keys(doc, entry, ("value", "weight", "tolerance"), at)
        if "weight" in entry:
            raw = entry["weight"]
            if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= MAX_WEIGHT:  # NaN too
                raise doc.error(
                    f"weight is {describe(raw)}; expected a number from 0 to {MAX_WEIGHT:,} (the answer's points)",
                    (*at, "weight"),
                )
            weight = float(raw)
        if "tolerance" in entry:
            tolerance = _tolerance(doc, entry["tolerance"], (*at, "tolerance"))
        entry = entry.get("value")
        at = (*at, "value")
    given, text, note = _number(doc, entry, at)
    mark = doc.mark(("answers", name), key=True)
    return Answer(name, given, text, weight, tolerance, mark[0] if mark else None, mark[1] if mark else None, note)


def _number(doc: Document, value: Any, at: tuple[str | int, ...]) -> tuple[float | None, str | None, str | None]:
    """A decimal or a fraction ("3/4"), as typed (tolerant.read_number: −0,1385 too); None for a blank.
    The third item says how the text was normalised, if it was."""
    from backprop_cli.homework.tolerant import NotANumber, read_number

    expected = "expected a decimal such as 0.3775, a fraction such as 3/4, or nothing (blank)"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None, None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise doc.error(f"the answer is {describe(value)}; {expected}", at)
    if isinstance(value, int | float):
        return float(value), repr(value) if isinstance(value, float) else str(value), None
    try:
        reading = read_number(value)
    except NotANumber as why:
        if str(why) == "the fraction divides by zero":
            raise doc.error(f"the fraction {quoted(value)} divides by zero; {expected}", at) from None
        raise doc.error(f"the answer {describe(value)} is not a number ({why}); {expected}", at) from None
    return reading.value, value.strip(), reading.note or None
