"""Every named number of an expression trace as :class:`~backprop_cli.values.NamedValue`.

The same contract as a network's ``named_values``: the trace's quantities (``expr/blocks.py``), in
the order the trace shows them. ``names``, ``answers`` and ``check`` can list or check an expression
config through this iterator.
"""

from __future__ import annotations

from collections.abc import Iterator

from backprop_cli.expr.blocks import expr_blocks
from backprop_cli.expr.engine import ExprTrace
from backprop_cli.render.numbers import NumberFormat
from backprop_cli.values import NamedValue, NameFilter, block_values


def expression_values(
    trace: ExprTrace, fmt: NumberFormat | None = None, only: NameFilter | None = None
) -> Iterator[NamedValue]:
    """Every quantity of the trace in reading order; a name shown twice (the output in the result) comes once."""
    return block_values(expr_blocks(trace), fmt or NumberFormat(), only or NameFilter(), set())
