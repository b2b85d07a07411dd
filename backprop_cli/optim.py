"""Optimizers as pluggable pieces with traced state.

An optimizer receives one parameter tensor and its reduced gradient and returns the new value
together with every intermediate it used, named, so the update table can write the arithmetic out
and homework can ask for any of it. Update rules follow torch.optim.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from backprop_cli.errors import ConfigError
from backprop_cli.spec import Array, OptimizerSpec


@dataclass(frozen=True)
class ParamStep:
    """One parameter tensor's update: ``new`` plus named intermediates (same shape as the parameter).

    ``formula`` is a template over ``{old}``, ``{grad}``, ``{new}``, the hyper-parameter symbols and
    the state names, e.g. ``"{old} − {lr} × {grad}"``; renderers fill in formatted numbers.
    """

    new: Array
    state: Mapping[str, Array]
    formula: str


class Optimizer(Protocol):
    name: str

    @property
    def hyper(self) -> Mapping[str, float]:
        """Hyper-parameters by their symbol in formulas, e.g. {"lr": 0.5}."""
        ...

    def step(self, key: str, param: Array, grad: Array) -> ParamStep:
        """Update one parameter tensor; ``key`` identifies it across steps (for stateful optimizers)."""
        ...


class SGD:
    """Plain gradient descent, torch.optim.SGD without momentum: p ← p − η·g."""

    name = "sgd"

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    @property
    def hyper(self) -> Mapping[str, float]:
        return {"lr": self.learning_rate}

    def step(self, key: str, param: Array, grad: Array) -> ParamStep:
        new: Array = param - self.learning_rate * grad
        return ParamStep(new=new, state={}, formula="{old} − {lr} × {grad}")


OPTIMIZERS: dict[str, Callable[[OptimizerSpec], Optimizer]] = {
    "sgd": lambda spec: SGD(spec.learning_rate),
}

SYMBOLS = {"lr": "η"}  # how hyper-parameters are written in headings


def make_optimizer(spec: OptimizerSpec) -> Optimizer:
    try:
        factory = OPTIMIZERS[spec.name]
    except KeyError:
        raise ConfigError(
            f"unknown optimizer {spec.name!r}; expected one of {', '.join(OPTIMIZERS)}", path="optimizer.name"
        ) from None
    return factory(spec)
