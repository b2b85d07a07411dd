"""Landscapes and comparisons as images (SVG, PNG), drawn with matplotlib, the field's standard for contour plots.

matplotlib is imported here only, when an image is asked for, so no other command pays for it. It is
used without pyplot (a ``Figure`` on an explicit Agg canvas: no global state, no display), on a
light theme, with settings that make the bytes depend on the data alone: a fixed SVG hash salt and
id, text drawn as paths in DejaVu Sans (which ships with matplotlib, so no viewer's fonts matter),
and no date or creator in the metadata. The same data and matplotlib version give the same bytes.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop_cli.landscape.model import Comparison, Journey, Landscape
from backprop_cli.model.numbers import NumberFormat

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The runs' colours, in the terminal's order (render/landscape_canvas.RUN_STYLES).
COLORS = ("#d62728", "#c2189b", "#ff7f0e", "#2ca02c", "#1f3fb4", "#17becf", "#222222", "#bcbd22")
SIZE = (7.2, 5.4)  # inches
DPI = 100
LABEL = NumberFormat(3)
SETTINGS: dict[str, Any] = {
    "svg.hashsalt": "backprop-landscape",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.edgecolor": "0.3",
}


@contextmanager
def _settings() -> Iterator[None]:
    import matplotlib

    chosen = dict(SETTINGS)
    if "svg.id" in matplotlib.rcParams:  # matplotlib ≥ 3.8: the root element's id
        chosen["svg.id"] = "backprop-landscape"
    with matplotlib.rc_context(chosen):  # type: ignore[arg-type]  # keys checked by matplotlib at run time
        yield


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def data_digest(document: dict[str, Any]) -> str:
    """The SHA-256 of a picture's JSON document (as ``--format json`` writes it), recorded in its SVG."""
    import hashlib

    from backprop_cli.render.landscape_json import dumps

    return hashlib.sha256(dumps(document).encode("utf-8")).hexdigest()


def _svg(figure: Figure, title: str, digest: str) -> str:
    import matplotlib

    buffer = io.StringIO()
    # the data's digest and matplotlib's version: what the README images' staleness check compares
    description = f"drawn with matplotlib {matplotlib.__version__} from data sha256 {digest}"
    metadata = {"Date": None, "Creator": None, "Title": title, "Description": description}
    figure.savefig(buffer, format="svg", metadata=metadata)
    return buffer.getvalue()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _title(axes: Axes, head: str, lines: list[str]) -> None:
    text = "\n".join(textwrap.fill(line, 110) for line in lines if line)
    axes.set_title(head + ("\n" + text if text else ""), fontsize=8, loc="left")


def _numbered(path: Journey) -> list[int]:
    """The steps written beside their points: all of them up to 15, else about a dozen and the last."""
    n = path.steps_done
    every = 1 if n <= 15 else math.ceil(n / 12)
    return sorted({*range(0, n + 1, every), n})


def _path_label(path: Journey) -> str:
    return path.label + (f" ({path.diverged})" if path.diverged else "")


def _landscape_figure(view: Landscape) -> Figure:
    figure, axes = _figure()
    xs = view.x.values
    if view.y is None:
        axes.plot(xs, view.loss, color="0.35", linewidth=1.4, label=f"loss over {view.x.label}")
        axes.set_ylabel(f"loss ({view.loss_name})")
        ys_of = [path.surface for path in view.journeys]
    else:
        ys = view.y.values
        values = np.ma.masked_invalid(view.loss)
        if view.levels:
            bounds = [float(values.min()), *view.levels, float(values.max())]
            filled = axes.contourf(xs, ys, values, levels=bounds, cmap="YlGnBu", alpha=0.9)
            lines = axes.contour(xs, ys, values, levels=list(view.levels), colors="0.35", linewidths=0.6)
            axes.clabel(lines, fmt=LABEL, fontsize=7)
            figure.colorbar(
                filled, ax=axes, label=f"loss ({view.loss_name})", format=lambda value, _position: LABEL(value)
            )
        else:
            axes.pcolormesh(xs, ys, values, cmap="YlGnBu", shading="nearest")
        axes.set_ylabel(view.y.label)
        axes.set_ylim(float(ys[0]), float(ys[-1]))
        ys_of = [path.coords[:, 1] for path in view.journeys]
    for index, (path, py) in enumerate(zip(view.journeys, ys_of, strict=True)):
        color = COLORS[index % len(COLORS)]
        px = path.coords[:, 0]
        axes.plot(px, py, "-o", color=color, markersize=4, linewidth=1.2, label=_path_label(path), zorder=3)
        for k in _numbered(path):
            axes.annotate(
                str(k), (px[k], py[k]), xytext=(4, 4), textcoords="offset points", fontsize=7, color=color, zorder=4
            )
    _arrow(view, axes, ys_of[0][0] if ys_of else None)
    axes.set_xlabel(view.x.label)
    axes.set_xlim(float(xs[0]), float(xs[-1]))
    axes.legend(fontsize=7, loc="upper right", framealpha=0.9)
    _title(
        axes,
        f"backprop landscape · {view.source}: {view.loss_name} loss on {view.rows_text}",
        [view.held_text, *view.notes],
    )
    return figure


def _arrow(view: Landscape, axes: Axes, start_y: float | None) -> None:
    """−∇L at the start, a fixed share of the picture long, in the direction it points on screen."""
    if view.gradient is None or not any(view.gradient) or start_y is None:
        return
    first = view.journeys[0]
    x0, y0 = float(first.coords[0, 0]), float(start_y)
    x_span = float(view.x.values[-1] - view.x.values[0])
    if view.y is not None:
        y_span = float(view.y.values[-1] - view.y.values[0])
        u, v = -view.gradient[0] / x_span, -view.gradient[1] / y_span
    else:
        u, v = -view.gradient[0] / x_span, 0.0
    length = math.hypot(u, v)
    if not math.isfinite(length) or length == 0:
        return
    dx = u / length * 0.12 * x_span
    dy = 0.0 if view.y is None else v / length * 0.12 * float(view.y.values[-1] - view.y.values[0])
    axes.annotate(
        "−∇L",
        xy=(x0 + dx, y0 + dy),
        xytext=(x0, y0),
        fontsize=8,
        color="black",
        zorder=5,
        arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.4},
    )


def _comparison_figure(result: Comparison) -> Figure:
    figure, axes = _figure()
    finite = [v for c in result.contests for v in c.journey.loss if math.isfinite(v)]
    log = bool(finite) and min(finite) > 0 and max(finite) / min(finite) >= 10
    for index, contest in enumerate(result.contests):
        path = contest.journey
        color = COLORS[index % len(COLORS)]
        loss = np.where(np.isfinite(path.loss), path.loss, np.nan)
        axes.plot(
            np.arange(len(loss)),
            loss,
            "-",
            color=color,
            linewidth=1.4,
            label=_path_label(path),
            marker="o" if len(loss) <= 30 else None,
            markersize=3,
        )
        if contest.steps_to_threshold is not None:
            k = contest.steps_to_threshold
            axes.plot([k], [loss[k]], "v", color=color, markersize=7)
    if log:
        axes.set_yscale("log")
    if math.isfinite(result.threshold) and (not log or result.threshold > 0):
        axes.axhline(
            result.threshold, color="0.4", linestyle="--", linewidth=0.8, label=f"threshold {LABEL(result.threshold)}"
        )
    axes.set_xlabel("step")
    axes.set_ylabel(f"loss on all data ({result.loss_name})" + (", log scale" if log else ""))
    axes.legend(fontsize=7, loc="upper right", framealpha=0.9)
    axes.grid(True, color="0.9", linewidth=0.6)
    _title(axes, f"backprop compare · {result.source}", ["▼: the first step at or below the threshold"])
    return figure


def landscape_svg(view: Landscape) -> str:
    from backprop_cli.render.landscape_json import landscape_dict

    with _settings():
        return _svg(_landscape_figure(view), f"backprop landscape · {view.source}", data_digest(landscape_dict(view)))


def landscape_png(view: Landscape) -> bytes:
    with _settings():
        return _png(_landscape_figure(view))


def comparison_svg(result: Comparison) -> str:
    from backprop_cli.render.landscape_json import comparison_dict

    with _settings():
        title = f"backprop compare · {result.source}"
        return _svg(_comparison_figure(result), title, data_digest(comparison_dict(result)))


def comparison_png(result: Comparison) -> bytes:
    with _settings():
        return _png(_comparison_figure(result))
