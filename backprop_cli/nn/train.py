"""Many steps, fast: the engine's fast mode over the whole schedule, and the history of the run.

Each step is :meth:`backprop_cli.nn.engine.Engine.fast_step`: the same ops, batches, losses and
optimizer as the trace, with gradients reduced over the batch at once and nothing recorded. The
loss on all data rows is computed before and after training, and after each pass only when asked
(``each_pass``). The parameters agree with ``Engine.run()`` to rounding (tests/nn/test_train.py holds
them to 1e-12).

Never prints: progress is reported through a callback.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backprop_cli.model.i18n import N_
from backprop_cli.model.spec import Array, DataSpec, NetworkSpec
from backprop_cli.nn.check import norm_of
from backprop_cli.nn.diagnostics import Flow, LayerStats, checked, flow, layer_stats, mean_of, mean_stats
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.faults import fault
from backprop_cli.nn.optim import Optimizer

Progress = Callable[[int, int], None]  # (steps done, total steps)


@dataclass(frozen=True)
class Accuracy:
    correct: int
    total: int

    @property
    def share(self) -> float:
        return self.correct / self.total


def accuracy(spec: NetworkSpec, a_out: Array, y: Array) -> Accuracy | None:
    """Share of rows classified right, for class targets (0/1) on a softmax or sigmoid output; else None.

    softmax: the predicted class is the largest output, the true class the target's 1 (one per row).
    sigmoid: each output is read as yes when ≥ 0.5; a row is right when every output is.
    """
    if not np.isin(y, (0.0, 1.0)).all():
        return None
    activation = spec.layers[-1].activation
    if activation == "softmax" and (y.sum(axis=1) == 1).all():
        right = np.argmax(a_out, axis=1) == np.argmax(y, axis=1)
    elif activation == "sigmoid":
        right = ((a_out >= 0.5) == (y == 1.0)).all(axis=1)
    else:
        return None
    return Accuracy(int(right.sum()), int(y.shape[0]))


@dataclass(frozen=True)
class EpochPoint:
    """The state after ``epoch`` passes (epoch 0: before training)."""

    epoch: int
    step: int  # steps done so far
    loss: float | None  # on all data rows; None where not evaluated (see TrainingRun.each_pass)
    accuracy: Accuracy | None  # on all data rows, where evaluated
    batch_loss: float | None  # mean of this epoch's batch losses, before each update (None for epoch 0)
    diagnostics: tuple[LayerStats, ...]  # means over this epoch's steps (empty for epoch 0)


@dataclass(frozen=True)
class TensorChange:
    """One weight matrix or bias vector: its shape and how training moved it."""

    name: str  # ``layer1.weights``
    frozen: bool
    shape: tuple[int, ...]
    size: int
    mean_before: float
    mean_after: float
    mean_abs_change: float
    max_abs_change: float


@dataclass(frozen=True)
class HeldOutResult:
    """The trained network on held-out rows (data.test): never trained on, evaluated once after training."""

    source: str  # the file
    rows: int
    loss: float
    accuracy: Accuracy | None


@dataclass(frozen=True)
class TrainResult:
    spec: NetworkSpec
    steps: int
    steps_per_epoch: int  # one pass over the data
    batch_size: int
    history: tuple[EpochPoint, ...]  # epoch 0 first
    tensors: tuple[dict[str, Array], ...]  # per layer, the trained parameters by kind (weights, biases, …)
    first_step: tuple[LayerStats, ...]  # diagnostics of step 1
    mean: tuple[LayerStats, ...]  # diagnostics averaged over every step
    each_pass: bool = False  # the loss on all data evaluated after every pass (else before and after only)
    buffers: tuple[dict[str, Array], ...] = ()  # per layer, its buffers after training (batch norm's running stats)
    test: HeldOutResult | None = None  # the loss and accuracy on data.test after training, where given

    @property
    def weights(self) -> tuple[Array | None, ...]:
        """Each layer's trained weights (None for a layer without)."""
        return tuple(t.get("weights") for t in self.tensors)

    @property
    def biases(self) -> tuple[Array | None, ...]:
        return tuple(t.get("biases") for t in self.tensors)

    @property
    def before(self) -> EpochPoint:
        return self.history[0]

    @property
    def final(self) -> EpochPoint:
        return self.history[-1]

    @property
    def loss_before(self) -> float:
        """The loss on all data rows before training."""
        assert self.before.loss is not None  # evaluated always
        return self.before.loss

    @property
    def loss_final(self) -> float:
        """The loss on all data rows after the last step."""
        assert self.final.loss is not None  # evaluated always
        return self.final.loss

    @property
    def flow_first(self) -> Flow | None:
        return flow(self.first_step)

    @property
    def flow_mean(self) -> Flow | None:
        return flow(self.mean)

    def tensor_changes(self) -> list[TensorChange]:
        """Every weight matrix and bias vector, in layer order, with the statistics of its change."""
        changes: list[TensorChange] = []
        for layer, trained in zip(self.spec.layers, self.tensors, strict=True):
            initial = layer.tensors()
            for kind, after in trained.items():
                before = initial[kind]
                with np.errstate(over="ignore"):
                    moved = np.abs(after - before)
                change = TensorChange(
                    f"{layer.name}.{kind}",
                    kind in layer.frozen,
                    before.shape,
                    before.size,
                    mean_of(before),
                    mean_of(after),
                    mean_of(moved),
                    float(moved.max()),
                )
                if not math.isfinite(change.max_abs_change):  # two finite values 1e308 apart
                    raise fault(
                        step=self.steps,
                        layer=layer.name,
                        quantity=f"the change of {layer.name}.{kind} over the run (a summary statistic)",
                        value=change.max_abs_change,
                        detail=N_("it overflows float64 although every value is finite; rescale the inputs"),
                    )
                changes.append(change)
        return changes

    def parameters(self) -> dict[str, dict[str, Any]]:
        """The trained parameters in the JSON contract's layout: {layer: {weights, biases}} (a layer
        without parameters is left out)."""
        return {
            layer.name: {kind: t.tolist() for kind, t in trained.items()}
            for layer, trained in zip(self.spec.layers, self.tensors, strict=True)
            if trained
        }


class TrainingRun:
    """Every configured step of ``spec`` in the engine's fast mode, with the history of the run.

    Holds no arithmetic of its own: each step is :meth:`Engine.fast_step`, the loss on all data is
    :meth:`TrainingRun.evaluate` (the engine's forward pass and loss), and the diagnostics come from
    what the step leaves behind.
    """

    def __init__(self, spec: NetworkSpec, optimizer: Optimizer | None = None, *, each_pass: bool = False) -> None:
        self.spec = spec
        self.engine = Engine(spec, optimizer)
        # Loss and accuracy on all data rows after every pass, not only before and after training: one
        # more forward pass over the whole data set per pass (for the 784-128-10 benchmark network,
        # half again the arithmetic of training itself).
        self.each_pass = each_pass
        self.schedule = self.engine.schedule
        self.batch_size = min(spec.training.batch_size or spec.data.rows, spec.data.rows)
        # ‖W‖ of each layer's current weights, from the step that made them (kept by array identity:
        # the optimizers return a new array each step and nothing changes one in place between steps)
        self._weight_norms: list[tuple[Array, float] | None] = [None] * len(spec.layers)
        # the layers with weights (their first parameter): the diagnostics are of weights and their gradients
        self._weighted = [i for i, op in enumerate(self.engine.layers) if op.params and op.params[0].kind == "weights"]

    @property
    def weights(self) -> list[Array | None]:
        return self.engine.params.weights

    @property
    def biases(self) -> list[Array | None]:
        return self.engine.params.biases

    def evaluate(self, step: int, data: DataSpec | None = None) -> tuple[float, Accuracy | None]:
        """Loss and accuracy on every data row (or every row of ``data``) with the current parameters."""
        x, y = (data or self.spec.data).x, (data or self.spec.data).y
        # before training, located as the step it comes before (as Engine.loss does)
        during = f" (evaluating all data after step {step})" if step else " (evaluating all data before the first step)"
        if data is not None:
            during = f" (evaluating the test rows of {data.source} after step {step})"
        at = step or 1
        with np.errstate(all="ignore"):
            caches = self.engine.forward(x, at, during, evaluating=True)
            value = self.engine.batch_loss(caches[-1].z, caches[-1].a, y, at, during, rows=range(len(x)))[2]
        return float(value), accuracy(self.spec, caches[-1].a, y)

    def step(self, number: int, rows: tuple[int, ...] | Array) -> tuple[float, list[LayerStats]]:
        """One update on the batch ``rows``: (the batch loss before it, the layers' diagnostics)."""
        old_norms = {index: self._weight_norm(index) for index in self._weighted}
        done = self.engine.fast_step(number, rows)
        stats = []
        for index in self._weighted:
            layer = self.spec.layers[index]
            new = self.engine.tensors[index][0]
            if (norm := done.new_weight_norms[index]) is not None:
                self._weight_norms[index] = (new, norm)
            cache = done.caches[index]
            stats.append(
                checked(
                    layer_stats(
                        layer.name,
                        layer.activation,
                        cache.z,
                        cache.a,
                        done.grads[index][0],
                        done.before[index][0],
                        new,
                        "weights" in layer.frozen,
                        grad_norm=done.grad_norms[index],
                        old_norm=old_norms[index],
                    ),
                    number,
                )
            )
        return done.loss, stats

    def _weight_norm(self, index: int) -> float:
        kept, weights = self._weight_norms[index], self.engine.tensors[index][0]
        return kept[1] if kept is not None and kept[0] is weights else norm_of(weights)

    # ------------------------------------------------------------ the run

    def run(self, progress: Progress | None = None) -> TrainResult:
        """Every configured step; the loss on all data before and after, and after each pass with ``each_pass``."""
        total = len(self.schedule)
        per_epoch = -(-self.spec.data.rows // self.batch_size)
        loss0, acc0 = self.evaluate(0)
        history = [EpochPoint(0, 0, loss0, acc0, None, ())]
        first: list[LayerStats] = []
        epoch_losses: list[float] = []
        epoch_stats: list[list[LayerStats]] = []
        epochs: list[tuple[tuple[LayerStats, ...], int]] = []
        every = max(1, total // 500)
        for number, rows in enumerate(self.schedule, start=1):
            value, stats = self.step(number, rows)
            if number == 1:
                first = stats
            epoch_losses.append(value)
            epoch_stats.append(stats)
            if number % per_epoch == 0 or number == total:
                loss, acc = self.evaluate(number) if self.each_pass or number == total else (None, None)
                epoch_mean = tuple(mean_stats(epoch_stats))
                batch_loss = mean_of(epoch_losses)
                history.append(EpochPoint(-(-number // per_epoch), number, loss, acc, batch_loss, epoch_mean))
                epochs.append((epoch_mean, len(epoch_stats)))
                epoch_losses, epoch_stats = [], []
            if progress is not None and (number % every == 0 or number == total):
                progress(number, total)
        test = None
        if (held_out := self.spec.data.test) is not None:
            test_loss, test_acc = self.evaluate(total, held_out)
            test = HeldOutResult(held_out.source, held_out.rows, test_loss, test_acc)
        return TrainResult(
            spec=self.spec,
            steps=total,
            steps_per_epoch=per_epoch,
            batch_size=self.batch_size,
            history=tuple(history),
            tensors=tuple(dict(self.engine.named_tensors(index)) for index in range(len(self.spec.layers))),
            buffers=tuple(self.engine.buffers().get(layer.name, {}) for layer in self.spec.layers),
            first_step=tuple(first),
            mean=tuple(_run_mean(epochs)),
            each_pass=self.each_pass,
            test=test,
        )


def _run_mean(epochs: list[tuple[tuple[LayerStats, ...], int]]) -> list[LayerStats]:
    """Per layer, the mean of each diagnostic over every step, from the epochs' means and step counts."""
    if not epochs:
        return []

    def mean(values: list[tuple[float | None, int]]) -> float | None:
        present = [(v, n) for v, n in values if v is not None]
        if not present:
            return None
        total = sum(n for _, n in present)
        mean = sum(v * n for v, n in present) / total
        # finite means whose weighted sum overflows: weighted by their shares instead, which cannot
        return mean if math.isfinite(mean) else sum(v * (n / total) for v, n in present)

    out: list[LayerStats] = []
    for index, first in enumerate(epochs[0][0]):
        column = [(stats[index], n) for stats, n in epochs]
        out.append(
            LayerStats(
                first.layer,
                first.activation,
                mean([(s.grad_norm, n) for s, n in column]) or 0.0,
                mean([(s.update_ratio, n) for s, n in column]),
                mean([(s.dead_relu, n) for s, n in column]),
                mean([(s.saturated, n) for s, n in column]),
            )
        )
    return out


def train(spec: NetworkSpec, progress: Progress | None = None, *, each_pass: bool = False) -> TrainResult:
    """Train ``spec`` for its configured steps or epochs. Raises NumericalFault at the first non-finite value."""
    return TrainingRun(spec, each_pass=each_pass).run(progress)


def trained_config(result: TrainResult, directory: Path | None = None) -> dict[str, Any]:
    """The trained network as a config for tracing it: the trained parameters, training of one step.

    ``training`` keeps the batch size, shuffling and seed, with ``steps: 1``: ``backprop trace`` shows
    the trained network's next step (not the whole run again), and ``train --epochs N`` trains it on.
    Data rows are written inline, except rows read from a CSV label column: the config then reads that
    file (by a path relative to ``directory``, where the config is written, when the file lies there or
    below, else absolute) with its feature and label columns and its class order, so the output units
    keep their classes, also for ``--data``.
    """
    from backprop_cli.nn.layers.residual import nest  # imported by `train --save` alone, not every run

    spec = result.spec
    layers: list[dict[str, Any]] = []
    buffers = result.buffers or tuple({} for _ in spec.layers)
    for layer, trained, kept in zip(spec.layers, result.tensors, buffers, strict=True):
        layers.append(layer.config(trained | kept))
    layers = nest(spec.layers, layers)  # a residual block's inner layers back inside it
    optimizer = {k: v for k, v in spec.normalised.get("optimizer", {}).items() if v is not None} or {
        "name": spec.optimizer.name,
        "learning_rate": spec.optimizer.learning_rate,
    }
    t = spec.training
    given: dict[str, object] = {"steps": 1, "batch_size": t.batch_size, "shuffle": t.shuffle, "seed": t.seed}
    given |= {"mode": t.mode} if t.mode != "train" else {}
    training = {k: v for k, v in given.items() if v is not None and v is not False}
    described = spec.description or "a trained network"
    return {
        "description": f"{described} (trained: {result.steps} steps by backprop train)",
        "network": {"inputs": list(spec.input_shape or spec.inputs), "layers": layers},
        "loss": {"name": spec.loss.name, "reduction": spec.loss.reduction},
        "optimizer": optimizer,
        "data": _saved_data(spec, directory),
        "training": training,
    }


def _saved_data(spec: NetworkSpec, directory: Path | None) -> Any:
    data = spec.data
    if data.file is None or data.features is None or data.label is None or data.class_names is None:
        return [{"x": x.tolist(), "y": y.tolist()} for x, y in zip(data.x, data.y, strict=True)]
    # relative where the file lies in the config's folder or below (the pair moves together), else absolute
    where, home = Path(data.file).resolve(), (directory or Path.cwd()).resolve()
    file = where.relative_to(home).as_posix() if where.is_relative_to(home) else where.as_posix()
    return {"file": file, "features": list(data.features), "label": data.label, "classes": list(data.class_names)}
