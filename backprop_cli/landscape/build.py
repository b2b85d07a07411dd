"""From a config and the command's choices to a :class:`~backprop_cli.landscape.model.Landscape`.

Order of work: run every variant (the paths), pick the held point from the first run, build the
plane, check the grid against its budget, then evaluate the grid and the paths' points in one
vectorised pass each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backprop_cli.errors import ConfigError
from backprop_cli.landscape import directions, grid, runs
from backprop_cli.landscape.model import Axis, Journey, Landscape
from backprop_cli.model.spec import Array, NetworkSpec


@dataclass(frozen=True)
class Request:
    x: str | None = None
    y: str | None = None
    direction: str | None = None  # None: axes (the two parameters the first step moves most by default)
    points: int = grid.DEFAULT_GRID
    span: float | None = None
    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None
    step: int | None = None  # None: 0 for axes, the first run's last step for random and pca
    batch: bool = False  # the held step's batch instead of all data rows
    seed: int = 0


def journey(spec: NetworkSpec, run: runs.Run, coords: Array, loss: Array, surface: Array) -> Journey:
    optimizer = {"name": run.variant.optimizer.name, "learning_rate": run.variant.optimizer.learning_rate}
    optimizer |= dict(run.variant.optimizer.options)
    batch = run.variant.batch_size or spec.training.batch_size or spec.data.rows
    return Journey(
        run.variant.label,
        optimizer,
        min(batch, spec.data.rows),
        coords,
        loss,
        surface,
        run.scheduled,
        run.fault,
        run.fault_step,
    )


def build(spec: NetworkSpec, request: Request, variants: Sequence[runs.Variant]) -> Landscape:
    plan = runs.layout(spec)
    direction = request.direction or "axes"
    if direction != "axes" and (request.x or request.y):
        raise ConfigError(f"--x/--y with --direction {direction}; expected one of them", path="--direction")
    if request.y is not None and request.x is None:
        raise ConfigError("--y without --x; expected --x NAME (alone: the loss curve over one parameter)", path="--y")
    done = [runs.run(spec, chosen) for chosen in variants]
    first = done[0]
    step = request.step if request.step is not None else (0 if direction == "axes" else first.steps_done)
    if step > first.steps_done:
        ran = (
            f"diverged at step {first.fault_step}, so {first.steps_done}" if first.fault_step else str(first.steps_done)
        )
        raise ConfigError(f"step {step} is past the end; the first run has {ran} step(s) to hold at", path="--step")
    held = first.points[step]
    notes: list[str] = []
    if direction == "axes":
        x, y = request.x, request.y
        if x is None:
            x, y = _most_moved(plan, first)
            chosen = " and ".join(n for n in (x, y) if n)
            notes.append(
                f"{chosen}: the parameter{'s' * (y is not None)} the first step moves most (choose with --x, --y)"
            )
        plane = directions.axes(plan, held, x, y)
    elif direction == "random":
        plane = directions.random(plan, held, request.seed, curve=False)
    else:
        if request.step is not None and request.step != first.steps_done:
            raise ConfigError("--step with --direction pca; the PCA plane is centred on the path's end", path="--step")
        plane = directions.pca(first.points, curve=False)
    if plane.note:
        notes.append(plane.note)
    rows = _rows(spec, variants[0], step, request.batch)
    surface = plane.d2 is not None
    grid.check_grid(request.points, surface, len(rows), plan.size)
    coords = [plane.coords(r.points) for r in done]
    held_at = plane.coords(held[None])[0]
    xs = _axis(request, 0, held_at, coords, direction)
    ys = _axis(request, 1, held_at, coords, direction) if surface else None
    if ys is None:
        loss = runs.plane_losses(spec, plane.centre, plane.d1, None, xs, None, rows)
    else:
        gx, gy = np.meshgrid(xs, ys)
        loss = runs.plane_losses(spec, plane.centre, plane.d1, plane.d2, gx.ravel(), gy.ravel(), rows)
        loss = loss.reshape(len(ys), len(xs))
    journeys = []
    for r, c in zip(done, coords, strict=True):
        on_plane = runs.plane_losses(
            spec, plane.centre, plane.d1, plane.d2, c[:, 0], None if ys is None else c[:, 1], rows
        )
        journeys.append(journey(spec, r, c, runs.losses_at(spec, r.points, rows), on_plane))
    g = runs.gradient(spec, first.points[0], rows)
    gradient = None
    if g is not None:
        gradient = tuple(float(g @ d) for d in ([plane.d1] if plane.d2 is None else [plane.d1, plane.d2]))
    return Landscape(
        source=spec.source,
        direction=direction,
        x=Axis(plane.x_label, plane.x_name, xs),
        y=None if ys is None else Axis(plane.y_label or "", plane.y_name, ys),
        loss=loss,
        levels=grid.levels(loss),
        held_step=step,
        rows=tuple(rows),
        all_rows=not request.batch,
        journeys=tuple(journeys),
        gradient=gradient,
        parameters=plan.size,
        notes=tuple(notes),
        loss_name=spec.loss.name,
    )


def _most_moved(plan: runs.Layout, first: runs.Run) -> tuple[str, str | None]:
    """The two parameters whose first step is largest (ties: the earlier name); one for a one-parameter network."""
    if plan.size == 1:
        return plan.names[0], None
    moved = np.abs(first.points[1] - first.points[0]) if first.steps_done else np.zeros(plan.size)
    order = sorted(range(plan.size), key=lambda i: (-moved[i], plan.frozen[i], i))
    return plan.names[order[0]], plan.names[order[1]]


def _rows(spec: NetworkSpec, chosen: runs.Variant, step: int, batch: bool) -> list[int]:
    if not batch:
        return list(range(spec.data.rows))
    schedule = runs.schedule(runs.variant_spec(spec, chosen))
    if step >= len(schedule):
        raise ConfigError(
            f"--batch at step {step}: the run has no step {step + 1} to take a batch from", path="--batch"
        )
    return list(schedule[step])


def _axis(request: Request, which: int, held: Array, coords: list[Array], direction: str) -> Array:
    explicit = request.x_range if which == 0 else request.y_range
    if explicit is not None:
        low, high = explicit
    elif request.span is not None:
        low, high = grid.span_range(float(held[which]), request.span)
    else:
        values = [float(held[which])] + [float(v) for c in coords for v in c[:, which]]
        low, high = grid.default_range(values, at_least=(-1.0, 1.0) if direction == "random" else None)
    return grid.axis(low, high, request.points)
