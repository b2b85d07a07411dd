"""What every rendering of a trace opens and closes with: the network table, the facts, step headings.

Shared by the terminal (render/terminal.py) and the documents (render/document.py), so both say the
same; kept apart from document.py so that the terminal does not import the document structures.
"""

from __future__ import annotations

from backprop_cli.model.i18n import N_, _, ngettext
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import NetworkSpec, shown_source
from backprop_cli.nn.ops import ACTIVATIONS, loss_op
from backprop_cli.nn.optim import hyper_text
from backprop_cli.nn.records import StepRecord

NETWORK_COLUMNS = (N_("layer"), N_("units"), N_("fan-in"), N_("activation"), "a = f(z)", N_("parameters"))


def network_columns() -> list[str]:
    """The network table's column headings in the current language."""
    return [_(column) for column in NETWORK_COLUMNS]


def network_rows(spec: NetworkSpec, fmt: NumberFormat) -> tuple[tuple[str, ...], ...]:
    """The network table: inputs, then one row per layer."""
    names = ", ".join(spec.inputs)
    if spec.input_shape is not None:  # a shaped input: its first and last names, and the shape they fill
        names = _("{first} … {last} ({shape}, row-major)").format(
            first=spec.inputs[0], last=spec.inputs[-1], shape="×".join(map(str, spec.input_shape))
        )
    rows: list[tuple[str, ...]] = [(_("inputs"), str(len(spec.inputs)), "", "", names, "")]
    for layer in spec.layers:
        act = ACTIVATIONS[layer.activation]
        frozen = _(" (frozen: {names})").format(names=", ".join(sorted(layer.frozen))) if layer.frozen else ""
        tensors = layer.tensors()
        bias = _(", no bias") if "weights" in tensors and "biases" not in tensors else ""
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
    return f"backprop trace · {shown_source(spec.source)}" + (_(" · exact fractions") if exact else "")


def facts(spec: NetworkSpec, steps: int, fmt: NumberFormat, *, exact: bool = False) -> tuple[str, ...]:
    """Loss, optimizer, data and how names are built, one line each (the terminal header's lines too)."""
    loss = loss_op(spec.loss.name, spec.loss.reduction)
    hyper = hyper_text(spec.optimizer, fmt)  # every hyper-parameter the update formulas use, by symbol
    rows = spec.data.rows
    seed = spec.training.seed or 0
    shuffled = _("; rows shuffled each pass (seed {seed})").format(seed=seed) if spec.training.shuffle else ""
    source = _("inline") if spec.data.source == "inline" else spec.data.source
    data = ngettext("data: {n} row ({source}); steps: {steps}", "data: {n} rows ({source}); steps: {steps}", rows)
    if spec.training.mode == "eval":
        shuffled += "; mode eval (torch's model.eval(): batch norm on its running statistics, not updated; no dropout)"
    return (
        _("loss: {name} ({formula}), reduction {reduction} over the batch").format(
            name=spec.loss.name, formula=loss.formula, reduction=spec.loss.reduction
        ),
        _("optimizer: {name} ({hyper})").format(name=spec.optimizer.name, hyper=hyper),
        data.format(n=rows, source=source, steps=steps) + shuffled,
        _(
            "names: layer.z1 = weighted sum of neuron 1, layer.w1_2 = weight into neuron 1 from input 2 "
            "(1-based); the trace shows each formula, then the same formula with its numbers"
        ),
    ) + (
        (_("exact: every number is a fraction, each given number read from its decimal text (0.1 is 1/10)"),)
        if exact
        else ()
    )


MAX_LISTED_ROWS = 100  # a heading lists a batch's rows up to this many (a batch may have a million)


def step_heading(rec: StepRecord, total: int) -> str:
    several = len(rec.samples) > 1
    rows = ", ".join(str(s + 1) for s in rec.samples[:MAX_LISTED_ROWS])
    if len(rec.samples) > MAX_LISTED_ROWS:
        rows += _(", … ({count:,} rows)").format(count=len(rec.samples))
    batch = _("batch: data rows {rows}") if several else _("batch: data row {rows}")
    return _("Step {step} of {total}").format(step=rec.step, total=total) + " · " + batch.format(rows=rows)


def closing_line(before: float, after: float, steps: int, fmt: NumberFormat) -> str:
    return _("Loss on all data: {before} before step 1, {after} after step {steps} (change {change})").format(
        before=fmt(before), after=fmt(after), steps=steps, change=fmt(after - before)
    )


def cap_text(max_rows: int, step: int, step_rows: int, chosen_rows: int | None = None) -> str:
    """The notice where a trace stops at its row cap: how much the step and the whole trace have, and how
    to see the rest."""
    whole = _(" and the whole trace {rows:,}").format(rows=chosen_rows) if chosen_rows is not None else ""
    return _(
        "… trace stopped after {max_rows:,} rows (--max-rows): step {step} has {step_rows:,} rows{whole} "
        "(the run goes on to its last step unshown). Narrow it with --step, --layer, --phase or --sample, "
        "raise the cap with --max-rows (0 = no cap, within the row budget), or write everything with "
        "--format json."
    ).format(max_rows=max_rows, step=step, step_rows=step_rows, whole=whole)
