"""``backprop trace`` for expression programs: load, run, render. Called from the trace command in cli.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from backprop_cli.errors import ConfigError
from backprop_cli.expr.config import ExprSpec, expression_from_option, is_expression_document, load_expression_config
from backprop_cli.expr.engine import ExprTrace, parse_scalar, refuse_irrational, run

# trace options that only make sense for a network, by the name click gives their parameter
NETWORK_ONLY = {
    "--data": "data",
    "--steps": "steps",
    "--step": "only_steps",
    "--layer": "only_layers",
    "--sample": "only_samples",
    "--diagnostics": "diagnostics",
}
FORMAT = "backprop-trace"
VERSION = 1


def wants_expression(config: str | None, expr: str | None, sets: Sequence[str], exact: bool) -> bool:
    """Whether the trace command should run an expression program rather than a network."""
    if expr is not None or sets:
        return True
    if config is None:
        if exact:
            raise ConfigError(
                "--exact works on expression configs (or --expr) only so far; networks are not supported yet",
                path="--exact",
            )
        return False
    from backprop_cli.examples import resolve

    path = resolve(config)
    found = path.exists() and is_expression_document(path)
    if exact and not found:
        raise ConfigError(
            "--exact works on expression configs (or --expr) only so far; networks are not supported yet",
            path="--exact",
        )
    return found


def load_expression(config: str | None, expr: str | None, sets: Sequence[str]) -> tuple[ExprSpec, list[Path]]:
    """The program from ``--expr`` or from an expression config (with ``--set`` values replacing its own)."""
    if expr is not None:
        if config is not None:
            raise ConfigError("give either CONFIG or --expr, not both", path="--expr")
        return expression_from_option(expr, sets), []
    from backprop_cli.examples import label, resolve

    path = resolve(config)
    return load_expression_config(path, label(path), sets), [path]


def compute(spec: ExprSpec, *, exact: bool) -> ExprTrace:
    if exact:
        refuse_irrational(spec.graph, spec.where)
    values = {name: parse_scalar(text, exact=exact) for name, text in spec.values.items()}
    return run(spec.graph, values, exact=exact)


def document(spec: ExprSpec, trace: ExprTrace) -> dict[str, Any]:
    """The ``--format json`` document of an expression trace."""
    from backprop_cli.expr.rows import NAME_PATTERNS

    return {
        "format": FORMAT,
        "version": VERSION,
        "kind": "expression",
        "config": spec.normalised,
        "inputs": list(spec.graph.inputs),
        "names": NAME_PATTERNS,
        **trace.to_dict(),
    }


def trace_expression(params: Mapping[str, Any]) -> None:
    """Run the trace command's options (click's ``params``) on an expression program."""
    from backprop_cli.output import open_output

    for option, key in NETWORK_ONLY.items():
        if params.get(key):
            raise ConfigError(f"{option} applies to networks; an expression trace has no such thing", path=option)
    spec, inputs = load_expression(params.get("config"), params.get("expr"), params.get("sets", ()))
    trace = compute(spec, exact=bool(params.get("exact")))
    with open_output(params.get("output"), inputs=inputs) as stream:
        if params.get("output_format") == "json":
            stream.write(json.dumps(document(spec, trace), ensure_ascii=False, allow_nan=False) + "\n")
            return
        _print_text(
            spec,
            trace,
            stream,
            precision=params.get("precision", 6),
            width=params.get("width"),
            color=params.get("color"),
            phases=params.get("only_phases", ()),
        )


def _print_text(
    spec: ExprSpec,
    trace: ExprTrace,
    stream: Any,
    *,
    precision: int,
    width: int | None,
    color: bool | None,
    phases: Sequence[str],
) -> None:
    from rich.console import Console
    from rich.text import Text

    from backprop_cli.expr.rows import expr_sections, header_lines
    from backprop_cli.render.numbers import NumberFormat
    from backprop_cli.render.terminal import section_table

    if stream is sys.stdout:
        console = Console(
            file=stream,
            width=width,
            force_terminal=True if color else None,
            color_system=None if color is False else "auto",
            highlight=False,
        )
    else:
        console = Console(file=stream, width=width or 120, color_system=None, highlight=False)
    fmt = NumberFormat(precision)
    console.print(Text("\n".join(header_lines(spec, trace, fmt))))
    for section in expr_sections(trace, fmt):
        if not phases or section.phase in phases:
            console.print(section_table(section))


def validate_expression(config: str | None, data: str | None) -> str:
    """``backprop validate`` for an expression config: what it holds, in one line."""
    if data:
        raise ConfigError("--data applies to networks; an expression config has values instead", path="--data")
    spec, _ = load_expression(config, None, ())
    graph = spec.graph
    operations = sum(1 for n in graph.nodes if n.op != "input")
    inputs = len(graph.inputs)
    return (
        f"ok: {spec.source}: expression of {operations} operation{'s' * (operations != 1)}; "
        f"{inputs} input{'s' * (inputs != 1)} ({', '.join(graph.inputs)}); output {graph.output}"
    )
