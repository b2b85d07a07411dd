"""What every layer op shares: its parameters' names, and the emission context of its quantities.

A layer op (``nn/layers/dense.py`` is the model) owns one kind of layer: its forward pass, its
backward pass in the two modes of the engine (trace: every sample's chain rule kept apart; fast:
gradients reduced over the batch at once), and the quantities its blocks show. The engine
(``engine.py``) runs the ops in order and knows nothing of what is inside them: :class:`LayerOp` is
all it calls, and ``LAYER_TYPES`` in ``__init__.py`` finds the op of a spec by its ``kind``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeGuard, cast, runtime_checkable

from backprop_cli.errors import ConfigError
from backprop_cli.model.i18n import _
from backprop_cli.model.quantity import Const, Form, Numbers, Quantity, Scalar, Slot
from backprop_cli.model.record import record
from backprop_cli.model.spec import Array, BaseLayerSpec
from backprop_cli.nn.check import finite
from backprop_cli.nn.init import InitSpec
from backprop_cli.nn.ops import NamedRule
from backprop_cli.nn.records import LayerBackward, LayerForward


@record
class ParamDef:
    """One parameter tensor of a layer: its kind (``weights``, ``biases``) and whether it is frozen."""

    kind: str
    frozen: bool = False


class Emit(Protocol):
    """The step a layer's quantities belong to: how to name them and make them."""

    numbers: Numbers
    targets: Array  # (batch, K): the step's targets (the combined δ of a fused loss reads them)

    def q(self, base: str, p: int | None = None) -> str:
        """``base`` qualified with this step and, for position ``p`` of a multi-sample batch, its sample."""
        ...

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
    ) -> Quantity: ...


class Cache(Protocol):
    """What a layer's forward pass keeps for its backward pass: at least its input, the value its
    activation read (``z``: the loss reads the output layer's) and its output ``a``."""

    @property
    def x(self) -> Array: ...
    @property
    def z(self) -> Array: ...
    @property
    def a(self) -> Array: ...


class LayerBlocks(Protocol):
    """A layer's quantities in the trace's blocks (``blocks.py`` calls these, in reading order)."""

    def forward_count(self, fwd: LayerForward) -> int:
        """Quantities of the forward block (counted before any is made)."""
        ...

    def backward_count(self, back: LayerBackward, *, hidden: bool) -> int: ...

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        """(title, quantities, note) of sample ``p``'s forward block."""
        ...

    def downstream(self, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        """∂L/∂a of the layer below, named as that layer's ``dL_da`` (it opens that layer's block)."""
        ...

    def backward(
        self, back: LayerBackward, upstream: list[Quantity], p: int, emit: Emit, combined_rule: NamedRule | None
    ) -> tuple[str, list[Quantity], str]: ...


@runtime_checkable
class BatchBlocks(Protocol):
    """The blocks of a batch-coupled layer (batch norm) also show batch quantities: its statistics
    after its samples' forward blocks, the batch terms of its backward pass after theirs; a network
    with such a layer is laid out layer by layer (``blocks.py``), so each comes where it is used."""

    def batch_forward_count(self, fwd: LayerForward) -> int: ...

    def batch_backward_count(self, back: LayerBackward) -> int: ...

    def batch_forward(self, fwd: LayerForward, emit: Emit) -> tuple[str, list[Quantity], str]: ...

    def batch_backward(self, back: LayerBackward, emit: Emit) -> tuple[str, list[Quantity], str]: ...


@runtime_checkable
class Stateful(Protocol):
    """An op with buffers a training step updates besides its parameters (batch norm's running statistics)."""

    def end_step(self, cache: Cache) -> None:
        """Update the buffers from a training step's forward pass (once per step, after its update)."""
        ...

    def buffers(self) -> dict[str, Array]: ...


@runtime_checkable
class Joins(Protocol):
    """The join of a residual block (``residual.py``): it adds the block's input, the output of the op
    ``span`` places before it (the block's entry), to its branch's output; the engine passes that as
    ``skip``, and sends the join's δ back along the skip to the entry (:class:`Forks`)."""

    span: int

    def forward(
        self,
        params: Sequence[Array],
        x: Array,
        step: int,
        during: str = "",
        *,
        evaluating: bool = False,
        skip: Array | None = None,
    ) -> Cache: ...


@runtime_checkable
class Forks(Protocol):
    """The entry of a residual block: its output feeds the branch and the skip, so ∂L/∂ of it is the
    sum of the two paths; the engine adds the skip's (``skip``: the join's δ) to the branch's."""

    block: str

    def backward_trace(
        self,
        fwd: LayerForward,
        upstream: Array,
        combined: tuple[Array, str] | None,
        step: int,
        first: bool,
        *,
        skip: Array | None = None,
    ) -> LayerBackward: ...


_CONFORMS: dict[tuple[type, object], bool] = {}


def _conforms(obj: object, protocol: object) -> bool:
    """``isinstance(obj, protocol)`` for one of the runtime-checkable protocols above, remembered by
    ``obj``'s class. Python 3.11 walks a protocol's attributes anew on every check that fails (most
    ops are none of these): 17 to 31 µs a check (timeit, 2026-12-03) against 0.2 to 0.4 µs remembered,
    and a class of 1,000 graded made about 68,000 of them (issue 15). Sound because each op
    class sets a protocol's data attributes (``span``, ``block``) in ``__init__`` unconditionally."""
    key = (type(obj), protocol)
    known = _CONFORMS.get(key)
    if known is None:
        known = _CONFORMS[key] = isinstance(obj, protocol)  # type: ignore[arg-type]
    return known


def has_batch_blocks(blocks: object) -> TypeGuard[BatchBlocks]:
    return _conforms(blocks, BatchBlocks)


def is_stateful(op: object) -> TypeGuard[Stateful]:
    return _conforms(op, Stateful)


def is_join(op: object) -> TypeGuard[Joins]:
    return _conforms(op, Joins)


def is_fork(op: object) -> TypeGuard[Forks]:
    return _conforms(op, Forks)


def forward_through(
    ops: Sequence[LayerOp],
    tensors: Sequence[Sequence[Array]],
    x: Array,
    step: int,
    during: str = "",
    *,
    evaluating: bool = False,
    joins: Sequence[bool] | None = None,
) -> list[Cache]:
    """Every op's forward pass on ``x`` in order, each on the output of the one before; a residual
    block's join also gets the block's input (its entry's output) as its skip. ``joins``: which ops
    are joins, when the caller has resolved it once (a Protocol isinstance check costs tens of µs)."""
    caches: list[Cache] = []
    a = x
    if joins is None:
        joins = [is_join(op) for op in ops]
    for op, params, join in zip(ops, tensors, joins, strict=True):
        if join:
            join_op = cast(Joins, op)
            cache = join_op.forward(params, a, step, during, evaluating=evaluating, skip=caches[-join_op.span].a)
        else:
            cache = op.forward(params, a, step, during, evaluating=evaluating)
        caches.append(cache)
        a = cache.a
    return caches


class LayerOp(Protocol):
    """One layer of a network, as the engine runs it (``dense.py`` is the model to copy).

    ``delta`` turns ∂L/∂a (of this layer's output) into δ = ∂L/∂z (of the value its activation read);
    ``backward_fast`` turns δ into the reduced gradients of its parameters and ∂L/∂a of the layer
    below (its input), ``backward_trace`` does both per sample and keeps every factor.
    """

    kind: str
    name: str
    activation: str
    input_names: tuple[str, ...]  # the names of its input's entries (the inputs, or the layer below's a)
    output_names: tuple[str, ...]
    params: tuple[ParamDef, ...]  # its parameter tensors, in the order of ``initial()``

    @property
    def rational(self) -> bool:
        """Whether ``--exact`` can run it on fractions."""
        ...

    def initial(self) -> list[Array]: ...

    def forward(
        self, params: Sequence[Array], x: Array, step: int, during: str = "", *, evaluating: bool = False
    ) -> Cache:
        """The layer on ``x`` at step ``step`` (a layer with randomness draws that step's); ``evaluating``:
        the loss on all data, not a training step (torch's ``model.eval()``: dropout passes its input)."""
        ...

    def delta(self, cache: Cache, upstream: Array) -> tuple[Array, Array, Array | None]:
        """(δ, the local derivative ∂a/∂z, the softmax Jacobian or None)."""
        ...

    def backward_fast(
        self, params: Sequence[Array], cache: Cache, delta: Array, scale: float, step: int, first: bool
    ) -> tuple[list[Array], list[float], Array | None]:
        """(reduced gradients × scale, their norms, ∂L/∂a of the layer below or None for the first layer)."""
        ...

    def record_forward(self, params: Sequence[Array], cache: Cache) -> LayerForward: ...

    def backward_trace(
        self, fwd: LayerForward, upstream: Array, combined: tuple[Array, str] | None, step: int, first: bool
    ) -> LayerBackward: ...

    def blocks(self) -> LayerBlocks: ...


@record
class Counts:
    """What one sample's pass through a layer shows, counted from its spec before anything runs (the
    budgets refuse a trace by these counts; tests/test_budget.py holds them to what is laid out)."""

    forward: int  # quantities of its forward block
    backward: int  # quantities of its backward block (with the ∂L/∂a it receives from the layer above)
    json: int  # numbers of its entries in the trace JSON's per-sample detail
    batch_forward: int = 0  # quantities of its batch blocks (BatchBlocks), once a step
    batch_backward: int = 0
    buffers: int = 0  # numbers of its buffers in a step's JSON (Stateful)
    running_updates: int = 0  # of batch_forward, those shown only in a training step (the buffers' update)

    def evaluating(self) -> Counts:
        """The counts in ``mode: eval``: no buffer updates, and no batch terms in the backward pass (the
        statistics are constants then)."""
        from dataclasses import replace

        return replace(self, batch_forward=self.batch_forward - self.running_updates, batch_backward=0)


@record
class LayerPlace:
    """Where a layer stands in its config: what its op class needs to build its spec (``from_config``)."""

    index: int  # 0-based, in network.layers
    name: str  # as given, or by position (layer1, layer2, …)
    fan_in: int  # the width of its input
    below: str  # what that width is, for messages: "the number of inputs", "the units of layer 'h'"
    last: bool  # the output layer
    error: Callable[..., ConfigError]  # error(message, *fields): located at network.layers[index].fields
    init: Callable[[], InitSpec | None]  # its ``init:`` checked (a located error if wrong), None if absent
    shape: tuple[int, ...] = ()  # the shape of its input (C, H, W or C, L); () for a flat input of fan_in entries

    @property
    def shaped(self) -> bool:
        """Whether its input has a shape of more than one axis (an image or a sequence, not yet flattened)."""
        return len(self.shape) > 1

    @property
    def shape_text(self) -> str:
        """Its input's shape for a message: ``1×4×4``."""
        return "×".join(str(n) for n in (self.shape or (self.fan_in,)))


def flat_only(place: LayerPlace, what: str) -> None:
    """Refuse a shaped input (C, H, W) for a layer of flat inputs, as a located error naming the shapes."""
    if place.shaped:
        raise place.error(
            _(
                "layer {name} ({kind}) gets an input of shape {shape}; expected a flat input: "
                "put a {{type: flatten}} layer before it"
            ).format(name=repr(place.name), kind=what, shape=place.shape_text)
        )


def shaped_only(place: LayerPlace, what: str, dims: int) -> None:
    """Refuse an input that is not [C, H, W] (``dims`` 2) or [C, L] (``dims`` 1), located at ``type``."""
    if len(place.shape) != dims + 1:
        expected = "[C, H, W]" if dims == 2 else "[C, L]"
        raise place.error(
            _(
                "layer {name} ({kind}) gets an input of shape {shape}; expected a shaped input {expected} "
                "(network.inputs, or the layer before it)"
            ).format(name=repr(place.name), kind=what, shape=place.shape_text, expected=expected),
            "type",
        )


def count(n: int, noun: str) -> str:
    """``1 row``, ``3 rows``: a count for a message."""
    return f"{n} {noun}{'s' * (n != 1)}"


class LayerType(Protocol):
    """A layer op class, as the registry holds it: it builds its spec from its config model, builds
    the op, and counts its quantities."""

    kind: str  # the config's ``type:``
    config_model: str  # the name of its config model in loading/models.py

    @staticmethod
    def from_config(model: Any, place: LayerPlace) -> BaseLayerSpec:
        """The spec of a layer from its validated config model (the checks that span fields: shapes,
        fan-in), every error located through ``place.error``."""
        ...

    def __call__(self, spec: Any, input_names: tuple[str, ...], *, exact: bool = False) -> LayerOp: ...

    @staticmethod
    def counts(spec: Any, *, hidden: bool, combined: bool, first: bool) -> Counts:
        """``hidden``: a layer above sends ∂L/∂a; ``combined``: the loss's combined δ is shown;
        ``first``: no ∂L/∂a for a layer below."""
        ...


def parameterless_backward(
    name: str,
    fwd: LayerForward,
    upstream: Array,
    derivative: tuple[Array, Array, Array | None],
    combined: tuple[Array, str] | None,
    *,
    step: int,
    first: bool,
    activation: str = "identity",
    slope: Scalar = 0.01,
) -> LayerBackward:
    """The backward record of a layer with no parameters that maps each input to its own output
    (an activation, dropout, flatten): ``derivative`` is its (chain, local, jacobian); δ is the chain,
    or a fused loss's combined form when one is given, and it is what the layer below receives."""
    chain, local, jacobian = derivative
    delta = combined[0] if combined is not None else chain
    finite(delta, step=step, layer=name, quantity="δ = ∂L/∂z")
    return LayerBackward(
        layer=name,
        activation=activation,
        negative_slope=slope,
        input_names=fwd.input_names,
        z=fwd.z,
        a=fwd.a,
        upstream=upstream,
        local=local,
        jacobian=jacobian,
        chain=chain,
        delta=delta,
        combined=combined[1] if combined is not None else None,
        inputs=fwd.inputs,
        weights=None,
        grad_w=None,
        grad_b=None,
        downstream=None if first else delta,
    )


def fill(
    template: str,
    fields: dict[str, Slot],
    values: dict[str, Scalar],
    rule: NamedRule | None,
    text: dict[str, str] | None = None,
) -> tuple[Form, list[Scalar]]:
    """A named template (``({a} − {y}) / {K}``) as a slot template: every field the template uses
    becomes a slot (in order of first use), but those of ``text`` (fixed text: a count); the named
    rule is called with the slots' values under their field names, and ``values`` for the rest."""
    marks = _Marks(fields, values, text or {})
    filled = template.format_map(marks)
    positional = None if rule is None else named(marks.order, rule, values)
    return Form(filled, tuple(marks.slots), positional), marks.args


class _Marks(dict[str, str]):
    """``fill``'s mapping: each field's slot mark, the slots taken in order of first use (a class of its
    own, not one a call: every quantity of a trace is filled here)."""

    def __init__(self, fields: dict[str, Slot], values: dict[str, Scalar], fixed: dict[str, str]) -> None:
        super().__init__()
        self.known, self.given, self.fixed = fields, values, fixed  # (not .values: a dict's method)
        self.order: list[str] = []
        self.slots: list[Slot] = []
        self.args: list[Scalar] = []

    def __missing__(self, key: str) -> str:
        if key in self.fixed:
            return self.fixed[key]
        slot = self.known[key]
        if key not in self.order:
            self.order.append(key)
            self.slots.append(slot)
            self.args.append(self.given[key])
        return f"{{{self.order.index(key)}}}"


def named(fields: list[str], rule: NamedRule, fixed: dict[str, Scalar]) -> Callable[[Sequence[Scalar]], Scalar]:
    """A rule over named fields as a rule over slot values in ``fields`` order (``fixed``: the rest)."""

    def positional(values: Sequence[Scalar]) -> Scalar:
        return rule({**fixed, **dict(zip(fields, values, strict=True))})

    return positional


__all__ = [
    "BaseLayerSpec",
    "BatchBlocks",
    "Cache",
    "Const",
    "Counts",
    "Emit",
    "Forks",
    "Joins",
    "LayerBlocks",
    "LayerOp",
    "LayerPlace",
    "LayerType",
    "ParamDef",
    "Stateful",
    "count",
    "fill",
    "flat_only",
    "forward_through",
    "named",
]
