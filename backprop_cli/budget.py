"""Budgets: each command's work, estimated from the config and its options before any of it is done.

A command that would pass a budget is refused at once (exit 2) with one located line that names the
option narrowing it, instead of running for minutes: what the engine computes (steps through layers,
and rows × parameters summed over the run), what a table format lays out (rows), what JSON writes
(numbers), what ``names``/``answers``/``check``/``explain`` lay out (names), and what a key holds
(bytes). The estimates mirror what the commands do (the row counts are :mod:`backprop_cli.layout.rows`'s
own, and tests compare every estimate with the real count); the limits are sized so that what passes
takes seconds on a 2-core machine (README, "Performance and hardening").

Every check takes ``limits`` (default :data:`LIMITS`), so tests use small budgets, not giant inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from backprop_cli.errors import ConfigError
from backprop_cli.model.budgets import LIMITS, Budgets, limits_of, size_text
from backprop_cli.model.i18n import N_, _, ngettext
from backprop_cli.model.record import record

__all__ = ["LIMITS", "Budgets", "size_text"]  # the budgets themselves are model/budgets.py: read here too

if TYPE_CHECKING:
    from backprop_cli.loading.yamlsafe import Loc
    from backprop_cli.model.filters import Filter as TraceFilter
    from backprop_cli.model.spec import NetworkSpec
    from backprop_cli.nn.layers.base import Counts


def _n_steps(n: int) -> str:
    return ngettext("{n:,} step", "{n:,} steps", n).format(n=n)


def _n_rows(n: int) -> str:
    return ngettext("{n:,} row", "{n:,} rows", n).format(n=n)


def _n_layers(n: int) -> str:
    return ngettext("{n:,} layer", "{n:,} layers", n).format(n=n)


def _n_parameters(n: int) -> str:
    return ngettext("{n:,} parameter", "{n:,} parameters", n).format(n=n)


def refuse(spec: NetworkSpec, message: str, at: Loc = (), *, option: str | None = None) -> ConfigError:
    """A budget refusal located at the option that set the value, else at ``at`` in the config."""
    if option is not None:
        return ConfigError(message, path=option)
    if spec.document is not None:
        return spec.document.error(message, at)
    return ConfigError(message, file=spec.source)


# ---------------------------------------------------------------- the run


@record
class Run:
    """What the engine computes for a config: the run's steps and the batch sizes they take."""

    steps: int
    batch: int  # rows of a full batch
    last_batch: int  # rows of each pass's last batch (epochs: the remainder; steps: the same)
    batches_per_pass: int  # epochs only; 0 for steps
    layers: int
    parameters: int
    data_rows: int

    def sizes(self, upto: int | None = None) -> Iterator[int]:
        """The batch size of each step, 1 to ``upto`` (default: the last), by arithmetic: exact for epochs,
        an upper bound for steps (a pass's last batch may be smaller); see :func:`batch_sizes`."""
        last = self.steps if upto is None else min(upto, self.steps)
        for step in range(1, last + 1):
            full = not self.batches_per_pass or step % self.batches_per_pass
            yield self.batch if full else self.last_batch

    def rows(self, upto: int | None = None) -> int:
        """Data rows taken by steps 1 to ``upto``, without walking them."""
        last = self.steps if upto is None else min(upto, self.steps)
        if not self.batches_per_pass:
            return last * self.batch
        passes, rest = divmod(last, self.batches_per_pass)
        return passes * self.data_rows + rest * self.batch

    def products(self, upto: int | None = None) -> int:
        """Rows × parameters of steps 1 to ``upto``, plus the loss on all data before and after."""
        return (self.rows(upto) + 2 * self.data_rows) * self.parameters


def run_of(spec: NetworkSpec) -> Run:
    """The run a config asks for, read off its training settings (nothing is scheduled)."""
    from backprop_cli.nn.engine import count_steps

    rows = spec.data.rows
    batch = min(spec.training.batch_size or rows, rows)
    epochs = spec.training.epochs is not None
    per_pass = -(-rows // batch) if epochs else 0
    last = rows - (per_pass - 1) * batch if epochs else batch
    steps = count_steps(rows, spec.training)
    return Run(steps, batch, last, per_pass, len(spec.layers), spec.parameter_count, rows)


EXACT_SIZES = 1_000_000  # scheduled rows up to which batch sizes come from the engine's own schedule


def batch_sizes(spec: NetworkSpec, run: Run, upto: int | None = None) -> list[int]:
    """The batch size of each step, 1 to ``upto``: read off the engine's schedule (whatever its rule for a
    pass's last batch) when that is small, else by arithmetic (Run.sizes, at worst an upper bound)."""
    last = run.steps if upto is None else min(upto, run.steps)
    if run.rows(last) > EXACT_SIZES:
        return list(run.sizes(last))
    from backprop_cli.nn.engine import batches

    return [len(rows) for rows in batches(spec.data.rows, spec.training)[:last]]


def _where_steps(spec: NetworkSpec) -> tuple[Loc, str | None]:
    training = spec.training
    if training.option is not None:
        return (), training.option
    if training.epochs is not None:
        return ("training", "epochs"), None
    return ("training", "steps"), None


def _where_batch(spec: NetworkSpec) -> Loc:
    return ("training", "batch_size") if spec.training.batch_size else ("data",)


def _how(spec: NetworkSpec) -> str:
    at, option = _where_steps(spec)
    if option is not None:
        return _("shorten it with {option}").format(option=option)
    return _("shorten it with {option} or {field}").format(option="--steps", field=".".join(map(str, at)))


def check_schedule(spec: NetworkSpec, *, limits: Budgets | None = None) -> Run:
    """Refuse a run whose schedule (built whole, by engine.batches) would hold too many rows: before
    anything builds it."""
    budget = limits_of(limits)
    run = run_of(spec)
    if run.rows() > budget.scheduled_rows:
        at, option = _where_steps(spec)
        raise refuse(
            spec,
            _(
                "{steps} of {rows} is too long a run; expected at most {most:,} rows in all (steps × batch size); {how}"
            ).format(steps=_n_steps(run.steps), rows=_n_rows(run.batch), most=budget.scheduled_rows, how=_how(spec)),
            at,
            option=option,
        )
    return run


def check_run(
    spec: NetworkSpec,
    *,
    engine: str = "trace",
    upto: int | None = None,
    exact: bool = False,
    limits: Budgets | None = None,
) -> Run:
    """Refuse a run the engine cannot do in budget; ``engine`` is ``trace`` (every value recorded, what
    trace, names, answers, check and explain run) or ``train``; ``upto``: only steps 1 to ``upto`` are run;
    ``exact``: on fractions (--exact)."""
    budget = limits_of(limits)
    run = check_schedule(spec, limits=budget)
    at, option = _where_steps(spec)
    how = _how(spec)
    steps = run.steps if upto is None else min(upto, run.steps)
    layer_steps = steps * run.layers
    most = budget.trace_layer_steps if engine == "trace" else budget.train_layer_steps
    trains = engine == "trace" and layer_steps <= budget.train_layer_steps
    hint = _("; `backprop train` runs it") if trains and run.products(upto) <= budget.train_products else ""
    verb = _("to trace") if engine == "trace" else _("to train")
    if layer_steps > most:
        raise refuse(
            spec,
            _(
                "{steps} through {layers} is too long a run {verb}; expected at most {most:,} steps × layers "
                "(here {here:,}); {how}{hint}"
            ).format(
                steps=_n_steps(steps),
                layers=_n_layers(run.layers),
                verb=verb,
                most=most,
                here=layer_steps,
                how=how,
                hint=hint,
            ),
            at,
            option=option,
        )
    products = run.products(upto)
    most = budget.trace_products if engine == "trace" else budget.train_products
    if exact:
        most, verb = budget.exact_products, _("to trace exactly (--exact)")
    if products > most:
        where, what = (at, option) if steps > 1 else (_where_batch(spec), None)
        raise refuse(
            spec,
            _(
                "{steps} of {rows} through {parameters} is too much arithmetic {verb}: {products:,} rows × "
                "parameters; expected at most {most:,}; {how}, or take smaller batches (training.batch_size){hint}"
            ).format(
                steps=_n_steps(steps),
                rows=_n_rows(run.batch),
                parameters=_n_parameters(run.parameters),
                verb=verb,
                products=products,
                most=most,
                how=how,
                hint=hint,
            ),
            where,
            option=what,
        )
    return run


# ---------------------------------------------------------------- rows laid out


@record
class Part:
    """One section of a step as render/rows.py lays it out: its phase, layer and row count."""

    phase: str
    layer: str | None
    per_sample: bool  # one such section per sample of the batch
    rows: int
    step: int = 0
    sample: int | None = None  # TraceFilter reads it: the per-sample count is applied apart


def optimizer_states(spec: NetworkSpec) -> int:
    """How many state entries the optimizer shows per parameter (m, v, m_hat … for Adam), from one
    step of a fresh optimizer on a one-entry tensor: the same entries every step."""
    import numpy as np

    from backprop_cli.nn.optim import make_optimizer

    one = np.zeros(1)
    return len(make_optimizer(spec.optimizer).step("budget", one, one).state)


def layer_counts(spec: NetworkSpec, combined: bool) -> list[Counts]:
    """Each layer's quantities per sample, by its op (``combined``: the loss's combined δ on the output)."""
    from backprop_cli.nn.layers import LAYER_TYPES

    last = len(spec.layers) - 1
    counts = [
        LAYER_TYPES[layer.kind].counts(layer, hidden=i < last, combined=combined and i == last, first=i == 0)
        for i, layer in enumerate(spec.layers)
    ]
    return [c.evaluating() for c in counts] if spec.training.mode == "eval" else counts


def step_parts(spec: NetworkSpec, several: bool, states: int) -> list[Part]:
    """The sections of one step, as render/rows.py's plans are (tests/test_budget.py checks them)."""
    from backprop_cli.nn.blocks import update_rows
    from backprop_cli.nn.ops import LOSSES

    layers, out = spec.layers, spec.layers[-1]
    outputs = out.units
    loss = LOSSES[spec.loss.name]
    combined = loss.combined is not None and loss.pairs_with == out.activation
    counts = layer_counts(spec, combined)
    parts = [Part("parameters", None, False, spec.parameter_count)]
    parts.append(Part("forward", None, True, len(spec.inputs) + outputs))
    parts += [Part("forward", layer.name, True, c.forward) for layer, c in zip(layers, counts, strict=True)]
    parts += [
        Part("forward", layer.name, False, c.batch_forward)
        for layer, c in zip(layers, counts, strict=True)
        if c.batch_forward
    ]
    parts.append(Part("loss", out.name, True, 2 * outputs + 1))
    if several:
        parts.append(Part("loss", out.name, False, 1))
    for index in range(len(layers) - 1, -1, -1):
        parts.append(Part("backward", layers[index].name, True, counts[index].backward))
        if counts[index].batch_backward:
            parts.append(Part("backward", layers[index].name, False, counts[index].batch_backward))
    tensors = [(layer, kind, int(t.size)) for layer in layers for kind, t in layer.tensors().items()]
    for layer, _kind, size in tensors:
        if several:
            parts.append(Part("reduction", layer.name, False, size))
    for layer, kind, size in tensors:
        parts.append(Part("update", layer.name, False, update_rows(size, 0 if kind in layer.frozen else states)))
    parts.append(Part("summary", None, False, 3))
    return parts


@record
class Layout:
    """Rows of the chosen sections: of the whole run (or its first ``upto`` steps) and of its largest step."""

    rows: int
    largest_step: int


def chosen_rows(spec: NetworkSpec, only: TraceFilter, *, upto: int | None = None) -> Layout:
    """Rows the trace lays out for the sections ``only`` chooses, over the steps 1 to ``upto``."""
    from backprop_cli.nn.engine import batches

    run = run_of(spec)
    states = optimizer_states(spec)
    last = run.steps if upto is None else min(upto, run.steps)
    steps: Iterable[int] = sorted(s for s in only.steps if s <= last) if only.steps else range(1, last + 1)
    by_size: dict[tuple[int, int], int] = {}
    schedule: Sequence[tuple[int, ...]] | None = None
    if only.samples:  # which rows a step's batch holds: the schedule (within its budget: check_run first)
        schedule = batches(spec.data.rows, spec.training)
    sizes = batch_sizes(spec, run, last) if schedule is None else [len(rows) for rows in schedule]
    total = largest = 0
    for step in steps:
        size = sizes[step - 1]
        kept = _kept(only, schedule[step - 1]) if schedule is not None else size
        key = (size, kept)
        if key not in by_size:
            by_size[key] = _rows(spec, only, step, size, kept, states)
        total += by_size[key]
        largest = max(largest, by_size[key])
    return Layout(total, largest)


def _kept(only: TraceFilter, samples: Sequence[int]) -> int:
    """Samples of a batch that --sample keeps (all of a batch of one: its sections carry no sample)."""
    if not only.samples or len(samples) == 1:
        return len(samples)
    return sum(row + 1 in only.samples for row in samples)


def _rows(spec: NetworkSpec, only: TraceFilter, step: int, size: int, kept: int, states: int) -> int:
    parts = step_parts(spec, size > 1, states)
    return sum(
        part.rows * (kept if part.per_sample else 1)
        for part in parts
        if only.wants(Part(part.phase, part.layer, part.per_sample, part.rows, step=step))
    )


def step_rows(spec: NetworkSpec, only: TraceFilter, step: int, samples: Sequence[int]) -> int:
    """Rows the trace lays out for step ``step`` of batch ``samples`` (0-based data rows), as ``only`` chooses."""
    return _rows(spec, only, step, len(samples), _kept(only, samples), optimizer_states(spec))


NARROW = N_("--step, --layer, --phase or --sample")


def check_layout(
    spec: NetworkSpec, only: TraceFilter, max_rows: int, *, document: bool = False, limits: Budgets | None = None
) -> Layout:
    """Refuse a table trace that would lay out more rows than the budget (``document``: Markdown, LaTeX or
    HTML; else rich's text or SVG), with no cap (``--max-rows 0``) or one above the budget. Returns the
    chosen rows, for the cap's notice."""
    budget = limits_of(limits)
    most = budget.document_rows if document else budget.rows
    layout = chosen_rows(spec, only)
    shown = layout.rows if max_rows == 0 else min(layout.rows, max_rows)
    if shown > most:
        if max_rows == 0:
            message = _(
                "no cap would lay out {shown:,} of the {rows:,} rows chosen; expected at most {most:,}; "
                "narrow them with {narrow}, or keep a smaller cap"
            )
        else:
            message = _(
                "a cap of {cap:,} rows would lay out {shown:,} of the {rows:,} rows chosen; expected at most "
                "{most:,}; narrow them with {narrow}, or keep a smaller cap"
            )
        raise refuse(
            spec,
            message.format(cap=max_rows, shown=shown, rows=layout.rows, most=most, narrow=_(NARROW)),
            option="--max-rows",
        )
    return layout


def json_numbers(spec: NetworkSpec, batch: int, states: int) -> int:
    """Numbers one step writes in the trace JSON (StepRecord.to_dict with its per-sample detail)."""
    parameters = spec.parameter_count
    per_sample = 3 + 3 * spec.layers[-1].units  # sample, row, loss; loss terms, targets, ∂L/∂a of the output
    counts = layer_counts(spec, combined=False)
    per_sample += sum(c.json for c in counts)
    buffers = sum(c.buffers for c in counts)  # batch norm's running statistics after the step
    tensors = sum(len(layer.tensors()) for layer in spec.layers)
    # optimizer_state and optimizer_values; hyper-parameters; a scalar per tensor (Adam's t)
    optimizer = 2 * parameters * states + 8 + tensors * (states > 0)
    return 3 + 2 * batch + 3 * parameters + buffers + optimizer + batch * per_sample  # rows 0- and 1-based


def check_json(
    spec: NetworkSpec, steps: frozenset[int] = frozenset(), *, quantities: bool = False, limits: Budgets | None = None
) -> int:
    """Refuse a trace JSON (of ``steps``, default all) of more numbers than the budget; returns the estimate.
    ``quantities`` (--quantities) adds an entry per quantity, counted as four numbers (its value, and
    its name, formula and factors as text)."""
    budget = limits_of(limits)
    run = run_of(spec)
    states = optimizer_states(spec)
    sizes = batch_sizes(spec, run)
    chosen = [sizes[s - 1] for s in sorted(steps) if s <= run.steps] if steps else sizes
    per_size = {size: json_numbers(spec, size, states) for size in set(chosen)}
    numbers = sum(per_size[size] for size in chosen)
    if quantities:
        from backprop_cli.model.filters import Filter

        layout = chosen_rows(spec, Filter(steps=steps))
        numbers += 4 * layout.rows
    if numbers > budget.numbers:
        narrow = _("choose steps with --step") if not steps else _("choose fewer steps (--step)")
        raise refuse(
            spec,
            _(
                "the JSON of {steps} would hold about {numbers:,} numbers; expected at most {most:,}; {narrow}, "
                "shorten the run (--steps), or lay the trace out as a table (--format text, markdown …) with {filters}"
            ).format(
                steps=_n_steps(len(chosen)), numbers=numbers, most=budget.numbers, narrow=narrow, filters=_(NARROW)
            ),
            option="--format",
        )
    return numbers


# ---------------------------------------------------------------- names and keys


def check_names(spec: NetworkSpec, only: TraceFilter, *, command: str = "names", limits: Budgets | None = None) -> int:
    """Refuse laying out more named values than the budget (names, answers, check, explain); returns the count.

    The engine runs to the last chosen step; the layout of the chosen sections is what is counted."""
    budget = limits_of(limits)
    upto = max(only.steps) if only.steps else None
    check_run(spec, upto=upto, limits=budget)
    count = chosen_rows(spec, only, upto=upto).rows
    if count > budget.names:
        if command == "check":
            narrow = _("grade fewer steps at a time")
        elif command == "explain":
            narrow = _("take smaller batches (training.batch_size)")
        else:
            narrow = _("narrow them with {filters} (--only filters after they are laid out)").format(filters=_(NARROW))
        raise refuse(
            spec,
            _("{command} would lay out {count:,} named values; expected at most {most:,}; {narrow}").format(
                command=command, count=count, most=budget.names, narrow=narrow
            ),
            option=None if command in ("check", "explain") else "--step",
            at=(),
        )
    return count


def check_key_text(text: str, *, limits: Budgets | None = None) -> None:
    """Refuse an answers file larger than ``check`` reads (the one limit both use), before it is written."""
    budget = limits_of(limits)
    size = len(text.encode("utf-8"))
    if size > budget.key_bytes:
        raise ConfigError(
            _(
                "the answers file would have {size:,} bytes, more than `backprop check` reads ({most}); choose "
                "fewer names with {narrow} or --only"
            ).format(size=size, most=size_text(budget.key_bytes), narrow=_(NARROW)),
            path="answers",
        )


# ---------------------------------------------------------------- the other commands


def check_train(
    spec: NetworkSpec,
    *,
    output_format: str,
    max_rows: int,
    listed: bool = True,
    save: bool = False,
    each_pass: bool = False,
    limits: Budgets | None = None,
) -> Run:
    """``backprop train``: the run (its own engine; ``each_pass``: with the loss on all data after every
    pass), then what the summary (``listed``: with the parameter table), its JSON and --save would hold."""
    budget = limits_of(limits)
    run = check_run(spec, engine="train", limits=budget)
    parameters = spec.parameter_count
    passes = -(-run.steps // run.batches_per_pass) if run.batches_per_pass else run.steps
    if each_pass and run.products() + passes * run.data_rows * parameters > budget.train_products:
        raise refuse(
            spec,
            _(
                "the loss on all {rows} after each of {passes:,} passes is too much arithmetic with the training: "
                "{here:,} rows × parameters; expected at most {most:,}; leave it out, or take fewer passes"
            ).format(
                rows=_n_rows(run.data_rows),
                passes=passes,
                here=run.products() + passes * run.data_rows * parameters,
                most=budget.train_products,
            ),
            option="--eval-each-pass",
        )
    if output_format == "json":
        numbers = train_json_numbers(spec, passes)
        if numbers > budget.numbers:
            raise refuse(
                spec,
                _(
                    "the training JSON would hold about {numbers:,} numbers (parameters before and after, and every "
                    "pass's history); expected at most {most:,}; take fewer epochs or steps, or --format text"
                ).format(numbers=numbers, most=budget.numbers),
                option="--format",
            )
    elif listed and parameters > budget.rows and (max_rows == 0 or max_rows > budget.rows):
        raise refuse(
            spec,
            _(
                "{cap} would list all {parameters:,} parameters; expected at most {most:,} rows; keep a smaller cap "
                "(past it each weight matrix and bias vector is one row), or --no-parameters"
            ).format(
                cap=_("no cap") if max_rows == 0 else _("a cap of {n:,} rows").format(n=max_rows),
                parameters=parameters,
                most=budget.rows,
            ),
            option="--max-rows",
        )
    if save:
        values = parameters + spec.data.rows * (len(spec.inputs) + spec.layers[-1].units) + 100
        if values > budget.config_values:
            raise refuse(
                spec,
                _(
                    "the trained config would hold about {values:,} values (its parameters, and the data rows "
                    "written inline); expected at most {most:,}, what a config file may hold"
                ).format(values=values, most=budget.config_values),
                option="--save",
            )
    return run


def train_json_numbers(spec: NetworkSpec, passes: int) -> int:
    """Numbers in train's JSON summary: the config and the parameters before and after, and per pass its
    losses, accuracy and per-layer diagnostics (render/train_summary.summary_dict)."""
    return 3 * spec.parameter_count + (passes + 1) * (5 + 3 * len(spec.layers)) + 100


def check_gradcheck(spec: NetworkSpec, *, limits: Budgets | None = None) -> None:
    """``backprop gradcheck``: two forward passes over the first batch for every parameter."""
    budget = limits_of(limits)
    run = check_run(spec, upto=1, limits=budget)
    parameters = spec.parameter_count
    products = 2 * parameters * run.batch * parameters
    if parameters > budget.gradcheck_parameters or products > budget.gradcheck_products:
        raise refuse(
            spec,
            _(
                "checking {parameters:,} parameters takes two forward passes of {rows} each ({products:,} rows × "
                "parameters); expected at most {most:,} parameters and {most_products:,} rows × parameters; check "
                "a smaller network, or fewer rows (--data)"
            ).format(
                parameters=parameters,
                rows=_n_rows(run.batch),
                products=products,
                most=budget.gradcheck_parameters,
                most_products=budget.gradcheck_products,
            ),
            ("network",),
        )


def drawing_size(spec: NetworkSpec, *, exact: bool, by: str = "neuron") -> int:
    """Nodes and edges of a network's drawing (``graph``), or nodes of its exact first step (``--exact``)."""
    units = sum(layer.units for layer in spec.layers)
    if exact:
        batch = min(spec.training.batch_size or spec.data.rows, spec.data.rows)
        per_sample = sum(layer.units * (layer.fan_in + 2) for layer in spec.layers) + 3 * spec.layers[-1].units + 1
        return spec.parameter_count + batch * per_sample + 2
    if by == "layer":
        return 2 * len(spec.layers) + 3
    return len(spec.inputs) + units + 1 + spec.parameter_count + spec.layers[-1].units


def check_drawing(spec: NetworkSpec, *, exact: bool, by: str = "neuron", limits: Budgets | None = None) -> None:
    """``graph`` and ``trace --exact``: a drawing (or exact graph) of at most ``drawing`` nodes and edges."""
    budget = limits_of(limits)
    check_run(spec, upto=1, limits=budget)
    size = drawing_size(spec, exact=exact, by=by)
    if size > budget.drawing:
        if exact:
            how = _("take a smaller batch (training.batch_size) or drop --exact")
        elif by == "layer":
            how = _("draw a smaller network")
        else:
            how = _("draw one node per layer (--nodes layer)")
        template = (
            _("the exact graph of step 1 would have {size:,} nodes and edges; expected at most {most:,}; {how}")
            if exact
            else _("the drawing would have {size:,} nodes and edges; expected at most {most:,}; {how}")
        )
        raise refuse(
            spec,
            template.format(size=size, most=budget.drawing, how=how),
            ("network",),
        )
