"""The one way text reaches a terminal: a rich Console that no user text can drive, and plain lines.

Descriptions, file names, CSV class labels and expression comments are the user's text; an ESC or
OSC sequence in one would clear the screen or set the window title when printed raw. Every terminal
renderer prints through :class:`SafeConsole` (tables, headers, notices, prompts, progress) or
:func:`backprop_cli.render.printable` (one-line messages), which drop the characters that make a terminal act rather
than print: C0 controls but tab and newline, DEL, C1 controls (U+0080–U+009F: CSI, OSC …) and the
bidirectional overrides that reorder what is shown. rich measures them as zero cells wide, so
dropping them after layout leaves every column where rich put it; rich's own styles and cursor
moves are control segments, kept.

Lines lose the spaces rich pads them with (spaces that show nothing: a cell with a background colour
stays), so piped and committed traces pass ``git diff --check``, and ``--color`` adds styles and no
characters. An unfinished line (a prompt) keeps its spaces: the cursor waits after them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook, RenderResult
from rich.segment import Segment

from backprop_cli.render import printable


def _cleaned(segments: Iterable[Segment]) -> Iterator[Segment]:
    """The segments with user text made printable, and without invisible spaces at the ends of lines."""
    line: list[Segment] = []
    for segment in segments:
        if segment.control:
            line.append(segment)
            continue
        *ends, rest = printable(segment.text).split("\n")
        for end in ends:
            yield from _trimmed([*line, Segment(end, segment.style)])
            yield Segment("\n", segment.style)
            line = []
        line.append(Segment(rest, segment.style))
    yield from line  # an unfinished line (a prompt) keeps its spaces: the cursor waits after them


def _invisible(segment: Segment) -> bool:
    """Spaces that show nothing: no background, no reverse, underline or strike (a coloured cell stays)."""
    style = segment.style
    return not segment.control and (
        style is None or not (style.bgcolor or style.reverse or style.underline or style.strike or style.overline)
    )


def _trimmed(line: list[Segment]) -> Iterator[Segment]:
    while line and _invisible(line[-1]) and not line[-1].text.rstrip(" "):
        line.pop()
    if line and _invisible(line[-1]):
        last = line.pop()
        line.append(Segment(last.text.rstrip(" "), last.style))
    yield from line


class _Printable:
    """Renders what it wraps, then cleans the segments (see ``_cleaned``)."""

    def __init__(self, renderables: Sequence[ConsoleRenderable]) -> None:
        self.renderables = renderables

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for renderable in self.renderables:
            yield from _cleaned(console.render(renderable, options))


class _Hook(RenderHook):
    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Printable(renderables)]


class SafeConsole(Console):
    """A rich Console whose output no user text can drive, without the spaces rich pads lines with."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.push_render_hook(_Hook())

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """rich's ``print``; where no styles are written, one renderable that fit.py lays out as rich would
        (render/fit.py ``plain_lines``) is written as those lines, without rich's per-segment rendering.
        Those lines are already printable and without the spaces that end a line (``_cleaned``'s work)."""
        if len(objects) == 1 and not kwargs:
            from backprop_cli.render.fit import plain_lines

            lines = plain_lines(self, objects[0], self.width)
            if lines is not None:
                with self:  # rich's own buffer: recording, quiet and a broken pipe are handled as in print
                    self._buffer.append(Segment("".join(f"{line}\n" for line in lines)))
                return
        super().print(*objects, **kwargs)


def make_console(
    stream: Any, width: int | None = None, color: bool | None = None, *, min_width: int = 1
) -> SafeConsole:
    """The one console factory. Stdout gets colour on a terminal (unless piped, NO_COLOR is set, or
    ``color`` is False; True forces it); a terminal or COLUMNS narrower than ``min_width`` gets
    ``min_width`` (rich cannot lay a table out in 1-3 columns). Any other stream (a file, stderr, a
    StringIO) gets plain text laid out at ``width`` or 120 columns; stderr keeps rich's own terminal
    detection (a progress bar shows on a terminal only). Emoji codes stay as written (a name like
    ``x:y:``), and rich's highlighter is off: the tables choose every style."""
    if stream is sys.stdout:
        console = SafeConsole(
            file=stream,
            width=width,
            force_terminal=True if color else None,
            color_system=None if color is False else "auto",
            highlight=False,
            emoji=False,
        )
        if console.width < min_width:
            console.width = min_width
        return console
    if stream is sys.stderr:
        return SafeConsole(file=stream, width=width, highlight=False, emoji=False)
    return SafeConsole(file=stream, width=width or 120, color_system=None, highlight=False, emoji=False)
