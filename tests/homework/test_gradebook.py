"""`backprop check --key KEY_OR_DIR SUBMISSIONS...`: a simulated class graded in one run into a gradebook."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.loading.examples import example_path

STUDENTS = ["s1", "s2", "s3", "s4", "s5", "s6"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def fill(text: str, answers: dict[str, str]) -> str:
    for name, value in answers.items():
        text, count = re.subn(rf"(?m)^  {re.escape(name)}:.*$", f"  {name}: {value}", text)
        assert count == 1, name
    return text


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """Each student's own variant of Mazur's network (h.w1_1 = 0.15 + 0.01·i), its key and its blank sheet."""
    base = example_path("classic_2_2_2").read_text(encoding="utf-8")
    for i, student in enumerate(STUDENTS):
        config = write(tmp_path / "variants" / f"{student}.yaml", base.replace("[[0.15,", f"[[{0.15 + 0.01 * i:.2f},"))
        for out, extra in ((f"{student}.key.yaml", ()), (f"{student}.sheet.yaml", ("--blank",))):
            result = invoke("answers", str(config), "--phase", "forward", *extra, "-o", str(config.parent / out))
            assert result.exit_code == 0, result.stderr
    return tmp_path


def key_text(course: Path, student: str) -> str:
    return (course / "variants" / f"{student}.key.yaml").read_text(encoding="utf-8")


def submit(course: Path) -> Path:
    """Right, partly wrong, typo-ridden, empty, missing, a sheet for another variant, and a stranger."""
    subs = course / "submissions"
    write(subs / "s1.yaml", key_text(course, "s1"))  # all right; matched by its file name
    write(subs / "x.yaml", "student: s2\n" + fill(key_text(course, "s2"), {"h.z1": "9"}))  # by its student: field
    s3 = key_text(course, "s3")  # h.z1 = 0.17·0.05 + 0.20·0.10 + 0.35 = 0.3785, written with a decimal comma
    s3 = fill(s3, {"h.z1": "0,3785"}).replace("  h.a2:", "  h.aa2:")  # … and h.a2 misspelt: missing
    write(subs / "s3" / "answers.yaml", s3)  # by its folder's name
    shutil.copy(course / "variants" / "s4.sheet.yaml", subs / "s4.sheet.yaml")  # handed in blank
    # s5 hands in nothing; s6 hands in s1's key: answers for another variant
    write(subs / "s6.yaml", key_text(course, "s1"))
    write(subs / "zed.yaml", key_text(course, "s1"))  # nobody's: no key
    return subs


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_simulated_class_is_graded_in_one_run_and_every_row_is_right(course: Path) -> None:
    subs = submit(course)
    book = course / "grades.csv"
    result = invoke("check", "--key", str(course / "variants"), str(subs), "--gradebook", str(book))
    assert result.exit_code == 1 and "check failed: 6 of 7 students" in result.stderr, result.stderr
    got = {row["student"]: row for row in rows(book.read_text(encoding="utf-8"))}
    assert sorted(got) == [*STUDENTS, "zed"]  # every student with a key has a row, and the stranger too
    questions = ["h.z1", "h.z2", "h.a1", "h.a2", "o.z1", "o.z2", "o.a1", "o.a2"]  # --phase forward of 2-2-2
    assert list(got["s1"])[2:-4] == questions
    expected = {  # (total, max, status)
        "s1": ("8", "8", "graded"),
        "s2": ("7", "8", "graded"),  # h.z1 wrong
        "s3": ("7", "8", "graded"),  # the comma read, h.a2 missing (misspelt)
        "s4": ("0", "8", "graded"),  # blank: every answer missing
        "s5": ("0", "8", "no submission"),
        "s6": ("0", "8", "unreadable"),  # written for s1's variant
        "zed": ("0", "0", "no key"),
    }
    assert {s: (r["total"], r["max_score"], r["status"]) for s, r in got.items()} == expected
    assert got["s2"]["h.z1"] == "0" and got["s2"]["h.z2"] == "1"
    assert got["s3"]["h.z1"] == "1" and got["s3"]["h.a2"] == "0"
    assert "config.sha256: the config" in got["s6"]["message"]
    assert "h.aa2" in got["s3"]["message"]
    report = result.stdout
    assert re.search(r"h\.z1\s+2\s+1\s+1\s+0\s+9 \(1×\)", report), report  # right: s1, s3; wrong: s2; missing: s4
    assert "7 students: 4 graded (1 with every answer right), 3 with no gradable submission" in report


def test_the_gradebook_json_and_the_canvas_and_moodle_layouts(course: Path) -> None:
    subs = submit(course)
    result = invoke("check", "--key", str(course / "variants"), str(subs), "--format", "json")
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["format"] == "backprop-gradebook" and doc["version"] == 1
    assert doc["counts"] == {
        "graded": 4,
        "unreadable": 1,
        "no key": 1,
        "no submission": 1,
        "duplicate": 0,
        "conflict": 0,
    }
    s2 = next(s for s in doc["students"] if s["student"] == "s2")
    assert (s2["score"], s2["max_score"], s2["answers"]["h.z1"]["verdict"]) == (7.0, 8.0, "wrong")
    z1 = doc["questions"][0]
    assert z1 == {
        "name": "h.z1",
        "counts": {"correct": 2, "ecf": 0, "wrong": 1, "missing": 1, "invalid": 0},
        "most_common_wrong": {"given_text": "9", "count": 1},
    }
    canvas = course / "canvas.csv"
    args = ("check", "--key", str(course / "variants"), str(subs), "--gradebook", str(canvas))
    assert invoke(*args, "--layout", "canvas", "--assignment", "HW3 (1234)").exit_code == 1
    lines = canvas.read_text(encoding="utf-8").splitlines()
    header = "Student,ID,SIS User ID,SIS Login ID,Section,HW3 (1234)"
    assert lines[:3] == [header, "Points Possible,,,,,8", "s1,,s1,,,8"]
    assert invoke(*args, "--layout", "canvas", "--canvas-id", "ID").exit_code == 1  # ids from Canvas's ID column
    assert canvas.read_text(encoding="utf-8").splitlines()[2] == "s1,s1,,,,8"
    moodle = course / "moodle.csv"
    assert invoke(*args[:-1], str(moodle), "--layout", "moodle").exit_code == 1
    table = rows(moodle.read_text(encoding="utf-8"))
    assert table[0] == {"ID number": "s1", "backprop": "8", "Feedback": table[0]["Feedback"]}
    assert table[0]["Feedback"].startswith("Score: 8/8 (100%)")


def test_one_key_for_every_submission_and_globs(course: Path) -> None:
    subs = course / "one"
    write(subs / "ann.yaml", key_text(course, "s1"))
    write(subs / "ben.yaml", fill(key_text(course, "s1"), {"o.a2": "−0.5"}))  # σ is positive: wrong
    key = course / "variants" / "s1.key.yaml"
    result = invoke("check", "--key", str(key), str(subs / "*.yaml"), "--format", "json")
    scores = {s["student"]: s["score"] for s in json.loads(result.stdout)["students"]}
    assert result.exit_code == 1 and scores == {"ann": 8.0, "ben": 7.0}
    both = invoke("check", "--key", str(key), str(subs / "ann.yaml"), "--gradebook", str(course / "g.csv"))
    assert both.exit_code == 0 and (course / "g.csv").is_file()


def test_a_broken_key_is_bad_input_and_nothing_is_written(course: Path) -> None:
    subs = submit(course)
    broken = course / "variants" / "s2.key.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("  h.z1:", "  h.zz1:"), encoding="utf-8")
    book = course / "grades.csv"
    result = invoke("check", "--key", str(course / "variants"), str(subs), "--gradebook", str(book))
    assert result.exit_code == 2 and "s2.key.yaml:" in result.stderr and "unknown name 'h.zz1'" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and not book.exists() and result.stdout == ""
    empty = course / "empty"
    empty.mkdir()
    result = invoke("check", "--key", str(empty), str(subs))
    assert result.exit_code == 2 and "no *.key.yaml file" in result.stderr
    result = invoke("check", str(subs / "s1.yaml"), str(subs / "s6.yaml"))
    assert result.exit_code == 2 and "--key" in result.stderr
    result = invoke("check", "--key", str(course / "variants"), str(course / "nothing-*.yaml"))
    assert result.exit_code == 2 and "no file matches" in result.stderr
    result = invoke("check", "--key", str(course / "variants"), str(subs), "--explain")
    assert result.exit_code == 2 and result.stderr.startswith("--explain: ")


def test_a_batch_past_its_budget_is_refused_before_grading(course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from backprop_cli.model import budgets

    subs = submit(course)
    monkeypatch.setattr(budgets, "LIMITS", replace(budgets.Budgets(), submissions=3))
    result = invoke("check", "--key", str(course / "variants"), str(subs))
    assert result.exit_code == 2 and "6 submissions; expected at most 3" in result.stderr
    monkeypatch.setattr(budgets, "LIMITS", replace(budgets.Budgets(), batch_names=40))
    result = invoke("check", "--key", str(course / "variants"), str(subs))
    assert result.exit_code == 2 and "the keys ask 48 names in all; expected at most 40" in result.stderr


def test_a_class_of_200_from_a_roster_graded_in_one_command(tmp_path: Path) -> None:
    from tests.homework.test_variants import course as roster_course

    ids = roster_course(tmp_path, 200)
    made = invoke(
        "variants", str(tmp_path / "hw.yaml"), "--roster", str(tmp_path / "roster.csv"),
        "--secret-file", str(tmp_path / "course.key"), "-o", str(tmp_path / "v"), "--answers", "--phase", "forward",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    subs = tmp_path / "subs"
    want: dict[str, int] = {}
    for i, student in enumerate(ids):
        key = (tmp_path / "v" / f"{student}.key.yaml").read_text(encoding="utf-8")
        z1 = re.search(r"(?m)^  h\.z1: (\S+)$", key)
        assert z1 is not None
        if i % 4 == 0:  # right
            text, want[student] = key, 6
        elif i % 4 == 1:  # partly wrong: h.z1 off by one
            text, want[student] = fill(key, {"h.z1": repr(float(z1.group(1)) + 1)}), 5
        elif i % 4 == 2:  # typo-ridden: h.z1 with a decimal comma (right), h.a1 misspelt (missing)
            text = fill(key, {"h.z1": z1.group(1).replace(".", ",")}).replace("  h.a1:", "  h.aa1:")
            want[student] = 5
        else:  # handed in blank
            text, want[student] = (tmp_path / "v" / f"{student}.sheet.yaml").read_text(encoding="utf-8"), 0
        write(subs / f"{student}.yaml", text)
    book = tmp_path / "grades.csv"
    result = invoke("check", "--key", str(tmp_path / "v"), str(subs), "--gradebook", str(book))
    assert result.exit_code == 1
    got = {row["student"]: (int(row["total"]), row["max_score"], row["status"]) for row in rows(book.read_text())}
    assert got == {student: (want[student], "6", "graded") for student in ids}


def test_text_from_submissions_cannot_become_a_spreadsheet_formula_and_claims_are_noted(course: Path) -> None:
    subs = course / "claims"
    write(subs / "x.yaml", 'student: "=HYPERLINK(1)"\n' + key_text(course, "s1"))
    write(subs / "s2.yaml", 'student: "s1"\n' + key_text(course, "s1"))  # s2's file, claiming to be s1
    book = course / "g.csv"
    assert invoke("check", "--key", str(course / "variants"), str(subs), "--gradebook", str(book)).exit_code == 1
    got = {row["student"]: row for row in rows(book.read_text(encoding="utf-8"))}
    assert "'=HYPERLINK(1)" in got and got["'=HYPERLINK(1)"]["status"] == "no key"
    assert got["s1"]["status"] == "graded" and "the sheet says student 's1', its file name 's2'" in got["s1"]["message"]
    assert got["s2"]["status"] == "no submission"


def test_each_row_of_a_batch_is_what_checking_that_sheet_alone_against_its_key_gives(course: Path) -> None:
    """The batch's shortcuts (one table a key, texts written when read) change no verdict, score or
    text: every graded row equals a single `check SHEET --key KEY` of it, ECF included; a row the
    batch could not grade is bad input alone."""
    import math

    subs = submit(course)
    z1 = 0.5  # s5: h.z1 wrong (0.3795 keyed), h.a1 = σ(h.z1) right from it (error carried forward)
    write(subs / "s5.yaml", fill(key_text(course, "s5"), {"h.z1": "0.5", "h.a1": repr(1 / (1 + math.exp(-z1)))}))
    batch = invoke("check", "--key", str(course / "variants"), str(subs), "--format", "json")
    assert batch.exit_code == 1, batch.stderr
    students = {s["student"]: s for s in json.loads(batch.stdout)["students"]}
    assert students["s5"]["answers"]["h.a1"]["verdict"] == "ecf"
    compared = 0
    for student, row in students.items():
        if row["status"] not in ("graded", "unreadable"):
            continue
        key = course / "variants" / f"{student}.key.yaml"
        alone = invoke("check", row["file"], "--key", str(key), "--format", "json")
        if row["status"] == "unreadable":
            assert alone.exit_code == 2 and row["message"].split(": ", 1)[-1] in alone.stderr, (student, alone.stderr)
            continue
        assert alone.exit_code == (0 if row["passed"] else 1), (student, alone.stderr)
        single = json.loads(alone.stdout)
        assert (single["score"], single["max_score"], single["config"]["sha256"]) == (
            row["score"],
            row["max_score"],
            row["config"]["sha256"],
        ), student
        answers = {
            a["name"]: {k: a[k] for k in ("verdict", "given_text", "score", "weight")} for a in single["answers"]
        }
        assert answers == row["answers"], student
        compared += 1
    assert compared == 5  # s1 right, s2 wrong, s3 typos, s4 blank, s5 carried forward


def test_a_file_claiming_another_student_never_displaces_that_students_own_file(course: Path) -> None:
    subs = course / "spoof"
    write(subs / "s1.yaml", 'student: "s2"\n' + key_text(course, "s2"))  # s1's file claims s2, first by path
    write(subs / "s2.yaml", key_text(course, "s2"))  # s2's own: all right
    write(subs / "0_prank.yaml", 'student: "s3"\n' + key_text(course, "s3"))  # nobody's name, claims s3
    write(subs / "s3.yaml", (course / "variants" / "s3.sheet.yaml").read_text(encoding="utf-8"))  # s3's own, blank
    book = course / "g.csv"
    args = ("check", "--key", str(course / "variants"), str(subs))
    result = invoke(*args, "--gradebook", str(book))
    assert result.exit_code == 1, result.stderr
    got = [
        (r["student"], Path(r["file"]).name if r["file"] else "", r["total"], r["status"])
        for r in rows(book.read_text())
    ]
    assert ("s2", "s2.yaml", "8", "graded") in got and ("s3", "s3.yaml", "0", "graded") in got
    assert ("s1", "s1.yaml", "0", "conflict") in got  # the student the spoofing file came from does not vanish
    assert ("s3", "0_prank.yaml", "0", "duplicate") in got
    assert [s for s, *_ in got].count("s2") == 1
    assert (
        "s1.yaml: the sheet says student 's2', but" in result.stderr
        and "s2.yaml is that student's own" in result.stderr
    )
    for layout, column in (("canvas", "Student"), ("moodle", "ID number")):
        lms = course / f"{layout}.csv"
        result = invoke(*args, "--gradebook", str(lms), "--layout", layout)
        ids = [r[column] for r in rows(lms.read_text()) if r[column] != "Points Possible"]
        assert sorted(ids) == sorted(set(ids)) == sorted(STUDENTS), ids  # one row a student, s1 too
        assert f"0_prank.yaml: not in the {layout} file (duplicate of 's3')" in result.stderr
        scores = {r[column]: r["backprop"] for r in rows(lms.read_text())}
        assert scores["s2"] == "8" and scores["s1"] == "0"


def test_one_unreadable_answer_never_voids_the_rest_of_the_sheet(course: Path) -> None:
    subs = course / "odd"
    for student, value in (("s1", ".inf"), ("s2", "1e400"), ("s3", ".nan")):
        write(subs / f"{student}.yaml", fill(key_text(course, student), {"h.z1": value}))
    latin = fill(key_text(course, "s4"), {"h.z1": "caf\u00e9"}).encode("utf-8").replace(b"\xc3\xa9", b"\xe9")
    (subs / "s4.yaml").write_bytes(latin)  # one Latin-1 byte
    (subs / "s5.yaml").write_bytes(key_text(course, "s5").encode("utf-16"))  # UTF-16, with its byte order mark
    s6 = key_text(course, "s6")
    z1 = re.search(r"(?m)^  h\.z1:.*$", s6)
    assert z1 is not None
    write(subs / "s6.yaml", s6.replace(z1.group(0), z1.group(0) + "\n  h.z1: 7", 1))  # h.z1 written twice
    result = invoke("check", "--key", str(course / "variants"), str(subs), "--format", "json")
    assert result.exit_code == 1, result.stderr
    got = {s["student"]: s for s in json.loads(result.stdout)["students"]}
    for student in ("s1", "s2", "s3", "s4", "s6"):
        assert (got[student]["status"], got[student]["score"]) == ("graded", 7.0), (student, got[student])
        assert got[student]["answers"]["h.z1"]["verdict"] == "invalid"
        assert got[student]["answers"]["h.z2"]["verdict"] == "correct"
    assert (got["s5"]["status"], got["s5"]["score"]) == ("graded", 8.0)
    assert got["s5"]["message"] == ""  # valid YAML in UTF-16: read as such, no "not UTF-8 … line by line"
    assert "non-finite number '.inf'" in got["s1"]["message"] and "not UTF-8" in got["s4"]["message"]
    assert "duplicate key 'h.z1'" in got["s6"]["message"]
    sheet = fill(key_text(course, "s1"), {"h.z1": ".inf"})
    alone = write(course / "strict" / "s1.yaml", sheet)  # without --key nothing is read around: bad input
    assert invoke("check", str(alone)).exit_code == 2


def test_the_config_handed_in_beside_the_answers_is_not_a_second_submission(course: Path) -> None:
    subs = course / "beside"
    write(subs / "s1" / "s1.yaml", (course / "variants" / "s1.yaml").read_text(encoding="utf-8"))  # the config
    write(subs / "s1" / "work.yaml", key_text(course, "s1"))  # the answers, after it by path
    result = invoke("check", "--key", str(course / "variants"), str(subs), "--format", "json")
    students = [s for s in json.loads(result.stdout)["students"] if s["student"] == "s1"]
    assert [(s["status"], s["score"], Path(s["file"]).name) for s in students] == [("graded", 8.0, "work.yaml")]
    assert "not an answers file, not graded:" in students[0]["message"] and "s1.yaml" in students[0]["message"]


def test_symbolic_links_in_a_folder_or_a_glob_are_not_followed(course: Path) -> None:
    subs = course / "links"
    write(subs / "s1.yaml", key_text(course, "s1"))
    (subs / "s2.yaml").symlink_to(course / "variants" / "s2.key.yaml")  # s2's "submission": the key itself
    (subs / "s3").symlink_to(course / "variants", target_is_directory=True)
    for given in (str(subs), str(subs / "*.yaml")):
        result = invoke("check", "--key", str(course / "variants"), given, "--format", "json")
        got = {s["student"]: s["status"] for s in json.loads(result.stdout)["students"]}
        assert got["s1"] == "graded" and got["s2"] == got["s3"] == "no submission", got
        assert "s2.yaml: a symbolic link, not followed" in result.stderr
    assert "s3: a symbolic link" in invoke("check", "--key", str(course / "variants"), str(subs)).stderr


def test_a_grade_import_scores_everyone_out_of_one_total_when_the_variants_differ(course: Path) -> None:
    keys = course / "two"
    keys.mkdir()
    for student in ("s1", "s2"):
        shutil.copy(course / "variants" / f"{student}.yaml", keys / f"{student}.yaml")
    shutil.copy(course / "variants" / "s1.key.yaml", keys / "s1.key.yaml")  # 8 names
    made = invoke(
        "answers", str(keys / "s2.yaml"), "--phase", "forward", "--only", "h.*", "-o", str(keys / "s2.key.yaml")
    )
    assert made.exit_code == 0, made.stderr  # 4 names
    subs = course / "both"
    write(subs / "s1.yaml", key_text(course, "s1"))
    write(subs / "s2.yaml", (keys / "s2.key.yaml").read_text(encoding="utf-8"))
    book = course / "c.csv"
    args = ("check", "--key", str(keys), str(subs), "--gradebook", str(book))
    result = invoke(*args, "--layout", "canvas")
    assert result.exit_code == 0, result.stderr  # each has every answer of their own key right
    lines = book.read_text(encoding="utf-8").splitlines()
    assert lines[1:] == ["Points Possible,,,,,8", "s1,,s1,,,8", "s2,,s2,,,8"]  # 4/4 is 8 of 8, not 4 of 8
    assert "the keys' totals differ (4, 8): the canvas file scores each student out of 8" in result.stderr
    plain = invoke(*args)
    assert plain.exit_code == 0 and "the keys' totals differ" not in plain.stderr
    assert {r["student"]: (r["total"], r["max_score"]) for r in rows(book.read_text())} == {
        "s1": ("8", "8"),
        "s2": ("4", "4"),
    }  # the plain gradebook keeps the points


def test_an_empty_folder_a_missing_file_and_an_unwritable_gradebook_are_refused_before_grading(course: Path) -> None:
    subs = submit(course)
    empty = course / "nothing-here"
    empty.mkdir()
    keys = ("check", "--key", str(course / "variants"))
    result = invoke(*keys, str(empty))
    assert result.exit_code == 2 and "no answers file in the folder" in result.stderr, result.stderr
    result = invoke(*keys, str(subs / "s1.yaml"), str(subs / "s9.yaml"))
    assert result.exit_code == 2 and "no such file" in result.stderr and "s9.yaml" in result.stderr
    assert result.stdout == ""
    for target, reason in ((course / "gone" / "g.csv", "does not exist"), (course, "is a directory")):
        result = invoke(*keys, str(subs), "--gradebook", str(target))
        assert result.exit_code == 2 and reason in result.stderr, result.stderr
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1  # nothing graded, nothing written


def test_a_message_past_a_spreadsheet_cells_limit_is_cut_and_says_so(course: Path) -> None:
    subs = course / "long"
    strays = "".join(f"  h.zz{i:05d}: 1\n" for i in range(3000))  # names of no trace: each listed in the message
    write(subs / "s1.yaml", key_text(course, "s1").replace("answers:\n", "answers:\n" + strays, 1))
    book = course / "g.csv"
    for layout in ("plain", "moodle"):
        result = invoke(
            "check", "--key", str(course / "variants"), str(subs), "--gradebook", str(book), "--layout", layout
        )
        assert result.exit_code == 1, result.stderr
        cells = [cell for row in csv.reader(io.StringIO(book.read_text(encoding="utf-8"))) for cell in row]
        assert max(len(cell) for cell in cells) <= 32_767
        if layout == "plain":
            assert any(cell.endswith("the JSON report has it whole)") for cell in cells)
    doc = json.loads(invoke("check", "--key", str(course / "variants"), str(subs), "--format", "json").stdout)
    assert len(next(s for s in doc["students"] if s["student"] == "s1")["message"]) > 32_767


def test_a_stray_file_in_the_folder_is_no_phantom_student(course: Path) -> None:
    """A data file or notes in the submissions folder, not an answers file and nobody's by name, gets
    no row (no student "data" in the gradebook or the Canvas file): one warning line, and the JSON's
    strays. An answers file of nobody's stays a "no key" row, for the TA to settle."""
    subs = course / "mixed"
    write(subs / "s1.yaml", key_text(course, "s1"))
    write(subs / "data.json", '{"x": [0.05, 0.10], "y": [0.01, 0.99]}\n')
    write(subs / "notes.yaml", "todo: grade by Friday\n")
    write(subs / "zed.yaml", key_text(course, "s1"))  # an answers file, but nobody's
    write(subs / "more" / "notes.json", "[1, 2]\n")  # a stray of the same name as another: no "duplicate"
    write(subs / "S2.yaml", re.sub(r"(?m)^format:.*\n", "", key_text(course, "s2")))  # readable, nobody's
    book = course / "canvas.csv"
    args = ("check", "--key", str(course / "variants"), str(subs))
    result = invoke(*args, "--gradebook", str(book), "--layout", "canvas")
    assert result.exit_code == 1
    students = [r["Student"] for r in rows(book.read_text(encoding="utf-8")) if r["Student"] != "Points Possible"]
    assert "data" not in students and "notes" not in students
    assert sorted(students) == sorted([*STUDENTS, "S2", "zed"])  # a sheet that reads keeps its "no key" row
    for name, student in (("data.json", "data"), ("notes.yaml", "notes"), ("more/notes.json", "notes")):
        line = f"warning: {subs / name}: not an answers file, and there is no key for {student!r}: not graded\n"
        assert result.stderr.count(line) == 1, result.stderr
    doc = json.loads(invoke(*args, "--format", "json").stdout)
    assert [Path(s["file"]).name for s in doc["strays"]] == ["data.json", "notes.json", "notes.yaml"]
    status = {s["student"]: s["status"] for s in doc["students"]}
    assert status["zed"] == status["S2"] == "no key" and "notes" not in status


def test_a_sheet_claiming_another_student_says_so_when_it_cannot_be_graded(course: Path) -> None:
    """s1's file says student s2 but holds s1's answers (s1's config): s2's row cannot grade it, and
    its message says whose file it is, not only that the config does not match."""
    subs = course / "misfiled"
    write(subs / "s1.yaml", 'student: "s2"\n' + key_text(course, "s1"))
    result = invoke("check", "--key", str(course / "variants"), str(subs), "--format", "json")
    s2 = {s["student"]: s for s in json.loads(result.stdout)["students"]}["s2"]
    assert s2["status"] == "unreadable"
    assert s2["message"].startswith("the sheet says student 's2', its file name 's1': ")


def test_a_garbage_file_is_not_told_to_use_other_filters(course: Path) -> None:
    """A file of binary junk lists none of the key's names: no filter would grade it, so its row gives
    no advice on check's filters, only why it was read as it was."""
    subs = course / "junk"
    subs.mkdir()
    (subs / "s1.yaml").write_bytes(bytes(range(256)) * 4)
    result = invoke("check", "--key", str(course / "variants"), str(subs), "--format", "json")
    s1 = {s["student"]: s for s in json.loads(result.stdout)["students"]}["s1"]
    assert s1["status"] == "graded" and s1["score"] == 0.0
    assert "filters it was written with" not in s1["message"] and "read line by line" in s1["message"]


def test_a_students_own_hand_written_sheet_is_never_displaced_by_a_claim(course: Path) -> None:
    """s3's own sheet, written by hand without `format: backprop-answers`, against s5's file claiming s3
    (with that line): s3's own is graded, s5's is the conflict, as for any two sheets that read."""
    subs = course / "own"
    write(subs / "s3" / "answers.yaml", re.sub(r"(?m)^format:.*\n", "", key_text(course, "s3")))
    write(subs / "s5.yaml", 'student: "s3"\n' + fill(key_text(course, "s3"), {"h.z1": "9"}))
    result = invoke("check", "--key", str(course / "variants"), str(subs), "--format", "json")
    students = json.loads(result.stdout)["students"]
    got = {(s["student"], Path(s["file"]).name if s["file"] else None): s for s in students}
    assert got[("s3", "answers.yaml")]["status"] == "graded" and got[("s3", "answers.yaml")]["score"] == 8.0
    assert got[("s5", "s5.yaml")]["status"] == "conflict"
