"""The plane a landscape is drawn over: two named parameters, or two directions through parameter space.

A plane is θ(α, β) = c + α·d₁ + β·d₂ (a curve has no d₂):

- ``axes``: d₁ = e_x, d₂ = e_y, and c is θ at the held step with its x and y entries set to 0, so that
  α and β *are* the two parameters' values and every other parameter keeps its held value;
- ``random``: Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets", §4: each direction is
  Gaussian, and then every filter (for a dense layer: row j, the weights into neuron j) is rescaled to
  the norm of the same filter in θ, d_j ← d_j·‖θ_j‖/‖d_j‖, so that the picture does not depend on the
  scale of each layer's weights; biases and frozen tensors get no direction (as in the authors' code).
  A filter whose weights are all 0 keeps a direction of norm 1 (rescaling would make it 0). c = θ at
  the held step.
- ``pca``: Li et al. §7: c = the path's last point θ_n, and d₁, d₂ are the first two principal
  directions of θ_k − θ_n (k < n), from the SVD; each says which share of the path's variance it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backprop_cli.errors import ConfigError
from backprop_cli.landscape.runs import Layout
from backprop_cli.model.spec import Array

DIRECTIONS = ("axes", "random", "pca")


@dataclass(frozen=True)
class Plane:
    kind: str  # one of DIRECTIONS
    centre: Array  # c
    d1: Array
    d2: Array | None  # None: a one-parameter curve
    x_label: str
    y_label: str | None
    x_name: str | None = None  # the stable names, for axes
    y_name: str | None = None
    note: str = ""  # what the picture says about its directions

    def coords(self, points: Array) -> Array:
        """Where θ_k falls on the plane: (K, 2) (or (K, 1)); for non-orthogonal directions the least-squares fit."""
        basis = np.stack([self.d1] if self.d2 is None else [self.d1, self.d2], axis=1)
        if self.kind == "axes":
            return np.stack([points @ column for column in basis.T], axis=1)  # e_x picks the entry itself
        solution = np.linalg.lstsq(basis, (points - self.centre).T, rcond=None)[0]
        out: Array = np.asarray(solution.T, dtype=np.float64)
        return out


def axes(plan: Layout, held: Array, x: str, y: str | None) -> Plane:
    ix = plan.index(x, "--x")
    iy = None if y is None else plan.index(y, "--y")
    if iy == ix:
        raise ConfigError(f"--x and --y both name {x}; expected two different parameters", path="--y")
    centre = held.copy()
    d1 = np.zeros(plan.size)
    d1[ix], centre[ix] = 1.0, 0.0
    d2 = None
    if iy is not None:
        d2 = np.zeros(plan.size)
        d2[iy], centre[iy] = 1.0, 0.0
    return Plane("axes", centre, d1, d2, x, y, x, y)


def random(plan: Layout, held: Array, seed: int, *, curve: bool) -> Plane:
    rng = np.random.default_rng(seed)
    first = _filter_normalised(plan, held, rng.standard_normal(plan.size))
    second = None if curve else _filter_normalised(plan, held, rng.standard_normal(plan.size))
    if not first.any():
        raise ConfigError("no weights to move: every weight tensor is frozen; choose --x/--y", path="--direction")
    note = f"filter-normalised random directions (Li et al. 2018), seed {seed}; biases held"
    y_label = None if curve else "β (random direction 2)"
    return Plane("random", held.copy(), first, second, "α (random direction 1)", y_label, note=note)


def _filter_normalised(plan: Layout, theta: Array, direction: Array) -> Array:
    out = np.zeros_like(direction)
    frozen = np.array(plan.frozen, dtype=bool)
    for block in plan.blocks:
        if block.kind != "weights" or frozen[block.start]:
            continue
        d = direction[block.start : block.stop].reshape(block.shape)
        w = theta[block.start : block.stop].reshape(block.shape)
        d_norm = np.linalg.norm(d, axis=1, keepdims=True)
        w_norm = np.linalg.norm(w, axis=1, keepdims=True)
        scale = np.where(w_norm > 0, w_norm, 1.0) / np.where(d_norm > 0, d_norm, 1.0)
        out[block.start : block.stop] = (d * scale).ravel()
    return out


def pca(path: Array, *, curve: bool) -> Plane:
    """The principal directions of the path θ_0 … θ_n about its end θ_n."""
    centre = path[-1]
    moves = path[:-1] - centre
    wanted = 1 if curve else 2
    if moves.shape[0] < wanted:
        raise ConfigError(
            f"a path of {moves.shape[0]} step{'s' * (moves.shape[0] != 1)}; PCA of the path needs at least "
            f"{wanted} (more --steps, or --direction random)",
            path="--direction",
        )
    _, singular, vt = np.linalg.svd(moves, full_matrices=False)
    total = float((singular**2).sum())
    if total == 0 or (not curve and (len(singular) < 2 or singular[1] <= 1e-12 * singular[0])):
        raise ConfigError(
            "the path moves along one line only, so it has no second principal direction; "
            "expected a path that turns (use --x/--y or --direction random)",
            path="--direction",
        )
    dirs = [_signed(vt[k]) for k in range(wanted)]
    shares = [float(singular[k] ** 2) / total for k in range(wanted)]
    labels = [f"PC{k + 1} ({shares[k]:.1%} of the path's variance)" for k in range(wanted)]
    note = "PCA of the first run's path about its last point (Li et al. 2018): " + ", ".join(
        f"PC{k + 1} holds {shares[k]:.1%}" for k in range(wanted)
    )
    return Plane(
        "pca", centre.copy(), dirs[0], None if curve else dirs[1], labels[0], None if curve else labels[1], note=note
    )


def _signed(direction: Array) -> Array:
    """An SVD direction's sign is arbitrary: fix it so that its largest entry is positive."""
    out: Array = direction if direction[np.argmax(np.abs(direction))] >= 0 else -direction
    return out
