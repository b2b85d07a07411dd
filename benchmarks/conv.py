"""Benchmark: one conv training step in ``train``'s fast mode, beside the same step written in numpy and in torch.

    python benchmarks/conv.py            # 15 alternating rounds of 20 steps each
    python benchmarks/conv.py --quick    # 2 rounds of 2 steps: a smoke test, not a measurement

The step (issue 14's benchmark): a batch of 64 images of 1×28×28, ``conv2d`` with 8 filters of 3×3 and
ReLU (8×26×26), flatten, a dense softmax layer of 10 units, mean cross-entropy, plain SGD (η = 0.1),
float64. ``backprop`` runs :meth:`Engine.fast_step` (what ``train`` runs per step); the numpy floor is the
same arithmetic written directly, im2col by stride tricks (``sliding_window_view``) and matrix products
(and beside it the same with the conv's forward product by ``np.einsum``, as the engine computed it
before 2026-12-03; it now uses ``np.matmul``);
torch's is ``nn.Conv2d`` → ``nn.ReLU`` → ``nn.Flatten`` → ``nn.Linear`` with ``CrossEntropyLoss`` and
``optim.SGD`` on the CPU. All three start from the same parameters and data, and the script checks that
they end with the same loss (so the floor is the same job) before it times anything. Each figure is the
median over rounds of the seconds per step, the three run alternately (A, B, C, A, B, C, …) so that a slow
moment of the machine hits all of them. Nothing here asserts a time: the last lines say whether the
target (backprop ≤ 1.5× the numpy step) is met.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backprop_cli.loading.config import load_config_text  # noqa: E402
from backprop_cli.nn.engine import Engine  # noqa: E402

BATCH, SIDE, FILTERS, KERNEL, CLASSES, LR = 64, 28, 8, 3, 10, 0.1
TARGET = 1.5


def problem(rows: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(x (rows, 784), one-hot y (rows, 10), the starting parameters in torch's shapes)."""
    rng = np.random.default_rng(14)
    x = rng.uniform(0, 1, size=(rows, SIDE * SIDE))
    y = np.eye(CLASSES)[rng.integers(0, CLASSES, size=rows)]
    out = SIDE - KERNEL + 1
    params = {
        "conv.weight": rng.uniform(-1 / 3, 1 / 3, size=(FILTERS, 1, KERNEL, KERNEL)),
        "conv.bias": rng.uniform(-1 / 3, 1 / 3, size=FILTERS),
        "dense.weight": rng.normal(0, 0.01, size=(CLASSES, FILTERS * out * out)),
        "dense.bias": np.zeros(CLASSES),
    }
    return x, y, params


def backprop_step(x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> tuple[Callable[[], float], Engine]:
    features = [f"x{i + 1}" for i in range(x.shape[1])]
    targets = [f"y{k + 1}" for k in range(y.shape[1])]
    config = {
        "network": {
            "inputs": [1, SIDE, SIDE],
            "layers": [
                {
                    "type": "conv2d",
                    "name": "c1",
                    "out_channels": FILTERS,
                    "kernel_size": KERNEL,
                    "activation": "relu",
                    "weights": params["conv.weight"].tolist(),
                    "biases": params["conv.bias"].tolist(),
                },
                {"type": "flatten", "name": "f"},
                {
                    "name": "o",
                    "units": CLASSES,
                    "activation": "softmax",
                    "weights": params["dense.weight"].tolist(),
                    "biases": params["dense.bias"].tolist(),
                },
            ],
        },
        "loss": "cross_entropy",
        "optimizer": {"name": "sgd", "learning_rate": LR},
        "data": {"file": "data.csv", "features": features, "targets": targets},
        "training": {"batch_size": BATCH},
    }
    folder = Path(tempfile.mkdtemp(prefix="conv-benchmark-"))
    table = np.hstack([x, y])
    np.savetxt(folder / "data.csv", table, delimiter=",", header=",".join(features + targets), comments="", fmt="%.17g")
    spec = load_config_text(json.dumps(config), source="conv-benchmark.json", base_dir=folder, fmt="json")
    engine = Engine(spec)
    rows = np.arange(BATCH)
    state = {"step": 0}

    def step() -> float:
        state["step"] += 1
        return engine.fast_step(state["step"], rows).loss

    return step, engine


def numpy_step(
    x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray], *, einsum: bool = False
) -> Callable[[], float]:
    """The same step in plain numpy: im2col by stride tricks, ReLU, dense softmax, cross-entropy, SGD;
    ``einsum``: the conv's forward product by ``np.einsum`` (as the engine did it before 2026-12-03), not ``@``."""
    from numpy.lib.stride_tricks import sliding_window_view

    w1 = params["conv.weight"].reshape(FILTERS, -1).copy()  # (8, 9)
    b1 = params["conv.bias"].copy()
    w2, b2 = params["dense.weight"].copy(), params["dense.bias"].copy()
    xb, yb = x[:BATCH].reshape(BATCH, SIDE, SIDE), y[:BATCH]
    out = SIDE - KERNEL + 1

    def step() -> float:
        nonlocal w1, b1, w2, b2
        cols = sliding_window_view(xb, (KERNEL, KERNEL), axis=(1, 2)).reshape(BATCH, out * out, -1)  # (N, P, 9)
        z1 = (np.einsum("npk,ok->npo", cols, w1) if einsum else cols @ w1.T) + b1  # (N, P, 8)
        a1 = np.maximum(z1, 0.0)
        flat = a1.transpose(0, 2, 1).reshape(BATCH, -1)  # channel-major, as torch flattens (N, 8, 26, 26)
        z2 = flat @ w2.T + b2
        shifted = z2 - z2.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        loss = float(-(yb * (shifted - np.log(total))).sum(axis=1).mean())
        d2 = (exp / total - yb) / BATCH
        d_flat = d2 @ w2
        d1 = d_flat.reshape(BATCH, FILTERS, -1).transpose(0, 2, 1) * (z1 > 0)  # (N, P, 8)
        w2 = w2 - LR * (d2.T @ flat)
        b2 = b2 - LR * d2.sum(axis=0)
        flat_d1 = d1.reshape(-1, FILTERS)
        w1 = w1 - LR * (flat_d1.T @ cols.reshape(-1, KERNEL * KERNEL))
        b1 = b1 - LR * flat_d1.sum(axis=0)
        return loss

    return step


def torch_step(x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> Callable[[], float] | None:
    try:
        import torch
    except ImportError:
        return None
    f64 = torch.float64
    conv = torch.nn.Conv2d(1, FILTERS, KERNEL, dtype=f64)
    dense = torch.nn.Linear(FILTERS * (SIDE - KERNEL + 1) ** 2, CLASSES, dtype=f64)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(params["conv.weight"]))
        conv.bias.copy_(torch.from_numpy(params["conv.bias"]))
        dense.weight.copy_(torch.from_numpy(params["dense.weight"]))
        dense.bias.copy_(torch.from_numpy(params["dense.bias"]))
    model = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.Flatten(), dense)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    xb = torch.from_numpy(x[:BATCH].reshape(BATCH, 1, SIDE, SIDE))
    labels = torch.from_numpy(y[:BATCH].argmax(axis=1))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), labels)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    return step


def per_step(step: Callable[[], float], steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 steps: a smoke test")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20, help="steps per round")
    args = parser.parse_args(argv)
    rounds, steps = (2, 2) if args.quick else (args.rounds, args.steps)
    x, y, params = problem(BATCH)
    ours, _engine = backprop_step(x, y, params)
    floors = {
        "backprop train step": ours,
        "numpy im2col step": numpy_step(x, y, params),
        "numpy, einsum forward": numpy_step(x, y, params, einsum=True),
    }
    theirs = torch_step(x, y, params)
    if theirs is not None:
        floors["torch CPU step"] = theirs
    # the same job: three steps of each from the same start end at the same loss
    losses = {name: [step() for _ in range(3)] for name, step in floors.items()}
    first = losses["backprop train step"]
    for name, values in losses.items():
        assert np.allclose(values, first, rtol=1e-9), (name, values, first)
    times: dict[str, list[float]] = {name: [] for name in floors}
    for _ in range(rounds):
        for name, step in floors.items():
            times[name].append(per_step(step, steps))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}")
    print(f"conv step: batch {BATCH} of 1×{SIDE}×{SIDE}, {FILTERS} filters 3×3 + ReLU, dense softmax {CLASSES}, sgd")
    print(f"{rounds} alternating rounds of {steps} steps; median ms per step (loss after 3 steps {first[-1]:.6f})")
    base = medians["numpy im2col step"]
    for name, seconds in medians.items():
        print(f"  {name:22} {seconds * 1000:8.2f} ms  {seconds / base:5.2f}× numpy")
    ratio = medians["backprop train step"] / base
    met = "not measured in --quick" if args.quick else ("yes" if ratio <= TARGET else "NO")
    print(f"backprop / numpy = {ratio:.2f}× (target ≤ {TARGET}×): {met}")
    with_einsum = medians["backprop train step"] / medians["numpy, einsum forward"]
    print(f"backprop / numpy with einsum forward = {with_einsum:.2f}×")
    if "torch CPU step" in medians:
        print(f"backprop / torch CPU = {medians['backprop train step'] / medians['torch CPU step']:.2f}×")
    else:
        print("torch is not installed: no torch ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
