"""Tables that keep every name and number whole when they fit the terminal, and fold when they do not.

rich shrinks a table that is too wide by wrapping its columns, and ends a word that still does not fit
with "…": a number would lose digits. ``Fitting`` builds the table twice as needed: first with the
columns of names and numbers kept on one line (``whole=True``), which rich lays out as it is when its
narrowest layout fits; else with every column folding onto further lines, so nothing is ever cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from rich.console import Console, ConsoleOptions, RenderableType
from rich.measure import Measurement
from rich.table import Table


class Fitting:
    """A table built by ``build(whole)``: whole when it fits ``options.max_width``, else folded."""

    def __init__(self, build: Callable[[bool], Table]) -> None:
        self.build = build

    def _choose(self, console: Console, options: ConsoleOptions) -> Table:
        whole = self.build(True)
        # the table's own measure (Measurement.get would clamp it to the width we are comparing with)
        if whole.__rich_measure__(console, options).minimum <= options.max_width:
            return whole
        return self.build(False)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        yield self._choose(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._choose(console, options))


def column_style(whole: bool) -> dict[str, object]:
    """Keyword arguments for a column of names or numbers: on one line, or folding (never "…")."""
    return {"no_wrap": True} if whole else {"overflow": "fold"}
