"""The residual block: output = f(input + F(input)), ResNet's basic block (f: identity unless given).

``{type: residual, name: res1, layers: [...]}`` runs its inner layers (the branch F) on the block's
input x, and adds x back (the skip) to the branch's output: z_j = F(x)_j + x_j, a_j = f(z_j), so
the branch's output must have x's shape. The block is two ops around its inner layers, which stay
ordinary layers of the network (named ``res1.fc1`` …, so every consumer sees a flat list of ops):

- the **entry** (``res1.branch``, kind ``residual_entry``): its output is its input (its outputs
  keep the input's names, so the branch's first layer reads ``h.a1`` …); forward it shows the skip,
  ``res1.skip_j = h.a_j``. Backward it is where the two paths meet: the branch's first layer sends
  ``res1.branch.dL_da_j`` (∂L/∂x through F), the skip carries ``res1.dL_dskip_j = res1.delta_j``,
  and ∂L/∂x_j = ``res1.dL_dx_j`` = their sum is what the layer below receives (its ``h.dL_da_j``);
- the **join** (``res1``, kind ``residual``): z_j = branch_j + ``res1.skip_j``, a_j = f(z_j);
  backward δ_j = ∂L/∂a_j × f'(z_j), passed down the branch (``res1.fc2.dL_da_j = res1.delta_j``)
  and along the skip, by the engine, to the entry (:class:`Joins`, :class:`Forks` in ``base.py``).

``nest`` turns the flat list back into the config's nested entry (the normalised config, ``train
--save``); the block's inner layers are keyed ``res1.fc1`` in the JSON, as torch names a
submodule's parameters (``block.inner``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from backprop_cli.model.i18n import N_, _
from backprop_cli.model.names import neuron_name
from backprop_cli.model.quantity import Form, Quantity, scalar
from backprop_cli.model.spec import Array, BaseLayerSpec
from backprop_cli.nn.check import finite
from backprop_cli.nn.layers.activation import ActivationBlocks, ActivationLayer, ActivationSpec
from backprop_cli.nn.layers.base import Cache, Counts, Emit, LayerPlace
from backprop_cli.nn.layers.dense import DenseCache, same, total
from backprop_cli.nn.ops import NamedRule
from backprop_cli.nn.records import LayerBackward, LayerForward

ENTRY = "branch"  # the entry op's name within its block: res1.branch


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape)


@dataclass(frozen=True)
class ResidualSpec(ActivationSpec):
    """The join of a residual block named ``name``: its branch is the ``span − 1`` layers before it."""

    kind: ClassVar[str] = "residual"
    span: int = 1  # from the entry to the join: the entry is ``span`` layers before it

    @property
    def label(self) -> str:
        return f"residual: F + skip{'' if self.activation == 'identity' else ', ' + self.activation}"

    @property
    def formula(self) -> str:
        return "z = branch + skip" if self.activation == "identity" else f"{self.activation}(branch + skip)"

    def forward_latex(self) -> tuple[str, ...]:
        return (r"z_j = F(x)_j + x_j", r"a_j = f(z_j)")

    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        """The block's entry without its inner layers (``nest`` puts them in)."""
        entry: dict[str, Any] = {"type": self.kind, "name": self.name}
        if self.activation != "identity":
            entry["activation"] = self.activation
        if self.activation == "leaky_relu":
            entry["negative_slope"] = self.negative_slope
        return entry


@dataclass(frozen=True)
class ResidualEntrySpec(ActivationSpec):
    """The entry of residual block ``block``: the identity, its input split into the branch and the skip."""

    kind: ClassVar[str] = "residual_entry"
    block: str = ""
    span: int = 1  # the join is ``span`` layers after it

    @property
    def label(self) -> str:
        return f"residual {self.block}: x to the branch and the skip"

    @property
    def formula(self) -> str:
        return "x"

    def forward_latex(self) -> tuple[str, ...]:
        return (r"\text{skip}_j = x_j",)

    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        return {"type": self.kind, "name": self.block}


def expand(
    m: Any, place: LayerPlace, inner: Sequence[BaseLayerSpec], shape: tuple[int, ...], out_shape: tuple[int, ...]
) -> list[BaseLayerSpec]:
    """The block as flat layers: its entry, its inner layers (built by the loader, named ``res1.…``),
    its join; the branch must give back the shape of the block's input (a located error saying both)."""
    activation = "identity" if m.activation == "linear" else m.activation
    if activation == "softmax" and not place.last:
        raise place.error(
            _(
                "softmax on residual block {name}, which is not the last layer; expected softmax only on "
                "the output layer"
            ).format(name=repr(place.name)),
            "activation",
        )
    if m.negative_slope is not None and activation != "leaky_relu":
        raise place.error(
            _("negative_slope with activation {activation}; expected it only with leaky_relu").format(
                activation=repr(activation)
            ),
            "negative_slope",
        )
    if tuple(out_shape) != tuple(shape):
        last = inner[-1]
        raise place.error(
            _(
                "residual block {name}: its branch gives an output of shape {out_shape} (layer {last}), its input "
                "has shape {shape}; expected the same shape, since the block adds its input to the branch's output"
            ).format(
                name=repr(place.name), out_shape=shape_text(out_shape), last=repr(last.name), shape=shape_text(shape)
            ),
            "layers",
        )
    slope = m.negative_slope if m.negative_slope is not None else 0.01
    span = len(inner) + 1
    width = place.fan_in
    entry = ResidualEntrySpec(f"{place.name}.{ENTRY}", "identity", width, block=place.name, span=span)
    return [entry, *inner, ResidualSpec(place.name, activation, width, slope, span=span)]


def nest(layers: Sequence[BaseLayerSpec], entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The flat layers' config entries with each residual block's nested again: ``{type: residual,
    name, layers: [...]}``, its inner layers named without the block's prefix."""
    out: list[dict[str, Any]] = []
    at = 0
    while at < len(layers):
        layer = layers[at]
        if isinstance(layer, ResidualEntrySpec):
            end = at + layer.span
            inner = nest(layers[at + 1 : end], entries[at + 1 : end])
            prefix = f"{layer.block}."
            for entry in inner:
                entry["name"] = str(entry["name"]).removeprefix(prefix)
            out.append({**entries[end], "layers": inner})
            at = end + 1
        else:
            out.append(dict(entries[at]))
            at += 1
    return out


@dataclass(frozen=True)
class JoinCache(DenseCache):
    """x: the branch's output, z = x + skip, a = f(z)."""

    skip: Array | None = None  # (batch, width): the block's input


@dataclass(frozen=True)
class JoinForward(LayerForward):
    skip: Array | None = None  # (batch, width): the block's input, added to the branch

    def extra(self, p: int) -> dict[str, Array]:
        return {} if self.skip is None else {"skip": self.skip[p]}

    def rule_text(self, j: int) -> str:
        z = f"{self.input_names[j]} + {self.layer}.skip{j + 1}"
        return (
            f"{self.layer}.a{j + 1} = {z}"
            if self.activation == "identity"
            else f"{self.layer}.a{j + 1} = {self.activation}({z})"
        )


@dataclass(frozen=True)
class EntryBackward(LayerBackward):
    skip: Array | None = None  # (batch, width): ∂L/∂x along the skip (the join's δ)
    branch: Array | None = None  # (batch, width): ∂L/∂x through the branch


class Residual(ActivationLayer):
    """The join of a residual block: z = branch + skip, a = f(z); see the module docstring."""

    kind = "residual"
    config_model = "ResidualLayerModel"

    def __init__(self, spec: ResidualSpec, input_names: tuple[str, ...], *, exact: bool = False) -> None:
        super().__init__(spec, input_names, exact=exact)
        self.span = spec.span

    @staticmethod
    def counts(spec: ActivationSpec, *, hidden: bool, combined: bool, first: bool) -> Counts:
        base = ActivationLayer.counts(spec, hidden=hidden, combined=combined, first=first)
        return Counts(base.forward, base.backward, base.json + spec.width)  # + the skip in the JSON

    def forward(
        self,
        params: Sequence[Array],
        x: Array,
        step: int,
        during: str = "",
        *,
        evaluating: bool = False,
        skip: Array | None = None,
    ) -> JoinCache:
        if skip is None:
            raise TypeError(f"the join of residual block {self.name} needs its skip (the block's input)")
        z = x + skip
        finite(z, step=step, layer=self.name, quantity=N_("branch + skip") + during)
        a = self._forward(z)
        finite(a, step=step, layer=self.name, quantity=N_("activation a") + during)
        return JoinCache(x, z, a, skip)

    def record_forward(self, params: Sequence[Array], cache: Cache) -> LayerForward:
        assert isinstance(cache, JoinCache)
        return JoinForward(
            self.name,
            self.activation,
            self.slope,
            self.input_names,
            cache.x,
            None,
            None,
            cache.z,
            cache.a,
            skip=cache.skip,
        )

    def blocks(self) -> JoinBlocks:
        return JoinBlocks(self)


class ResidualEntry(ActivationLayer):
    """The entry of a residual block: a = x, and backward ∂L/∂x = the branch's + the skip's."""

    kind = "residual_entry"
    config_model = "ResidualLayerModel"

    def __init__(self, spec: ResidualEntrySpec, input_names: tuple[str, ...], *, exact: bool = False) -> None:
        super().__init__(spec, input_names, exact=exact)
        self.output_names = input_names  # the branch reads the block's input under its own names
        self.block = spec.block  # (no ``span``: that is what makes an op a join, base.Joins)

    @staticmethod
    def counts(spec: ActivationSpec, *, hidden: bool, combined: bool, first: bool) -> Counts:
        width = spec.width
        # forward: the skip; backward: the branch's ∂L/∂x, the skip's, their sum; JSON as an identity layer's
        return Counts(width, 3 * width, 3 * width + 4 * width + width * (not first))

    def backward_trace(
        self,
        fwd: LayerForward,
        upstream: Array,
        combined: tuple[Array, str] | None,
        step: int,
        first: bool,
        *,
        skip: Array | None = None,
    ) -> LayerBackward:
        """``upstream``: ∂L/∂x through the branch; ``skip``: through the skip (the join's δ)."""
        if skip is None:
            raise TypeError(f"the entry of residual block {self.block} needs the gradient along its skip")
        arriving = upstream + skip
        finite(arriving, step=step, layer=self.name, quantity=N_("∂L/∂x = branch + skip"))
        chain, local, _ = self.delta(DenseCache(fwd.inputs, fwd.z, fwd.a), arriving)
        return EntryBackward(
            layer=self.name,
            activation="identity",
            negative_slope=self.slope,
            input_names=fwd.input_names,
            z=fwd.z,
            a=fwd.a,
            upstream=arriving,
            local=local,
            jacobian=None,
            chain=chain,
            delta=chain,
            combined=None,
            inputs=fwd.inputs,
            weights=None,
            grad_w=None,
            grad_b=None,
            downstream=None if first else chain,
            skip=skip,
            branch=upstream,
        )

    def blocks(self) -> EntryBlocks:
        return EntryBlocks(self)


class JoinBlocks(ActivationBlocks):
    """The join's quantities: z_j = branch_j + skip_j, a_j = f(z_j); backward as an activation's (its δ
    goes down the branch as the branch's last ∂L/∂a, and along the skip to the entry)."""

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(fwd, JoinForward) and fwd.skip is not None
        layer = self.op.name
        sums = [
            emit.quantity(
                emit.q(neuron_name(layer, "z", j), p),
                scalar(fwd.z[p, j]),
                "forward",
                layer,
                p,
                Form("{0} + {1}", (emit.q(source, p), emit.q(neuron_name(layer, "skip", j), p)), total),
                [scalar(fwd.inputs[p, j]), scalar(fwd.skip[p, j])],
            )
            for j, source in enumerate(fwd.input_names)
        ]
        out = sums + self.activations(fwd, p, emit)
        f = self.op.act.template.format(z="z", s=emit.numbers.operand(self.op.slope))
        note = _("residual block {layer}: z = the branch's output + the skip (the block's input); a = {f}").format(
            layer=layer, f=f
        )
        return _("Forward · residual block {layer} (branch + skip)").format(layer=layer), out, note

    def backward(
        self, back: LayerBackward, upstream: list[Quantity], p: int, emit: Emit, combined_rule: NamedRule | None
    ) -> tuple[str, list[Quantity], str]:
        _title, out, note = super().backward(back, upstream, p, emit, combined_rule)
        layer = self.op.name
        note = (f"{note}; " if note else "") + _(
            "δ goes down both paths: the branch (its last layer's ∂L/∂a) and the skip ({name})"
        ).format(name=f"{layer}.dL_dskip")
        return _("Backward · residual block {layer} (join)").format(layer=layer), out, note


class EntryBlocks(ActivationBlocks):
    """The entry's quantities: forward the skip; backward the two paths' ∂L/∂x and their sum."""

    def __init__(self, op: ResidualEntry) -> None:
        super().__init__(op)
        self.block = op.block

    def forward_count(self, fwd: LayerForward) -> int:
        return int(fwd.z.shape[1])

    def backward_count(self, back: LayerBackward, *, hidden: bool) -> int:
        return 3 * int(back.delta.shape[1])

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        layer = self.op.name
        out = [
            emit.quantity(
                emit.q(neuron_name(self.block, "skip", j), p),
                scalar(fwd.inputs[p, j]),
                "forward",
                layer,
                p,
                Form("{0}", (emit.q(source, p),), same, "{0:v}"),
                [scalar(fwd.inputs[p, j])],
            )
            for j, source in enumerate(fwd.input_names)
        ]
        note = _(
            "the block's input goes into the branch ({block}'s inner layers) and, unchanged, along the skip"
        ).format(block=self.block)
        return _("Forward · residual block {layer} (the skip)").format(layer=self.block), out, note

    def backward(
        self, back: LayerBackward, upstream: list[Quantity], p: int, emit: Emit, combined_rule: NamedRule | None
    ) -> tuple[str, list[Quantity], str]:
        assert isinstance(back, EntryBackward) and back.skip is not None and back.branch is not None
        layer, block = self.op.name, self.block
        width = int(back.delta.shape[1])
        skips = [
            emit.quantity(
                emit.q(neuron_name(block, "dL_dskip", j), p),
                scalar(back.skip[p, j]),
                "backward",
                layer,
                p,
                Form("{0}", (emit.q(neuron_name(block, "delta", j), p),), same, "{0:v}"),
                [scalar(back.skip[p, j])],
            )
            for j in range(width)
        ]
        sums = [
            emit.quantity(
                emit.q(neuron_name(block, "dL_dx", j), p),
                scalar(back.delta[p, j]),
                "backward",
                layer,
                p,
                Form("{0} + {1}", (upstream[j].name, skips[j].name), total),
                [scalar(back.branch[p, j]), scalar(back.skip[p, j])],
            )
            for j in range(width)
        ]
        note = _(
            "∂L/∂x of block {block} is the sum of its two paths: through the branch ({upstream}, from "
            "its first layer) and along the skip ({skip}, since the skip adds x as it is)"
        ).format(block=block, upstream=f"{layer}.dL_da", skip=f"{block}.dL_dskip = {block}.delta")
        title = _("Backward · residual block {layer} (the two paths meet)").format(layer=block)
        return title, [*upstream, *skips, *sums], note

    def downstream(self, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        """∂L/∂a_j of the layer below is ∂L/∂x_j of the block."""
        assert back.downstream is not None
        return [
            emit.quantity(
                emit.q(neuron_name(below, "dL_da", j), p),
                scalar(back.downstream[p, j]),
                "backward",
                below,
                p,
                Form("{0}", (emit.q(neuron_name(self.block, "dL_dx", j), p),), same, "{0:v}"),
                [scalar(back.delta[p, j])],
            )
            for j in range(back.delta.shape[1])
        ]


__all__ = ["Residual", "ResidualEntry", "ResidualEntrySpec", "ResidualSpec", "expand", "nest"]
