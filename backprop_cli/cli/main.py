"""The ``backprop`` command: parse options, load, run, pick a renderer, map errors to exit codes.

Kept thin on purpose. Heavy modules (pydantic, rich, the engine) are imported inside the commands
that need them, so ``--help`` and small commands start fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from backprop_cli import __version__
from backprop_cli.cli.kit import (
    OneLineUsageGroup,
    check_rows,
    color_option,
    complete_config,
    data_option,
    handle_errors,
    lang_option,
    load,
    max_rows_option,
    output_option,
    precision_option,
    steps_option,
    width_option,
)
from backprop_cli.errors import ConfigError
from backprop_cli.model.i18n import N_
from backprop_cli.model.quantity import PHASES
from backprop_cli.render import DEFAULT_MAX_ROWS, DOCUMENTS, FORMATS

MATRIX_FORMATS = ("text", "markdown", "latex", "html")  # what --view matrix writes
PROGRAMS = ("ipynb", "torch")  # formats that recompute the trace themselves (unrounded)

if TYPE_CHECKING:
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.spec import NetworkSpec


@click.group(
    cls=OneLineUsageGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    # help= rather than a docstring, so that the catalogue's scan sees it marked (model/i18n.py's N_)
    help=N_(
        """Backpropagation you can follow: every forward value, local derivative, chain-rule product
        and update of a small network, as tables you can check by hand.

        \b
        Start with:  backprop trace            (the built-in example)
                     backprop examples         (the other built-in examples)
                     backprop trace net.yaml   (your own network)
        """
    ),
)
@click.version_option(__version__, prog_name="backprop")
def main() -> None:
    pass  # a group: the commands do the work


@main.command(
    short_help=N_("Trace a network's steps (or an expression), number by number."),
    help=N_("""Trace forward, loss, backward and update steps of CONFIG, number by number.

    CONFIG is a YAML or JSON file, or the name of a built-in example (see `backprop examples`);
    without it the default example is traced.

    An expression config (`expression:` instead of `network:`), or --expr with --set, is traced
    node by node as a computation graph instead.

    \b
    Examples:
      backprop trace
      backprop trace configs/classic_2_2_2.yaml --precision 9
      backprop trace xor --phase backward --sample 2
      backprop trace net.yaml --format json -o trace.json
      backprop trace --expr "f = (x + y) * z" --set x=-2 --set y=5 --set z=-4
    """),
)
@click.argument("config", required=False, shell_complete=complete_config)
@data_option(N_("Data file (CSV, JSON, YAML) replacing the config's data."))
@steps_option()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", *FORMATS]),
    default="text",
    show_default=True,
    help=N_(
        "text: tables for a terminal; json: the versioned trace document; markdown, latex, html: a worked "
        "example document; svg: the terminal tables as an image; slides (HTML) and beamer (LaTeX): a slide deck "
        "revealing a row at a time; ipynb: a notebook recomputing each phase with numpy; torch: a PyTorch "
        "script printing the same names and numbers."
    ),
)
@output_option()
@precision_option(N_("Significant digits of the numbers shown (JSON always has full precision)."))
@click.option(
    "--step", "only_steps", multiple=True, type=click.IntRange(min=1), help=N_("Show only this step (repeatable).")
)
@click.option("--layer", "only_layers", multiple=True, help=N_("Show only this layer (repeatable)."))
@click.option(
    "--phase", "only_phases", multiple=True, type=click.Choice(PHASES), help=N_("Show only this phase (repeatable).")
)
@click.option(
    "--sample",
    "only_samples",
    multiple=True,
    type=click.IntRange(min=1),
    help=N_("Show only this data row, 1-based (repeatable)."),
)
@width_option(N_("Terminal width to lay tables out for."))
@color_option()
@click.option("--pause", is_flag=True, help=N_("Wait for Enter between phases (on a terminal)."))
@max_rows_option(
    N_("Stop the trace after this many table rows, in every format but json (0: no cap, within the row budget)."),
    default=DEFAULT_MAX_ROWS,
)
@click.option(
    "--compact/--no-compact",
    default=None,
    help=N_(
        "Documents: a batch's samples side by side in one table per layer, each formula once "
        "[default: when a batch has several samples]."
    ),
)
@click.option(
    "--view",
    type=click.Choice(["scalar", "matrix"]),
    default="scalar",
    show_default=True,
    help=N_(
        "matrix: each step in vector form, W, a, z and δ as matrices with their shapes (text, markdown, latex, html)."
    ),
)
@click.option(
    "--split",
    is_flag=True,
    help=N_("Documents: one file per step, -o trace.md giving trace-step1.md, trace-step2.md …"),
)
@click.option("--fragment", is_flag=True, help=N_("LaTeX: no preamble, for \\input into a course's own document."))
@click.option(
    "--theme",
    type=click.Choice(["light", "dark"]),
    default="light",
    show_default=True,
    help=N_("SVG: the colours of the image."),
)
@click.option("--expr", help=N_("Trace this expression program instead of CONFIG, e.g. 'f = (x + y) * z'."))
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=N_("An expression input (repeatable)."))
@click.option(
    "--exact", is_flag=True, help=N_("Exact fractions (rational ops only), every step of a network or an expression.")
)
@click.option(
    "--quantities", is_flag=True, help=N_("JSON: list every quantity of each step (name, value, formula, factors).")
)
@click.option("--tree", is_flag=True, help=N_("Expressions: draw the computation graph as a tree before the tables."))
@click.option(
    "--round-as-you-go",
    "round_digits",
    type=click.IntRange(1, 15),
    metavar="N",
    help=N_(
        "Show the chain a student gets who rounds every intermediate to N decimals as they go "
        "(as `answers --round-as-you-go N` keys it); not with json or --exact."
    ),
)
@click.option(
    "--diagnostics",
    is_flag=True,
    help=N_("Add a gradient-diagnostics table per step (gradient norms, update ratios, dead ReLUs, saturation)."),
)
@lang_option(data_formats=("json",))  # the JSON trace (skipped nodes' reasons too) is the same in every language
@handle_errors
def trace(
    config: str | None,
    data: str | None,
    steps: int | None,
    output_format: str,
    output: str | None,
    precision: int,
    only_steps: tuple[int, ...],
    only_layers: tuple[str, ...],
    only_phases: tuple[str, ...],
    only_samples: tuple[int, ...],
    width: int | None,
    color: bool | None,
    pause: bool,
    max_rows: int,
    expr: str | None = None,
    sets: tuple[str, ...] = (),
    exact: bool = False,
    tree: bool = False,
    diagnostics: bool = False,
    quantities: bool = False,
    compact: bool | None = None,
    fragment: bool = False,
    theme: str = "light",
    view: str = "scalar",
    split: bool = False,
    round_digits: int | None = None,
) -> None:
    from backprop_cli import budget
    from backprop_cli.cli.expression import trace_expression, wants_expression
    from backprop_cli.cli.output import open_output
    from backprop_cli.model.filters import Filter
    from backprop_cli.nn.engine import Engine, count_steps

    if split and (output_format not in DOCUMENTS or output in (None, "-")):
        formats = ", ".join(sorted(DOCUMENTS))
        raise ConfigError(f"one file per step, named after -o; expected -o FILE and --format {formats}", path="--split")
    if view == "matrix" and output_format not in MATRIX_FORMATS:
        raise ConfigError(
            f"--view matrix with --format {output_format}; expected {', '.join(MATRIX_FORMATS)}", path="--view"
        )
    if round_digits is not None and output_format in PROGRAMS:
        raise ConfigError(
            f"--round-as-you-go with --format {output_format}, a program that computes in float64; expected "
            "another format",
            path="--round-as-you-go",
        )
    if round_digits is not None and (
        exact or output_format == "json" or wants_expression(config, expr, sets, tree=tree)
    ):
        raise ConfigError(
            "--round-as-you-go shows a network's trace rounded as you go, in text or a document; expected no "
            "--exact, no --format json and a network config",
            path="--round-as-you-go",
        )
    _check_language(output_format)
    if wants_expression(config, expr, sets, tree=tree):  # a computation graph, not a network
        if view == "matrix":
            raise ConfigError("--view matrix applies to networks only", path="--view")
        trace_expression(click.get_current_context().params)
        return
    spec, path = load(config, data, steps)
    if view == "matrix":
        from backprop_cli.layout.matrix import dense_only

        dense_only(spec, "the matrix view", "--view")
    total = count_steps(spec.data.rows, spec.training)
    budget.check_run(spec, exact=exact)  # every format runs every step: a later overflow still exits 3
    _check_filters(spec, total, only_steps, only_layers, only_samples)
    if diagnostics and (output_format != "text" or exact):
        why = "--exact" if exact else f"--format {output_format}"
        raise ConfigError(f"--diagnostics with {why}; expected --format text without --exact", path="--diagnostics")
    chosen = Filter(frozenset(only_steps), frozenset(only_layers), frozenset(only_phases), frozenset(only_samples))
    chosen_rows = None
    if output_format == "json":
        budget.check_json(spec, chosen.steps, quantities=quantities)
    else:
        document = output_format in DOCUMENTS
        chosen_rows = budget.check_layout(spec, chosen, max_rows, document=document).rows
    chain = None
    if round_digits is not None:
        from backprop_cli.model.rounding import RoundedChain, Rounding

        chain = RoundedChain(Rounding("decimals", round_digits))
    engine = Engine(spec, exact=exact, rounding=chain)
    inputs = [path] + ([Path(data)] if data else [])
    cap = (max_rows, chosen_rows)
    look = {"compact": compact, "fragment": fragment, "theme": theme, "view": view}
    if split:
        assert output is not None
        job = _job(spec, engine, total, precision, cap, width, chosen, look)
        _write_split(job, output_format, output, inputs, width)
        return
    with open_output(output, inputs=inputs) as stream:
        if output_format in FORMATS:  # markdown, latex, html, svg: render/__init__.py
            _write_document(spec, engine, stream, output_format, total, precision, cap, width, chosen, look)
            return
        if output_format == "json":
            from backprop_cli.model.i18n import using

            with using("en"):  # the trace document is data: its formulas the same in every language
                _write_json(spec, engine, stream, total, chosen, quantities)
            return
        _print_text(
            spec,
            engine,
            stream,
            total=total,
            precision=precision,
            width=width,
            color=color,
            pause=pause and output is None,
            max_rows=(max_rows, chosen_rows),
            only=chosen,
            diagnostics=diagnostics,
            view=view,
        )


def _check_language(output_format: str) -> None:
    """Refuse a language the format cannot show (render/latex.py has the packages of every shipped one)."""
    if output_format in ("latex", "beamer"):
        from backprop_cli.render.latex import language_check

        language_check()


def _write_json(spec: NetworkSpec, engine: Any, stream: Any, total: int, chosen: Filter, quantities: bool) -> None:
    """The trace document (version 2) of a network, float or exact, streamed step by step."""
    from backprop_cli.layout.json_document import head, network_step
    from backprop_cli.model.names import NAME_PATTERNS
    from backprop_cli.model.numbers import NumberFormat, exact_text
    from backprop_cli.render.json_out import write_document

    fmt = NumberFormat()
    before = engine.loss()
    last = max(chosen.steps, default=total)

    def records() -> Any:
        for rec in engine.run():
            if rec.step > last:
                return  # past the last step asked for: not computed
            if chosen.wants_step(rec.step):
                yield network_step(rec, chosen, quantities=quantities, fmt=fmt)

    def number(value: Any) -> Any:
        return exact_text(value) if engine.exact else value

    def summary() -> dict[str, Any]:
        after = engine.loss() if engine.steps_done == total else None
        return {"loss_before": number(before), "loss_after": None if after is None else number(after), "steps": total}

    top = head("network", engine.exact, spec.normalised, spec.inputs, NAME_PATTERNS)
    write_document(top, records(), stream, summary)


def _check_filters(
    spec: NetworkSpec, total: int, steps: tuple[int, ...], layers: tuple[str, ...], samples: tuple[int, ...]
) -> None:
    names = [layer.name for layer in spec.layers]
    for layer in layers:
        if layer not in names:
            raise ConfigError(f"unknown layer {layer!r}; expected one of {', '.join(names)}", path="--layer")
    for step in steps:
        if step > total:
            raise ConfigError(
                f"step {step} is past the end; the run has {total} step{'s' * (total != 1)}", path="--step"
            )
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


def _write_document(
    spec: NetworkSpec,
    engine: Any,
    stream: Any,
    name: str,
    total: int,
    precision: int,
    cap: tuple[int, int | None],
    width: int | None,
    chosen: Filter,
    look: dict[str, Any],
) -> None:
    from backprop_cli.render import writer

    writer(name)(_job(spec, engine, total, precision, cap, width, chosen, look), stream)


def _job(
    spec: NetworkSpec,
    engine: Any,
    total: int,
    precision: int,
    cap: tuple[int, int | None],
    width: int | None,
    chosen: Filter,
    look: dict[str, Any],
) -> Any:
    from backprop_cli.layout.document import TraceJob
    from backprop_cli.model.numbers import NumberFormat

    max_rows, rows = cap
    before = engine.loss()
    return TraceJob(
        spec,
        engine.run(),
        total,
        NumberFormat(precision),
        chosen,
        before,
        engine.loss,
        max_rows,
        width,
        engine.exact,
        rows,
        _step_rows(spec, chosen),
        **look,
    )


def _write_split(job: Any, name: str, output: str, inputs: list[Path], width: int | None) -> None:
    """One whole document per step: ``trace.md`` gives ``trace-step1.md`` …, the run's closing line and
    the row cap's notice in the last file."""
    from dataclasses import replace

    from backprop_cli.cli.output import open_output
    from backprop_cli.layout.document import build
    from backprop_cli.render import document_writer

    doc = build(job)
    if doc.matrix:
        pieces = [(m.step, replace(doc, matrix=(m,))) for m in doc.matrix]
    else:
        pieces = [(part.step, replace(doc, steps=(part,))) for part in doc.steps]
    target = Path(output)
    for index, (step, piece) in enumerate(pieces):
        last = index == len(pieces) - 1
        one = replace(piece, closing=doc.closing if last else "", notice=doc.notice if last else "")
        path = target.with_name(f"{target.stem}-step{step}{target.suffix}")
        with open_output(str(path), inputs=inputs) as stream:
            document_writer(name)(one, stream, width)
        click.echo(f"wrote {path}", file=sys.stderr)


def _step_rows(spec: NetworkSpec, chosen: Filter) -> Any:
    """The rows one step of the trace lays out, by the budget's arithmetic (a batch may have a million rows)."""
    from backprop_cli.budget import step_rows

    return lambda rec: step_rows(spec, chosen, rec.step, rec.samples)


def _print_text(
    spec: NetworkSpec,
    engine: Any,
    stream: Any,
    *,
    total: int,
    precision: int,
    width: int | None,
    color: bool | None,
    pause: bool,
    max_rows: tuple[int, int | None],
    only: Filter,
    diagnostics: bool = False,
    view: str = "scalar",
) -> None:
    from backprop_cli.cli.kit import make_console, wait_for_enter
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render.terminal import run_summary, trace_outputs

    console = make_console(stream, width, color)
    fmt = NumberFormat(precision)
    chosen = only
    if view == "matrix":
        _print_matrices(spec, engine, console, total, fmt, only)
        return
    cap, rows = max_rows
    before = engine.loss()
    interactive = pause and sys.stdin.isatty() and console.is_terminal
    last_phase = None
    tap = None
    if diagnostics:  # --diagnostics: a table after each step (its modules imported only then)
        from backprop_cli.layout.diagnostics import Tap
        from backprop_cli.render.diagnostics import StepTables

        shown = StepTables()
        tap = Tap(engine.run())
    records = iter(tap or engine.run())
    capped = False
    pieces = trace_outputs(
        spec,
        records,
        steps=total,
        fmt=fmt,
        only=chosen,
        max_rows=cap,
        exact=engine.exact,
        chosen_rows=rows,
        step_rows=_step_rows(spec, chosen),
    )
    for piece in pieces:
        if tap is not None and piece.phase == "step":
            console.print(*shown.tables(tap.take(before=piece.step), fmt, chosen.steps))
        if interactive and last_phase not in (None, "header", "step") and piece.phase != last_phase:
            interactive = wait_for_enter(console, "[dim]Enter: next phase[/dim] ")  # Ctrl-D: no more pauses
        console.print(piece.renderable)
        last_phase = piece.phase
        capped = capped or piece.notice
    if capped:  # not shown, but run: a value that overflows later still stops the run with exit 3
        for _ in records:
            pass
    elif tap is not None:
        console.print(*shown.tables(tap.take(), fmt, chosen.steps))
    if total > 1 and not chosen.steps:
        console.print(run_summary(before, engine.loss(), total, fmt))


def _print_matrices(spec: NetworkSpec, engine: Any, console: Any, total: int, fmt: Any, only: Filter) -> None:
    """The matrix view on a terminal: the scalar trace's header, then each step in vector form."""
    from backprop_cli.layout.document import TraceJob, build
    from backprop_cli.layout.matrix import NAMES
    from backprop_cli.model.i18n import _
    from backprop_cli.render.matrix_view import terminal_outputs
    from backprop_cli.render.terminal import header, run_summary

    before = engine.loss()
    doc = build(TraceJob(spec, engine.run(), total, fmt, only, before, engine.loss, view="matrix"))
    console.print(header(spec, total, fmt, exact=engine.exact))
    console.print(_(NAMES), markup=False, highlight=False)
    for renderable in terminal_outputs(doc, console.width):
        console.print(renderable)
    if total > 1 and not only.steps:
        console.print(run_summary(before, engine.loss(), total, fmt))


@main.command(
    short_help=N_("Check a config without running it."),
    help=N_("""Check CONFIG without running it, and say what it holds.

    \b
    Example:
      backprop validate configs/xor.yaml
    """),
)
@click.argument("config", required=False, shell_complete=complete_config)
@data_option()
@handle_errors
def validate(config: str | None, data: str | None) -> None:
    from backprop_cli import budget
    from backprop_cli.cli.expression import validate_expression, wants_expression
    from backprop_cli.model.filters import Filter
    from backprop_cli.nn.engine import count_steps
    from backprop_cli.render import printable  # the file names in the line cannot drive the terminal

    if wants_expression(config, None, ()):
        click.echo(printable(validate_expression(config, data)), file=sys.stdout)
        return
    spec, _ = load(config, data)
    budget.check_run(spec)  # what `backprop trace CONFIG` checks before it runs, located in the config
    budget.check_layout(spec, Filter(), DEFAULT_MAX_ROWS)
    layers = ", ".join(f"{layer.name}: {layer.units} {layer.label}" for layer in spec.layers)
    rows = spec.data.rows
    steps = count_steps(rows, spec.training)
    click.echo(
        printable(
            f"ok: {spec.source}: {len(spec.layers)} layer{'s' * (len(spec.layers) != 1)} ({layers}); "
            f"{spec.parameter_count} parameters; {len(spec.inputs)} input{'s' * (len(spec.inputs) != 1)}; "
            f"{rows} data row{'s' * (rows != 1)} ({spec.data.source}); loss {spec.loss.name} ({spec.loss.reduction}); "
            f"optimizer {spec.optimizer.name} (learning rate {spec.optimizer.learning_rate:g}); "
            f"{steps} step{'s' * (steps != 1)}"
        ),
        file=sys.stdout,
    )


@main.command(
    short_help=N_("Print the JSON Schema of configs (or of the trace document)."),
    help=N_("""Print the JSON Schema of config files, for editors to complete and check them; with --trace, the
    schema of the trace document that `backprop trace --format json` writes.

    \b
    Example (YAML editors read a first-line comment):
      backprop schema -o backprop-config.schema.json
      # yaml-language-server: $schema=backprop-config.schema.json
      backprop schema --trace -o backprop-trace.schema.json
    """),
)
@output_option(N_("Write the schema to this file instead of stdout."))
@click.option("--trace", "of_trace", is_flag=True, help=N_("The schema of `backprop trace --format json` instead."))
@handle_errors
def schema(output: str | None, of_trace: bool) -> None:
    import json

    from backprop_cli.cli.output import open_output

    if of_trace:
        from backprop_cli.render.trace_schema import trace_json_schema

        document = trace_json_schema()
    else:
        from backprop_cli.loading.config import config_json_schema

        document = config_json_schema()
    with open_output(output) as stream:
        stream.write(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


@main.command(
    short_help=N_("List the built-in examples."),
    help=N_("""List the built-in examples; trace one with `backprop trace NAME`.

    \b
    Example:
      backprop examples
      backprop trace single_neuron
    """),
)
@handle_errors
def examples() -> None:
    from backprop_cli.loading.examples import DEFAULT_EXAMPLE, describe, example_names

    names = example_names()
    width = max(len(name) for name in names)
    for name in names:
        mark = " (default)" if name == DEFAULT_EXAMPLE else ""
        click.echo(f"{name.ljust(width)}  {describe(name)}{mark}", file=sys.stdout)


# Commands in their own modules (backprop_cli/commands/NAME.py), imported only when run (or listed by
# --help): `backprop trace` does not build their options. Add one as  main.lazy["NAME"] = "MODULE:ATTR".
main.lazy.update(
    {
        name: f"backprop_cli.cli.{name}:{name}"
        for name in ("answers", "check", "explain", "gradcheck", "graph", "names", "train")
    }
)
main.lazy["landscape"] = "backprop_cli.cli.landscape:landscape"
main.lazy["compare"] = "backprop_cli.cli.compare:compare"
main.lazy["variants"] = "backprop_cli.cli.variants:variants"
main.lazy["autograder"] = "backprop_cli.cli.autograder:autograder"
main.lazy["export"] = "backprop_cli.cli.export:export"
main.lazy["verify"] = "backprop_cli.cli.verify:verify"
