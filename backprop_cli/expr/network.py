"""``--exact`` for networks: the first step traced as a computation graph of exact fractions.

A network whose every operation is rational (identity, relu and leaky_relu layers; sse, half_sse or
mse loss; plain SGD) is turned into graph nodes (one per product w·a, weighted sum, activation,
loss term, per-sample loss and the batch loss) and run by the expression engine with Fractions read
from each number's shortest decimal text (0.1 is 1/10). The gradients ``grad.h.w1_2`` are the
float trace's ``h.dL_dw1_2`` as exact fractions; the SGD update ``w − η × grad`` follows, exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from backprop_cli.errors import ConfigError
from backprop_cli.expr.engine import ExprTrace, grad_name, run, too_large, too_large_fault
from backprop_cli.expr.graph import Const, Graph, Node, Operand
from backprop_cli.render.numbers import NumberFormat
from backprop_cli.render.rows import Row, Section
from backprop_cli.spec import NetworkSpec
from backprop_cli.trace import param_grad_name, param_name, qualify

LAYERS = ("identity", "relu", "leaky_relu")
LOSSES = ("sse", "half_sse", "mse")


@dataclass(frozen=True)
class Update:
    name: str  # h.w1_2
    old: Fraction
    grad: Fraction
    new: Fraction
    frozen: bool
    grad_float_name: str  # h.dL_dw1_2: the gradient's name in the float trace (here it is grad.h.w1_2)


@dataclass(frozen=True)
class ExactStep:
    trace: ExprTrace
    learning_rate: Fraction
    updates: tuple[Update, ...]
    loss_after: Fraction
    loss_change: Fraction  # loss_after − the loss before
    samples: tuple[int, ...]  # 0-based data rows of step 1
    steps: int  # steps of the whole run (only the first is traced)


def exact(value: float) -> Fraction:
    """A float read from its shortest decimal text: 0.1 → 1/10."""
    return Fraction(repr(float(value)))


def _const(value: float) -> Const:
    """A number of the config as a literal of the graph, written as the exact value it stands for: 3, not
    3.0; 1/10 for 0.1 (the exact engine reads the text back, so it is the value too)."""
    return Const(NumberFormat()(exact(value)), float(value))


def refuse_irrational(spec: NetworkSpec) -> None:
    reasons = [
        f"layer {layer.name} has activation {layer.activation}"
        for layer in spec.layers
        if layer.activation not in LAYERS
    ]
    if spec.loss.name not in LOSSES:
        reasons.append(f"the loss {spec.loss.name} is not rational")
    options = {k: v for k, v in spec.optimizer.options.items() if v and k != "dampening"}
    if spec.optimizer.name != "sgd" or options:
        shown = ", ".join(f"{k} {v}" for k, v in options.items())
        reasons.append(f"the optimizer is {spec.optimizer.name}{' with ' + shown if shown else ''}")
    if reasons:
        raise ConfigError(
            f"{'; '.join(reasons)}; expected {', '.join(LAYERS)} layers, a {', '.join(LOSSES)} loss and plain sgd "
            "(or drop --exact)",
            file=spec.source,
            path="--exact",
        )


def network_graph(spec: NetworkSpec, rows: tuple[int, ...], values: dict[str, Fraction]) -> Graph:
    """The graph of the loss of the batch ``rows``; parameters are its inputs (their values in ``values``)."""
    nodes: list[Node] = []
    inputs: list[str] = []
    for layer in spec.layers:
        for j in range(layer.units):
            for i in range(layer.fan_in):
                inputs.append(param_name(layer.name, "weights", (j, i)))
            if layer.biases is not None:
                inputs.append(param_name(layer.name, "biases", (j,)))
    for name in inputs:
        nodes.append(Node(name, "input", variable=name))
    several = len(rows) > 1
    sample_losses: list[Operand] = []
    for row in rows:

        def q(base: str, row: int = row) -> str:
            return qualify(base, sample=row if several else None)

        below: list[Operand] = [_const(v) for v in spec.data.x[row]]
        for layer in spec.layers:
            outputs: list[Operand] = []
            for j in range(layer.units):
                terms: list[Operand] = []
                for i, a in enumerate(below):
                    product = q(f"{layer.name}.p{j + 1}_{i + 1}")  # w_ji × a_i
                    nodes.append(Node(product, "mul", (param_name(layer.name, "weights", (j, i)), a), product))
                    terms.append(product)
                if layer.biases is not None:
                    terms.append(param_name(layer.name, "biases", (j,)))
                z = q(f"{layer.name}.z{j + 1}")
                nodes.append(Node(z, "sum", tuple(terms), z))
                a_name = q(f"{layer.name}.a{j + 1}")
                if layer.activation == "identity":
                    nodes.append(Node(a_name, "copy", (z,), a_name))
                elif layer.activation == "relu":
                    nodes.append(Node(a_name, "relu", (z,), a_name))
                else:
                    slope = _const(layer.negative_slope)
                    nodes.append(Node(a_name, "leaky_relu", (z, slope), a_name))
                outputs.append(a_name)
            below = outputs
        terms = []
        units = len(below)
        for k, a in enumerate(below):
            y = float(spec.data.y[row, k])
            diff, square, term = q(f"loss.diff{k + 1}"), q(f"loss.square{k + 1}"), q(f"loss.term{k + 1}")
            nodes.append(Node(diff, "sub", (a, _const(y)), diff))
            nodes.append(Node(square, "pow", (diff, Const("2", 2.0)), square))
            if spec.loss.name == "sse" or (spec.loss.name == "mse" and spec.loss.reduction == "sum_all"):
                terms.append(square)  # sum_all: mse without its 1/K, as torch's MSELoss(reduction='sum')
                continue
            scale = Const("2", 2.0) if spec.loss.name == "half_sse" else Const(str(units), float(units))
            nodes.append(Node(term, "div", (square, scale), term))
            terms.append(term)
        nodes.append(Node(q("loss"), "sum" if len(terms) > 1 else "copy", tuple(terms), q("loss")))
        sample_losses.append(q("loss"))
    if several:
        total = "loss.total" if spec.loss.reduction == "mean" else "loss"
        nodes.append(Node(total, "sum", tuple(sample_losses), total))
        if spec.loss.reduction == "mean":
            nodes.append(Node("loss", "div", (total, Const(str(len(rows)), float(len(rows)))), "loss"))
    return Graph(tuple(nodes), tuple(inputs), "loss", {n.name: i for i, n in enumerate(nodes)})


def run_exact(spec: NetworkSpec) -> ExactStep:
    """Step 1 of ``spec`` with exact fractions: the loss graph, its gradients and the SGD update."""
    from backprop_cli.engine import batches, count_steps

    refuse_irrational(spec)
    rows = batches(spec.data.rows, spec.training)[0]
    values: dict[str, Fraction] = {}
    float_names: dict[str, str] = {}
    frozen: set[str] = set()
    for layer in spec.layers:
        arrays = [("weights", layer.weights)] + ([("biases", layer.biases)] if layer.biases is not None else [])
        for kind, array in arrays:
            for index, v in _indexed(array):
                name = param_name(layer.name, kind, index)
                values[name] = exact(v)
                float_names[name] = param_grad_name(layer.name, kind, index)
                if kind in layer.frozen:
                    frozen.add(name)
    graph = network_graph(spec, rows, values)
    trace = run(graph, values, exact=True)
    lr = exact(spec.optimizer.learning_rate)
    updates = []
    for name, grad in trace.gradients.items():
        old = values[name]
        new = old if name in frozen else old - lr * grad
        if too_large(new):
            raise too_large_fault(f"step 1, parameter {name}", "the updated value")
        updates.append(Update(name, old, Fraction(grad), new, name in frozen, float_names[name]))
    after = Fraction(run(graph, {u.name: u.new for u in updates}, exact=True).value)
    change = after - Fraction(trace.value)
    if too_large(change):
        raise too_large_fault("step 1", "loss.change")
    steps = count_steps(spec.data.rows, spec.training)
    return ExactStep(trace, lr, tuple(updates), after, change, rows, steps)


def _indexed(array: object) -> Iterator[tuple[tuple[int, ...], float]]:
    import numpy as np

    values = np.asarray(array)
    for index in np.ndindex(values.shape):
        yield tuple(int(i) for i in index), float(values[index])


def update_sections(step: ExactStep, fmt: NumberFormat) -> Iterator[Section]:
    """The gradients under the float trace's names, the exact SGD update of every parameter, then the
    loss before and after."""
    named = [Row(u.grad_float_name, grad_name(u.name), "", fmt(u.grad)) for u in step.updates]
    yield Section(1, "backward", "Gradients · as named in the float trace", None, None, tuple(named))
    eta = fmt.operand(step.learning_rate)
    rows = []
    for u in step.updates:
        if u.frozen:
            rows.append(Row(f"{u.name}.new", f"{u.name} (frozen)", fmt(u.old), fmt(u.new)))
            continue
        formula = f"{u.name} − η × {grad_name(u.name)}"
        written = f"{fmt.operand(u.old)} − {eta} × {fmt.operand(u.grad)}"
        rows.append(Row(f"{u.name}.new", formula, written, fmt(u.new)))
    yield Section(1, "update", f"Update (sgd, η = {fmt(step.learning_rate)}), exact", None, None, tuple(rows))
    before = step.trace.value
    summary = [
        Row("loss", "before the update", "", fmt(before)),
        Row("loss.after", "the same batch after the update", "", fmt(step.loss_after)),
        Row("loss.change", "loss.after − loss", f"{fmt.operand(step.loss_after)} − {fmt.operand(before)}",
            fmt(step.loss_change)),
    ]  # fmt: skip
    yield Section(1, "summary", "Summary", None, None, tuple(summary))
