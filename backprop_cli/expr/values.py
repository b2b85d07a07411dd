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
from backprop_cli.values import EXACT, NamedValue, NameFilter


def expression_values(
    trace: ExprTrace, fmt: NumberFormat | None = None, only: NameFilter | None = None
) -> Iterator[NamedValue]:
    """Every row of the trace in reading order; a name shown twice (the output in the result) comes once."""
    display = fmt or NumberFormat()
    chosen = only or NameFilter()
    seen: set[str] = set()
    for exact, shown in zip(expr_sections(trace, EXACT), expr_sections(trace, display), strict=True):
        if not chosen.wants_section(shown):
            continue
        for exact_row, row in zip(exact.rows, shown.rows, strict=True):
            if row.name in seen or not chosen.wants_name(row.name):
                continue
            seen.add(row.name)
            yield NamedValue(
                name=row.name,
                value=float(exact_row.value),
                step=1,
                phase=shown.phase,
                layer=None,
                sample=None,
                formula=row.formula,
                written=row.written,
                shown=row.value,
                multi_step=False,
            )
