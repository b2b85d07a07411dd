"""What a landscape picture or a comparison shows, as plain frozen data: renderers only lay it out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from backprop_cli.model.spec import Array


@dataclass(frozen=True)
class Journey:
    """One run's path: its points on the plane and their losses."""

    label: str
    optimizer: Mapping[str, object]  # {"name": …, "learning_rate": …}
    batch_size: int
    coords: Array  # (steps done + 1, 2), or (…, 1) for a curve: point k after k steps
    loss: Array  # (steps done + 1,): L(θ_k) on the landscape's rows (not finite: overflow)
    surface: Array  # (steps done + 1,): the drawn landscape at the point's projection
    scheduled: int
    fault: str | None  # the numerical fault that stopped the run
    fault_step: int | None

    @property
    def steps_done(self) -> int:
        return int(self.coords.shape[0]) - 1

    @property
    def diverged(self) -> str | None:
        """``diverged at step 7: drawn up to step 6`` (or None for a run that finished)."""
        if self.fault_step is None:
            return None
        return f"diverged at step {self.fault_step}: drawn up to step {self.steps_done}"


@dataclass(frozen=True)
class Axis:
    label: str  # the stable name, or the direction's description
    name: str | None  # the parameter's stable name (axes), else None
    values: Array  # the grid's coordinates, increasing


@dataclass(frozen=True)
class Landscape:
    source: str  # the config, as the trace names it
    direction: str  # axes, random or pca
    x: Axis
    y: Axis | None  # None: a one-parameter curve
    loss: Array  # (len(y), len(x)), or (len(x),) for a curve
    levels: tuple[float, ...]
    held_step: int  # the other parameters (or the plane's centre) are the first run's after this many steps
    rows: tuple[int, ...]  # 0-based data rows the loss is over
    all_rows: bool
    journeys: tuple[Journey, ...]
    gradient: tuple[float, ...] | None  # ∂L/∂(x, y) at the start, on the landscape's rows
    parameters: int  # in the network
    notes: tuple[str, ...]  # what the picture says besides (direction, default choices)
    loss_name: str

    @property
    def kind(self) -> str:
        return "curve" if self.y is None else "surface"

    @property
    def rows_text(self) -> str:
        if self.all_rows:
            return f"all {len(self.rows)} data row{'s' * (len(self.rows) != 1)}"
        shown = ", ".join(str(r + 1) for r in self.rows[:8]) + (", …" if len(self.rows) > 8 else "")
        return f"the batch of step {self.held_step + 1} (data row{'s' * (len(self.rows) != 1)} {shown})"

    @property
    def held_text(self) -> str:
        if self.direction != "axes":
            return ""
        others = self.parameters - (1 if self.y is None else 2)
        if others == 0:
            return ""
        when = "as configured" if self.held_step == 0 else f"after {self.held_step} step{'s' * (self.held_step != 1)}"
        return f"the other {others} parameter{'s' * (others != 1)} held at their values {when}"


@dataclass(frozen=True)
class Contest:
    """One run of ``backprop compare``."""

    journey: Journey
    batch_losses: tuple[float, ...]  # each step's batch loss, before its update
    steps_to_threshold: int | None
    final: Mapping[str, float]  # every parameter by its stable name, after the last finite step
    final_tensors: Mapping[str, Mapping[str, object]]  # the same in the trace JSON's layout


@dataclass(frozen=True)
class Comparison:
    source: str
    loss_name: str
    threshold: float
    threshold_text: str  # how the threshold was chosen
    contests: tuple[Contest, ...]
    names: tuple[str, ...]  # every parameter's stable name, in order
    start: Mapping[str, float]
