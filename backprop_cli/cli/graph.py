"""``backprop graph``: the computation graph of an expression or a network, with values and gradients."""

from __future__ import annotations

import click

from backprop_cli.cli.help import TranslatedHelp
from backprop_cli.cli.kit import complete_config, handle_errors, load, output_option, precision_option
from backprop_cli.model.i18n import N_


@click.command(
    cls=TranslatedHelp,
    short_help=N_("Draw the computation graph (Mermaid, DOT or a tree)."),
    help=N_("""Draw the computation graph of CONFIG (an expression or a network) with every value and gradient.

    Expression nodes show their operation, value and gradient (grad.q = ∂output/∂q); edges show the local
    derivative. Network nodes show z, a and δ of the first step's first sample; edges show each weight
    and the step's gradient of the loss by it. With --exact a network is drawn as the exact computation
    graph of its first step (one node per product, sum, activation and loss term).

    \b
    Examples:
      backprop graph circuit_add_mul --format mermaid
      backprop graph --expr "f = (x + y) * z" --set x=-2 --set y=5 --set z=-4 --format tree
      backprop graph classic_2_2_2 --format dot -o net.dot && dot -Tsvg net.dot -o net.svg
      backprop graph xor --nodes layer
    """),
)
@click.argument("config", required=False, shell_complete=complete_config)
@click.option("--expr", help=N_("Draw this expression program instead of CONFIG, e.g. 'f = (x + y) * z'."))
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=N_("An expression input (repeatable)."))
@click.option("--exact", is_flag=True, help=N_("Expressions: values and gradients as exact fractions."))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mermaid", "dot", "tree"]),
    default="mermaid",
    show_default=True,
    help=N_("mermaid: renders on GitHub in a ```mermaid block; dot: Graphviz (dot -Tsvg); tree: in the terminal."),
)
@click.option(
    "--nodes",
    type=click.Choice(["neuron", "layer"]),
    default="neuron",
    show_default=True,
    help=N_("Networks: one node per neuron, or one per layer."),
)
@precision_option(N_("Significant digits shown."), default=4)
@output_option()
@handle_errors
def graph(
    config: str | None,
    expr: str | None,
    sets: tuple[str, ...],
    exact: bool,
    output_format: str,
    nodes: str,
    precision: int,
    output: str | None,
) -> None:
    from pathlib import Path

    from backprop_cli.budget import check_drawing
    from backprop_cli.cli.expression import wants_expression
    from backprop_cli.cli.output import open_output
    from backprop_cli.graph.engine import compute
    from backprop_cli.layout import diagram as pictures
    from backprop_cli.loading.expression import load_expression
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render import diagram as draw

    fmt = NumberFormat(precision)
    inputs: list[Path]
    if wants_expression(config, expr, sets):
        spec, inputs = load_expression(config, expr, sets)
        picture = pictures.expression_diagram(compute(spec, exact=exact), fmt, spec.source)
    else:
        from backprop_cli.nn.engine import Engine

        network, path = load(config, None)
        check_drawing(network, exact=exact, by=nodes)
        inputs = [path]
        title = f"{network.source} · step 1, exact" if exact else network.source
        picture = pictures.network_diagram(next(iter(Engine(network, exact=exact).run())), fmt, title, by=nodes)
    if output_format == "tree":
        from backprop_cli.cli.kit import make_console

        with open_output(output, inputs=inputs) as stream:
            make_console(stream, 200 if output else None, False).print(draw.to_tree(picture))
        return
    text = draw.to_mermaid(picture) if output_format == "mermaid" else draw.to_dot(picture)
    with open_output(output, inputs=inputs) as stream:
        stream.write(text)
