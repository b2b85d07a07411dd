"""Every named number of an expression trace as :class:`~backprop_cli.homework.values.NamedValue`.

The same contract as a network's ``named_values``: the trace's quantities (``graph/blocks.py``), in
the order the trace shows them. ``names``, ``answers`` and ``check`` can list or check an expression
config through this iterator.
"""

from __future__ import annotations

from collections.abc import Iterator

from backprop_cli.graph.blocks import expr_blocks
from backprop_cli.graph.engine import ExprTrace
from backprop_cli.homework.values import NamedValue, block_values
from backprop_cli.model.filters import Filter
from backprop_cli.model.numbers import NumberFormat


def expression_values(
    trace: ExprTrace, fmt: NumberFormat | None = None, only: Filter | None = None
) -> Iterator[NamedValue]:
    """Every quantity of the trace in reading order; a name shown twice (the output in the result) comes once."""
    return block_values(expr_blocks(trace), fmt or NumberFormat(), only or Filter(), set())
