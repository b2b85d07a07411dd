"""``backprop autograder``: a Gradescope autograder zip, and the run it makes for each submission."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from backprop_cli.cli.kit import handle_errors
from backprop_cli.cli.names import filter_options
from backprop_cli.homework.gradescope import MATCH
from backprop_cli.model.i18n import N_

Filters = tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...], tuple[int, ...], tuple[str, ...]]
_FILTER_FIELDS = ("steps", "layers", "phases", "samples", "only")  # as the zip's settings record them


@click.group(short_help=N_("Autograders for course platforms (Gradescope)."))
def autograder() -> None:
    """Package the keys as an autograder a course platform runs on each submission."""


@autograder.command(short_help="Write a Gradescope autograder zip for a key or a folder of keys.")
@filter_options
@click.option("--key", required=True, help="The answer key, or a folder of *.key.yaml (one a student).")
@click.option("-o", "--output", required=True, help="The zip to write (atomically).")
@click.option(
    "--match",
    type=click.Choice(MATCH),
    default="sid",
    show_default=True,
    help="The field of Gradescope's submission metadata that names the student's key.",
)
@click.option("--reveal", type=click.Choice(["never", "wrong", "always"]), default="never", show_default=True)
@click.option(
    "--visibility",
    type=click.Choice(["visible", "hidden", "after_due_date", "after_published"]),
    default="visible",
    show_default=True,
)
@handle_errors
def gradescope(
    only_steps: tuple[int, ...],
    only_layers: tuple[str, ...],
    only_phases: tuple[str, ...],
    only_samples: tuple[int, ...],
    patterns: tuple[str, ...],
    key: str,
    output: str,
    match: str,
    reveal: str,
    visibility: str,
) -> None:
    """Write OUTPUT, a zip for Gradescope's "Zip file upload": setup.sh (installs the wheel of this
    backprop-cli the zip carries, its dependencies pinned to the versions installed here), run_autograder
    (grades /autograder/submission's answers file against the student's
    key, the student taken from submission_metadata.json, and writes /autograder/results/results.json),
    the keys with their configs, and the settings. Each key is checked first: its trace computed.
    The filters (--step, --phase, --layer, --sample, --only, as `check` has them) are recorded in the
    zip: each submission is graded on the names they choose, so one key of every name serves a sheet
    written with `backprop answers --phase backward`.

    \b
    Examples:
      backprop autograder gradescope --key key.yaml -o autograder.zip
      backprop autograder gradescope --key variants/ --match email -o autograder.zip
      backprop autograder gradescope --key key.yaml --phase backward -o autograder.zip
    """
    import io
    import json
    import os
    import zipfile

    from backprop_cli import __version__
    from backprop_cli.cli.grade import _key
    from backprop_cli.cli.output import open_output
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework import gradebook as book
    from backprop_cli.homework import gradescope as gs
    from backprop_cli.homework import wheel
    from backprop_cli.homework.answers import load_answers, resolve_config

    filters: Filters = (only_steps, only_layers, only_phases, only_samples, patterns)
    folder = os.path.isdir(key)
    paths = book.key_files(Path(key)) if folder else [Path(key)]
    if not paths:
        raise ConfigError(f"no *.key.yaml file in {key!r}; expected the keys `backprop variants --answers` writes")
    entries: dict[str, bytes] = {}
    most = 0.0  # what a submission is out of when no key is found for it (the variants' keys agree)
    for path in paths:
        rubric = load_answers(path)
        config = resolve_config(rubric, trusted=True)
        if rubric.run.data_path is not None:
            raise rubric.error("a key with its own data file; expected a key of the config's data", "config", "data")
        checked = _key(path, rubric, book.key_student(path, rubric) if folder else None, filters, 6)
        spec_data = _data_file(config)
        if spec_data:
            raise ConfigError(
                f"the config reads the data file {spec_data!r}; expected inline data (the zip holds configs only)",
                file=str(config),
            )
        name = f"keys/{config.name}"
        if name in entries and entries[name] != config.read_bytes():
            raise ConfigError(f"two different configs named {config.name!r}; expected one name each", file=str(config))
        entries[name] = config.read_bytes()
        entries[f"keys/{path.name if folder else 'key.yaml'}"] = _with_config_path(path, config.name).encode()
        most = max(most, checked.max_score())
    settings = {"format": "backprop-autograder", "version": 1, "tool": __version__, "match": match}
    settings |= {"reveal": reveal, "visibility": visibility, "single": not folder, "max_score": most}
    settings["filters"] = {name: list(chosen) for name, chosen in zip(_FILTER_FIELDS, filters, strict=True)}
    tool = wheel.wheel_name(__version__)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text, mode in (
            ("setup.sh", gs.setup_sh(tool), 0o755),
            ("run_autograder", gs.run_autograder(), 0o755),
            (gs.SETTINGS, json.dumps(settings, indent=2) + "\n", 0o644),
            (gs.CONSTRAINTS, wheel.constraints(), 0o644),
        ):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, text)
        entries[tool] = wheel.build(__version__)
        for name, data in sorted(entries.items()):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    with open_output(output, inputs=paths) as stream:
        stream.flush()
        stream.buffer.write(buffer.getvalue())
    click.echo(f"{output}: Gradescope autograder for {len(paths)} key{'s' * (len(paths) != 1)}", err=True)


def _data_file(config: Path) -> str | None:
    from backprop_cli.loading.yamlsafe import CONFIG_LIMIT, parse, read_text

    value = parse(read_text(config, str(config), limit=CONFIG_LIMIT, what="config file"), str(config), fmt="yaml").value
    data = value.get("data") if isinstance(value, dict) else None
    return data["file"] if isinstance(data, dict) and isinstance(data.get("file"), str) else None


def _with_config_path(key: Path, name: str) -> str:
    """The key's text with config.path naming ``name`` (the config beside it in the zip)."""
    import json
    import re

    original = key.read_text(encoding="utf-8")
    changed, count = re.subn(r"(?m)^(  path: ).*$", lambda m: m.group(1) + json.dumps(name), original, count=1)
    return changed if count else original


@autograder.command("run-gradescope", short_help="Grade a submission inside Gradescope (run_autograder runs it).")
@handle_errors
def run_gradescope() -> None:
    """Grade /autograder/submission's answers file against the student's key in /autograder/source and
    write /autograder/results/results.json ($BACKPROP_AUTOGRADER_ROOT moves /autograder): the report
    `check --key KEY --format gradescope` writes for the sheet, with the autograder's own data. A
    submission that cannot be graded still gets a results.json, scoring 0 and saying why.

    \b
    Example (what run_autograder does):
      backprop autograder run-gradescope
    """
    import json
    import os

    from backprop_cli.cli.output import open_output
    from backprop_cli.homework import gradescope as gs

    root = Path(os.environ.get(gs.ROOT_VARIABLE, "/autograder"))
    source = root / "source"
    settings = json.loads((source / gs.SETTINGS).read_text(encoding="utf-8"))
    report = _graded(root, source, settings)
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open_output(str(target)) as stream:
        stream.write(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _graded(root: Path, source: Path, settings: dict[str, Any]) -> dict[str, Any]:
    import hashlib

    from backprop_cli.cli.grade import _key
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework import gradebook as book
    from backprop_cli.homework import gradescope as gs
    from backprop_cli.homework.answers import check_config, load_answers

    visibility = settings.get("visibility", "visible")
    folder = root / "submission"
    extra: dict[str, Any] = {"student": None, "tool": settings.get("tool")}

    def failure(message: str, most: float = float(settings.get("max_score", 0.0))) -> dict[str, Any]:
        return gs.failure(message, max_score=most, visibility=visibility, extra=extra)

    found = gs.find_submission(folder)
    if found.rivals:
        names = ", ".join(gs.code_span(gs.shown(p, folder)) for p in found.rivals)
        return failure(
            f"Your submission holds {len(found.rivals)} answers files ({names}): the autograder cannot tell which "
            "one to grade. Submit again with only the sheet you want graded."
        )
    submission = found.graded
    if submission is None:
        linked = gs.links(folder)
        if linked:
            names = ", ".join(gs.code_span(gs.shown(p, folder)) for p in linked)
            return failure(
                f"Your submission holds symbolic links ({names}), which are not followed: upload the file itself."
            )
        return failure("No answers file (`.yaml`) found in the submission: upload your filled-in sheet.")
    name = gs.shown(submission, folder)
    extra |= {"submission": name, "ignored": found.ignored_names(folder)}
    keys = source / "keys"
    if settings.get("single"):
        key_path, student = keys / "key.yaml", None
    else:
        match = settings.get("match", "sid")
        student, problem = gs.read_metadata(root / "submission_metadata.json", match)
        if student is None:
            return failure(f"The autograder cannot tell whose submission this is: {gs.plain_markdown(problem)}.")
        extra["student"] = student
        by_student = {book.key_student(p, load_answers(p)): p for p in book.key_files(keys)}
        if student not in by_student:
            return failure(f"No variant for the student id {gs.code_span(student)}: ask your instructor.")
        key_path = by_student[student]
    key = _key(key_path, load_answers(key_path), None, _recorded_filters(settings), 6)
    key_text = key_path.read_text(encoding="utf-8")
    extra |= {
        "seed": gs.seed_of(key_text),
        "key_sha256": hashlib.sha256(key_text.encode()).hexdigest(),
        "config_sha256": key.identity,
    }
    hand = book.handed_file(submission, frozenset(), shared=True)
    if hand.sheet is None:  # not read at all: the error, located in the student's own file
        message = _in_submission(hand.problem, submission, name, root)
        return failure(
            f"Your answers file could not be graded: {gs.plain_markdown(message)}",
            key.max_score(),
        )
    try:
        check_config(hand.sheet, key.path, key.config, key.identity)
    except ConfigError:
        extra["sheet_config_sha256"] = hand.sheet.config_sha256
        return failure(
            f"{gs.code_span(name)} was written for another version of the assignment (another network or "
            "data than yours): fill in the sheet you were given and submit it.",
            key.max_score(),
        )
    row = book.grade([submission], {None: key}, handed=[hand]).rows[0]
    if row.result is None:
        message = _in_submission(row.message, submission, name, root)
        return failure(f"Your answers file could not be graded: {gs.plain_markdown(message)}", key.max_score())
    result = replace(  # what lenient reading read around, located in the student's file as they know it
        row.result,
        remarks=tuple(_in_submission(r, submission, name, root) for r in row.result.remarks),
        verdicts=tuple(replace(v, note=_in_submission(v.note, submission, name, root)) for v in row.result.verdicts),
    )
    return gs.results(
        result,
        key.table,
        reveal=settings.get("reveal", "never"),
        visibility=visibility,
        fmt=key.fmt,
        for_student=True,
        remarks=[found.remark(folder)],
        extra=extra,
    )


def _in_submission(message: str, submission: Path, name: str, root: Path) -> str:
    """A message about the student's file naming it as they know it, and no path of the server."""
    return message.replace(str(submission), name).replace(str(root), "the autograder")


def _recorded_filters(settings: dict[str, Any]) -> Filters:
    """The filters the zip was written with (none in a zip written before they were recorded)."""
    recorded = settings.get("filters") or {}
    steps, layers, phases, samples, only = (tuple(recorded.get(name, ())) for name in _FILTER_FIELDS)
    return (steps, layers, phases, samples, only)
