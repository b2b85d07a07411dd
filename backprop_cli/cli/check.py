"""``backprop check``: recompute the trace and mark every answer of an answers file."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

from backprop_cli.cli.kit import handle_errors, make_console, output_option, precision_option, width_option
from backprop_cli.cli.names import filter_options

if TYPE_CHECKING:
    from backprop_cli.homework.answers import AnswersFile


@click.command(short_help="Check an answers file against the recomputed trace.")
@click.argument("answers_file", metavar="ANSWERS", type=click.Path(dir_okay=False))
@filter_options
@click.option("--config", help="The config to check against (default: the one the answers file names).")
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    help="The data to recompute with (default: the config's, or the one `answers --data` recorded).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False),
    help="The teacher's answers file: it decides the names asked, their weights and tolerances, and the config.",
)
@click.option(
    "--reveal",
    type=click.Choice(["never", "wrong", "always"]),
    default="never",
    show_default=True,
    help="When to show the expected value: never, for wrong or missing answers, or always.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "gradescope"]),
    default="text",
    show_default=True,
    help="text: a table and a score line; json: the backprop-check report; gradescope: results.json.",
)
@click.option(
    "--visibility",
    type=click.Choice(["visible", "hidden", "after_due_date", "after_published"]),
    default="visible",
    show_default=True,
    help="Gradescope: when students see the results.",
)
@click.option(
    "--hints/--no-hints",
    default=True,
    show_default=True,
    help="Say what kind of wrong a plain wrong answer is (sign, power of ten, rounding, a neighbour's value).",
)
@click.option("--explain", "with_explain", is_flag=True, help="Attach the derivation of each wrong or missing answer.")
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Levels of factors in each --explain derivation (0: all the way down).",
)
@precision_option("Significant digits of the expected values shown (JSON has full precision).")
@width_option()
@output_option("Write the report to this file (atomically) instead of stdout.")
@handle_errors
def check(
    answers_file: str,
    only_steps: tuple[int, ...],
    only_layers: tuple[str, ...],
    only_phases: tuple[str, ...],
    only_samples: tuple[int, ...],
    patterns: tuple[str, ...],
    config: str | None,
    data: str | None,
    key: str | None,
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
    """Recompute the trace of the config that ANSWERS belongs to and mark each answer correct, wrong or
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
    key's, so a student cannot loosen a tolerance by editing the sheet. The filters (--step, --phase,
    --layer, --sample, --only, as `backprop answers` has them) grade only the names they choose, so one
    key of every name serves each sheet written with filters.

    \b
    Examples:
      backprop check sheet.yaml
      backprop check sheet.yaml --config net.yaml --reveal wrong --explain
      backprop check sheet.yaml --format gradescope -o /autograder/results/results.json
      backprop check submission/sheet.yaml --key source/key.yaml --format gradescope
      backprop check submission/sheet.yaml --key source/key.yaml --phase backward
    """
    import json
    from pathlib import Path

    from backprop_cli.cli.names import compute_values, load_program, name_filter
    from backprop_cli.cli.output import open_output
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework.answers import (
        check_config,
        config_reference,
        config_sha256,
        load_answers,
        resolve_config,
        resolve_data,
    )
    from backprop_cli.homework.check import CheckFailed, check_answers, table, to_gradescope, to_json
    from backprop_cli.homework.explain import derive, render_text
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.names import steps_named
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.model.spec import NetworkSpec

    sheet = load_answers(answers_file)
    rubric = load_answers(key) if key is not None else None
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
    exact = rules.rounding is not None and rules.rounding.exact  # the key in fractions: the exact run
    values = {v.name: v for v in compute_values(spec, fmt, only, command="check", exact=exact)}
    shown = config or config_reference(path, Path.cwd())  # a built-in example by name, else a path from here
    narrowed_options = (only_steps, only_layers, only_phases, only_samples, patterns)
    narrowed = name_filter(spec, *narrowed_options)
    chosen = (lambda v: narrowed.wants_quantity(v.quantity, v.name)) if narrowed != Filter() else None
    rounding = rules.rounding  # the key's protocol (a sheet checked alone: its own)
    if rounding is not None:
        from backprop_cli.homework.rounding import round_as_you_go

        values = round_as_you_go(values, rounding, fmt)
    result = check_answers(sheet, values, shown, config_sha256(path), key=rubric, chosen=chosen, rounding=rounding)
    if chosen is not None and not result.verdicts:  # (every name known: check_answers said so first)
        given = zip(("--step", "--layer", "--phase", "--sample", "--only"), narrowed_options, strict=True)
        raise ConfigError(
            f"no name {'the key' if rubric else 'the answers file'} asks matches the filters; expected at least "
            "one (see `backprop names`)",
            path="/".join(flag for flag, chosen_values in given if chosen_values),
        )

    if isinstance(spec, NetworkSpec):  # misconceptions are mutations of a network's rules
        from backprop_cli.homework.fingerprints import look_for

        result = look_for(result, spec, only, fmt, values)
    else:
        from backprop_cli.homework.fingerprints import look_for_expression

        result = look_for_expression(result, values)
    if hints:
        from backprop_cli.homework.hints import with_hints

        result = with_hints(result, values)

    def explainer(name: str) -> str:  # under --reveal never, formulas without any number of the trace
        return render_text(derive(name, values, depth or None), numbers=reveal != "never")

    explain = explainer if with_explain else None
    inputs = [path, Path(answers_file)] + ([Path(key)] if key else []) + [Path(d) for d in (data, recorded) if d]
    with open_output(output, inputs=inputs) as stream:
        if output_format == "json":
            report = to_json(result, reveal=reveal, explain=explain, fmt=fmt)
            stream.write(json.dumps(report, indent=2, allow_nan=False) + "\n")
        elif output_format == "gradescope":
            report = to_gradescope(result, reveal=reveal, visibility=visibility, fmt=fmt, explain=explain)
            stream.write(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        else:  # colour on a terminal unless NO_COLOR; a file gets plain text
            make_console(stream, width).print(table(result, reveal=reveal, fmt=fmt, explain=explain))
    if not result.passed:
        wrong, missing, carried = result.count("wrong"), result.count("missing"), result.count("ecf")
        also = f", {carried} correct only given your values" if carried else ""
        raise CheckFailed(
            f"check failed: {wrong} wrong{also} and {missing} missing of {len(result.verdicts)} answers".removesuffix(
                "s" if len(result.verdicts) == 1 else ""
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
