"""``backprop train``'s summary: as rich renderables for a terminal, or as a JSON-able dict.

Pure layout over a :class:`~backprop_cli.nn.train.TrainResult`; numbers go through NumberFormat
(JSON keeps full precision). Cells are ``Text`` so names are never read as rich markup.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backprop_cli.model import formats
from backprop_cli.model.names import param_name
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.diagnostics import ORDERS, Contrast, LayerStats, contrast, describe_contrast, describe_flow
from backprop_cli.nn.train import Accuracy, TensorChange, TrainResult
from backprop_cli.render import PARAMETER_ROWS
from backprop_cli.render.chart import column_chart
from backprop_cli.render.diagnostics import DIAGNOSTICS_NOTE, diagnostics_table
from backprop_cli.render.fit import Fitting, column_style

FORMAT = formats.TRAIN
VERSION = 2  # 2: history's loss and accuracy on all data are null where not evaluated (see --eval-each-pass)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def schedule_text(spec: NetworkSpec, steps: int, per_epoch: int, batch_size: int) -> str:
    """How the run is cut into steps: epochs or steps, batch size, shuffling and its seed."""
    t = spec.training
    if t.epochs is not None:
        what = f"{_plural(t.epochs, 'epoch')} × {_plural(per_epoch, 'step')} = {_plural(steps, 'step')}"
    else:
        what = f"{_plural(steps, 'step')} (one pass over the data = {_plural(per_epoch, 'step')})"
    order = f"shuffled each pass with seed {t.seed or 0}" if t.shuffle else "rows in order"
    return f"{what}, batch size {batch_size}, {order}"


def accuracy_text(acc: Accuracy, spec: NetworkSpec, before: Accuracy | None = None) -> str:
    classes = f"; classes: {', '.join(spec.data.class_names)}" if spec.data.class_names else ""
    earlier = f"; before training {before.share:.1%}" if before is not None else ""
    return f"{acc.share:.1%} ({acc.correct} of {acc.total} rows right{earlier}){classes}"


def summary(
    result: TrainResult, fmt: NumberFormat, *, parameters: bool = True, max_rows: int = PARAMETER_ROWS
) -> RenderableType:
    """The terminal summary: setup, loss chart, final loss and accuracy, diagnostics, trained parameters."""
    spec = result.spec
    parts: list[RenderableType] = []
    if spec.description:
        parts.append(Text(spec.description, style="italic"))
    parts.append(Text(f"backprop train · {spec.source}", style="bold"))
    layers = " → ".join(f"{layer.name}: {layer.units} {layer.label}" for layer in spec.layers)
    opt = spec.optimizer
    parts.append(
        Text(
            f"network: {_plural(len(spec.inputs), 'input')} → {layers}; loss {spec.loss.name} ({spec.loss.reduction}); "
            f"optimizer {opt.name} (η = {fmt(opt.learning_rate)}); "
            f"data: {_plural(spec.data.rows, 'row')} ({spec.data.source})\n"
            f"run: {schedule_text(spec, result.steps, result.steps_per_epoch, result.batch_size)}"
        )
    )
    x_label = "epoch" if spec.training.epochs is not None else "pass over the data"
    parts.append(_loss_chart(result, x_label))
    before, final = result.before, result.final
    lines = Text()
    lines.append("final loss: ", style="bold")
    lines.append(f"{fmt(result.loss_final)} on all data (before training: {fmt(result.loss_before)})")
    if final.batch_loss is not None:
        lines.append(f"; mean batch loss over the last pass: {fmt(final.batch_loss)}")
    if final.accuracy is not None:
        lines.append("\ntraining accuracy: ", style="bold")
        lines.append(accuracy_text(final.accuracy, spec, before.accuracy))
    if (test := result.test) is not None:
        lines.append("\ntest rows: ", style="bold")
        lines.append(f"loss {fmt(test.loss)} on {_plural(test.rows, 'row')} never trained on ({test.source})")
        if test.accuracy is not None:
            lines.append("\ntest accuracy: ", style="bold")
            lines.append(f"{test.accuracy.share:.1%} ({test.accuracy.correct} of {test.accuracy.total} rows right)")
    parts.append(lines)
    if result.first_step:
        table = diagnostics_table(
            [result.first_step, result.mean],
            fmt,
            title="Gradient diagnostics",
            labels=["1", f"mean of {result.steps}"],
            caption=DIAGNOSTICS_NOTE,
        )
        parts.append(table)
        verdicts = Text()
        first_flow, mean_flow = result.flow_first, result.flow_mean
        if first_flow is not None and mean_flow is not None:
            verdicts.append("at step 1: ", style="bold")
            verdicts.append(describe_flow(first_flow, fmt))
            verdicts.append(f"\nover all {result.steps} steps (mean norms): ", style="bold")
            verdicts.append(describe_flow(mean_flow, fmt))
        else:
            verdicts.append("one layer: no first-versus-last gradient comparison")
        parts.append(verdicts)
    if parameters:
        parts.append(parameters_table(result, fmt, max_rows))
    return Group(*parts)


def _loss_chart(result: TrainResult, x_label: str) -> RenderableType:
    """The loss per pass: on all data rows with --eval-each-pass, else each pass's mean batch loss.

    A last pass cut short by ``steps`` is left out of the mean-batch-loss chart when full passes
    precede it: its mean covers only its few batches, and next to the full passes' means it would
    draw a rise or fall that the loss on all data does not make.
    """
    history = result.history
    note = ""
    if result.each_pass:
        title, first = "Loss on all data rows, before training (0) and after each pass", 0
        values = [p.loss for p in history if p.loss is not None]  # every point is evaluated
    else:
        title, first = "Mean batch loss of each pass (each batch's loss before its update)", 1
        unit = "epoch" if result.spec.training.epochs is not None else "pass"
        points, last = history[1:], history[-1]
        ran = last.step - history[-2].step
        if ran < result.steps_per_epoch:
            cut = f"{_plural(ran, 'step')} of {result.steps_per_epoch}"
            if len(points) > 1:
                points = points[:-1]
                note = f"{unit} {last.epoch} ran {cut} and is left out of the chart: its mean covers fewer batches"
            else:
                note = f"the one {unit} ran {cut}"
        values = [p.batch_loss for p in points if p.batch_loss is not None]
    chart = column_chart(values, fmt=NumberFormat(3), first=first, x_label=x_label)
    lines = [*chart, note] if note else chart
    return Group(Text("\n" + title, style="bold"), Text("\n".join(lines)))


def parameters_table(result: TrainResult, fmt: NumberFormat, max_rows: int = PARAMETER_ROWS) -> RenderableType:
    """Every parameter before and after training, in layer order; when there are more than
    ``max_rows`` (0: no cap), one row per weight matrix or bias vector instead, with its statistics."""
    tensors = result.tensor_changes()
    total = sum(t.size for t in tensors)
    if max_rows and total > max_rows:
        return _tensor_table(tensors, total, fmt)
    rows: list[tuple[str, str, str]] = []
    for layer, trained in zip(result.spec.layers, result.tensors, strict=True):
        initial = layer.tensors()
        for kind, after in trained.items():
            mark = " (frozen)" if kind in layer.frozen else ""
            for index in itertools.product(*(range(n) for n in after.shape)):
                name = param_name(layer.name, kind, index) + mark
                rows.append((name, fmt(initial[kind][index]), fmt(after[index])))

    def build(whole: bool) -> Table:
        table = Table(
            title=Text("Trained parameters", style="bold"), title_justify="left", box=box.SIMPLE_HEAD, show_edge=False
        )
        for column, justify in (("name", "left"), ("before", "right"), ("after", "right")):
            table.add_column(column, justify=justify, **column_style(whole))  # type: ignore[arg-type]
        for name, before, after in rows:
            table.add_row(Text(name, style="cyan"), Text(before), Text(after))
        return table

    return Fitting(build)


def _tensor_table(tensors: Sequence[TensorChange], total: int, fmt: NumberFormat) -> Fitting:
    def build(whole: bool) -> Table:
        table = Table(
            title=Text(f"Trained parameters: {total:,}, summarised per weight matrix and bias vector", style="bold"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            caption=Text("Each parameter before and after: --max-rows 0, --format json, or --save FILE."),
            caption_justify="left",
        )
        for column in ("tensor", "shape", "mean before", "mean after", "mean |Δ|", "max |Δ|"):
            justify = "left" if column in ("tensor", "shape") else "right"
            table.add_column(column, justify=justify, **column_style(whole))  # type: ignore[arg-type]
        for t in tensors:
            table.add_row(
                Text(t.name + " (frozen)" * t.frozen, style="cyan"),
                Text("×".join(map(str, t.shape))),
                Text(fmt(t.mean_before)),
                Text(fmt(t.mean_after)),
                Text(fmt(t.mean_abs_change)),
                Text(fmt(t.max_abs_change)),
            )
        return table

    return Fitting(build)


def _stats_dict(stats: Sequence[LayerStats]) -> list[dict[str, Any]]:
    return [
        {
            "layer": s.layer,
            "activation": s.activation,
            "grad_norm": s.grad_norm,
            "update_ratio": s.update_ratio,
            "dead_relu": s.dead_relu,
            "saturated": s.saturated,
        }
        for s in stats
    ]


def _acc_dict(acc: Accuracy | None) -> dict[str, Any] | None:
    return None if acc is None else {"correct": acc.correct, "total": acc.total, "share": acc.share}


def summary_dict(result: TrainResult) -> dict[str, Any]:
    """``--format json``: the summary with the per-epoch history, full precision."""
    spec = result.spec
    flows: dict[str, Any] = {}
    for key, f in (("step1", result.flow_first), ("mean", result.flow_mean)):
        if f is not None:
            flows[key] = {
                "first_layer": f.first,
                "last_layer": f.last,
                "first_norm": f.first_norm,
                "last_norm": f.last_norm,
                "ratio": f.ratio,  # null when the last layer's norm is zero: no ratio
                "verdict": f.verdict,
                "text": describe_flow(f, NumberFormat(3)),
            }
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "config": dict(spec.normalised),
        "steps": result.steps,
        "steps_per_epoch": result.steps_per_epoch,
        "batch_size": result.batch_size,
        "loss_before": result.loss_before,
        "loss_final": result.loss_final,
        "accuracy_before": _acc_dict(result.before.accuracy),
        "accuracy": _acc_dict(result.final.accuracy),
        "history": [
            {
                "epoch": p.epoch,
                "step": p.step,
                "loss": p.loss,
                "batch_loss": p.batch_loss,
                "accuracy": None if p.accuracy is None else p.accuracy.share,
                "diagnostics": _stats_dict(p.diagnostics),
            }
            for p in result.history
        ],
        "diagnostics": {
            "step1": _stats_dict(result.first_step),
            "mean": _stats_dict(result.mean),
            "flow": flows,
            "threshold_orders": ORDERS,
        },
        "parameters": result.parameters(),
    }
    if result.test is not None:  # data.test: the held-out rows after training
        out["test"] = {
            "source": result.test.source,
            "rows": result.test.rows,
            "loss": result.test.loss,
            "accuracy": _acc_dict(result.test.accuracy),
        }
    return out


def _contrast(a: TrainResult, b: TrainResult) -> Contrast | None:
    def name(result: TrainResult) -> str:  # the config's name as given (a built-in example by its name)
        return result.spec.source.removesuffix(" (built-in example)")

    return contrast((name(a), a.first_step, a.mean), (name(b), b.first_step, b.mean))


def comparison(
    a: TrainResult, b: TrainResult, fmt: NumberFormat, *, parameters: bool = True, max_rows: int = PARAMETER_ROWS
) -> RenderableType:
    """``train A --compare B``: each run's summary, then their first-layer gradient norms compared in words."""
    parts: list[RenderableType] = [
        summary(a, fmt, parameters=parameters, max_rows=max_rows),
        Text(""),
        summary(b, fmt, parameters=parameters, max_rows=max_rows),
    ]
    verdict = Text()
    verdict.append(f"\nComparison · {a.spec.source} and {b.spec.source}\n", style="bold")
    c = _contrast(a, b)
    if c is None:
        verdict.append("one of the networks has no layer with weights: no gradient norms to compare")
    else:
        verdict.append("\n".join(describe_contrast(c, fmt)))
    parts.append(verdict)
    return Group(*parts)


def comparison_dict(a: TrainResult, b: TrainResult) -> dict[str, Any]:
    """``train A --compare B --format json``: both runs' summaries and the contrast of their first layers."""
    c = _contrast(a, b)
    contrast_entry: dict[str, Any] | None = None
    if c is not None:
        contrast_entry = {
            "first_layers": list(c.first_layers),
            "step1": {"norms": list(c.step1), "orders": c.orders[0]},
            "mean": {"norms": list(c.mean), "orders": c.orders[1]},
            "text": describe_contrast(c, NumberFormat(3)),
            "threshold_orders": ORDERS,
        }
    return {
        "format": FORMAT,
        "version": VERSION,
        "runs": [summary_dict(a), summary_dict(b)],
        "contrast": contrast_entry,
    }
