"""``backprop trace`` for expression programs: load, run, render. Called from the trace command in cli.py."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backprop_cli.errors import ConfigError

if TYPE_CHECKING:  # imported where used: every `backprop trace` asks wants_expression, most need no more
    from backprop_cli.expr.config import ExprSpec
    from backprop_cli.expr.engine import ExprTrace

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


def wants_expression(
    config: str | None, expr: str | None, sets: Sequence[str], exact: bool, *, tree: bool = False
) -> bool:
    """Whether this module handles the command: an expression program, or ``--exact`` (networks too)."""
    found = expr is not None or bool(sets) or exact or is_expression(config)
    if tree and not found:
        raise ConfigError(
            "draws expression graphs; for a network use `backprop graph CONFIG --format tree`", path="--tree"
        )
    return found


def is_expression(config: str | None) -> bool:
    """Whether CONFIG (a file or a built-in example name) is an expression config."""
    if config is None:
        return False
    from backprop_cli.examples import resolve
    from backprop_cli.expr.config import is_expression_document

    path = resolve(config)
    return os.path.exists(path) and is_expression_document(path)  # never raises: the loader reports


def load_expression(config: str | None, expr: str | None, sets: Sequence[str]) -> tuple[ExprSpec, list[Path]]:
    """The program from ``--expr`` or from an expression config (with ``--set`` values replacing its own)."""
    from backprop_cli.expr.config import expression_from_option, load_expression_config

    if expr is not None:
        if config is not None:
            raise ConfigError("give either CONFIG or --expr, not both", path="--expr")
        return expression_from_option(expr, sets), []
    if not is_expression(config):
        raise ConfigError(
            f"{config or 'the default example'} is a network; --set gives expression inputs, expected with --expr "
            "or an expression config",
            path="--set",
        )
    from backprop_cli.examples import label, resolve

    path = resolve(config)
    return load_expression_config(path, label(path), sets), [path]


def compute(spec: ExprSpec, *, exact: bool) -> ExprTrace:
    from backprop_cli.expr.engine import parse_scalar, refuse_irrational, run

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

    network = params.get("expr") is None and not params.get("sets") and not is_expression(params.get("config"))
    for option, key in NETWORK_ONLY.items():
        if network and option in ("--data", "--steps"):
            continue
        if params.get(key):
            why = "is not supported with --exact on a network" if network else "applies to networks only"
            raise ConfigError(f"{option} {why}", path=option)
    if network:
        _trace_network_exact(params)
        return
    spec, inputs = load_expression(params.get("config"), params.get("expr"), params.get("sets", ()))
    trace = compute(spec, exact=bool(params.get("exact")))
    with open_output(params.get("output"), inputs=inputs) as stream:
        if params.get("output_format") == "json":
            stream.write(json.dumps(document(spec, trace), ensure_ascii=False, allow_nan=False) + "\n")
            return
        _print_text(spec, trace, stream, params)


def _print_text(spec: ExprSpec, trace: ExprTrace, stream: Any, params: Mapping[str, Any]) -> None:
    from backprop_cli.expr.rows import expr_sections, header_lines
    from backprop_cli.render.numbers import NumberFormat

    fmt = NumberFormat(params.get("precision", 6))
    sections = list(expr_sections(trace, fmt))
    _print_sections(header_lines(spec, trace, fmt), sections, stream, params, _tree(trace, fmt, spec.source, params))


def _tree(trace: ExprTrace, fmt: Any, title: str, params: Mapping[str, Any]) -> Any:
    """``--tree``: the computation graph as a rich Tree, or None."""
    if not params.get("tree"):
        return None
    from backprop_cli.render.diagram import expression_diagram, to_tree

    return to_tree(expression_diagram(trace, fmt, title))


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


def _trace_network_exact(params: Mapping[str, Any]) -> None:
    """``trace --exact`` on a network: its first step as a graph of exact fractions, then the exact update."""
    from backprop_cli.budget import check_drawing
    from backprop_cli.clikit import load
    from backprop_cli.expr.network import run_exact, update_sections
    from backprop_cli.output import open_output

    spec, path = load(params.get("config"), params.get("data"), params.get("steps"))
    check_drawing(spec, exact=True)
    step = run_exact(spec)
    trace = step.trace
    with open_output(params.get("output"), inputs=[path]) as stream:
        if params.get("output_format") == "json":
            number = _exact_text
            body = trace.to_dict()
            doc = {
                "format": FORMAT,
                "version": VERSION,
                "kind": "network-exact",
                "config": dict(spec.normalised),
                "step": 1,
                "steps": step.steps,
                "samples": list(step.samples),
                "rows": [row + 1 for row in step.samples],
                "loss": number(trace.value),
                "parameters": {u.name: number(u.old) for u in step.updates},
                "gradients": body["gradients"],
                "updated": {u.name: number(u.new) for u in step.updates},
                "loss_after": number(step.loss_after),
                "nodes": body["nodes"],
                "backward": body["backward"],
            }
            stream.write(json.dumps(doc, ensure_ascii=False, allow_nan=False) + "\n")
            return
        from backprop_cli.expr.rows import expr_sections
        from backprop_cli.render.numbers import NumberFormat

        fmt = NumberFormat(params.get("precision", 6))
        rows = ", ".join(str(r + 1) for r in step.samples)
        head = [
            f"backprop trace · {spec.source} · exact fractions",
            *([spec.description.strip()] if spec.description else []),
            f"step 1 of {step.steps} (--exact traces the first step) · batch: data row{'s' * (len(step.samples) > 1)} "
            f"{rows}; numbers read from their decimal text (0.1 is 1/10)",
            "the network as a computation graph: h.p1_2 = h.w1_2 × input 2, h.z1 = the sum of products and bias, "
            "h.a1, loss.term1; grad.h.w1_2 = ∂loss/∂h.w1_2 (h.dL_dw1_2 of the float trace)",
        ]
        sections = [*expr_sections(trace, fmt), *update_sections(step, fmt)]
        _print_sections(head, sections, stream, params, _tree(trace, fmt, f"{spec.source} · step 1, exact", params))


def _exact_text(value: Any) -> str:
    from fractions import Fraction

    v = Fraction(value)
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def _print_sections(
    head: list[str], sections: list[Any], stream: Any, params: Mapping[str, Any], tree: Any = None
) -> None:
    from rich.text import Text

    from backprop_cli.clikit import make_console
    from backprop_cli.render.terminal import section_table

    console = make_console(stream, params.get("width"), params.get("color"))
    console.print(Text("\n".join(head)))
    if tree is not None:
        console.print(tree)
    phases = params.get("only_phases", ())
    cap = params.get("max_rows", 0)
    shown = 0
    for section in sections:
        if phases and section.phase not in phases:
            continue
        if cap and shown and shown + len(section.rows) > cap:
            notice = (
                f"… trace stopped after {cap} rows; narrow it with --phase, raise the cap with --max-rows "
                "(0 = no cap), or write everything with --format json."
            )
            console.print(Text(notice, style="yellow"))
            return
        shown += len(section.rows)
        console.print(section_table(section))
