"""Tables that keep every name and number whole when they fit the terminal, and fold when they do not.

rich shrinks a table that is too wide by wrapping its columns, and ends a word that still does not fit
with "…": a number would lose digits. ``Fitting`` builds the table twice as needed: first with the
columns of names and numbers kept on one line (``whole=True``), which rich lays out as it is when its
narrowest layout fits; else with every column folding onto further lines, so nothing is ever cut.

``FormulaTable`` is the trace's table (name, formulas, value), laid out here rather than by rich,
which shrinks the widest columns first and splits a name wherever a line ends (``sample1/loss.te`` /
``rm1``). A name and a value are never broken; a formula breaks at its spaces, and where a word of it
is still too wide, between its tokens (``0.0218894·`` / ``0.4``), never inside a name or a number.
The first layout that fits is used: the columns side by side; the formulas narrowed to their longest
token; the formula and its numbers in one column; each name above its formulas; and only on a
terminal too narrow for the longest name, rich's folding.

Where no styles are written (a pipe, ``--color never``) and the columns stand side by side, the table's
lines are written here, as rich would lay them out (the same widths, padding, ``min_width`` share-out
and rule), without rich's per-cell rendering: that was most of a default ``backprop trace``'s time
beyond its imports. Anything else rich would treat differently (a title wider than the table, a tab,
a control character, markup in a heading) goes to rich; tests compare the two layouts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence

from rich import box
from rich._ratio import ratio_distribute
from rich._wrap import divide_line
from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from backprop_cli.model.i18n import _

# a formula's unbreakable tokens: a name with its qualifiers (step2/sample1/h.w1_2.m_hat), a number
# (-0.5, 1.2e-05, 3/4), any other character (an operator, a parenthesis); compiled when a formula is
# first broken (a trace whose tables fit never is)
_ATOM = (
    r"(?:step\d+/)?(?:sample\d+/)?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
    r"|-?\d+/\d+|-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
    r"|\S"
)


@functools.cache
def _atom() -> re.Pattern[str]:
    return re.compile(_ATOM)


GAP = 3  # cells between two columns of a SIMPLE_HEAD table without edges: padding, divider, padding
INDENT = "  "  # a name's formulas under it, when each name stands above its formulas


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


def atoms(word: str) -> list[str]:
    """The tokens of a word of a formula, in order (they join back into the word)."""
    return _atom().findall(word)


def longest_atom(text: str) -> int:
    """The width of the widest token of ``text``: the narrowest a column of it can be without breaking one."""
    return max((cell_len(atom) for word in text.split() for atom in atoms(word)), default=0)


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells: broken at spaces, and within a word only between
    tokens. A token wider than ``width`` is a line of its own (the layouts below never ask for that)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        joined = f"{current} {word}" if current else word
        if cell_len(joined) <= width:
            current = joined
            continue
        if current:
            lines.append(current)
        current = ""
        if cell_len(word) <= width:
            current = word
            continue
        for atom in atoms(word):
            if current and cell_len(current + atom) > width:
                lines.append(current)
                current = ""
            current += atom
    if current or not lines:
        lines.append(current)
    return lines


def _shrink(low: Sequence[int], natural: Sequence[int], room: int) -> list[int]:
    """Widths that add up to at most ``room``: the widest column is narrowed first, as rich does, and
    none below its ``low`` (where the caller has checked that the lows fit)."""
    widths = list(natural)
    excess = sum(widths) - room
    while excess > 0:
        shrinkable = [i for i, w in enumerate(widths) if w > low[i]]
        if not shrinkable:
            break
        widest = max(widths[i] for i in shrinkable)
        for i in shrinkable:
            if widths[i] == widest and excess > 0:
                widths[i] -= 1
                excess -= 1
    return widths


class FormulaTable:
    """A table of name, formula columns and value that never breaks a name or a number (module docstring).

    ``rows`` hold (name, formula cells, value); ``headers`` name the formula columns.
    """

    def __init__(
        self,
        rows: Sequence[tuple[str, Sequence[str], str]],
        headers: Sequence[str],
        *,
        title: Text | None = None,
        caption: Text | None = None,
        min_width: int = 40,
    ) -> None:
        self.rows = rows
        self.headers = headers
        self.title = title
        self.caption = caption
        self.min_width = min_width
        # the headings in the language of the text being made now, not of whenever rich renders it
        self.name_heading, self.value_heading = _("name"), _("value")

    def _table(self) -> Table:
        return Table(
            title=self.title,
            title_justify="left",
            caption=self.caption,
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            min_width=self.min_width,
            show_edge=False,
            pad_edge=False,
        )

    def layout(self, width: int) -> Table:
        """The first of the layouts (module docstring) that fits ``width`` cells.

        Each layout is tried first with every formula column at least as wide as its widest word (so
        formulas break at spaces only), then as wide as its widest token.
        """
        kind, widths = self._choose(width)
        name_w, value_w = self._name_value_widths()
        if kind == "side":
            return self._side_by_side(widths)
        if kind == "merged":
            return self._merged(width - name_w - value_w - 2 * GAP)
        if kind == "stacked":
            return self._stacked(width - value_w - GAP)
        return self._folded()

    def _name_value_widths(self) -> tuple[int, int]:
        name_w = max(cell_len(text) for text in [self.name_heading, *(row[0] for row in self.rows)])
        value_w = max(cell_len(text) for text in [self.value_heading, *(row[2] for row in self.rows)])
        return name_w, value_w

    def _choose(self, width: int) -> tuple[str, list[int] | None]:
        """Which layout ``layout`` uses at ``width``, and the side-by-side layout's formula widths."""
        name_w, value_w = self._name_value_widths()
        columns = [[h, *(row[1][c] for row in self.rows)] for c, h in enumerate(self.headers)]
        natural = [max(cell_len(t) for t in cells) for cells in columns]
        fixed = name_w + value_w + GAP * (len(self.headers) + 1)
        if fixed + sum(natural) <= width:
            return "side", None
        for narrowest in (_longest_word, longest_atom):
            low = [max(narrowest(t) for t in cells) for cells in columns]
            if fixed + sum(low) <= width:
                return "side", _shrink(low, natural, width - fixed)
            merged_low = max(low, default=0) + 2  # "= " before the numbers
            if len(self.headers) > 1 and name_w + value_w + 2 * GAP + merged_low <= width:
                return "merged", None
            stacked = width - value_w - GAP
            if stacked >= name_w and stacked >= merged_low + len(INDENT):
                return "stacked", None
        return "folded", None

    def plain_lines(self, width: int) -> list[str] | None:
        """The side-by-side layout's lines without styles, as rich writes them (the spaces that end a line
        left out), or None where that is not the layout at ``width`` or rich would lay it out otherwise."""
        kind, widths = self._choose(width)
        if kind != "side" or not self.rows:
            return None
        if widths is None:
            headers = list(self.headers)
            body = [[name, *cells, value] for name, cells, value in self.rows]
        else:
            headers = ["\n".join(wrap(header, widths[c])) for c, header in enumerate(self.headers)]
            body = [
                [name, *("\n".join(wrap(cell, widths[c])) for c, cell in enumerate(cells)), value]
                for name, cells, value in self.rows
            ]
        head = [self.name_heading, *headers, self.value_heading]
        if any("[" in text for text in head):  # rich reads a heading's markup
            return None
        annotations = [text.plain for text in (self.title, self.caption) if text is not None]
        grid = [[text.split("\n") for text in row] for row in (head, *body)]
        if not all(line.isprintable() for row in grid for cell in row for line in cell):
            return None  # a tab or a control character: rich expands or strips it
        if not all(text.isprintable() for text in annotations):
            return None
        n = len(head)
        left = [0, *([1] * (n - 1))]  # pad_edge=False: no padding outside the first and last columns
        right = [*([1] * (n - 1)), 0]
        content = [max(cell_len(line) for row in grid for line in row[i]) for i in range(n)]
        if widths is not None:  # a column given a width is that wide, whatever its cells
            for c, w in enumerate(widths):
                if max(cell_len(line) for row in grid for line in row[1 + c]) > w:
                    return None
                content[1 + c] = w
        full = [w + left[i] + right[i] for i, w in enumerate(content)]
        extra = n - 1  # the dividers between columns
        if sum(full) > width - extra:
            return None
        if self.min_width - extra > sum(full):  # rich shares the missing width out as it does
            room = min(self.min_width - extra, width - extra)
            full = [w + pad for w, pad in zip(full, ratio_distribute(room - sum(full), full), strict=True)]
        table_width = sum(full) + extra
        if any(cell_len(text) > table_width for text in annotations):
            return None  # rich would wrap the title or caption
        lines: list[str] = []
        if self.title is not None:
            lines.append(self.title.plain.rstrip(" "))

        def row_lines(row: list[list[str]]) -> None:
            for k in range(max(len(cell) for cell in row)):
                parts = []
                for i, cell in enumerate(row):
                    text = cell[k] if k < len(cell) else ""
                    gap = " " * (full[i] - left[i] - right[i] - cell_len(text))
                    shown = gap + text if i == n - 1 else text + gap  # the value column is right-justified
                    parts.append(" " * left[i] + shown + " " * right[i])
                lines.append(" ".join(parts).rstrip(" "))

        row_lines(grid[0])
        lines.append("─" * table_width)
        for row in grid[1:]:
            row_lines(row)
        if self.caption is not None:
            lines.append(self.caption.plain.rstrip(" "))
        return lines

    def _side_by_side(self, widths: Sequence[int] | None) -> Table:
        table = self._table()
        table.add_column(self.name_heading, style="cyan", no_wrap=True)
        for c, header in enumerate(self.headers):
            if widths is None:
                table.add_column(header, no_wrap=True)
            else:
                table.add_column("\n".join(wrap(header, widths[c])), no_wrap=True, width=widths[c])
        table.add_column(self.value_heading, justify="right", style="bold", no_wrap=True)
        for name, cells, value in self.rows:
            shown = [cell if widths is None else "\n".join(wrap(cell, widths[c])) for c, cell in enumerate(cells)]
            table.add_row(Text(name), *(Text(cell) for cell in shown), Text(value))
        return table

    def _lines(self, cells: Sequence[str], width: int) -> list[str]:
        """A row's formula cells one under the other: the formula, then ``= `` its numbers."""
        lines: list[str] = []
        for c, cell in enumerate(cells):
            if cell:
                lines += wrap(cell if not lines or c == 0 else f"= {cell}", width)
        return lines

    def _merged(self, width: int) -> Table:
        table = self._table()
        table.add_column(self.name_heading, style="cyan", no_wrap=True)
        table.add_column("\n".join(wrap(" = ".join(self.headers), width)), no_wrap=True, width=width)
        table.add_column(self.value_heading, justify="right", style="bold", no_wrap=True)
        for name, cells, value in self.rows:
            table.add_row(Text(name), Text("\n".join(self._lines(cells, width))), Text(value))
        return table

    def _stacked(self, width: int) -> Table:
        table = self._table()
        header = "\n".join(wrap(f"{self.name_heading}: {' = '.join(self.headers)}", width))
        table.add_column(header, no_wrap=True, width=width)
        table.add_column(self.value_heading, justify="right", style="bold", no_wrap=True)
        for name, cells, value in self.rows:
            text = Text(name, style="cyan")
            for line in self._lines(cells, width - len(INDENT)):
                text.append(f"\n{INDENT}{line}")
            table.add_row(text, Text(value))
        return table

    def _folded(self) -> Table:
        """rich's own layout, every column folding onto further lines: nothing is cut, a name may break."""
        table = self._table()
        table.add_column(self.name_heading, style="cyan", overflow="fold")
        for header in self.headers:
            table.add_column(header, overflow="fold")
        table.add_column(self.value_heading, justify="right", style="bold", overflow="fold")
        for name, cells, value in self.rows:
            table.add_row(Text(name), *(Text(cell) for cell in cells), Text(value))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType | Segment]:
        lines = self.plain_lines(options.max_width) if console.color_system is None else None
        if lines is None:
            yield self.layout(options.max_width)
            return
        newline = Segment.line()
        for line in lines:
            yield Segment(line)
            yield newline

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.layout(options.max_width))


# Other renderables a plain trace prints (the header's title, network table and facts, a step's rule, a
# notice), written as rich writes them where no styles are written; None where rich might not: markup,
# emoji codes or a tab to read, a line to cut with "…", a style that shows spaces (a background, reverse,
# underline …), or a layout other than the one reproduced here. Tests compare both at many widths.


def _shows_nothing(console: Console, style: object) -> bool:
    """Whether spaces in ``style`` show nothing (the spaces that end a line are then left out)."""
    if style is None or style == "":
        return True
    if not isinstance(style, str | Style):
        return False
    resolved = console.get_style(style) if isinstance(style, str) else style
    return not (resolved.bgcolor or resolved.reverse or resolved.underline or resolved.strike or resolved.overline)


def _plain_text(console: Console, text: object) -> str | None:
    """The characters of a ``Text`` without spans, in a style that shows no spaces, and without tabs
    or control characters (one line per ``\\n``); None for anything else."""
    if not isinstance(text, Text) or text.spans or not _shows_nothing(console, text.style):
        return None
    if not all(line.isprintable() for line in text.plain.split("\n")):
        return None
    return text.plain


def _wrapped(plain: str, width: int) -> list[str] | None:
    """A text's lines as rich's ``Text.wrap`` breaks them (its own ``divide_line``), folded, left-justified."""
    lines: list[str] = []
    for line in plain.split("\n"):
        offsets = divide_line(line, width, fold=True)
        for start, end in zip([0, *offsets], [*offsets, len(line)], strict=True):
            piece = line[start:end].rstrip(" ")
            if cell_len(piece) > width:
                return None
            lines.append(piece)
    return lines


def _text_lines(console: Console, text: Text, width: int) -> list[str] | None:
    plain = _plain_text(console, text)
    if plain is None or text.end != "\n" or text.justify or text.overflow or text.no_wrap:
        return None
    return _wrapped(plain, width)


def _rule_lines(console: Console, rule: Rule, width: int) -> list[str] | None:
    title = _plain_text(console, rule.title)
    if title is None or "\n" in title or rule.characters != "─" or rule.align != "center" or rule.end != "\n":
        return None
    if not _shows_nothing(console, rule.style) or cell_len(title) > width - 4:  # rich would cut it with "…"
        return None
    side = (width - cell_len(title)) // 2
    left = "─" * (side - 1)
    right = "─" * min(side + 1, width - len(left) - cell_len(title))
    return [set_cell_size(f"{left} {title} {right}", width).rstrip(" ")]


def _simple_table_lines(console: Console, table: Table, width: int) -> list[str] | None:
    """A ``box.SIMPLE`` table with edges and a header, its cells single-line ``Text`` that fit side by side."""
    if not (
        table.box is box.SIMPLE
        and table.show_edge
        and table.pad_edge
        and table.show_header
        and not (table.show_footer or table.show_lines or table.expand or table.leading or table.collapse_padding)
        and table.padding == (0, 1, 0, 1)
        and table.width is None
        and table.min_width is None
        and table.caption is None
        and table.title_justify == "left"
        and not table.row_styles
        and all(row.style is None and not row.end_section for row in table.rows)
        and all(
            _shows_nothing(console, style)
            for style in (table.style, table.header_style, table.border_style, "table.header", "table.title")
        )
    ):
        return None
    grid: list[list[str]] = [[] for _ in range(table.row_count + 1)]
    for column in table.columns:
        if (column.justify, column.vertical, column.overflow) != ("left", "top", "ellipsis") or any(
            value is not None for value in (column.width, column.min_width, column.max_width, column.ratio)
        ):
            return None
        if column.no_wrap or column.footer or not _shows_nothing(console, column.style):
            return None
        if not _shows_nothing(console, column.header_style):
            return None
        header: object = column.header
        if isinstance(header, str):  # rich reads markup and emoji codes in a str
            header = Text(header) if header.isprintable() and "[" not in header and ":" not in header else None
        cells = [header, *column.cells]
        for k, cell in enumerate(cells):
            plain = _plain_text(console, cell)
            if plain is None or "\n" in plain:
                return None
            grid[k].append(plain)
    n = len(table.columns)
    if not n:
        return None
    widths = [max(cell_len(row[i]) for row in grid) + 2 for i in range(n)]
    table_width = sum(widths) + 2 + (n - 1)
    if table_width > width:
        return None  # rich would narrow the columns
    lines: list[str] = []
    if table.title is not None:
        title = _plain_text(console, table.title)
        if title is None or "\n" in title or cell_len(title) > table_width:
            return None
        lines.append(title.rstrip(" "))
    lines.append("")  # the top edge: spaces
    rows = [
        " " + " ".join(" " + text + " " * (widths[i] - 2 - cell_len(text)) + " " for i, text in enumerate(row))
        for row in grid
    ]
    lines.append(rows[0].rstrip(" "))
    lines.append(" " + "─" * (sum(widths) + n - 1))
    lines += [row.rstrip(" ") for row in rows[1:]]
    lines.append("")  # the bottom edge
    return lines


def plain_lines(console: Console, renderable: object, width: int) -> list[str] | None:
    """The lines ``console.print(renderable)`` writes at ``width`` without styles, or None where rich
    might write anything else (see above) or the renderable is not one of those reproduced here."""
    if console.color_system is not None or console.options.ascii_only:
        return None
    if isinstance(renderable, FormulaTable):
        return renderable.plain_lines(width)
    if isinstance(renderable, Text):
        return _text_lines(console, renderable, width)
    if isinstance(renderable, Rule):
        return _rule_lines(console, renderable, width)
    if isinstance(renderable, Table):
        return _simple_table_lines(console, renderable, width)
    if isinstance(renderable, Group):
        lines: list[str] = []
        for part in renderable.renderables:
            more = plain_lines(console, part, width)
            if more is None:
                return None
            lines += more
        return lines
    return None
