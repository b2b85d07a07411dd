"""``backprop trace`` for expression programs: load, run, render. Called from the trace command in cli.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from backprop_cli.errors import ConfigError

if TYPE_CHECKING:  # imported where used: every `backprop trace` asks wants_expression, most need no more
    from backprop_cli.graph.engine import ExprTrace
    from backprop_cli.loading.expression import ExprSpec

# trace options that only make sense for a network, by the name click gives their parameter
NETWORK_ONLY = {
    "--data": "data",
    "--steps": "steps",
    "--step": "only_steps",
    "--layer": "only_layers",
    "--sample": "only_samples",
    "--diagnostics": "diagnostics",
    "--compact": "compact",
}


def wants_expression(config: str | None, expr: str | None, sets: Sequence[str], *, tree: bool = False) -> bool:
    """Whether this module handles the command: an expression program (``--expr``, ``--set`` or a config)."""
    found = expr is not None or bool(sets)
    if not found and config is not None:  # the default example is a network: no expression loader then
        from backprop_cli.loading.expression import is_expression

        found = is_expression(config)
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
    from backprop_cli.loading.expression import load_expression

    spec, inputs = load_expression(params.get("config"), params.get("expr"), params.get("sets", ()))
    from backprop_cli.graph.engine import compute

    trace = compute(spec, exact=bool(params.get("exact")))
    with open_output(params.get("output"), inputs=inputs) as stream:
        if params.get("output_format") == "json":
            from backprop_cli.layout.json_document import expression_document
            from backprop_cli.model.i18n import using
            from backprop_cli.render.json_out import dumps

            with using("en"):  # the trace document is data: its formulas the same in every language
                document = expression_document(spec, trace, quantities=bool(params.get("quantities")))
            stream.write(dumps(document) + "\n")
            return
        _print_text(spec, trace, stream, params)


def _print_text(spec: ExprSpec, trace: ExprTrace, stream: Any, params: Mapping[str, Any]) -> None:
    """Text on a terminal, or a document format (markdown, latex, html, svg) laid out from the same sections."""
    from backprop_cli.layout.expression import expression_document
    from backprop_cli.model.numbers import NumberFormat

    fmt = NumberFormat(params.get("precision", 6))
    doc = expression_document(spec, trace, fmt, params.get("only_phases", ()), params.get("max_rows", 0))
    name = params.get("output_format") or "text"
    if name != "text":
        from backprop_cli.render import document_writer

        doc = replace(doc, fragment=bool(params.get("fragment")), theme=str(params.get("theme") or "light"))
        document_writer(name)(doc, stream, params.get("width"))
        return
    from backprop_cli.cli.kit import make_console
    from backprop_cli.render.terminal import expression_outputs

    console = make_console(stream, params.get("width"), params.get("color"))
    for renderable in expression_outputs(doc, _tree(trace, fmt, spec.source, params)):
        console.print(renderable)


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
    from backprop_cli.loading.expression import load_expression

    spec, _ = load_expression(config, None, ())
    graph = spec.graph
    operations = sum(1 for n in graph.nodes if n.op != "input")
    inputs = len(graph.inputs)
    return (
        f"ok: {spec.source}: expression of {operations} operation{'s' * (operations != 1)}; "
        f"{inputs} input{'s' * (inputs != 1)} ({', '.join(graph.inputs)}); output {graph.output}"
    )
