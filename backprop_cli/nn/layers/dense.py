"""The dense layer op: z = a_prev·Wᵀ + b, a = f(z), its backward pass and the quantities it shows.

Forward: z_j = Σ_i w_ji·a_i + b_j and a_j = f(z_j) for every sample (W has shape (units, fan_in),
torch's nn.Linear layout). Backward, from the upstream ∂L/∂a: δ_j = ∂L/∂a_j × ∂a_j/∂z_j (through the
Jacobian for softmax), or the loss's stable combined δ where the loss pairs with this activation;
∂L/∂w_ji = δ_j·a_i, ∂L/∂b_j = δ_j, and for the layer below ∂L/∂a_i = Σ_j δ_j·w_ji. Per sample in
trace mode (each sample's chain rule is shown on its own), reduced over the batch in one matrix
product in fast mode (Σ_s δ_s·a_sᵀ = Δᵀ·A).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from backprop_cli.model.i18n import N_, _, ngettext
from backprop_cli.model.names import grad_name, neuron_name, param_name, upstream_name
from backprop_cli.model.quantity import Const, Form, Quantity, Scalar, Slot, scalar
from backprop_cli.model.spec import Array, LayerSpec
from backprop_cli.nn.check import checked_after, finite
from backprop_cli.nn.init import initialise
from backprop_cli.nn.layers.base import Cache, Counts, Emit, LayerPlace, ParamDef, fill, flat_only
from backprop_cli.nn.ops import (
    ACTIVATIONS,
    RATIONAL_ACTIVATIONS,
    Activation,
    NamedRule,
    exact_activation,
    softmax_jacobian,
)
from backprop_cli.nn.optim import exact_number
from backprop_cli.nn.records import LayerBackward, LayerForward

MAX_LAYER_WEIGHTS = 10_000_000  # 80 MB of float64 in one layer (a typo is bad input, not an allocation)


def exact_array(values: Array) -> Array:
    """An array of exact fractions, each read from the float's shortest decimal text (0.1 → 1/10)."""
    out: Array = np.asarray(np.frompyfunc(exact_number, 1, 1)(values), dtype=object)
    return out


def activation_rules(
    activation: str, slope: float, *, exact: bool
) -> tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]:
    """An activation's forward a = f(z) and local derivative ∂a/∂z(z, a): numpy's, or (``exact``) the
    activation's own rules entry by entry on fractions. Dense and standalone activation layers share them."""
    if exact:
        return exact_activation(activation, Fraction(exact_number(slope)))
    act = ACTIVATIONS[activation]
    return (lambda z: act.forward(z, slope)), (lambda z, a: act.derivative(z, a, slope))


# activations whose output is finite wherever z is (max(z, 0) and z itself): a is not tested again
FINITE_OF_FINITE = frozenset({"identity", "relu"})


def chain_through(
    derivative: Callable[[Array, Array], Array], activation: str, cache: Cache, upstream: Array
) -> tuple[Array, Array, Array | None]:
    """δ through an activation: (∂L/∂a × ∂a/∂z, the local derivative, the softmax Jacobian or None).
    Softmax couples its outputs, so its δ is ∂L/∂a times the Jacobian, not entry by entry."""
    local = derivative(cache.z, cache.a)
    with np.errstate(invalid="ignore", over="ignore"):
        if activation == "softmax":
            jacobian = softmax_jacobian(cache.a)
            return np.einsum("bk,bkj->bj", upstream, jacobian), local, jacobian
        return upstream * local, local, None


@dataclass(frozen=True)
class DenseCache:
    """What the backward pass needs of the forward pass (fast mode keeps only this)."""

    x: Array  # (batch, fan_in): a_prev
    z: Array  # (batch, units)
    a: Array  # (batch, units)


def _n_values(n: int) -> str:
    return ngettext("{n} value", "{n} values", n).format(n=n)


class Dense:
    """One dense layer of a network; see the module docstring."""

    kind = "dense"
    config_model = "LayerModel"

    @staticmethod
    def from_config(m: Any, place: LayerPlace) -> LayerSpec:
        """The spec of a dense layer: weights [units][fan_in] given or drawn by ``init``, biases, slope."""
        name, fan_in, below, error = place.name, place.fan_in, place.below, place.error
        flat_only(place, "dense")
        activation = "identity" if m.activation == "linear" else m.activation
        if activation == "softmax" and not place.last:
            raise error(
                _("softmax on layer {name}, which is not the last; expected softmax only on the output layer").format(
                    name=repr(name)
                ),
                "activation",
            )
        if m.negative_slope is not None and activation != "leaky_relu":
            raise error(
                _("negative_slope with activation {activation}; expected it only with leaky_relu").format(
                    activation=repr(activation)
                ),
                "negative_slope",
            )
        if m.weights is not None:
            if not m.weights:
                raise error(_("weights has no rows; expected [units][fan_in]"), "weights")
            if m.units is not None and len(m.weights) != m.units:
                rows = ngettext("{n} row", "{n} rows", len(m.weights)).format(n=len(m.weights))
                raise error(
                    _("layer {name} weights has {rows}; expected {units} (its units)").format(
                        name=repr(name), rows=rows, units=m.units
                    ),
                    "weights",
                )
            for r, row in enumerate(m.weights):
                if len(row) != fan_in:
                    raise error(
                        _("layer {name} weights row {r} has {values}; expected {fan_in} (the fan-in: {below})").format(
                            name=repr(name), r=r, values=_n_values(len(row)), fan_in=fan_in, below=below
                        ),
                        "weights",
                        r,
                    )
        units = m.units if m.units is not None else len(m.weights or ())
        if units == 0:
            raise error(_("missing required field 'units'; expected the number of neurons, or weights"), "units")
        if m.biases is not None and not m.bias:
            raise error(_("biases given with bias: false; expected one or the other"), "biases")
        if m.biases is not None and len(m.biases) != units:
            raise error(
                _("layer {name} biases has {values}; expected {units} (its units)").format(
                    name=repr(name), values=_n_values(len(m.biases)), units=units
                ),
                "biases",
            )
        if units * fan_in > MAX_LAYER_WEIGHTS:
            raise error(
                _("layer {name} would have {units:,} × {fan_in:,} weights; expected at most {most:,}").format(
                    name=repr(name), units=units, fan_in=fan_in, most=MAX_LAYER_WEIGHTS
                ),
                "units" if m.units is not None else "weights",
            )
        init = place.init()
        if init is None and m.weights is None:
            raise error(_("weights missing; expected weights [units][fan_in] or init: {method, seed}"), "weights")
        drawn = initialise(init, units=units, fan_in=fan_in) if init else (np.zeros((units, fan_in)), np.zeros(units))
        weights = np.array(m.weights, dtype=np.float64) if m.weights is not None else drawn[0]
        biases = np.array(m.biases, dtype=np.float64) if m.biases is not None else drawn[1]
        slope = m.negative_slope if m.negative_slope is not None else 0.01
        return LayerSpec(name, activation, weights, biases if m.bias else None, slope, frozenset(m.frozen))

    def __init__(self, spec: LayerSpec, input_names: tuple[str, ...], *, exact: bool = False) -> None:
        self.spec = spec
        self.name = spec.name
        self.activation = spec.activation
        self.exact = exact
        self.slope: Scalar = exact_number(spec.negative_slope) if exact else spec.negative_slope
        self.input_names = input_names
        self.output_names = tuple(neuron_name(spec.name, "a", j) for j in range(spec.units))
        self.act = ACTIVATIONS[spec.activation]
        kinds = ("weights",) if spec.biases is None else ("weights", "biases")
        self.params = tuple(ParamDef(kind, kind in spec.frozen) for kind in kinds)
        self._forward, self._derivative = activation_rules(spec.activation, spec.negative_slope, exact=exact)

    @staticmethod
    def counts(spec: LayerSpec, *, hidden: bool, combined: bool, first: bool) -> Counts:
        units, fan_in, bias = spec.units, spec.fan_in, spec.biases is not None
        softmax = spec.activation == "softmax"
        backward = backward_rows(units, fan_in, hidden=hidden, softmax=softmax, combined=combined, bias=bias)
        json = fan_in + 2 * units  # forward: inputs, z, a
        json += 4 * units + units * fan_in  # backward: dL_da, da_dz, chain, delta, dL_dw
        json += units * units * softmax + units * bias + fan_in * (not first)  # Jacobian, dL_db, ∂L/∂a below
        return Counts(2 * units, backward, json)

    @property
    def rational(self) -> bool:
        """Whether ``--exact`` can run this layer on fractions."""
        return self.activation in RATIONAL_ACTIVATIONS

    def initial(self) -> list[Array]:
        """The parameters before the first step: fresh float64 copies, or exact fractions of their decimals."""
        out = [self.spec.weights] + ([self.spec.biases] if self.spec.biases is not None else [])
        if self.exact:
            return [exact_array(t) for t in out]
        return [t.astype(np.float64, copy=True) for t in out]

    # ------------------------------------------------------------ arithmetic

    def forward(
        self, params: Sequence[Array], x: Array, step: int, during: str = "", *, evaluating: bool = False
    ) -> DenseCache:
        w = params[0]
        z = x @ w.T
        if len(params) > 1:
            z += params[1]
        finite(z, step=step, layer=self.name, quantity=N_("weighted sum z") + during)
        a = self._forward(z)
        if self.activation not in FINITE_OF_FINITE or a.dtype == object:
            finite(a, step=step, layer=self.name, quantity=N_("activation a") + during)
        return DenseCache(x, z, a)

    def delta(self, cache: Cache, upstream: Array) -> tuple[Array, Array, Array | None]:
        """(the chain product ∂L/∂a × ∂a/∂z, the local derivative, the softmax Jacobian or None)."""
        return chain_through(self._derivative, self.activation, cache, upstream)

    def backward_fast(
        self, params: Sequence[Array], cache: Cache, delta: Array, scale: float, step: int, first: bool
    ) -> tuple[list[Array], list[float], Array | None]:
        """(reduced gradients Δᵀ·A × scale and Σ_s δ_s × scale, their norms, ∂L/∂a of the layer below)."""
        exact = delta.dtype == object
        if exact:
            finite(delta, step=step, layer=self.name, quantity="δ = ∂L/∂z")
        grad_w: Array = delta.T @ cache.x
        grad_w *= scale
        grads = [grad_w]
        norms = [checked_after(delta, grad_w, exact=exact, step=step, layer=self.name)]
        if len(params) > 1:
            grads.append(delta.sum(axis=0) * scale)
        downstream = None
        if not first:
            downstream = delta @ params[0]
            finite(downstream, step=step, layer=self.name, quantity=N_("∂L/∂a of the layer below"))
        return grads, norms, downstream

    # ------------------------------------------------------------ trace mode

    def record_forward(self, params: Sequence[Array], cache: Cache) -> LayerForward:
        bias = params[1] if len(params) > 1 else None
        return LayerForward(
            self.name, self.activation, self.slope, self.input_names, cache.x, params[0], bias, cache.z, cache.a
        )

    def backward_trace(
        self,
        fwd: LayerForward,
        upstream: Array,
        combined: tuple[Array, str] | None,
        step: int,
        first: bool,
    ) -> LayerBackward:
        """Every sample's backward pass kept apart: per-sample gradients (batch, *shape)."""
        cache = DenseCache(fwd.inputs, fwd.z, fwd.a)
        weights = weights_of(fwd)
        chain, local, jacobian = self.delta(cache, upstream)
        delta = combined[0] if combined is not None else chain
        finite(delta, step=step, layer=self.name, quantity="δ = ∂L/∂z")
        grad_w = delta[:, :, None] * fwd.inputs[:, None, :]
        finite(grad_w, step=step, layer=self.name, quantity=N_("weight gradient ∂L/∂w"))
        downstream = None if first else delta @ weights
        if downstream is not None:
            finite(downstream, step=step, layer=self.name, quantity=N_("∂L/∂a of the layer below"))
        return LayerBackward(
            layer=self.name,
            activation=self.activation,
            negative_slope=self.slope,
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
            weights=weights,
            grad_w=grad_w,
            grad_b=None if fwd.biases is None else delta,
            downstream=downstream,
        )

    def blocks(self) -> DenseBlocks:
        return DenseBlocks(self)


# ---------------------------------------------------------------- quantities


def weights_of(record: LayerForward | LayerBackward) -> Array:
    """A dense layer's weights in its record (every dense record has them)."""
    assert record.weights is not None, f"layer {record.layer}: a dense record without weights"
    return record.weights


def _sum_template(count: int, item: Callable[[int], str] = lambda i: f"{{{i}}}") -> str:
    return " + ".join(item(i) for i in range(count)) if count else "0"


def total(values: Sequence[Scalar]) -> Scalar:
    out: Scalar = values[0] * 0 if values else 0.0
    for v in values:
        out = out + v
    return out


def dot(values: Sequence[Scalar]) -> Scalar:
    """Σ_i v[2i]·v[2i+1]: a weighted sum's products, in order."""
    return total([values[i] * values[i + 1] for i in range(0, len(values) - 1, 2)])


def _dot_bias(values: Sequence[Scalar]) -> Scalar:
    return dot(values[:-1]) + values[-1]


def product(values: Sequence[Scalar]) -> Scalar:
    return values[0] * values[1]


def same(values: Sequence[Scalar]) -> Scalar:
    return values[0]


def delta_passed_down(layer: str, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
    """∂L/∂a_j of the layer below as δ_j of ``layer``, for a layer whose z_j is its input a_j (an
    activation, dropout, flatten: no weights between them), named as the layer below names its a_j
    (a conv layer's ``c1.a2_3_4`` → ``c1.dL_da2_3_4``)."""
    assert back.downstream is not None
    return [
        emit.quantity(
            emit.q(upstream_name(below, back.input_names[j], j), p),
            scalar(back.downstream[p, j]),
            "backward",
            below,
            p,
            Form("{0}", (emit.q(neuron_name(layer, "delta", j), p),), same, "{0:v}"),
            [scalar(back.delta[p, j])],
        )
        for j in range(back.delta.shape[1])
    ]


def _softmax_diag(values: Sequence[Scalar]) -> Scalar:
    return values[0] * (1 - values[0])


def _softmax_off(values: Sequence[Scalar]) -> Scalar:
    return -values[0] * values[1]


def _softmax_unit(j: int) -> Callable[[Sequence[Scalar]], Scalar]:
    def rule(values: Sequence[Scalar]) -> Scalar:
        import math

        top = max(float(v) for v in values)
        e = [math.exp(float(v) - top) for v in values]
        return e[j] / sum(e)

    return rule


def pair_template(count: int, joiner: str = "·") -> str:
    """``{0}·{1} + {2}·{3} + …`` for ``count`` pairs."""
    return _sum_template(count, lambda k: f"{{{2 * k}}}{joiner}{{{2 * k + 1}}}")


def backward_rows(units: int, fan_in: int, *, hidden: bool, softmax: bool, combined: bool, bias: bool) -> int:
    """Quantities of a layer's backward block: ∂L/∂a (a hidden layer's, from the layer above), ∂a/∂z
    (softmax: the whole Jacobian), δ (after the textbook chain where δ has a combined form), ∂L/∂w, ∂L/∂b.
    From the layer's shape alone, so the budget counts a trace's rows before running it."""
    local = units * units if softmax else units
    return units * hidden + local + units * (1 + combined) + units * fan_in + units * bias


class Activated(Protocol):
    """What the blocks read of an op: its name and its activation (a dense layer, a standalone activation)."""

    name: str
    activation: str
    act: Activation
    slope: Scalar


class DenseBlocks:
    """A dense layer's quantities: forward per neuron, backward per neuron and weight."""

    def __init__(self, op: Activated) -> None:
        self.op = op

    def forward_count(self, fwd: LayerForward) -> int:
        """Quantities of the forward block: z and a of every neuron."""
        return 2 * int(fwd.z.shape[1])

    def backward_count(self, back: LayerBackward, *, hidden: bool) -> int:
        units, fan_in = (int(n) for n in weights_of(back).shape)
        softmax, combined, bias = back.jacobian is not None, bool(back.combined), back.grad_b is not None
        return backward_rows(units, fan_in, hidden=hidden, softmax=softmax, combined=combined, bias=bias)

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        op = self.op
        out = self.sums(fwd, p, emit) + self.activations(fwd, p, emit)
        note = f"z = W·a_prev + b; a = {op.act.template.format(z='z', s=emit.numbers.operand(op.slope))}"
        return _("Forward · layer {layer} ({kind})").format(layer=op.name, kind=op.activation), out, note

    def sums(self, fwd: LayerForward, p: int, emit: Emit) -> list[Quantity]:
        """z_j = Σ_i w_ji·a_i + b_j of every neuron, written out."""
        layer = self.op.name
        weights = weights_of(fwd)
        units, fan_in = fwd.z.shape[1], weights.shape[1]
        out: list[Quantity] = []
        for j in range(units):
            slots: list[Slot] = []
            args: list[Scalar] = []
            for i, n in enumerate(fwd.input_names):
                slots += [emit.q(param_name(layer, "weights", (j, i))), emit.q(n, p)]
                args += [scalar(weights[j, i]), scalar(fwd.inputs[p, i])]
            template, rule = pair_template(fan_in), dot
            if fwd.biases is not None:
                slots.append(emit.q(param_name(layer, "biases", (j,))))
                args.append(scalar(fwd.biases[j]))
                template = (template + " + " if fan_in else "") + f"{{{2 * fan_in}}}"
                rule = _dot_bias
            name = emit.q(neuron_name(layer, "z", j), p)
            out.append(
                emit.quantity(name, scalar(fwd.z[p, j]), "forward", layer, p, Form(template, tuple(slots), rule), args)
            )
        return out

    def activations(self, fwd: LayerForward, p: int, emit: Emit) -> list[Quantity]:
        """a_j = f(z_j) of every neuron (softmax: of every z)."""
        op, layer = self.op, self.op.name
        units = fwd.z.shape[1]
        out: list[Quantity] = []
        for j in range(units):
            if op.activation == "softmax":
                every = tuple(emit.q(neuron_name(layer, "z", k), p) for k in range(units))
                template = f"e^{{{j}}} / ({_sum_template(units, lambda k: f'e^{{{k}}}')})"
                form = Form(template, every, _softmax_unit(j))
                args = [scalar(v) for v in fwd.z[p]]
            else:
                fields: dict[str, Slot] = {"z": emit.q(neuron_name(layer, "z", j), p), "s": Const(op.slope)}
                form, args = fill(op.act.template, fields, {"z": scalar(fwd.z[p, j]), "s": op.slope}, op.act.rule)
            name = emit.q(neuron_name(layer, "a", j), p)
            out.append(emit.quantity(name, scalar(fwd.a[p, j]), "forward", layer, p, form, args))
        return out

    def downstream(self, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        """∂L/∂a_i = Σ_j δ_j·w_ji for the layer below (named as that layer's ``dL_da``)."""
        layer = self.op.name
        units = back.delta.shape[1]
        assert back.downstream is not None
        out = []
        weights = weights_of(back)
        for i in range(weights.shape[1]):
            slots: list[Slot] = []
            args: list[Scalar] = []
            for j in range(units):
                slots += [emit.q(neuron_name(layer, "delta", j), p), emit.q(param_name(layer, "weights", (j, i)))]
                args += [scalar(back.delta[p, j]), scalar(weights[j, i])]
            name = emit.q(neuron_name(below, "dL_da", i), p)
            out.append(
                emit.quantity(
                    name,
                    scalar(back.downstream[p, i]),
                    "backward",
                    below,
                    p,
                    Form(pair_template(units), tuple(slots), dot),
                    args,
                )
            )
        return out

    def backward(
        self, back: LayerBackward, upstream: list[Quantity], p: int, emit: Emit, combined_rule: NamedRule | None
    ) -> tuple[str, list[Quantity], str]:
        op, layer = self.op, self.op.name
        units = back.delta.shape[1]
        out: list[Quantity] = list(upstream)

        def add(base: str, value: Scalar, form: Form, args: Sequence[Scalar]) -> None:
            out.append(emit.quantity(emit.q(base, p), value, "backward", layer, p, form, args))

        chains: list[tuple[Form, list[Scalar]]] = []  # the textbook product upstream × local, per neuron
        args: list[Scalar]
        if back.jacobian is not None:  # softmax: every output depends on every z
            for k in range(units):
                for j in range(units):
                    ak, aj = emit.q(neuron_name(layer, "a", k), p), emit.q(neuron_name(layer, "a", j), p)
                    if k == j:
                        form, args = Form("{0}·(1 − {0})", (ak,), _softmax_diag), [scalar(back.a[p, k])]
                    else:
                        form = Form("−{0}·{1}", (ak, aj), _softmax_off)
                        args = [scalar(back.a[p, k]), scalar(back.a[p, j])]
                    add(f"{layer}.da{k + 1}_dz{j + 1}", scalar(back.jacobian[p, k, j]), form, args)
            for j in range(units):
                slots: list[Slot] = []
                args = []
                for k in range(units):
                    slots += [emit.q(neuron_name(layer, "dL_da", k), p), emit.q(f"{layer}.da{k + 1}_dz{j + 1}", p)]
                    args += [scalar(back.upstream[p, k]), scalar(back.jacobian[p, k, j])]
                chains.append((Form(pair_template(units), tuple(slots), dot), args))
        else:
            for j in range(units):
                fields: dict[str, Slot] = {
                    "z": emit.q(neuron_name(layer, "z", j), p),
                    "a": emit.q(neuron_name(layer, "a", j), p),
                    "s": Const(op.slope),
                }
                values: dict[str, Scalar] = {"z": scalar(back.z[p, j]), "a": scalar(back.a[p, j]), "s": op.slope}
                form, args = fill(op.act.derivative_template, fields, values, op.act.derivative_rule)
                add(neuron_name(layer, "da_dz", j), scalar(back.local[p, j]), form, args)
            for j in range(units):
                slots = [emit.q(neuron_name(layer, "dL_da", j), p), emit.q(neuron_name(layer, "da_dz", j), p)]
                chain_args: list[Scalar] = [scalar(back.upstream[p, j]), scalar(back.local[p, j])]
                chains.append((Form("{0} × {1}", tuple(slots), product), chain_args))
        for j, (chain, chain_args) in enumerate(chains):
            if not back.combined:  # δ is the chain product itself
                add(neuron_name(layer, "delta", j), scalar(back.delta[p, j]), chain, chain_args)
                continue
            # the textbook chain, then the stable combined form the engine used for δ
            add(neuron_name(layer, "chain", j), scalar(back.chain[p, j]), chain, chain_args)
            sum_y = scalar(emit.targets[p].sum())
            fields = {
                "a": emit.q(neuron_name(layer, "a", j), p),
                "y": emit.q(f"y{j + 1}", p),
                "sum_y": Const(sum_y, "Σy"),
            }
            values = {"a": scalar(back.a[p, j]), "y": scalar(emit.targets[p, j]), "sum_y": sum_y, "K": units}
            assert combined_rule is not None
            form, args = fill(back.combined, fields, values, combined_rule, {"K": str(units)})
            add(neuron_name(layer, "delta", j), scalar(back.delta[p, j]), form, args)
        for j in range(units if back.grad_w is not None else 0):  # a layer without weights: δ is its last
            assert back.grad_w is not None
            delta = emit.q(neuron_name(layer, "delta", j), p)
            for i, n in enumerate(back.input_names):
                form = Form("{0} × {1}", (delta, emit.q(n, p)), product)
                add(
                    grad_name(layer, j, i),
                    scalar(back.grad_w[p, j, i]),
                    form,
                    [scalar(back.delta[p, j]), scalar(back.inputs[p, i])],
                )
            if back.grad_b is not None:
                add(
                    grad_name(layer, j),
                    scalar(back.grad_b[p, j]),
                    Form("{0}", (delta,), same, "{0:v}"),
                    [scalar(back.delta[p, j])],
                )
        slope = emit.numbers.operand(op.slope)
        local = f"∂a/∂z = {op.act.derivative_template.format(z='z', a='a', s=slope)}"
        note = _("{formula} with {where}").format(formula="δ = ∂L/∂z = ∂L/∂a × ∂a/∂z", where=local)
        if op.activation == "softmax":
            note = _("{formula} with {where}").format(
                formula="δ_j = Σ_k ∂L/∂a_k × ∂a_k/∂z_j", where="∂a_k/∂z_j = a_k(1 − a_j) if k = j, else −a_k·a_j"
            )
        if back.combined:
            stable = back.combined.format(a="a", y="y", K="K", sum_y="Σy")
            undefined = [j for j in range(units) if not np.isfinite(back.chain[p, j])]
            if undefined:
                chains_named = ", ".join(neuron_name(layer, "chain", j) for j in undefined)
                note += ngettext(
                    "; δ uses the stable combined form {stable}, the limit of the chain: {chains} "
                    "is undefined here (a saturated, so ∂L/∂a divides by zero)",
                    "; δ uses the stable combined form {stable}, the limit of the chain: {chains} "
                    "are undefined here (a saturated, so ∂L/∂a divides by zero)",
                    len(undefined),
                ).format(stable=stable, chains=chains_named)
            else:
                note += _("; δ uses the stable combined form {stable}, equal to the chain shown beside it").format(
                    stable=stable
                )
        return _("Backward · layer {layer} ({kind})").format(layer=layer, kind=op.activation), out, note
