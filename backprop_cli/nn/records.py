"""The trace: frozen records of one training step, and the stable names of every number in them.

The engine fills these records; renderers lay them out. Arrays are kept whole (batch-first), so
producing a trace stays vectorised; one scalar is addressed by a name built here.

Names are short, 1-based and textbook-like (``h.z1``, ``o.w2_1``, ``h.dL_dw1_2``). A name gets a
``stepN/`` qualifier when the run has more than one step and a ``sampleN/`` qualifier (N = data row,
1-based) when its batch has more than one sample; a name without ``sampleN/`` in a multi-sample
batch is the reduced (mean or sum) value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop_cli.model.names import param_name, qualify
from backprop_cli.model.numbers import exact_text
from backprop_cli.model.quantity import Scalar, scalar
from backprop_cli.model.record import record
from backprop_cli.model.spec import Array

if TYPE_CHECKING:
    from backprop_cli.model.rounding import RoundedChain
    from backprop_cli.nn.layers.base import LayerOp
    from backprop_cli.nn.ops import NamedRule

# ---------------------------------------------------------------- records


@record
class LayerForward:
    """z = a_prev·Wᵀ + b and a = f(z) for every sample of the batch (a layer without weights: z is
    what its activation reads, its input for a standalone activation)."""

    layer: str
    activation: str
    negative_slope: Scalar  # a Fraction in exact mode
    input_names: tuple[str, ...]  # names of a_prev's entries: inputs, or the layer below's a
    inputs: Array  # (batch, fan_in)
    weights: Array | None  # (units, fan_in), before the update; None for a layer without weights
    biases: Array | None  # (units,)
    z: Array  # (batch, units)
    a: Array  # (batch, units)

    def extra(self, p: int) -> dict[str, Array]:
        """Sample ``p``'s values besides inputs, z and a that the layer shows (a dropout mask), for the JSON."""
        return {}

    def reads(self, j: int) -> tuple[int, ...]:
        """The input entries output ``j`` of a layer without weights reads (the graph's edges): its own
        place, but for a layer that pools a window."""
        return (j,)

    def output_name(self, j: int) -> str:
        """The name of output ``j``'s a: ``h.a1`` (a conv layer's: ``c1.a2_3_4``)."""
        return f"{self.layer}.a{j + 1}"

    def rule_text(self, j: int) -> str:
        """How output ``j`` is made, as the graph's node writes it: ``h.a1 = sigmoid(h.z1)``."""
        return f"{self.layer}.a{j + 1} = {self.activation}({self.layer}.z{j + 1})"


@record
class LossRecord:
    """Per-sample loss terms, per-sample losses, the batch loss and the textbook ∂L_s/∂a."""

    name: str
    reduction: str
    output_layer: str
    prediction: Array  # (batch, K)
    target: Array  # (batch, K)
    terms: Array  # (batch, K); a sample's loss is the sum of its row
    per_sample: Array  # (batch,)
    value: Scalar  # mean or sum of per_sample (a Fraction in exact mode)
    dL_da: Array  # (batch, K), ∂L_s/∂a_k, may be non-finite where a saturates (shown, not used)


@record
class LayerBackward:
    """δ = ∂L_s/∂z from upstream × local, the parameter gradients, and ∂L_s/∂a of the layer below."""

    layer: str
    activation: str
    negative_slope: Scalar
    input_names: tuple[str, ...]
    z: Array  # (batch, units), from the forward pass
    a: Array  # (batch, units), from the forward pass
    upstream: Array  # (batch, units): ∂L_s/∂a
    local: Array  # (batch, units): ∂a/∂z (softmax: the Jacobian's diagonal)
    jacobian: Array | None  # (batch, k, j): ∂a_k/∂z_j, softmax only
    chain: Array  # (batch, units): the textbook product upstream × local (Σ_k for softmax)
    delta: Array  # (batch, units): ∂L_s/∂z as used; equals chain unless ``combined``
    combined: str | None  # the stable combined formula used for δ (softmax+CE, sigmoid+BCE)
    inputs: Array  # (batch, fan_in): a_prev
    weights: Array | None  # (units, fan_in); None for a layer without weights
    grad_w: Array | None  # (batch, units, fan_in): δ_j × a_prev_i
    grad_b: Array | None  # (batch, units): δ_j
    downstream: Array | None  # (batch, fan_in): ∂L_s/∂a_prev = Σ_j δ_j·w_ji; None below the first layer

    def per_sample_grads(self) -> list[Array]:
        """Each parameter tensor's per-sample gradients, in the order of the layer's parameters."""
        return [g for g in (self.grad_w, self.grad_b) if g is not None]

    def downstream_terms(self) -> Array:
        """The terms δ_j·w_ji of each Σ, shape (batch, fan_in, units)."""
        assert self.weights is not None, "a layer without weights passes δ down as it is"
        terms: Array = self.delta[:, None, :] * self.weights.T[None, :, :]
        return terms


@record
class ParamUpdate:
    """One parameter tensor: per-sample gradients, their reduction, the optimizer step, the result."""

    layer: str
    kind: str  # "weights" or "biases"
    old: Array
    per_sample: Array  # (batch, *shape)
    grad: Array  # reduced over the batch (mean or sum)
    new: Array  # == old when frozen
    state: Mapping[str, Array]  # the optimizer's named intermediates, in the order computed
    formula: str  # optimizer template over {old}, {grad}, hyper-parameters and state names
    frozen: bool
    formulas: Mapping[str, str] = field(default_factory=dict)  # template per state entry (optim.ParamStep)
    prior: Mapping[str, Array] = field(default_factory=dict)  # state carried in from the step before, "m_prev"
    scalars: Mapping[str, float] = field(default_factory=dict)  # per-tensor scalars, e.g. Adam's step count t
    rule: NamedRule | None = None  # the new value's formula as a rule (optim.ParamStep)
    rules: Mapping[str, NamedRule] = field(default_factory=dict)  # each state entry's rule

    def state_names(self, *, step: int | None = None) -> dict[str, Scalar]:
        """Every optimizer state scalar by its qualified name (``step2/h.w1_2.m_hat``)."""
        return {
            qualify(f"{param_name(self.layer, self.kind, index)}.{s}", step=step): scalar(values[index])
            for s, values in self.state.items()
            for index in np.ndindex(values.shape)
        }


@record
class StepRecord:
    """One step of the trace: its batch, every layer's forward and backward pass, the loss and the updates."""

    step: int  # 1-based
    samples: tuple[int, ...]  # 0-based data rows of the batch (JSON: samples; rows holds them 1-based)
    multi_step: bool  # whether names carry a step qualifier
    optimizer: str
    hyper: Mapping[str, float]
    forward: tuple[LayerForward, ...]  # input to output
    loss: LossRecord
    backward: tuple[LayerBackward, ...]  # output to input
    updates: tuple[ParamUpdate, ...]  # input to output, weights before biases
    loss_after: Scalar  # the same batch's loss after the update
    flags: tuple[str, ...] = ()  # switched-on optimizer options: nesterov, amsgrad, centered
    layers: tuple[LayerOp, ...] = ()  # the layer ops that made the records (and lay out their quantities)
    buffers: Mapping[str, Mapping[str, Array]] = field(default_factory=dict)  # after the step, by layer
    evaluating: bool = False  # training: {mode: eval}: the step ran as torch's model.eval()
    # round-as-you-go (``trace --round-as-you-go``): the run's chain, which its blocks' quantities go through
    rounding: RoundedChain | None = field(default=None, compare=False, repr=False)

    @property
    def step_q(self) -> int | None:
        return self.step if self.multi_step else None

    def sample_q(self, position: int) -> int | None:
        """Row qualifier for the sample at ``position`` in the batch (None for a batch of one)."""
        return self.samples[position] if len(self.samples) > 1 else None

    def to_dict(self, *, detail: bool = True) -> dict[str, Any]:
        """The JSON contract of one step (design notes), plus per-sample detail when asked.

        Arrays stay numpy arrays (the JSON writer serialises them whole; a non-finite textbook factor
        of a saturated output is written as null); exact fractions are written as ``"n/d"`` strings.
        """
        arr = _exact_nested if self.exact else _as_array
        params: dict[str, Any] = {}
        grads: dict[str, Any] = {}
        updated: dict[str, Any] = {}
        for u in self.updates:
            params.setdefault(u.layer, {})[u.kind] = arr(u.old)
            grads.setdefault(u.layer, {})[u.kind] = arr(u.grad)
            updated.setdefault(u.layer, {})[u.kind] = arr(u.new)
        out: dict[str, Any] = {
            "step": self.step,
            "samples": list(self.samples),  # 0-based row indices (the version-1 contract)
            "rows": [row + 1 for row in self.samples],  # the same rows 1-based, as names and --sample count them
            "loss": _number(self.loss.value),
            "parameters": params,
            "gradients": grads,
            "updated": updated,
            "loss_after": _number(self.loss_after),
            "optimizer": {
                "name": self.optimizer,
                **{k: _number(v) for k, v in self.hyper.items()},
                **dict.fromkeys(self.flags, True),
            },
        }
        state: dict[str, Any] = {}
        for u in self.updates:
            if u.state:  # by layer and kind like "updated"; t and the like beside the arrays
                entry = {k: (int(v) if k == "t" else _number(v)) for k, v in u.scalars.items()}
                state.setdefault(u.layer, {})[u.kind] = entry | {k: arr(v) for k, v in u.state.items()}
        if self.buffers:  # batch norm's running_mean and running_var after the step, as torch's buffers
            out["buffers"] = {layer: {k: arr(v) for k, v in b.items()} for layer, b in self.buffers.items()}
        if state:
            out["optimizer_state"] = state
            out["optimizer_values"] = {
                name: _number(value) for u in self.updates for name, value in u.state_names(step=self.step_q).items()
            }
        if detail:
            out["per_sample"] = [self._sample_dict(p) for p in range(len(self.samples))]
        return out

    @property
    def exact(self) -> bool:
        return self.loss.terms.dtype == object

    def _sample_dict(self, p: int) -> dict[str, Any]:
        arr = _exact_nested if self.exact else _as_array
        forward = {
            f.layer: {"inputs": arr(f.inputs[p]), "z": arr(f.z[p]), "a": arr(f.a[p])}
            | {key: arr(values) for key, values in f.extra(p).items()}
            for f in self.forward
        }
        backward: dict[str, Any] = {}
        for b in self.backward:
            entry: dict[str, Any] = {
                "dL_da": _nullable(arr(b.upstream[p])),
                "da_dz": arr(b.local[p]),
                "chain": _nullable(arr(b.chain[p])),
                "delta": arr(b.delta[p]),
            }
            if b.grad_w is not None:
                entry["dL_dw"] = arr(b.grad_w[p])
            if b.jacobian is not None:
                entry["da_dz_jacobian"] = arr(b.jacobian[p])
            if b.combined:
                entry["delta_formula"] = b.combined
            if b.grad_b is not None:
                entry["dL_db"] = arr(b.grad_b[p])
            if b.downstream is not None:
                entry["dL_da_below"] = arr(b.downstream[p])
            backward[b.layer] = entry
        return {
            "sample": self.samples[p],
            "row": self.samples[p] + 1,
            "forward": forward,
            "loss": _number(self.loss.per_sample[p]),
            "loss_terms": arr(self.loss.terms[p]),
            "target": arr(self.loss.target[p]),
            "dL_da_output": _nullable(arr(self.loss.dL_da[p])),
            "backward": backward,
        }


def _as_array(values: Array) -> Array:
    """A float array as the JSON writer takes it (C-contiguous float64)."""
    return np.ascontiguousarray(values, dtype=np.float64)


def _nullable(values: Any) -> Any:
    """A saturated output's textbook ∂L/∂a or chain: ∞ or undefined in float64 (shown, not used), which
    the document writes as null (every other non-finite value is a fault, stopped before any writing)."""
    if isinstance(values, np.ndarray) and not np.isfinite(values).all():
        return [float(v) if math.isfinite(v) else None for v in values]
    return values


def _exact_nested(values: Array) -> Any:
    """An array of fractions as nested lists of ``"n/d"`` strings (an integer as ``"n"``)."""
    if not isinstance(values, np.ndarray):
        return exact_text(Fraction(values))
    if values.ndim == 0:
        return exact_text(Fraction(values.item()))
    return [_exact_nested(v) for v in values]


def _number(value: Any) -> Any:
    """A number as the JSON contract writes it: a float, or an exact fraction as ``"n/d"``."""
    if isinstance(value, Fraction):
        return exact_text(value)
    return float(value)
