"""The matrix view (``--view matrix``): a step in vector form, W, a, z and δ as matrices with their shapes.

Every entry of every matrix is a quantity of the scalar trace, looked up by its stable name: the view
arranges the step's rows (layout/rows.py), it computes nothing. A matrix has a name of its own, an alias
for its entries (``out.W`` holds ``out.w1_1``, ``out.w1_2`` …), listed in ``ALIASES``.

Per sample and layer the forward pass is ``z = W·a_in + b`` and ``a = f(z)``; backward, ``δ = ∂L/∂a ⊙ f′(z)``,
``∂L/∂W = δ·a_inᵀ`` (an outer product: W's shape) and, for the layer below, ``∂L/∂a_in = Wᵀ·δ``, the
transposes explained by the shapes. For a batch, ``∂L/∂W = (1/B)·Δᵀ·A`` with the samples as rows, which
is the mean (or sum) of the per-sample outer products.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from backprop_cli.errors import ConfigError
from backprop_cli.layout.header import step_heading
from backprop_cli.layout.rows import Row, block_section
from backprop_cli.model.filters import Filter
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.names import bias_name, grad_name, neuron_name, qualify, weight_name
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import LayerSpec, NetworkSpec
from backprop_cli.nn.blocks import sample_suffix, step_blocks
from backprop_cli.nn.records import StepRecord

#: the matrices' names and what each holds (L is a layer's name); per-sample ones carry sampleN/
ALIASES = {
    "L.W": "weights, units × fan-in: row j holds the weights into neuron j (L.wj_i)",
    "L.b": "biases, units × 1 (L.bj)",
    "L.z": "weighted sums, units × 1 (L.zj)",
    "L.a": "activations, units × 1 (L.aj)",
    "inputs": "the input vector, inputs × 1 (the inputs by their names)",
    "L.dL_da": "∂L/∂a, units × 1 (L.dL_daj)",
    "L.da_dz": "f′(z), units × 1 (L.da_dzj)",
    "L.delta": "δ = ∂L/∂z, units × 1 (L.deltaj)",
    "L.dL_dW": "∂L/∂W, units × fan-in, W's shape (L.dL_dwj_i)",
    "L.dL_db": "∂L/∂b, units × 1 (L.dL_dbj)",
    "L.Delta": "a batch's δ, samples × units: row s is sample s's δᵀ",
    "L.A": "a batch's activations, samples × units: row s is sample s's aᵀ (X for the inputs)",
    "L.W.new": "the weights after the update (L.wj_i.new)",
    "L.b.new": "the biases after the update (L.bj.new)",
}

#: the fact line of a matrix view
NAMES = N_(
    "matrices are named like their entries without the index: L.W holds L.wj_i (units × fan-in, row j the "
    "weights into neuron j), L.z holds L.zj, L.delta L.deltaj, L.dL_dW L.dL_dwj_i; inputs is the input "
    "vector; a batch's L.Delta and L.A (X for the inputs) have a row per sample"
)


@dataclass(frozen=True)
class Matrix:
    """A matrix of the trace's numbers: each entry's scalar name and its formatted value."""

    name: str  # its alias, qualified like the scalars (``step2/sample1/h.delta``); ᵀ when shown transposed
    names: tuple[tuple[str, ...], ...]
    values: tuple[tuple[str, ...], ...]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.values), len(self.values[0]) if self.values else 0

    @property
    def shape_text(self) -> str:
        rows, columns = self.shape
        return f"{rows}×{columns}"

    def transposed(self) -> Matrix:
        names = tuple(zip(*self.names, strict=True))
        values = tuple(zip(*self.values, strict=True))
        return Matrix(self.name + "ᵀ", names, values)

    def entries(self) -> Iterator[tuple[str, str]]:
        for names, values in zip(self.names, self.values, strict=True):
            yield from zip(names, values, strict=True)


Term = Matrix | str  # a matrix, or an operator or scalar factor written as it is (=, ·, +, ⊙, 1/3)


@dataclass(frozen=True)
class Equation:
    terms: tuple[Term, ...]
    why: str = ""  # the shapes, and why a transpose is where it is
    worked: tuple[Row, ...] = ()  # the entries written out element by element (where the matrices are small)

    @property
    def shapes(self) -> str:
        """``2×1 = 2×2 · 2×1 + 2×1``: each matrix's shape in the equation's order."""
        return " ".join(t.shape_text if isinstance(t, Matrix) else t for t in self.terms)

    def matrices(self) -> Iterator[Matrix]:
        return (t for t in self.terms if isinstance(t, Matrix))


@dataclass(frozen=True)
class MatrixSection:
    step: int
    phase: str
    title: str
    layer: str | None
    equations: tuple[Equation, ...]
    note: str = ""


SMALL = 16  # a product written out entry by entry when its matrix has at most this many entries


class _Step:
    """One step's rows by name, and the names of its matrices' entries."""

    def __init__(self, rec: StepRecord, fmt: NumberFormat) -> None:
        self.rec = rec
        self.rows: dict[str, Row] = {}
        for block in step_blocks(rec, fmt):
            for row in block_section(block, fmt).rows:
                self.rows[row.name] = row

    def q(self, base: str, position: int | None = None) -> str:
        sample = None if position is None else self.rec.sample_q(position)
        return qualify(base, step=self.rec.step_q, sample=sample)

    def has(self, names: Iterable[str]) -> bool:
        return all(name in self.rows for name in names)

    def matrix(self, alias: str, names: Sequence[Sequence[str]], position: int | None = None) -> Matrix:
        qualified = tuple(tuple(self.q(n, position) for n in row) for row in names)
        values = tuple(tuple(self.rows[n].value for n in row) for row in qualified)
        return Matrix(self.q(alias, position), qualified, values)

    def column(self, alias: str, names: Sequence[str], position: int | None = None) -> Matrix:
        return self.matrix(alias, [[n] for n in names], position)

    def worked(self, m: Matrix) -> tuple[Row, ...]:
        if len(m.names) * len(m.names[0]) > SMALL:
            return ()
        return tuple(self.rows[n] for n, _ in m.entries() if self.rows[n].written not in ("", self.rows[n].value))


def _vector(layer: str, quantity: str, units: int) -> list[str]:
    return [neuron_name(layer, quantity, j) for j in range(units)]


def _input_alias(names: Sequence[str]) -> str:
    """The alias of a layer's input vector: the layer below's ``L.a``, or ``inputs``."""
    first = names[0]
    if "." in first and first.rsplit(".", 1)[1].startswith("a"):
        return first.rsplit(".", 1)[0] + ".a"
    return "inputs"


def step_matrices(rec: StepRecord, fmt: NumberFormat, only: Filter) -> Iterator[MatrixSection]:
    """The matrix view of one step, section by section in the scalar trace's order of phases."""
    s = _Step(rec, fmt)
    positions = [p for p, sample in enumerate(rec.samples) if not only.samples or sample + 1 in only.samples]
    several = len(rec.samples) > 1

    def tag(p: int) -> str:
        return sample_suffix(rec.samples[p]) if several else ""

    def wanted(phase: str, layer: str | None) -> bool:
        return (not only.phases or phase in only.phases) and (not only.layers or layer is None or layer in only.layers)

    for f in rec.forward:
        if not wanted("forward", f.layer):
            continue
        units, fan_in = f.z.shape[1], f.inputs.shape[1]
        weights = [[weight_name(f.layer, j, i) for i in range(fan_in)] for j in range(units)]
        for p in positions:
            W = s.matrix(f"{f.layer}.W", weights)
            a_in = s.column(_input_alias(f.input_names), f.input_names, p)
            z = s.column(f"{f.layer}.z", _vector(f.layer, "z", units), p)
            terms: list[Term] = [z, "=", W, "·", a_in]
            if f.biases is not None:
                terms += ["+", s.column(f"{f.layer}.b", [bias_name(f.layer, j) for j in range(units)])]
            why = _(
                "W is {W} (a row per neuron, a column per input) and a_in {a_in}: "
                "W·a_in is {z}, a weighted sum per neuron"
            ).format(W=W.shape_text, a_in=a_in.shape_text, z=z.shape_text)
            a = s.column(f"{f.layer}.a", _vector(f.layer, "a", units), p)
            entrywise = _("the activation entry by entry")
            activation = Equation((a, "=", f"{f.activation}(", z, ")"), entrywise, s.worked(a))
            sections = (Equation(tuple(terms), why, s.worked(z)), activation)
            title = _("Forward · layer {layer}").format(layer=f.layer) + tag(p)
            yield MatrixSection(rec.step, "forward", title, f.layer, sections)

    out = rec.loss.output_layer
    if wanted("loss", out):
        k = rec.loss.prediction.shape[1]
        for p in positions:
            dL_da = s.column(f"{out}.dL_da", _vector(out, "dL_da", k), p)
            why = _("∂L/∂a of the output layer: one entry per output, the start of the backward pass")
            title = _("Loss · {gradient}").format(gradient="∂L/∂a") + tag(p)
            yield MatrixSection(rec.step, "loss", title, out, (Equation((dL_da,), why, s.worked(dL_da)),))

    layers = [f.layer for f in rec.forward]
    for b in rec.backward:
        if not wanted("backward", b.layer):
            continue
        units, fan_in = b.delta.shape[1], b.inputs.shape[1]
        position_in = layers.index(b.layer)
        for p in positions:
            equations: list[Equation] = []
            delta = s.column(f"{b.layer}.delta", _vector(b.layer, "delta", units), p)
            dL_da = s.column(f"{b.layer}.dL_da", _vector(b.layer, "dL_da", units), p)
            local = _vector(b.layer, "da_dz", units)
            if b.combined is None and b.jacobian is None and s.has(s.q(n, p) for n in local):
                da_dz = s.column(f"{b.layer}.da_dz", local, p)
                why = _("element by element (⊙): each neuron's ∂L/∂a times its own f′(z), all {shape}").format(
                    shape=delta.shape_text
                )
                equations.append(Equation((delta, "=", dL_da, "⊙", da_dz), why, s.worked(delta)))
            else:
                why = _("δ = ∂L/∂z by softmax's Jacobian or the stable combined form, as the scalar trace shows it")
                equations.append(Equation((delta,), why, s.worked(delta)))
            forward = rec.forward[position_in]
            a_in = s.column(_input_alias(forward.input_names), forward.input_names, p)
            grads = [[grad_name(b.layer, j, i) for i in range(fan_in)] for j in range(units)]
            dW = s.matrix(f"{b.layer}.dL_dW", grads, p)
            why = _(
                "an outer product: δ is {delta} and a_in {a_in}, so δ·a_inᵀ is {dW}, W's shape; entry (j, i) = δ_j·a_i"
            ).format(delta=delta.shape_text, a_in=a_in.shape_text, dW=dW.shape_text)
            equations.append(Equation((dW, "=", delta, "·", a_in.transposed()), why, s.worked(dW)))
            if b.grad_b is not None:
                db = s.column(f"{b.layer}.dL_db", [grad_name(b.layer, j) for j in range(units)], p)
                equations.append(Equation((db, "=", delta), _("∂z/∂b = 1: the bias gradient is δ")))
            if position_in > 0:
                below = _input_alias(forward.input_names).removesuffix(".a")
                down_names = [neuron_name(below, "dL_da", i) for i in range(fan_in)]
                down = s.column(f"{below}.dL_da", down_names, p)
                W = s.matrix(
                    f"{b.layer}.W", [[weight_name(b.layer, j, i) for i in range(fan_in)] for j in range(units)]
                )
                why = _(
                    "W is {W} and δ {delta}; the layer below needs one entry per input, "
                    "{down}, so W is transposed ({transposed}): entry i = Σ_j w_ji·δ_j, "
                    "column i of W, the weights out of input i"
                ).format(
                    W=W.shape_text,
                    delta=delta.shape_text,
                    down=down.shape_text,
                    transposed=f"{W.shape[1]}×{W.shape[0]}",
                )
                equations.append(Equation((down, "=", W.transposed(), "·", delta), why, s.worked(down)))
            note = ""
            if position_in + 1 < len(layers):
                note = _("with the layer above: {rule}").format(rule="δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ·δ⁽ˡ⁺¹⁾ ⊙ f′(z⁽ˡ⁾)")
            title = _("Backward · layer {layer}").format(layer=b.layer) + tag(p)
            yield MatrixSection(rec.step, "backward", title, b.layer, tuple(equations), note)

    if several:
        n = len(rec.samples)
        factor = f"1/{n}" if rec.loss.reduction == "mean" else "1"
        for u in rec.updates:
            if u.kind != "weights" or not wanted("reduction", u.layer):
                continue
            units, fan_in = u.grad.shape
            forward = rec.forward[layers.index(u.layer)]
            delta_rows = [[s.q(neuron_name(u.layer, "delta", j), p) for j in range(units)] for p in range(n)]
            inputs = forward.input_names
            a_rows = [[s.q(name, p) for name in inputs] for p in range(n)]
            alias = _input_alias(inputs)
            a_batch = "X" if alias == "inputs" else alias[:-2] + ".A"
            Delta = Matrix(s.q(f"{u.layer}.Delta"), *_table(s, delta_rows))
            A = Matrix(s.q(a_batch), *_table(s, a_rows))
            dW = s.matrix(f"{u.layer}.dL_dW", [[grad_name(u.layer, j, i) for i in range(fan_in)] for j in range(units)])
            product: tuple[Term, ...] = (dW, "=", factor, "·", Delta.transposed(), "·", A)
            if factor == "1":
                product = (dW, "=", Delta.transposed(), "·", A)
            samples = " + ".join(s.q(f"{u.layer}.dL_dW", p) for p in range(n))
            why = _(
                "the samples are rows: Δ is {Delta} and A {A}, so Δᵀ·A is {dW}; "
                "entry (j, i) = Σ_s δ_sj·a_si, the sum over samples of their outer products: {sum}"
            ).format(
                Delta=Delta.shape_text,
                A=A.shape_text,
                dW=dW.shape_text,
                sum=f"{'(' + factor + ')·' if factor != '1' else ''}({samples})",
            )
            title = _("Batch reduction · layer {layer} {kind} ({reduction} over {n} samples)").format(
                layer=u.layer, kind=_("weights"), reduction=rec.loss.reduction, n=n
            )
            yield MatrixSection(rec.step, "reduction", title, u.layer, (Equation(product, why, s.worked(dW)),))

    for u in rec.updates:
        if not wanted("update", u.layer):
            continue
        if u.kind == "weights":
            units, fan_in = u.old.shape
            names = [[weight_name(u.layer, j, i) for i in range(fan_in)] for j in range(units)]
            grads = [[grad_name(u.layer, j, i) for i in range(fan_in)] for j in range(units)]
            old, grad = s.matrix(f"{u.layer}.W", names), s.matrix(f"{u.layer}.dL_dW", grads)
        else:
            names = [[bias_name(u.layer, j)] for j in range(u.old.shape[0])]
            grads = [[grad_name(u.layer, j)] for j in range(u.old.shape[0])]
            old, grad = s.matrix(f"{u.layer}.b", names), s.matrix(f"{u.layer}.dL_db", grads)
        new = s.matrix(old.name.rsplit("/", 1)[-1] + ".new", [[n + ".new" for n in row] for row in names])
        first = s.rows[new.names[0][0]]
        why = _("{optimizer}, entry by entry: {rule}").format(
            optimizer=rec.optimizer, rule=f"{first.name.rsplit('/', 1)[-1]} = {first.formula}"
        )
        equation = Equation((new, "=", f"{rec.optimizer}(", old, ",", grad, ")"), why)
        title = _("Update · layer {layer} {kind}").format(layer=u.layer, kind=_(u.kind))
        yield MatrixSection(rec.step, "update", title, u.layer, (equation,))


def _table(s: _Step, names: Sequence[Sequence[str]]) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    qualified = tuple(tuple(row) for row in names)
    return qualified, tuple(tuple(s.rows[n].value for n in row) for row in qualified)


def dense_only(spec: NetworkSpec, what: str, option: str) -> tuple[LayerSpec, ...]:
    """The layers, refusing a network with a layer of another type (a standalone activation, dropout …):
    ``what`` (the matrix view, a notebook, a script) is written for dense layers."""
    others = [layer.name for layer in spec.layers if not isinstance(layer, LayerSpec)]
    if others:
        raise ConfigError(
            f"{what} is written for dense layers; layer{'s' * (len(others) > 1)} {', '.join(others)} "
            "has no weights; expected a network of dense layers (the scalar trace shows every layer type)",
            path=option,
        )
    return tuple(layer for layer in spec.layers if isinstance(layer, LayerSpec))


@dataclass(frozen=True)
class MatrixStep:
    step: int
    heading: str
    sections: tuple[MatrixSection, ...]


def matrix_steps(records: Iterable[StepRecord], total: int, fmt: NumberFormat, only: Filter) -> tuple[MatrixStep, ...]:
    """The matrix view of every chosen step (the records are consumed whole, so the run ends)."""
    out = []
    for rec in records:
        if only.wants_step(rec.step):
            out.append(MatrixStep(rec.step, step_heading(rec, total), tuple(step_matrices(rec, fmt, only))))
    return tuple(out)
