"""Every named number of an expression trace as :class:`~backprop_cli.values.NamedValue`.

The same contract as a network's ``named_values``: names and order come from the layout the trace
shows (:func:`backprop_cli.expr.rows.expr_sections`), values are read exactly (the sections laid out
a second time with the round-tripping ``EXACT`` format). ``names``, ``answers`` and ``check`` can list
or check an expression config through this iterator.
"""

from __future__ import annotations

from collections.abc import Iterator

from backprop_cli.expr.engine import ExprTrace
from backprop_cli.expr.rows import expr_sections
from backprop_cli.render.numbers import NumberFormat
from backprop_cli.values import EXACT, NamedValue, NameFilter, section_values


def expression_values(
    trace: ExprTrace, fmt: NumberFormat | None = None, only: NameFilter | None = None
) -> Iterator[NamedValue]:
    """Every row of the trace in reading order; a name shown twice (the output in the result) comes once."""
    display = fmt or NumberFormat()
    chosen = only or NameFilter()
    return section_values(
        expr_sections(trace, EXACT), expr_sections(trace, display), chosen, set(), step=1, multi_step=False
    )
