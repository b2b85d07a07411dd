"""``backprop train``: many steps without per-scalar tables, then a summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from backprop_cli.cli.kit import (
    color_option,
    complete_config,
    data_option,
    handle_errors,
    load,
    make_console,
    max_rows_option,
    output_option,
    precision_option,
    steps_option,
    text_or_json_option,
    width_option,
)
from backprop_cli.model.i18n import N_

if TYPE_CHECKING:
    from backprop_cli.nn.train import TrainingRun, TrainResult


@click.command(short_help=N_("Train a network for many steps and summarise the run."))
@click.argument("config", required=False, shell_complete=complete_config)
@data_option()
@click.option("--epochs", type=click.IntRange(min=1), help="Passes over the data, overriding the config's training.")
@steps_option()
@text_or_json_option("text: a summary for a terminal; json: the summary with the per-epoch history.")
@output_option("Write the summary to this file (atomically) instead of stdout.")
@click.option(
    "--save",
    type=click.Path(dir_okay=False),
    help="Write the trained network as a config file (YAML) for tracing it: the trained parameters, "
    "training of one step, the data (a CSV label column by its file and class order).",
)
@precision_option("Significant digits of the numbers shown (JSON always has full precision).")
@click.option(
    "--parameters/--no-parameters",
    default=True,
    show_default=True,
    help="List every trained parameter (before and after) in the text summary.",
)
@click.option(
    "--eval-each-pass",
    is_flag=True,
    help="Also compute the loss and accuracy on all data rows after each pass, and chart that loss "
    "(one more forward pass over all the data per pass). Default: on all data before and after training; "
    "the chart shows each pass's mean batch loss.",
)
@click.option(
    "--compare",
    "other",
    metavar="CONFIG",
    shell_complete=complete_config,
    help="Also train this config (from its own start) and compare the two runs' first-layer gradient norms, "
    "at step 1 and over each run, saying how many orders of magnitude apart they are.",
)
@width_option("Terminal width to lay the summary out for.")
@color_option()
@max_rows_option("With more trained parameters than this, show each weight matrix and bias vector instead (0: no cap).")
@handle_errors
def train(
    config: str | None,
    data: str | None,
    epochs: int | None,
    steps: int | None,
    output_format: str,
    output: str | None,
    save: str | None,
    precision: int,
    parameters: bool,
    eval_each_pass: bool,
    other: str | None,
    width: int | None,
    color: bool | None,
    max_rows: int,
) -> None:
    """Train CONFIG for its configured epochs or steps, then summarise: the loss per epoch as a chart
    (each pass's mean batch loss, or the loss on all data with --eval-each-pass), the final loss on
    all data, the accuracy (softmax or sigmoid outputs with 0/1 targets), gradient diagnostics
    (vanishing or exploding gradients said in words) and the trained parameters.

    A progress bar shows on stderr when it is a terminal. A value that overflows stops the run at
    once, naming the step, layer, neuron and quantity (exit status 3).

    \b
    Examples:
      backprop train iris
      backprop train iris --format json -o run.json
      backprop train iris --eval-each-pass
      backprop train deep_sigmoid --no-parameters
      backprop train iris --save trained.yaml && backprop trace trained.yaml --phase summary
      backprop train lr_too_large --steps 1000   (overflows: exit 3)
      backprop train deep_plain --compare deep_residual --no-parameters
    """
    from backprop_cli.budget import check_train
    from backprop_cli.cli.output import open_output
    from backprop_cli.errors import ConfigError
    from backprop_cli.nn.train import TrainingRun

    if epochs is not None and steps is not None:
        raise ConfigError("both --epochs and --steps given; expected one of them", path="--epochs")
    from backprop_cli.cli.expression import wants_expression

    if wants_expression(config, None, ()):
        raise ConfigError(
            f"an expression program; train runs network configs (trace it: backprop trace {config})",
            file=config,
        )
    spec, path = load(config, data, steps)
    if epochs is not None:
        from backprop_cli.loading.config import with_training

        spec = with_training(spec, epochs=epochs)
    inputs = [path] + ([Path(data)] if data else [])
    if save is not None and output is not None and Path(save).resolve() == Path(output).resolve():
        raise ConfigError("--save and --output name the same file; expected two files", path="--save")
    check_train(
        spec,
        output_format=output_format,
        max_rows=max_rows,
        listed=parameters,
        save=save is not None,
        each_pass=eval_each_pass,
    )
    trainer = TrainingRun(spec, each_pass=eval_each_pass)
    result = _run_with_progress(trainer, spec.source)
    compared = None
    if other is not None:
        other_spec, other_path = load(other, data, steps)
        if epochs is not None:
            from backprop_cli.loading.config import with_training

            other_spec = with_training(other_spec, epochs=epochs)
        inputs.append(other_path)
        check_train(
            other_spec,
            output_format=output_format,
            max_rows=max_rows,
            listed=parameters,
            save=False,
            each_pass=eval_each_pass,
        )
        compared = _run_with_progress(TrainingRun(other_spec, each_pass=eval_each_pass), other_spec.source)
    if save is not None:
        _save(result, save, inputs)
    with open_output(output, inputs=inputs) as stream:
        if output_format == "json":
            import json

            from backprop_cli.render.train_summary import comparison_dict, summary_dict

            document = summary_dict(result) if compared is None else comparison_dict(result, compared)
            stream.write(json.dumps(document, ensure_ascii=False, allow_nan=False) + "\n")
            return
        from backprop_cli.model.numbers import NumberFormat
        from backprop_cli.render.train_summary import comparison, summary

        console = make_console(stream, width, color)
        fmt = NumberFormat(precision)
        if compared is None:
            console.print(summary(result, fmt, parameters=parameters, max_rows=max_rows))
        else:
            console.print(comparison(result, compared, fmt, parameters=parameters, max_rows=max_rows))
        if save is not None:
            console.print(f"saved the trained network to {save}", highlight=False, markup=False)


def _run_with_progress(trainer: TrainingRun, source: str) -> TrainResult:
    """Run the trainer with a transient rich progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return trainer.run()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from backprop_cli.render.console import make_console  # the file name shown cannot drive the terminal

    with Progress(
        TextColumn("training {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
        console=make_console(sys.stderr),
        transient=True,
    ) as bar:
        task = bar.add_task(source, total=len(trainer.schedule))
        return trainer.run(lambda done, total: bar.update(task, completed=done))


def _save(result: TrainResult, target: str, inputs: list[Path]) -> None:
    import yaml

    from backprop_cli.cli.output import open_output
    from backprop_cli.loading.yamlsafe import comment_text
    from backprop_cli.nn.train import trained_config

    config = trained_config(result, Path(target).parent)
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, default_flow_style=None)
    spec = result.spec
    t = spec.training
    run = f"{t.epochs} epochs" if t.epochs is not None else f"{t.steps or 1} steps"
    batches = f"batches of {result.batch_size}" + (f", shuffled with seed {t.seed or 0}" if t.shuffle else "")
    head = [
        "# yaml-language-server: $schema=backprop-config.schema.json",
        f"# Written by `backprop train` from {comment_text(spec.source)} after {result.steps} steps",
        f"# ({run}, {batches});",
        f"# final loss on all data {result.loss_final!r}. The weights and biases are the trained ones and",
        "# training is one step, so `backprop trace` on this file shows the trained network's next step;",
        "# `backprop train` on it with --epochs or --steps trains it further. Optimizer state (momentum",
        "# buffers, Adam's m and v) is not kept: a run from this file starts it afresh.",
    ]
    data = config["data"]
    if isinstance(data, dict):
        head += [
            f"# Data: read from {comment_text(str(data['file']))}, as training read it;",
            f"# targets are one-hot over the classes in this order: {comment_text(', '.join(data['classes']))}.",
        ]
    else:
        head.append("# Data rows are written inline.")
    with open_output(target, inputs=inputs, option="--save") as stream:
        stream.write("\n".join(head) + "\n" + text)
