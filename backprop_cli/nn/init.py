"""Reproducible weight initialisation: ``init: {method, seed}`` (or just ``init: METHOD``, seed 0) on a layer.

Every method draws from ``numpy.random.default_rng(seed)``: the whole weight matrix (shape
[units][fan_in], row-major) first, then the biases, so a layer's numbers depend only on its
method, seed and shape. The draw always happens in full and the config keeps whatever it gives
explicitly, so giving the weights does not change the initialised biases.

Weight distributions (fan_out = units):

- ``xavier`` (aliases ``glorot``, ``xavier_uniform``, ``glorot_uniform``): Glorot uniform,
  U(−a, a), a = √(6 / (fan_in + fan_out)), as torch.nn.init.xavier_uniform_
- ``xavier_normal`` (alias ``glorot_normal``): N(0, σ²), σ = √(2 / (fan_in + fan_out)), as xavier_normal_
- ``he`` (aliases ``kaiming``, ``kaiming_normal``, ``he_normal``): Kaiming normal, N(0, σ²),
  σ = √(2 / fan_in), as kaiming_normal_ with its defaults (fan_in, ReLU gain √2)
- ``he_uniform`` (alias ``kaiming_uniform``): U(−b, b), b = √(6 / fan_in), as kaiming_uniform_ with a = 0
- ``pytorch``: nn.Linear's default, U(−k, k), k = 1/√fan_in, for weights and biases alike
- ``zeros``: all zero
- ``uniform``: U(low, high), default low 0, high 1 (torch.nn.init.uniform_)
- ``normal``: N(0, std²), default std 1 (torch.nn.init.normal_)

Biases start at zero for every method except ``pytorch``, the way Keras and most textbooks do
it; ``pytorch`` reproduces nn.Linear, which draws them from the same U(−k, k) as its weights.
"""

from __future__ import annotations

import math

import numpy as np

from backprop_cli.model.record import record
from backprop_cli.model.spec import Array

# the aliases are torch.nn.init's names (without the trailing _) and Keras's
ALIASES = {
    "glorot": "xavier",
    "xavier_uniform": "xavier",
    "glorot_uniform": "xavier",
    "glorot_normal": "xavier_normal",
    "kaiming": "he",
    "kaiming_normal": "he",
    "he_normal": "he",
    "kaiming_uniform": "he_uniform",
}
INIT_METHODS = (
    "xavier",
    "glorot",
    "xavier_uniform",
    "glorot_uniform",
    "xavier_normal",
    "glorot_normal",
    "he",
    "kaiming",
    "kaiming_normal",
    "he_normal",
    "he_uniform",
    "kaiming_uniform",
    "pytorch",
    "zeros",
    "uniform",
    "normal",
)


@record
class InitSpec:
    """A resolved ``init`` mapping; ``low``/``high`` are for ``uniform``, ``std`` for ``normal``."""

    method: str
    seed: int = 0
    low: float = 0.0
    high: float = 1.0
    std: float = 1.0

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"method": canonical(self.method), "seed": self.seed}
        if canonical(self.method) == "uniform":
            out |= {"low": self.low, "high": self.high}
        if canonical(self.method) == "normal":
            out["std"] = self.std
        return out


def canonical(method: str) -> str:
    return ALIASES.get(method, method)


def initialise(init: InitSpec, *, units: int, fan_in: int, fan_out: int | None = None) -> tuple[Array, Array]:
    """(weights of shape (units, fan_in), biases of shape (units,)) drawn as the module docstring says.

    ``fan_out`` is ``units`` for a dense layer; a conv layer's is C_out·k^d, as torch's init computes it
    (its weights (C_out, C_in·k^d) here, reshaped to torch's (C_out, C_in, k, k) by the layer)."""
    method = canonical(init.method)
    out = units if fan_out is None else fan_out
    rng = np.random.default_rng(init.seed)
    shape = (units, fan_in)
    zeros: Array = np.zeros(units, dtype=np.float64)
    weights: Array
    if method == "xavier":
        a = math.sqrt(6.0 / (fan_in + out))
        weights = rng.uniform(-a, a, size=shape)
    elif method == "xavier_normal":
        weights = rng.normal(0.0, math.sqrt(2.0 / (fan_in + out)), size=shape)
    elif method == "he":
        weights = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
    elif method == "he_uniform":
        b = math.sqrt(6.0 / fan_in)
        weights = rng.uniform(-b, b, size=shape)
    elif method == "pytorch":
        k = 1.0 / math.sqrt(fan_in)
        weights = rng.uniform(-k, k, size=shape)
        biases: Array = rng.uniform(-k, k, size=units)
        return weights.astype(np.float64), biases.astype(np.float64)
    elif method == "zeros":
        weights = np.zeros(shape, dtype=np.float64)
    elif method == "uniform":
        weights = rng.uniform(init.low, init.high, size=shape)
    elif method == "normal":
        weights = rng.normal(0.0, init.std, size=shape)
    else:  # the config's Literal keeps this unreachable from files
        raise ValueError(f"unknown init method {init.method!r}; expected one of {', '.join(INIT_METHODS)}")
    return weights.astype(np.float64), zeros
