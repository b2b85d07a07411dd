"""The one place landscapes call the engine, the ops registry and the optimizers.

Everything else in :mod:`backprop_cli.landscape` works on flat parameter vectors θ (every weight and
bias in layer order, weights row by row, named as the trace names them) and calls these functions:

- :func:`run`: the configured steps of one optimizer variant through :class:`~backprop_cli.nn.engine.Engine`,
  keeping the parameters after every step, so a path's points are the trace's numbers;
- :func:`plane_losses`: the loss at θ = c + α·d₁ + β·d₂ for a whole grid of (α, β) at once;
- :func:`losses_at`: the loss at many parameter vectors at once (a path's points);
- :func:`gradient`: ∂L/∂θ at one θ, from the engine's backward pass.

The vectorised forward pass uses the ops registry's forward functions, which work on batch-first
arrays: a leading grid axis is added in front of the batch axis from the first layer the plane moves,
so no Python loop runs over grid points (only over chunks of them, to bound memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from backprop_cli.errors import ConfigError, NumericalFault
from backprop_cli.model.names import bias_name, weight_name
from backprop_cli.model.spec import Array, LayerSpec, NetworkSpec, OptimizerSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.ops import ACTIVATIONS, LOSSES
from backprop_cli.nn.optim import OPTIMIZERS, make_optimizer
from backprop_cli.nn.records import StepRecord

MAX_RUNS = 8  # paths overlaid on one picture, or runs compared
MAX_RUN_STEPS = 10_000  # steps of one run (each is kept: its parameters are a point of the path)
CHUNK_FLOATS = 1 << 22  # about 32 MiB of float64 per chunk of grid points


@dataclass(frozen=True)
class Block:
    """One weight matrix or bias vector inside the flat vector."""

    layer: int  # index into spec.layers
    kind: str  # "weights" or "biases"
    start: int
    shape: tuple[int, ...]

    @property
    def stop(self) -> int:
        return self.start + int(np.prod(self.shape))


@dataclass(frozen=True)
class Layout:
    """Where each named parameter sits in θ: layer by layer, weights (row j = into neuron j) then biases."""

    names: tuple[str, ...]
    frozen: tuple[bool, ...]  # per entry: the tensor is ``frozen`` in the config
    blocks: tuple[Block, ...]

    @property
    def size(self) -> int:
        return len(self.names)

    def index(self, name: str, option: str) -> int:
        """The position of parameter ``name``; a name that is not a parameter is a located error."""
        try:
            return self.names.index(name)
        except ValueError:
            from backprop_cli.model.names import closest_names

            close = closest_names(name, list(self.names))
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            shown = ", ".join(self.names[:6]) + (", …" if self.size > 6 else "")
            raise ConfigError(
                f"{name!r} is not a parameter of this network{hint} (parameters: {shown}; see `backprop names`)",
                path=option,
            ) from None

    def block(self, layer: int, kind: str) -> Block | None:
        return next((b for b in self.blocks if b.layer == layer and b.kind == kind), None)


def dense_layers(spec: NetworkSpec) -> tuple[LayerSpec, ...]:
    """The layers of a network of dense layers (the landscape's loss over a grid is written for them),
    or a located ConfigError at the first layer of another type."""
    for index, layer in enumerate(spec.layers):
        if not isinstance(layer, LayerSpec):
            message = (
                f"layer {layer.name!r} is of type {layer.kind}; expected only dense layers "
                "(landscape and compare draw networks of dense layers)"
            )
            if spec.document is not None:
                raise spec.document.error(message, ("network", "layers", index))
            raise ConfigError(message, path=f"network.layers[{index}]")
    return tuple(layer for layer in spec.layers if isinstance(layer, LayerSpec))


def layout(spec: NetworkSpec) -> Layout:
    names: list[str] = []
    frozen: list[bool] = []
    blocks: list[Block] = []
    for index, layer in enumerate(dense_layers(spec)):
        blocks.append(Block(index, "weights", len(names), layer.weights.shape))
        names += [weight_name(layer.name, j, i) for j in range(layer.units) for i in range(layer.fan_in)]
        frozen += ["weights" in layer.frozen] * layer.weights.size
        if layer.biases is not None:
            blocks.append(Block(index, "biases", len(names), layer.biases.shape))
            names += [bias_name(layer.name, j) for j in range(layer.units)]
            frozen += ["biases" in layer.frozen] * layer.units
    return Layout(tuple(names), tuple(frozen), tuple(blocks))


def start(spec: NetworkSpec) -> Array:
    """θ as configured (step 0)."""
    parts: list[Array] = []
    for layer in dense_layers(spec):
        parts.append(layer.weights.ravel())
        if layer.biases is not None:
            parts.append(layer.biases.ravel())
    return np.concatenate(parts).astype(np.float64)


def tensors(spec: NetworkSpec, vector: Array) -> dict[str, dict[str, object]]:
    """θ in the trace JSON's layout: {layer name: {"weights": [[…]], "biases": […]}}."""
    out: dict[str, dict[str, object]] = {}
    for block in layout(spec).blocks:
        name = spec.layers[block.layer].name
        out.setdefault(name, {})[block.kind] = vector[block.start : block.stop].reshape(block.shape).tolist()
    return out


def with_parameters(spec: NetworkSpec, vector: Array) -> NetworkSpec:
    """``spec`` with its parameters set to θ (the spec itself is frozen; this is a copy)."""
    plan = layout(spec)
    layers = []
    for index, layer in enumerate(dense_layers(spec)):
        w = plan.block(index, "weights")
        b = plan.block(index, "biases")
        assert w is not None
        weights = vector[w.start : w.stop].reshape(w.shape).copy()
        biases = None if b is None else vector[b.start : b.stop].copy()
        layers.append(replace(layer, weights=weights, biases=biases))
    return replace(spec, layers=tuple(layers))


# ---------------------------------------------------------------- runs


def optimizer_names() -> tuple[str, ...]:
    return tuple(OPTIMIZERS)


@dataclass(frozen=True)
class Variant:
    """One run of the same network from the same start: an optimizer, a learning rate, a batch size."""

    label: str
    optimizer: OptimizerSpec
    batch_size: int | None  # None: the config's


def variant(spec: NetworkSpec, name: str, learning_rate: float | None, batch_size: int | None, label: str) -> Variant:
    """A checked variant: the config's options are kept for the config's own optimizer, else torch's defaults."""
    if name not in OPTIMIZERS:
        from backprop_cli.model.names import closest_names

        close = closest_names(name, list(OPTIMIZERS))
        hint = f"did you mean {close[0]}? " if close else ""
        raise ConfigError(
            f"unknown optimizer {name!r}; {hint}expected one of {', '.join(OPTIMIZERS)}", path="--optimizer"
        )
    options = spec.optimizer.options if name == spec.optimizer.name else {}
    rate = spec.optimizer.learning_rate if learning_rate is None else learning_rate
    optimizer = OptimizerSpec(name, rate, options)
    try:
        make_optimizer(optimizer)
    except ConfigError as error:
        raise ConfigError(f"{name}: {error.message}", path="--optimizer") from None
    return Variant(label, optimizer, batch_size)


def schedule(spec: NetworkSpec) -> list[tuple[int, ...]]:
    """The 0-based rows of every step's batch, as the engine runs them."""
    return Engine(spec).schedule


@dataclass(frozen=True)
class Run:
    """The parameters after every step of one variant (``points[k]``: after k steps) and its batch losses."""

    variant: Variant
    points: Array  # (steps done + 1, P)
    batch_losses: tuple[float, ...]  # step k's batch loss, before its update (the trace's ``loss``)
    scheduled: int  # steps the run was to take
    fault: str | None = None  # the numerical fault that stopped it, as `backprop trace` words it
    fault_step: int | None = None

    @property
    def steps_done(self) -> int:
        return int(self.points.shape[0]) - 1


def variant_spec(spec: NetworkSpec, chosen: Variant) -> NetworkSpec:
    training = spec.training if chosen.batch_size is None else replace(spec.training, batch_size=chosen.batch_size)
    return replace(spec, optimizer=chosen.optimizer, training=training)


def run(spec: NetworkSpec, chosen: Variant) -> Run:
    """Run ``chosen`` through the engine; a numerical fault ends the path at the last finite step."""
    runnable = variant_spec(spec, chosen)
    engine = Engine(runnable)
    if len(engine.schedule) > MAX_RUN_STEPS:
        raise ConfigError(
            f"{len(engine.schedule):,} steps; a landscape keeps every step's parameters, expected at most "
            f"{MAX_RUN_STEPS:,} (choose fewer with --steps)",
            path="--steps",
        )
    plan = layout(spec)
    points = [start(runnable)]
    losses: list[float] = []
    fault: NumericalFault | None = None
    try:
        for record in engine.run():
            points.append(_updated(plan, record, points[-1]))
            losses.append(float(record.loss.value))
    except NumericalFault as error:
        fault = error
    return Run(
        chosen,
        np.stack(points),
        tuple(losses),
        len(engine.schedule),
        None if fault is None else fault.one_line(),
        None if fault is None else fault.step,
    )


def _updated(plan: Layout, record: StepRecord, before: Array) -> Array:
    after = before.copy()
    names = [layer.layer for layer in record.forward]
    for update in record.updates:
        block = plan.block(names.index(update.layer), update.kind)
        assert block is not None
        after[block.start : block.stop] = update.new.ravel()
    return after


def gradient(spec: NetworkSpec, vector: Array, rows: Sequence[int]) -> Array | None:
    """∂L/∂θ at θ = ``vector`` over ``rows`` (the engine's backward pass); None where it is not finite."""
    plan = layout(spec)
    at = with_parameters(spec, vector)
    try:
        record = Engine(at).step(1, tuple(rows))
    except NumericalFault:
        return None
    out = np.zeros(plan.size)
    names = [layer.layer for layer in record.forward]
    for update in record.updates:
        block = plan.block(names.index(update.layer), update.kind)
        assert block is not None
        out[block.start : block.stop] = update.grad.ravel()
    return out


# ---------------------------------------------------------------- the loss, vectorised over many θ


def plane_losses(
    spec: NetworkSpec,
    centre: Array,
    d1: Array,
    d2: Array | None,
    alphas: Array,
    betas: Array | None,
    rows: Sequence[int],
) -> Array:
    """L(c + α_g·d₁ + β_g·d₂) for every g, on the data ``rows``; not finite where the forward pass overflows.

    A layer whose block of d₁ and d₂ is zero keeps the centre's shared (units, fan_in) weights; from the
    first layer that moves, activations carry a leading grid axis (grid, batch, units). With d₁ = e_x,
    d₂ = e_y and the centre's x and y entries 0, the weights are exactly (…, α, …, β, …).
    """
    plan = layout(spec)
    x, y = spec.data.x[list(rows)], spec.data.y[list(rows)]
    moving = [
        block
        for block in plan.blocks
        if d1[block.start : block.stop].any() or (d2 is not None and d2[block.start : block.stop].any())
    ]
    if not moving:
        raise ConfigError("the directions do not move any parameter", path="--direction")
    first = min(block.layer for block in moving)
    moved = {(b.layer, b.kind) for b in moving}
    with np.errstate(all="ignore"):
        a = x
        for index in range(first):  # below the first moving layer: computed once, as the engine does
            w, b = _shared(plan, centre, index, spec)
            z = a @ w.T
            if b is not None:
                z = z + b
            a = ACTIVATIONS[spec.layers[index].activation].forward(z, spec.layers[index].negative_slope)
        tail_units = sum(layer.units for layer in spec.layers[first:])
        moved_size = sum(int(np.prod(b.shape)) for b in moving)
        per_point = 3 * len(rows) * tail_units + 2 * moved_size
        chunk = int(max(1, min(len(alphas), CHUNK_FLOATS // max(1, per_point))))
        out = np.empty(len(alphas))
        for begin in range(0, len(alphas), chunk):
            al = alphas[begin : begin + chunk]
            be = None if betas is None else betas[begin : begin + chunk]

            def tensor(block: Block | None, al: Array = al, be: Array | None = be) -> Array | None:
                if block is None:
                    return None
                c = centre[block.start : block.stop].reshape(block.shape)
                if (block.layer, block.kind) not in moved:
                    return c
                grid_axes = (slice(None),) + (None,) * len(block.shape)
                t: Array = c[None] + al[grid_axes] * d1[block.start : block.stop].reshape(block.shape)[None]
                if be is not None and d2 is not None:
                    t = t + be[grid_axes] * d2[block.start : block.stop].reshape(block.shape)[None]
                return t

            weights = [tensor(plan.block(i, "weights")) for i in range(first, len(spec.layers))]
            biases = [tensor(plan.block(i, "biases")) for i in range(first, len(spec.layers))]
            out[begin : begin + chunk] = _tail_loss(spec, first, a, weights, biases, y, len(al))
    return out


def losses_at(spec: NetworkSpec, points: Array, rows: Sequence[int]) -> Array:
    """L(θ_k) for every row θ_k of ``points`` (K, P), on the data ``rows``."""
    plan = layout(spec)
    x, y = spec.data.x[list(rows)], spec.data.y[list(rows)]
    per_point = 3 * len(rows) * sum(layer.units for layer in spec.layers) + plan.size
    chunk = int(max(1, min(len(points), CHUNK_FLOATS // max(1, per_point))))
    out = np.empty(len(points))
    with np.errstate(all="ignore"):
        for begin in range(0, len(points), chunk):
            part = points[begin : begin + chunk]
            weights: list[Array | None] = []
            biases: list[Array | None] = []
            for index in range(len(spec.layers)):
                w, b = plan.block(index, "weights"), plan.block(index, "biases")
                assert w is not None
                weights.append(part[:, w.start : w.stop].reshape(len(part), *w.shape))
                biases.append(None if b is None else part[:, b.start : b.stop])
            out[begin : begin + chunk] = _tail_loss(spec, 0, x, weights, biases, y, len(part))
    return out


def _shared(plan: Layout, centre: Array, index: int, spec: NetworkSpec) -> tuple[Array, Array | None]:
    w, b = plan.block(index, "weights"), plan.block(index, "biases")
    assert w is not None
    weights = centre[w.start : w.stop].reshape(w.shape)
    return weights, None if b is None else centre[b.start : b.stop]


def _tail_loss(
    spec: NetworkSpec,
    first: int,
    a: Array,
    weights: list[Array | None],
    biases: list[Array | None],
    y: Array,
    count: int,
) -> Array:
    """The loss of layers ``first``… on inputs ``a``; a weight (units, fan_in) is shared, (G, units, fan_in) per point.

    z = a·Wᵀ + b as the engine computes it, with a leading grid axis where W or b has one; then the
    activation's forward, the loss terms, Σ over outputs and the mean (or sum) over the batch.
    """
    z = a
    for layer, w, b in zip(spec.layers[first:], weights, biases, strict=True):
        assert w is not None
        z = a @ (np.swapaxes(w, -1, -2) if w.ndim == 3 else w.T)
        if b is not None:
            z = z + (b[:, None, :] if b.ndim == 2 else b)
        a = ACTIVATIONS[layer.activation].forward(z, layer.negative_slope)
    loss = LOSSES[spec.loss.name]
    per_sample = loss.terms(a, y, z).sum(axis=-1)
    value: Array = per_sample.mean(axis=-1) if spec.loss.reduction == "mean" else per_sample.sum(axis=-1)
    return np.broadcast_to(value, (count,))
