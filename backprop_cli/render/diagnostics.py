"""Gradient diagnostics as tables: for ``backprop train``'s summary and ``backprop trace --diagnostics``.

Pure layout over :mod:`backprop_cli.nn.diagnostics`; numbers go through NumberFormat.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backprop_cli.model.numbers import NumberFormat
from backprop_cli.nn.diagnostics import ORDERS, SATURATION, THRESHOLD, LayerStats, describe_flow, flow
from backprop_cli.render.fit import Fitting, column_style


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def diagnostics_table(
    rows: Sequence[tuple[LayerStats, ...]],
    fmt: NumberFormat,
    *,
    title: str,
    labels: Sequence[str] = (),
    caption: str = "",
) -> Fitting:
    """One row per layer (and per label, e.g. a step): gradient norm, update ratio, dead and saturated shares."""

    def build(whole: bool) -> Table:
        table = Table(
            title=Text(title, style="bold"),
            title_justify="left",
            caption=Text(caption) if caption else None,
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
        )
        if labels:
            table.add_column("step", justify="right", overflow="fold")  # "mean of 500" may wrap
        for name in ("layer", "activation"):
            table.add_column(name, **column_style(whole))  # type: ignore[arg-type]
        for name in ("‖∂L/∂W‖", "‖ΔW‖/‖W‖", "dead ReLU", "saturated"):
            table.add_column(name, justify="right", **column_style(whole))  # type: ignore[arg-type]
        for k, stats in enumerate(rows):
            for s in stats:
                cells = [Text(labels[k])] if labels else []
                cells += [
                    Text(s.layer, style="cyan"),
                    Text(s.activation),
                    Text(fmt(s.grad_norm)),
                    Text("" if s.update_ratio is None else fmt(s.update_ratio)),
                    Text(_share(s.dead_relu)),
                    Text(_share(s.saturated)),
                ]
                table.add_row(*cells)
        return table

    return Fitting(build)


DIAGNOSTICS_NOTE = (
    "‖∂L/∂W‖: norm of the layer's weight gradient; ‖ΔW‖/‖W‖: the step's change relative to the weights "
    "(about 1e-3 is healthy); dead ReLU: share of relu units with z ≤ 0 on every sample of the batch; "
    f"saturated: share of sigmoid outputs outside [{1 - SATURATION:.2f}, {SATURATION}] or tanh outputs "
    f"beyond ±{SATURATION}. Vanishing/exploding: first versus last layer's ‖∂L/∂W‖, flagged at "
    f"{ORDERS} orders of magnitude ({THRESHOLD:g}×)."
)


class StepTables:
    """The diagnostics tables of a traced run's steps, as :class:`~backprop_cli.layout.diagnostics.Tap`
    collects them: the explanation under the first table only."""

    def __init__(self) -> None:
        self._noted = False

    def tables(
        self, ready: Sequence[tuple[int, Sequence[LayerStats]]], fmt: NumberFormat, steps: frozenset[int] = frozenset()
    ) -> list[RenderableType]:
        """The tables of the ``ready`` steps that ``steps`` chooses (all when empty)."""
        out = []
        for k, s in ready:
            if not steps or k in steps:
                out.append(step_table(k, s, fmt, note=not self._noted))
                self._noted = True
        return out


def step_table(step: int, stats: Sequence[LayerStats], fmt: NumberFormat, *, note: bool = True) -> RenderableType:
    """One traced step's diagnostics: the table, then the vanishing/exploding verdict in words."""
    table = diagnostics_table(
        [tuple(stats)], fmt, title=f"Gradient diagnostics · step {step}", caption=DIAGNOSTICS_NOTE if note else ""
    )
    f = flow(stats)
    verdict = Text(describe_flow(f, fmt) if f is not None else "one layer: no first-versus-last gradient comparison")
    return Group(table, verdict)
