"""``backprop compare``: the same network from the same start with several optimizers, rates or batch sizes."""

from __future__ import annotations

import click

from backprop_cli.cli.kit import (
    color_option,
    data_option,
    handle_errors,
    make_console,
    max_rows_option,
    output_option,
    precision_option,
    steps_option,
    width_option,
)
from backprop_cli.cli.landscape import (
    chosen_runs,
    format_option,
    network_spec,
    note_divergence,
    run_options,
    write_bytes,
)
from backprop_cli.model.i18n import N_


@click.command(short_help=N_("Run several optimizers (or rates, batch sizes) from the same start and compare."))
@click.argument("config", required=False)
@data_option()
@steps_option()
@run_options
@click.option(
    "--threshold",
    type=float,
    help="The loss to reach: each run's first step at or below it is reported "
    "(default: 1% of the loss before training).",
)
@format_option("loss curves, results and final parameters")
@output_option()
@precision_option("Significant digits of the numbers shown.", default=4)
@width_option("Width to draw for (default: the terminal's).")
@color_option()
@max_rows_option("Show at most this many final parameters (0: all).")
@handle_errors
def compare(
    config: str | None,
    data: str | None,
    steps: int | None,
    optimizers: tuple[str, ...],
    rates: tuple[float, ...],
    batch_sizes: tuple[int, ...],
    threshold: float | None,
    output_format: str,
    output: str | None,
    precision: int,
    width: int | None,
    color: bool | None,
    max_rows: int,
) -> None:
    """Run CONFIG's network from the same start once per --optimizer (or --learning-rate, or
    --batch-size, each repeatable) and compare: the loss on all data after every step as curves side
    by side, the steps each run needs to reach --threshold, and the final parameters.

    A run that diverges stops at its last finite step, and the comparison says so.

    \b
    Examples:
      backprop compare narrow_valley --optimizer sgd:0.1 --optimizer momentum:0.05 --optimizer adam:0.3
      backprop compare lr_too_large --learning-rate 0.3 --learning-rate 0.05
      backprop compare iris --batch-size 10 --batch-size 150 --steps 200 --format svg -o batches.svg
    """
    from backprop_cli.landscape.compare import compare as run_compare

    spec, inputs = network_spec(config, data, steps)
    result = run_compare(spec, chosen_runs(spec, optimizers, rates, batch_sizes), threshold)
    note_divergence([(c.journey.label, c.journey.diverged) for c in result.contests])
    if output_format == "png":
        from backprop_cli.render.landscape_image import comparison_png

        write_bytes(output, lambda: comparison_png(result), inputs)
        return
    from backprop_cli.cli.output import open_output

    with open_output(output, inputs=inputs) as stream:
        if output_format == "json":
            from backprop_cli.render.landscape_json import comparison_dict, dumps

            stream.write(dumps(comparison_dict(result)))
        elif output_format == "svg":
            from backprop_cli.render.landscape_image import comparison_svg

            stream.write(comparison_svg(result))
        else:
            from rich.console import Group

            from backprop_cli.model.numbers import NumberFormat
            from backprop_cli.render.landscape_compare import comparison_text

            console = make_console(stream, width, color)
            console.print(Group(*comparison_text(result, NumberFormat(precision), console.width, max_rows)))
