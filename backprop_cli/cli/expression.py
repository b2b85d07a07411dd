"""``backprop trace`` for expression programs: load, run, render. Called from the trace command in cli.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from backprop_cli.errors import ConfigError

if TYPE_CHECKING:  # imported where used: every `backprop trace` asks wants_expression, most need no more
    from backprop_cli.graph.engine import ExprTrace
    from backprop_cli.loading.expression import ExprSpec

from backprop_cli.loading.expression import is_expression, load_expression

# trace options that only make sense for a network, by the name click gives their parameter
NETWORK_ONLY = {
    "--data": "data",
    "--steps": "steps",
    "--step": "only_steps",
    "--layer": "only_layers",
    "--sample": "only_samples",
    "--diagnostics": "diagnostics",
}


def wants_expression(config: str | None, expr: str | None, sets: Sequence[str], *, tree: bool = False) -> bool:
    """Whether this module handles the command: an expression program (``--expr``, ``--set`` or a config)."""
    found = expr is not None or bool(sets) or is_expression(config)
    if tree and not found:
        raise ConfigError(
            "draws expression graphs; for a network use `backprop graph CONFIG --format tree`", path="--tree"
        )
    return found


def trace_expression(params: Mapping[str, Any]) -> None:
    """Run the trace command's options (click's ``params``) on an expression program."""
    from backprop_cli.cli.output import open_output

    for option, key in NETWORK_ONLY.items():
        if params.get(key):
            raise ConfigError(f"{option} applies to networks only", path=option)
    spec, inputs = load_expression(params.get("config"), params.get("expr"), params.get("sets", ()))
    from backprop_cli.graph.engine import compute

    trace = compute(spec, exact=bool(params.get("exact")))
    with open_output(params.get("output"), inputs=inputs) as stream:
        if params.get("output_format") == "json":
            from backprop_cli.layout.json_document import expression_document
            from backprop_cli.render.json_out import dumps

            document = expression_document(spec, trace, quantities=bool(params.get("quantities")))
            stream.write(dumps(document) + "\n")
            return
        _print_text(spec, trace, stream, params)


def _print_text(spec: ExprSpec, trace: ExprTrace, stream: Any, params: Mapping[str, Any]) -> None:
    from backprop_cli.layout.expression import expr_sections, header_lines
    from backprop_cli.model.numbers import NumberFormat

    fmt = NumberFormat(params.get("precision", 6))
    sections = list(expr_sections(trace, fmt))
    _print_sections(header_lines(spec, trace, fmt), sections, stream, params, _tree(trace, fmt, spec.source, params))


def _tree(trace: ExprTrace, fmt: Any, title: str, params: Mapping[str, Any]) -> Any:
    """``--tree``: the computation graph as a rich Tree, or None."""
    if not params.get("tree"):
        return None
    from backprop_cli.layout.diagram import expression_diagram
    from backprop_cli.render.diagram import to_tree

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


def _print_sections(
    head: list[str], sections: list[Any], stream: Any, params: Mapping[str, Any], tree: Any = None
) -> None:
    from rich.text import Text

    from backprop_cli.cli.kit import make_console
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
