"""Activations and losses: forward, local derivative and formula text, side by side.

Every entry states its math once. The engine calls ``forward``/``derivative``; renderers call the
``written`` helpers with the shared number formatter, so the arithmetic a student reads is the
arithmetic that was done. All functions work on float64 arrays shaped (batch, units).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import field
from fractions import Fraction

import numpy as np

from backprop_cli.model.record import record
from backprop_cli.model.spec import Array

Scalar = float | Fraction
#: A formula's rule over its named fields (``{"z": …, "s": …}``): the trace's quantities recompute with it.
NamedRule = Callable[[Mapping[str, Scalar]], Scalar]

# ---------------------------------------------------------------- activations


def _identity(z: Array, slope: float) -> Array:
    return z.copy()


def _identity_d(z: Array, a: Array, slope: float) -> Array:
    return np.ones_like(z)


def _relu(z: Array, slope: float) -> Array:
    return np.maximum(z, 0.0)


def _relu_d(z: Array, a: Array, slope: float) -> Array:
    # PyTorch's choice at the kink: relu'(0) = 0.
    return (z > 0).astype(np.float64)


def _leaky(z: Array, slope: float) -> Array:
    return np.where(z > 0, z, slope * z)


def _leaky_d(z: Array, a: Array, slope: float) -> Array:
    # PyTorch's choice at the kink: the slope (gradient is 1 only where z > 0).
    return np.where(z > 0, 1.0, slope)


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(−z)), computed from e^(−|z|) so that it never overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid(z: Array, slope: float) -> Array:
    return sigmoid(z)


def _sigmoid_d(z: Array, a: Array, slope: float) -> Array:
    """σ'(z) = σ(z)(1 − σ(z))."""
    return a * (1.0 - a)


def _tanh(z: Array, slope: float) -> Array:
    return np.tanh(z)


def _tanh_d(z: Array, a: Array, slope: float) -> Array:
    """tanh'(z) = 1 − tanh(z)²."""
    return 1.0 - a * a


def softmax(z: Array) -> Array:
    """softmax(z)_k = e^(z_k − max z) / Σ_j e^(z_j − max z)."""
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    out: Array = e / e.sum(axis=-1, keepdims=True)
    return out


def _softmax(z: Array, slope: float) -> Array:
    return softmax(z)


def _softmax_d(z: Array, a: Array, slope: float) -> Array:
    """Diagonal of the softmax Jacobian, ∂a_k/∂z_k = a_k(1 − a_k); see :func:`softmax_jacobian`."""
    return a * (1.0 - a)


def softmax_jacobian(a: Array) -> Array:
    """∂a_k/∂z_j = a_k(δ_kj − a_j), shape (batch, k, j)."""
    eye = np.eye(a.shape[-1])
    jac: Array = a[:, :, None] * (eye[None, :, :] - a[:, None, :])
    return jac


@record
class Activation:
    """One activation: forward, local derivative ∂a/∂z, and how both are written.

    ``template`` and ``derivative_template`` take ``{z}``, ``{a}`` and ``{s}`` (the leaky slope):
    filled with names they give the formula, filled with numbers the arithmetic.
    """

    name: str
    forward: Callable[[Array, float], Array]
    derivative: Callable[[Array, Array, float], Array]  # (z, a, slope) -> ∂a/∂z, elementwise
    template: str
    derivative_template: str
    latex: str
    derivative_latex: str
    rule: NamedRule  # the template's value from {z} (and {s}), one number
    derivative_rule: NamedRule  # the derivative template's value from {z}, {a} (and {s})


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", _identity, _identity_d, "{z}", "1", "a = z", "1", lambda v: v["z"], lambda v: 1),
    "relu": Activation(
        "relu",
        _relu,
        _relu_d,
        "max(0, {z})",
        "1 if {z} > 0 else 0",
        r"a = \max(0, z)",
        r"[z > 0]",
        lambda v: v["z"] if v["z"] > 0 else v["z"] * 0,
        lambda v: 1 if v["z"] > 0 else 0,
    ),
    "leaky_relu": Activation(
        "leaky_relu",
        _leaky,
        _leaky_d,
        "{z} if {z} > 0 else {s}·{z}",
        "1 if {z} > 0 else {s}",
        r"a = \begin{cases} z & z > 0 \\ s z & z \le 0 \end{cases}",
        r"\begin{cases} 1 & z > 0 \\ s & z \le 0 \end{cases}",
        lambda v: v["z"] if v["z"] > 0 else v["s"] * v["z"],
        lambda v: 1 if v["z"] > 0 else v["s"],
    ),
    "sigmoid": Activation(
        "sigmoid",
        _sigmoid,
        _sigmoid_d,
        "1 / (1 + e^(−{z}))",
        "{a}·(1 − {a})",
        r"a = \sigma(z) = \frac{1}{1 + e^{-z}}",
        r"a(1 - a)",
        lambda v: _sigmoid_scalar(float(v["z"])),
        lambda v: v["a"] * (1 - v["a"]),
    ),
    "tanh": Activation(
        "tanh",
        _tanh,
        _tanh_d,
        "tanh({z})",
        "1 − {a}²",
        r"a = \tanh z",
        r"1 - a^2",
        lambda v: math.tanh(float(v["z"])),
        lambda v: 1 - v["a"] * v["a"],
    ),
    # softmax couples the units: the engine uses softmax_jacobian; these templates describe one unit.
    "softmax": Activation(
        "softmax",
        _softmax,
        _softmax_d,
        "e^{z} / Σ_k e^z_k",
        "{a}·(1 − {a})",
        r"a_k = \frac{e^{z_k}}{\sum_j e^{z_j}}",
        r"a_k(\delta_{kj} - a_j)",
        lambda v: 1,  # not used: a softmax unit's value is written from every z (nn/layers/dense.py)
        lambda v: v["a"] * (1 - v["a"]),
    ),
}


def _sigmoid_scalar(z: float) -> float:
    e = math.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


# ---------------------------------------------------------------- losses


@record
class Loss:
    """A per-sample loss L_s = Σ_k term_k and its gradient ∂L_s/∂a_k (K = number of outputs).

    ``terms``/``grad`` take (a, y, z); z lets bce and cross-entropy be computed from the logits.
    Templates take ``{a}``, ``{y}`` and ``{K}`` (and ``{sum_y}`` for the combined cross-entropy δ).
    ``combined`` is the stable ∂L_s/∂z for the output activation ``pairs_with``.
    """

    name: str
    terms: Callable[[Array, Array, Array], Array]
    grad: Callable[[Array, Array, Array], Array]
    formula: str
    latex: str
    term_template: str
    grad_template: str
    pairs_with: str | None = None
    combined: Callable[[Array, Array], Array] | None = None  # (a, y) -> ∂L_s/∂z
    combined_template: str = ""
    # Where a saturates (σ(z) or softmax(z) is exactly 0 or 1 as shown), the textbook term takes log 0:
    # ``log_zero(a, y)`` says so, and ``logit_template`` writes the term from the logit ``{z}`` instead
    # (``{sum_exp}``: Σ_j e^z_j for cross-entropy), the way the engine computes it.
    log_zero: Callable[[Scalar, Scalar], bool] | None = None
    logit_template: str = ""
    # Likewise for ∂L/∂a, whose textbook form divides by a or 1 − a: where ``grad_zero(a)`` holds at the
    # a shown, ``grad_logit_template`` writes it from z (bce: 1/a = 1 + e^(−z), 1/(1 − a) = 1 + e^z).
    grad_zero: Callable[[Scalar], bool] | None = None
    grad_logit_template: str = ""
    # each template's value from its fields ({a}, {y}, {z}, {K}, the logits {z_0} …): "term", "grad",
    # and where the loss has them "logit", "grad_logit" and "combined"
    rules: Mapping[str, NamedRule] = field(default_factory=dict)


def _k(a: Array) -> float:
    return float(a.shape[-1])


def _one(a: Array) -> float:
    return 1.0


def _bce_terms(k: Callable[[Array], float]) -> Callable[[Array, Array, Array], Array]:
    def terms(a: Array, y: Array, z: Array) -> Array:
        # −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^(−|z|)), never log(0).
        t: Array = (np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))) / k(a)
        return t

    return terms


def _bce_grad(k: Callable[[Array], float]) -> Callable[[Array, Array, Array], Array]:
    def grad(a: Array, y: Array, z: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):
            g: Array = -(y / a - (1.0 - y) / (1.0 - a)) / k(a)
        return g

    return grad


def _ce_terms(a: Array, y: Array, z: Array) -> Array:
    shifted = z - z.max(axis=-1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    t: Array = -y * log_softmax
    return t


def _ce_grad(a: Array, y: Array, z: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        g: Array = np.where(y == 0, 0.0, -y / a)
    return g


def _xlogy(x: Scalar, y: Scalar) -> float:
    """x·log y, with 0·log 0 = 0 (the textbook convention for a target of 0 or 1)."""
    return 0.0 if x == 0 else float(x) * math.log(float(y)) if y > 0 else -math.inf * float(x)


def _logits(v: Mapping[str, Scalar]) -> list[float]:
    return [float(v[f"z_{j}"]) for j in range(len(v)) if f"z_{j}" in v]


def _log_sum_exp(zs: list[float]) -> float:
    top = max(zs)
    return top + math.log(sum(math.exp(z - top) for z in zs))


def _sign(x: Scalar) -> int:
    return (x > 0) - (x < 0)


def _abs(x: Scalar) -> Scalar:
    return -x if x < 0 else x


def _safe_div(num: float, den: float) -> float:
    if den == 0:
        return math.nan if num == 0 else math.copysign(math.inf, num)
    return num / den


def _output_means(mean: bool) -> dict[str, Loss]:
    """mse, mae and bce: each sample's loss the mean of its K outputs' terms (``mean``, as torch's MSELoss,
    L1Loss and BCELoss average over every element), or their sum (``reduction: sum_all``, so that a sum over
    the batch is torch's reduction='sum'). The same ops with the 1/K left out of the arithmetic and the text."""
    k, over_k, one_over_k, frac = (_k, " / {K}", "(1/K) ", r"\frac{1}{K}") if mean else (_one, "", "", "")

    def kk(v: Mapping[str, Scalar]) -> Scalar:  # the rules' K: the outputs' count, or 1 for the sum over them
        return v["K"] if mean else 1

    return {
        "mse": Loss(
            "mse",
            lambda a, y, z: (a - y) ** 2 / k(a),
            lambda a, y, z: 2.0 * (a - y) / k(a),
            f"L = {one_over_k}Σ_k (a_k − y_k)²",
            rf"L = {frac}\sum_k (a_k - y_k)^2",
            "({a} − {y})²" + over_k,
            "2·({a} − {y})" + over_k,
            rules={"term": lambda v: (v["a"] - v["y"]) ** 2 / kk(v), "grad": lambda v: 2 * (v["a"] - v["y"]) / kk(v)},
        ),
        "mae": Loss(
            # PyTorch's choice at the kink: sign(0) = 0.
            "mae",
            lambda a, y, z: np.abs(a - y) / k(a),
            lambda a, y, z: np.sign(a - y) / k(a),
            f"L = {one_over_k}Σ_k |a_k − y_k|",
            rf"L = {frac}\sum_k |a_k - y_k|",
            "|{a} − {y}|" + over_k,
            "sign({a} − {y})" + over_k,
            rules={"term": lambda v: _abs(v["a"] - v["y"]) / kk(v), "grad": lambda v: _sign(v["a"] - v["y"]) / kk(v)},
        ),
        "bce": Loss(
            "bce",
            _bce_terms(k),
            _bce_grad(k),
            f"L = −{one_over_k}Σ_k [y_k log a_k + (1 − y_k) log(1 − a_k)]",
            rf"L = -{frac}\sum_k \left[y_k \log a_k + (1 - y_k)\log(1 - a_k)\right]",
            "−[{y}·log {a} + (1 − {y})·log(1 − {a})]" + over_k,
            "−({y} / {a} − (1 − {y}) / (1 − {a}))" + over_k,
            pairs_with="sigmoid",
            combined=lambda a, y: (a - y) / k(a),
            combined_template=("({a} − {y})" + over_k) if mean else "{a} − {y}",
            log_zero=lambda a, y: (a <= 0.0 and y != 0.0) or (a >= 1.0 and y != 1.0),
            logit_template="(max({z}, 0) − {z}·{y} + log(1 + e^(−|{z}|)))" + over_k
            if mean
            else "max({z}, 0) − {z}·{y} + log(1 + e^(−|{z}|))",
            grad_zero=lambda a: a <= 0.0 or a >= 1.0,
            grad_logit_template="−({y}·(1 + e^(−{z})) − (1 − {y})·(1 + e^{z}))" + over_k,
            rules={
                "term": lambda v: -(_xlogy(v["y"], v["a"]) + _xlogy(1 - v["y"], 1 - v["a"])) / kk(v),
                "grad": lambda v: (
                    -(_safe_div(float(v["y"]), float(v["a"])) - _safe_div(1 - float(v["y"]), 1 - float(v["a"])))
                    / float(kk(v))
                ),
                "logit": lambda v: (
                    (
                        max(float(v["z"]), 0.0)
                        - float(v["z"]) * float(v["y"])
                        + math.log1p(math.exp(-abs(float(v["z"]))))
                    )
                    / float(kk(v))
                ),
                "grad_logit": lambda v: (
                    -(
                        float(v["y"]) * (1 + math.exp(-float(v["z"])))
                        - (1 - float(v["y"])) * (1 + math.exp(float(v["z"])))
                    )
                    / float(kk(v))
                ),
                "combined": lambda v: (v["a"] - v["y"]) / kk(v),
            },
        ),
    }


LOSSES: dict[str, Loss] = {
    "sse": Loss(
        "sse",
        lambda a, y, z: (a - y) ** 2,
        lambda a, y, z: 2.0 * (a - y),
        "L = Σ_k (a_k − y_k)²",
        r"L = \sum_k (a_k - y_k)^2",
        "({a} − {y})²",
        "2·({a} − {y})",
        rules={"term": lambda v: (v["a"] - v["y"]) ** 2, "grad": lambda v: 2 * (v["a"] - v["y"])},
    ),
    "half_sse": Loss(
        "half_sse",
        lambda a, y, z: 0.5 * (a - y) ** 2,
        lambda a, y, z: a - y,
        "L = ½ Σ_k (a_k − y_k)²",
        r"L = \frac{1}{2}\sum_k (a_k - y_k)^2",
        "½·({a} − {y})²",
        "{a} − {y}",
        rules={"term": lambda v: (v["a"] - v["y"]) ** 2 / 2, "grad": lambda v: v["a"] - v["y"]},
    ),
    **_output_means(mean=True),
    "cross_entropy": Loss(
        "cross_entropy",
        _ce_terms,
        _ce_grad,
        "L = −Σ_k y_k log a_k",
        r"L = -\sum_k y_k \log a_k",
        "−{y}·log {a}",
        "−{y} / {a}",
        pairs_with="softmax",
        # δ_j = Σ_k (−y_k/a_k)·a_k(δ_kj − a_j) = a_j·Σ_k y_k − y_j  (= a_j − y_j for one-hot targets)
        combined=lambda a, y: a * y.sum(axis=-1, keepdims=True) - y,
        combined_template="{a}·{sum_y} − {y}",
        log_zero=lambda a, y: a <= 0.0 and y != 0.0,
        logit_template="−{y}·({z} − log({sum_exp}))",
        rules={
            "term": lambda v: -_xlogy(v["y"], v["a"]),
            "grad": lambda v: 0.0 if v["y"] == 0 else _safe_div(-float(v["y"]), float(v["a"])),
            "logit": lambda v: -float(v["y"]) * (float(v["z"]) - _log_sum_exp(_logits(v))),
            "combined": lambda v: v["a"] * v["sum_y"] - v["y"],
        },
    ),
}


# reduction: sum_all, where it differs from sum: the losses that average over the outputs, without the 1/K
_SUMMED = _output_means(mean=False)


def loss_op(name: str, reduction: str) -> Loss:
    """The loss op a config's ``loss`` runs: ``LOSSES[name]``, or its sum over the outputs for
    ``reduction: sum_all`` (the same op for sse, half_sse and cross_entropy, which sum over them already)."""
    return _SUMMED[name] if reduction == "sum_all" and name in _SUMMED else LOSSES[name]


# ---------------------------------------------------------------- exact mode

#: Activations and losses whose arithmetic is rational: ``--exact`` runs them on fractions.
RATIONAL_ACTIVATIONS = ("identity", "relu", "leaky_relu")
RATIONAL_LOSSES = ("sse", "half_sse", "mse", "mae")


def exact_activation(name: str, slope: Fraction) -> tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]:
    """(forward, derivative) of a rational activation on arrays of fractions: its rules, entry by entry."""
    act = ACTIVATIONS[name]
    forward = np.frompyfunc(lambda z: Fraction(act.rule({"z": z, "s": slope})), 1, 1)
    derivative = np.frompyfunc(lambda z, a: Fraction(act.derivative_rule({"z": z, "a": a, "s": slope})), 2, 1)
    return forward, derivative


def exact_loss(
    name: str, reduction: str = "mean"
) -> tuple[Callable[[Array, Array, Array], Array], Callable[[Array, Array, Array], Array]]:
    """(terms, grad) of a rational loss on arrays of fractions, shaped (batch, K) like ``Loss.terms``."""
    rules = loss_op(name, reduction).rules

    def apply(rule: NamedRule) -> Callable[[Array, Array, Array], Array]:
        def run(a: Array, y: Array, z: Array) -> Array:
            k = a.shape[-1]
            one = np.frompyfunc(lambda av, yv: Fraction(rule({"a": av, "y": yv, "K": k})), 2, 1)
            out: Array = one(a, y)
            return out

        return run

    return apply(rules["term"]), apply(rules["grad"])
