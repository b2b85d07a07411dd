"""Forward, backward and update on numpy arrays, producing trace records. Never prints.

Semantics follow PyTorch (design notes): z = a_prev·Wᵀ + b, per-sample losses reduced over the batch
by mean or sum, float64 throughout. Each sample's backward pass is computed for its own loss L_s and
the batch gradient is the mean (or sum) of the per-sample gradients, which is exactly what autograd
gives for the reduced loss, and lets the trace show each sample's chain rule on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backprop_cli.budget import guard_schedule
from backprop_cli.errors import NumericalFault
from backprop_cli.ops import ACTIVATIONS, loss_op, softmax_jacobian
from backprop_cli.optim import Optimizer, ParamStep, make_optimizer
from backprop_cli.spec import Array, LayerSpec, NetworkSpec, TrainingSpec
from backprop_cli.trace import LayerBackward, LayerForward, LossRecord, ParamUpdate, StepRecord, param_name

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


@dataclass
class _Params:
    """The mutable parameters between steps (the spec itself stays untouched)."""

    weights: list[Array]
    biases: list[Array | None]


def _check(values: Array, *, step: int, layer: str | None, quantity: str) -> None:
    """Raise a located NumericalFault at the first non-finite entry (neuron = last axis, 1-based)."""
    if np.isfinite(values).all():
        return
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
    neuron = index[-1] + 1 if index else None
    raise NumericalFault(step=step, layer=layer, neuron=neuron, quantity=quantity, value=float(values[index]))


def check_loss(
    per_sample: Array,
    value: float,
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
    bad = np.flatnonzero(~np.isfinite(per_sample))
    if bad.size:
        position = int(bad[0])
        sample = f"data row {int(rows[position]) + 1}" if rows is not None else f"sample {position + 1} of the batch"
        raise NumericalFault(
            step=step,
            layer=layer,
            quantity=f"the loss of {sample} (the sum of its finite loss terms){during}",
            value=float(per_sample[position]),
            detail="the loss overflows float64; lower the learning rate or rescale the inputs and targets",
        )
    if not math.isfinite(value):
        raise NumericalFault(
            step=step,
            layer=layer,
            quantity=f"the batch loss (from finite per-sample losses){during}",
            value=value,
            detail="the loss overflows float64; lower the learning rate or rescale the inputs and targets",
        )


def _forward(
    spec: NetworkSpec, params: _Params, x: Array, step: int, *, record: bool
) -> tuple[list[LayerForward], Array, Array]:
    records: list[LayerForward] = []
    a = x
    names = spec.inputs
    z = x
    for layer, w, b in zip(spec.layers, params.weights, params.biases, strict=True):
        act = ACTIVATIONS[layer.activation]
        z = a @ w.T
        if b is not None:
            z = z + b
        _check(z, step=step, layer=layer.name, quantity="weighted sum z")
        out = act.forward(z, layer.negative_slope)
        _check(out, step=step, layer=layer.name, quantity="activation a")
        if record:
            records.append(LayerForward(layer.name, layer.activation, layer.negative_slope, names, a, w, b, z, out))
        names = tuple(f"{layer.name}.a{j + 1}" for j in range(layer.units))
        a = out
    return records, z, a


def _loss(
    spec: NetworkSpec, z: Array, a: Array, y: Array, step: int, rows: Sequence[int] | None = None
) -> tuple[Array, Array, float]:
    loss = loss_op(spec.loss.name, spec.loss.reduction)
    terms = loss.terms(a, y, z)
    _check(terms, step=step, layer=spec.layers[-1].name, quantity=f"{loss.name} loss term")
    per_sample = terms.sum(axis=1)
    value = float(per_sample.mean() if spec.loss.reduction == "mean" else per_sample.sum())
    check_loss(per_sample, value, step=step, layer=spec.layers[-1].name, rows=rows)
    return terms, per_sample, value


def _backward_layer(
    layer: LayerSpec,
    fwd: LayerForward,
    upstream: Array,
    combined_delta: Array | None,
    combined_template: str | None,
    first: bool,
    step: int,
) -> LayerBackward:
    act = ACTIVATIONS[layer.activation]
    local = act.derivative(fwd.z, fwd.a, layer.negative_slope)
    jacobian = None
    with np.errstate(invalid="ignore", over="ignore"):
        if layer.activation == "softmax":
            jacobian = softmax_jacobian(fwd.a)
            chain = np.einsum("bk,bkj->bj", upstream, jacobian)
        else:
            chain = upstream * local
    delta = combined_delta if combined_delta is not None else chain
    _check(delta, step=step, layer=layer.name, quantity="δ = ∂L/∂z")
    grad_w = delta[:, :, None] * fwd.inputs[:, None, :]
    _check(grad_w, step=step, layer=layer.name, quantity="weight gradient ∂L/∂w")
    downstream = None if first else delta @ fwd.weights
    if downstream is not None:
        _check(downstream, step=step, layer=layer.name, quantity="∂L/∂a of the layer below")
    return LayerBackward(
        layer=layer.name,
        activation=layer.activation,
        negative_slope=layer.negative_slope,
        input_names=fwd.input_names,
        z=fwd.z,
        a=fwd.a,
        upstream=upstream,
        local=local,
        jacobian=jacobian,
        chain=chain,
        delta=delta,
        combined=combined_template,
        inputs=fwd.inputs,
        weights=fwd.weights,
        grad_w=grad_w,
        grad_b=None if fwd.biases is None else delta,
        downstream=downstream,
    )


class Engine:
    """Runs the configured steps, yielding one :class:`StepRecord` per step (streamed, not stored)."""

    def __init__(self, spec: NetworkSpec, optimizer: Optimizer | None = None) -> None:
        self.spec = spec
        self.optimizer = optimizer or make_optimizer(spec.optimizer)
        self.params = _Params(
            weights=[layer.weights.astype(np.float64, copy=True) for layer in spec.layers],
            biases=[
                None if layer.biases is None else layer.biases.astype(np.float64, copy=True) for layer in spec.layers
            ],
        )
        self.schedule = batches(spec.data.rows, spec.training)
        self.steps_done = 0

    def run(self) -> Iterator[StepRecord]:
        multi = len(self.schedule) > 1
        for number, rows in enumerate(self.schedule, start=1):
            yield self.step(number, rows, multi_step=multi)

    def loss(self, rows: tuple[int, ...] | None = None) -> float:
        """The current loss over ``rows`` (default: all data), without recording anything."""
        idx = list(rows) if rows is not None else slice(None)
        x, y = self.spec.data.x[idx], self.spec.data.y[idx]
        step = self.steps_done or 1  # located as the step it comes before (or, after a run, after)
        try:
            with np.errstate(all="ignore"):
                _, z, a = _forward(self.spec, self.params, x, step, record=False)
                return _loss(self.spec, z, a, y, step, rows if rows is not None else range(len(x)))[2]
        except NumericalFault as fault:
            when = f"after step {step}" if self.steps_done else "before the first step"
            quantity = f"{fault.quantity} (in the loss over {'the batch' if rows else 'all data'} {when})"
            raise NumericalFault(
                step=step,
                layer=fault.layer,
                neuron=fault.neuron,
                quantity=quantity,
                value=fault.value,
                detail=fault.detail,
            ) from None

    def step(self, number: int, rows: tuple[int, ...], *, multi_step: bool = False) -> StepRecord:
        spec = self.spec
        x = spec.data.x[list(rows)]
        y = spec.data.y[list(rows)]
        with np.errstate(all="ignore"):  # non-finite values are caught by _check, located
            forward, z_out, a_out = _forward(spec, self.params, x, number, record=True)
            terms, per_sample, value = _loss(spec, z_out, a_out, y, number, rows)
            loss_fn = loss_op(spec.loss.name, spec.loss.reduction)
            dl_da = loss_fn.grad(a_out, y, z_out)
            out_layer = spec.layers[-1]
            use_combined = loss_fn.combined is not None and loss_fn.pairs_with == out_layer.activation
            if not use_combined:
                _check(dl_da, step=number, layer=out_layer.name, quantity="∂L/∂a of the output")
            loss_rec = LossRecord(
                spec.loss.name, spec.loss.reduction, out_layer.name, a_out, y, terms, per_sample, value, dl_da
            )
            backward: list[LayerBackward] = []
            upstream = dl_da
            for index in range(len(spec.layers) - 1, -1, -1):
                last = index == len(spec.layers) - 1
                combined = loss_fn.combined(a_out, y) if (last and use_combined and loss_fn.combined) else None
                rec = _backward_layer(
                    spec.layers[index],
                    forward[index],
                    upstream,
                    combined,
                    loss_fn.combined_template if combined is not None else None,
                    index == 0,
                    number,
                )
                backward.append(rec)
                if rec.downstream is not None:
                    upstream = rec.downstream
            updates = self._update(backward, number)
            _, z_after, a_after = _forward(spec, self.params, x, number, record=False)
            loss_after = _loss(spec, z_after, a_after, y, number, rows)[2]
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
        )

    def _update(self, backward: list[LayerBackward], number: int) -> list[ParamUpdate]:
        reduce_mean = self.spec.loss.reduction == "mean"
        by_layer = {b.layer: b for b in backward}
        updates: list[ParamUpdate] = []
        for index, layer in enumerate(self.spec.layers):
            b = by_layer[layer.name]
            pairs: list[tuple[str, Array, Array]] = [("weights", self.params.weights[index], b.grad_w)]
            bias = self.params.biases[index]
            if bias is not None and b.grad_b is not None:
                pairs.append(("biases", bias, b.grad_b))
            for kind, old, per_sample in pairs:
                grad = per_sample.mean(axis=0) if reduce_mean else per_sample.sum(axis=0)
                frozen = kind in layer.frozen
                if frozen:  # like torch with requires_grad=False: not stepped, no optimizer state
                    result = ParamStep(old, {}, "frozen: not updated")
                else:
                    result = self.optimizer.step(f"{layer.name}.{kind}", old, grad)
                    self._check_update(result, layer.name, kind, number)
                new = result.new
                updates.append(
                    ParamUpdate(
                        layer.name,
                        kind,
                        old,
                        per_sample,
                        grad,
                        new,
                        result.state,
                        result.formula,
                        frozen,
                        result.formulas,
                        result.prior,
                        result.scalars,
                    )
                )
                if kind == "weights":
                    self.params.weights[index] = new
                else:
                    self.params.biases[index] = new
        return updates

    def _check_update(self, result: ParamStep, layer: str, kind: str, number: int) -> None:
        """A non-finite new value, named as the parameter (h.w1_2), with the optimizer's part in it;
        then the optimizer state the trace shows (Adam's v = β₂·v + (1 − β₂)·g² overflows for a huge
        gradient while the step m̂/(√v̂ + ε) stays finite)."""
        eps_hint = ", and keep eps > 0 so that a zero gradient does not divide 0 by 0"
        for state, values in [("", result.new), *result.state.items()]:
            bad = np.argwhere(~np.isfinite(values))
            if not bad.size:
                continue
            index = tuple(int(i) for i in bad[0])
            name = param_name(layer, kind, index)
            raise NumericalFault(
                step=number,
                layer=layer,
                neuron=index[0] + 1,
                quantity=f"{self.optimizer.name}'s {state} of {name}" if state else f"the updated {name}",
                value=float(values[index]),
                detail=f"{self.optimizer.name} produced it; lower the learning rate"
                + (eps_hint if "eps" in self.optimizer.hyper and not state else "")
                + (" or rescale the inputs: the gradient is too large for its running averages" if state else ""),
            )


def run(spec: NetworkSpec) -> Iterator[StepRecord]:
    """Trace every configured step of ``spec``."""
    return Engine(spec).run()
