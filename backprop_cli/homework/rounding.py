"""Rounding protocols: how students are told to round, and the key recomputed the way they round.

Full precision is the default: the key holds the trace's own values. A key may declare
``rounding: {decimals: 4}`` (or ``{significant: 4}``): *round every intermediate as you go*. The key
is then the trace recomputed in dependency order with every computed quantity rounded as it is made
and the rounded values fed on (``Quantity.recompute`` from the rounded factors), so a student who
rounded as told gets the key's numbers exactly. And the tolerance band carries the rounding: an answer
that rounds (by the protocol) to the key's value is accepted too, so one written with more digits
than asked passes; what follows from a student's own slightly different rounding is judged from their
values (``homework/ecf.py``: right from right factors is right).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from backprop_cli.homework.answers import Tolerance
from backprop_cli.homework.values import NamedValue, shown_value
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.rounding import EXACT, KINDS, RoundedChain, Rounding

__all__ = ["EXACT", "KINDS", "Banded", "Rounding", "banded", "comment", "round_as_you_go"]

#: An exact answer read as a float64 differs from the exact value's float64 by rounding alone: a decimal
#: or fraction that is the exact value gives the same float, and one recomputed in floats (ECF) is within this.
EXACT_SLACK = 1e-12


@dataclass(frozen=True)
class Banded(Tolerance):
    """A tolerance that also accepts what rounds to the expected value under ``rounding``."""

    rounding: Rounding | None = None

    def accepts(self, given: float, expected: float) -> bool:
        if self.rounding is not None and self.rounding.exact:  # the same fraction, up to float64's rounding of it
            return abs(given - expected) <= EXACT_SLACK * abs(expected) + 1e-300
        if super().accepts(given, expected):
            return True
        if self.rounding is None:
            return False
        return abs(given - expected) <= 0.5 * self.rounding.unit(expected) * (1 + 1e-9) + 1e-15

    def describe(self) -> str:
        if self.rounding is not None and self.rounding.exact:
            return "exact"
        base = super().describe()
        return base if self.rounding is None else f"{base}, or what rounds to the key's value"

    def shown(self) -> str:
        from backprop_cli.model.i18n import _

        if self.rounding is not None and self.rounding.exact:
            return _("exact")
        base = super().shown()
        return (
            base
            if self.rounding is None
            else _("{tolerance}, or what rounds to the key's value").format(tolerance=base)
        )


def comment(rounding: Rounding) -> str:
    """:meth:`Rounding.describe` in the reader's language: the comment beside a key's ``rounding:`` line
    (English: ``describe()`` itself, byte for byte; the YAML value before it stays as it is)."""
    from backprop_cli.model.i18n import _, ngettext

    if rounding.exact:
        return _("exact fractions: an answer is right only when it is the exact value")
    if rounding.kind == "decimals":  # English says "1 decimals" as describe() does; a catalogue has its plurals
        text = ngettext(
            "every intermediate rounded to {n} decimals as you go",
            "every intermediate rounded to {n} decimals as you go",
            rounding.digits,
        )
    else:
        text = ngettext(
            "every intermediate rounded to {n} significant digits as you go",
            "every intermediate rounded to {n} significant digits as you go",
            rounding.digits,
        )
    return text.format(n=rounding.digits)


def banded(tolerance: Tolerance, rounding: Rounding) -> Banded:
    return Banded(tolerance.kind, tolerance.amount, rounding)


def round_as_you_go(
    table: Mapping[str, NamedValue], rounding: Rounding, fmt: NumberFormat | None = None
) -> dict[str, NamedValue]:
    """The table recomputed in its (dependency) order with every computed number rounded as it is made.

    Given numbers stay as handed out, but a parameter of a later step is the rounded value its update
    gave (``Quantity.origin``); each quantity's slots hold the rounded factors, so its formula written
    with numbers shows the rounded chain."""
    display = fmt or NumberFormat()
    if rounding.exact:
        return dict(table)  # the exact trace itself
    chain = RoundedChain(rounding)
    return {name: shown_value(chain.round(v.quantity), display) for name, v in table.items()}
