"""A trace as a Jupyter notebook, as plain data: a markdown cell per phase with its math, then a code cell
that recomputes the phase's numbers with numpy from the cells before it and prints each under its stable
name, so that a student can run it, change a weight, and run it again.

The notebook is a program, not a copy of the trace: its code is the textbook vectorised backprop (the
batch as rows: Z = A·Wᵀ + b, Δ = ∂L/∂A ⊙ f′(Z), ∂L/∂W = Δᵀ·A / B), and a test runs it and checks every
printed number against the trace. It recomputes plain SGD; other optimizers are refused where the
notebook is asked for. render/notebook.py writes the cells as nbformat 4 JSON.

The markdown cells' words and the code's short comments are in the reader's language (model/i18n.py);
the code, its names and its formulas are the same in every language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backprop_cli.errors import ConfigError
from backprop_cli.layout.matrix import dense_only
from backprop_cli.model.filters import Filter
from backprop_cli.model.i18n import _
from backprop_cli.model.spec import LayerSpec, NetworkSpec
from backprop_cli.nn.engine import batches, count_steps
from backprop_cli.nn.ops import ACTIVATIONS, loss_op

MAX_STEPS = 50  # a notebook runs every step up to the last one shown

SETUP = '''import numpy as np

np.set_printoptions(precision=17)
STEP, SAMPLES, QUIET = None, None, False  # the step, its batch rows and whether to print (each step sets them)


def name(base, sample=None):
    """The trace's stable name: stepN/ when the run has several steps, sampleN/ when the batch has several rows."""
    step = f"step{STEP}/" if STEP is not None else ""
    row = f"sample{sample + 1}/" if sample is not None and len(SAMPLES) > 1 else ""
    return step + row + base


def say(full_name, value):
    if not QUIET:
        print(full_name, "=", repr(float(value)))


def show(layer, quantity, M, per_sample=True, suffix=""):
    """Print every entry of M (a row per sample, or one vector) under its name."""
    M = np.atleast_2d(M)
    for s, row in enumerate(M):
        for j, value in enumerate(row):
            say(name(f"{layer}.{quantity}{j + 1}{suffix}", SAMPLES[s] if per_sample else None), value)


def show_matrix(layer, quantity, M, suffix=""):
    """Print every entry of a weight-shaped matrix under its name (``h.dL_dw1_2``, ``h.w1_2.new``)."""
    for j, row in enumerate(M):
        for i, value in enumerate(row):
            say(name(f"{layer}.{quantity}{j + 1}_{i + 1}{suffix}"), value)


ACTIVATION = {
    "identity": (lambda z: z, lambda z, a: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(float)),
    "leaky_relu": (lambda z, s=0.01: np.where(z > 0, z, s * z), lambda z, a, s=0.01: np.where(z > 0, 1.0, s)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a)),
    "tanh": (np.tanh, lambda z, a: 1 - a**2),
}


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
'''

# per loss: (per-sample terms T of shape (B, K), ∂L_s/∂A of shape (B, K)) in numpy, over A, Y and K
_LOSSES = {
    "sse": ("(A - Y) ** 2", "2 * (A - Y)"),
    "half_sse": ("0.5 * (A - Y) ** 2", "A - Y"),
    "mse": ("(A - Y) ** 2 / K", "2 * (A - Y) / K"),
    "mae": ("np.abs(A - Y) / K", "np.sign(A - Y) / K"),
    "bce": ("-(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / K", "(A - Y) / (A * (1 - A)) / K"),
    "cross_entropy": ("-Y * np.log(A)", "-Y / A"),
}


_CODED = frozenset({"identity", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"})


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" or "code"
    source: str


def _array(values: np.ndarray) -> str:
    return "np.array(" + repr(values.tolist()) + ")"


def check(spec: NetworkSpec, only: Filter) -> int:
    """Refuse what the notebook cannot recompute; the last step it runs."""
    dense_only(spec, "a notebook", "--format")
    options = {k: v for k, v in spec.optimizer.options.items() if v}
    if spec.optimizer.name != "sgd" or options:
        raise ConfigError(
            f"the notebook recomputes plain SGD, not {spec.optimizer.name} {dict(options) or ''}".rstrip()
            + "; expected optimizer sgd without momentum or weight decay",
            path="--format",
        )
    unknown = sorted({layer.activation for layer in spec.layers} - set(ACTIVATIONS) - {"softmax"})
    if unknown or any(layer.activation not in _CODED for layer in spec.layers):
        raise ConfigError(f"the notebook has no code for {', '.join(unknown) or 'this activation'}", path="--format")
    if spec.loss.reduction == "sum_all":
        raise ConfigError(
            "the notebook reduces a batch by mean or sum; expected reduction mean or sum", path="--format"
        )
    last = max(only.steps, default=count_steps(spec.data.rows, spec.training))
    if last > MAX_STEPS:
        raise ConfigError(
            f"a notebook runs every step up to the last shown, here {last:,}; expected at most {MAX_STEPS} "
            "(choose earlier ones with --step, or fewer with --steps)",
            path="--format",
        )
    return last


def cells(spec: NetworkSpec, only: Filter, markdown_header: str) -> list[Cell]:
    """The notebook's cells: the header, the setup, then per step a markdown and a code cell per phase."""
    last = check(spec, only)
    layers = dense_only(spec, "a notebook", "--format")
    schedule = batches(spec.data.rows, spec.training)[:last]
    out = [Cell("markdown", markdown_header), Cell("code", SETUP.strip() + "\n")]
    params = [
        f'W["{layer.name}"] = {_array(layer.weights)}\n'
        + (f'b["{layer.name}"] = {_array(layer.biases)}\n' if layer.biases is not None else "")
        for layer in layers
    ]
    frozen = {layer.name: sorted(layer.frozen) for layer in layers if layer.frozen}
    network = _("The network, its data and its learning rate")
    out.append(Cell("markdown", f"## {network}\n\n" + _("Change any of them and run on.")))
    out.append(
        Cell(
            "code",
            "W, b = {}, {}\n"
            + "".join(params)
            + f"X = {_array(spec.data.x)}  # {_('a row per data row')}\nY = {_array(spec.data.y)}\n"
            + f"lr = {spec.optimizer.learning_rate!r}\nFROZEN = {frozen!r}\n",
        )
    )
    several = len(schedule) > 1
    for step, rows in enumerate(schedule, start=1):
        out += _step(spec, layers, step if several else None, step, rows, shown=only.wants_step(step))
    return out


def _step(
    spec: NetworkSpec,
    layers: tuple[LayerSpec, ...],
    qualifier: int | None,
    step: int,
    rows: tuple[int, ...],
    *,
    shown: bool,
) -> list[Cell]:
    batch = _("batch: data rows {rows}") if len(rows) > 1 else _("batch: data row {rows}")
    heading = (
        "## " + _("Step {step}").format(step=step) + " · " + batch.format(rows=", ".join(str(r + 1) for r in rows))
    )
    last = layers[-1]
    loss = loss_op(spec.loss.name, spec.loss.reduction)
    reduce = "/ len(SAMPLES)" if spec.loss.reduction == "mean" else ""
    quiet = "" if shown else "  # " + _("not shown in the trace: computed, not printed")
    forward = [f"STEP, SAMPLES, QUIET = {qualifier!r}, {list(rows)!r}, {not shown!r}{quiet}\n"]
    forward.append("A = {'inputs': X[SAMPLES]}; Z = {}\n")
    below = "inputs"
    for layer in layers:
        slope = f", {layer.negative_slope!r}" if layer.activation == "leaky_relu" else ""
        bias = f' + b["{layer.name}"]' if layer.biases is not None else ""
        forward.append(f'Z["{layer.name}"] = A["{below}"] @ W["{layer.name}"].T{bias}\n')
        if layer.activation == "softmax":
            forward.append(f'A["{layer.name}"] = softmax(Z["{layer.name}"])\n')
        else:
            forward.append(f'A["{layer.name}"] = ACTIVATION["{layer.activation}"][0](Z["{layer.name}"]{slope})\n')
        forward.append(f'show("{layer.name}", "z", Z["{layer.name}"]); show("{layer.name}", "a", A["{layer.name}"])\n')
        below = layer.name
    terms, grad = _LOSSES[spec.loss.name]
    losses = (
        f'A_out, K = A["{last.name}"], Y.shape[1]\nYb = Y[SAMPLES]\n'
        + f"T = ({terms.replace('Y', 'Yb').replace('A', 'A_out')})\nper_sample = T.sum(axis=1)\n"
        + f"loss = per_sample.mean() if {spec.loss.reduction == 'mean'!r} else per_sample.sum()\n"
        + f"dA = {grad.replace('Y', 'Yb').replace('A', 'A_out')}  # ∂L_s/∂a, {_('a row per sample')}\n"
        + "for s, value in zip(SAMPLES, per_sample):\n    say(name('loss', s), value)\n"
        + "say(name('loss'), loss)\n"
    )
    backward = ["dW, db = {}, {}\n"]
    for index in range(len(layers) - 1, -1, -1):
        layer = layers[index]
        n = layer.name
        a_in = layers[index - 1].name if index else "inputs"
        if layer.activation == "softmax":
            backward.append(
                f'a = A["{n}"]\nDelta = a * (dA - (dA * a).sum(axis=1, keepdims=True))  # '
                + _("Jᵀ·∂L/∂a of softmax")
                + "\n"
            )
        else:
            slope = f", {layer.negative_slope!r}" if layer.activation == "leaky_relu" else ""
            backward.append(f'Delta = dA * ACTIVATION["{layer.activation}"][1](Z["{n}"], A["{n}"]{slope})\n')
        backward.append(f'show("{n}", "delta", Delta)\n')
        why = _("Δᵀ·A: the sum over samples of δ·aᵀ")
        backward.append(f'dW["{n}"] = Delta.T @ A["{a_in}"] {reduce}  # {why}\n')
        if layer.biases is not None:
            backward.append(f'db["{n}"] = Delta.sum(axis=0) {reduce}\n')
        backward.append(f'show_matrix("{n}", "dL_dw", dW["{n}"])\n')
        if layer.biases is not None:
            backward.append(f'show("{n}", "dL_db", db["{n}"], False)\n')
        if index:
            below_why = _("∂L/∂a of the layer below: Wᵀ·δ per sample")
            backward.append(f'dA = Delta @ W["{n}"]  # {below_why}\n')
    update = []
    for layer in layers:
        n = layer.name
        update.append(
            f'if "weights" not in FROZEN.get("{n}", []):\n    W["{n}"] = W["{n}"] - lr * dW["{n}"]\n'
            f'show_matrix("{n}", "w", W["{n}"], ".new")\n'
        )
        if layer.biases is not None:
            update.append(
                f'if "biases" not in FROZEN.get("{n}", []):\n    b["{n}"] = b["{n}"] - lr * db["{n}"]\n'
                f'show("{n}", "b", b["{n}"], False, ".new")\n'
            )
    per_sample = _("Per sample, then {reduction} over the batch; and {derivative} of the output layer.")
    math = {
        "forward": f"### {_('Forward pass')}\n\n$$Z = A_{{\\text{{in}}}} W^{{\\mathsf{{T}}}} + b,\\quad A = f(Z)$$\n\n"
        + _("A row per sample: each layer's weighted sums, then its activations."),
        "loss": f"### {_('Loss')}\n\n$${loss.latex}$$\n\n"
        + per_sample.format(reduction=spec.loss.reduction, derivative="$\\partial L/\\partial a$"),
        "backward": f"### {_('Backward pass')}\n\n"
        "$$\\Delta = \\frac{\\partial L}{\\partial A} \\odot f'(Z),\\quad "
        "\\frac{\\partial L}{\\partial W} = \\Delta^{\\mathsf{T}} A_{\\text{in}}"
        + ("/B" if spec.loss.reduction == "mean" else "")
        + ",\\quad \\frac{\\partial L}{\\partial A_{\\text{in}}} = \\Delta W$$\n\n"
        + _("From the output layer down; softmax multiplies by its Jacobian instead."),
        "update": f"### {_('Update')}\n\n$$W \\leftarrow W - \\eta\\,\\frac{{\\partial L}}{{\\partial W}}$$",
    }
    codes = {"forward": "".join(forward), "loss": losses, "backward": "".join(backward), "update": "".join(update)}
    out = [Cell("markdown", heading)]
    for phase in ("forward", "loss", "backward", "update"):
        out += [Cell("markdown", math[phase]), Cell("code", codes[phase])]
    return out
