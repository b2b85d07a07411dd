"""``backprop check --key KEY_OR_DIR SUBMISSIONS...``: a whole class in one process (homework.gradebook)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from backprop_cli.errors import ConfigError
    from backprop_cli.homework.answers import AnswersFile
    from backprop_cli.homework.gradebook import Batch, Key


def grade_batch(
    submissions: tuple[str, ...],
    key: str,
    filters: tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...], tuple[int, ...], tuple[str, ...]],
    *,
    output_format: str,
    gradebook: str | None,
    layout: str,
    assignment: str,
    canvas_id: str = "SIS User ID",
    precision: int,
    width: int | None,
    output: str | None,
    hints: bool = True,
    reveal: str = "never",
) -> None:
    """Read every key and recompute its trace (any problem there is bad input, before a row is graded),
    grade every submission, then write the report and the gradebook."""
    import os

    import click

    from backprop_cli.cli.kit import make_console
    from backprop_cli.cli.output import open_output
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework import gradebook as book
    from backprop_cli.homework.check import CheckFailed
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render.json_out import dumps

    if output_format == "gradescope":
        raise ConfigError(
            "a batch has no single results.json; expected --format text or json (and --gradebook for the CSV)",
            path="--format",
        )
    links: list[Path] = []
    from backprop_cli.cli.output import check_target

    check_target(output, inputs=[Path(key)])  # before anything is graded: a target that cannot be written
    check_target(gradebook, inputs=[Path(key)], option="--gradebook")
    files = book.expand(submissions, links)
    for link in links:
        click.echo(f"warning: {link}: a symbolic link, not followed (not graded)", err=True)
    if os.path.isdir(key):
        paths = book.key_files(Path(key))
        if not paths:
            raise ConfigError(f"no *.key.yaml file in {key!r}; expected the keys `backprop variants --answers` writes")
    else:
        paths = [Path(key)]
    jobs = _jobs(len(paths)) if os.path.isdir(key) else min(1, _jobs(1))  # BACKPROP_JOBS checked either way
    with _no_cycle_collection():
        if jobs > 1:
            from backprop_cli.workers import WorkerDied

            try:
                batch = _grade_in_parallel(paths, files, filters, precision, hints, output_format == "json", jobs)
            except WorkerDied as died:  # killed (out of memory, kill -9): a fault of the machine, as OS errors are
                raise ConfigError(
                    f"{died}, so nothing was graded or written; expected every worker to finish (if the machine "
                    "ran out of memory, BACKPROP_JOBS=1 grades in this one process)",
                    path="BACKPROP_JOBS",
                ) from None
        else:
            batch = _grade(paths, files, os.path.isdir(key), filters, precision, hints, output_format == "json")
    fmt = NumberFormat(precision)
    inputs = [*paths, *files]
    # orjson: a twentieth of json's time for a class's reports (0.26 s of CPU for 200 students with json)
    report = dumps(book.to_json(batch, reveal=reveal, fmt=fmt), indent=True) + "\n" if output_format == "json" else None
    sheet = book.to_csv(batch, layout=layout, assignment=assignment, canvas_id=canvas_id) if gradebook else None
    with open_output(output, inputs=inputs) as stream:
        if report is not None:
            stream.write(report)
        else:
            make_console(stream, width).print(book.table(batch, fmt))
    if gradebook and sheet is not None:
        with open_output(gradebook, inputs=inputs, option="--gradebook") as stream:
            stream.write(sheet)
    _tell_conflicts(batch, layout if gradebook else "plain")
    different = book.totals(batch)
    if gradebook and layout != "plain" and len(different) > 1:
        shown = ", ".join(f"{t:g}" for t in different)
        click.echo(
            f"note: the keys' totals differ ({shown}): the {layout} file scores each student out of "
            f"{different[-1]:g}, the same share as of their own key's total",
            err=True,
        )
    if not batch.passed:
        short = sum(not row.passed for row in batch.rows)
        raise CheckFailed(
            f"check failed: {short} of {len(batch.rows)} students with an answer wrong, missing or invalid, "
            "or no gradable submission"
        )


Filters = tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...], tuple[int, ...], tuple[str, ...]]
PARALLEL_FROM = 200  # keys: below this many a class is graded in this process (workers cost more than they save)


def _keys_of(
    paths: list[Path], files: list[Path], per_student: bool
) -> tuple[list[tuple[Path, AnswersFile, str | None]], ConfigError | None]:
    """Every key read (the first that cannot be read is bad input), the class's budget checked, and each
    key's student (None: one key for all); up to a second key of one student, and the error that is."""
    from backprop_cli.homework import gradebook as book
    from backprop_cli.homework.answers import load_answers

    rubrics = [(path, load_answers(path)) for path in paths]
    found = [(book.key_student(path, rubric) if per_student else None, len(rubric.answers)) for path, rubric in rubrics]
    students, second = _class_of(files, found, lambda place: rubrics[place][1])
    return [(path, rubric, student) for (path, rubric), student in zip(rubrics, students, strict=False)], second


def _class_of(
    files: list[Path], found: list[tuple[str | None, int]], rubric_of: Callable[[int], AnswersFile]
) -> tuple[list[str | None], ConfigError | None]:
    """The class's budget checked for the keys ``found`` (each key's student and number of answers); their
    students up to a second key of one student, and the error that is (worded from ``rubric_of`` it)."""
    from backprop_cli.homework import gradebook as book

    book.check_budget(len(files), sum(count for _, count in found))
    students: list[str | None] = []
    seen: set[str | None] = set()
    for place, (student, _) in enumerate(found):
        if student in seen:
            return students, rubric_of(place).error(
                f"a second key for student {student!r}; expected one key a student", "student"
            )
        seen.add(student)
        students.append(student)
    return students, None


def _grade(
    paths: list[Path],
    files: list[Path],
    per_student: bool,
    filters: Filters,
    precision: int,
    hints: bool,
    feedback: bool,
) -> Batch:
    """The class graded in this process: every key read and recomputed (a problem there is bad input,
    before a row is graded), then every submission graded (the feedback only where a report shows it)."""
    from backprop_cli.homework import gradebook as book

    students, second = _keys_of(paths, files, per_student)
    keys = {student: _key(path, rubric, student, filters, precision, hints) for path, rubric, student in students}
    if second is not None:  # after the keys before it, as they are met
        raise second
    return book.grade(files, keys, feedback=feedback, strays=True)


def _jobs(keys: int) -> int:
    """How many processes grade a class of ``keys`` per-student keys: one for each CPU this process may
    use (at most 8) from PARALLEL_FROM keys on, where processes can be forked; BACKPROP_JOBS=N sets it."""
    import os

    from backprop_cli.workers import can_fork, cpus

    if not can_fork():
        return 1  # spawned workers would import everything again and cannot inherit what is read
    given = os.environ.get("BACKPROP_JOBS", "").strip()
    if given:
        if not given.isdigit() or not 1 <= int(given) <= 64:
            from backprop_cli.errors import ConfigError, quoted

            raise ConfigError(
                f"{quoted(given)} is not a number of processes; expected a whole number from 1 to 64",
                path="BACKPROP_JOBS",
            )
        return int(given)
    if keys < PARALLEL_FROM:
        return 1
    return max(1, min(cpus(), 8))


# What the forked workers start with: set in this process just before they are forked, never sent.
_SHARED: dict[str, Any] = {}


def _work(number: int, held: dict[str, Any], request: tuple[str, Any]) -> Any:
    """A worker's answer to one of _grade_in_parallel's three rounds; what it reads it keeps (``held``)."""
    from backprop_cli.errors import BackpropError
    from backprop_cli.homework import gradebook as book
    from backprop_cli.homework.answers import load_answers
    from backprop_cli.loading import run

    what, asked = request
    if what == "keys":  # read its share of the keys; the first that cannot be read stops it
        first, last = asked
        held["keys"] = read = []
        for place in range(first, last):
            path = _SHARED["paths"][place]
            try:
                read.append((path, load_answers(path)))
            except BackpropError as error:
                return [], error, place
        return [(book.key_student(path, rubric), len(rubric.answers)) for path, rubric in read], None, -1
    if what == "sheets":  # read the submissions given: whom each claims, and a sheet another worker grades
        places, known, owner = asked
        held["hands"] = sheets = {place: book.handed_file(_SHARED["files"][place], known, False) for place in places}
        return [
            (hand.student, hand if owner.get(hand.student, 0) != number else None)
            for hand in (sheets[place] for place in places)
        ]
    # "grade": its keys recomputed (the first that fails stops it), the submissions that claim them graded
    first, count, places, moved = asked
    keys: dict[str | None, Key] = {}
    for place, (path, rubric) in enumerate(held["keys"][:count], start=first):
        student = book.key_student(path, rubric)
        try:
            keys[student] = _key(path, rubric, student, *_SHARED["how"])
        except BackpropError as error:
            return [], [], error, place, []
    hands = [held["hands"].get(place) or moved[place] for place in places]  # moved: read by another worker
    graded_here = set(places)
    elsewhere = [hand for place, hand in held["hands"].items() if place not in graded_here]  # graded there
    files = [hand.path for hand in hands]
    batch = book.grade(files, keys, feedback=_SHARED["feedback"], handed=hands, strays=True, elsewhere=elsewhere)
    return (batch.rows, batch.strays), [key.asked() for key in keys.values()], None, -1, list(run.current().inputs)


def _grade_in_parallel(
    paths: list[Path], files: list[Path], filters: Filters, precision: int, hints: bool, feedback: bool, jobs: int
) -> Batch:
    """The same batch as _grade, its work shared by ``jobs`` forked processes (backprop_cli.workers), in
    three rounds. Each worker reads a contiguous share of the keys (this process checks the budget and
    the students), then the submissions whose file names are its students' (and a share of the rest),
    saying whom each claims; this process matches each submission to the worker holding the key it
    claims, and each worker recomputes its keys and grades its submissions. Every file is read once. Only
    names and rows cross between processes, and the few sheets whose name is one worker's student and
    whose ``student:`` another's: those are sent on as read, never read again, so that a file rewritten
    meanwhile is graded as it was read, as in one process. Rows come back in the
    one-process order: the submissions' order, then the students without one in the keys' order; the
    first key that fails, by place, is raised, as one process would meet it."""
    from backprop_cli.homework import gradebook as book
    from backprop_cli.homework.answers import load_answers
    from backprop_cli.loading import run
    from backprop_cli.workers import Workers

    size = -(-len(paths) // jobs)
    shares = [(min(i * size, len(paths)), min((i + 1) * size, len(paths))) for i in range(jobs)]
    _SHARED.update(paths=paths, files=files, how=(filters, precision, hints), feedback=feedback)
    try:
        with Workers(jobs, _work) as workers:
            read = workers.ask([("keys", share) for share in shares])
            unread = [(place, error) for _, error, place in read if error is not None]
            if unread:
                raise min(unread, key=lambda each: each[0])[1]
            found = [each for metas, _, _ in read for each in metas]
            students, second = _class_of(files, found, lambda place: load_answers(paths[place]))
            known = frozenset(student for student in students if student is not None)
            owner = {student: i for i, (first, last) in enumerate(shares) for student in students[first:last]}
            named = [
                owner.get(book.submission_student(path, None, known), place % jobs) for place, path in enumerate(files)
            ]
            mine = [[place for place, i in enumerate(named) if i == worker] for worker in range(jobs)]
            claims: dict[int, str] = {}
            moved: dict[int, book.Handed] = {}  # a sheet whose name is one worker's student, its claim another's
            said = workers.ask([("sheets", (places, known, owner)) for places in mine])
            for places, answers in zip(mine, said, strict=True):
                for place, (claim, hand) in zip(places, answers, strict=True):
                    claims[place] = claim
                    if hand is not None:
                        moved[place] = hand
            graded = workers.ask(
                [
                    ("grade", (first, max(0, min(last, len(students)) - first), places, {
                        place: moved[place] for place in places if place in moved
                    }))
                    for worker, (first, last) in enumerate(shares)
                    for places in [[place for place in range(len(files)) if owner.get(claims[place], 0) == worker]]
                ]
            )  # fmt: skip
    finally:
        _SHARED.clear()
    failed = [(place, error) for _, _, error, place, _ in graded if error is not None]
    if failed:
        raise min(failed, key=lambda each: each[0])[1]
    if second is not None:
        raise second
    for *_, inputs in graded:  # the configs the workers read are this run's inputs too (never an output)
        run.current().inputs.update(inputs)
    batch = book.Batch()
    asked: dict[str, None] = {}
    for _, lists, _, _, _ in graded:
        for names in lists:
            asked.update(dict.fromkeys(names))
    batch.questions = list(asked)
    where = {str(path): i for i, path in reversed(list(enumerate(files)))}
    order = {student: i for i, student in enumerate(students)}
    rows = [row for (part_rows, _), *_ in graded for row in part_rows]
    batch.strays = sorted((stray for (_, part), *_ in graded for stray in part), key=lambda each: where[each[0]])
    # a sheet claiming another student is a conflict row of the student its name says, made by the worker
    # of the student it claims: the worker of the one it names, not seeing it, said "no submission"
    handed = {row.student for row in rows if row.file is not None}
    rows = [row for row in rows if row.file is not None or row.status != "no submission" or row.student not in handed]
    batch.rows = sorted(rows, key=lambda r: (0, where[r.file]) if r.file is not None else (1, order[r.student]))
    return batch


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector off while a class is graded: every key's trace stays alive to the
    end, and each full collection walks all of them again (a tenth of the CPU time for 1,000 students),
    to find next to nothing (a few hundred objects in a whole class's run). Reference counting still
    frees everything else as it goes."""
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _tell_conflicts(batch: object, layout: str) -> None:
    """One stderr line for each file left ungraded as nobody's (not an answers file), each submission
    that claims a student another file belongs to, and, for the grade-import layouts (one row a
    student), each row the file leaves out."""
    import click

    from backprop_cli.homework import gradebook as book

    assert isinstance(batch, book.Batch)
    for file, why in batch.strays:
        click.echo(f"warning: {file}: {why}", err=True)
    for row in batch.rows:
        if row.status == "conflict":
            click.echo(f"warning: {row.file}: {row.message}", err=True)
    if layout != "plain":
        for row in book.one_row_each(batch)[1]:
            click.echo(f"note: {row.file}: not in the {layout} file ({row.status} of {row.student!r})", err=True)


def _key(
    path: Path,
    rubric: object,
    student: str | None,
    filters: tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...], tuple[int, ...], tuple[str, ...]],
    precision: int,
    hints: bool = True,
) -> Key:
    """A key with its config's values (by its rounding protocol, as a single check computes them),
    checked by grading the key against itself (bad input if it fails)."""
    from backprop_cli.cli.names import key_values, load_program, name_filter
    from backprop_cli.homework.answers import (
        AnswersFile,
        check_config,
        config_identity,
        resolve_config,
        resolve_data,
        value_identity,
    )
    from backprop_cli.homework.check import check_key
    from backprop_cli.homework.gradebook import Key
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.names import steps_named
    from backprop_cli.model.numbers import NumberFormat

    assert isinstance(rubric, AnswersFile)
    config = resolve_config(rubric, trusted=True)
    recorded = resolve_data(rubric)
    spec, config = load_program(str(config), str(recorded) if recorded else None, rubric.run.steps)
    document = getattr(spec, "document", None)  # parsed already: no second read of the config
    identity = value_identity(document.value) if document is not None else config_identity(config)
    check_config(rubric, config, str(config), identity)
    fmt = NumberFormat(precision)
    only = Filter(steps=steps_named([a.name for a in rubric.answers]))
    table = key_values(spec, rubric, fmt, only)
    narrowed = name_filter(spec, *filters)
    chosen = (lambda v: narrowed.wants_quantity(v.quantity, v.name)) if narrowed != Filter() else None
    check_key(rubric, table, str(config))  # the key's unknown names: bad input here
    return Key(student, rubric, table, str(config), identity, config, chosen, spec, only, fmt, hints)
