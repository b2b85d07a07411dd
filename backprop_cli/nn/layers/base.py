"""What every layer op shares: its parameters' names, and the emission context of its quantities.

A layer op (``nn/layers/dense.py`` is the model) owns one kind of layer: its forward pass, its
backward pass in the two modes of the engine (trace: every sample's chain rule kept apart; fast:
gradients reduced over the batch at once), and the quantities its blocks show. The engine
(``engine.py``) runs the ops in order and knows nothing of what is inside them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from backprop_cli.model.quantity import Const, Form, Numbers, Quantity, Scalar, Slot
from backprop_cli.model.spec import Array
from backprop_cli.nn.ops import NamedRule


@dataclass(frozen=True)
class ParamDef:
    """One parameter tensor of a layer: its kind (``weights``, ``biases``) and whether it is frozen."""

    kind: str
    frozen: bool = False


class Emit(Protocol):
    """The step a layer's quantities belong to: how to name them and make them."""

    numbers: Numbers
    targets: Array  # (batch, K): the step's targets (the combined δ of a fused loss reads them)

    def q(self, base: str, p: int | None = None) -> str:
        """``base`` qualified with this step and, for position ``p`` of a multi-sample batch, its sample."""
        ...

    def quantity(
        self,
        name: str,
        value: Scalar,
        phase: str,
        layer: str | None,
        p: int | None,
        form: Form,
        args: Sequence[Scalar] = (),
        *,
        kind: str = "computed",
        origin: str | None = None,
    ) -> Quantity: ...


def fill(
    template: str,
    fields: dict[str, Slot],
    values: dict[str, Scalar],
    rule: NamedRule | None,
    text: dict[str, str] | None = None,
) -> tuple[Form, list[Scalar]]:
    """A named template (``({a} − {y}) / {K}``) as a slot template: every field the template uses
    becomes a slot (in order of first use), but those of ``text`` (fixed text: a count); the named
    rule is called with the slots' values under their field names, and ``values`` for the rest."""
    order: list[str] = []
    slots: list[Slot] = []
    args: list[Scalar] = []
    fixed = text or {}

    class _Marks(dict[str, str]):
        def __missing__(self, key: str) -> str:
            if key in fixed:
                return fixed[key]
            slot = fields[key]
            if key not in order:
                order.append(key)
                slots.append(slot)
                args.append(values[key])
            return f"{{{order.index(key)}}}"

    filled = template.format_map(_Marks())
    positional = None if rule is None else named(order, rule, values)
    return Form(filled, tuple(slots), positional), args


def named(fields: list[str], rule: NamedRule, fixed: dict[str, Scalar]) -> Callable[[Sequence[Scalar]], Scalar]:
    """A rule over named fields as a rule over slot values in ``fields`` order (``fixed``: the rest)."""

    def positional(values: Sequence[Scalar]) -> Scalar:
        return rule({**fixed, **dict(zip(fields, values, strict=True))})

    return positional


__all__ = ["Const", "Emit", "ParamDef", "fill", "named"]
