"""Misconceptions as mutations of the computation: the whole trace a student's wrong rule gives.

Each :class:`Mutation` varies one rule of the ops (a loss without its ½, a backward pass without
∂a/∂z, an update up the gradient …) and runs the engine with it, so every number downstream of the
mistake is what a student who holds that misconception would write. Names are the correct trace's:
only values change. ``homework/fingerprints.py`` matches wrong answers against these traces.

A mutation is made from the spec and an engine of it: some vary the config (the loss, its reduction,
the learning rate), the rest wrap one rule of the engine's layers or optimizer. ``applies`` says
whether the network has what the mistake needs (a sigmoid to forget σ′ of, a square weight matrix to
transpose, a batch to reduce); a mutation that applies may still change nothing (ReLU's derivative is 1
where z > 0), which the matcher sees as no difference.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np

from backprop_cli.model.i18n import N_
from backprop_cli.model.spec import Array, LayerSpec, NetworkSpec, OptimizerSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.layers.dense import Dense, DenseCache
from backprop_cli.nn.optim import Optimizer, ParamStep
from backprop_cli.nn.records import LayerBackward, LayerForward, StepRecord


@dataclass(frozen=True)
class Mutation:
    """One named misconception: what the student did, the rule they missed, and how to run it."""

    name: str  # stable id: "missing_activation_derivative"
    title: str  # "missing activation derivative"
    mistake: str  # a sentence in the student's terms: what their numbers show
    rule: str  # the correct rule, as a sentence
    applies: Callable[[NetworkSpec], bool]
    make: Callable[[NetworkSpec], Engine]

    def applicable(self, spec: NetworkSpec) -> bool:
        """Whether it applies here: to a network of dense layers only (the rules it changes are theirs)."""
        return all(isinstance(layer, LayerSpec) for layer in spec.layers) and self.applies(spec)

    def run(self, spec: NetworkSpec) -> Iterator[StepRecord]:
        return self.make(spec).run()


# ---------------------------------------------------------------- config-level variants


def _loss_named(name: str) -> Callable[[NetworkSpec], Engine]:
    def make(spec: NetworkSpec) -> Engine:
        return Engine(replace(spec, loss=replace(spec.loss, name=name)))

    return make


def _swapped_reduction(spec: NetworkSpec) -> Engine:
    other = {"mean": "sum", "sum": "mean"}[spec.loss.reduction]
    return Engine(replace(spec, loss=replace(spec.loss, reduction=other)))


def _lr_squared(spec: NetworkSpec) -> Engine:
    lr = spec.optimizer.learning_rate
    optimizer = OptimizerSpec(spec.optimizer.name, lr * lr, spec.optimizer.options)
    return Engine(replace(spec, optimizer=optimizer))


def _batch_of_several(spec: NetworkSpec) -> bool:
    size = spec.training.batch_size or spec.data.rows
    return min(size, spec.data.rows) > 1 and spec.loss.reduction in ("mean", "sum")


# ---------------------------------------------------------------- rule-level variants


class _Optimizer:
    """An optimizer whose step sees another gradient (``change(key, grad)``); all else is the real one's."""

    def __init__(self, inner: Optimizer, change: Callable[[str, Array], Array]) -> None:
        self.inner = inner
        self.name = inner.name
        self.change = change

    @property
    def hyper(self) -> Mapping[str, float]:
        return self.inner.hyper

    @property
    def flags(self) -> tuple[str, ...]:
        return self.inner.flags

    def step(self, key: str, param: Array, grad: Array) -> ParamStep:
        return self.inner.step(key, param, self.change(key, grad))


def _optimizer_seeing(change: Callable[[str, Array], Array]) -> Callable[[NetworkSpec], Engine]:
    def make(spec: NetworkSpec) -> Engine:
        engine = Engine(spec)
        engine.optimizer = _Optimizer(engine.optimizer, change)
        return engine

    return make


def _dense(engine: Engine) -> list[Dense]:
    return [layer for layer in engine.layers if isinstance(layer, Dense)]


def _ascent(key: str, grad: Array) -> Array:
    return -grad


def _no_bias_gradient(key: str, grad: Array) -> Array:
    return np.zeros_like(grad) if key.endswith(".biases") else grad


def _without_derivative(spec: NetworkSpec) -> Engine:
    """∂a/∂z taken as 1 in every layer but a softmax (whose Jacobian is its own misconception)."""
    engine = Engine(spec)
    for layer in _dense(engine):
        if layer.activation != "softmax":
            setattr(layer, "_derivative", lambda z, a: np.ones_like(z))  # noqa: B010 (one rule of this layer)
    return engine


def _elementwise_softmax(spec: NetworkSpec) -> Engine:
    """The softmax Jacobian replaced by its diagonal: ∂a_j/∂z_j = a_j(1 − a_j), the rest taken as 0."""
    engine = Engine(spec)
    for layer in _dense(engine):
        if layer.activation == "softmax":
            setattr(layer, "delta", _diagonal_delta(layer))  # noqa: B010
    return engine


def _diagonal_delta(layer: Dense) -> Callable[[DenseCache, Array], tuple[Array, Array, Array | None]]:
    def delta(cache: DenseCache, upstream: Array) -> tuple[Array, Array, Array | None]:
        diagonal = cache.a * (1 - cache.a)
        units = cache.a.shape[1]
        jacobian = diagonal[:, :, None] * np.eye(units)[None, :, :]
        return upstream * diagonal, diagonal, jacobian

    return delta


def _downstream_through(weights_of: Callable[[Engine, Dense, LayerBackward], Array]) -> Callable[[NetworkSpec], Engine]:
    """An engine whose layers pass ∂L/∂a down through other weights than their own (δ·W' for W')."""

    def make(spec: NetworkSpec) -> Engine:
        engine = Engine(spec)
        for layer in _dense(engine):
            setattr(layer, "backward_trace", _passing_down(engine, layer, weights_of))  # noqa: B010
        return engine

    return make


def _passing_down(
    engine: Engine, layer: Dense, weights_of: Callable[[Engine, Dense, LayerBackward], Array]
) -> Callable[[LayerForward, Array, tuple[Array, str] | None, int, bool], LayerBackward]:
    def original(
        fwd: LayerForward, upstream: Array, combined: tuple[Array, str] | None, step: int, first: bool
    ) -> LayerBackward:
        return Dense.backward_trace(layer, fwd, upstream, combined, step, first)

    def backward_trace(
        fwd: LayerForward, upstream: Array, combined: tuple[Array, str] | None, step: int, first: bool
    ) -> LayerBackward:
        rec = original(fwd, upstream, combined, step, first)
        if rec.downstream is None:
            return rec
        return replace(rec, downstream=rec.delta @ weights_of(engine, layer, rec))

    return backward_trace


def _updated(engine: Engine, layer: Dense, rec: LayerBackward) -> Array:
    """The layer's weights after this step's update (computed on a copy of the optimizer's state)."""
    assert rec.weights is not None and rec.grad_w is not None  # a dense layer's record holds both
    if layer.params[0].frozen:
        return rec.weights
    grad = rec.grad_w.mean(axis=0) if engine.spec.loss.reduction == "mean" else rec.grad_w.sum(axis=0)
    tentative = copy.deepcopy(engine.optimizer)
    return tentative.step(f"{layer.name}.weights", rec.weights, grad).new


def _transposed(engine: Engine, layer: Dense, rec: LayerBackward) -> Array:
    """Wᵀ where it has W's shape (a square matrix); a matrix that is not square cannot stand in for itself."""
    weights = rec.weights
    assert weights is not None  # a dense layer's record holds its weights
    units, fan_in = weights.shape
    return weights.T if units == fan_in else weights


def _has(activations: tuple[str, ...]) -> Callable[[NetworkSpec], bool]:
    return lambda spec: any(layer.activation in activations for layer in spec.layers)


def _square_above(spec: NetworkSpec) -> bool:
    """A layer above the first whose weight matrix is square (a transposed one has the same shape)."""
    sizes = [len(spec.inputs)] + [layer.units for layer in spec.layers]
    return any(sizes[i] == sizes[i + 1] for i in range(1, len(spec.layers)))


def _several_layers(spec: NetworkSpec) -> bool:
    return len(spec.layers) > 1


def _has_biases(spec: NetworkSpec) -> bool:
    return any(
        isinstance(layer, LayerSpec) and layer.biases is not None and "biases" not in layer.frozen
        for layer in spec.layers
    )


MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "missing_activation_derivative",
        N_("missing activation derivative"),
        N_("your δ leaves out the activation's derivative ∂a/∂z (σ′, tanh′, ReLU′): δ = ∂L/∂a alone"),
        N_("δ = ∂L/∂a × ∂a/∂z, e.g. ∂a/∂z = a·(1 − a) for a sigmoid, 1 − a² for tanh, 1 or 0 for ReLU"),
        _has(("sigmoid", "tanh", "relu", "leaky_relu")),
        _without_derivative,
    ),
    Mutation(
        "updated_weights_in_backward",
        N_("updated weights used in the backward pass"),
        N_("you passed δ down through the weights already updated in this step"),
        N_("∂L/∂a_i of the layer below = Σ_j δ_j·w_ji with the weights of the forward pass, before any update"),
        _several_layers,
        _downstream_through(_updated),
    ),
    Mutation(
        "gradient_ascent",
        N_("sign flip in the update (gradient ascent)"),
        N_("your update moves up the gradient: w + η·∂L/∂w"),
        N_("gradient descent subtracts: w_new = w − η·∂L/∂w"),
        lambda spec: True,
        _optimizer_seeing(_ascent),
    ),
    Mutation(
        "missing_half",
        N_("missing ½ of the half squared error"),
        N_("you differentiated ½·(a − y)² as if it were (a − y)²: every gradient is twice the right one"),
        N_("for L = ½·Σ(a − y)², ∂L/∂a = a − y (the 2 of the square cancels the ½)"),
        lambda spec: spec.loss.name == "half_sse",
        _loss_named("sse"),
    ),
    Mutation(
        "missing_mean",
        N_("missing 1/N of the mean over the outputs"),
        N_("you summed the squared errors over the outputs instead of taking their mean: ∂L/∂a = 2·(a − y)"),
        N_("for the mean squared error over K outputs, ∂L/∂a = 2·(a − y) / K"),
        lambda spec: spec.loss.name == "mse" and spec.layers[-1].units > 1,
        _loss_named("sse"),
    ),
    Mutation(
        "mean_sum_swapped",
        N_("mean and sum over the batch swapped"),
        N_("you reduced the batch's gradients the other way round (a sum for a mean, or a mean for a sum)"),
        N_("reduction: mean divides the summed per-sample gradients by the batch size; sum does not"),
        _batch_of_several,
        _swapped_reduction,
    ),
    Mutation(
        "transposed_weights",
        N_("weight matrix transposed in the backward pass"),
        N_("you passed δ down with w_ij where w_ji belongs (the weight matrix transposed)"),
        N_("∂L/∂a_i = Σ_j δ_j·w_ji: the weights out of neuron i of the layer below, W's column i"),
        _square_above,
        _downstream_through(_transposed),
    ),
    Mutation(
        "learning_rate_twice",
        N_("learning rate applied twice"),
        N_("you multiplied the gradient by the learning rate twice: w − η²·∂L/∂w"),
        N_("w_new = w − η·∂L/∂w, with η once"),
        lambda spec: spec.optimizer.learning_rate != 1,
        _lr_squared,
    ),
    Mutation(
        "bias_gradient_forgotten",
        N_("bias gradient forgotten"),
        N_("you left the biases out of the update, as if their gradient were 0"),
        N_("biases are parameters too: b_new = b − η·∂L/∂b with ∂L/∂b = δ"),
        _has_biases,
        _optimizer_seeing(_no_bias_gradient),
    ),
    Mutation(
        "softmax_elementwise",
        N_("softmax Jacobian taken as elementwise"),
        N_("you used ∂a_j/∂z_j = a_j(1 − a_j) alone, as if each softmax output depended on its own z only"),
        N_("∂a_k/∂z_j = a_k(1 − a_j) if k = j, else −a_k·a_j: δ_j = Σ_k ∂L/∂a_k·∂a_k/∂z_j"),
        _has(("softmax",)),
        _elementwise_softmax,
    ),
)

BY_NAME = {m.name: m for m in MUTATIONS}
