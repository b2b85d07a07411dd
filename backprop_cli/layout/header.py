"""What every rendering of a trace opens and closes with: the network table, the facts, step headings.

Shared by the terminal (render/terminal.py) and the documents (render/document.py), so both say the
same; kept apart from document.py so that the terminal does not import the document structures.
"""

from __future__ import annotations

from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.ops import ACTIVATIONS, loss_op
from backprop_cli.nn.optim import hyper_text
from backprop_cli.nn.records import StepRecord

NETWORK_COLUMNS = ("layer", "units", "fan-in", "activation", "a = f(z)", "parameters")


def network_rows(spec: NetworkSpec, fmt: NumberFormat) -> tuple[tuple[str, ...], ...]:
    """The network table: inputs, then one row per layer."""
    names = ", ".join(spec.inputs)
    if spec.input_shape is not None:  # a shaped input: its first and last names, and the shape they fill
        names = f"{spec.inputs[0]} … {spec.inputs[-1]} ({'×'.join(map(str, spec.input_shape))}, row-major)"
    rows: list[tuple[str, ...]] = [("inputs", str(len(spec.inputs)), "", "", names, "")]
    for layer in spec.layers:
        act = ACTIVATIONS[layer.activation]
        frozen = f" (frozen: {', '.join(sorted(layer.frozen))})" if layer.frozen else ""
        tensors = layer.tensors()
        bias = ", no bias" if "weights" in tensors and "biases" not in tensors else ""
        rows.append(
            (
                layer.name,
                str(layer.units),
                str(layer.fan_in),
                layer.label,
                layer.formula or act.template.format(z="z", s=fmt.operand(layer.negative_slope)),
                f"{layer.parameter_count}{bias}{frozen}",
            )
        )
    return tuple(rows)


def title(spec: NetworkSpec, *, exact: bool = False) -> str:
    return f"backprop trace · {spec.source}" + (" · exact fractions" if exact else "")


def facts(spec: NetworkSpec, steps: int, fmt: NumberFormat, *, exact: bool = False) -> tuple[str, ...]:
    """Loss, optimizer, data and how names are built, one line each (the terminal header's lines too)."""
    loss = loss_op(spec.loss.name, spec.loss.reduction)
    hyper = hyper_text(spec.optimizer, fmt)  # every hyper-parameter the update formulas use, by symbol
    rows = spec.data.rows
    shuffled = f"; rows shuffled each pass (seed {spec.training.seed or 0})" if spec.training.shuffle else ""
    return (
        f"loss: {spec.loss.name} ({loss.formula}), reduction {spec.loss.reduction} over the batch",
        f"optimizer: {spec.optimizer.name} ({hyper})",
        f"data: {rows} row{'s' if rows != 1 else ''} ({spec.data.source}); steps: {steps}{shuffled}",
        "names: layer.z1 = weighted sum of neuron 1, layer.w1_2 = weight into neuron 1 from input 2 "
        "(1-based); the trace shows each formula, then the same formula with its numbers",
    ) + (
        ("exact: every number is a fraction, each given number read from its decimal text (0.1 is 1/10)",)
        if exact
        else ()
    )


MAX_LISTED_ROWS = 100  # a heading lists a batch's rows up to this many (a batch may have a million)


def step_heading(rec: StepRecord, total: int) -> str:
    several = len(rec.samples) > 1
    rows = ", ".join(str(s + 1) for s in rec.samples[:MAX_LISTED_ROWS])
    if len(rec.samples) > MAX_LISTED_ROWS:
        rows += f", … ({len(rec.samples):,} rows)"
    return f"Step {rec.step} of {total} · batch: data row{'s' if several else ''} {rows}"


def closing_line(before: float, after: float, steps: int, fmt: NumberFormat) -> str:
    return (
        f"Loss on all data: {fmt(before)} before step 1, {fmt(after)} after step {steps} (change {fmt(after - before)})"
    )


def cap_text(max_rows: int, step: int, step_rows: int, chosen_rows: int | None = None) -> str:
    """The notice where a trace stops at its row cap: how much the step and the whole trace have, and how
    to see the rest."""
    whole = f" and the whole trace {chosen_rows:,}" if chosen_rows is not None else ""
    return (
        f"… trace stopped after {max_rows:,} rows (--max-rows): step {step} has {step_rows:,} rows{whole} "
        "(the run goes on to its last step unshown). Narrow it with --step, --layer, --phase or --sample, "
        "raise the cap with --max-rows (0 = no cap, within the row budget), or write everything with "
        "--format json."
    )
