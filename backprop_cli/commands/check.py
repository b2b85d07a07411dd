"""``backprop check``: recompute the trace and mark every answer of an answers file."""

from __future__ import annotations

import click

from backprop_cli.clikit import handle_errors, output_option, precision_option, width_option


@click.command(short_help="Check an answers file against the recomputed trace.")
@click.argument("answers_file", metavar="ANSWERS", type=click.Path(dir_okay=False))
@click.option("--config", help="The config to check against (default: the one the answers file names).")
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
    config: str | None,
    key: str | None,
    reveal: str,
    output_format: str,
    visibility: str,
    with_explain: bool,
    depth: int,
    precision: int,
    width: int | None,
    output: str | None,
) -> None:
    """Recompute the trace of the config that ANSWERS belongs to and mark each answer correct, wrong or
    missing (blank). Exit status: 0 when every answer is correct, 1 when any is wrong or missing, 2 for
    bad input (a malformed answers file, an unknown name, a config that does not match).

    With --key, a student's ANSWERS gives only values: the names asked, weights and tolerances are the
    key's, so a student cannot loosen a tolerance by editing the sheet.

    \b
    Examples:
      backprop check sheet.yaml
      backprop check sheet.yaml --config net.yaml --reveal wrong --explain
      backprop check sheet.yaml --format gradescope -o /autograder/results/results.json
      backprop check submission/sheet.yaml --key source/key.yaml --format gradescope
    """
    import json
    from pathlib import Path

    from backprop_cli.answers import check_config, config_reference, config_sha256, load_answers, resolve_config
    from backprop_cli.check import CheckFailed, check_answers, table, to_gradescope, to_json
    from backprop_cli.commands.names import compute_values, load_program
    from backprop_cli.explain import derive, render_text
    from backprop_cli.output import open_output
    from backprop_cli.render.numbers import NumberFormat
    from backprop_cli.values import NameFilter, steps_named

    sheet = load_answers(answers_file)
    rubric = load_answers(key) if key is not None else None
    path = Path(config) if config is not None else resolve_config(rubric or sheet)
    spec, path = load_program(str(path))
    for answers in (rubric, sheet):  # both must belong to this config's content
        if answers is not None:
            check_config(answers, path, config or str(path))
    fmt = NumberFormat(precision)
    asked = (
        [a.name for a in sheet.answers] + [a.name for a in rubric.answers]
        if rubric
        else [a.name for a in sheet.answers]
    )
    only = NameFilter(steps=steps_named(asked))  # a long run: only the steps asked are laid out
    values = {v.name: v for v in compute_values(spec, fmt, only, command="check")}
    shown = config or config_reference(path, Path.cwd())  # a built-in example by name, else a path from here
    result = check_answers(sheet, values, shown, config_sha256(path), key=rubric)

    def explainer(name: str) -> str:
        return render_text(derive(name, values, depth or None))

    explain = explainer if with_explain else None
    inputs = [path, Path(answers_file)] + ([Path(key)] if key else [])
    with open_output(output, inputs=inputs) as stream:
        if output_format == "json":
            stream.write(json.dumps(to_json(result, reveal=reveal, explain=explain), indent=2) + "\n")
        elif output_format == "gradescope":
            report = to_gradescope(result, reveal=reveal, visibility=visibility, fmt=fmt, explain=explain)
            stream.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        else:
            from rich.console import Console

            if output is None:  # colour on a terminal unless NO_COLOR; a file gets plain text
                console = Console(file=stream, width=width, highlight=False)
            else:
                console = Console(file=stream, width=width or 120, color_system=None, highlight=False)
            console.print(table(result, reveal=reveal, fmt=fmt, explain=explain))
    if not result.passed:
        wrong, missing = result.count("wrong"), result.count("missing")
        raise CheckFailed(
            f"check failed: {wrong} wrong and {missing} missing of {len(result.verdicts)} answers".removesuffix(
                "s" if len(result.verdicts) == 1 else ""
            )
        )
