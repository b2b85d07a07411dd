"""Optimizers as pluggable pieces with traced state.

An optimizer receives one parameter tensor and its reduced gradient and returns the new value
together with every intermediate it used, named, so the update table can write the arithmetic out
and homework can ask for any of it (``h.w1_2.m``, ``h.w1_2.m_hat``). Update rules and defaults
follow torch.optim (SGD, Adam, AdamW, RMSprop), so a trace can be checked against PyTorch number
for number. State is kept per parameter tensor (``key``), like torch's ``optimizer.state[p]``: a
tensor that is never stepped (frozen) keeps no state and its step count does not advance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

import numpy as np

from backprop_cli.errors import ConfigError
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.spec import Array, OptimizerSpec
from backprop_cli.nn.ops import NamedRule, Scalar

OptionValue = float | bool | tuple[float, ...]


@dataclass(frozen=True)
class ParamStep:
    """One parameter tensor's update: ``new`` plus named intermediates (same shape as the parameter).

    Templates (``formula`` for the new value, ``formulas[s]`` for state entry ``s``) are written over
    ``{old}``, ``{grad}``, the hyper-parameters (``{lr}``, ``{beta1}`` …), the state names
    (``{m}``, ``{m_hat}`` …), ``prior`` names (``{m_prev}``: the value carried in from the previous
    step) and ``scalars`` (``{t}``: this tensor's step count); renderers fill in names or numbers.
    ``state`` is ordered as computed: each entry uses only values before it.
    """

    new: Array
    state: Mapping[str, Array]
    formula: str
    formulas: Mapping[str, str] = field(default_factory=dict)
    prior: Mapping[str, Array] = field(default_factory=dict)
    scalars: Mapping[str, float] = field(default_factory=dict)
    # the same formulas as rules over their named fields (one number each), for recomputing the trace
    rule: NamedRule | None = None
    rules: Mapping[str, NamedRule] = field(default_factory=dict)


class Optimizer(Protocol):
    name: str

    @property
    def hyper(self) -> Mapping[str, float]:
        """Hyper-parameters the formulas use, by their template key, e.g. {"lr": 0.5}."""
        ...

    @property
    def flags(self) -> tuple[str, ...]:
        """Switched-on boolean options (``nesterov``, ``amsgrad``, ``centered``), for headings."""
        ...

    def step(self, key: str, param: Array, grad: Array) -> ParamStep:
        """Update one parameter tensor; ``key`` identifies it across steps (for stateful optimizers)."""
        ...


def _with_decay(
    grad: Array, param: Array, weight_decay: float, rules: dict[str, NamedRule]
) -> tuple[Array, str, dict[str, Array], dict[str, str]]:
    """L2 weight decay folded into the gradient, as torch.optim does: g = ∇ + λ·p (skipped when λ = 0)."""
    if weight_decay == 0:
        return grad, "{grad}", {}, {}
    g: Array = grad + weight_decay * param
    rules["g"] = lambda v: v["grad"] + v["weight_decay"] * v["old"]
    return g, "{g}", {"g": g}, {"g": "{grad} + {weight_decay} × {old}"}


class SGD:
    """torch.optim.SGD: g = ∇ + λ·p; b = μ·b + (1 − τ)·g (b = g at the first step);
    d = g + μ·b with Nesterov, else b (with momentum), else g; p ← p − η·d."""

    def __init__(
        self,
        learning_rate: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        name: str = "sgd",
    ) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ConfigError(_("nesterov needs momentum > 0 and dampening 0"), path="optimizer.nesterov")
        self.name = name
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.dampening = dampening
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self._buffers: dict[str, Array] = {}

    @property
    def hyper(self) -> Mapping[str, float]:
        out = {"lr": self.learning_rate}
        if self.momentum != 0:
            out |= {"momentum": self.momentum, "dampening": self.dampening}
        if self.weight_decay != 0:
            out["weight_decay"] = self.weight_decay
        return out

    @property
    def flags(self) -> tuple[str, ...]:
        return ("nesterov",) if self.nesterov else ()

    def step(self, key: str, param: Array, grad: Array) -> ParamStep:
        rules: dict[str, NamedRule] = {}
        g, gname, state, formulas = _with_decay(grad, param, self.weight_decay, rules)
        gk = gname.strip("{}")
        prior: dict[str, Array] = {}
        direction, dname = g, gname
        if self.momentum != 0:
            previous = self._buffers.get(key)
            if previous is None:  # torch starts the buffer as a copy of the gradient
                buf: Array = g.copy()
                formulas["buf"] = gname
                rules["buf"] = lambda v: v[gk]
            else:
                buf = self.momentum * previous + (1 - self.dampening) * g
                prior["buf_prev"] = previous
                formulas["buf"] = f"{{momentum}} × {{buf_prev}} + (1 − {{dampening}}) × {gname}"
                rules["buf"] = lambda v: v["momentum"] * v["buf_prev"] + (1 - v["dampening"]) * v[gk]
            state["buf"] = buf
            self._buffers[key] = buf
            if self.nesterov:
                direction = g + self.momentum * buf
                state["nesterov"] = direction
                formulas["nesterov"] = f"{gname} + {{momentum}} × {{buf}}"
                rules["nesterov"] = lambda v: v[gk] + v["momentum"] * v["buf"]
                dname = "{nesterov}"
            else:
                direction, dname = buf, "{buf}"
        new: Array = param - self.learning_rate * direction
        dk = dname.strip("{}")
        return ParamStep(
            new,
            state,
            f"{{old}} − {{lr}} × {dname}",
            formulas,
            prior,
            rule=lambda v: v["old"] - v["lr"] * v[dk],
            rules=rules,
        )


class Adam:
    """torch.optim.Adam (AdamW with ``decoupled``):
    m = β₁·m + (1 − β₁)·g, v = β₂·v + (1 − β₂)·g², m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ),
    p ← p − η·m̂ / (√v̂ + ε). Adam adds λ·p to the gradient; AdamW first shrinks p ← p·(1 − η·λ).
    With ``amsgrad`` v̂ uses the running maximum of v."""

    def __init__(
        self,
        learning_rate: float = 1e-3,
        betas: tuple[float, ...] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        decoupled: bool = False,
        name: str = "adam",
    ) -> None:
        self.name = name
        self.learning_rate = learning_rate
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self.decoupled = decoupled
        self._t: dict[str, int] = {}
        self._m: dict[str, Array] = {}
        self._v: dict[str, Array] = {}
        self._v_max: dict[str, Array] = {}

    @property
    def hyper(self) -> Mapping[str, float]:
        out = {"lr": self.learning_rate, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}
        if self.weight_decay != 0 or self.decoupled:
            out["weight_decay"] = self.weight_decay
        return out

    @property
    def flags(self) -> tuple[str, ...]:
        return ("amsgrad",) if self.amsgrad else ()

    def step(self, key: str, param: Array, grad: Array) -> ParamStep:
        t = self._t.get(key, 0) + 1
        self._t[key] = t
        base, bname = param, "{old}"
        rules: dict[str, NamedRule] = {}
        if self.decoupled:
            g, gname, state, formulas = grad, "{grad}", {}, {}
            if self.weight_decay != 0:
                base = param * (1 - self.learning_rate * self.weight_decay)
                state["decayed"] = base
                formulas["decayed"] = "{old} × (1 − {lr} × {weight_decay})"
                rules["decayed"] = lambda v: v["old"] * (1 - v["lr"] * v["weight_decay"])
                bname = "{decayed}"
        else:
            g, gname, state, formulas = _with_decay(grad, param, self.weight_decay, rules)
        gk = gname.strip("{}")
        prior: dict[str, Array] = {}
        m = _average(self._m, key, self.beta1, g, "m", "beta1", gname, state, formulas, prior, rules)
        v = _average(self._v, key, self.beta2, g * g, "v", "beta2", f"{gname}²", state, formulas, prior, rules, gk)
        vname = "{v}"
        if self.amsgrad:
            previous = self._v_max.get(key)
            v = v if previous is None else np.maximum(previous, v)
            if previous is not None:
                prior["v_max_prev"] = previous
            state["v_max"] = v
            formulas["v_max"] = "max(0, {v})" if previous is None else "max({v_max_prev}, {v})"
            rules["v_max"] = (
                (lambda q: max(0, q["v"])) if previous is None else (lambda q: max(q["v_max_prev"], q["v"]))
            )
            self._v_max[key] = v
            vname = "{v_max}"
        vk = vname.strip("{}")
        m_hat: Array = m / (1 - self.beta1**t)
        v_hat: Array = v / (1 - self.beta2**t)
        with np.errstate(divide="ignore", invalid="ignore"):  # eps = 0 and g = 0: 0/0, a located fault below
            step: Array = self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)
        state |= {"m_hat": m_hat, "v_hat": v_hat, "step": step}
        formulas |= {
            "m_hat": "{m} / (1 − {beta1}^{t})",
            "v_hat": vname + " / (1 − {beta2}^{t})",
            "step": "{lr} × {m_hat} / (√{v_hat} + {eps})",
        }
        rules |= {
            "m_hat": lambda q: q["m"] / (1 - q["beta1"] ** q["t"]),
            "v_hat": lambda q: q[vk] / (1 - q["beta2"] ** q["t"]),
            "step": lambda q: q["lr"] * q["m_hat"] / (math.sqrt(q["v_hat"]) + q["eps"]),
        }
        new: Array = base - step
        bk = bname.strip("{}")
        return ParamStep(
            new, state, f"{bname} − {{step}}", formulas, prior, {"t": float(t)}, lambda q: q[bk] - q["step"], rules
        )


class RMSprop:
    """torch.optim.RMSprop: g = ∇ + λ·p; v = α·v + (1 − α)·g²; centered: ḡ = α·ḡ + (1 − α)·g and
    d = √(v − ḡ²) + ε, else d = √v + ε; with momentum b = μ·b + g/d and p ← p − η·b, else p ← p − η·g/d."""

    def __init__(
        self,
        learning_rate: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        name: str = "rmsprop",
    ) -> None:
        self.name = name
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.centered = centered
        self._v: dict[str, Array] = {}
        self._g_avg: dict[str, Array] = {}
        self._buffers: dict[str, Array] = {}

    @property
    def hyper(self) -> Mapping[str, float]:
        out = {"lr": self.learning_rate, "alpha": self.alpha, "eps": self.eps}
        if self.momentum != 0:
            out["momentum"] = self.momentum
        if self.weight_decay != 0:
            out["weight_decay"] = self.weight_decay
        return out

    @property
    def flags(self) -> tuple[str, ...]:
        return ("centered",) if self.centered else ()

    def step(self, key: str, param: Array, grad: Array) -> ParamStep:
        rules: dict[str, NamedRule] = {}
        g, gname, state, formulas = _with_decay(grad, param, self.weight_decay, rules)
        gk = gname.strip("{}")
        prior: dict[str, Array] = {}
        v = _average(self._v, key, self.alpha, g * g, "v", "alpha", f"{gname}²", state, formulas, prior, rules, gk)
        if self.centered:
            g_avg = _average(self._g_avg, key, self.alpha, g, "g_avg", "alpha", gname, state, formulas, prior, rules)
            denom: Array = np.sqrt(v - g_avg * g_avg) + self.eps
            formulas["denom"] = "√({v} − {g_avg}²) + {eps}"
            rules["denom"] = lambda q: math.sqrt(q["v"] - q["g_avg"] * q["g_avg"]) + q["eps"]
        else:
            denom = np.sqrt(v) + self.eps
            formulas["denom"] = "√{v} + {eps}"
            rules["denom"] = lambda q: math.sqrt(q["v"]) + q["eps"]
        state["denom"] = denom
        if self.momentum > 0:
            previous = self._buffers.get(key)
            earlier = np.zeros_like(g) if previous is None else previous
            buf: Array = self.momentum * earlier + g / denom
            if previous is not None:
                prior["buf_prev"] = previous
            state["buf"] = buf
            formulas["buf"] = f"{{momentum}} × {'0' if previous is None else '{buf_prev}'} + {gname} / {{denom}}"
            if previous is None:
                rules["buf"] = lambda q: q["momentum"] * 0 + q[gk] / q["denom"]
            else:
                rules["buf"] = lambda q: q["momentum"] * q["buf_prev"] + q[gk] / q["denom"]
            self._buffers[key] = buf
            step: Array = self.learning_rate * buf
            formulas["step"] = "{lr} × {buf}"
            rules["step"] = lambda q: q["lr"] * q["buf"]
        else:
            step = self.learning_rate * (g / denom)
            formulas["step"] = f"{{lr}} × {gname} / {{denom}}"
            rules["step"] = lambda q: q["lr"] * (q[gk] / q["denom"])
        state["step"] = step
        new: Array = param - step
        return ParamStep(
            new, state, "{old} − {step}", formulas, prior, rule=lambda q: q["old"] - q["step"], rules=rules
        )


def _average(
    store: dict[str, Array],
    key: str,
    beta: float,
    value: Array,
    name: str,
    symbol: str,
    value_name: str,
    state: dict[str, Array],
    formulas: dict[str, str],
    prior: dict[str, Array],
    rules: dict[str, NamedRule],
    squared: str | None = None,
) -> Array:
    """An exponential moving average started at zero, as torch keeps them: s = β·s + (1 − β)·value.
    ``squared``: the value is that field squared (v of g²), else the field ``value_name`` itself."""
    previous = store.get(key)
    earlier = np.zeros_like(value) if previous is None else previous
    out: Array = beta * earlier + (1 - beta) * value
    if previous is not None:
        prior[f"{name}_prev"] = previous
    carried = "0" if previous is None else f"{{{name}_prev}}"
    formulas[name] = f"{{{symbol}}} × {carried} + (1 − {{{symbol}}}) × {value_name}"
    field_ = squared or value_name.strip("{}")
    before = f"{name}_prev"

    def rule(q: Mapping[str, Scalar]) -> Scalar:
        x = q[field_] * q[field_] if squared else q[field_]
        return q[symbol] * (q[before] if previous is not None else 0) + (1 - q[symbol]) * x

    rules[name] = rule
    state[name] = out
    store[key] = out
    return out


# ---------------------------------------------------------------- registry

#: Every option each optimizer accepts, with torch.optim's default (``momentum`` is SGD with
#: momentum, defaulting to the customary μ = 0.9 since torch's SGD has none).
DEFAULTS: dict[str, dict[str, OptionValue]] = {
    "sgd": {"learning_rate": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
    "momentum": {"learning_rate": 1e-3, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
    "adam": {"learning_rate": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
    "adamw": {"learning_rate": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False},
    "rmsprop": {
        "learning_rate": 1e-2,
        "alpha": 0.99,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum": 0.0,
        "centered": False,
    },
}


def flat_options(given: Mapping[str, OptionValue]) -> dict[str, float | bool]:
    """Config options as :class:`OptimizerSpec` holds them: ``betas: [β₁, β₂]`` split into beta1, beta2."""
    out: dict[str, float | bool] = {}
    for key, value in given.items():
        if isinstance(value, tuple):
            out |= {f"beta{i + 1}": float(v) for i, v in enumerate(value)}
        else:
            out[key] = value
    return out


def resolved_options(name: str, given: Mapping[str, float | bool]) -> dict[str, float | bool]:
    """Every option of optimizer ``name`` but the learning rate (flat, see :func:`flat_options`):
    the given ones over torch's defaults."""
    out = flat_options({k: v for k, v in DEFAULTS[name].items() if k != "learning_rate"})
    for key, value in given.items():
        if key not in out:
            valid = ", ".join(DEFAULTS[name])
            raise ConfigError(
                _("unknown option {key} for optimizer {optimizer}; expected one of {choices}").format(
                    key=repr(key), optimizer=repr(name), choices=valid
                ),
                path="optimizer",
            )
        out[key] = value
    return out


def check_options(name: str, options: Mapping[str, float | bool]) -> None:
    """What spans options (ranges of single values are the config schema's job), as torch checks it."""
    momentum = _f(options, "momentum") if "momentum" in options else 0.0
    dampening = _f(options, "dampening") if "dampening" in options else 0.0
    if name == "momentum" and momentum <= 0:
        raise ConfigError(
            _("momentum {momentum:g} with optimizer 'momentum'; expected μ > 0").format(momentum=momentum),
            path="optimizer.momentum",
        )
    if options.get("nesterov") and (momentum <= 0 or dampening != 0):
        got = _("dampening {dampening:g}").format(dampening=dampening) if momentum > 0 else _("momentum 0")
        raise ConfigError(
            _("nesterov with {got}; expected momentum > 0 and dampening 0 (as torch.optim.SGD)").format(got=got),
            path="optimizer.nesterov",
        )


def _f(options: Mapping[str, float | bool], key: str) -> float:
    value = options[key]
    return value if isinstance(value, Fraction) else float(value)


def _sgd(spec: OptimizerSpec, o: Mapping[str, float | bool]) -> Optimizer:
    return SGD(
        spec.learning_rate,
        _f(o, "momentum"),
        _f(o, "dampening"),
        _f(o, "weight_decay"),
        bool(o["nesterov"]),
        name=spec.name,
    )


def _adam(spec: OptimizerSpec, o: Mapping[str, float | bool]) -> Optimizer:
    return Adam(
        spec.learning_rate,
        (_f(o, "beta1"), _f(o, "beta2")),
        _f(o, "eps"),
        _f(o, "weight_decay"),
        bool(o["amsgrad"]),
        decoupled=spec.name == "adamw",
        name=spec.name,
    )


def _rmsprop(spec: OptimizerSpec, o: Mapping[str, float | bool]) -> Optimizer:
    return RMSprop(
        spec.learning_rate,
        _f(o, "alpha"),
        _f(o, "eps"),
        _f(o, "weight_decay"),
        _f(o, "momentum"),
        bool(o["centered"]),
        name=spec.name,
    )


OPTIMIZERS: dict[str, Callable[[OptimizerSpec, Mapping[str, float | bool]], Optimizer]] = {
    "sgd": _sgd,
    "momentum": _sgd,
    "adam": _adam,
    "adamw": _adam,
    "rmsprop": _rmsprop,
}

#: How hyper-parameters and per-tensor scalars are written in formulas and headings.
SYMBOLS = {
    "lr": "η",
    "momentum": "μ",
    "dampening": "τ",
    "weight_decay": "λ",
    "beta1": "β₁",
    "beta2": "β₂",
    "eps": "ε",
    "alpha": "α",
    "t": "t",
}

#: What each named intermediate is, for legends and the JSON names table.
STATE_MEANINGS = {
    "g": N_("the gradient with L2 weight decay added: ∇ + λ·p"),
    "decayed": N_("AdamW: the parameter after decoupled weight decay p·(1 − η·λ)"),
    "buf": N_("momentum buffer"),
    "nesterov": N_("Nesterov direction g + μ·buf"),
    "m": N_("first moment (running mean of g)"),
    "v": N_("second moment (running mean of g²)"),
    "v_max": N_("AMSGrad: the largest v so far"),
    "m_hat": N_("bias-corrected first moment m / (1 − β₁ᵗ)"),
    "v_hat": N_("bias-corrected second moment v / (1 − β₂ᵗ)"),
    "g_avg": N_("centered RMSprop: running mean of g"),
    "denom": N_("RMSprop denominator √v + ε"),
    "step": N_("the amount subtracted from the parameter"),
}


#: The optimizers whose every step is rational arithmetic (``--exact`` runs them on fractions).
RATIONAL = ("sgd", "momentum")


def exact_number(value: float) -> Fraction:
    """A float read from its shortest decimal text, as a fraction: 0.1 → 1/10."""
    return Fraction(repr(float(value)))


def make_optimizer(spec: OptimizerSpec, *, exact: bool = False) -> Optimizer:
    """The optimizer ``spec`` names; ``exact``: its hyper-parameters as fractions (rational ones only)."""
    try:
        factory = OPTIMIZERS[spec.name]
    except KeyError:
        raise ConfigError(
            f"unknown optimizer {spec.name!r}; expected one of {', '.join(OPTIMIZERS)}", path="optimizer.name"
        ) from None
    options = resolved_options(spec.name, spec.options)
    check_options(spec.name, options)
    if not (spec.learning_rate > 0 and math.isfinite(spec.learning_rate)):
        raise ConfigError(f"{spec.learning_rate!r}; expected a learning rate > 0", path="optimizer.learning_rate")
    if exact:
        if spec.name not in RATIONAL:
            raise ConfigError(
                f"the optimizer {spec.name} takes square roots, which are not rational; expected "
                f"{' or '.join(RATIONAL)} (or drop --exact)",
                path="--exact",
            )
        fractions = {k: v if isinstance(v, bool) else exact_number(v) for k, v in options.items()}
        exact_spec = OptimizerSpec(spec.name, exact_number(spec.learning_rate), spec.options)  # type: ignore[arg-type]
        return factory(exact_spec, fractions)  # type: ignore[arg-type]
    return factory(spec, options)


def hyper_text(spec: OptimizerSpec, number: Callable[[float], str]) -> str:
    """``η = 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-8`` plus switched-on flags: what the update formulas use."""
    optimizer = make_optimizer(spec)
    parts = [f"{SYMBOLS.get(k, k)} = {number(v)}" for k, v in optimizer.hyper.items()]
    return ", ".join([*parts, *optimizer.flags])
