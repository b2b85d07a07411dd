"""The inputs the benchmarks run on: configs and synthetic data written to a temporary folder."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def count_numbers(value: Any) -> int:
    """How many numbers (ints and floats, not booleans) a parsed JSON document holds."""
    todo = [value]
    count = 0
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            count += 1
    return count


def _layers_yaml(sizes: Sequence[int], activation: str, last: str) -> str:
    lines = []
    for i, units in enumerate(sizes[1:]):
        act = last if i == len(sizes) - 2 else activation
        lines.append(f"    - {{units: {units}, activation: {act}, init: {{method: xavier, seed: {i + 1}}}}}")
    return "\n".join(lines)


def write_mlp_config(path: Path, sizes: Sequence[int], *, rows: int, batch: int) -> Path:
    """A tanh MLP with a softmax/cross-entropy head and ``rows`` inline data rows of seeded random numbers."""
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, size=(rows, sizes[0])).round(4)
    classes = rng.integers(0, sizes[-1], size=rows)
    rows_yaml = []
    for x, c in zip(xs, classes, strict=True):
        y = ", ".join("1" if k == c else "0" for k in range(sizes[-1]))
        rows_yaml.append(f"  - {{x: [{', '.join(map(repr, x.tolist()))}], y: [{y}]}}")
    data = "\n".join(rows_yaml)
    path.write_text(
        f"network:\n  inputs: {sizes[0]}\n  layers:\n{_layers_yaml(sizes, 'tanh', 'softmax')}\n"
        f"loss: cross_entropy\noptimizer: {{name: sgd, learning_rate: 0.1}}\n"
        f"training: {{steps: 20, batch_size: {batch}}}\ndata:\n{data}\n",
        encoding="utf-8",
    )
    return path


def write_train_config(folder: Path, sizes: Sequence[int], *, rows: int, batch: int, steps: int) -> tuple[Path, Path]:
    """A ReLU/softmax network and a CSV of ``rows`` synthetic rows (features f1…, a ``label`` column of digits)."""
    rng = np.random.default_rng(0)
    xs = rng.uniform(0, 1, size=(rows, sizes[0])).round(4)
    labels = (xs @ rng.normal(size=(sizes[0], sizes[-1]))).argmax(axis=1)
    csv_path = folder / "train.csv"
    with csv_path.open("w", encoding="utf-8") as out:
        out.write(",".join([f"f{i + 1}" for i in range(sizes[0])] + ["label"]) + "\n")
        for x, label in zip(xs, labels, strict=True):
            out.write(",".join(map(repr, x.tolist())) + f",{label}\n")
    classes = ", ".join(f'"{k}"' for k in range(sizes[-1]))
    config = folder / "train.yaml"
    config.write_text(
        f"network:\n  inputs: {sizes[0]}\n  layers:\n{_layers_yaml(sizes, 'relu', 'softmax')}\n"
        f"loss: cross_entropy\noptimizer: {{name: sgd, learning_rate: 0.1}}\n"
        f"training: {{steps: {steps}, batch_size: {batch}}}\n"
        f"data: {{file: {csv_path.name}, label: label, classes: [{classes}]}}\n",
        encoding="utf-8",
    )
    return config, csv_path


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None
