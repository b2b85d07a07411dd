"""Lay a step record out as sections of rows: name, formula, written out, value.

This is the layout every format shares: one row per number, with its formula in names and the same
formula with the numbers substituted, so each value can be recomputed by hand from values shown
before it. Nothing is computed here; records are read and numbers go through one NumberFormat.
Formulas use names without step/sample qualifiers; the section title says which step and sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, islice

from backprop_cli.ops import ACTIVATIONS, loss_op
from backprop_cli.optim import STATE_MEANINGS, SYMBOLS
from backprop_cli.render.numbers import NumberFormat
from backprop_cli.trace import (
    LayerBackward,
    LayerForward,
    ParamUpdate,
    StepRecord,
    grad_name,
    neuron_name,
    param_grad_name,
    param_name,
    qualify,
)

PHASES = ("parameters", "forward", "loss", "backward", "reduction", "update", "summary")


@dataclass(frozen=True)
class Row:
    name: str  # the stable, fully qualified name
    formula: str  # in short names
    written: str  # the formula with numbers
    value: str  # formatted value


@dataclass(frozen=True)
class Section:
    step: int
    phase: str  # one of PHASES
    title: str
    layer: str | None
    sample: int | None  # 0-based data row, for per-sample sections of a multi-sample batch
    rows: tuple[Row, ...]
    note: str = ""


def _shown(f: NumberFormat, value: float) -> float:
    """The value as the trace shows it (rounded to the display precision)."""
    try:
        return float(f(value))
    except ValueError:  # not a plain decimal (an exact fraction): the value itself
        return float(value)


def _sum(parts: Sequence[str]) -> str:
    return " + ".join(parts) if parts else "0"


def _indices(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    if len(shape) == 1:
        yield from ((j,) for j in range(shape[0]))
    else:
        yield from ((j, i) for j in range(shape[0]) for i in range(shape[1]))


@dataclass(frozen=True)
class Planned:
    """A section before it is laid out: where it goes and how many rows it has, so that a filter or a row
    cap passes it by without building a row of it (``build``; with ``limit``, only its first rows)."""

    step: int
    phase: str
    layer: str | None
    sample: int | None  # as Section.sample
    rows: int
    make: Callable[[int | None], Section]

    def build(self, limit: int | None = None) -> Section:
        return self.make(limit)


def backward_rows(units: int, fan_in: int, *, hidden: bool, softmax: bool, combined: bool, bias: bool) -> int:
    """Rows of a layer's backward section: ∂L/∂a (a hidden layer), ∂a/∂z (softmax: the whole Jacobian),
    δ (after the textbook chain when δ has a combined form), ∂L/∂w and ∂L/∂b."""
    local = units * units if softmax else units
    return units * hidden + local + units * (1 + combined) + units * fan_in + units * bias


def update_rows(size: int, states: int) -> int:
    """Rows of a tensor's update section: each optimizer state entry, then the new value, per entry."""
    return size * (states + 1)


def step_plan(rec: StepRecord, fmt: NumberFormat) -> Iterator[Planned]:
    """Every section of one step, in reading order, planned (nothing laid out until ``build``)."""
    return _StepLayout(rec, fmt).plans()


def capped(plans: Iterable[Planned], max_rows: int, shown: int) -> Iterator[tuple[Planned, Section | None]]:
    """Each planned section laid out, until the cap (0: none) after ``shown`` rows: then (planned, None).

    Sections are kept whole; only a first section longer than the whole cap is cut at it."""
    for planned in plans:
        if max_rows and shown + planned.rows > max_rows:
            if shown == 0:
                yield planned, planned.build(max_rows)
            yield planned, None
            return
        shown += planned.rows
        yield planned, planned.build()


def rows_of_step(
    rec: StepRecord,
    fmt: NumberFormat,
    wants: Callable[[Planned], bool],
    count: Callable[[StepRecord], int] | None = None,
) -> int:
    """The rows of a step's sections that ``wants`` chooses: by ``count`` (arithmetic, for a big batch),
    else summed over its plans."""
    if count is not None:
        return count(rec)
    return sum(planned.rows for planned in step_plan(rec, fmt) if wants(planned))


def step_sections(rec: StepRecord, fmt: NumberFormat) -> Iterator[Section]:
    """Every section of one step, in reading order."""
    return (planned.build() for planned in step_plan(rec, fmt))


class _StepLayout:
    def __init__(self, rec: StepRecord, fmt: NumberFormat) -> None:
        self.rec = rec
        self.f = fmt
        self.several = len(rec.samples) > 1

    def q(self, base: str, p: int | None = None) -> str:
        """Qualify a name with this step and (for position p of a multi-sample batch) its sample."""
        return qualify(base, step=self.rec.step_q, sample=None if p is None else self.rec.sample_q(p))

    def sample(self, p: int | None) -> int | None:
        return self.rec.samples[p] if p is not None and self.several else None

    def section(
        self,
        phase: str,
        title: str,
        rows: Iterable[Row],
        limit: int | None,
        *,
        layer: str | None = None,
        p: int | None = None,
        note: str = "",
    ) -> Section:
        sample = self.sample(p)
        if sample is not None:
            title += f" · sample {sample + 1}"
        return Section(self.rec.step, phase, title, layer, sample, tuple(islice(rows, limit)), note)

    def plan(
        self, phase: str, layer: str | None, p: int | None, rows: int, make: Callable[[int | None], Section]
    ) -> Planned:
        return Planned(self.rec.step, phase, layer, self.sample(p), rows, make)

    def plans(self) -> Iterator[Planned]:
        rec = self.rec
        positions = range(len(rec.samples))
        out = rec.loss.output_layer
        targets = rec.loss.target.shape[1]
        yield self.plan("parameters", None, None, sum(u.old.size for u in rec.updates), self.parameters)
        for p in positions:
            yield self.plan("forward", None, p, len(rec.forward[0].input_names) + targets, partial(self.inputs, p))
            for fwd in rec.forward:
                yield self.plan("forward", fwd.layer, p, 2 * fwd.z.shape[1], partial(self.forward, fwd, p))
        for p in positions:
            yield self.plan("loss", out, p, 2 * targets + 1, partial(self.loss, p))
        if self.several:
            yield self.plan("loss", out, None, 1, self.batch_loss)
        for p in positions:
            for index, back in enumerate(rec.backward):
                units, fan_in = back.weights.shape
                count = backward_rows(
                    units,
                    fan_in,
                    hidden=index > 0,
                    softmax=back.jacobian is not None,
                    combined=bool(back.combined),
                    bias=back.grad_b is not None,
                )
                above = rec.backward[index - 1] if index else None
                yield self.plan("backward", back.layer, p, count, partial(self.backward, back, above, p))
        if self.several:
            for u in rec.updates:
                yield self.plan("reduction", u.layer, None, u.old.size, partial(self.reduction, u))
        for u in rec.updates:
            count = update_rows(u.old.size, len(u.state))
            yield self.plan("update", u.layer, None, count, partial(self.update, u))
        yield self.plan("summary", None, None, 3, self.summary)

    # ------------------------------------------------------------ phases

    def parameters(self, limit: int | None = None) -> Section:
        rows = (
            Row(self.q(param_name(u.layer, u.kind, index)), "frozen" if u.frozen else "", "", self.f(u.old[index]))
            for u in self.rec.updates
            for index in _indices(u.old.shape)
        )
        return self.section("parameters", "Parameters before the update", rows, limit)

    def inputs(self, p: int, limit: int | None = None) -> Section:
        f, first = self.f, self.rec.forward[0]
        row = f"data row {self.rec.samples[p] + 1}"
        given = (Row(self.q(n, p), row, "", f(v)) for n, v in zip(first.input_names, first.inputs[p], strict=True))
        targets = (
            Row(self.q(f"y{k + 1}", p), f"target, {row}", "", f(v)) for k, v in enumerate(self.rec.loss.target[p])
        )
        return self.section("forward", "Inputs and targets", chain(given, targets), limit, p=p)

    def forward(self, fwd: LayerForward, p: int, limit: int | None = None) -> Section:
        f, layer = self.f, fwd.layer
        act = ACTIVATIONS[fwd.activation]
        units = fwd.z.shape[1]
        slope = f.operand(fwd.negative_slope)

        def rows() -> Iterator[Row]:
            for j in range(units):
                symbols = [
                    f"{weight}·{n}"
                    for weight, n in ((param_name(layer, "weights", (j, i)), n) for i, n in enumerate(fwd.input_names))
                ]
                numbers = [
                    f"{f.operand(fwd.weights[j, i])}·{f.operand(fwd.inputs[p, i])}" for i in range(fwd.weights.shape[1])
                ]
                if fwd.biases is not None:
                    symbols.append(param_name(layer, "biases", (j,)))
                    numbers.append(f.operand(fwd.biases[j]))
                yield Row(self.q(neuron_name(layer, "z", j), p), _sum(symbols), _sum(numbers), f(fwd.z[p, j]))
            for j in range(units):
                zname = neuron_name(layer, "z", j)
                if fwd.activation == "softmax":
                    every_z = [f"e^{neuron_name(layer, 'z', k)}" for k in range(units)]
                    formula = f"e^{zname} / ({_sum(every_z)})"
                    written = f"e^{f.operand(fwd.z[p, j])} / ({_sum([f'e^{f.operand(v)}' for v in fwd.z[p]])})"
                else:
                    formula = act.template.format(z=zname, s=slope)
                    written = act.template.format(z=f.operand(fwd.z[p, j]), s=slope)
                yield Row(self.q(neuron_name(layer, "a", j), p), formula, written, f(fwd.a[p, j]))

        note = f"z = W·a_prev + b; a = {act.template.format(z='z', s=slope)}"
        title = f"Forward · layer {layer} ({fwd.activation})"
        return self.section("forward", title, rows(), limit, layer=layer, p=p, note=note)

    def loss(self, p: int, limit: int | None = None) -> Section:
        f, loss = self.f, self.rec.loss
        op = loss_op(loss.name, loss.reduction)
        out, count = loss.output_layer, loss.prediction.shape[1]
        rows: list[Row] = []

        z = self.rec.forward[-1].z[p]
        every_z_named = _sum([f"e^{neuron_name(out, 'z', j)}" for j in range(len(z))])
        every_z_written = _sum([f"e^{f.operand(v)}" for v in z])

        # the fields every template takes ({a}, {y}, {K}; the logit forms {z} and {sum_exp} too)
        def names(k: int) -> dict[str, str]:
            a, zk = neuron_name(out, "a", k), neuron_name(out, "z", k)
            return {"a": a, "y": f"y{k + 1}", "K": str(count), "z": zk, "sum_exp": every_z_named}

        def numbers(k: int) -> dict[str, str]:
            a, y = f.operand(loss.prediction[p, k]), f.operand(loss.target[p, k])
            return {"a": a, "y": y, "K": str(count), "z": f.operand(z[k]), "sum_exp": every_z_written}

        def row(name: str, template: str, value: float, k: int) -> Row:
            return Row(self.q(name, p), template.format(**names(k)), template.format(**numbers(k)), f(value))

        # where the a shown makes the textbook form take log 0 or divide by zero, write it from z instead
        shown = [_shown(f, a) for a in loss.prediction[p]]
        from_logits = [k for k in range(count) if op.log_zero and op.log_zero(shown[k], loss.target[p, k])]
        grad_from_logits = [k for k in range(count) if op.grad_zero and op.grad_zero(shown[k])]
        for k in range(count):
            template = op.logit_template if k in from_logits else op.term_template
            rows.append(row(f"loss.term{k + 1}", template, loss.terms[p, k], k))
        rows.append(
            Row(
                self.q("loss", p),
                _sum([f"loss.term{k + 1}" for k in range(count)]),
                _sum([f.operand(v) for v in loss.terms[p]]),
                f(loss.per_sample[p]),
            )
        )
        for k in range(count):
            template = op.grad_logit_template if k in grad_from_logits else op.grad_template
            rows.append(row(neuron_name(out, "dL_da", k), template, loss.dL_da[p, k], k))
        note = op.formula
        for k in from_logits:
            note += (
                f"; loss.term{k + 1} comes from the logit {neuron_name(out, 'z', k)}, as the engine computes it: "
                f"{neuron_name(out, 'a', k)} shows as {f(loss.prediction[p, k])} (saturated), "
                "where the textbook form takes log 0"
            )
        for k in grad_from_logits:
            note += f"; {neuron_name(out, 'dL_da', k)} is written from z too (1/a = 1 + e^(−z), 1/(1 − a) = 1 + e^z)"
        broken = [neuron_name(out, "dL_da", k) for k in range(count) if not math.isfinite(loss.dL_da[p, k])]
        if broken:
            verb = "is" if len(broken) == 1 else "are"
            note += (
                f"; {', '.join(broken)} {verb} not finite in float64 (a saturated) and not used: "
                "δ comes from the stable form"
            )
        return self.section("loss", f"Loss ({loss.name})", rows, limit, layer=out, p=p, note=note)

    def batch_loss(self, limit: int | None = None) -> Section:
        f, loss = self.f, self.rec.loss
        names = [qualify("loss", sample=s) for s in self.rec.samples]
        values = [f.operand(v) for v in loss.per_sample]
        n = len(values)
        mean = loss.reduction == "mean"
        formula = f"({_sum(names)}) / {n}" if mean else _sum(names)
        written = f"({_sum(values)}) / {n}" if mean else _sum(values)
        return self.section(
            "loss",
            f"Batch loss ({loss.reduction} over {n} samples)",
            [Row(self.q("loss"), formula, written, f(loss.value))],
            limit,
            layer=loss.output_layer,
        )

    def backward(self, back: LayerBackward, above: LayerBackward | None, p: int, limit: int | None = None) -> Section:
        f, layer = self.f, back.layer
        act = ACTIVATIONS[back.activation]
        units = back.delta.shape[1]
        slope = f.operand(back.negative_slope)

        def rows() -> Iterator[Row]:
            if above is not None:  # a hidden layer: ∂L/∂a_j = Σ_k δ_k·w_kj of the layer above
                terms = range(above.delta.shape[1])
                for j in range(units):
                    symbols = [
                        f"{neuron_name(above.layer, 'delta', k)}·{param_name(above.layer, 'weights', (k, j))}"
                        for k in terms
                    ]
                    numbers = [f"{f.operand(above.delta[p, k])}·{f.operand(above.weights[k, j])}" for k in terms]
                    yield Row(
                        self.q(neuron_name(layer, "dL_da", j), p),
                        _sum(symbols),
                        _sum(numbers),
                        f(back.upstream[p, j]),
                    )
            chains: list[tuple[str, str]] = []  # the textbook product upstream × local, per neuron
            if back.jacobian is not None:  # softmax: every output depends on every z
                for k in range(units):
                    for j in range(units):
                        ak, aj = neuron_name(layer, "a", k), neuron_name(layer, "a", j)
                        nk, nj = f.operand(back.a[p, k]), f.operand(back.a[p, j])
                        formula, written = (
                            (f"{ak}·(1 − {aj})", f"{nk}·(1 − {nj})") if k == j else (f"−{ak}·{aj}", f"−{nk}·{nj}")
                        )
                        yield Row(
                            self.q(f"{layer}.da{k + 1}_dz{j + 1}", p), formula, written, f(back.jacobian[p, k, j])
                        )
                for j in range(units):
                    symbols = [f"{neuron_name(layer, 'dL_da', k)}·{layer}.da{k + 1}_dz{j + 1}" for k in range(units)]
                    numbers = [
                        f"{f.operand(back.upstream[p, k])}·{f.operand(back.jacobian[p, k, j])}" for k in range(units)
                    ]
                    chains.append((_sum(symbols), _sum(numbers)))
            else:
                for j in range(units):
                    zj, aj = neuron_name(layer, "z", j), neuron_name(layer, "a", j)
                    yield Row(
                        self.q(neuron_name(layer, "da_dz", j), p),
                        act.derivative_template.format(z=zj, a=aj, s=slope),
                        act.derivative_template.format(z=f.operand(back.z[p, j]), a=f.operand(back.a[p, j]), s=slope),
                        f(back.local[p, j]),
                    )
                for j in range(units):
                    chains.append(
                        (
                            f"{neuron_name(layer, 'dL_da', j)} × {neuron_name(layer, 'da_dz', j)}",
                            f"{f.operand(back.upstream[p, j])} × {f.operand(back.local[p, j])}",
                        )
                    )
            target = self.rec.loss.target
            for j, (chain_formula, chain_written) in enumerate(chains):
                if not back.combined:  # δ is the chain product itself
                    yield Row(
                        self.q(neuron_name(layer, "delta", j), p), chain_formula, chain_written, f(back.delta[p, j])
                    )
                    continue
                # the textbook chain, then the stable combined form the engine used for δ
                yield Row(self.q(neuron_name(layer, "chain", j), p), chain_formula, chain_written, f(back.chain[p, j]))
                sum_y = float(target[p].sum())
                formula = back.combined.format(a=neuron_name(layer, "a", j), y=f"y{j + 1}", K=units, sum_y="Σy")
                written = back.combined.format(
                    a=f.operand(back.a[p, j]), y=f.operand(target[p, j]), K=units, sum_y=f.operand(sum_y)
                )
                yield Row(self.q(neuron_name(layer, "delta", j), p), formula, written, f(back.delta[p, j]))
            for j in range(units):
                delta = neuron_name(layer, "delta", j)
                for i, n in enumerate(back.input_names):
                    yield Row(
                        self.q(grad_name(layer, j, i), p),
                        f"{delta} × {n}",
                        f"{f.operand(back.delta[p, j])} × {f.operand(back.inputs[p, i])}",
                        f(back.grad_w[p, j, i]),
                    )
                if back.grad_b is not None:
                    yield Row(self.q(grad_name(layer, j), p), delta, f(back.delta[p, j]), f(back.grad_b[p, j]))

        note = f"δ = ∂L/∂z = ∂L/∂a × ∂a/∂z with ∂a/∂z = {act.derivative_template.format(z='z', a='a', s=slope)}"
        if back.activation == "softmax":
            note = "δ_j = Σ_k ∂L/∂a_k × ∂a_k/∂z_j with ∂a_k/∂z_j = a_k(1 − a_j) if k = j, else −a_k·a_j"
        if back.combined:
            stable = back.combined.format(a="a", y="y", K="K", sum_y="Σy")
            undefined = [j for j in range(units) if not math.isfinite(back.chain[p, j])]
            if undefined:
                chains_named = ", ".join(neuron_name(layer, "chain", j) for j in undefined)
                verb = "is" if len(undefined) == 1 else "are"
                note += (
                    f"; δ uses the stable combined form {stable}, the limit of the chain: {chains_named} "
                    f"{verb} undefined here (a saturated, so ∂L/∂a divides by zero)"
                )
            else:
                note += f"; δ uses the stable combined form {stable}, equal to the chain shown beside it"
        title = f"Backward · layer {layer} ({back.activation})"
        return self.section("backward", title, rows(), limit, layer=layer, p=p, note=note)

    def reduction(self, u: ParamUpdate, limit: int | None = None) -> Section:
        f, n = self.f, len(self.rec.samples)
        mean = self.rec.loss.reduction == "mean"

        def rows() -> Iterator[Row]:
            for index in _indices(u.old.shape):
                base = param_grad_name(u.layer, u.kind, index)
                names = [qualify(base, sample=s) for s in self.rec.samples]
                values = [f.operand(u.per_sample[(p, *index)]) for p in range(n)]
                formula = f"({_sum(names)}) / {n}" if mean else _sum(names)
                written = f"({_sum(values)}) / {n}" if mean else _sum(values)
                yield Row(self.q(base), formula, written, f(u.grad[index]))

        title = f"Batch reduction · layer {u.layer} {u.kind} ({self.rec.loss.reduction} over {n} samples)"
        return self.section("reduction", title, rows(), limit, layer=u.layer)

    def update(self, u: ParamUpdate, limit: int | None = None) -> Section:
        """Each optimizer state entry (formula in names, then in numbers), then the new value."""
        f, rec = self.f, self.rec
        symbols = {k: SYMBOLS.get(k, k) for k in (*rec.hyper, *u.scalars)}
        numbers = {k: f.operand(v) for k, v in (*rec.hyper.items(), *u.scalars.items())}

        def rows() -> Iterator[Row]:
            for index in _indices(u.old.shape):
                pname = param_name(u.layer, u.kind, index)
                names = {
                    "old": pname,
                    "grad": param_grad_name(u.layer, u.kind, index),
                    **symbols,
                    **{p: self._previous(f"{pname}.{p.removesuffix('_prev')}") for p in u.prior},
                    **{s: f"{pname}.{s}" for s in u.state},
                }
                values = {
                    "old": f.operand(u.old[index]),
                    "grad": f.operand(u.grad[index]),
                    **numbers,
                    **{p: f.operand(arr[index]) for p, arr in u.prior.items()},
                    **{s: f.operand(arr[index]) for s, arr in u.state.items()},
                }
                for s, arr in u.state.items():
                    template = u.formulas.get(s)
                    formula, written = (template.format(**names), template.format(**values)) if template else (s, "")
                    yield Row(self.q(names[s]), formula, written, f(arr[index]))
                if u.frozen:
                    formula, written = f"{pname} (frozen)", f(u.old[index])
                else:
                    formula, written = u.formula.format(**names), u.formula.format(**values)
                yield Row(self.q(pname + ".new"), formula, written, f(u.new[index]))

        hyper = [f"{SYMBOLS.get(k, k)} = {f(v)}" for k, v in (*rec.hyper.items(), *u.scalars.items())]
        hyper_text = ", ".join([*hyper, *rec.flags])
        title = f"Update · layer {u.layer} {u.kind} ({rec.optimizer}, {hyper_text})"
        note = "; ".join(f"{s}: {STATE_MEANINGS[s]}" for s in u.state if s in STATE_MEANINGS)
        frozen = " · frozen, not updated" if u.frozen else ""
        return self.section("update", title + frozen, rows(), limit, layer=u.layer, note=note)

    def _previous(self, base: str) -> str:
        """The name of a state value carried in from the step before this one."""
        if self.rec.multi_step and self.rec.step > 1:
            return qualify(base, step=self.rec.step - 1)
        return f"{base} (previous step)"

    def summary(self, limit: int | None = None) -> Section:
        f, rec = self.f, self.rec
        rows = [
            Row(self.q("loss"), "before the update", "", f(rec.loss.value)),
            Row(self.q("loss.after"), "the same batch after the update", "", f(rec.loss_after)),
            Row(
                self.q("loss.change"),
                "loss.after − loss",
                f"{f.operand(rec.loss_after)} − {f.operand(rec.loss.value)}",
                f(rec.loss_after - rec.loss.value),
            ),
        ]
        return self.section("summary", "Summary", rows, limit)
