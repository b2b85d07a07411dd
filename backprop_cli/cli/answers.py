"""``backprop answers``: an answer key (or a blank sheet) for a config, as YAML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from backprop_cli.cli.help import TranslatedHelp
from backprop_cli.cli.kit import complete_config, data_option, handle_errors, lang_option, output_option, steps_option
from backprop_cli.cli.names import filter_options
from backprop_cli.model.i18n import N_

if TYPE_CHECKING:
    from backprop_cli.homework.values import NamedValue

#: the --format values that write a handout, not an answers file
_HANDOUTS = ("markdown", "html", "latex", "pdf")


@click.command(
    cls=TranslatedHelp,
    short_help=N_("Write an answer key or a blank answer sheet for a config."),
    help=N_("""Write a YAML answers file for CONFIG: every name of its trace (or those the filters choose) with
    its correct value, or with --blank an empty value. The file records the config's path and the
    SHA-256 of its content, so `backprop check` refuses answers meant for another config. With --steps
    or --data it records them too (the data file by its path and SHA-256), and check recomputes that
    run. Edit it to give answers a weight or a tolerance.

    \b
    Examples:
      backprop answers net.yaml -o key.yaml
      backprop answers net.yaml --blank --phase backward -o sheet.yaml
      backprop answers xor --only '*.dL_dw*' --only '*.new' --step 1
      backprop answers net.yaml --blank --phase backward --format pdf -o worksheet.pdf
      backprop answers classic_2_2_2 --round-as-you-go 4 -o key.yaml
      backprop answers pytorch_snippet --exact -o key.yaml
    """),
)
@click.argument("config", required=False, shell_complete=complete_config)
@data_option(N_("Data file replacing the config's data (recorded in the file, with its SHA-256, for check)."))
@steps_option()
@filter_options
@click.option("--blank", is_flag=True, help=N_("Leave every value empty: the sheet a student fills in."))
@click.option(
    "--given",
    is_flag=True,
    help=N_("Keep the given numbers too (parameters before a step, inputs, targets): left out by default."),
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["yaml", "markdown", "html", "latex", "pdf"]),
    default="yaml",
    show_default=True,
    help=N_(
        "yaml: the answers file; markdown, html, latex, pdf: the handout (--blank: the worksheet with "
        "numbered blanks; else the solution, numbered alike)."
    ),
)
@click.option(
    "--round-as-you-go",
    "round_digits",
    type=click.IntRange(1, 15),
    metavar="N",
    help=N_(
        "A key for students told to round every intermediate to N decimals as they go: the chain "
        "recomputed with each number rounded (recorded in the file, so check grades that way)."
    ),
)
@click.option("--significant", is_flag=True, help=N_("With --round-as-you-go: N significant digits, not decimals."))
@click.option(
    "--exact",
    is_flag=True,
    help=N_("A key in exact fractions (rational ops only): check accepts an answer only when it is exact."),
)
@output_option()
@lang_option(data_formats=_HANDOUTS)  # a handout is not translated yet: it stays wholly English
@handle_errors
def answers(
    config: str | None,
    data: str | None,
    steps: int | None,
    only_steps: tuple[int, ...],
    only_layers: tuple[str, ...],
    only_phases: tuple[str, ...],
    only_samples: tuple[int, ...],
    patterns: tuple[str, ...],
    blank: bool,
    given: bool,
    output_format: str,
    round_digits: int | None,
    significant: bool,
    exact: bool,
    output: str | None,
) -> None:
    import io
    import os

    from backprop_cli.budget import check_key_text
    from backprop_cli.cli.names import FILTER_FLAGS, compute_values, load_program, name_filter, nothing_chosen
    from backprop_cli.cli.output import open_output
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework.answers import (
        RunChoice,
        config_identity,
        config_reference,
        config_sha256,
        write_answers,
    )
    from backprop_cli.model.numbers import NumberFormat

    spec, path = load_program(config, data, steps)
    only = name_filter(spec, only_steps, only_layers, only_phases, only_samples, patterns)
    if exact and round_digits is not None:
        raise ConfigError("--exact and --round-as-you-go are two protocols; expected one of them", path="--exact")
    values = compute_values(spec, NumberFormat(), only, command="answers", exact=exact)
    if not values:
        raise nothing_chosen(spec, NumberFormat(), only)
    if exact:
        _fits_a_sheet(values)
    if significant and round_digits is None:
        raise ConfigError(
            "--significant says how --round-as-you-go rounds; expected --round-as-you-go N too", path="--significant"
        )
    rounding = None
    if exact:
        from backprop_cli.homework.rounding import EXACT, Rounding

        rounding = Rounding(EXACT)
    if round_digits is not None:  # the whole chain of the steps chosen is rounded, then the filters choose
        from backprop_cli.homework.rounding import Rounding, round_as_you_go
        from backprop_cli.model.filters import Filter

        rounding = Rounding("significant" if significant else "decimals", round_digits)
        chain = compute_values(spec, NumberFormat(), Filter(steps=only.steps), command="answers")
        rounded = round_as_you_go({v.name: v for v in chain}, rounding)
        values = [rounded[v.name] for v in values]
    filters = (patterns, only_phases, only_layers, only_steps, only_samples)
    flags = [flag for flag, chosen in zip(FILTER_FLAGS, filters, strict=True) if chosen]
    where = "/".join(flags) or "--only"  # the filter options used (in this fixed order)
    if not given and all(v.is_given for v in values):
        raise ConfigError(
            f"the filters choose only given numbers ({len(values)}: parameters before a step, inputs, targets), "
            "which a key leaves out; expected a computed one, or --given to keep them",
            path=where,
        )
    if output_format != "yaml":
        from backprop_cli.cli.handout import write_handout
        from backprop_cli.model.spec import NetworkSpec

        if not isinstance(spec, NetworkSpec):
            raise ConfigError("a handout is for a network config; expected --format yaml", path="--format")
        asked = [v for v in values if (given or not v.is_given)]
        write_handout(spec, path, asked, blank=blank, output_format=output_format, output=output)
        return
    target_dir = Path(output).parent if output not in (None, "-") else Path(".")
    config_ref = config_reference(path, target_dir)
    if not config_ref.isascii() and any(0xD800 <= ord(c) <= 0xDFFF for c in config_ref):
        raise ConfigError(  # a file name of non-UTF-8 bytes: YAML text cannot record it
            "the path from the answers file to the config is not UTF-8; expected a UTF-8 file name (rename it)",
            file=config,
        )
    run = RunChoice(  # what check must recompute: the same steps and data
        steps,
        None if data is None else Path(os.path.relpath(Path(data).resolve(), target_dir.resolve())).as_posix(),
        None if data is None else config_sha256(Path(data)),
    )
    key = io.StringIO()
    write_answers(
        key,
        values,
        config_ref=config_ref,
        sha256=config_identity(path),
        raw_sha256=config_sha256(path),
        label=spec.source,
        blank=blank,
        include_given=given,
        run=run,
        rounding=rounding,
    )
    check_key_text(key.getvalue())  # never a key that `backprop check` refuses to read
    with open_output(output, inputs=[path, *([Path(data)] if data else [])]) as stream:
        stream.write(key.getvalue())


def _fits_a_sheet(values: list[NamedValue]) -> None:
    """An exact key must read back: an answers file takes fractions of at most 300 digits a side."""
    from fractions import Fraction

    from backprop_cli.errors import ConfigError

    for v in values:
        if isinstance(v.exact, Fraction):
            digits = max(len(str(abs(v.exact.numerator))), len(str(v.exact.denominator)))
            if digits > 300:
                raise ConfigError(
                    f"the exact value of {v.name} has {digits} digits; expected at most 300 a side, as an answers "
                    "file reads them (fewer steps, with --steps)",
                    path="--exact",
                )
