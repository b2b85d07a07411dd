"""``backprop landscape``: the loss over two parameters (or directions), with the paths the steps take.

Also home of what ``landscape`` and ``compare`` share: the run options (``--optimizer``,
``--learning-rate``, ``--batch-size``), the picture formats, and writing a picture's bytes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from backprop_cli.cli.kit import (
    color_option,
    data_option,
    handle_errors,
    load,
    make_console,
    output_option,
    precision_option,
    steps_option,
    width_option,
)
from backprop_cli.model.i18n import N_

if TYPE_CHECKING:
    from backprop_cli.landscape.runs import Variant
    from backprop_cli.model.spec import NetworkSpec

F = TypeVar("F", bound=Callable[..., Any])
PICTURE_FORMATS = ("text", "json", "svg", "png")


def run_options(command: F) -> F:
    """--optimizer, --learning-rate and --batch-size, each repeatable: the runs drawn or compared."""
    options = [
        click.option(
            "--optimizer",
            "optimizers",
            multiple=True,
            metavar="NAME[:RATE]",
            help="A run with this optimizer (sgd, momentum, adam, adamw, rmsprop), from the same start; "
            "NAME:RATE gives it its own learning rate (repeatable; default: the config's).",
        ),
        click.option(
            "--learning-rate",
            "rates",
            multiple=True,
            type=float,
            help="A run at this learning rate (repeatable; each --optimizer without :RATE runs at each).",
        ),
        click.option(
            "--batch-size",
            "batch_sizes",
            multiple=True,
            type=click.IntRange(min=1),
            help="A run with this batch size (repeatable; default: the config's).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def format_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(PICTURE_FORMATS),
        default="text",
        show_default=True,
        help=f"text: {what} for a terminal; json: the numbers behind it; svg, png: an image (matplotlib).",
    )


def network_spec(config: str | None, data: str | None, steps: int | None) -> tuple[NetworkSpec, list[Path]]:
    """The config as a network (an expression program has no parameters to draw), and the files it read."""
    from backprop_cli.cli.expression import wants_expression
    from backprop_cli.errors import ConfigError

    if wants_expression(config, None, ()):
        raise ConfigError("an expression program; landscapes are drawn for network configs", file=config)
    spec, path = load(config, data, steps)
    return spec, [path] + ([Path(data)] if data else [])


def chosen_runs(
    spec: NetworkSpec, optimizers: Sequence[str], rates: Sequence[float], batch_sizes: Sequence[int]
) -> list[Variant]:
    from backprop_cli.landscape.compare import variants

    return variants(spec, optimizers, rates, batch_sizes)


def write_bytes(target: str | None, data: Callable[[], bytes], inputs: Sequence[Path]) -> None:
    """Binary output (PNG) through the shared writer: to stdout, or atomically to a file (a temporary
    beside it, renamed on success), never one of the inputs; never raw bytes to a terminal. ``data``
    is called once the target has been checked, so a refused file costs no drawing."""
    from backprop_cli.cli.output import open_output
    from backprop_cli.errors import ConfigError

    if (target is None or target == "-") and sys.stdout.isatty():
        raise ConfigError("--format png writes binary data; expected -o FILE.png (or a pipe)", path="--output")
    with open_output(target, inputs=inputs) as stream:
        stream.flush()
        stream.buffer.write(data())
        stream.buffer.flush()


def note_divergence(labels_and_notes: Sequence[tuple[str, str | None]]) -> None:
    for label, diverged in labels_and_notes:
        if diverged:
            click.echo(f"note: {label} {diverged}", err=True)


def _range(text: str | None, option: str) -> tuple[float, float] | None:
    from backprop_cli.landscape.grid import parse_range

    return None if text is None else parse_range(text, option)


@click.command(short_help=N_("Draw the loss over two parameters, with the path the steps take."))
@click.argument("config", required=False)
@data_option()
@steps_option()
@click.option("--x", "x_name", metavar="NAME", help="The parameter across (a stable name: out.w1_1, hidden.b2).")
@click.option("--y", "y_name", metavar="NAME", help="The parameter up; without it, the loss curve over --x.")
@click.option(
    "--direction",
    type=click.Choice(["axes", "random", "pca"]),
    help="axes: --x and --y (default); random: two filter-normalised random directions; pca: the path's "
    "two principal directions (for networks with many parameters).",
)
@click.option("--grid", "points", type=int, default=101, show_default=True, help="Grid points per side (3 to 1001).")
@click.option("--span", type=float, help="Each axis from the held value − SPAN to + SPAN.")
@click.option("--x-range", metavar="LO:HI", help="The range across, e.g. -2:3 (default: the paths with a margin).")
@click.option("--y-range", metavar="LO:HI", help="The range up.")
@click.option(
    "--step",
    "held_step",
    type=click.IntRange(min=0),
    help="Hold the other parameters at their values after this many steps of the first run "
    "(default 0, as configured; random and pca: the last step).",
)
@click.option("--batch", is_flag=True, help="The loss on the batch of the step after --step, not on all data.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random directions.")
@run_options
@format_option("a shaded contour map (or curve) with the paths")
@output_option()
@precision_option("Significant digits of the numbers shown.", default=4)
@width_option("Width to draw for (default: the terminal's).")
@color_option()
@handle_errors
def landscape(
    config: str | None,
    data: str | None,
    steps: int | None,
    x_name: str | None,
    y_name: str | None,
    direction: str | None,
    points: int,
    span: float | None,
    x_range: str | None,
    y_range: str | None,
    held_step: int | None,
    batch: bool,
    seed: int,
    optimizers: tuple[str, ...],
    rates: tuple[float, ...],
    batch_sizes: tuple[int, ...],
    output_format: str,
    output: str | None,
    precision: int,
    width: int | None,
    color: bool | None,
) -> None:
    """Draw the loss of CONFIG over two parameters (--x, --y, by their stable names), the others held at
    their values at a step, with the path of the run's steps over it: each step a numbered point, the
    gradient arrow at the start. With --x alone, the loss curve over one parameter with the steps on it.

    Several --optimizer or --learning-rate options draw several runs from the same start. The grid
    defaults to a range holding every path with a margin; a run that diverges is drawn up to its last
    finite step, and the picture says so.

    \b
    Examples:
      backprop landscape
      backprop landscape narrow_valley --optimizer sgd:0.1 --optimizer momentum:0.05 --optimizer adam:0.3
      backprop landscape lr_too_large --x out.w1_1 --learning-rate 0.3 --learning-rate 0.05 --steps 4
      backprop landscape deep_relu_he --direction pca --format svg -o landscape.svg
      backprop landscape xor --x h.w1_1 --y h.w1_2 --format json -o grid.json
    """
    from backprop_cli.landscape.build import Request, build
    from backprop_cli.landscape.grid import check_grid

    check_grid(points, False, 1, 1)  # the per-side bound before anything runs; the work bound comes later
    spec, inputs = network_spec(config, data, steps)
    chosen = chosen_runs(spec, optimizers, rates, batch_sizes)
    request = Request(
        x_name,
        y_name,
        direction,
        points,
        span,
        _range(x_range, "--x-range"),
        _range(y_range, "--y-range"),
        held_step,
        batch,
        seed,
    )
    view = build(spec, request, chosen)
    note_divergence([(path.label, path.diverged) for path in view.journeys])
    if output_format == "png":
        from backprop_cli.render.landscape_image import landscape_png

        write_bytes(output, lambda: landscape_png(view), inputs)
        return
    from backprop_cli.cli.output import open_output

    with open_output(output, inputs=inputs) as stream:
        if output_format == "json":
            from backprop_cli.render.landscape_json import dumps, landscape_dict

            stream.write(dumps(landscape_dict(view)))
        elif output_format == "svg":
            from backprop_cli.render.landscape_image import landscape_svg

            stream.write(landscape_svg(view))
        else:
            from rich.console import Group

            from backprop_cli.model.numbers import NumberFormat
            from backprop_cli.render.landscape_map import landscape_text

            console = make_console(stream, width, color)
            console.print(Group(*landscape_text(view, NumberFormat(precision), console.width)))
