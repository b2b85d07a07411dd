"""One engine, two modes: forward, loss, backward and update through the layer ops. Never prints.

Semantics follow PyTorch (design notes): z = a_prev·Wᵀ + b, per-sample losses reduced over the batch
by mean or sum, float64 throughout. The engine runs the network's layer ops (``nn/layers/``) in
order and the optimizer on their parameters; what is inside a layer is the op's business.

- **trace** (:meth:`Engine.step`, :meth:`Engine.run`): each sample's backward pass is computed for
  its own loss L_s and kept, and the batch gradient is the mean (or sum) of the per-sample
  gradients, which is exactly what autograd gives for the reduced loss and lets the trace show
  each sample's chain rule on its own. Yields one :class:`StepRecord` per step.
- **fast** (:meth:`Engine.fast_step`, used by ``train``, ``gradcheck`` and the diagnostics): the
  same ops, the same loss, the same optimizer calls, without records: the gradients are reduced
  over the batch in one matrix product (Σ_s δ_s·a_sᵀ = Δᵀ·A) and nothing is kept per sample.
The two agree to rounding (tests/nn/test_train.py holds them to 1e-12).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import NDArray

from backprop_cli.errors import ConfigError, NumericalFault
from backprop_cli.model.budgets import guard_schedule
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.names import param_name
from backprop_cli.model.quantity import Scalar
from backprop_cli.model.spec import Array, NetworkSpec, TrainingSpec
from backprop_cli.nn.check import finite, locate, norm_of
from backprop_cli.nn.faults import fault
from backprop_cli.nn.layers import build_layers
from backprop_cli.nn.layers.base import (
    Cache,
    Forks,
    Joins,
    LayerOp,
    Stateful,
    forward_through,
    is_fork,
    is_join,
    is_stateful,
)
from backprop_cli.nn.layers.dense import exact_array
from backprop_cli.nn.ops import RATIONAL_ACTIVATIONS, RATIONAL_LOSSES, exact_loss, loss_op
from backprop_cli.nn.optim import RATIONAL as RATIONAL_OPTIMIZERS
from backprop_cli.nn.optim import Optimizer, ParamStep, make_optimizer
from backprop_cli.nn.records import LayerBackward, LossRecord, ParamUpdate, StepRecord

if TYPE_CHECKING:  # --round-as-you-go's chain: imported by the command that asks for it
    from backprop_cli.model.rounding import RoundedChain

Rows = Sequence[int] | NDArray[np.intp]  # 0-based data rows of a batch, in batch order


def batches(rows: int, training: TrainingSpec) -> list[tuple[int, ...]]:
    """The 0-based rows of every step's batch.

    Each pass over the data is the rows in order, or with ``shuffle`` a fresh permutation drawn with
    ``seed`` (default 0), cut into batches of ``batch_size``; the last batch of a pass is smaller when
    the batch size does not divide the rows, as torch's DataLoader gives it (drop_last=False). So a
    batch never holds a row twice and never straddles two passes. ``epochs: E`` runs E passes;
    ``steps: N`` the first N batches of as many passes as that takes; neither, one step.
    The schedule is built whole: the commands bound its size first (budget.check_schedule, located),
    and so does this, for any other caller.
    """
    size = min(training.batch_size or rows, rows)
    total = count_steps(rows, training)
    guard_schedule(total, size)
    # shuffle without a seed uses seed 0: the order is always reproducible (and shown in the trace)
    rng = np.random.default_rng(0 if training.seed is None else training.seed) if training.shuffle else None

    def one_pass() -> list[int]:
        order = rng.permutation(rows) if rng is not None else np.arange(rows)
        return [int(r) for r in order]

    out: list[tuple[int, ...]] = []
    while len(out) < total:
        order = one_pass()
        out.extend(tuple(order[i : i + size]) for i in range(0, rows, size))
    del out[total:]  # steps: N ends where the N-th batch does, inside its pass
    return out


def count_steps(rows: int, training: TrainingSpec) -> int:
    if training.epochs is not None:
        size = min(training.batch_size or rows, rows)
        return training.epochs * -(-rows // size)
    return training.steps or 1


def check_loss(
    per_sample: Array,
    value: Scalar,
    *,
    step: int,
    layer: str,
    during: str = "",
    rows: Rows | None = None,
) -> None:
    """A sum of finite loss terms, or their mean or sum over the batch, can still overflow: located.

    ``per_sample`` holds each sample's loss (in batch order), ``value`` the batch loss made of them;
    ``rows``, when known, the 0-based data rows of the batch, to name the sample by its row.
    """
    if per_sample.dtype == object:  # exact fractions do not overflow (their size is checked where made)
        return
    bad = np.flatnonzero(~np.isfinite(per_sample))
    if bad.size:
        position = int(bad[0])
        sample = f"data row {int(rows[position]) + 1}" if rows is not None else f"sample {position + 1} of the batch"
        raise fault(
            step=step,
            layer=layer,
            quantity=f"the loss of {sample} (the sum of its finite loss terms){during}",  # errors.QUANTITY_TEMPLATES
            value=float(per_sample[position]),
            detail=N_("the loss overflows float64; lower the learning rate or rescale the inputs and targets"),
        )
    if not math.isfinite(float(value)):
        raise fault(
            step=step,
            layer=layer,
            quantity=N_("the batch loss (from finite per-sample losses)") + during,
            value=float(value),
            detail=N_("the loss overflows float64; lower the learning rate or rescale the inputs and targets"),
        )


@dataclass
class ParamsView:
    """The parameters by kind, one entry per layer (None for a layer without weights or biases): a live view."""

    weights: list[Array | None]
    biases: list[Array | None]


@dataclass(frozen=True)
class FastStep:
    """What one fast step leaves behind: the batch loss before the update, each layer's forward
    cache, reduced gradients and their norms, and the parameters before and after."""

    loss: float
    caches: tuple[Cache, ...]
    grads: tuple[tuple[Array, ...], ...]  # per layer, per parameter (weights first)
    grad_norms: tuple[float, ...]  # ‖∂L/∂W‖ per layer (0 for a layer without parameters)
    before: tuple[tuple[Array, ...], ...]  # per layer, the parameters before the update
    new_weight_norms: tuple[float | None, ...]  # ‖W‖ after the update (None: frozen, not stepped)


class Engine:
    """Runs the configured steps of a network through its layer ops; see the module docstring."""

    def __init__(
        self,
        spec: NetworkSpec,
        optimizer: Optimizer | None = None,
        *,
        exact: bool = False,
        rounding: RoundedChain | None = None,
    ) -> None:
        self.spec = spec
        self.exact = exact
        self.rounding = rounding  # trace mode: the records' quantities rounded as they go (shown, not run)
        if exact:
            refuse_irrational(spec)
        self.optimizer = optimizer or make_optimizer(spec.optimizer, exact=exact)
        self.layers: tuple[LayerOp, ...] = build_layers(spec, exact=exact)
        self.tensors: list[list[Array]] = [layer.initial() for layer in self.layers]
        # which ops are residual joins and entries, and which keep buffers: resolved once, not per step
        # (a runtime Protocol isinstance check walks the protocol's members every time)
        self.joins = tuple(is_join(op) for op in self.layers)
        self.forks = tuple(is_fork(op) for op in self.layers)
        self.passes = tuple(bool(getattr(op, "passes_delta", False)) for op in self.layers)  # flatten: δ = ∂L/∂a
        self.stateful: tuple[tuple[int, Stateful], ...] = tuple(
            (index, op) for index, op in enumerate(self.layers) if is_stateful(op)
        )
        self.x, self.y = (exact_array(spec.data.x), exact_array(spec.data.y)) if exact else (spec.data.x, spec.data.y)
        self.schedule = batches(spec.data.rows, spec.training)
        # training: {mode: eval}: every step as torch's model.eval() runs it (batch norm on its running
        # statistics, not updating them; dropout passing its input)
        self.evaluating = spec.training.mode == "eval"
        self.steps_done = 0
        self.loss_op = loss_op(spec.loss.name, spec.loss.reduction)
        self.loss_terms, self.loss_grad = (
            exact_loss(spec.loss.name, spec.loss.reduction) if exact else (self.loss_op.terms, self.loss_op.grad)
        )
        out = spec.layers[-1]
        self.fused = self.loss_op.combined is not None and self.loss_op.pairs_with == out.activation

    @property
    def params(self) -> ParamsView:
        """The current parameters as ``weights`` and ``biases`` lists (arrays shared, not copied)."""
        named = [self.named_tensors(index) for index in range(len(self.layers))]
        return ParamsView([n.get("weights") for n in named], [n.get("biases") for n in named])

    def named_tensors(self, index: int) -> dict[str, Array]:
        """Layer ``index``'s current parameters by kind (``weights``, ``biases``, …), in their order."""
        definitions = self.layers[index].params
        return {d.kind: t for d, t in zip(definitions, self.tensors[index], strict=True)}

    # ------------------------------------------------------------ shared by both modes

    def forward(self, x: Array, step: int, during: str = "", *, evaluating: bool | None = None) -> list[Cache]:
        """Every layer's forward pass on ``x``, checked for non-finite values (located at ``step``, and
        drawing that step's randomness); ``evaluating``: the loss on all data (dropout off), not a step
        (default: as the steps run, which is evaluating in ``mode: eval``)."""
        evaluating = self.evaluating if evaluating is None else evaluating
        return forward_through(self.layers, self.tensors, x, step, during, evaluating=evaluating, joins=self.joins)

    def batch_loss(
        self, z: Array, a: Array, y: Array, step: int, during: str = "", rows: Rows | None = None
    ) -> tuple[Array, Array, Scalar]:
        """(per-sample loss terms, per-sample losses, the batch loss: their mean or sum); ``rows``, the
        batch's data rows where known, name a sample whose loss overflows."""
        layer = self.layers[-1].name
        terms = self.loss_terms(a, y, z)
        per_sample = terms.sum(axis=1)
        # a non-finite term makes its sample's sum non-finite: the terms are tested (first, as they are
        # named first) only then, or for exact fractions (which are tested for size)
        if terms.dtype == object or not np.isfinite(per_sample).all():
            finite(terms, step=step, layer=layer, quantity=f"{self.loss_op.name} loss term{during}")
        value = per_sample.mean() if self.spec.loss.reduction == "mean" else per_sample.sum()
        value = value if self.exact else float(value)
        check_loss(per_sample, value, step=step, layer=layer, during=during, rows=rows)
        return terms, per_sample, value

    def output_gradient(self, z: Array, a: Array, y: Array, step: int) -> tuple[Array, Array | None]:
        """(the textbook ∂L_s/∂a of the output, the loss's stable combined δ where it pairs with the output)."""
        dl_da = self.loss_grad(a, y, z)
        if self.fused and self.loss_op.combined is not None:
            return dl_da, self.loss_op.combined(a, y)
        finite(dl_da, step=step, layer=self.layers[-1].name, quantity=N_("∂L/∂a of the output"))
        return dl_da, None

    def loss(self, rows: tuple[int, ...] | None = None) -> Scalar:
        """The current loss over ``rows`` (default: all data), without recording anything."""
        idx = list(rows) if rows is not None else slice(None)
        x, y = self.x[idx], self.y[idx]
        step = self.steps_done or 1  # located as the step it comes before (or, after a run, after)
        try:
            with np.errstate(all="ignore"):
                caches = self.forward(x, step)
                batch = rows if rows is not None else range(len(x))
                return self.batch_loss(caches[-1].z, caches[-1].a, y, step, rows=batch)[2]
        except NumericalFault as met:
            when = f"after step {step}" if self.steps_done else "before the first step"
            quantity = f"{met.quantity} (in the loss over {'the batch' if rows else 'all data'} {when})"
            raise fault(
                step=step,
                layer=met.layer,
                neuron=met.neuron,
                quantity=quantity,
                value=met.value,
                detail=met.detail,
            ) from None

    def _update(
        self,
        index: int,
        kind_index: int,
        grad: Array,
        number: int,
        *,
        state: bool = False,
        norms: list[float] | None = None,
    ) -> ParamStep | None:
        """Step one parameter tensor (None when frozen: like torch with requires_grad=False, not
        stepped and no optimizer state); a non-finite new value is a located fault, and with ``state``
        (the trace, which shows it) a non-finite optimizer state too. ``norms``: given, the new value's
        norm is appended to it (the one the finiteness test computed, so the caller need not again)."""
        layer = self.layers[index]
        definition = layer.params[kind_index]
        old = self.tensors[index][kind_index]
        if definition.frozen:
            return None
        result = self.optimizer.step(f"{layer.name}.{definition.kind}", old, grad)
        if self.exact:
            finite(result.new, step=number, layer=layer.name, quantity=f"the updated {layer.name}.{definition.kind}")
        else:
            norm = norm_of(result.new)
            if not np.isfinite(norm) or state:
                self._fault_in_update(result, layer.name, definition.kind, number)
            if norms is not None:
                norms.append(norm)
        self.tensors[index][kind_index] = result.new
        return result

    def _fault_in_update(self, result: ParamStep, layer: str, kind: str, number: int) -> None:
        """A non-finite new value, named as the parameter (h.w1_2), with the optimizer's part in it;
        then the optimizer state the trace shows (Adam's v = β₂·v + (1 − β₂)·g² overflows for a huge
        gradient while the step m̂/(√v̂ + ε) stays finite). Finite values whose square sum overflows
        are not a fault."""
        eps_hint = ", and keep eps > 0 so that a zero gradient does not divide 0 by 0"
        for state, values in [("", result.new), *result.state.items()]:
            bad = np.argwhere(~np.isfinite(values))
            if not bad.size:
                continue
            index = tuple(int(i) for i in bad[0])
            name = param_name(layer, kind, index)
            raise fault(
                step=number,
                layer=layer,
                neuron=index[0] + 1,
                quantity=f"{self.optimizer.name}'s {state} of {name}" if state else f"the updated {name}",
                value=float(values[index]),
                detail=f"{self.optimizer.name} produced it; lower the learning rate"
                + (eps_hint if "eps" in self.optimizer.hyper and not state else "")
                + (" or rescale the inputs: the gradient is too large for its running averages" if state else ""),
            )

    # ------------------------------------------------------------ trace mode

    def run(self) -> Iterator[StepRecord]:
        """Every configured step, traced (streamed, not stored)."""
        multi = len(self.schedule) > 1
        for number, rows in enumerate(self.schedule, start=1):
            yield self.step(number, rows, multi_step=multi)

    def step(self, number: int, rows: tuple[int, ...], *, multi_step: bool = False) -> StepRecord:
        """One traced step on the batch ``rows``: every sample's chain rule kept."""
        spec = self.spec
        x, y = self.x[list(rows)], self.y[list(rows)]
        with np.errstate(all="ignore"):  # non-finite values are caught by the checks, located
            caches = self.forward(x, number)
            forward = [
                layer.record_forward(p, c) for layer, p, c in zip(self.layers, self.tensors, caches, strict=True)
            ]
            out = caches[-1]
            terms, per_sample, value = self.batch_loss(out.z, out.a, y, number, rows=rows)
            dl_da, combined = self.output_gradient(out.z, out.a, y, number)
            loss_rec = LossRecord(
                spec.loss.name, spec.loss.reduction, self.layers[-1].name, out.a, y, terms, per_sample, value, dl_da
            )
            backward: list[LayerBackward] = []
            upstream = dl_da
            skips: dict[int, Array] = {}  # by a residual entry's index: ∂L/∂x along its block's skip
            for index in range(len(self.layers) - 1, -1, -1):
                fused = (combined, self.loss_op.combined_template) if combined is not None and not backward else None
                op = self.layers[index]
                if self.forks[index]:
                    fork = cast(Forks, op)
                    rec = fork.backward_trace(
                        forward[index], upstream, fused, number, index == 0, skip=skips.pop(index)
                    )
                else:
                    rec = op.backward_trace(forward[index], upstream, fused, number, index == 0)
                if self.joins[index]:
                    skips[index - cast(Joins, op).span] = rec.delta
                backward.append(rec)
                if rec.downstream is not None:
                    upstream = rec.downstream
            updates = self._trace_updates(backward, number)
            after = self.forward(x, number)[-1]
            if not self.evaluating:
                self._end_step(caches)
            loss_after = self.batch_loss(after.z, after.a, y, number, rows=rows)[2]
        self.steps_done = number
        return StepRecord(
            step=number,
            samples=tuple(rows),
            multi_step=multi_step,
            optimizer=self.optimizer.name,
            hyper=dict(self.optimizer.hyper),
            forward=tuple(forward),
            loss=loss_rec,
            backward=tuple(backward),
            updates=tuple(updates),
            loss_after=loss_after,
            flags=self.optimizer.flags,
            layers=self.layers,
            rounding=self.rounding,
            buffers=self.buffers(),
            evaluating=self.evaluating,
        )

    def _end_step(self, caches: Sequence[Cache]) -> None:
        """The buffers of each stateful op (batch norm's running statistics) from the step's forward pass."""
        for index, op in self.stateful:
            op.end_step(caches[index])

    def buffers(self) -> dict[str, dict[str, Array]]:
        """Every stateful op's buffers now (copies), by layer."""
        return {self.layers[index].name: {k: v.copy() for k, v in op.buffers().items()} for index, op in self.stateful}

    def _trace_updates(self, backward: list[LayerBackward], number: int) -> list[ParamUpdate]:
        reduce_mean = self.spec.loss.reduction == "mean"
        by_layer = {b.layer: b for b in backward}
        updates: list[ParamUpdate] = []
        for index, layer in enumerate(self.layers):
            b = by_layer[layer.name]
            per_sample_grads = b.per_sample_grads()
            for kind_index, (definition, per_sample) in enumerate(zip(layer.params, per_sample_grads, strict=True)):
                old = self.tensors[index][kind_index]
                grad = per_sample.mean(axis=0) if reduce_mean else per_sample.sum(axis=0)
                result = self._update(index, kind_index, grad, number, state=True)
                if result is None:
                    result = ParamStep(old, {}, "frozen: not updated")
                updates.append(
                    ParamUpdate(
                        layer.name,
                        definition.kind,
                        old,
                        per_sample,
                        grad,
                        result.new,
                        result.state,
                        result.formula,
                        definition.frozen,
                        result.formulas,
                        result.prior,
                        result.scalars,
                        result.rule,
                        result.rules,
                    )
                )
        return updates

    # ------------------------------------------------------------ fast mode

    def fast_step(self, number: int, rows: tuple[int, ...] | Array) -> FastStep:
        """One step on the batch ``rows`` with gradients reduced at once and nothing recorded."""
        idx = np.asarray(rows, dtype=np.intp)
        x, y = self.x[idx], self.y[idx]
        with np.errstate(all="ignore"):  # non-finite values are caught by the checks, located
            caches = self.forward(x, number)
            out = caches[-1]
            value = self.batch_loss(out.z, out.a, y, number, rows=idx)[2]
            dl_da, combined = self.output_gradient(out.z, out.a, y, number)
            scale = 1.0 / x.shape[0] if self.spec.loss.reduction == "mean" else 1.0
            count = len(self.layers)
            grads: list[tuple[Array, ...]] = [()] * count
            norms = [0.0] * count
            delta = combined if combined is not None else self.layers[-1].delta(out, dl_da)[0]
            skips: dict[int, Array] = {}  # by a residual entry's index: ∂L/∂x along its block's skip
            for index in range(count - 1, -1, -1):
                layer = self.layers[index]
                reduced, grad_norms, downstream = layer.backward_fast(
                    self.tensors[index], caches[index], delta, scale, number, index == 0
                )
                grads[index], norms[index] = tuple(reduced), grad_norms[0] if grad_norms else 0.0
                if self.joins[index]:
                    skips[index - cast(Joins, layer).span] = delta
                if downstream is not None:
                    if index - 1 in skips:  # a residual block's entry: the branch's ∂L/∂x plus the skip's
                        downstream = downstream + skips.pop(index - 1)
                    if self.passes[index - 1] and downstream.dtype != object:
                        delta = downstream
                    else:
                        delta = self.layers[index - 1].delta(caches[index - 1], downstream)[0]
            before = tuple(tuple(t) for t in self.tensors)
            weight_norms: list[float | None] = []
            for index in range(count):
                stepped = None
                for kind_index, grad in enumerate(grads[index]):
                    norm: list[float] = []
                    result = self._update(index, kind_index, grad, number, norms=norm if kind_index == 0 else None)
                    if kind_index == 0 and result is not None:
                        stepped = norm[0] if norm else norm_of(result.new)  # (exact values: no norm from _update)
                weight_norms.append(stepped)
            if not self.evaluating:
                self._end_step(caches)
        self.steps_done = number
        return FastStep(float(value), tuple(caches), tuple(grads), tuple(norms), before, tuple(weight_norms))


def refuse_irrational(spec: NetworkSpec) -> None:
    """``--exact``: a located error naming every operation of the network that is not rational (each
    layer op says whether it is): ``the sigmoid activations of layers h and o and the loss bce are not
    rational; …``."""
    by_activation: dict[str, list[str]] = {}
    reasons: list[str] = []
    for op in build_layers(spec):
        if op.rational:
            continue
        if op.activation in RATIONAL_ACTIVATIONS:
            reasons.append(_("layer {name} (a {kind} layer)").format(name=op.name, kind=op.kind))
        else:
            if op.activation not in by_activation:
                reasons.append(op.activation)  # a place for the activation's layers, written below
            by_activation.setdefault(op.activation, []).append(op.name)
    plural = len(reasons) > 1 or any(len(names) > 1 for names in by_activation.values())
    reasons = [_activation_of(r, by_activation[r]) if r in by_activation else r for r in reasons]
    if spec.loss.name not in RATIONAL_LOSSES:
        reasons.append(_("the loss {name}").format(name=spec.loss.name))
    if spec.optimizer.name not in RATIONAL_OPTIMIZERS:
        reasons.append(_("the optimizer {name} (square roots)").format(name=spec.optimizer.name))
    if reasons:
        plural = plural or len(reasons) > 1
        if plural:
            message = _(
                "{reasons} are not rational; expected activations {activations}, losses {losses} and the "
                "optimizers {optimizers} (or drop --exact)"
            )
        else:
            message = _(
                "{reasons} is not rational; expected activations {activations}, losses {losses} and the "
                "optimizers {optimizers} (or drop --exact)"
            )
        raise ConfigError(
            message.format(
                reasons=_and(reasons),
                activations=", ".join(RATIONAL_ACTIVATIONS),
                losses=", ".join(RATIONAL_LOSSES),
                optimizers=_(" or ").join(RATIONAL_OPTIMIZERS),
            ),
            path="--exact",
        )


def _activation_of(activation: str, layers: list[str]) -> str:
    if len(layers) == 1:
        return _("the {activation} activation of layer {layer}").format(activation=activation, layer=layers[0])
    return _("the {activation} activations of layers {layers}").format(activation=activation, layers=_and(layers))


def _and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


def run(spec: NetworkSpec) -> Iterator[StepRecord]:
    """Trace every configured step of ``spec``."""
    return Engine(spec).run()


__all__ = ["Engine", "FastStep", "batches", "count_steps", "locate", "run"]
