"""The terminal trace as an SVG image (for READMEs and slides), exported through rich.

The same renderables as ``backprop trace`` on a terminal (:mod:`backprop_cli.render.terminal`),
recorded by a Console and exported with a fixed title and id, so the same config gives the same bytes.
The web-font references rich adds are dropped: the image uses the viewer's monospace font and
fetches nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TextIO

from rich.console import RenderableType
from rich.terminal_theme import SVG_EXPORT_THEME, TerminalTheme

from backprop_cli.layout.document import Document, TraceJob
from backprop_cli.render.console import SafeConsole
from backprop_cli.render.terminal import expression_outputs, run_summary, trace_outputs

DEFAULT_WIDTH = 100
# printed and projected: dark text on white, the ANSI colours deep enough to read on it (cyan names,
# yellow notices); ``--theme dark`` is rich's own export theme
LIGHT = TerminalTheme(
    (255, 255, 255),
    (36, 41, 47),
    [
        (36, 41, 47),
        (164, 14, 38),
        (17, 99, 41),
        (125, 78, 0),
        (9, 105, 218),
        (130, 80, 223),
        (0, 110, 130),
        (87, 96, 106),
    ],
    [
        (87, 96, 106),
        (207, 34, 46),
        (26, 127, 55),
        (154, 103, 0),
        (33, 139, 255),
        (163, 113, 247),
        (0, 128, 150),
        (140, 149, 159),
    ],
)
THEMES = {"light": LIGHT, "dark": SVG_EXPORT_THEME}
_FONT_FACE = re.compile(r"\s*@font-face \{.*?\}\n", re.S)


def _console(width: int | None) -> SafeConsole:
    return SafeConsole(
        file=io.StringIO(),
        record=True,
        width=width or DEFAULT_WIDTH,
        force_terminal=True,
        color_system="truecolor",
        highlight=False,
        legacy_windows=False,
        _environ={},  # ignore COLUMNS, NO_COLOR and FORCE_COLOR: the image depends on the config alone
    )


def _export(console: SafeConsole, theme: str = "light") -> str:
    svg = console.export_svg(title="backprop trace", unique_id="backprop-trace", theme=THEMES[theme])
    return _FONT_FACE.sub("", svg)


def image(renderables: Iterable[RenderableType], width: int | None = None, theme: str = "light") -> str:
    """Renderables as the SVG image of a terminal ``width`` columns wide, in ``theme`` (light or dark)."""
    console = _console(width)
    for renderable in renderables:
        console.print(renderable)
    return _export(console, theme)


def render(job: TraceJob) -> str:
    console = _console(job.width)
    capped = False
    pieces = trace_outputs(
        job.spec,
        job.records,
        steps=job.total,
        fmt=job.fmt,
        only=job.only,
        max_rows=job.max_rows,
        exact=job.exact,
        chosen_rows=job.chosen_rows,
        step_rows=job.step_rows,
    )
    for piece in pieces:
        console.print(piece.renderable)
        capped = capped or piece.notice
    if job.total > 1 and not job.only.steps and not capped:
        console.print(run_summary(job.loss_before, job.loss_after(), job.total, job.fmt))
    return _export(console, job.theme)


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(render(job))


def write_document(doc: Document, stream: TextIO, width: int | None = None) -> None:
    """An expression's trace (a Document with its program) as the terminal shows it, as an image."""
    stream.write(image(expression_outputs(doc), width, doc.theme))
