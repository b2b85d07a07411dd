"""Landscapes and comparisons as versioned JSON documents, so a course can plot them its own way.

Floats are written at full precision (repr round-trip); a value that is not finite (an overflowing
loss) is ``null``, since JSON has no infinity.
"""

from __future__ import annotations

import json
import math
from typing import Any

from backprop_cli.landscape.model import Comparison, Journey, Landscape
from backprop_cli.model import formats
from backprop_cli.model.spec import Array

LANDSCAPE_VERSION = 1
COMPARE_VERSION = 1


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _numbers(values: Array) -> list[Any]:
    if values.ndim > 1:
        return [_numbers(row) for row in values]
    return [_number(v) for v in values.tolist()]


def _journey(path: Journey, axes: int) -> dict[str, Any]:
    points = []
    for k in range(path.steps_done + 1):
        point: dict[str, Any] = {"step": k}
        if axes:
            point["x"] = _number(float(path.coords[k, 0]))
        if axes > 1:
            point["y"] = _number(float(path.coords[k, 1]))
        point["loss"] = _number(float(path.loss[k]))
        if axes:
            point["on_plane"] = _number(float(path.surface[k]))
        points.append(point)
    out: dict[str, Any] = {
        "label": path.label,
        "optimizer": dict(path.optimizer),
        "batch_size": path.batch_size,
        "steps": path.steps_done,
        "scheduled": path.scheduled,
        "diverged": None if path.fault_step is None else {"step": path.fault_step, "fault": path.fault},
        "points": points,
    }
    return out


def landscape_dict(view: Landscape) -> dict[str, Any]:
    """``{"format": "backprop-landscape", "version": 1, …}``: the grid, its levels and the paths.

    ``loss`` is indexed ``[y][x]`` (rows of equal y) for a surface, ``[x]`` for a curve. Each path point
    has its coordinates, ``loss`` (L(θ_k) on the landscape's rows) and ``on_plane`` (the drawn landscape
    where θ_k projects: the two differ where parameters off the plane moved).
    """
    axes = 1 if view.y is None else 2

    def axis(a: Any) -> dict[str, Any]:
        return {"label": a.label, "name": a.name, "values": _numbers(a.values)}

    return {
        "format": formats.LANDSCAPE,
        "version": LANDSCAPE_VERSION,
        "config": view.source,
        "kind": view.kind,
        "direction": view.direction,
        "loss_function": view.loss_name,
        "held_step": view.held_step,
        "rows": list(view.rows),
        "all_rows": view.all_rows,
        "parameters": view.parameters,
        "x": axis(view.x),
        "y": None if view.y is None else axis(view.y),
        "loss": _numbers(view.loss),
        "levels": list(view.levels),
        "gradient_at_start": None if view.gradient is None else [_number(g) for g in view.gradient],
        "notes": list(view.notes),
        "paths": [_journey(path, axes) for path in view.journeys],
    }


def comparison_dict(result: Comparison) -> dict[str, Any]:
    """``{"format": "backprop-compare", "version": 1, …}``: every run's loss per step and its final parameters."""
    runs = []
    for contest in result.contests:
        path = contest.journey
        runs.append(
            {
                "label": path.label,
                "optimizer": dict(path.optimizer),
                "batch_size": path.batch_size,
                "steps": path.steps_done,
                "scheduled": path.scheduled,
                "diverged": None if path.fault_step is None else {"step": path.fault_step, "fault": path.fault},
                "loss": _numbers(path.loss),
                "batch_loss": [_number(v) for v in contest.batch_losses],
                "steps_to_threshold": contest.steps_to_threshold,
                "final_loss": _number(float(path.loss[-1])),
                "final_parameters": dict(contest.final_tensors),
            }
        )
    return {
        "format": formats.COMPARE,
        "version": COMPARE_VERSION,
        "config": result.source,
        "loss_function": result.loss_name,
        "threshold": result.threshold,
        "threshold_from": result.threshold_text,
        "start": dict(result.start),
        "runs": runs,
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, allow_nan=False) + "\n"
