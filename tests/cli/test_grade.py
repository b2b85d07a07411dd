"""cli/grade.py: a class graded by forked workers writes every byte one process writes."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backprop_cli.cli import grade
from backprop_cli.errors import NumericalFault
from backprop_cli.model.quantity import Form
from tests.homework.test_gradebook import course, invoke, key_text, submit  # noqa: F401 (course: a fixture)
from tests.homework.test_gradebook_feedback import class_of

needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork here: a class is graded in one process"
)


def outputs(folder: Path, subs: Path, name: str, *extra: str) -> list[tuple[int, str, str, str, str]]:
    """Exit status, stdout, stderr, the report file and the gradebook of a batch in each layout."""
    out = []
    for layout in ("plain", "canvas"):
        book, report = folder / f"{name}-{layout}.csv", folder / f"{name}-{layout}.out"
        result = invoke(
            "check", "--key", str(folder / "variants"), str(subs), "--gradebook", str(book), "--layout", layout,
            "-o", str(report), *extra,
        )  # fmt: skip
        texts = [p.read_text(encoding="utf-8") if p.exists() else "" for p in (report, book)]
        out.append((result.exit_code, result.stdout, result.stderr, texts[0], texts[1]))
    return out


@needs_fork
@pytest.mark.parametrize("extra", [(), ("--format", "json")], ids=["text", "json"])
def test_workers_write_every_byte_one_process_writes(
    course: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    extra: tuple[str, ...],
) -> None:
    """A right, a wrong, a misspelt, a blank sheet, a sheet claiming a student, one for another variant, a
    stranger, a student without a submission: the same report, gradebooks and stderr from 2 or 3 workers
    (the students split across them, s1's file graded in another part than s6's) as from one process;
    JSON too, with every sheet's feedback (the working written out from forms sent between processes)."""
    subs = submit(course)
    monkeypatch.setenv("BACKPROP_JOBS", "1")
    alone = outputs(course, subs, "alone", *extra)
    assert alone[0][0] == 1 and alone[0][3] and "s5" in alone[0][4]
    for jobs in ("2", "3"):
        monkeypatch.setenv("BACKPROP_JOBS", jobs)
        assert grade._jobs(6) == int(jobs)
        assert outputs(course, subs, f"jobs{jobs}", *extra) == alone


@needs_fork
def test_workers_give_every_sheet_the_feedback_one_process_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Carried-forward working (its formulas written out from forms sent between processes), a
    misconception, a hint, typos, a blank sheet, rounding as you go: the same JSON and text as one process."""
    keys, subs, _ = class_of(tmp_path)
    runs = {}
    for jobs in ("1", "2", "3"):
        monkeypatch.setenv("BACKPROP_JOBS", jobs)
        runs[jobs] = [
            (r.exit_code, r.stdout, r.stderr)
            for r in (invoke("check", "--key", str(keys), str(subs), *f) for f in ((), ("--format", "json")))
        ]
    assert "with your" in runs["1"][1][1] and runs["1"][1][0] == 1  # a working, with its numbers
    assert runs["1"] == runs["2"] == runs["3"]


@needs_fork
def test_a_sheet_claiming_a_student_of_another_worker_leaves_no_extra_row(
    course: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """s5's file claims s1 (whose own file is there): a conflict row of s5, graded by s1's worker; s5's
    worker never sees it, and must not add "no submission" for s5 (one process does not)."""
    subs = course / "subs"
    subs.mkdir()
    (subs / "s1.yaml").write_text(key_text(course, "s1"), encoding="utf-8")
    (subs / "s5.yaml").write_text("student: s1\n" + key_text(course, "s1"), encoding="utf-8")
    monkeypatch.setenv("BACKPROP_JOBS", "1")
    alone = outputs(course, subs, "alone")
    assert "conflict" in alone[0][4] and "s5,,0" not in alone[0][4]
    for jobs in ("2", "3"):
        monkeypatch.setenv("BACKPROP_JOBS", jobs)
        assert outputs(course, subs, f"jobs{jobs}") == alone


@needs_fork
def test_workers_warn_of_stray_files_as_one_process_does(
    course: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Files that are not answers files and nobody's (read by whichever worker) get no row and one
    warning each, in the order one process gives them."""
    subs = submit(course)
    for name in ("data.json", "b-notes.yaml", "a-notes.yaml"):
        (subs / name).write_text("todo: grade by Friday\n", encoding="utf-8")
    monkeypatch.setenv("BACKPROP_JOBS", "1")
    alone = outputs(course, subs, "alone")
    assert alone[0][2].count("not an answers file, and there is no key for") == 3
    for jobs in ("2", "3"):
        monkeypatch.setenv("BACKPROP_JOBS", jobs)
        assert outputs(course, subs, f"jobs{jobs}") == alone


@needs_fork
def test_a_students_file_graded_as_another_is_pointed_at_from_their_row(
    course: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """s1's file says student s5 (s5 handed in nothing, in another worker's share), s2's says s3 (the same
    share): each is graded as the student it says, and s1's and s2's "no submission" rows name the file,
    from one process and from workers alike."""
    subs = course / "subs"
    subs.mkdir()
    (subs / "s1.yaml").write_text('student: "s5"\n' + key_text(course, "s5"), encoding="utf-8")
    (subs / "s2.yaml").write_text('student: "s3"\n' + key_text(course, "s3"), encoding="utf-8")
    monkeypatch.setenv("BACKPROP_JOBS", "1")
    alone = outputs(course, subs, "alone")
    for student, claim in (("s1", "s5"), ("s2", "s3")):
        row = f'{student},,0,0,0,0,0,0,0,0,0,8,no submission,"{subs / student}.yaml, named for this student, says'
        assert f"{row} student '{claim}'\"\n" in alone[0][4], alone[0][4]
    for jobs in ("2", "3"):
        monkeypatch.setenv("BACKPROP_JOBS", jobs)
        assert outputs(course, subs, f"jobs{jobs}") == alone


@needs_fork
def test_workers_read_every_sheet_once(
    course: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """s5's file, read by s5's worker, claims s1 of another worker: it is sent on as read, never read a
    second time (a file rewritten between two reads would be graded as its new text; one process reads
    it once). Each read is logged to a file the forked workers share."""
    from backprop_cli.homework import gradebook as book

    subs = course / "subs"
    subs.mkdir()
    for student in ("s1", "s2", "s3"):
        (subs / f"{student}.yaml").write_text(key_text(course, student), encoding="utf-8")
    (subs / "s5.yaml").write_text("student: s1\n" + key_text(course, "s1"), encoding="utf-8")
    log = course / "reads.log"
    reading = book.handed_file

    def logged(path: Path, known: Any, shared: bool) -> book.Handed:
        with open(log, "a", encoding="utf-8") as out:  # one short append a read: whole lines from each process
            out.write(f"{Path(path).name}\n")
        return reading(path, known, shared)

    monkeypatch.setattr(book, "handed_file", logged)
    for jobs in ("1", "2", "3"):
        monkeypatch.setenv("BACKPROP_JOBS", jobs)
        log.write_text("", encoding="utf-8")
        assert invoke("check", "--key", str(course / "variants"), str(subs)).exit_code == 1  # s5: a conflict
        assert sorted(log.read_text(encoding="utf-8").split()) == ["s1.yaml", "s2.yaml", "s3.yaml", "s5.yaml"], jobs


# a key broken so that each round of the workers meets it: recomputed, read, counted
BREAKS: dict[str, tuple[Callable[[str], str], str]] = {
    "unknown name": (lambda text: text.replace("  h.z1:", "  h.zz1:"), "s2.key.yaml:"),
    "not YAML": (lambda text: text.replace("answers:", "answers: [", 1), "s2.key.yaml:"),
    "a second key": (lambda text: "student: s2\n" + text, "a second key for student 's2'"),
}


@needs_fork
@pytest.mark.parametrize("kind", list(BREAKS))
def test_the_first_broken_key_is_reported_whatever_worker_meets_it(
    course: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """Keys broken in two workers' shares: the first by place is the one line, as from one process."""
    subs = submit(course)
    breaking, said = BREAKS[kind]
    for student in ("s2", "s6") if kind != "a second key" else ("s6",):
        broken = course / "variants" / f"{student}.key.yaml"
        broken.write_text(breaking(broken.read_text(encoding="utf-8")), encoding="utf-8")
    seen = []
    for jobs in ("1", "2", "3"):
        monkeypatch.setenv("BACKPROP_JOBS", jobs)
        result = invoke("check", "--key", str(course / "variants"), str(subs), "--gradebook", str(course / "g.csv"))
        assert result.exit_code == 2 and said in result.stderr and not (course / "g.csv").exists()
        seen.append(result.stderr)
    assert seen[0] == seen[1] == seen[2] and len(seen[0].splitlines()) == 1


def test_jobs_one_process_for_a_small_class_else_one_a_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKPROP_JOBS", raising=False)
    assert grade._jobs(grade.PARALLEL_FROM - 1) == 1
    if "fork" in multiprocessing.get_all_start_methods():
        assert 1 <= grade._jobs(grade.PARALLEL_FROM) <= 8
    monkeypatch.setenv("BACKPROP_JOBS", " ")
    assert grade._jobs(10) == 1  # blank: as if unset


@pytest.mark.parametrize("bad", ["0", "x", "65", "-2"])
def test_a_bad_number_of_processes_is_bad_input(
    course: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    bad: str,
) -> None:
    subs = submit(course)
    monkeypatch.setenv("BACKPROP_JOBS", bad)
    for key in (course / "variants", course / "variants" / "s1.key.yaml"):
        result = invoke("check", "--key", str(key), str(subs), "--gradebook", str(course / "g.csv"))
        assert result.exit_code == 2 and result.stdout == "" and not (course / "g.csv").exists()
        assert result.stderr.startswith("BACKPROP_JOBS: ") and "from 1 to 64" in result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_a_fault_and_a_form_cross_a_process_boundary() -> None:
    fault = NumericalFault("overflow", step=2, quantity="h.a1", layer="h", neuron=1, value=float("inf"), detail="d")
    back = pickle.loads(pickle.dumps(fault))
    assert type(back) is NumericalFault and str(back) == "overflow"
    assert (back.step, back.quantity, back.layer, back.neuron, back.value, back.detail) == (
        2,
        "h.a1",
        "h",
        1,
        fault.value,
        "d",
    )
    form = pickle.loads(pickle.dumps(Form("{0} + {1}", ("a", "b"), lambda v: v[0] + v[1])))
    assert form.template == "{0} + {1}" and form.slots == ("a", "b") and form.rule is not None
    with pytest.raises(RuntimeError, match="stayed in the process"):
        form.evaluate([1.0, 2.0])
    assert pickle.loads(pickle.dumps(Form("x"))).rule is None  # a given quantity stays given


@needs_fork
def test_an_error_in_a_worker_reads_as_one_process_gives_it(
    course: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A located error raised while a worker grades (an unreadable file, say) is raised here as it was,
    so the user sees the one line and exit status one process gives, not a traceback."""
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework import gradebook as book

    def unreadable(*_: Any, **__: Any) -> Any:
        raise ConfigError("cannot read: input/output error; expected a readable file", file="subs/s1.yaml")

    subs = submit(course)
    monkeypatch.setattr(book, "grade", unreadable)
    seen = set()
    for jobs in ("1", "2", "3"):
        monkeypatch.setenv("BACKPROP_JOBS", jobs)
        result = invoke("check", "--key", str(course / "variants"), str(subs))
        seen.add((result.exit_code, result.stderr))
    assert seen == {(2, "subs/s1.yaml: cannot read: input/output error; expected a readable file\n")}


def _dies(number: int, held: dict[str, Any], request: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)  # a worker killed (out of memory, kill -9) before it sends its rows


@needs_fork
def test_a_worker_that_dies_fails_the_run_and_never_hangs_it(
    course: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subs = submit(course)
    monkeypatch.setenv("BACKPROP_JOBS", "2")
    monkeypatch.setattr(grade, "_work", _dies)
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the batch hung on a dead worker"))
    signal.alarm(120)
    try:
        result = invoke("check", "--key", str(course / "variants"), str(subs), "--gradebook", str(course / "g.csv"))
    finally:
        signal.alarm(0)
    assert result.exit_code == 2 and not (course / "g.csv").exists(), result.output
    said = result.stderr
    assert said.startswith("BACKPROP_JOBS: worker ") and " ended (SIGKILL, signal 9) before it answered, so " in said
    assert said.count("\n") == 1 and "Traceback" not in said
