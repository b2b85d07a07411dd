"""``backprop explain``: how one number of the trace is derived, factor by factor, down to the inputs."""

from __future__ import annotations

import sys

import click

from backprop_cli.cli.help import TranslatedHelp
from backprop_cli.cli.kit import (
    color_option,
    complete_config,
    data_option,
    handle_errors,
    precision_option,
    steps_option,
    width_option,
)
from backprop_cli.model.i18n import N_


def unknown_name(name: str, known: list[str], config: str) -> Exception:
    """A located 'unknown name' error that suggests the closest real names."""
    from backprop_cli.errors import ConfigError
    from backprop_cli.model.names import closest_names

    close = closest_names(name, known)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else "no similar name"
    return ConfigError(f"unknown name {name!r} ({hint}); expected a name from `backprop names {config}`", path="NAME")


@click.command(
    cls=TranslatedHelp,
    short_help=N_("Show how one number of the trace is derived."),
    help=N_("""Show how the number NAME of CONFIG's trace is derived: its formula, the same formula with the numbers
    put in, and, for each factor, where that came from, down to inputs and parameters. A factor derived
    earlier in the tree is marked "derived above" instead of being unfolded again.

    \b
    Examples:
      backprop explain two_layer_relu hidden.dL_dw1_1
      backprop explain xor step1/h.w1_1.new --depth 2
    """),
)
@click.argument("config", shell_complete=complete_config)
@click.argument("name")
@data_option()
@steps_option()
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help=N_("Levels of factors to unfold (0: all the way down to inputs and parameters)."),
)
@precision_option(N_("Significant digits of the numbers shown."))
@width_option(N_("Width to wrap long lines at (default: the terminal's; piped output is not wrapped)."))
@color_option()
@handle_errors
def explain(
    config: str,
    name: str,
    data: str | None,
    steps: int | None,
    depth: int,
    precision: int,
    width: int | None,
    color: bool | None,
) -> None:
    from backprop_cli.cli.kit import make_console
    from backprop_cli.cli.names import compute_values, load_program, program_steps
    from backprop_cli.homework.explain import derive, render_rich
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.names import steps_named
    from backprop_cli.model.numbers import NumberFormat

    spec, _ = load_program(config, data, steps)
    (step,) = steps_named([name])  # its step, and the one before (where its parameters were updated)
    only = Filter(steps=frozenset({step, step - 1} - {0}))
    table = {v.name: v for v in compute_values(spec, NumberFormat(precision), only, command="explain")}
    if name not in table:
        from backprop_cli.errors import ConfigError

        total = program_steps(spec)
        if step > total:
            raise ConfigError(f"step {step} does not exist; the run has {total} step{'s' * (total != 1)}", path="NAME")
        raise unknown_name(name, list(table), config)
    console = make_console(sys.stdout, width, color)
    wrap_at = width or (console.width if console.is_terminal else None)
    console.print(render_rich(derive(name, table, depth or None), wrap_at), soft_wrap=True)
