"""``backprop export``: a template as a question of a course platform (PrairieLearn)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from backprop_cli.cli.kit import handle_errors
from backprop_cli.cli.names import filter_options
from backprop_cli.model.i18n import N_

if TYPE_CHECKING:
    from backprop_cli.homework.answers import Tolerance


@click.group(short_help=N_("Export a template as a course platform's question (PrairieLearn)."))
def export() -> None:
    """Write a template config as a question a course platform draws variants of."""


@export.command(short_help="Write a PrairieLearn question directory for a template.")
@click.argument("template", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", required=True, help="The question directory (questions/NAME).")
@click.option("--title", default=None, help="The question's title (default: the template's file name).")
@click.option(
    "--tolerance",
    default="relative=0.001",
    show_default=True,
    metavar="KIND=AMOUNT",
    help="As an answers file's tolerance: relative=F, absolute=D or decimals=N (pl-number-input's too).",
)
@filter_options
@handle_errors
def prairielearn(
    template: str,
    out_dir: str,
    title: str | None,
    tolerance: str,
    only_steps: tuple[int, ...],
    only_layers: tuple[str, ...],
    only_phases: tuple[str, ...],
    only_samples: tuple[int, ...],
    patterns: tuple[str, ...],
) -> None:
    """Write OUTPUT/info.json (a uuid stable for the template, the filters and OUTPUT's name, so each
    question of a course has its own), question.html (one pl-number-input per asked name, labelled with
    it, the key's default tolerance) and server.py, whose generate(data)
    draws the variant of data["variant_seed"] with this tool's variant code (the draws of `backprop
    variants`; degenerate variants redrawn) and fills data["params"] and data["correct_answers"], and
    whose grade(data) marks the answers as `backprop check` does. The filters choose the names asked
    (as `backprop answers` has them; given numbers are left out). The grading image needs backprop-cli.

    \b
    Example:
      backprop export prairielearn hw3.yaml -o questions/hw3 --phase backward
    """
    import math

    from backprop_cli.cli.names import name_filter
    from backprop_cli.cli.output import open_output
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework import prairielearn as pl
    from backprop_cli.homework import variants as v
    from backprop_cli.homework.answers import config_identity
    from backprop_cli.loading.yamlsafe import CONFIG_LIMIT, describe, parse, read_text

    text = read_text(template, template, limit=CONFIG_LIMIT, what="template config")
    doc = parse(text, template, fmt="yaml")
    if not isinstance(doc.value, dict) or "network" not in doc.value:
        raise ConfigError(f"the template is {describe(doc.value)}; expected a network config", file=template)
    v.find_draws(v.split_template(doc)[0])  # malformed draws and filters: located here
    bound = _tolerance(tolerance)
    first, _ = pl.draw(text, 0, [])
    spec, values = pl.values_of(first)
    only = name_filter(spec, only_steps, only_layers, only_phases, only_samples, patterns)
    names = [
        x.name for x in values if only.wants_quantity(x.quantity, x.name) and not x.is_given and math.isfinite(x.value)
    ]
    if not names:
        raise ConfigError("the filters choose no computed name; expected at least one", path="--only")
    sha = config_identity(Path(template))
    qid = pl.question_id(out_dir)  # the QID: its path under questions/ (hw3/q1), else the directory's name
    files = {
        "info.json": pl.info_json(sha, only, qid, title or Path(template).stem),
        "question.html": pl.question_html(names, bound),
        "server.py": pl.server_py(text, names, bound),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        with open_output(str(out / name), inputs=[Path(template)]) as stream:
            stream.write(content)
    click.echo(f"{out_dir}: PrairieLearn question of {len(names)} answers", err=True)


def _tolerance(text: str) -> Tolerance:
    """``relative=0.01``, ``absolute=0.005`` or ``decimals=3``, as an answers file's ``tolerance:``."""
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework.answers import TOLERANCE_KINDS, Tolerance

    kind, _, amount = text.partition("=")
    expected = "expected relative=F, absolute=D (F, D ≥ 0) or decimals=N (0 to 15)"
    try:
        number = float(amount)
    except ValueError:
        raise ConfigError(f"{text!r} is not a tolerance; {expected}", path="--tolerance") from None
    if kind not in TOLERANCE_KINDS or not number >= 0 or (kind == "decimals" and number not in range(16)):
        raise ConfigError(f"{text!r} is not a tolerance; {expected}", path="--tolerance")
    return Tolerance(kind, number)
