"""``--help`` in the reader's language: click's help, short help, option help and headings looked up in the
catalogue (model/i18n.py) when the help is shown, and wrapped by the columns each character takes.

The language is ``--lang`` among the arguments, else the environment's; help strings are marked with
``N_`` where they are defined, so the catalogue test sees them.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence

import click

from backprop_cli.model.i18n import N_, _

CLICK_HELP = (N_("Show this message and exit."), N_("Show the version and exit."))
_ARGS = "backprop_cli.help_args"  # ctx.meta: the arguments the help is shown for (--lang among them)


def help_language(args: Sequence[str]) -> str:
    """The language ``--help`` is shown in: ``--lang`` among the arguments (``--help`` is eager, so it
    runs before ``--lang`` is parsed), else the environment's, as the command itself would choose."""
    from backprop_cli.model.i18n import LANGUAGES, from_environment

    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(args):
            value = args[index + 1]
        else:
            value = arg.removeprefix("--lang=") if arg.startswith("--lang=") else ""
        if value in LANGUAGES:
            return value
    return from_environment()


_NO_BREAK_BEFORE = frozenset("、。，．・：；？！）」』】ー…)]},.:;?!")  # a line never starts with these
_NO_BREAK_AFTER = frozenset("（「『【([{")  # nor ends with these


def _wide(char: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(char) in "WF"


def _columns(text: str) -> int:
    """The terminal columns ``text`` takes: two for a wide (CJK) character, none for a combining mark."""
    import unicodedata

    return sum(0 if unicodedata.combining(c) else 2 if _wide(c) else 1 for c in text)


def _breakable(before: str, after: str) -> bool:
    """Whether a line may break between two characters: at a space, or beside a wide character
    (Japanese has no spaces), never before a combining mark or closing punctuation."""
    import unicodedata

    if after in _NO_BREAK_BEFORE or before in _NO_BREAK_AFTER or unicodedata.combining(after):
        return False
    return before.isspace() != after.isspace() or _wide(before) or _wide(after)


def _fill(text: str, width: int, indent: str = "") -> str:
    """click's ``wrap_text(…, preserve_paragraphs=True)`` counting columns rather than characters: lines
    of at most ``width`` columns where a line can break (:func:`_breakable`), a ``\\b`` paragraph kept
    as it is."""
    out = []
    for lines in [part.splitlines() for part in text.split("\n\n") if part.strip()]:
        if lines[0].strip() == "\b":
            out.append("\n".join(indent + line for line in lines[1:]))
            continue
        units: list[str] = []  # the pieces between break opportunities: words, wide characters, spaces
        for char in " ".join(line.strip() for line in lines):
            if units and not _breakable(units[-1][-1], char):
                units[-1] += char
            else:
                units.append(char)
        rows: list[str] = []
        line = ""
        for unit in units:
            if not line.strip() or unit.isspace() or _columns(indent + line + unit) <= width:
                line += unit
            else:
                rows.append(line.rstrip())
                line = unit.lstrip()
        rows.append(line.rstrip())
        out.append("\n".join(indent + row.lstrip() for row in rows))
    return "\n\n".join(out)


class ColumnsHelpFormatter(click.HelpFormatter):
    """click's formatter, counting the columns a character takes where some take two or none (in
    Japanese help a line of 80 characters is 160 columns); other text (English) click's own way."""

    def write_text(self, text: str) -> None:
        if _columns(text) == len(text):
            super().write_text(text)
            return
        self.write(_fill(text, self.width, " " * self.current_indent) + "\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if all(_columns(second) == len(second) for _first, second in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        first_col = min(max(len(first) for first, _second in rows), col_max) + col_spacing
        margin = " " * (first_col + self.current_indent)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            self.write(" " * (first_col - len(first)) if len(first) <= first_col - col_spacing else "\n" + margin)
            lines = _fill(second, max(self.width - first_col - 2, 10)).splitlines() or [""]
            self.write("".join(f"{margin if index else ''}{line}\n" for index, line in enumerate(lines)))


class _HelpContext(click.Context):
    formatter_class = ColumnsHelpFormatter


class TranslatedHelp(click.Command):
    """A command whose ``--help`` is translated when it is shown, never at import: its help, the short
    help of its subcommands, its options' help and the headings are looked up in the catalogue of
    :func:`help_language`. Help strings are marked with ``N_`` where they are written (a multi-line
    one is looked up as click shows it, ``inspect.cleandoc``); names, metavars, defaults and example
    commands stay as they are. In English every lookup returns its argument: click's own output."""

    context_class = _HelpContext

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGS] = tuple(args)  # before click parses: --help is shown while parsing
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from backprop_cli.model.i18n import using

        with using(help_language(ctx.meta.get(_ARGS, ()))):
            super().format_help(ctx, formatter)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix=f"{_('Usage:')} ")

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.help is None or self.deprecated:  # click's own text (no command of ours is deprecated)
            super().format_help_text(ctx, formatter)
            return
        text = _(inspect.cleandoc(self.help)).partition("\f")[0]
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = []
        for param in self.get_params(ctx):
            if isinstance(param, click.Argument):
                continue
            record = _option_record(param, ctx) if isinstance(param, click.Option) else param.get_help_record(ctx)
            if record is not None:
                records.append(record)
        if records:
            with formatter.section(_("Options")):
                formatter.write_dl(records)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


def _option_record(option: click.Option, ctx: click.Context) -> tuple[str, str] | None:
    """``click.Option.get_help_record`` with the help and the bracketed notes in the current language."""
    if option.hidden:
        return None
    text = _(option.help) if option.help else ""
    extra = option.get_help_extra(ctx)
    notes = []
    if "envvars" in extra:
        notes.append(_("env var: {var}").format(var=", ".join(extra["envvars"])))
    if "default" in extra:
        notes.append(_("default: {default}").format(default=extra["default"]))
    if "range" in extra:
        notes.append(extra["range"])
    if "required" in extra:
        notes.append(_("required"))
    if notes:
        text = f"{text}  [{'; '.join(notes)}]" if text else f"[{'; '.join(notes)}]"
    return option.get_help_spec(ctx), text
