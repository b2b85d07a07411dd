"""A network step's quantities, in blocks in reading order: what every layout and consumer reads.

Each block is one table of the trace (the parameters, one layer's forward pass for one sample, the
loss, …); each of its quantities carries its formula as a template over its factors' names, the
factors' values, and the rule that computes it (see :mod:`backprop_cli.model.quantity`).
Formulas use names relative to the quantity's own place; the block title says which step and sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

from backprop_cli.model.quantity import Block, Const, Form, Numbers, Quantity, Scalar, Slot, qualify
from backprop_cli.ops import ACTIVATIONS, LOSSES, NamedRule
from backprop_cli.optim import STATE_MEANINGS, SYMBOLS
from backprop_cli.trace import (
    LayerBackward,
    LayerForward,
    ParamUpdate,
    StepRecord,
    grad_name,
    neuron_name,
    param_grad_name,
    param_name,
)


def _sum_template(slots: Sequence[int], item: Callable[[int], str] = lambda i: f"{{{i}}}") -> str:
    return " + ".join(item(i) for i in slots) if slots else "0"


def _total(values: Sequence[Scalar]) -> Scalar:
    total: Scalar = values[0] * 0 if values else 0.0
    for v in values:
        total = total + v
    return total


def _dot(values: Sequence[Scalar]) -> Scalar:
    """Σ_i v[2i]·v[2i+1]: a weighted sum's products, in order."""
    return _total([values[i] * values[i + 1] for i in range(0, len(values) - 1, 2)])


def _dot_bias(values: Sequence[Scalar]) -> Scalar:
    return _dot(values[:-1]) + values[-1]


def _mean(values: Sequence[Scalar]) -> Scalar:
    return _total(values) / len(values)


def _product(values: Sequence[Scalar]) -> Scalar:
    return values[0] * values[1]


def _same(values: Sequence[Scalar]) -> Scalar:
    return values[0]


def fill(
    template: str, fields: dict[str, Slot | str], values: dict[str, Scalar]
) -> tuple[str, list[Slot], list[Scalar], list[str]]:
    """A named template (``({a} − {y}) / {K}``) as a slot template: every field the template uses
    becomes a slot (in order of first use) unless it maps to plain text; returns (template, slots,
    their values, their field names)."""
    order: list[str] = []
    slots: list[Slot] = []
    args: list[Scalar] = []
    text: dict[str, str] = {}
    for key, slot in fields.items():
        if isinstance(slot, str) and key not in values:
            text[key] = slot  # fixed text (a count)

    class _Marks(dict[str, str]):
        def __missing__(self, key: str) -> str:
            if key in text:
                return text[key]
            if key not in order:
                order.append(key)
                slots.append(fields[key])
                args.append(values[key])
            return f"{{{order.index(key)}}}"

    filled = template.format_map(_Marks())
    return filled, slots, args, order


def named_rule(
    fields: list[str], rule: NamedRule | None, fixed: dict[str, Scalar]
) -> Callable[[Sequence[Scalar]], Scalar]:
    """A rule over named fields as a rule over slot values in ``fields`` order (``fixed``: the rest)."""

    assert rule is not None, "a computed quantity has a rule"

    def positional(values: Sequence[Scalar]) -> Scalar:
        return rule({**fixed, **dict(zip(fields, values, strict=True))})

    return positional


def step_blocks(rec: StepRecord, numbers: Numbers) -> Iterator[Block]:
    """Every block of one step, in reading order (``numbers`` decides which of two equal forms reads
    better where a value shows saturated, and writes the notes)."""
    return _StepBlocks(rec, numbers).blocks()


class _StepBlocks:
    def __init__(self, rec: StepRecord, numbers: Numbers) -> None:
        self.rec = rec
        self.f = numbers
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
    ) -> Block:
        sample = self.rec.samples[p] if p is not None and self.several else None
        if sample is not None:
            title += f" · sample {sample + 1}"
        made = tuple(quantities)
        return Block(self.rec.step, phase, title, layer, sample, len(made), lambda: iter(made), note)

    def blocks(self) -> Iterator[Block]:
        rec = self.rec
        positions = range(len(rec.samples))
        yield self.parameters()
        for p in positions:
            yield self.inputs(p)
            for fwd in rec.forward:
                yield self.forward(fwd, p)
        for p in positions:
            yield self.loss(p)
        if self.several:
            yield self.batch_loss()
        for p in positions:
            for index, back in enumerate(rec.backward):
                yield self.backward(back, rec.backward[index - 1] if index else None, p)
        if self.several:
            for u in rec.updates:
                yield self.reduction(u)
        for u in rec.updates:
            yield self.update(u)
        yield self.summary()

    # ------------------------------------------------------------ phases

    def parameters(self) -> Block:
        rec = self.rec
        out = []
        for u in rec.updates:
            for index in _indices(u.old.shape):
                pname = param_name(u.layer, u.kind, index)
                origin = qualify(f"{pname}.new", step=rec.step - 1) if rec.multi_step and rec.step > 1 else None
                form = Form("frozen" if u.frozen else "")
                out.append(
                    self.quantity(
                        self.q(pname),
                        float(u.old[index]),
                        "parameters",
                        u.layer,
                        None,
                        form,
                        kind="given",
                        origin=origin,
                    )
                )
        return self.block("parameters", "Parameters before the update", out)

    def inputs(self, p: int) -> Block:
        first = self.rec.forward[0]
        row = f"data row {self.rec.samples[p] + 1}"
        out = [
            self.quantity(self.q(n, p), float(v), "forward", None, p, Form(row), kind="given")
            for n, v in zip(first.input_names, first.inputs[p], strict=True)
        ]
        out += [
            self.quantity(self.q(f"y{k + 1}", p), float(v), "forward", None, p, Form(f"target, {row}"), kind="given")
            for k, v in enumerate(self.rec.loss.target[p])
        ]
        # the block belongs to no layer: the trace's --layer filter keeps it with every layer
        return self.block("forward", "Inputs and targets", out, p=p)

    def forward(self, fwd: LayerForward, p: int) -> Block:
        layer = fwd.layer
        act = ACTIVATIONS[fwd.activation]
        units = fwd.z.shape[1]
        fan_in = fwd.weights.shape[1]
        out: list[Quantity] = []
        for j in range(units):
            slots: list[Slot] = []
            args: list[Scalar] = []
            for i, n in enumerate(fwd.input_names):
                slots += [self.q(param_name(layer, "weights", (j, i))), self.q(n, p)]
                args += [float(fwd.weights[j, i]), float(fwd.inputs[p, i])]
            parts = [f"{{{2 * i}}}·{{{2 * i + 1}}}" for i in range(fan_in)]
            rule = _dot
            if fwd.biases is not None:
                slots.append(self.q(param_name(layer, "biases", (j,))))
                args.append(float(fwd.biases[j]))
                parts.append(f"{{{2 * fan_in}}}")
                rule = _dot_bias
            template = " + ".join(parts) if parts else "0"
            form = Form(template, tuple(slots), rule)
            out.append(
                self.quantity(
                    self.q(neuron_name(layer, "z", j), p), float(fwd.z[p, j]), "forward", layer, p, form, args
                )
            )
        slope = fwd.negative_slope
        for j in range(units):
            zname = self.q(neuron_name(layer, "z", j), p)
            if fwd.activation == "softmax":
                every = [self.q(neuron_name(layer, "z", k), p) for k in range(units)]
                template = f"e^{{{j}}} / ({_sum_template(range(units), lambda k: f'e^{{{k}}}')})"
                form = Form(template, tuple(every), _softmax_rule(j))
                args = [float(v) for v in fwd.z[p]]
            else:
                template, slots, args, fields = fill(
                    act.template, {"z": zname, "s": Const(slope)}, {"z": float(fwd.z[p, j]), "s": slope}
                )
                form = Form(template, tuple(slots), named_rule(fields, _activation_rule(fwd.activation), {"s": slope}))
            out.append(
                self.quantity(
                    self.q(neuron_name(layer, "a", j), p), float(fwd.a[p, j]), "forward", layer, p, form, args
                )
            )
        note = f"z = W·a_prev + b; a = {act.template.format(z='z', s=self.f.operand(slope))}"
        return self.block("forward", f"Forward · layer {layer} ({fwd.activation})", out, layer=layer, p=p, note=note)

    def loss(self, p: int) -> Block:
        f, loss = self.f, self.rec.loss
        op = LOSSES[loss.name]
        out, count = loss.output_layer, loss.prediction.shape[1]
        z = self.rec.forward[-1].z[p]
        quantities: list[Quantity] = []
        every_z = [self.q(neuron_name(out, "z", j), p) for j in range(len(z))]

        def form_of(template: str, k: int, rule: NamedRule) -> tuple[Form, list[Scalar]]:
            fields: dict[str, Slot | str] = {
                "a": self.q(neuron_name(out, "a", k), p),
                "y": self.q(f"y{k + 1}", p),
                "K": str(count),
                "z": self.q(neuron_name(out, "z", k), p),
            }
            values: dict[str, Scalar] = {
                "a": float(loss.prediction[p, k]),
                "y": float(loss.target[p, k]),
                "z": float(z[k]),
            }
            # Σ_j e^z_j: one slot per logit, after the named fields
            marks = {f"z_{j}": s for j, s in enumerate(every_z)}
            fields |= marks
            values |= {f"z_{j}": float(v) for j, v in enumerate(z)}
            sum_exp = " + ".join(f"e^{{z_{j}}}" for j in range(len(z))) if len(z) else "0"
            text, slots, args, names = fill(template.replace("{sum_exp}", sum_exp), fields, values)
            return Form(text, tuple(slots), named_rule(names, rule, {"K": count})), args

        # where the a shown makes the textbook form take log 0 or divide by zero, write it from z instead
        shown = [_shown(f, a) for a in loss.prediction[p]]
        from_logits = [k for k in range(count) if op.log_zero and op.log_zero(shown[k], loss.target[p, k])]
        grad_from_logits = [k for k in range(count) if op.grad_zero and op.grad_zero(shown[k])]
        for k in range(count):
            if k in from_logits:
                form, args = form_of(op.logit_template, k, _loss_rule(loss.name, "logit"))
            else:
                form, args = form_of(op.term_template, k, _loss_rule(loss.name, "term"))
            quantities.append(
                self.quantity(self.q(f"loss.term{k + 1}", p), float(loss.terms[p, k]), "loss", out, p, form, args)
            )
        terms = [self.q(f"loss.term{k + 1}", p) for k in range(count)]
        quantities.append(
            self.quantity(
                self.q("loss", p),
                float(loss.per_sample[p]),
                "loss",
                out,
                p,
                Form(_sum_template(range(count)), tuple(terms), _total),
                [float(v) for v in loss.terms[p]],
            )
        )
        for k in range(count):
            if k in grad_from_logits:
                form, args = form_of(op.grad_logit_template, k, _loss_rule(loss.name, "grad_logit"))
            else:
                form, args = form_of(op.grad_template, k, _loss_rule(loss.name, "grad"))
            quantities.append(
                self.quantity(
                    self.q(neuron_name(out, "dL_da", k), p), float(loss.dL_da[p, k]), "loss", out, p, form, args
                )
            )
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
        return self.block("loss", f"Loss ({loss.name})", quantities, layer=out, p=p, note=note)

    def batch_loss(self) -> Block:
        loss = self.rec.loss
        n = len(self.rec.samples)
        slots = tuple(qualify("loss", step=self.rec.step_q, sample=s) for s in self.rec.samples)
        mean = loss.reduction == "mean"
        inner = _sum_template(range(n))
        form = Form(f"({inner}) / {n}" if mean else inner, slots, _mean if mean else _total)
        q = self.quantity(
            self.q("loss"),
            float(loss.value),
            "loss",
            loss.output_layer,
            None,
            form,
            [float(v) for v in loss.per_sample],
        )
        return self.block("loss", f"Batch loss ({loss.reduction} over {n} samples)", [q], layer=loss.output_layer)

    def backward(self, back: LayerBackward, above: LayerBackward | None, p: int) -> Block:
        f, layer = self.f, back.layer
        act = ACTIVATIONS[back.activation]
        units = back.delta.shape[1]
        slope = back.negative_slope
        out: list[Quantity] = []

        def add(base: str, value: float, form: Form, args: Sequence[Scalar]) -> None:
            out.append(self.quantity(self.q(base, p), value, "backward", layer, p, form, args))

        if above is not None:  # a hidden layer: ∂L/∂a_j = Σ_k δ_k·w_kj of the layer above
            terms = range(above.delta.shape[1])
            for j in range(units):
                slots: list[Slot] = []
                args: list[Scalar] = []
                for k in terms:
                    slots += [
                        self.q(neuron_name(above.layer, "delta", k), p),
                        self.q(param_name(above.layer, "weights", (k, j))),
                    ]
                    args += [float(above.delta[p, k]), float(above.weights[k, j])]
                template = _sum_template(range(len(terms)), lambda k: f"{{{2 * k}}}·{{{2 * k + 1}}}")
                add(
                    neuron_name(layer, "dL_da", j), float(back.upstream[p, j]), Form(template, tuple(slots), _dot), args
                )
        chains: list[tuple[Form, list[Scalar]]] = []  # the textbook product upstream × local, per neuron
        if back.jacobian is not None:  # softmax: every output depends on every z
            for k in range(units):
                for j in range(units):
                    ak, aj = self.q(neuron_name(layer, "a", k), p), self.q(neuron_name(layer, "a", j), p)
                    if k == j:
                        form = Form("{0}·(1 − {0})", (ak,), _softmax_diag)
                        args = [float(back.a[p, k])]
                    else:
                        form = Form("−{0}·{1}", (ak, aj), _softmax_off)
                        args = [float(back.a[p, k]), float(back.a[p, j])]
                    add(f"{layer}.da{k + 1}_dz{j + 1}", float(back.jacobian[p, k, j]), form, args)
            for j in range(units):
                slots = []
                args = []
                for k in range(units):
                    slots += [self.q(neuron_name(layer, "dL_da", k), p), self.q(f"{layer}.da{k + 1}_dz{j + 1}", p)]
                    args += [float(back.upstream[p, k]), float(back.jacobian[p, k, j])]
                template = _sum_template(range(units), lambda k: f"{{{2 * k}}}·{{{2 * k + 1}}}")
                chains.append((Form(template, tuple(slots), _dot), args))
        else:
            for j in range(units):
                fields: dict[str, Slot | str] = {
                    "z": self.q(neuron_name(layer, "z", j), p),
                    "a": self.q(neuron_name(layer, "a", j), p),
                    "s": Const(slope),
                }
                values: dict[str, Scalar] = {"z": float(back.z[p, j]), "a": float(back.a[p, j]), "s": slope}
                template, slots, args, names = fill(act.derivative_template, fields, values)
                rule = named_rule(names, _derivative_rule(back.activation), {"s": slope, "z": 0.0, "a": 0.0})
                add(neuron_name(layer, "da_dz", j), float(back.local[p, j]), Form(template, tuple(slots), rule), args)
            for j in range(units):
                slots = [self.q(neuron_name(layer, "dL_da", j), p), self.q(neuron_name(layer, "da_dz", j), p)]
                chains.append(
                    (Form("{0} × {1}", tuple(slots), _product), [float(back.upstream[p, j]), float(back.local[p, j])])
                )
        target = self.rec.loss.target
        for j, (chain, chain_args) in enumerate(chains):
            if not back.combined:  # δ is the chain product itself
                add(neuron_name(layer, "delta", j), float(back.delta[p, j]), chain, chain_args)
                continue
            # the textbook chain, then the stable combined form the engine used for δ
            add(neuron_name(layer, "chain", j), float(back.chain[p, j]), chain, chain_args)
            sum_y = float(target[p].sum())
            fields = {
                "a": self.q(neuron_name(layer, "a", j), p),
                "y": self.q(f"y{j + 1}", p),
                "K": str(units),
                "sum_y": Const(sum_y, "Σy"),
            }
            values = {"a": float(back.a[p, j]), "y": float(target[p, j]), "sum_y": sum_y}
            template, slots, args, names = fill(back.combined, fields, values)
            rule = named_rule(names, _combined_rule(self.rec.loss.name), {"K": units, "sum_y": sum_y})
            add(neuron_name(layer, "delta", j), float(back.delta[p, j]), Form(template, tuple(slots), rule), args)
        for j in range(units):
            delta = self.q(neuron_name(layer, "delta", j), p)
            for i, n in enumerate(back.input_names):
                form = Form("{0} × {1}", (delta, self.q(n, p)), _product)
                add(
                    grad_name(layer, j, i),
                    float(back.grad_w[p, j, i]),
                    form,
                    [float(back.delta[p, j]), float(back.inputs[p, i])],
                )
            if back.grad_b is not None:
                add(
                    grad_name(layer, j),
                    float(back.grad_b[p, j]),
                    Form("{0}", (delta,), _same, "{0:v}"),
                    [float(back.delta[p, j])],
                )
        slope_text = f.operand(slope)
        note = f"δ = ∂L/∂z = ∂L/∂a × ∂a/∂z with ∂a/∂z = {act.derivative_template.format(z='z', a='a', s=slope_text)}"
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
        return self.block("backward", f"Backward · layer {layer} ({back.activation})", out, layer=layer, p=p, note=note)

    def reduction(self, u: ParamUpdate) -> Block:
        n = len(self.rec.samples)
        mean = self.rec.loss.reduction == "mean"
        out = []
        for index in _indices(u.old.shape):
            base = param_grad_name(u.layer, u.kind, index)
            slots = tuple(qualify(base, step=self.rec.step_q, sample=s) for s in self.rec.samples)
            inner = _sum_template(range(n))
            form = Form(f"({inner}) / {n}" if mean else inner, slots, _mean if mean else _total)
            args = [float(u.per_sample[(p, *index)]) for p in range(n)]
            out.append(self.quantity(self.q(base), float(u.grad[index]), "reduction", u.layer, None, form, args))
        title = f"Batch reduction · layer {u.layer} {u.kind} ({self.rec.loss.reduction} over {n} samples)"
        return self.block("reduction", title, out, layer=u.layer)

    def update(self, u: ParamUpdate) -> Block:
        """Each optimizer state entry (formula in names, then in numbers), then the new value."""
        f, rec = self.f, self.rec
        hyper: dict[str, Scalar] = {**rec.hyper, **u.scalars}
        out = []
        for index in _indices(u.old.shape):
            pname = param_name(u.layer, u.kind, index)
            fields: dict[str, Slot | str] = {
                "old": self.q(pname),
                "grad": self.q(param_grad_name(u.layer, u.kind, index)),
                **{k: Const(v, SYMBOLS.get(k, k)) for k, v in hyper.items()},
                **{
                    p: self._previous(f"{pname}.{p.removesuffix('_prev')}", float(arr[index]))
                    for p, arr in u.prior.items()
                },
                **{s: self.q(f"{pname}.{s}") for s in u.state},
            }
            values: dict[str, Scalar] = {
                "old": float(u.old[index]),
                "grad": float(u.grad[index]),
                **hyper,
                **{p: float(arr[index]) for p, arr in u.prior.items()},
                **{s: float(arr[index]) for s, arr in u.state.items()},
            }
            for s, arr in u.state.items():
                template = u.formulas.get(s)
                rule = u.rules.get(s)
                if template and rule:
                    text, slots, args, names = fill(template, fields, values)
                    form = Form(text, tuple(slots), named_rule(names, rule, values))
                else:
                    form, args = Form(s), []
                out.append(
                    self.quantity(self.q(f"{pname}.{s}"), float(arr[index]), "update", u.layer, None, form, args)
                )
            if u.frozen:
                form, args = Form("{0} (frozen)", (self.q(pname),), _same, "{0:v}"), [float(u.old[index])]
            else:
                text, slots, args, names = fill(u.formula, fields, values)
                form = Form(text, tuple(slots), named_rule(names, u.rule, values))
            out.append(self.quantity(self.q(pname + ".new"), float(u.new[index]), "update", u.layer, None, form, args))
        hyper_shown = [f"{SYMBOLS.get(k, k)} = {f(v)}" for k, v in (*rec.hyper.items(), *u.scalars.items())]
        hyper_text = ", ".join([*hyper_shown, *rec.flags])
        title = f"Update · layer {u.layer} {u.kind} ({rec.optimizer}, {hyper_text})"
        note = "; ".join(f"{s}: {STATE_MEANINGS[s]}" for s in u.state if s in STATE_MEANINGS)
        frozen = " · frozen, not updated" if u.frozen else ""
        return self.block("update", title + frozen, out, layer=u.layer, note=note)

    def _previous(self, base: str, value: float) -> Slot:
        """A state value carried in from the step before this one: its name there, or a constant."""
        if self.rec.multi_step and self.rec.step > 1:
            return qualify(base, step=self.rec.step - 1)
        return Const(value, f"{base} (previous step)")

    def summary(self) -> Block:
        rec = self.rec
        loss, after = self.q("loss"), self.q("loss.after")
        out = [
            self.quantity(loss, float(rec.loss.value), "summary", None, None, Form("before the update"), kind="again"),
            self.quantity(
                after,
                float(rec.loss_after),
                "summary",
                None,
                None,
                Form("the same batch after the update"),
                kind="whole",
            ),
            self.quantity(
                self.q("loss.change"),
                float(rec.loss_after - rec.loss.value),
                "summary",
                None,
                None,
                Form("{0} − {1}", (after, loss), _difference),
                [float(rec.loss_after), float(rec.loss.value)],
            ),
        ]
        return self.block("summary", "Summary", out)


def _difference(values: Sequence[Scalar]) -> Scalar:
    return values[0] - values[1]


def _shown(f: Numbers, value: float) -> float:
    """The value as the trace shows it (rounded to the display precision)."""
    try:
        return float(f(value))
    except ValueError:  # not a plain decimal (an exact fraction): the value itself
        return float(value)


def _indices(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    if len(shape) == 1:
        yield from ((j,) for j in range(shape[0]))
    else:
        yield from ((j, i) for j in range(shape[0]) for i in range(shape[1]))


def _softmax_rule(j: int) -> Callable[[Sequence[Scalar]], Scalar]:
    def rule(values: Sequence[Scalar]) -> Scalar:
        top = max(float(v) for v in values)
        e = [math.exp(float(v) - top) for v in values]
        return e[j] / sum(e)

    return rule


def _softmax_diag(values: Sequence[Scalar]) -> Scalar:
    return values[0] * (1 - values[0])


def _softmax_off(values: Sequence[Scalar]) -> Scalar:
    return -values[0] * values[1]


def _activation_rule(name: str) -> NamedRule:
    return ACTIVATIONS[name].rule


def _derivative_rule(name: str) -> NamedRule:
    return ACTIVATIONS[name].derivative_rule


def _loss_rule(name: str, form: str) -> NamedRule:
    return LOSSES[name].rules[form]


def _combined_rule(name: str) -> NamedRule:
    rule = LOSSES[name].rules.get("combined")
    assert rule is not None
    return rule
