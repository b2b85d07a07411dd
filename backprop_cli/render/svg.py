"""The terminal trace as an SVG image (for READMEs and slides), exported through rich.

The same renderables as ``backprop trace`` on a terminal (:mod:`backprop_cli.render.terminal`),
recorded by a Console and exported with a fixed title and id, so the same config gives the same bytes.
The web-font references rich adds are dropped: the image uses the viewer's monospace font and
fetches nothing.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

from backprop_cli.layout.document import TraceJob
from backprop_cli.render.console import SafeConsole
from backprop_cli.render.terminal import run_summary, trace_outputs

DEFAULT_WIDTH = 100
_FONT_FACE = re.compile(r"\s*@font-face \{.*?\}\n", re.S)


def render(job: TraceJob) -> str:
    console = SafeConsole(
        file=io.StringIO(),
        record=True,
        width=job.width or DEFAULT_WIDTH,
        force_terminal=True,
        color_system="truecolor",
        highlight=False,
        legacy_windows=False,
        _environ={},  # ignore COLUMNS, NO_COLOR and FORCE_COLOR: the image depends on the config alone
    )
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
    svg = console.export_svg(title="backprop trace", unique_id="backprop-trace")
    return _FONT_FACE.sub("", svg)


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(render(job))
