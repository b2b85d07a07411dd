"""backprop-cli: backpropagation you can follow, number by number.

The command is ``backprop``; the same work is a Python API (README, "Python API"):

    import backprop_cli as bp
    t = bp.trace("classic_2_2_2")          # a file, a built-in example, or a config mapping
    t["o.dL_dw1_1"].value                  # one quantity by its stable name
    t.quantities(phase="backward", layer="o")
    print(t.explain("h.dL_dw1_1"))
    bp.expression("f = (x + y) * z", x=-2, y=5, z=-4)["grad.x"].value

The names below are imported when first used, so ``import backprop_cli`` (which every command does)
stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["NumberFormat", "Quantity", "Trace", "__version__", "expression", "load", "trace", "train"]

if TYPE_CHECKING:
    from backprop_cli.api import Trace, expression, load, trace, train
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.model.quantity import Quantity


def __getattr__(name: str) -> Any:
    if name == "Quantity":
        from backprop_cli.model.quantity import Quantity

        return Quantity
    if name == "NumberFormat":
        from backprop_cli.model.numbers import NumberFormat

        return NumberFormat
    if name in ("Trace", "expression", "load", "trace", "train"):
        from backprop_cli import api

        return getattr(api, name)
    raise AttributeError(f"module 'backprop_cli' has no attribute {name!r}")
