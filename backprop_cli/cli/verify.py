"""``backprop verify NOTES...``: the tagged numbers of a course's lecture notes, recomputed and compared."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from backprop_cli.cli.help import TranslatedHelp
from backprop_cli.cli.kit import handle_errors, output_option
from backprop_cli.errors import ConfigError
from backprop_cli.model.i18n import N_

if TYPE_CHECKING:
    from backprop_cli.homework.notes import Tag

MAX_NOTE_BYTES = 8 * 1024 * 1024  # a note file larger than this is refused before it is read
MAX_CONFIGS = 32  # distinct configs one run traces (each bounded as `backprop trace` bounds it)


@click.command(
    cls=TranslatedHelp,
    short_help=N_("Check the numbers tagged in lecture notes against the trace."),
    help=N_("""Find the numbers tagged in NOTES (Markdown, HTML, LaTeX), recompute each from its config and
    name, and fail (exit 1) naming file:line:col where one no longer matches at its written precision.

    \b
    Tags (the config: a built-in example's name, or a file relative to the note):
      Markdown, HTML:  <!-- bp:classic_2_2_2 o.dL_dw1_1 -->0.0822
      LaTeX:           \\bp{classic_2_2_2}{o.dL_dw1_1}{0.0822}   (\\usepackage{backprop}: see --sty)

    \b
    Examples:
      backprop verify notes/*.md notes/*.tex
      backprop verify --fix lecture3.md
      backprop verify --sty -o backprop.sty
    """),
)
@click.argument("notes", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--fix", is_flag=True, help=N_("Rewrite each stale number with the trace's, at its written precision."))
@click.option("--sty", is_flag=True, help=N_("Write backprop.sty (the LaTeX package of \\bp) instead."))
@output_option(N_("With --sty: write the package to this file instead of stdout."))
@handle_errors
def verify(notes: tuple[str, ...], fix: bool, sty: bool, output: str | None) -> None:
    from backprop_cli.cli.output import open_output
    from backprop_cli.homework.notes import STY, find_tags, fixed, kind_of, matches, rewritten

    if sty:
        with open_output(output) as stream:
            stream.write(STY)
        return
    if output is not None:
        raise ConfigError("-o applies to --sty only; expected --sty, or no -o", path="--output")
    if not notes:
        raise click.UsageError("expected one or more NOTES files (or --sty)")
    traces = _Traces()
    stale, checked = 0, 0
    for note in notes:
        path = Path(note)
        text = _read(path)
        tags = find_tags(text, kind_of(path))
        _check_whole(path, text, tags)
        replacements = []
        for tag in tags:
            value = traces.value(path, tag)
            checked += 1
            if math.isfinite(value) and matches(tag.number, value):
                continue
            stale += 1
            now = rewritten(tag.number, value) if math.isfinite(value) else str(value)
            where = f"{note}:{tag.line}:{tag.col}: {tag.config} {tag.name}"
            if fix and math.isfinite(value):
                replacements.append((tag, now))
                click.echo(f"{where}: fixed {tag.number} -> {now}", file=sys.stdout)
            else:
                click.echo(
                    f"{where}: written {tag.number}, the trace has {value!r} ({now} as written)", file=sys.stdout
                )
        if replacements:
            with open_output(note, option="NOTES") as stream:
                stream.write(fixed(text, replacements))
    files = f"{len(notes)} file{'s' * (len(notes) != 1)}"
    if stale and not fix:
        from backprop_cli.homework.check import CheckFailed

        raise CheckFailed(f"{stale} of {checked} tagged numbers in {files} do not match the trace")
    verb = f"fixed {stale}, " if fix and stale else ""
    click.echo(f"ok: {verb}{checked} tagged number{'s' * (checked != 1)} in {files} match the trace", file=sys.stdout)


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as error:
        from backprop_cli.errors import os_reason

        raise ConfigError(f"cannot read it: {os_reason(error)}", file=str(path)) from None
    if size > MAX_NOTE_BYTES:
        raise ConfigError(f"{size:,} bytes; expected at most {MAX_NOTE_BYTES:,} for a note", file=str(path))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"not UTF-8 text (byte {error.start}); expected a UTF-8 note", file=str(path)) from None


def _check_whole(path: Path, text: str, tags: list[Tag]) -> None:
    from backprop_cli.homework.notes import broken_tags, kind_of

    for line, col in broken_tags(text, kind_of(path), tags):
        expected = "\\bp{CONFIG}{NAME}{NUMBER}" if kind_of(path) == "latex" else "<!-- bp:CONFIG NAME -->NUMBER"
        raise ConfigError(f"a tag without its number; expected {expected}", file=str(path), line=line, col=col)


class _Traces:
    """Each config's trace, run once: a built-in example by name, or a file beside the note."""

    def __init__(self) -> None:
        self.runs: dict[str, Any] = {}

    def value(self, note: Path, tag: Tag) -> float:
        from backprop_cli.model.names import closest_names

        trace = self._trace(note, tag)
        if tag.name not in trace:
            close = closest_names(tag.name, trace.names())
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigError(
                f"no quantity {tag.name!r} in the trace of {tag.config}{hint}",
                file=str(note),
                line=tag.line,
                col=tag.col,
            )
        return float(trace[tag.name].value)

    def _trace(self, note: Path, tag: Tag) -> Any:
        from backprop_cli import api
        from backprop_cli.loading.examples import example_names

        beside = note.parent / tag.config
        if beside.is_file():
            key = str(beside)
        elif tag.config in example_names():
            key = tag.config
        else:
            raise ConfigError(
                f"no config {tag.config!r}; expected a built-in example's name or a file beside the note",
                file=str(note),
                line=tag.line,
                col=tag.col,
            )
        if key not in self.runs:
            if len(self.runs) == MAX_CONFIGS:
                raise ConfigError(
                    f"more than {MAX_CONFIGS} configs; expected at most {MAX_CONFIGS} in one run",
                    file=str(note),
                    line=tag.line,
                    col=tag.col,
                )
            self.runs[key] = api.trace(key)
        return self.runs[key]
