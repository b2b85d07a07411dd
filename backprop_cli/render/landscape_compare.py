"""``backprop compare`` in the terminal: the runs' loss curves on one chart, a results table, the final parameters.

Pure layout over a :class:`~backprop_cli.landscape.model.Comparison`. Each run is drawn with its
letter (A, B, …; coloured when colour is on), so the plain text tells the curves apart too. The loss
axis is logarithmic when every loss is positive and they span a factor of 10 or more.
"""

from __future__ import annotations

import math

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from backprop_cli.landscape.model import Comparison
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.render.landscape_canvas import LABEL, RUN_LETTERS, RUN_STYLES, Canvas

CHART_ROWS = 14


def comparison_text(result: Comparison, fmt: NumberFormat, width: int, max_rows: int) -> list[RenderableType]:
    out: list[RenderableType] = [Text(f"backprop compare · {result.source}: {result.loss_name} loss on all data rows")]
    out += _chart(result, fmt, width)
    out.append(_results(result, fmt))
    out.append(_parameters(result, fmt, max_rows))
    return out


def _chart(result: Comparison, fmt: NumberFormat, width: int) -> list[RenderableType]:
    finite = [float(v) for c in result.contests for v in c.journey.loss if math.isfinite(v)]
    if not finite:
        return [Text("no finite loss to draw")]
    low, high = min(finite), max(finite)
    log = low > 0 and high / low >= 10

    def scale(v: float) -> float:
        return math.log10(v) if log else v

    top, bottom = fmt(high), fmt(low)
    gutter = max(len(top), len(bottom)) + 2
    columns = width - gutter - 1
    last = max(c.journey.steps_done for c in result.contests) or 1
    canvas = Canvas(columns, CHART_ROWS)
    span = scale(high) - scale(low)
    for index, contest in enumerate(result.contests):
        for step, value in enumerate(contest.journey.loss):
            if not math.isfinite(value):
                continue
            c = round(step / last * (columns - 1))
            r = round((scale(float(value)) - scale(low)) / span * (CHART_ROWS - 1)) if span > 0 else CHART_ROWS // 2
            # a later run's letter does not hide an earlier one's: each cell keeps its first letter
            canvas.put(c, CHART_ROWS - 1 - r, RUN_LETTERS[index], RUN_STYLES[index], LABEL)
    lines: list[RenderableType] = []
    for index, line in enumerate(canvas.lines()):
        tick = top if index == 0 else bottom if index == CHART_ROWS - 1 else None
        left = f"{tick.rjust(gutter - 2)} ┤" if tick is not None else " " * (gutter - 2) + " │"
        lines.append(Text(left) + line)
    lines.append(Text(" " * (gutter - 1) + "└" + "─" * columns))
    axis = "0" + str(last).rjust(columns - 1)
    lines.append(Text(" " * gutter + axis))
    lines.append(Text(" " * gutter + f"step{'; loss axis: log scale' if log else ''}"))
    legend = Text()
    for index, contest in enumerate(result.contests):
        legend.append(RUN_LETTERS[index], style=RUN_STYLES[index])
        legend.append(f" {contest.journey.label}" + ("; " if index < len(result.contests) - 1 else ""))
    lines.append(legend)
    return lines


def _results(result: Comparison, fmt: NumberFormat) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    table.title = f"steps to a loss ≤ {fmt(result.threshold)} ({result.threshold_text})"
    for heading in (
        "run",
        "optimizer",
        "η",
        "batch",
        "steps",
        "loss before",
        "final loss",
        "lowest",
        "steps to threshold",
    ):
        table.add_column(heading, justify="left" if heading in ("run", "optimizer") else "right")
    for index, contest in enumerate(result.contests):
        path = contest.journey
        finite = [float(v) for v in path.loss if math.isfinite(v)]
        reached = "—" if contest.steps_to_threshold is None else str(contest.steps_to_threshold)
        steps = f"{path.steps_done} of {path.scheduled}" if path.diverged else str(path.steps_done)
        rate = path.optimizer.get("learning_rate")
        table.add_row(
            Text(RUN_LETTERS[index], style=RUN_STYLES[index]),
            Text(str(path.optimizer["name"])),
            fmt(float(rate)) if isinstance(rate, int | float) else "",
            str(path.batch_size),
            steps,
            fmt(float(path.loss[0])),
            fmt(float(path.loss[-1])),
            fmt(min(finite)) if finite else "—",
            reached,
        )
    stopped = [
        f"{RUN_LETTERS[i]} {c.journey.diverged} ({c.journey.fault})"
        for i, c in enumerate(result.contests)
        if c.journey.diverged
    ]
    if stopped:
        table.caption = "; ".join(stopped)
        table.caption_justify = "left"
    return table


def _parameters(result: Comparison, fmt: NumberFormat, max_rows: int) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    table.title = "final parameters"
    table.add_column("name")
    table.add_column("start", justify="right")
    for index in range(len(result.contests)):
        table.add_column(Text(RUN_LETTERS[index], style=RUN_STYLES[index]), justify="right")
    shown = result.names if max_rows == 0 else result.names[:max_rows]
    for name in shown:
        table.add_row(Text(name), fmt(result.start[name]), *[fmt(c.final[name]) for c in result.contests])
    if len(shown) < len(result.names):
        table.caption = (
            f"{len(shown)} of {len(result.names)} parameters (--max-rows 0 for all; --format json has every one)"
        )
        table.caption_justify = "left"
    return table
