"""``backprop check``: recompute the trace and mark every answer of an answers file."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

from backprop_cli.cli.help import TranslatedHelp
from backprop_cli.cli.kit import handle_errors, lang_option, make_console, output_option, precision_option, width_option
from backprop_cli.cli.names import filter_options
from backprop_cli.errors import ConfigError
from backprop_cli.model.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from backprop_cli.homework.answers import AnswersFile


@click.command(
    cls=TranslatedHelp,  # --help in the reader's language
    short_help=N_("Check an answers file against the recomputed trace."),
    help=N_("""Recompute the trace of the config that ANSWERS belongs to and mark each answer correct, wrong or
    missing (blank). Exit status: 0 when every answer is correct, 1 when any is wrong or missing, 2 for
    bad input (a malformed answers file, an unknown name, a config that does not match, or a file that
    asks no names: nothing to grade).

    Each answer wrong against the key is also judged from the student's own upstream answers (error
    carried forward: "correct given your values", the key's `ecf: {credit: 0.5}` of its points), the
    first wrong step is named, wrong answers are matched against known misconceptions (computed as
    whole alternative traces) and otherwise given a hint (sign, power of ten, rounding, a
    neighbour's value). A key written with `answers --round-as-you-go N` or `--exact` is graded by
    its rounding protocol.

    With --key, a student's ANSWERS gives only values: the names asked, weights and tolerances are the
    key's, so a student cannot loosen a tolerance by editing the sheet. The sheet is then graded as far
    as it reads: an answer that is not a number is invalid, a name not in the trace is left out (with the
    closest real one), a YAML slip is read around line by line; the report is written, exit status 1.
    The filters (--step, --phase, --layer, --sample, --only, as `backprop answers` has them) grade only
    the names they choose, so one key of every name serves each sheet written with filters.

    \b
    Examples:
      backprop check sheet.yaml
      backprop check sheet.yaml --config net.yaml --reveal wrong --explain
      backprop check sheet.yaml --format gradescope -o /autograder/results/results.json
      backprop check submission/sheet.yaml --key source/key.yaml --format gradescope
      backprop check submission/sheet.yaml --key source/key.yaml --phase backward
      backprop check --key variants/ submissions/ --gradebook grades.csv --layout canvas

    Batch: with several ANSWERS (files, folders, globs), a --key folder or --gradebook, every
    submission is graded in one run against its student's key (matched by the sheet's
    `student:`, else its file or folder name), and the report is a per-question and per-student summary
    (--format json: the backprop-gradebook document). Every student with a key gets a row. From 200
    per-student keys on, the run is shared among worker processes, one per CPU up to 8;
    BACKPROP_JOBS=N sets how many (1: this process alone).
    """),
)
@click.argument("submissions", metavar="ANSWERS...", nargs=-1, required=True)
@filter_options
@click.option("--config", help=N_("The config to check against (default: the one the answers file names)."))
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    help=N_("The data to recompute with (default: the config's, or the one `answers --data` recorded)."),
)
@click.option(
    "--key",
    type=click.Path(),
    help=N_(
        "The teacher's answers file (it decides the names asked, weights, tolerances and the config), "
        "or a folder of *.key.yaml files, one a student."
    ),
)
@click.option(
    "--gradebook",
    type=click.Path(dir_okay=False),
    help=N_("Batch: write the gradebook CSV here (one row per student, a column per question, the total)."),
)
@click.option(
    "--layout",
    type=click.Choice(["plain", "canvas", "moodle"]),
    default="plain",
    show_default=True,
    help=N_("Batch: the gradebook's columns: ours, or Canvas's or Moodle's grade import."),
)
@click.option(
    "--canvas-id",
    type=click.Choice(["SIS User ID", "ID", "SIS Login ID"]),
    default="SIS User ID",
    show_default=True,
    help=N_("Batch: the Canvas layout's column for the student id (the roster column `variants` read them from)."),
)
@click.option(
    "--assignment",
    default="backprop",
    show_default=True,
    help=N_("Batch: the assignment's column name in the Canvas and Moodle layouts."),
)
@click.option(
    "--reveal",
    type=click.Choice(["never", "wrong", "always"]),
    default="never",
    show_default=True,
    help=N_("When to show the expected value: never, for wrong or missing answers, or always."),
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "gradescope"]),
    default="text",
    show_default=True,
    help=N_("text: a table and a score line; json: the backprop-check report; gradescope: results.json."),
)
@click.option(
    "--visibility",
    type=click.Choice(["visible", "hidden", "after_due_date", "after_published"]),
    default="visible",
    show_default=True,
    help=N_("Gradescope: when students see the results."),
)
@click.option(
    "--hints/--no-hints",
    default=True,
    show_default=True,
    help=N_("Say what kind of wrong a plain wrong answer is (sign, power of ten, rounding, a neighbour's value)."),
)
@click.option(
    "--explain", "with_explain", is_flag=True, help=N_("Attach the derivation of each wrong or missing answer.")
)
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help=N_("Levels of factors in each --explain derivation (0: all the way down)."),
)
@precision_option(N_("Significant digits of the expected values shown (JSON has full precision)."))
@width_option()
@output_option(N_("Write the report to this file (atomically) instead of stdout."))
@lang_option(data_formats=("json",))
@handle_errors
def check(
    submissions: tuple[str, ...],
    only_steps: tuple[int, ...],
    only_layers: tuple[str, ...],
    only_phases: tuple[str, ...],
    only_samples: tuple[int, ...],
    patterns: tuple[str, ...],
    config: str | None,
    data: str | None,
    key: str | None,
    gradebook: str | None,
    layout: str,
    canvas_id: str,
    assignment: str,
    reveal: str,
    output_format: str,
    visibility: str,
    hints: bool,
    with_explain: bool,
    depth: int,
    precision: int,
    width: int | None,
    output: str | None,
) -> None:
    import json
    import os
    from glob import has_magic
    from pathlib import Path

    narrowed_options = (only_steps, only_layers, only_phases, only_samples, patterns)
    first = submissions[0]
    single = len(submissions) == 1 and not os.path.isdir(first) and (os.path.exists(first) or not has_magic(first))
    if key is not None and (gradebook or os.path.isdir(key) or not single):
        from backprop_cli.cli.grade import grade_batch

        if with_explain:  # derivations belong to one student's report: check one sheet at a time for them
            message = "--explain is for one sheet; expected no --explain when grading a batch"
            raise ConfigError(message, path="--explain")

        grade_batch(
            submissions,
            key,
            narrowed_options,
            output_format=output_format,
            gradebook=gradebook,
            layout=layout,
            canvas_id=canvas_id,
            assignment=assignment,
            precision=precision,
            width=width,
            output=output,
            hints=hints,
            reveal=reveal,
        )
        return
    if len(submissions) > 1 or gradebook:
        raise ConfigError("grading several files needs the key; expected --key KEY_OR_DIR", path="--key")
    (answers_file,) = submissions

    from backprop_cli.cli.names import key_values, load_program, name_filter
    from backprop_cli.cli.output import open_output
    from backprop_cli.homework import gradescope
    from backprop_cli.homework.answers import (
        check_config,
        config_identity,
        config_reference,
        load_answers,
        resolve_config,
        resolve_data,
    )
    from backprop_cli.homework.check import CheckFailed, check_answers, table, to_json, with_feedback
    from backprop_cli.homework.explain import derive, render_text
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.names import steps_named
    from backprop_cli.model.numbers import NumberFormat

    rubric = load_answers(key) if key is not None else None
    sheet = load_answers(answers_file, lenient=rubric is not None)  # graded against a key: as far as it reads
    rules = rubric or sheet  # the key decides the run as it decides the names: its --steps and --data
    with _reads_for(sheet, chosen=config is not None or rubric is not None):
        path = Path(config) if config is not None else resolve_config(rules, trusted=rubric is not None)
        recorded = resolve_data(rules) if data is None else None
        spec, path = load_program(str(path), data or (str(recorded) if recorded else None), rules.run.steps)
        for answers in (rubric, sheet):  # both must belong to this config's content
            if answers is not None:
                check_config(answers, path, config or str(path))
    fmt = NumberFormat(precision)
    asked = (
        [a.name for a in sheet.answers] + [a.name for a in rubric.answers]
        if rubric
        else [a.name for a in sheet.answers]
    )
    only = Filter(steps=steps_named(asked))  # a long run: only the steps asked are laid out
    values = key_values(spec, rules, fmt, only)  # by the key's rounding protocol (a sheet checked alone: its own)
    shown = config or config_reference(path, Path.cwd())  # a built-in example by name, else a path from here
    narrowed = name_filter(spec, *narrowed_options)
    chosen = (lambda v: narrowed.wants_quantity(v.quantity, v.name)) if narrowed != Filter() else None
    identity = config_identity(path)
    rounding = rules.rounding
    result = check_answers(
        sheet, values, shown, identity, key=rubric, chosen=chosen, rounding=rounding, lenient=rubric is not None
    )
    if chosen is not None and not result.verdicts:  # (every name known: check_answers said so first)
        given = zip(("--step", "--layer", "--phase", "--sample", "--only"), narrowed_options, strict=True)
        raise ConfigError(
            f"no name {'the key' if rubric else 'the answers file'} asks matches the filters; expected at least "
            "one (see `backprop names`)",
            path="/".join(flag for flag, chosen_values in given if chosen_values),
        )

    result = with_feedback(result, spec, only, fmt, values, hints=hints)

    def explainer(name: str) -> str:  # under --reveal never, formulas without any number of the trace
        return render_text(derive(name, values, depth or None), numbers=reveal != "never")

    explain = explainer if with_explain else None
    inputs = [path, Path(answers_file)] + ([Path(key)] if key else []) + [Path(d) for d in (data, recorded) if d]
    with open_output(output, inputs=inputs) as stream:
        if output_format == "json":
            report = to_json(result, reveal=reveal, explain=explain, fmt=fmt)  # English: --lang is for text
            stream.write(json.dumps(report, indent=2, allow_nan=False) + "\n")
        elif output_format == "gradescope":
            report = gradescope.results(result, values, reveal=reveal, visibility=visibility, fmt=fmt, explain=explain)
            stream.write(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        else:  # colour on a terminal unless NO_COLOR; a file gets plain text
            make_console(stream, width).print(table(result, reveal=reveal, fmt=fmt, explain=explain))
    if not result.passed:
        wrong, missing, invalid = result.count("wrong"), result.count("missing"), result.count("invalid")
        carried = result.count("ecf")
        also = _(", {n} correct only given your values").format(n=carried) if carried else ""
        counted = (
            _("{wrong} wrong{also}, {missing} missing and {invalid} invalid")
            if invalid
            else _("{wrong} wrong{also} and {missing} missing")
        ).format(wrong=wrong, also=also, missing=missing, invalid=invalid)
        n = len(result.verdicts)
        raise CheckFailed(
            ngettext("check failed: {counted} of {n} answer", "check failed: {counted} of {n} answers", n).format(
                counted=counted, n=n
            )
        )


def _reads_for(sheet: AnswersFile, *, chosen: bool) -> contextlib.AbstractContextManager[None]:
    """Where the config and its data may be read from: anywhere the grader chose (``--config``, or a
    key's config), else only inside the sheet's own folder (and the built-in examples), so that a
    student's sheet cannot make the grader read, and quote, another file."""
    from backprop_cli.loading import run
    from backprop_cli.loading.examples import EXAMPLES_DIR

    if chosen:
        return contextlib.nullcontext()
    why = (
        f"is outside the folder of the answers file {sheet.source}; expected the config and its data inside it "
        "(or --config, or --key, to choose the config)"
    )
    return run.confined((sheet.directory, EXAMPLES_DIR), why)
