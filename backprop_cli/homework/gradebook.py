"""Grading a whole class in one run: submissions matched to their keys, one row per student, a summary.

A key is an answers file of the grader's (``backprop answers``, or one per student from ``backprop
variants --answers``); a directory of keys holds ``*.key.yaml`` files, each the key of the student its
``student:`` field names (else its file name: ``s17.key.yaml`` is s17's). A submission is matched to
its key by the ``student:`` it carries, else by its file name (``s17.yaml``, ``s17.sheet.yaml``), else
by its folder's name (``s17/answers.yaml``); a file whose ``student:`` names another student never
displaces that student's own file (it becomes a ``conflict`` row of the student its name says). Every
student gets a row: a submission that cannot be read at all scores 0 with the reason, and a student with
a key and no submission is "no submission". The grade-import layouts hold one row a student.
"""

from __future__ import annotations

import csv
import glob
import io
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backprop_cli.errors import ConfigError
from backprop_cli.homework.answers import AnswersFile, check_config, load_answers
from backprop_cli.homework.check import CheckResult, check_answers, with_feedback
from backprop_cli.homework.ecf import VERDICTS
from backprop_cli.homework.values import NamedValue
from backprop_cli.model import budgets as budget
from backprop_cli.model.filters import Filter
from backprop_cli.model.numbers import NumberFormat

if TYPE_CHECKING:
    from backprop_cli.loading.expression import ExprSpec
    from backprop_cli.model.spec import NetworkSpec

FORMAT = "backprop-gradebook"
VERSION = 1
LAYOUTS = ("plain", "canvas", "moodle")
KEY_SUFFIXES = (".key.yaml", ".key.yml", ".key.json")
_SHEET_SUFFIXES = (".sheet", ".answers", ".submission")
_EXTENSIONS = (".yaml", ".yml", ".json")
STATUSES = ("graded", "unreadable", "no key", "no submission", "duplicate", "conflict")


@dataclass(frozen=True)
class Key:
    """One key with its config's trace recomputed: what each of its students is graded against."""

    student: str | None  # None: the one key of every submission
    rubric: AnswersFile
    table: Mapping[str, NamedValue]  # by the key's rounding protocol, as a single check computes it
    config: str  # how the config is shown
    identity: str  # its normalised SHA-256
    path: Path  # the config file
    chosen: Callable[[NamedValue], bool] | None = None  # check's filters, as they apply to this key's trace
    spec: NetworkSpec | ExprSpec | None = None  # the program, for the feedback (None: verdicts only)
    only: Filter = field(default_factory=Filter)  # the steps the key asks, as the check computed them
    fmt: NumberFormat = field(default_factory=NumberFormat)
    hints: bool = True
    # the mutated traces, computed for this key's first sheet with a wrong answer when the key is shared
    whole: dict[str, dict[str, float]] = field(default_factory=dict, compare=False, repr=False)

    def feedback(self, result: CheckResult) -> CheckResult:
        """``result`` with the feedback a single check of the sheet gives (misconceptions, hints)."""
        if self.spec is None:
            return result
        shared = self.whole if self.student is None else None
        return with_feedback(result, self.spec, self.only, self.fmt, self.table, hints=self.hints, whole=shared)

    def asked(self) -> list[str]:
        return [a.name for a in self.rubric.answers if self.chosen is None or self.chosen(self.table[a.name])]

    def max_score(self) -> float:
        return sum(a.weight for a in self.rubric.answers if self.chosen is None or self.chosen(self.table[a.name]))


@dataclass(frozen=True)
class Row:
    """A student's line of the gradebook."""

    student: str
    file: str | None
    status: str  # one of STATUSES
    max_score: float
    result: CheckResult | None = None
    message: str = ""  # why a submission was not graded, or what grading read around

    @property
    def score(self) -> float:
        return self.result.score if self.result is not None else 0.0

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed and self.status == "graded"


@dataclass(frozen=True)
class Question:
    """How the class did on one name: counts of each verdict, and the most common wrong answer."""

    name: str
    counts: Mapping[str, int]
    common_wrong: tuple[str, int] | None  # (the answer as written, how many wrote it)

    @property
    def asked(self) -> int:
        return sum(self.counts.values())


@dataclass
class Batch:
    rows: list[Row] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)  # in the order the keys ask them
    strays: list[tuple[str, str]] = field(default_factory=list)  # (file, why): not answers, nobody's: no row

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)


# ---------------------------------------------------------------- finding and matching files


def expand(patterns: Sequence[str], skipped: list[Path] | None = None) -> list[Path]:
    """Files, folders (their answers files, recursively) and globs, in a stable order, each once.

    A symbolic link a folder or a glob holds is not followed (it could point at another student's
    file, or anywhere): it is left out and appended to ``skipped``. A file named itself is read."""
    found: list[Path] = []
    links: list[Path] = [] if skipped is None else skipped
    for pattern in patterns:
        if os.path.isdir(pattern):
            inside = sorted(Path(pattern).rglob("*"))
            links += [p for p in inside if p.is_symlink()]
            files = [p for p in inside if p.suffix.lower() in _EXTENSIONS and p.is_file() and not p.is_symlink()]
            if not files:
                raise ConfigError(
                    f"no answers file in the folder {pattern!r}; expected *.yaml, *.yml or *.json files",
                    path="SUBMISSIONS",
                )
            found += files
        elif glob.has_magic(pattern) and not os.path.exists(pattern):
            every = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
            links += [p for p in every if _through_link(p, pattern)]
            matched = [p for p in every if p.is_file() and not _through_link(p, pattern)]
            if not matched:
                raise ConfigError(f"no file matches {pattern!r}; expected answers files", path="SUBMISSIONS")
            found += matched
        elif not os.path.exists(pattern):
            raise ConfigError(
                f"no such file {pattern!r}; expected an answers file, a folder or a glob", path="SUBMISSIONS"
            )
        else:
            found.append(Path(pattern))
    return list(dict.fromkeys(found))


def _through_link(path: Path, pattern: str) -> bool:
    """Whether a glob's match is, or is reached through, a symbolic link (below the glob's fixed part)."""
    fixed = Path(os.path.dirname(pattern.split("*")[0].split("?")[0].split("[")[0]))
    here = path
    while here != fixed and here != here.parent:
        if here.is_symlink():
            return True
        here = here.parent
    return False


def key_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.name.endswith(KEY_SUFFIXES) and p.is_file())


def key_student(path: Path, rubric: AnswersFile) -> str:
    if rubric.student is not None:
        return rubric.student
    name = path.name
    for suffix in KEY_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def submission_student(path: Path, sheet: AnswersFile | None, known: Iterable[str] = ()) -> str:
    """The student a submission belongs to: its ``student:``, else its file name, else its folder's."""
    if sheet is not None and sheet.student is not None:
        return sheet.student
    stem = path.name
    for extension in _EXTENSIONS:
        stem = stem.removesuffix(extension)
    for suffix in _SHEET_SUFFIXES:
        stem = stem.removesuffix(suffix)
    keys = known if isinstance(known, set | frozenset) else set(known)
    if keys and stem not in keys and path.parent.name in keys:
        return path.parent.name
    return stem


_ANSWERS_FORMAT = re.compile(r"""["']?format["']?[ \t]*:[ \t]*["']?backprop-answers\b""")


def is_answers_file(path: Path) -> bool:
    """Whether a file says it is an answers file (``format: backprop-answers``), as `backprop answers`
    writes every sheet and key: what tells a sheet from the config handed in beside it."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(budget.LIMITS.key_bytes)
    except OSError:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _ANSWERS_FORMAT.search(head.decode("utf-16", errors="replace")) is not None
    return _ANSWERS_FORMAT.search(head.decode("utf-8", errors="replace")) is not None


def _salvaged_claim(path: Path) -> str | None:
    """The ``student:`` line of a file that could not be read as answers, if it has one."""
    from backprop_cli.homework.tolerant import salvage

    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            head = stream.read(budget.LIMITS.key_bytes)
    except OSError:
        head = ""
    student = salvage(head).top.get("student")
    return str(student) if student else None


def check_budget(submissions: int, names: int) -> None:
    """Refuse a batch past its budgets before anything is graded."""
    limits = budget.LIMITS
    if submissions > limits.submissions:
        raise ConfigError(
            f"{submissions:,} submissions; expected at most {limits.submissions:,} a run (grade them in parts)",
            path="SUBMISSIONS",
        )
    if names > limits.batch_names:
        raise ConfigError(
            f"the keys ask {names:,} names in all; expected at most {limits.batch_names:,} (fewer submissions a "
            "run, or keys written with --step or --phase)",
            path="--key",
        )


# ---------------------------------------------------------------- grading


@dataclass(frozen=True)
class Handed:
    """A submission read, with the student it claims and the one its file (or folder) name says."""

    path: Path
    sheet: AnswersFile | None
    problem: str  # why it cannot be read, if it cannot
    student: str  # its ``student:``, else its name's
    named: str  # its file's (or folder's) name's
    rank: int  # 0: name and ``student:`` agree (or no ``student:``); 1: the name is nobody's; 2: another's


def handed_file(path: Path, known: AbstractSet[str], shared: bool) -> Handed:
    sheet: AnswersFile | None = None
    problem = ""
    try:
        sheet = load_answers(path, lenient=True)
    except ConfigError as error:
        problem = error.one_line()
    claim = sheet.student if sheet is not None else _salvaged_claim(path)
    named = submission_student(path, None, known)
    student = claim if claim is not None else named
    rank = 0 if student == named else 2 if shared or named in known else 1
    return Handed(path, sheet, problem, student, named, rank)


def grade(
    files: Sequence[Path],
    keys: Mapping[str | None, Key],
    *,
    feedback: bool = True,
    handed: Sequence[Handed] | None = None,
    strays: bool = False,
    elsewhere: Sequence[Handed] = (),
) -> Batch:
    """Grade every submission against its student's key (``keys[None]``: one key for all).

    Each student's submission is the one file whose name and ``student:`` agree, else the first that
    claims them: a file claiming another student can never displace that student's own file; it is
    kept as a ``conflict`` row of the student its name says, for the TA to settle, and graded as nobody's.

    ``feedback``: each graded sheet gets what kind of wrong its answers are (Key.feedback: the
    misconceptions' mutated traces, hints), as its report shows it. The text report and the CSV show
    none of it (scores, verdicts, notes), so a batch that writes only those passes False and skips the
    costliest part of grading (a third of a class's time).

    ``strays`` (per-student keys): a file that cannot be read as answers, does not say it is an answers
    file (``format: backprop-answers``), and whose student and file name are nobody's with a key (a
    data file, notes in the submissions folder) gets no row, so that it is no phantom student in a
    gradebook; it is listed in ``Batch.strays`` instead, for a warning. A readable sheet of a student
    without a key keeps its ``no key`` row. With one key for all every file is a student's: no strays.

    ``elsewhere``: sheets read but graded in another part of the class (cli.grade's workers), for the
    "no submission" row of a student whose file claims someone else: it points at that file."""
    batch = Batch()
    asked: dict[str, None] = {}  # every name a key asks, in the order the keys ask them
    for each in keys.values():
        asked.update(dict.fromkeys(each.asked()))
    batch.questions = list(asked)
    shared = keys.get(None)
    known = [s for s in keys if s is not None]
    students = frozenset(known)  # looked up once a submission: not a set built each time
    if handed is None:  # else read already (cli.grade's workers: each grades its students' part of the files)
        handed = [handed_file(path, students, shared is not None) for path in files]
    if strays and shared is None:  # set aside before files are matched: a stray is nobody's duplicate either
        kept = []
        for hand in handed:
            if hand.student in keys or hand.sheet is not None or hand.rank == 2 or is_answers_file(hand.path):
                kept.append(hand)
            else:
                why = f"not an answers file, and there is no key for {hand.student!r}: not graded"
                batch.strays.append((str(hand.path), why))
        handed = kept
    chosen: dict[str, Handed] = {}
    ignored: dict[Path, list[str]] = {}  # the files beside a submission that cannot be read as answers

    def better(one: Handed, other: Handed) -> bool:
        # a sheet that reads as answers before one that does not (the variant's config handed in beside
        # it), then the student's own file before one claiming them (a hand-written sheet without
        # ``format: backprop-answers`` is still its student's own)
        return (one.sheet is None, one.rank) < (other.sheet is None, other.rank)

    for hand in handed:  # the best claim on each student; among equals, the first by path
        if hand.student not in chosen or better(hand, chosen[hand.student]):
            chosen[hand.student] = hand
    rowed: set[str] = set()
    for hand in handed:
        winner = chosen[hand.student]
        if winner is not hand and winner.sheet is not None and hand.sheet is None:
            ignored.setdefault(winner.path, []).append(str(hand.path))
    for hand in handed:
        student, path = hand.student, hand.path
        winner = chosen[student]
        if str(path) in ignored.get(winner.path, ()):
            continue  # the config (or any file) beside the answers: not a submission
        if winner is not hand:
            if hand.rank == 2:
                message = (
                    f"the sheet says student {student!r}, but {winner.path} is that student's own submission: "
                    "not graded (settle which student handed it in)"
                )
                batch.rows.append(Row(hand.named, str(path), "conflict", 0.0, message=message))
                rowed.add(hand.named)
            else:
                message = f"another submission of this student: {winner.path} is graded"
                batch.rows.append(Row(student, str(path), "duplicate", 0.0, message=message))
            continue
        key = shared or keys.get(student)
        rowed.add(student)
        if key is None:
            message = f"no key for student {student!r}; expected {student}.key.yaml among the keys"
            batch.rows.append(Row(student, str(path), "no key", 0.0, message=message))
            continue
        most = key.max_score()
        sheet = hand.sheet
        # a sheet whose student: differs from its file name's student says so on every row it gets
        claim = f"the sheet says student {student!r}, its file name {hand.named!r}: " if hand.rank == 2 else ""
        if sheet is None:
            batch.rows.append(Row(student, str(path), "unreadable", most, message=claim + hand.problem))
            continue
        try:
            check_config(sheet, key.path, key.config, key.identity)
            rounding = key.rubric.rounding
            result = check_answers(
                sheet,
                key.table,
                key.config,
                key.identity,
                key=key.rubric,
                chosen=key.chosen,
                rounding=rounding,
                lenient=True,
            )
        except ConfigError as error:
            batch.rows.append(Row(student, str(path), "unreadable", most, message=claim + error.one_line()))
            continue
        result = key.feedback(result) if feedback else result
        # the report's notes, then each answer's (a Unicode minus or a decimal comma read, why one is invalid)
        notes = [*result.notes(), *(f"{v.name}: {v.note}" for v in result.verdicts if v.note)]
        if path in ignored:
            notes = [f"not an answers file, not graded: {', '.join(ignored[path])}", *notes]
        if hand.rank == 2:
            named = hand.named
            notes = [f"the sheet says student {student!r}, its file name {named!r}: graded as {student!r}", *notes]
        batch.rows.append(Row(student, str(path), "graded", most, result, "; ".join(notes)))
    # a file named for a student that says another student: their "no submission" row points at it
    pointed: dict[str, Handed] = {}
    for hand in sorted((*handed, *elsewhere), key=lambda each: str(each.path)):
        if hand.rank == 2:
            pointed.setdefault(hand.named, hand)
    for student in known:  # every student with a key has a row
        if student not in rowed:
            theirs = pointed.get(student)
            why = f"{theirs.path}, named for this student, says student {theirs.student!r}" if theirs else ""
            batch.rows.append(Row(student, None, "no submission", keys[student].max_score(), message=why))
    return batch


_PREFERRED = ("graded", "unreadable", "no key", "no submission", "conflict", "duplicate")


def one_row_each(batch: Batch) -> tuple[list[Row], list[Row]]:
    """The rows a grade-import file holds, one a student (their graded submission before anything
    else), in the gradebook's order; and the rows it leaves out, for the TA to be told about."""
    best: dict[str, Row] = {}
    for row in batch.rows:
        if row.student not in best or _PREFERRED.index(row.status) < _PREFERRED.index(best[row.student].status):
            best[row.student] = row
    kept = [row for row in batch.rows if best[row.student] is row]
    return kept, [row for row in batch.rows if best[row.student] is not row]


def questions(batch: Batch) -> list[Question]:
    counts: dict[str, Counter[str]] = {name: Counter() for name in batch.questions}
    wrong: dict[str, Counter[str]] = {name: Counter() for name in batch.questions}
    for row in batch.rows:
        if row.result is None:
            continue
        for v in row.result.verdicts:
            counts[v.name][v.verdict] += 1
            if v.verdict == "wrong" and v.given_text is not None:
                wrong[v.name][v.given_text] += 1
    out = []
    for name in batch.questions:
        common = wrong[name].most_common(1)
        out.append(
            Question(
                name,
                {k: counts[name][k] for k in VERDICTS},  # every verdict: the counts add up to the graded
                common[0] if common else None,
            )
        )
    return out


# ---------------------------------------------------------------- reports


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


CELL_LIMIT = 32_767  # the characters a cell holds in Excel (and in what imports through it)
_CUT = " … (cut: a spreadsheet cell holds at most 32,767 characters; the JSON report has it whole)"


def _cell(text: str) -> str:
    """Text from a submission as a spreadsheet cell: one that a spreadsheet would run as a formula
    (``=HYPERLINK(…)`` as a student id) gets a leading apostrophe, as OWASP advises for CSV; one past
    CELL_LIMIT is cut there, saying so."""
    text = f"'{text}" if text.startswith(_FORMULA) else text
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - len(_CUT)] + _CUT


def totals(batch: Batch) -> list[float]:
    """The different totals the students' keys have (one, unless variants ask different questions)."""
    return sorted({row.max_score for row in batch.rows if row.status != "no key" and row.max_score > 0})


def points_possible(batch: Batch) -> float:
    """What an assignment is out of in a grade import: the largest total of a key."""
    return max(totals(batch), default=0.0)


def scaled(row: Row, most: float) -> float:
    """A row's score out of ``most`` (a grade import has one Points Possible): the same share of it as
    of the student's own key's total, rounded to 4 decimals. The plain gradebook keeps the points."""
    if row.max_score <= 0 or row.max_score == most:
        return row.score
    return round(row.score * most / row.max_score, 4)


_CANVAS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def to_csv(batch: Batch, *, layout: str = "plain", assignment: str = "backprop", canvas_id: str = "SIS User ID") -> str:
    """The gradebook: ``plain`` (a column per question, the total, the status), or the grade-import
    layouts of Canvas (Student, ID, SIS User ID, SIS Login ID, Section, the assignment; a Points
    Possible row; the id under ``canvas_id``, the column the roster had it in) and Moodle (ID number,
    the assignment, its feedback)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    most = points_possible(batch)
    if layout == "canvas":
        writer.writerow([*_CANVAS, assignment])
        writer.writerow(["Points Possible", "", "", "", "", _number(most)])
        where = _CANVAS.index(canvas_id)
        for row in one_row_each(batch)[0]:
            cells = [_cell(row.student) if i in (0, where) else "" for i in range(len(_CANVAS))]
            writer.writerow([*cells, _number(scaled(row, most))])
        return out.getvalue()
    if layout == "moodle":
        writer.writerow(["ID number", assignment, "Feedback"])
        for row in one_row_each(batch)[0]:
            writer.writerow([_cell(row.student), _number(scaled(row, most)), _cell(_feedback(row))])
        return out.getvalue()
    writer.writerow(["student", "file", *batch.questions, "total", "max_score", "status", "message"])
    for row in batch.rows:
        scores = {v.name: _number(v.score) for v in row.result.verdicts} if row.result else {}
        cells = [scores.get(q, "" if row.result else "0") for q in batch.questions]
        text = [_cell(row.student), _cell(row.file or "")]
        writer.writerow([*text, *cells, _number(row.score), _number(row.max_score), row.status, _cell(row.message)])
    return out.getvalue()


def _feedback(row: Row) -> str:
    if row.result is None:
        return f"{row.status}: {row.message}" if row.message else row.status
    return row.result.score_line()


def to_json(batch: Batch, *, reveal: str = "never", fmt: NumberFormat | None = None) -> dict[str, Any]:
    """``{"format": "backprop-gradebook", "version": 1, "students": [...], "questions": [...]}``; a graded
    student's ``report`` is the backprop-check report a single check of their sheet writes."""
    from backprop_cli.homework import check
    from backprop_cli.model.i18n import using

    students = []
    for row in batch.rows:
        entry: dict[str, Any] = {
            "student": row.student,
            "file": row.file,
            "status": row.status,
            "score": row.score,
            "max_score": row.max_score,
            "passed": row.passed,
            "message": row.message,
            "answers": {},
        }
        if row.result is not None:
            entry["config"] = {"path": row.result.config, "sha256": row.result.config_sha256}
            entry["answers"] = {
                v.name: {"verdict": v.verdict, "given_text": v.given_text, "score": v.score, "weight": v.weight}
                for v in row.result.verdicts
            }
            with using("en"):  # the report is data, the same in every language
                entry["report"] = check.to_json(row.result, reveal=reveal, fmt=fmt)
        students.append(entry)
    return {
        "format": FORMAT,
        "version": VERSION,
        "counts": {status: sum(r.status == status for r in batch.rows) for status in STATUSES},
        "students": students,
        "strays": [{"file": file, "message": why} for file, why in batch.strays],
        "questions": [
            {
                "name": q.name,
                "counts": dict(q.counts),
                "most_common_wrong": None
                if q.common_wrong is None
                else {"given_text": q.common_wrong[0], "count": q.common_wrong[1]},
            }
            for q in questions(batch)
        ],
    }


STUDENT_ROWS = 100  # the text report lists students up to this many; the gradebook holds every one
_COLUMN = {"ecf": "ecf (given yours)"}  # a column's heading where the verdict's name alone says too little


def table(batch: Batch, fmt: NumberFormat) -> Any:
    """The terminal report: one row per question (how many got it right, the most common wrong value),
    then the students (up to STUDENT_ROWS), then a line of totals."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    per_question = Table(box=box.SIMPLE_HEAD, title="Per question", title_justify="left")
    asked = questions(batch)
    # "correct given your values" (error carried forward) where any answer of the class is: else no column
    shown = [k for k in VERDICTS if k != "ecf" or any(q.counts[k] for q in asked)]
    for column in ("name", *(_COLUMN.get(k, k) for k in shown), "most common wrong"):
        per_question.add_column(column, justify="left" if column in ("name", "most common wrong") else "right")
    for q in asked:
        common = f"{q.common_wrong[0]} ({q.common_wrong[1]}×)" if q.common_wrong else ""
        counts = [str(q.counts[k]) for k in shown]
        per_question.add_row(Text(q.name), *counts, Text(common))
    parts: list[Any] = [per_question]
    if len(batch.rows) <= STUDENT_ROWS:
        students = Table(box=box.SIMPLE_HEAD, title="Per student", title_justify="left")
        for column in ("student", "score", "status", "note"):
            students.add_column(column, justify="right" if column == "score" else "left")
        for row in batch.rows:
            score = f"{fmt(row.score)}/{fmt(row.max_score)}"
            students.add_row(Text(row.student), score, row.status, Text(row.message))
        parts.append(students)
    else:
        parts.append(Text(f"{len(batch.rows):,} students: see the gradebook (--gradebook) for each one", style="dim"))
    graded = sum(row.status == "graded" for row in batch.rows)
    full = sum(row.passed for row in batch.rows)
    parts.append(
        Text(
            f"{len(batch.rows)} students: {graded} graded ({full} with every answer right), "
            f"{len(batch.rows) - graded} with no gradable submission",
            style="bold",
        )
    )
    return Group(*parts)
