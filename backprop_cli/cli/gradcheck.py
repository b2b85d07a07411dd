"""``backprop gradcheck``: every backprop gradient next to a central-difference estimate, with a verdict."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from backprop_cli.cli.help import TranslatedHelp
from backprop_cli.cli.kit import (
    color_option,
    complete_config,
    data_option,
    handle_errors,
    load,
    make_console,
    precision_option,
    text_or_json_option,
    width_option,
)
from backprop_cli.model import formats
from backprop_cli.model.i18n import N_

if TYPE_CHECKING:
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.nn.gradcheck import GradCheck


@click.command(
    cls=TranslatedHelp,
    short_help=N_("Check every backprop gradient against central differences."),
    help=N_("""Check CONFIG's backprop gradients, parameter by parameter, against central differences
    (L(θ + h) − L(θ − h)) / 2h on the first step's batch, computed from forward passes only.

    A gradient passes when its relative error |a − n| / max(|a|, |n|) is at most 1e-5, or when the
    two differ by at most 1e-8 (both near zero). Where θ ± h moves a ReLU's z or mae's a − y across
    zero the loss has a kink and the estimate is not a derivative: such a disagreement is flagged
    "kink", not failed. Exit status 0 when every gradient passes (or is a kink), 1 otherwise.

    \b
    Examples:
      backprop gradcheck classic_2_2_2
      backprop gradcheck net.yaml --format json
    """),
)
@click.argument("config", required=False, shell_complete=complete_config)
@data_option()
@text_or_json_option(N_("text: a table for a terminal; json: every check with full precision."))
@click.option(
    "--step-size", "h", type=click.FloatRange(min=0, min_open=True), help=N_("h of the estimate (default 1e-6).")
)
@precision_option(N_("Significant digits of the gradients shown."))
@width_option()
@color_option()
@handle_errors
def gradcheck(
    config: str | None,
    data: str | None,
    output_format: str,
    h: float | None,
    precision: int,
    width: int | None,
    color: bool | None,
) -> None:
    from backprop_cli.budget import check_gradcheck
    from backprop_cli.cli.expression import wants_expression
    from backprop_cli.errors import ConfigError, ExitCode
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.nn.gradcheck import ATOL, DEFAULT_H, RTOL, check_gradients

    if wants_expression(config, None, ()):
        raise ConfigError(
            f"an expression program; gradcheck runs network configs (trace it: backprop trace {config})",
            file=config,
        )
    spec, _ = load(config, data)
    check_gradcheck(spec)
    result = check_gradients(spec, h if h is not None else DEFAULT_H)
    fmt = NumberFormat(precision)
    if output_format == "json":
        import json

        click.echo(
            json.dumps(_as_dict(result, spec.source, RTOL, ATOL), ensure_ascii=False, allow_nan=False), file=sys.stdout
        )
    else:
        console = make_console(sys.stdout, width, color)
        console.print(_table(result, fmt, spec.source))
        console.print(_verdict(result, RTOL, ATOL), highlight=False, markup=False)
    if result.failed:
        sys.exit(int(ExitCode.CHECK_FAILED))


def _table(result: GradCheck, fmt: NumberFormat, source: str) -> Any:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from backprop_cli.model.names import param_grad_name
    from backprop_cli.model.numbers import NumberFormat

    rows = ", ".join(str(r + 1) for r in result.rows)
    title = f"backprop gradcheck · {source} · step 1 batch: data row{'s' * (len(result.rows) > 1)} {rows}"
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("gradient", style="cyan", no_wrap=True)
    for name in ("backprop", "central difference", "relative error"):
        table.add_column(name, justify="right")
    table.add_column("verdict")
    styles = {"pass": "green", "kink": "yellow", "fail": "bold red"}
    for c in result.checks:
        table.add_row(
            Text(param_grad_name(c.layer, c.kind, c.index)),
            Text(fmt(c.analytic)),
            Text(fmt(c.numeric)),
            Text(NumberFormat(2)(c.relative_error)),
            Text(c.verdict.upper() if c.verdict == "fail" else c.verdict, style=styles[c.verdict]),
        )
    return Group(Text(title, style="bold"), table)


def _verdict(result: GradCheck, rtol: float, atol: float) -> str:
    n = len(result.checks)
    rule = f"pass: relative error ≤ {rtol:g} or |difference| ≤ {atol:g}; h = {result.h:g}"
    kinks = len(result.kinks)
    kink_text = (
        f"; {kinks} at a kink (θ ± h moves a ReLU's z or mae's a − y across 0; flagged, not failed)" if kinks else ""
    )
    if result.failed:
        names = ", ".join(f"{c.layer}.{c.kind}{list(c.index)}" for c in result.failed[:5])
        more = "…" if len(result.failed) > 5 else ""
        return f"FAILED: {len(result.failed)} of {n} gradients disagree ({names}{more}){kink_text} ({rule})"
    return f"ok: {n - kinks} of {n} gradients agree{kink_text} ({rule})"


def _as_dict(result: GradCheck, source: str, rtol: float, atol: float) -> dict[str, Any]:
    from backprop_cli.model.names import param_grad_name

    return {
        "format": formats.GRADCHECK,
        "version": 1,
        "source": source,
        "rows": list(result.rows),
        "h": result.h,
        "rtol": rtol,
        "atol": atol,
        "loss": result.loss,
        "passed": not result.failed,
        "checks": [
            {
                "name": param_grad_name(c.layer, c.kind, c.index),
                "layer": c.layer,
                "kind": c.kind,
                "index": list(c.index),
                "backprop": c.analytic,
                "numeric": c.numeric,
                "relative_error": c.relative_error,
                "verdict": c.verdict,
            }
            for c in result.checks
        ],
    }
