"""A batch gives each student the feedback a single `backprop check` of their sheet gives (issue 15).

A simulated class, each student with their own variant: right, partly wrong (a slip carried forward,
so later answers are ECF), a misconception (a sheet written from a mutated trace), a sign slip (a
hint), typo-ridden (decimal comma, Unicode minus, a misspelt name, text), empty, and a key written
round-as-you-go. Every graded student's report in the batch's JSON gradebook is compared, key by key,
with the JSON report of `check SHEET --key KEY` run alone.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.cli.names import compute_values, load_program
from backprop_cli.homework.answers import load_answers
from backprop_cli.homework.check import check_answers
from backprop_cli.homework.fingerprints import alternatives, look_for
from backprop_cli.loading.examples import example_path
from backprop_cli.model.filters import Filter
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import NetworkSpec
from tests.homework.test_ecf import carried

STEP1 = Filter(steps=frozenset({1}))


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def answer_lines(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text, count = re.subn(rf"(?m)^  {re.escape(name)}:.*$", f"  {name}: {value}", text)
        assert count == 1, name
    return text


def class_of(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """Eight students, each with a variant of Mazur's network, a key, and a submission of one kind."""
    base = example_path("classic_2_2_2").read_text(encoding="utf-8")
    keys, subs = tmp_path / "keys", tmp_path / "submissions"
    keys.mkdir()
    subs.mkdir()
    students = ["right", "slip", "ascent", "sign", "typos", "empty", "rounded", "rounded_off"]
    for i, student in enumerate(students):
        config = keys / f"{student}.yaml"
        config.write_text(base.replace("[[0.15,", f"[[{0.15 + 0.01 * i:.2f},"), encoding="utf-8")
        extra = ["--round-as-you-go", "4"] if student.startswith("rounded") else []
        done = invoke("answers", str(config), *extra, "-o", str(keys / f"{student}.key.yaml"))
        assert done.exit_code == 0, done.stderr
        spec, _ = load_program(str(config))
        assert isinstance(spec, NetworkSpec)
        table = {v.name: v for v in compute_values(spec, NumberFormat(), STEP1)}
        key = (keys / f"{student}.key.yaml").read_text(encoding="utf-8")
        asked = re.findall(r"(?m)^  ([\w./]+):", key.split("answers:", 1)[1])
        if student == "slip":  # h.z1 wrong, everything after it worked out from it: ECF
            own = carried(table, {"h.z1": table["h.z1"].value + 0.1})
            text = answer_lines(key, {n: repr(own[n]) for n in asked})
        elif student == "ascent":  # the updates up the gradient: a misconception
            mutated = alternatives(spec, STEP1, NumberFormat())["gradient_ascent"]
            text = answer_lines(key, {n: repr(mutated[n]) for n in asked if n.endswith(".new")})
        elif student == "sign":  # one delta with its sign flipped: a hint
            text = answer_lines(key, {"o.delta2": repr(-table["o.delta2"].value)})
        elif student == "typos":
            comma = f"{table['h.a1'].value:.6f}".replace(".", ",")
            minus = f"\u2212{abs(table['o.dL_da2'].value):.6f}"
            text = answer_lines(key, {"h.a1": comma, "o.dL_da2": minus, "o.a1": "about 0.75"})
            text = text.replace("  h.z2:", "  h.zz2:")
        elif student == "empty":
            text = re.sub(r"(?m)^(  [\w./]+):.*$", r"\1:", key)
        elif student == "rounded_off":  # written with more digits than the protocol: still right
            text = answer_lines(key, {"o.z1": repr(table["o.z1"].value)})
        else:
            text = key
        (subs / f"{student}.yaml").write_text(text, encoding="utf-8")
    return keys, subs, students


def single(sheet: Path, key: Path, *options: str) -> dict[str, Any]:
    done = invoke("check", str(sheet), "--key", str(key), "--format", "json", *options)
    assert done.exit_code in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without the two texts that say how a path was given (relative or not)."""
    return {k: v for k, v in report.items() if k not in ("answers_file", "config")}


@pytest.mark.parametrize("options", [(), ("--reveal", "wrong"), ("--no-hints",)], ids=["default", "reveal", "no-hints"])
def test_every_student_of_a_batch_gets_the_report_a_single_check_gives(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    keys, subs, students = class_of(tmp_path)
    done = invoke("check", "--key", str(keys), str(subs), "--format", "json", *options)
    assert done.exit_code == 1, done.stderr
    book = {row["student"]: row for row in json.loads(done.stdout)["students"]}
    assert sorted(book) == sorted(students) and all(row["status"] == "graded" for row in book.values())
    for student in students:
        alone = single(subs / f"{student}.yaml", keys / f"{student}.key.yaml", *options)
        assert comparable(book[student]["report"]) == comparable(alone), student
        assert book[student]["score"] == alone["score"]
    # the class's feedback is what each kind of sheet should get
    report = {s: book[s]["report"] for s in students}
    assert report["right"]["passed"] and report["rounded"]["passed"] and report["rounded_off"]["passed"]
    assert report["slip"]["first_wrong_step"] == "h.z1" and report["slip"]["counts"]["ecf"] > 10
    assert [f["name"] for f in report["ascent"]["fingerprints"] if f["recognised"]] == ["gradient_ascent"]
    sign = next(a for a in report["sign"]["answers"] if a["name"] == "o.delta2")
    assert ("hint" in sign) == ("--no-hints" not in options) and "sign" in sign.get("hint", "sign")
    typos = {a["name"]: a for a in report["typos"]["answers"]}
    assert typos["h.a1"]["verdict"] == "correct" and typos["o.dL_da2"]["verdict"] == "correct"
    assert typos["o.a1"]["verdict"] == "invalid" and typos["h.z2"]["verdict"] == "missing"
    assert report["empty"]["counts"]["missing"] == len(report["empty"]["answers"])


def test_a_shared_key_s_whole_traces_give_what_each_sheet_s_own_narrowed_traces_give(tmp_path: Path) -> None:
    """look_for lays the mutated traces out where a sheet's wrong answers sit; a batch with one key
    keeps them whole instead: both give the same fingerprints, for sheets wrong in any phase."""
    keys, subs, students = class_of(tmp_path)
    for student in students:
        key = load_answers(keys / f"{student}.key.yaml")
        spec, _ = load_program(str(keys / f"{student}.yaml"))
        assert isinstance(spec, NetworkSpec)
        table = {v.name: v for v in compute_values(spec, NumberFormat(), STEP1)}
        sheet = load_answers(subs / f"{student}.yaml", lenient=True)
        result = check_answers(sheet, table, "c", "", key=key, lenient=True)
        narrowed = look_for(result, spec, STEP1, NumberFormat(), table)
        whole: dict[str, dict[str, float]] = {}
        assert look_for(result, spec, STEP1, NumberFormat(), table, whole) == narrowed, student
        assert narrowed.verdicts == look_for(result, spec, STEP1, NumberFormat(), table, whole).verdicts


def test_one_key_for_the_class_gives_each_sheet_its_single_check_report(tmp_path: Path) -> None:
    """One key shared by every sheet: its mutated traces are computed once, whole, for all of them."""
    keys, subs, _ = class_of(tmp_path)
    key = keys / "ascent.key.yaml"
    shared = tmp_path / "shared"
    shared.mkdir()
    ascent = (subs / "ascent.yaml").read_text(encoding="utf-8")
    right = key.read_text(encoding="utf-8")
    delta = re.search(r"(?m)^  o\.delta2: (\S+)$", right)
    assert delta is not None
    sheets = {
        "a": ascent,  # the misconception
        "b": right,  # all right
        "c": answer_lines(right, {"o.delta2": repr(-float(delta.group(1)))}),  # a sign: a hint
        "d": answer_lines(ascent, {"o.delta2": repr(-float(delta.group(1)))}),  # both
    }
    for name, text in sheets.items():
        (shared / f"{name}.yaml").write_text(text, encoding="utf-8")
    done = invoke("check", "--key", str(key), *(str(shared / f"{n}.yaml") for n in sheets), "--format", "json")
    assert done.exit_code == 1, done.stderr
    book = {row["file"]: row for row in json.loads(done.stdout)["students"]}
    for name in sheets:
        alone = single(shared / f"{name}.yaml", key)
        assert comparable(book[str(shared / f"{name}.yaml")]["report"]) == comparable(alone), name
    recognised = [f["name"] for f in book[str(shared / "d.yaml")]["report"]["fingerprints"] if f["recognised"]]
    assert recognised == ["gradient_ascent"]


def test_a_batch_writes_the_same_gradebook_and_reports_with_protocol_checks_remembered_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the engine's protocol checks (a residual join? batch norm's buffers?) are remembered
    by class; the old path, plain isinstance on every call, gives every byte the same."""
    from backprop_cli.nn.layers import base

    keys, subs, _ = class_of(tmp_path)

    def batch(name: str) -> tuple[str, str, str]:
        book = tmp_path / f"{name}.csv"
        done = invoke("check", "--key", str(keys), str(subs), "--gradebook", str(book))
        reports = invoke("check", "--key", str(keys), str(subs), "--format", "json")
        assert done.exit_code == 1 and reports.exit_code == 1, done.stderr + reports.stderr
        return book.read_text(encoding="utf-8"), done.stdout, reports.stdout

    base._CONFORMS.clear()
    remembered = batch("new")
    assert base._CONFORMS  # the new path ran
    with monkeypatch.context() as patch:
        patch.setattr(base, "_conforms", lambda obj, protocol: isinstance(obj, protocol))
        base._CONFORMS.clear()
        plain = batch("old")
        assert not base._CONFORMS  # the old path ran
    assert remembered == plain


def _partly_wrong(keys: Path, subs: Path) -> None:
    """One more student: two answers plainly wrong (a forward number and an update), the rest right."""
    base = example_path("classic_2_2_2").read_text(encoding="utf-8")
    config = keys / "partly.yaml"
    config.write_text(base.replace("[[0.15,", "[[0.31,"), encoding="utf-8")
    done = invoke("answers", str(config), "-o", str(keys / "partly.key.yaml"))
    assert done.exit_code == 0, done.stderr
    key = (keys / "partly.key.yaml").read_text(encoding="utf-8")
    values = dict(re.findall(r"(?m)^  ([\w./]+): (\S+)$", key.split("answers:", 1)[1]))
    wrong = {"h.a2": repr(float(values["h.a2"]) + 0.2), "o.w1_1.new": repr(2 * float(values["o.w1_1.new"]))}
    (subs / "partly.yaml").write_text(answer_lines(key, wrong), encoding="utf-8")


def test_a_text_and_csv_batch_skips_the_feedback_and_writes_every_byte_the_full_path_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the text report and the gradebooks show scores, verdicts and notes, never what kind of
    wrong an answer is, so a batch without --format json computes no misconception traces or hints (and
    runs with the cycle collector off). The full path (every sheet's feedback, the collector on), run in
    this test, writes the same bytes, on stdout, stderr and in every gradebook layout; and each student's
    CSV row is what a single check of their sheet scores."""
    from backprop_cli.cli import grade as cli_grade
    from backprop_cli.homework import gradebook as book

    keys, subs, students = class_of(tmp_path)
    _partly_wrong(keys, subs)
    students = [*students, "partly"]
    calls: list[str] = []
    real = book.Key.feedback

    def counted(self: book.Key, result: Any) -> Any:
        calls.append(result.answers_file)
        return real(self, result)

    monkeypatch.setattr(book.Key, "feedback", counted)

    def run(name: str) -> list[tuple[int, str, str, str]]:
        out = []
        for layout in ("plain", "canvas", "moodle"):
            sheet = tmp_path / f"{name}-{layout}.csv"
            done = invoke("check", "--key", str(keys), str(subs), "--gradebook", str(sheet), "--layout", layout)
            out.append((done.exit_code, done.stdout, done.stderr, sheet.read_text(encoding="utf-8")))
        return out

    fast = run("fast")
    assert calls == []  # no sheet's feedback was computed
    grade = book.grade
    with monkeypatch.context() as patch:  # the full path: feedback for every sheet, the collector on
        patch.setattr(book, "grade", lambda files, keys, feedback=True, **how: grade(files, keys, feedback=True, **how))
        patch.setattr(cli_grade, "_no_cycle_collection", contextlib.nullcontext)
        full = run("full")
    assert len(calls) == 3 * len(students)  # every graded sheet, in each of the three runs
    assert fast == full
    assert fast[0][0] == 1 and "Per student" in fast[0][1]
    import gc

    assert gc.isenabled()  # the batch turned the collector back on
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(fast[0][3]))}
    assert sorted(rows) == sorted(students)
    for student in students:
        alone = single(subs / f"{student}.yaml", keys / f"{student}.key.yaml")
        assert float(rows[student]["total"]) == alone["score"], student
        scores = {a["name"]: a["score"] for a in alone["answers"]}
        assert {n: float(rows[student][n]) for n in scores} == scores, student
    verdicts = {s: single(subs / f"{s}.yaml", keys / f"{s}.key.yaml")["counts"] for s in ("partly", "slip", "sign")}
    assert verdicts["partly"]["wrong"] == 2 and verdicts["partly"]["correct"] > 20  # the class has each kind
    assert verdicts["slip"]["ecf"] > 10 and verdicts["sign"]["wrong"] == 1


def test_the_class_summary_counts_every_verdict_and_the_rows_keep_each_answers_note(tmp_path: Path) -> None:
    """Each question's counts add up to the sheets graded, answers correct given the student's own values
    (the slip's) among them; and what lenient reading did to an answer (a decimal comma, a Unicode minus)
    is in the student's row of the report and the gradebook, not only in the JSON report."""
    keys, subs, students = class_of(tmp_path)
    book = tmp_path / "grades.csv"
    text = invoke("check", "--key", str(keys), str(subs), "--gradebook", str(book), "--width", "160")
    assert text.exit_code == 1, text.stderr
    assert "ecf (given yours)" in text.stdout.splitlines()[2]  # the per-question table's heading
    done = invoke("check", "--key", str(keys), str(subs), "--format", "json")
    doc = json.loads(done.stdout)
    graded = sum(s["status"] == "graded" for s in doc["students"])
    assert graded == len(students)
    for question in doc["questions"]:
        assert sum(question["counts"].values()) == graded, question
    assert doc["questions"][1]["name"] == "h.z2"
    assert sum(q["counts"]["ecf"] for q in doc["questions"]) > 10  # the slip's answers after h.z1
    typos = next(row for row in csv.DictReader(book.open(encoding="utf-8")) if row["student"] == "typos")
    assert "h.a1: decimal comma read as a point" in typos["message"]
    assert "o.dL_da2: Unicode minus read as -" in typos["message"]
    assert "o.a1: the answer 'about 0.75'" in typos["message"]
    assert "h.a1: decimal comma read as a point" in text.stdout.replace("\n", " ")  # wrapped in its column
