"""Convolution layers as torch defines them: ``conv2d`` on a [C, H, W] input (``torch.nn.Conv2d``) and
``conv1d`` on a [C, L] input (``torch.nn.Conv1d``), with an activation after them, as a dense layer's.

A cross-correlation (the kernel is not flipped) with ``padding`` zeros on every side of each spatial
axis and a square kernel of ``kernel_size`` cells per axis moved by ``stride`` (dilation 1, groups 1):

    z[o, i, j] = b[o] + Σ_c Σ_u Σ_v w[o, c, u, v] · x[c, i·s + u − p, j·s + v − p]

(a padding cell counts 0 and is left out of the written sum), a = f(z); the weights have torch's
shape [out][in][kh][kw] (conv1d: [out][in][k]). ``conv.py`` holds the same arithmetic window by window,
the reference the tests hold this module to.

Values travel flat between the layers in row-major order (output channel, then row, then column), so
output entry (o, i, j) is ``c1.a{o}_{i}_{j}`` 1-based (names.cell_name) and the layer below names its
∂L/∂a the same way (names.upstream_name). Backward, from δ = ∂L/∂z = ∂L/∂a × f′(z): each kernel weight's
gradient is the sum over the output positions of δ × the input cell that weight read there, the bias's
the sum of its channel's δ, and ∂L/∂x the transposed convolution: each input cell gets Σ δ × w over the
output positions and kernel weights that read it.

Both modes run as im2col: the input's windows gathered once by an index map into an array
(batch, C·k^d, positions), so the forward pass and the gradients are one product each (the fast mode
``train`` uses, and ``--exact`` on fractions alike) and ∂L/∂x is put back one kernel weight at a time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from backprop_cli.errors import quoted
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.names import cell_name, param_grad_name, param_name, upstream_name
from backprop_cli.model.quantity import Const, Form, Quantity, Scalar, Slot, scalar
from backprop_cli.model.spec import Array, BaseLayerSpec
from backprop_cli.nn.check import checked_after, finite
from backprop_cli.nn.init import initialise
from backprop_cli.nn.layers.base import Cache, Counts, Emit, LayerPlace, ParamDef, count, fill, shaped_only
from backprop_cli.nn.layers.conv import fans, fit_problem, output_size
from backprop_cli.nn.layers.dense import (
    MAX_LAYER_WEIGHTS,
    activation_rules,
    chain_through,
    dot,
    exact_array,
    product,
    total,
)
from backprop_cli.nn.layers.pool import shape_text, window_map
from backprop_cli.nn.ops import ACTIVATIONS, RATIONAL_ACTIVATIONS, NamedRule
from backprop_cli.nn.optim import exact_number
from backprop_cli.nn.records import LayerBackward, LayerForward

Indices = NDArray[np.intp]
SHOWN_TERMS = 12  # a longer sum (a weight's gradient over many output positions) writes its first 12 terms


@dataclass(frozen=True)
class ConvSpec(BaseLayerSpec):
    """A convolution over an input of ``shape`` (C, H, W) or (C, L); see the module docstring."""

    kind: ClassVar[str] = "conv2d"
    dims: ClassVar[int] = 2  # spatial axes
    name: str
    shape: tuple[int, ...]
    activation: str
    weights: Array  # (out, in, k, k) or (out, in, k): torch's
    biases: Array | None  # (out,); None for ``bias: false``
    stride: int = 1
    padding: int = 0
    negative_slope: float = 0.01
    frozen: frozenset[str] = frozenset()

    @property
    def out_channels(self) -> int:
        return int(self.weights.shape[0])

    @property
    def kernel_size(self) -> int:
        return int(self.weights.shape[-1])

    @property
    def conv_shape(self) -> tuple[int, ...]:
        """Its output's shape: (C_out, H_out, W_out) or (C_out, L_out)."""
        k, s, p = self.kernel_size, self.stride, self.padding
        return (self.out_channels, *(output_size(n, k, s, p) for n in self.shape[1:]))

    @property
    def units(self) -> int:
        return math.prod(self.conv_shape)

    @property
    def fan_in(self) -> int:
        return math.prod(self.shape)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return self.conv_shape

    def tensors(self) -> dict[str, Array]:
        return {"weights": self.weights} | ({} if self.biases is None else {"biases": self.biases})

    @property
    def label(self) -> str:
        k = "×".join([str(self.kernel_size)] * self.dims)
        pad = f", padding {self.padding}" if self.padding else ""
        shapes = f"{shape_text(self.shape)} → {shape_text(self.conv_shape)}"
        filters = count(self.out_channels, "filter")
        return f"conv {k}, {filters}, stride {self.stride}{pad}: {shapes}, {self.activation}"

    def forward_latex(self) -> tuple[str, ...]:
        if self.dims == 1:
            z = r"z_{o,i} = b_o + \sum_{c} \sum_{u} w_{o,c,u}\, x_{c,\,is+u-p}"
        else:
            z = r"z_{o,i,j} = b_o + \sum_{c} \sum_{u,v} w_{o,c,u,v}\, x_{c,\,is+u-p,\,js+v-p}"
        return (z + r", \quad a = f(z)",)

    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        values = self.tensors() | dict(tensors or {})
        entry: dict[str, Any] = {
            "type": self.kind,
            "name": self.name,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "activation": self.activation,
        }
        if self.activation == "leaky_relu":
            entry["negative_slope"] = self.negative_slope
        entry["weights"] = values["weights"].tolist()
        if "biases" in values:
            entry["biases"] = values["biases"].tolist()
        else:
            entry["bias"] = False
        if self.frozen:
            entry["frozen"] = sorted(self.frozen)
        return entry


@dataclass(frozen=True)
class Conv2dSpec(ConvSpec):
    kind: ClassVar[str] = "conv2d"
    dims: ClassVar[int] = 2


@dataclass(frozen=True)
class Conv1dSpec(ConvSpec):
    kind: ClassVar[str] = "conv1d"
    dims: ClassVar[int] = 1


SPECS: dict[str, type[ConvSpec]] = {s.kind: s for s in (Conv2dSpec, Conv1dSpec)}


def column_map(shape: tuple[int, ...], kernel: int, stride: int, padding: int) -> Indices:
    """(positions, C·k^d): the flat input index each output position's window reads, for every input
    channel c and kernel offset in the weights' order (c, u, v); a padding cell is ``prod(shape)``."""
    channels = shape[0]
    per_channel = window_map(shape, kernel, stride, padding)  # (C·positions, k^d), channel by channel
    positions = per_channel.shape[0] // channels
    cols: Indices = per_channel.reshape(channels, positions, -1).transpose(1, 0, 2).reshape(positions, -1)
    return np.ascontiguousarray(cols)


def _zero(like: Array) -> Any:
    return Fraction(0) if like.dtype == object else 0.0


AXES = {4: "filters", 3: "input channels", 2: "kernel rows", 1: "kernel cells"}


def _tensor(value: Any, shape: tuple[int, ...], what: str, place: LayerPlace, path: tuple[int, ...] = ()) -> None:
    """A nested list of numbers of ``shape`` (from ``path`` down) exactly, or a located error naming the
    first part that is not: ``layer 'c1' weights[0] has 2 entries; expected 1 (input channels)``."""
    where = "".join(f"[{i}]" for i in path)
    if not shape:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise place.error(
                f"layer {place.name!r} {what}{where} is {quoted(value)}; expected a finite number", what, *path
            )
        return
    if not isinstance(value, list) or len(value) != shape[0]:
        got = count(len(value), "entry").replace("entrys", "entries") if isinstance(value, list) else quoted(value)
        verb = "has" if isinstance(value, list) else "is"
        axis = AXES.get(len(shape), "entries") if what == "weights" else "out_channels"
        raise place.error(f"layer {place.name!r} {what}{where} {verb} {got}; expected {shape[0]} ({axis})", what, *path)
    for i, item in enumerate(value):
        _tensor(item, shape[1:], what, place, (*path, i))


class ConvLayer:
    """One convolution layer of a network (``conv2d``, ``conv1d``: the subclasses below)."""

    kind = "conv2d"
    config_model = "ConvLayerModel"

    @classmethod
    def from_config(cls, m: Any, place: LayerPlace) -> ConvSpec:
        spec_type = SPECS[m.type]
        shaped_only(place, m.type, spec_type.dims)
        axes = spec_type.dims + 1
        if place.last:
            raise place.error(
                _(
                    "{kind} layer {name} is the last; expected a layer after it (flatten and a dense "
                    "output layer: the loss reads a flat output)"
                ).format(kind=m.type, name=repr(place.name)),
                "type",
            )
        activation = "identity" if m.activation == "linear" else m.activation
        if activation == "softmax":
            raise place.error(
                _("softmax on {kind} layer {name}; expected softmax only on a dense output layer").format(
                    kind=m.type, name=repr(place.name)
                ),
                "activation",
            )
        if m.negative_slope is not None and activation != "leaky_relu":
            raise place.error(
                _("negative_slope with activation {activation}; expected it only with leaky_relu").format(
                    activation=repr(activation)
                ),
                "negative_slope",
            )
        k, channels, spatial = m.kernel_size, place.shape[0], place.shape[1:]
        if axes == 3:
            problem = fit_problem(place.name, (spatial[0], spatial[1]), (k, k), m.padding)
        elif k > spatial[0] + 2 * m.padding:
            problem = _(
                "{name}: kernel {kernel} does not fit an input of length {length} with padding {padding}"
            ).format(name=place.name, kernel=k, length=spatial[0], padding=m.padding)
        else:
            problem = None
        if problem is not None:
            raise place.error(problem, "kernel_size")
        kernel = (k,) * spec_type.dims
        if m.weights is None and m.out_channels is None:
            raise place.error(
                _("missing required field 'out_channels'; expected the number of filters, or weights"), "out_channels"
            )
        out_channels = m.out_channels if m.out_channels is not None else len(m.weights)
        shape = (out_channels, channels, *kernel)
        if math.prod(shape) > MAX_LAYER_WEIGHTS:
            raise place.error(
                _("layer {name} would have {n:,} weights; expected at most {most:,}").format(
                    name=repr(place.name), n=math.prod(shape), most=MAX_LAYER_WEIGHTS
                ),
                "out_channels",
            )
        if m.weights is not None:
            _tensor(m.weights, shape, "weights", place)
        if m.biases is not None and not m.bias:
            raise place.error(_("biases given with bias: false; expected one or the other"), "biases")
        if m.biases is not None:
            _tensor(m.biases, (out_channels,), "biases", place)
        init = place.init()
        if init is None and m.weights is None:
            raise place.error(
                _("weights missing; expected weights {shape} or init: {{method, seed}}").format(
                    shape="[out][in]" + "[k]" * spec_type.dims
                ),
                "weights",
            )
        fan_in, fan_out = fans(out_channels, channels, k, k if axes == 3 else 1)  # torch's: C·k^d, C_out·k^d
        if init is not None:
            drawn, bias_drawn = initialise(init, units=out_channels, fan_in=fan_in, fan_out=fan_out)
        else:
            drawn, bias_drawn = np.zeros((out_channels, fan_in)), np.zeros(out_channels)
        weights = np.array(m.weights, dtype=np.float64) if m.weights is not None else drawn.reshape(shape)
        biases = np.array(m.biases, dtype=np.float64) if m.biases is not None else bias_drawn
        slope = m.negative_slope if m.negative_slope is not None else 0.01
        return spec_type(
            place.name,
            tuple(place.shape),
            activation,
            weights,
            biases if m.bias else None,
            m.stride,
            m.padding,
            slope,
            frozenset(m.frozen),
        )

    @staticmethod
    def counts(spec: ConvSpec, *, hidden: bool, combined: bool, first: bool) -> Counts:
        units, inputs = spec.units, spec.fan_in
        weights, bias = int(spec.weights.size), spec.out_channels * (spec.biases is not None)
        # forward: z and a per output; backward: ∂L/∂a (from above), ∂a/∂z and δ per output, ∂L/∂w and ∂L/∂b.
        # JSON per sample: inputs, z, a; dL_da, da_dz, chain, delta; ∂L/∂a of the layer below
        json = inputs + 2 * units + 4 * units + inputs * (not first)
        return Counts(2 * units, units * hidden + 2 * units + weights + bias, json)

    def __init__(self, spec: ConvSpec, input_names: tuple[str, ...], *, exact: bool = False) -> None:
        self.spec = spec
        self.name = spec.name
        self.activation = spec.activation
        self.exact = exact
        self.slope: Scalar = exact_number(spec.negative_slope) if exact else spec.negative_slope
        self.input_names = input_names
        self.out_shape = spec.conv_shape
        self.cells = [tuple(int(i) for i in index) for index in np.ndindex(*self.out_shape)]
        self.output_names = tuple(cell_name(spec.name, "a", index) for index in self.cells)
        self.act = ACTIVATIONS[spec.activation]
        kinds = ("weights",) if spec.biases is None else ("weights", "biases")
        self.params = tuple(ParamDef(kind, kind in spec.frozen) for kind in kinds)
        self._forward, self._derivative = activation_rules(spec.activation, spec.negative_slope, exact=exact)
        self.cols = column_map(spec.shape, spec.kernel_size, spec.stride, spec.padding)  # (P, C·k^d)
        self.cols_t = np.ascontiguousarray(self.cols.T)  # (C·k^d, P)
        self.positions = self.cols.shape[0]
        self.pad = spec.fan_in  # the index of a padding cell

    @property
    def rational(self) -> bool:
        return self.activation in RATIONAL_ACTIVATIONS

    def initial(self) -> list[Array]:
        out = [self.spec.weights] + ([self.spec.biases] if self.spec.biases is not None else [])
        if self.exact:
            return [exact_array(t) for t in out]
        return [t.astype(np.float64, copy=True) for t in out]

    # ------------------------------------------------------------ arithmetic

    def columns(self, x: Array) -> Array:
        """im2col, transposed: (batch, C·k^d, positions), each kernel weight's input cell at every output
        position (padding cells 0), so that each product below runs over contiguous rows."""
        if not self.spec.padding:
            plain: Array = x[:, self.cols_t]
            return plain
        extended = np.empty((x.shape[0], x.shape[1] + 1), dtype=x.dtype)
        extended[:, :-1], extended[:, -1] = x, _zero(x)
        cols: Array = extended[:, self.cols_t]
        return cols

    def forward(
        self, params: Sequence[Array], x: Array, step: int, during: str = "", *, evaluating: bool = False
    ) -> ConvCache:
        w = params[0]
        cols = self.columns(x)
        # z[n, o, p] = Σ_k w[o, k]·cols[n, k, p]: (batch, out, positions), channel-major and row-major as it
        # comes. In float64 one stacked matrix product per sample (np.matmul) is 3–4× quicker than einsum's
        # loop here, even at an inner size C·k^d of 9 (benchmarks/conv.py); exact fractions keep einsum's loop
        kernel = w.reshape(w.shape[0], -1)
        z = np.einsum("nkp,ok->nop", cols, kernel) if cols.dtype == object else np.matmul(kernel, cols)
        if len(params) > 1:
            z += params[1][:, None]
        z = z.reshape(x.shape[0], -1)
        finite(z, step=step, layer=self.name, quantity=N_("weighted sum z") + during)
        a = self._forward(z)  # finite where z is: every activation a conv layer takes maps finite to finite
        return ConvCache(x, z, a, cols)

    def delta(self, cache: Cache, upstream: Array) -> tuple[Array, Array, Array | None]:
        return chain_through(self._derivative, self.activation, cache, upstream)

    def _by_channel(self, delta: Array) -> Array:
        """δ (batch, out·positions) as (batch, out, positions): a view."""
        arranged: Array = delta.reshape(delta.shape[0], -1, self.positions)
        return arranged

    def _kernel_gradients(self, delta: Array, cols: Array) -> Array:
        """Each sample's Σ over output positions of δ × the cell each weight read: (batch, out, C·k^d)."""
        per_sample: Array = np.matmul(self._by_channel(delta), cols.transpose(0, 2, 1))
        return per_sample

    def transposed(self, delta: Array, weights: Array) -> Array:
        """∂L/∂x (batch, inputs): every output position's δ × the kernel, put back on the cells it read."""
        spread = np.matmul(weights.reshape(weights.shape[0], -1).T, self._by_channel(delta))  # (batch, C·k^d, P)
        n = delta.shape[0]
        down = np.empty((n, self.pad + 1), dtype=delta.dtype)
        down[...] = _zero(delta)
        for k, cells in enumerate(self.cols_t):  # one kernel weight at a time: its cells are distinct (or padding)
            down[:, cells] += spread[:, k]
        out: Array = down[:, : self.pad]
        return out

    def backward_fast(
        self, params: Sequence[Array], cache: Cache, delta: Array, scale: float, step: int, first: bool
    ) -> tuple[list[Array], list[float], Array | None]:
        assert isinstance(cache, ConvCache)
        exact = delta.dtype == object
        if exact:
            finite(delta, step=step, layer=self.name, quantity="δ = ∂L/∂z")
        w = params[0]
        grad_w: Array = self._kernel_gradients(delta, cache.cols).sum(axis=0).reshape(w.shape)
        grad_w *= scale
        grads = [grad_w]
        norms = [checked_after(delta, grad_w, exact=exact, step=step, layer=self.name)]
        if len(params) > 1:
            grads.append(self._by_channel(delta).sum(axis=(0, 2)) * scale)
        downstream = None
        if not first:
            downstream = self.transposed(delta, w)
            finite(downstream, step=step, layer=self.name, quantity=N_("∂L/∂a of the layer below"))
        return grads, norms, downstream

    # ------------------------------------------------------------ trace mode

    def record_forward(self, params: Sequence[Array], cache: Cache) -> ConvForward:
        assert isinstance(cache, ConvCache)
        bias = params[1] if len(params) > 1 else None
        return ConvForward(
            self.name,
            self.activation,
            self.slope,
            self.input_names,
            cache.x,
            None,
            None,
            cache.z,
            cache.a,
            kernel=params[0],
            bias=bias,
            cols=self.cols,
            output_names=self.output_names,
        )

    def backward_trace(
        self, fwd: LayerForward, upstream: Array, combined: tuple[Array, str] | None, step: int, first: bool
    ) -> ConvBackward:
        assert isinstance(fwd, ConvForward) and fwd.kernel is not None
        cache = ConvCache(fwd.inputs, fwd.z, fwd.a, self.columns(fwd.inputs))
        chain, local, _unused = self.delta(cache, upstream)
        delta = combined[0] if combined is not None else chain
        finite(delta, step=step, layer=self.name, quantity="δ = ∂L/∂z")
        per_sample = self._kernel_gradients(delta, cache.cols)  # (batch, out, C·k^d)
        grad_w: Array = per_sample.reshape(delta.shape[0], *fwd.kernel.shape)
        finite(grad_w, step=step, layer=self.name, quantity=N_("weight gradient ∂L/∂w"))
        grad_b = None if fwd.bias is None else self._by_channel(delta).sum(axis=2)
        down = None if first else self.transposed(delta, fwd.kernel)
        if down is not None:
            finite(down, step=step, layer=self.name, quantity=N_("∂L/∂a of the layer below"))
        return ConvBackward(
            layer=self.name,
            activation=self.activation,
            negative_slope=self.slope,
            input_names=fwd.input_names,
            z=fwd.z,
            a=fwd.a,
            upstream=upstream,
            local=local,
            jacobian=None,
            chain=chain,
            delta=delta,
            combined=combined[1] if combined is not None else None,
            inputs=fwd.inputs,
            weights=None,
            grad_w=None,
            grad_b=None,
            downstream=down,
            kernel=fwd.kernel,
            kernel_grad=grad_w,
            bias_grad=grad_b,
        )

    def blocks(self) -> ConvBlocks:
        return ConvBlocks(self)


class Conv2d(ConvLayer):
    kind = "conv2d"


class Conv1d(ConvLayer):
    kind = "conv1d"


@dataclass(frozen=True)
class ConvCache:
    x: Array
    z: Array  # (batch, out·positions), channel-major
    a: Array
    cols: Array  # (batch, C·k^d, positions): the windows (im2col, transposed)


@dataclass(frozen=True)
class ConvForward(LayerForward):
    """The generic record's weights and biases are None (they are dense-shaped); the kernel is here."""

    kernel: Array | None = None  # (out, in, k, k) or (out, in, k), before the update
    bias: Array | None = None
    cols: Indices | None = None  # the op's column map (a padding cell: one past the inputs)
    output_names: tuple[str, ...] = ()

    def reads(self, j: int) -> tuple[int, ...]:
        assert self.cols is not None
        position = j % self.cols.shape[0]
        return tuple(sorted({int(i) for i in self.cols[position] if i < len(self.input_names)}))

    def rule_text(self, j: int) -> str:
        out = self.output_names[j]
        z = out.replace(f"{self.layer}.a", f"{self.layer}.z", 1)
        cells = ", ".join(self.input_names[i] for i in self.reads(j))
        return f"{out} = {self.activation}({z}), {z} = window ({cells}) × kernel + b"

    def output_name(self, j: int) -> str:
        return self.output_names[j]


@dataclass(frozen=True)
class ConvBackward(LayerBackward):
    kernel: Array | None = None
    kernel_grad: Array | None = None  # (batch, out, in, k, k): per sample
    bias_grad: Array | None = None  # (batch, out)

    def per_sample_grads(self) -> list[Array]:
        assert self.kernel_grad is not None
        return [self.kernel_grad] + ([self.bias_grad] if self.bias_grad is not None else [])


# ---------------------------------------------------------------- quantities


def _dot_bias(values: Sequence[Scalar]) -> Scalar:
    return dot(values[:-1]) + values[-1]


def _nothing(values: Sequence[Scalar]) -> Scalar:
    return 0.0


def sum_template(terms: int, pair: bool = True, start: int = 0) -> str:
    """``{0}·{1} + {2}·{3} + …`` (pairs) or ``{0} + {1} + …``, its first SHOWN_TERMS terms and how many more."""
    shown = min(terms, SHOWN_TERMS)
    if pair:
        parts = [f"{{{start + 2 * t}}}·{{{start + 2 * t + 1}}}" for t in range(shown)]
    else:
        parts = [f"{{{start + t}}}" for t in range(shown)]
    more = f" + … ({terms - shown} more terms)" if terms > shown else ""
    return (" + ".join(parts) if parts else "0") + more


class ConvBlocks:
    """A conv layer's quantities: per sample each output's weighted sum (its window × the kernel + b)
    and activation; backward ∂L/∂a (from above), ∂a/∂z and δ per output, each kernel weight's gradient
    as the sum over output positions and each bias's; ∂L/∂x for the layer below, the transposed convolution."""

    def __init__(self, op: ConvLayer) -> None:
        self.op = op
        # every input cell's readers: (position, column) pairs whose window holds it, in position order
        readers: list[list[tuple[int, int]]] = [[] for _ in range(op.pad)]
        for position, row in enumerate(op.cols):
            for column, i in enumerate(row):
                if i != op.pad:
                    readers[int(i)].append((position, column))
        self.readers = readers

    @property
    def _kind(self) -> str:
        spec = self.op.spec
        return f"conv {'×'.join([str(spec.kernel_size)] * spec.dims)}, {self.op.activation}"

    def forward_count(self, fwd: LayerForward) -> int:
        return 2 * int(fwd.z.shape[1])

    def backward_count(self, back: LayerBackward, *, hidden: bool) -> int:
        assert isinstance(back, ConvBackward) and back.kernel is not None
        units = int(back.delta.shape[1])
        bias = int(back.kernel.shape[0]) * (back.bias_grad is not None)
        return units * hidden + 2 * units + int(back.kernel.size) + bias

    def _name(self, quantity: str, j: int) -> str:
        return cell_name(self.op.name, quantity, self.op.cells[j])

    def _weight(self, o: int, column: int) -> tuple[int, ...]:
        """The kernel index (o, c, u, v) of column ``column`` of the column map."""
        kernel = self.op.spec.weights.shape[1:]
        return (o, *(int(i) for i in np.unravel_index(column, kernel)))

    def forward(self, fwd: LayerForward, p: int, emit: Emit) -> tuple[str, list[Quantity], str]:
        assert isinstance(fwd, ConvForward) and fwd.kernel is not None
        op, layer = self.op, self.op.name
        sums: list[Quantity] = []
        acts: list[Quantity] = []
        for j, (o, *_rest) in enumerate(op.cells):
            position = j % op.positions
            slots: list[Slot] = []
            args: list[Scalar] = []
            for column, i in enumerate(op.cols[position]):
                if i == op.pad:
                    continue  # a padding cell: 0 × w
                index = self._weight(o, column)
                slots += [emit.q(param_name(layer, "weights", index)), emit.q(fwd.input_names[i], p)]
                args += [scalar(fwd.kernel[index]), scalar(fwd.inputs[p, i])]
            terms = len(slots) // 2
            template, rule = sum_template(terms), dot
            if fwd.bias is not None:
                slots.append(emit.q(param_name(layer, "biases", (o,))))
                args.append(scalar(fwd.bias[o]))
                template = f"{template} + {{{2 * terms}}}"
                rule = _dot_bias
            form = Form(template, tuple(slots), rule)
            sums.append(
                emit.quantity(emit.q(self._name("z", j), p), scalar(fwd.z[p, j]), "forward", layer, p, form, args)
            )
            fields: dict[str, Slot] = {"z": emit.q(self._name("z", j), p), "s": Const(op.slope)}
            act_form, act_args = fill(op.act.template, fields, {"z": scalar(fwd.z[p, j]), "s": op.slope}, op.act.rule)
            acts.append(
                emit.quantity(
                    emit.q(self._name("a", j), p), scalar(fwd.a[p, j]), "forward", layer, p, act_form, act_args
                )
            )
        spec = op.spec
        pad = f", padding {spec.padding} (padding cells are 0, left out of the sums)" if spec.padding else ""
        note = (
            f"z = each window of the input × the kernel of its channel's filter + b (cross-correlation, as torch: "
            f"{shape_text(spec.shape)} → {shape_text(spec.conv_shape)}, stride {spec.stride}{pad}); "
            f"a = {op.act.template.format(z='z', s=emit.numbers.operand(op.slope))}"
        )
        if any(len(s.form.slots) > 2 * SHOWN_TERMS + 1 for s in sums):
            note += f"; a sum of more than {SHOWN_TERMS} products writes its first {SHOWN_TERMS}"
        return _("Forward · layer {layer} ({kind})").format(layer=layer, kind=self._kind), sums + acts, note

    def backward(
        self, back: LayerBackward, upstream: list[Quantity], p: int, emit: Emit, combined_rule: NamedRule | None
    ) -> tuple[str, list[Quantity], str]:
        assert isinstance(back, ConvBackward) and back.kernel_grad is not None and back.kernel is not None
        op, layer = self.op, self.op.name
        out: list[Quantity] = list(upstream)

        def add(base: str, value: Scalar, form: Form, args: Sequence[Scalar]) -> None:
            out.append(emit.quantity(emit.q(base, p), value, "backward", layer, p, form, args))

        units = back.delta.shape[1]
        for j in range(units):
            fields: dict[str, Slot] = {
                "z": emit.q(self._name("z", j), p),
                "a": emit.q(self._name("a", j), p),
                "s": Const(op.slope),
            }
            values: dict[str, Scalar] = {"z": scalar(back.z[p, j]), "a": scalar(back.a[p, j]), "s": op.slope}
            form, args = fill(op.act.derivative_template, fields, values, op.act.derivative_rule)
            add(self._name("da_dz", j), scalar(back.local[p, j]), form, args)
        for j in range(units):
            slots = (emit.q(self._name("dL_da", j), p), emit.q(self._name("da_dz", j), p))
            form = Form("{0} × {1}", slots, product)
            add(
                self._name("delta", j),
                scalar(back.delta[p, j]),
                form,
                [scalar(back.upstream[p, j]), scalar(back.local[p, j])],
            )
        capped = False
        kernel = back.kernel.shape
        for index in np.ndindex(*kernel):
            o, column = index[0], int(np.ravel_multi_index(index[1:], kernel[1:]))
            slots_w: list[Slot] = []
            args_w: list[Scalar] = []
            for position in range(op.positions):
                i = op.cols[position, column]
                if i == op.pad:
                    continue
                j = o * op.positions + position
                slots_w += [emit.q(self._name("delta", j), p), emit.q(back.input_names[i], p)]
                args_w += [scalar(back.delta[p, j]), scalar(back.inputs[p, i])]
            terms = len(slots_w) // 2
            capped = capped or terms > SHOWN_TERMS
            form = (
                Form(sum_template(terms), tuple(slots_w), dot)
                if terms
                else Form("0 (reads only padding)", (), _nothing)
            )
            grad_index = tuple(int(i) for i in index)
            add(param_grad_name(layer, "weights", grad_index), scalar(back.kernel_grad[(p, *grad_index)]), form, args_w)
        if back.bias_grad is not None:
            for o in range(kernel[0]):
                js = range(o * op.positions, (o + 1) * op.positions)
                slots_b = tuple(emit.q(self._name("delta", j), p) for j in js)
                form = Form(sum_template(len(slots_b), pair=False), slots_b, total)
                add(
                    param_grad_name(layer, "biases", (o,)),
                    scalar(back.bias_grad[p, o]),
                    form,
                    [scalar(back.delta[p, j]) for j in js],
                )
        slope = emit.numbers.operand(op.slope)
        note = (
            f"δ = ∂L/∂z = ∂L/∂a × ∂a/∂z with ∂a/∂z = {op.act.derivative_template.format(z='z', a='a', s=slope)}; "
            f"each kernel weight's ∂L/∂w = Σ over the {op.positions} output positions of δ × the input cell it read "
            "there; ∂L/∂b = Σ of its channel's δ"
        )
        if capped or op.positions > SHOWN_TERMS:
            note += f"; a sum of more than {SHOWN_TERMS} terms writes its first {SHOWN_TERMS}"
        return _("Backward · layer {layer} ({kind})").format(layer=layer, kind=self._kind), out, note

    def downstream(self, back: LayerBackward, below: str, p: int, emit: Emit) -> list[Quantity]:
        """∂L/∂x_i for the layer below: Σ over the output positions and kernel weights that read x_i of
        δ × w (the transposed convolution), named as the layer below's ∂L/∂a."""
        assert isinstance(back, ConvBackward) and back.downstream is not None and back.kernel is not None
        op, layer = self.op, self.op.name
        out = []
        for i, entry in enumerate(back.input_names):
            slots: list[Slot] = []
            args: list[Scalar] = []
            for o in range(back.kernel.shape[0]):
                for position, column in self.readers[i]:
                    j = o * op.positions + position
                    index = self._weight(o, column)
                    slots += [emit.q(self._name("delta", j), p), emit.q(param_name(layer, "weights", index))]
                    args += [scalar(back.delta[p, j]), scalar(back.kernel[index])]
            terms = len(slots) // 2
            form = Form(sum_template(terms), tuple(slots), dot) if terms else Form("0 (in no window)", (), _nothing)
            name = emit.q(upstream_name(below, entry, i), p)
            out.append(emit.quantity(name, scalar(back.downstream[p, i]), "backward", below, p, form, args))
        return out
