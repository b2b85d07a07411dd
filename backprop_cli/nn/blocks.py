"""A network step's quantities, in blocks in reading order: what every layout and consumer reads.

Each block is one table of the trace (the parameters, one layer's forward pass for one sample, the
loss, …); each of its quantities carries its formula as a template over its factors' names, the
factors' values, and the rule that computes it (see :mod:`backprop_cli.model.quantity`).
Formulas use names relative to the quantity's own place; the block title says which step and sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop_cli.model.i18n import N_, _, ngettext
from backprop_cli.model.names import neuron_name, param_grad_name, param_name, qualify
from backprop_cli.model.quantity import Block, Built, Const, Form, Numbers, Quantity, Scalar, Slot, scalar
from backprop_cli.nn.layers.base import LayerOp, fill, forward_through, has_batch_blocks
from backprop_cli.nn.layers.dense import same, total
from backprop_cli.nn.ops import NamedRule, loss_op
from backprop_cli.nn.optim import STATE_MEANINGS, SYMBOLS
from backprop_cli.nn.records import LayerBackward, LayerForward, ParamUpdate, StepRecord

if TYPE_CHECKING:  # --round-as-you-go's chain: imported by the command that asks for it
    from backprop_cli.model.rounding import RoundedChain


def sample_suffix(sample: int) -> str:
    """What a per-sample block's title ends with: `` · sample N`` for 0-based ``sample``, in the reader's language."""
    return _(" · sample {n}").format(n=sample + 1)


def update_rows(size: int, states: int) -> int:
    """Quantities of a tensor's update block: each optimizer state entry, then the new value, per entry."""
    return size * (states + 1)


def _sum_template(count: int) -> str:
    return " + ".join(f"{{{i}}}" for i in range(count)) if count else "0"


def _mean(values: Sequence[Scalar]) -> Scalar:
    return total(values) / len(values)


def _difference(values: Sequence[Scalar]) -> Scalar:
    return values[0] - values[1]


def step_blocks(rec: StepRecord, numbers: Numbers) -> Iterator[Block]:
    """Every block of one step, in reading order (``numbers`` decides which of two equal forms reads
    better where a value shows saturated, and writes the notes). A record with a rounding chain
    (``Engine(rounding=…)``) has its blocks made at once, in order, every quantity rounded as it goes."""
    blocks = _StepBlocks(rec, numbers).blocks()
    return blocks if rec.rounding is None else _rounded(blocks, rec.rounding)


def _rounded(blocks: Iterator[Block], chain: RoundedChain) -> Iterator[Block]:
    """The blocks, each made (in order: every factor is rounded before what it feeds) and rounded."""
    for block in blocks:
        built = block.build()
        done = Built(built.title, tuple(chain.round(q) for q in built.quantities), built.note)
        yield Block(block.step, block.phase, block.layer, block.sample, block.count, partial(_made, done))


def _made(built: Built) -> Built:
    return built


#: the parameter kinds an update block's title names, for the catalogues (others are shown as they are)
PARAMETER_KINDS = (N_("weights"), N_("biases"))


class _StepBlocks:
    def __init__(self, rec: StepRecord, numbers: Numbers) -> None:
        self.rec = rec
        self.f = numbers
        self.numbers = numbers
        self.targets = rec.loss.target
        self.ops: Sequence[LayerOp] = rec.layers
        self.several = len(rec.samples) > 1

    def q(self, base: str, p: int | None = None) -> str:
        """Qualify a name with this step and (for position p of a multi-sample batch) its sample."""
        return qualify(base, step=self.rec.step_q, sample=None if p is None else self.rec.sample_q(p))

    def quantity(
        self,
        name: str,
        value: Scalar,
        phase: str,
        layer: str | None,
        p: int | None,
        form: Form,
        args: Sequence[Scalar] = (),
        *,
        kind: str = "computed",
        origin: str | None = None,
    ) -> Quantity:
        sample = self.rec.samples[p] if p is not None and self.several else None
        return Quantity(
            name, value, phase, self.rec.step, layer, sample, form, tuple(args), self.rec.multi_step, origin, kind
        )

    def block(
        self,
        phase: str,
        title: str,
        quantities: list[Quantity],
        *,
        layer: str | None = None,
        p: int | None = None,
        note: str = "",
    ) -> Built:
        sample = self.rec.samples[p] if p is not None and self.several else None
        if sample is not None:
            title += sample_suffix(sample)
        return Built(title, tuple(quantities), note)

    def plan(self, phase: str, layer: str | None, p: int | None, count: int, make: Callable[[], Built]) -> Block:
        sample = self.rec.samples[p] if p is not None and self.several else None
        return Block(self.rec.step, phase, layer, sample, count, make)

    def blocks(self) -> Iterator[Block]:
        """Every block planned, in reading order: counted now, made only when built."""
        rec = self.rec
        positions = range(len(rec.samples))
        targets = rec.loss.target.shape[1]
        out = rec.loss.output_layer
        yield self.plan("parameters", None, None, sum(u.old.size for u in rec.updates), self.parameters)
        coupled = any(has_batch_blocks(op.blocks()) for op in self.ops)
        if coupled:  # layer by layer: a batch statistic comes after the samples it is of, before its use
            yield from self._layer_major(positions, targets)
        else:
            for p in positions:
                inputs = len(rec.forward[0].input_names) + targets
                yield self.plan("forward", None, p, inputs, partial(self.inputs, p))
                for index, fwd in enumerate(rec.forward):
                    count = self.ops[index].blocks().forward_count(fwd)
                    yield self.plan("forward", fwd.layer, p, count, partial(self.forward, index, fwd, p))
        for p in positions:
            yield self.plan("loss", out, p, 2 * targets + 1, partial(self.loss, p))
        if self.several:
            yield self.plan("loss", out, None, 1, self.batch_loss)
        if coupled:
            yield from self._layer_major_backward(positions)
        else:
            for p in positions:
                for position, back in enumerate(rec.backward):
                    index = len(rec.backward) - 1 - position
                    count = self.ops[index].blocks().backward_count(back, hidden=position > 0)
                    yield self.plan("backward", back.layer, p, count, partial(self.backward, position, back, p))
        if self.several:
            for u in rec.updates:
                yield self.plan("reduction", u.layer, None, u.old.size, partial(self.reduction, u))
        for u in rec.updates:
            yield self.plan("update", u.layer, None, update_rows(u.old.size, len(u.state)), partial(self.update, u))
        yield self.plan("summary", None, None, 3, self.summary)

    def _layer_major(self, positions: range, targets: int) -> Iterator[Block]:
        rec = self.rec
        for p in positions:
            inputs = len(rec.forward[0].input_names) + targets
            yield self.plan("forward", None, p, inputs, partial(self.inputs, p))
        for index, fwd in enumerate(rec.forward):
            blocks = self.ops[index].blocks()
            for p in positions:
                yield self.plan(
                    "forward", fwd.layer, p, blocks.forward_count(fwd), partial(self.forward, index, fwd, p)
                )
            if has_batch_blocks(blocks):
                count = blocks.batch_forward_count(fwd)
                yield self.plan("forward", fwd.layer, None, count, partial(self.batch_forward, index, fwd))

    def _layer_major_backward(self, positions: range) -> Iterator[Block]:
        rec = self.rec
        for position, back in enumerate(rec.backward):
            index = len(rec.backward) - 1 - position
            blocks = self.ops[index].blocks()
            for p in positions:
                count = blocks.backward_count(back, hidden=position > 0)
                yield self.plan("backward", back.layer, p, count, partial(self.backward, position, back, p))
            if has_batch_blocks(blocks) and (count := blocks.batch_backward_count(back)):
                # (none in mode: eval, where batch norm's statistics are constants)
                yield self.plan("backward", back.layer, None, count, partial(self.batch_backward, index, back))

    def batch_forward(self, index: int, fwd: LayerForward) -> Built:
        blocks = self.ops[index].blocks()
        assert has_batch_blocks(blocks)
        title, quantities, note = blocks.batch_forward(fwd, self)
        return self.block("forward", title, quantities, layer=fwd.layer, note=note)

    def batch_backward(self, index: int, back: LayerBackward) -> Built:
        blocks = self.ops[index].blocks()
        assert has_batch_blocks(blocks)
        title, quantities, note = blocks.batch_backward(back, self)
        return self.block("backward", title, quantities, layer=back.layer, note=note)

    # ------------------------------------------------------------ phases

    def parameters(self) -> Built:
        rec = self.rec
        out = []
        for u in rec.updates:
            for index in _indices(u.old.shape):
                pname = param_name(u.layer, u.kind, index)
                origin = qualify(f"{pname}.new", step=rec.step - 1) if rec.multi_step and rec.step > 1 else None
                form = Form(_("frozen") if u.frozen else "")
                out.append(
                    self.quantity(
                        self.q(pname),
                        scalar(u.old[index]),
                        "parameters",
                        u.layer,
                        None,
                        form,
                        kind="given",
                        origin=origin,
                    )
                )
        return self.block("parameters", _("Parameters before the update"), out)

    def inputs(self, p: int) -> Built:
        first = self.rec.forward[0]
        row = _("data row {row}").format(row=self.rec.samples[p] + 1)
        out = [
            self.quantity(self.q(n, p), scalar(v), "forward", None, p, Form(row), kind="given")
            for n, v in zip(first.input_names, first.inputs[p], strict=True)
        ]
        out += [
            self.quantity(
                self.q(f"y{k + 1}", p),
                scalar(v),
                "forward",
                None,
                p,
                Form(_("target, {row}").format(row=row)),
                kind="given",
            )
            for k, v in enumerate(self.rec.loss.target[p])
        ]
        # the block belongs to no layer: the trace's --layer filter keeps it with every layer
        return self.block("forward", _("Inputs and targets"), out, p=p)

    def forward(self, index: int, fwd: LayerForward, p: int) -> Built:
        title, quantities, note = self.ops[index].blocks().forward(fwd, p, self)
        return self.block("forward", title, quantities, layer=fwd.layer, p=p, note=note)

    def loss(self, p: int) -> Built:
        f, loss = self.f, self.rec.loss
        op = loss_op(loss.name, loss.reduction)
        out, count = loss.output_layer, loss.prediction.shape[1]
        z = self.rec.forward[-1].z[p]
        quantities: list[Quantity] = []
        every_z = [self.q(neuron_name(out, "z", j), p) for j in range(len(z))]

        def form_of(template: str, k: int, rule: NamedRule | None) -> tuple[Form, list[Scalar]]:
            fields: dict[str, Slot] = {
                "a": self.q(neuron_name(out, "a", k), p),
                "y": self.q(f"y{k + 1}", p),
                "z": self.q(neuron_name(out, "z", k), p),
                **{f"z_{j}": s for j, s in enumerate(every_z)},  # Σ_j e^z_j: one slot per logit
            }
            values: dict[str, Scalar] = {
                "a": scalar(loss.prediction[p, k]),
                "y": scalar(loss.target[p, k]),
                "z": scalar(z[k]),
                "K": count,
                **{f"z_{j}": scalar(v) for j, v in enumerate(z)},
            }
            sum_exp = " + ".join(f"e^{{z_{j}}}" for j in range(len(z))) if len(z) else "0"
            return fill(template.replace("{sum_exp}", sum_exp), fields, values, rule, {"K": str(count)})

        # where the a shown makes the textbook form take log 0 or divide by zero, write it from z instead
        shown = [_shown(f, a) for a in loss.prediction[p]]
        from_logits = [k for k in range(count) if op.log_zero and op.log_zero(shown[k], loss.target[p, k])]
        grad_from_logits = [k for k in range(count) if op.grad_zero and op.grad_zero(shown[k])]
        for k in range(count):
            if k in from_logits:
                form, args = form_of(op.logit_template, k, op.rules.get("logit"))
            else:
                form, args = form_of(op.term_template, k, op.rules.get("term"))
            quantities.append(
                self.quantity(self.q(f"loss.term{k + 1}", p), scalar(loss.terms[p, k]), "loss", out, p, form, args)
            )
        terms = [self.q(f"loss.term{k + 1}", p) for k in range(count)]
        quantities.append(
            self.quantity(
                self.q("loss", p),
                scalar(loss.per_sample[p]),
                "loss",
                out,
                p,
                Form(_sum_template(count), tuple(terms), total),
                [scalar(v) for v in loss.terms[p]],
            )
        )
        for k in range(count):
            if k in grad_from_logits:
                form, args = form_of(op.grad_logit_template, k, op.rules.get("grad_logit"))
            else:
                form, args = form_of(op.grad_template, k, op.rules.get("grad"))
            quantities.append(
                self.quantity(
                    self.q(neuron_name(out, "dL_da", k), p), scalar(loss.dL_da[p, k]), "loss", out, p, form, args
                )
            )
        note = op.formula
        for k in from_logits:
            note += _(
                "; {term} comes from the logit {logit}, as the engine computes it: "
                "{output} shows as {value} (saturated), where the textbook form takes log 0"
            ).format(
                term=f"loss.term{k + 1}",
                logit=neuron_name(out, "z", k),
                output=neuron_name(out, "a", k),
                value=f(loss.prediction[p, k]),
            )
        for k in grad_from_logits:
            note += _("; {name} is written from z too ({identities})").format(
                name=neuron_name(out, "dL_da", k), identities="1/a = 1 + e^(−z), 1/(1 − a) = 1 + e^z"
            )
        broken = [neuron_name(out, "dL_da", k) for k in range(count) if not math.isfinite(loss.dL_da[p, k])]
        if broken:
            note += ngettext(
                "; {names} is not finite in float64 (a saturated) and not used: δ comes from the stable form",
                "; {names} are not finite in float64 (a saturated) and not used: δ comes from the stable form",
                len(broken),
            ).format(names=", ".join(broken))
        return self.block("loss", _("Loss ({name})").format(name=loss.name), quantities, layer=out, p=p, note=note)

    def batch_loss(self) -> Built:
        loss = self.rec.loss
        n = len(self.rec.samples)
        slots = tuple(qualify("loss", step=self.rec.step_q, sample=s) for s in self.rec.samples)
        mean = loss.reduction == "mean"
        inner = _sum_template(n)
        form = Form(f"({inner}) / {n}" if mean else inner, slots, _mean if mean else total)
        q = self.quantity(
            self.q("loss"),
            scalar(loss.value),
            "loss",
            loss.output_layer,
            None,
            form,
            [scalar(v) for v in loss.per_sample],
        )
        return self.block(
            "loss",
            _("Batch loss ({reduction} over {n} samples)").format(reduction=loss.reduction, n=n),
            [q],
            layer=loss.output_layer,
        )

    def backward(self, position: int, back: LayerBackward, p: int) -> Built:
        """A layer's backward block: its upstream ∂L/∂a as the layer above computed it, then its own."""
        rec = self.rec
        index = len(rec.backward) - 1 - position  # rec.backward runs from the output down
        upstream: list[Quantity] = []
        if position:
            above = rec.backward[position - 1]
            upstream = self.ops[index + 1].blocks().downstream(above, back.layer, p, self)
        rule = loss_op(rec.loss.name, rec.loss.reduction).rules.get("combined") if back.combined else None
        title, quantities, note = self.ops[index].blocks().backward(back, upstream, p, self, rule)
        return self.block("backward", title, quantities, layer=back.layer, p=p, note=note)

    def reduction(self, u: ParamUpdate) -> Built:
        n = len(self.rec.samples)
        mean = self.rec.loss.reduction == "mean"
        out = []
        for index in _indices(u.old.shape):
            base = param_grad_name(u.layer, u.kind, index)
            slots = tuple(qualify(base, step=self.rec.step_q, sample=s) for s in self.rec.samples)
            inner = _sum_template(n)
            form = Form(f"({inner}) / {n}" if mean else inner, slots, _mean if mean else total)
            args = [scalar(u.per_sample[(p, *index)]) for p in range(n)]
            out.append(self.quantity(self.q(base), scalar(u.grad[index]), "reduction", u.layer, None, form, args))
        title = _("Batch reduction · layer {layer} {kind} ({reduction} over {n} samples)").format(
            layer=u.layer, kind=_(u.kind), reduction=self.rec.loss.reduction, n=n
        )
        return self.block("reduction", title, out, layer=u.layer)

    def update(self, u: ParamUpdate) -> Built:
        """Each optimizer state entry (formula in names, then in numbers), then the new value."""
        f, rec = self.f, self.rec
        hyper: dict[str, Scalar] = {**rec.hyper, **u.scalars}
        out = []
        for index in _indices(u.old.shape):
            pname = param_name(u.layer, u.kind, index)
            fields: dict[str, Slot] = {
                "old": self.q(pname),
                "grad": self.q(param_grad_name(u.layer, u.kind, index)),
                **{k: Const(v, SYMBOLS.get(k, k)) for k, v in hyper.items()},
                **{
                    p: self._previous(f"{pname}.{p.removesuffix('_prev')}", scalar(arr[index]))
                    for p, arr in u.prior.items()
                },
                **{s: self.q(f"{pname}.{s}") for s in u.state},
            }
            values: dict[str, Scalar] = {
                "old": scalar(u.old[index]),
                "grad": scalar(u.grad[index]),
                **hyper,
                **{p: scalar(arr[index]) for p, arr in u.prior.items()},
                **{s: scalar(arr[index]) for s, arr in u.state.items()},
            }
            for s, arr in u.state.items():
                template = u.formulas.get(s)
                rule = u.rules.get(s)
                if template and rule:
                    form, args = fill(template, fields, values, rule)
                else:
                    form, args = Form(s), []
                out.append(
                    self.quantity(self.q(f"{pname}.{s}"), scalar(arr[index]), "update", u.layer, None, form, args)
                )
            if u.frozen:
                form, args = Form(_("{0} (frozen)"), (self.q(pname),), same, "{0:v}"), [scalar(u.old[index])]
            else:
                form, args = fill(u.formula, fields, values, u.rule)
            out.append(self.quantity(self.q(pname + ".new"), scalar(u.new[index]), "update", u.layer, None, form, args))
        hyper_shown = [f"{SYMBOLS.get(k, k)} = {f(v)}" for k, v in (*rec.hyper.items(), *u.scalars.items())]
        hyper_text = ", ".join([*hyper_shown, *rec.flags])
        title = _("Update · layer {layer} {kind} ({optimizer}, {hyper})").format(
            layer=u.layer, kind=_(u.kind), optimizer=rec.optimizer, hyper=hyper_text
        )
        note = "; ".join(f"{s}: {_(STATE_MEANINGS[s])}" for s in u.state if s in STATE_MEANINGS)
        frozen = _(" · frozen, not updated") if u.frozen else ""
        return self.block("update", title + frozen, out, layer=u.layer, note=note)

    def _after(self) -> tuple[Form, list[Scalar]]:
        """The loss after the update as a rule of the updated parameters and the batch's inputs and
        targets: the layers' forward passes and the loss again (a formula the trace does not write out)."""
        rec = self.rec
        slots: list[Slot] = []
        args: list[Scalar] = []
        shapes: list[tuple[int, ...]] = []
        for u in rec.updates:
            shapes.append(u.new.shape)
            for index in _indices(u.new.shape):
                slots.append(self.q(param_name(u.layer, u.kind, index) + ".new"))
                args.append(scalar(u.new[index]))
        first = rec.forward[0]
        for p in range(len(rec.samples)):
            slots += [self.q(n, p) for n in first.input_names]
            args += [scalar(v) for v in first.inputs[p]]
            slots += [self.q(f"y{k + 1}", p) for k in range(rec.loss.target.shape[1])]
            args += [scalar(v) for v in rec.loss.target[p]]
        rule = _loss_after_rule(rec, shapes)
        return Form(_("the same batch after the update"), tuple(slots), rule, ""), args

    def _previous(self, base: str, value: Scalar) -> Slot:
        """A state value carried in from the step before this one: its name there, or a constant."""
        if self.rec.multi_step and self.rec.step > 1:
            return qualify(base, step=self.rec.step - 1)
        return Const(value, f"{base} (previous step)")

    def summary(self) -> Built:
        rec = self.rec
        loss, after = self.q("loss"), self.q("loss.after")
        out = [
            self.quantity(
                loss, scalar(rec.loss.value), "summary", None, None, Form(_("before the update")), kind="again"
            ),
            self.quantity(after, scalar(rec.loss_after), "summary", None, None, *self._after()),
            self.quantity(
                self.q("loss.change"),
                scalar(rec.loss_after - rec.loss.value),
                "summary",
                None,
                None,
                Form("{0} − {1}", (after, loss), _difference),
                [scalar(rec.loss_after), scalar(rec.loss.value)],
            ),
        ]
        return self.block("summary", _("Summary"), out)


def _loss_after_rule(rec: StepRecord, shapes: list[tuple[int, ...]]) -> Callable[[Sequence[Scalar]], Scalar]:
    """The batch loss from flat values: every parameter (in the updates' order), then per sample its
    inputs and targets; through the layers' own forward passes and the loss (``nn/layers``, ``ops``)."""
    layers, loss = rec.layers, loss_op(rec.loss.name, rec.loss.reduction)
    n, inputs, outputs = len(rec.samples), rec.forward[0].inputs.shape[1], rec.loss.target.shape[1]
    exact = rec.exact

    def rule(values: Sequence[Scalar]) -> Scalar:
        dtype = object if exact else np.float64
        flat = np.array(values, dtype=dtype)
        tensors, at = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            tensors.append(flat[at : at + size].reshape(shape))
            at += size
        rows = flat[at:].reshape(n, inputs + outputs)
        x, y = rows[:, :inputs], rows[:, inputs:]
        per_layer, at = [], 0
        for layer in layers:
            per_layer.append(tensors[at : at + len(layer.params)])
            at += len(layer.params)
        with np.errstate(all="ignore"):
            cache = forward_through(layers, per_layer, x, rec.step, evaluating=rec.evaluating)[-1]
            terms = (layer_terms(rec) if exact else loss.terms)(cache.a, y, cache.z)
        per_sample = terms.sum(axis=1)
        value = per_sample.mean() if rec.loss.reduction == "mean" else per_sample.sum()
        return value if exact else float(value)

    return rule


def layer_terms(rec: StepRecord) -> Callable[[Any, Any, Any], Any]:
    from backprop_cli.nn.ops import exact_loss

    return exact_loss(rec.loss.name, rec.loss.reduction)[0]


def _shown(f: Numbers, value: Scalar) -> Scalar:
    """The value as the trace shows it (rounded to the display precision)."""
    try:
        return float(f(value))
    except ValueError:  # not a plain decimal (an exact fraction): the value itself
        return scalar(value)


def _indices(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Every index of a parameter tensor, row-major: (j,), (j, i), or a conv kernel's (o, c, u, v)."""
    if len(shape) == 1:
        yield from ((j,) for j in range(shape[0]))
    elif len(shape) == 2:
        yield from ((j, i) for j in range(shape[0]) for i in range(shape[1]))
    else:
        yield from (tuple(int(i) for i in index) for index in np.ndindex(*shape))
