"""The training loop of benchmark 2 written directly in numpy, and in PyTorch: the floors to compare with.

    python benchmarks/loops.py numpy|torch DATA.csv INPUTS HIDDEN OUTPUTS BATCH STEPS

Same job as ``backprop train`` on the benchmark's config: read the CSV (features, then a ``label``
column of class indices), a dense ReLU layer and a softmax layer with mean cross-entropy, plain SGD
(η = 0.1), batches taken in order and wrapping around, float64. Prints the final loss.
"""

from __future__ import annotations

import sys

import numpy as np


def read(path: str, inputs: int, outputs: int) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    x = table[:, :inputs]
    y = np.eye(outputs)[table[:, inputs].astype(int)]
    return x, y


def xavier(rng: np.random.Generator, fan_out: int, fan_in: int) -> np.ndarray:
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_out, fan_in))


def batch_rows(step: int, batch: int, rows: int) -> np.ndarray:
    return (np.arange(batch) + step * batch) % rows


def numpy_loop(x: np.ndarray, y: np.ndarray, sizes: tuple[int, int, int], batch: int, steps: int) -> float:
    w1, w2 = xavier(np.random.default_rng(1), sizes[1], sizes[0]), xavier(np.random.default_rng(2), sizes[2], sizes[1])
    b1, b2 = np.zeros(sizes[1]), np.zeros(sizes[2])
    loss = 0.0
    for step in range(steps):
        idx = batch_rows(step, batch, len(x))
        xb, yb = x[idx], y[idx]
        z1 = xb @ w1.T + b1
        a1 = np.maximum(z1, 0.0)
        z2 = a1 @ w2.T + b2
        shifted = z2 - z2.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        p = exp / exp.sum(axis=1, keepdims=True)
        loss = float(-(yb * (shifted - np.log(exp.sum(axis=1, keepdims=True)))).sum(axis=1).mean())
        d2 = (p - yb) / len(xb)
        d1 = (d2 @ w2) * (z1 > 0)
        w2 -= 0.1 * (d2.T @ a1)
        b2 -= 0.1 * d2.sum(axis=0)
        w1 -= 0.1 * (d1.T @ xb)
        b1 -= 0.1 * d1.sum(axis=0)
    return loss


def torch_loop(x: np.ndarray, y: np.ndarray, sizes: tuple[int, int, int], batch: int, steps: int) -> float:
    import torch

    torch.set_default_dtype(torch.float64)
    first, second = torch.nn.Linear(sizes[0], sizes[1]), torch.nn.Linear(sizes[1], sizes[2])
    model = torch.nn.Sequential(first, torch.nn.ReLU(), second)
    with torch.no_grad():  # the same start as the numpy loop
        first.weight.copy_(torch.from_numpy(xavier(np.random.default_rng(1), sizes[1], sizes[0])))
        second.weight.copy_(torch.from_numpy(xavier(np.random.default_rng(2), sizes[2], sizes[1])))
        first.bias.zero_()
        second.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()
    loss = torch.zeros(())
    for step in range(steps):
        idx = torch.from_numpy(batch_rows(step, batch, len(x)))
        optimizer.zero_grad()
        loss = loss_fn(model(tx[idx]), ty[idx])
        loss.backward()
        optimizer.step()
    return float(loss.detach())


def main(argv: list[str]) -> int:
    kind, path, *numbers = argv
    inputs, hidden, outputs, batch, steps = map(int, numbers)
    x, y = read(path, inputs, outputs)
    loop = numpy_loop if kind == "numpy" else torch_loop
    print(f"final loss {loop(x, y, (inputs, hidden, outputs), batch, steps):.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
