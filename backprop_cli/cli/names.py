"""``backprop names``: every number of a trace by its stable name, with its value.

Also home of what ``names``, ``explain``, ``answers`` and ``check`` share: the filter options and the
step from a config to its named values.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from backprop_cli.cli.help import TranslatedHelp
from backprop_cli.cli.kit import (
    check_rows,
    complete_config,
    data_option,
    handle_errors,
    load,
    output_option,
    precision_option,
    steps_option,
    text_or_json_option,
)
from backprop_cli.model import formats
from backprop_cli.model.i18n import N_
from backprop_cli.model.quantity import PHASES
from backprop_cli.model.spec import NetworkSpec

if TYPE_CHECKING:
    from backprop_cli.homework.answers import AnswersFile
    from backprop_cli.homework.values import NamedValue
    from backprop_cli.loading.expression import ExprSpec
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat

    Program = NetworkSpec | ExprSpec

F = TypeVar("F", bound=Callable[..., Any])


def filter_options(command: F) -> F:
    """--step, --layer, --phase, --sample as ``backprop trace`` has them, and --only GLOB on names."""
    options = [
        click.option(
            "--step", "only_steps", multiple=True, type=click.IntRange(min=1), help=N_("Only this step (repeatable).")
        ),
        click.option("--layer", "only_layers", multiple=True, help=N_("Only this layer (repeatable).")),
        click.option(
            "--phase", "only_phases", multiple=True, type=click.Choice(PHASES), help=N_("Only this phase (repeatable).")
        ),
        click.option(
            "--sample",
            "only_samples",
            multiple=True,
            type=click.IntRange(min=1),
            help=N_("Only this data row, 1-based (repeatable)."),
        ),
        click.option(
            "--only",
            "patterns",
            multiple=True,
            metavar="GLOB",
            help=N_("Only names matching this pattern, e.g. '*.dL_dw*' or 'out.*' (repeatable)."),
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def name_filter(
    spec: Program,
    steps: tuple[int, ...] = (),
    layers: tuple[str, ...] = (),
    phases: tuple[str, ...] = (),
    samples: tuple[int, ...] = (),
    patterns: tuple[str, ...] = (),
) -> Filter:
    """The filter options checked against the network (or expression), as a :class:`Filter`."""
    from backprop_cli.errors import ConfigError
    from backprop_cli.model.filters import Filter
    from backprop_cli.nn.engine import count_steps

    if is_program_expression(spec):
        for option, given in (("--layer", layers), ("--sample", samples), ("--step", [s for s in steps if s > 1])):
            if given:
                raise ConfigError(
                    "an expression has one step, no layers and no data rows; expected no " + option, path=option
                )
        return Filter(frozenset(steps), frozenset(), frozenset(phases), frozenset(), patterns)
    assert isinstance(spec, NetworkSpec)
    known = [layer.name for layer in spec.layers]
    for layer in layers:
        if layer not in known:
            raise ConfigError(f"unknown layer {layer!r}; expected one of {', '.join(known)}", path="--layer")
    total = count_steps(spec.data.rows, spec.training)
    for step in steps:
        if step > total:
            raise ConfigError(f"step {step} does not exist; the run has {total} steps", path="--step")
    for sample in samples:
        if sample > spec.data.rows:
            from backprop_cli.model.i18n import ngettext

            raise ConfigError(
                ngettext(
                    "data row {sample} does not exist; the data has {rows} rows",
                    "data row {sample} does not exist; the data has {rows} rows",
                    spec.data.rows,
                ).format(sample=sample, rows=spec.data.rows),
                path="--sample",
            )
    check_rows(spec, steps, samples)
    return Filter(frozenset(steps), frozenset(layers), frozenset(phases), frozenset(samples), patterns)


FILTER_FLAGS = ("--only", "--phase", "--layer", "--step", "--sample")  # how messages list the filters used


def nothing_chosen(spec: Program, fmt: NumberFormat, only: Filter) -> Exception:
    """The located error for filters that choose no name, with the real names closest to an --only pattern."""
    from dataclasses import replace

    from backprop_cli.errors import ConfigError

    chosen = (only.patterns, only.phases, only.layers, only.steps, only.samples)
    where = "/".join(flag for flag, given in zip(FILTER_FLAGS, chosen, strict=True) if given) or "--only"
    hint = ""
    if only.patterns:
        pool = [v.name for v in compute_values(spec, fmt, replace(only, patterns=()))]
        close = _closest_to(only.patterns, pool)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else " (and no name is close)"
    return ConfigError(f"no name matches the filters{hint}; expected at least one (see `backprop names`)", path=where)


def _closest_to(patterns: tuple[str, ...], names: list[str], n: int = 3) -> list[str]:
    """Names a pattern meant: matched ignoring case (``*.dL_dW*``), else the nearest spelling."""
    import fnmatch

    from backprop_cli.model.names import closest_names

    for pattern in patterns:
        folded = [name for name in names if fnmatch.fnmatch(name.lower(), pattern.lower())]
        if folded:
            return folded[:n]
    first_of: dict[str, str] = {}  # a base name (without step/sample qualifiers) → the first name it ends
    for name in names:
        first_of.setdefault(name.rsplit("/", 1)[-1], name)
    close: list[str] = []
    for pattern in patterns:
        close += closest_names(pattern.strip("*?"), names, n)
        close += [first_of[b] for b in closest_names(pattern.rsplit("/", 1)[-1].strip("*?"), list(first_of), n)]
    return list(dict.fromkeys(close))[:n]


def is_program_expression(spec: Program) -> bool:
    return not isinstance(spec, NetworkSpec)


def load_program(config: str | None, data: str | None = None, steps: int | None = None) -> tuple[Program, Path]:
    """A network config, or an expression program (``expression:``): both have a names contract."""
    from backprop_cli.errors import ConfigError
    from backprop_cli.loading.expression import is_expression, load_expression

    if not is_expression(config):
        return load(config, data, steps)
    for option, given in (("--data", data), ("--steps", steps)):
        if given is not None:
            raise ConfigError(f"an expression config has no data or steps; expected no {option}", path=option)
    spec, paths = load_expression(config, None, ())
    return spec, paths[0]


def program_steps(spec: Program) -> int:
    """How many steps the run has (an expression: one)."""
    from backprop_cli.nn.engine import count_steps

    if isinstance(spec, NetworkSpec):
        return count_steps(spec.data.rows, spec.training)
    return 1


def compute_values(
    spec: Program, fmt: NumberFormat, only: Filter | None = None, *, command: str = "names", exact: bool = False
) -> list[NamedValue]:
    """Run the network (or evaluate the expression) and return its named values in trace order; first the
    budget: what ``command`` would lay out (budget.check_names), and with ``exact`` the run in fractions."""
    if isinstance(spec, NetworkSpec):
        from backprop_cli.budget import check_names, check_run
        from backprop_cli.homework.values import named_values
        from backprop_cli.model.filters import Filter
        from backprop_cli.nn.engine import Engine

        check_names(spec, only or Filter(), command=command)
        if exact:
            check_run(spec, upto=max(only.steps) if only is not None and only.steps else None, exact=True)
        return list(named_values(Engine(spec, exact=exact).run(), fmt, only))
    from backprop_cli.graph.engine import compute
    from backprop_cli.homework.expression_values import expression_values

    return list(expression_values(compute(spec, exact=exact), fmt, only))


def key_values(spec: Program, rules: AnswersFile, fmt: NumberFormat, only: Filter) -> dict[str, NamedValue]:
    """What a sheet is graded against: the values of the steps ``only`` chooses, by the rounding
    protocol of ``rules`` (the key, or a sheet checked alone): the exact run for ``exact``, the chain
    rounded as you go for ``{decimals: N}`` or ``{significant: N}``, else the trace's own values."""
    rounding = rules.rounding
    exact = rounding is not None and rounding.exact
    values = {v.name: v for v in compute_values(spec, fmt, only, command="check", exact=exact)}
    if rounding is not None:
        from backprop_cli.homework.rounding import round_as_you_go

        values = round_as_you_go(values, rounding, fmt)
    return values


@click.command(
    cls=TranslatedHelp,
    short_help=N_("List every number of a trace by its stable name."),
    help=N_("""List every number in the trace of CONFIG by its stable name, with its value.

    The names are those of `backprop trace` and of answers files: h.z1, h.a1, loss, o.dL_da1, h.da_dz1,
    h.delta1, h.dL_dw1_2, h.w1_2.new …, with step2/ and sample3/ in front where a run has several
    steps or a batch several samples. The README documents the scheme.

    \b
    Examples:
      backprop names two_layer_relu
      backprop names xor --phase backward --sample 2
      backprop names net.yaml --only '*.dL_dw*' --format json
    """),
)
@click.argument("config", required=False, shell_complete=complete_config)
@data_option()
@steps_option()
@filter_options
@text_or_json_option(N_("text: name and value in columns; json: every name with its full-precision value and place."))
@precision_option(N_("Significant digits of the values in text (JSON always has full precision)."))
@output_option()
@handle_errors
def names(
    config: str | None,
    data: str | None,
    steps: int | None,
    only_steps: tuple[int, ...],
    only_layers: tuple[str, ...],
    only_phases: tuple[str, ...],
    only_samples: tuple[int, ...],
    patterns: tuple[str, ...],
    output_format: str,
    precision: int,
    output: str | None,
) -> None:
    import json

    from backprop_cli.cli.output import open_output
    from backprop_cli.model.numbers import NumberFormat

    spec, path = load_program(config, data, steps)
    only = name_filter(spec, only_steps, only_layers, only_phases, only_samples, patterns)
    values = compute_values(spec, NumberFormat(precision), only)
    if not values:  # as `answers` does: a filter that chooses nothing is a mistake, said where
        raise nothing_chosen(spec, NumberFormat(precision), only)
    inputs = [path] + ([Path(data)] if data else [])
    with open_output(output, inputs=inputs) as stream:
        if output_format == "json":
            from backprop_cli.layout.json_document import quantity_entry

            fmt = NumberFormat(precision)
            document = {
                "format": formats.NAMES,
                "version": 1,
                "config": spec.source,
                "names": [quantity_entry(v.quantity, fmt) for v in values],
            }
            stream.write(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
            return
        width = max((len(v.name) for v in values), default=0)
        stream.write("".join(f"{v.name.ljust(width)}  {v.shown}\n" for v in values))
