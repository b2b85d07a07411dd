"""Hypothesis strategies and builders for random networks (engine tests, gradient checks, parity)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import strategies as st

from backprop_cli.model.spec import (
    BaseLayerSpec,
    DataSpec,
    LayerSpec,
    LossSpec,
    NetworkSpec,
    OptimizerSpec,
    TrainingSpec,
)

HIDDEN = ("identity", "relu", "leaky_relu", "sigmoid", "tanh")


def make_spec(
    sizes: list[int],
    activations: list[str],
    loss: str,
    *,
    seed: int,
    rows: int = 3,
    reduction: str = "mean",
    batch_size: int | None = None,
    steps: int = 1,
    learning_rate: float = 0.1,
    bias: bool = True,
) -> NetworkSpec:
    """A dense network with layer sizes ``sizes`` (inputs first) and data fitting ``loss``."""
    rng = np.random.default_rng(seed)
    layers = []
    for index, (fan_in, units) in enumerate(pairwise(sizes)):
        layers.append(
            LayerSpec(
                name=f"layer{index + 1}",
                activation=activations[index],
                weights=rng.normal(0, 0.8, size=(units, fan_in)),
                biases=rng.normal(0, 0.5, size=units) if bias else None,
                negative_slope=0.1,
            )
        )
    x = rng.normal(0, 1, size=(rows, sizes[0]))
    outputs = sizes[-1]
    if loss == "cross_entropy":
        y = np.eye(outputs)[rng.integers(0, outputs, size=rows)]
    elif loss == "bce":
        y = rng.uniform(0, 1, size=(rows, outputs))
    else:
        y = rng.normal(0, 1, size=(rows, outputs))
    return NetworkSpec(
        inputs=tuple(f"x{i + 1}" for i in range(sizes[0])),
        layers=tuple(layers),
        loss=LossSpec(loss, reduction),
        optimizer=OptimizerSpec("sgd", learning_rate),
        data=DataSpec(x, y, "inline"),
        training=TrainingSpec(steps=steps, batch_size=batch_size),
    )


@st.composite
def networks(draw: st.DrawFn) -> NetworkSpec:
    """Random small networks over every activation, loss and reduction."""
    depth = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 4)) for _ in range(depth + 1)]
    loss = draw(st.sampled_from(["sse", "half_sse", "mse", "mae", "bce", "cross_entropy"]))
    activations = [draw(st.sampled_from(HIDDEN)) for _ in range(depth)]
    if loss == "bce":
        activations[-1] = "sigmoid"
    elif loss == "cross_entropy":
        activations[-1] = "softmax"
        sizes[-1] = max(sizes[-1], 2)
    else:
        activations[-1] = draw(st.sampled_from([*HIDDEN, "softmax"]))
    return make_spec(
        sizes,
        activations,
        loss,
        seed=draw(st.integers(0, 2**32 - 1)),
        rows=draw(st.integers(1, 4)),
        reduction=draw(st.sampled_from(["mean", "sum", "sum_all"])),
        bias=draw(st.booleans()),
    )


@st.composite
def mixed_networks(draw: st.DrawFn) -> NetworkSpec:
    """Random small networks of :func:`networks`, with standalone activations and dropout layers put
    between their dense layers: a hidden dense layer's activation moved into a layer of its own after
    it, or a dropout layer (seeded) after it."""
    from dataclasses import replace

    from backprop_cli.nn.layers.activation import ActivationSpec
    from backprop_cli.nn.layers.dropout import DropoutSpec

    spec = draw(networks())
    layers: list[BaseLayerSpec] = []
    for index, layer in enumerate(spec.layers):
        assert isinstance(layer, LayerSpec)
        last = index == len(spec.layers) - 1
        choice = draw(st.sampled_from(["as is", "activation apart", "dropout after"]))
        if choice == "activation apart" and (not last or layer.activation != "softmax"):
            layers.append(replace(layer, activation="identity"))
            layers.append(ActivationSpec(f"act{index + 1}", layer.activation, layer.units, layer.negative_slope))
        elif choice == "dropout after" and not last:
            layers.append(layer)
            p = draw(st.sampled_from([0.0, 0.25, 0.5]))
            layers.append(DropoutSpec(f"drop{index + 1}", layer.units, p, draw(st.integers(0, 100))))
        else:
            layers.append(layer)
    return replace(spec, layers=tuple(layers))


@st.composite
def shaped_networks(draw: st.DrawFn) -> NetworkSpec:
    """Random small networks on a shaped input ([C, H, W] or [C, L]): batch norm per channel, an
    elementwise activation and a pooling layer (max or average, any kernel, stride and padding that
    fit), in a random order where they may come, then flatten and one or two dense layers."""
    import json
    from pathlib import Path

    from backprop_cli.loading.config import load_config_text

    two_d = draw(st.booleans())
    channels = draw(st.integers(1, 2))
    spatial = [draw(st.integers(2, 4)) for _ in range(2 if two_d else 1)]
    if not two_d:
        spatial = [draw(st.integers(2, 6))]
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)

    def batchnorm() -> dict[str, object]:
        return {
            "type": "batchnorm",
            "gamma": rng.uniform(0.5, 1.5, size=channels).round(3).tolist(),
            "beta": rng.normal(0, 0.5, size=channels).round(3).tolist(),
        }

    def activation() -> dict[str, object]:
        return {"type": "activation", "activation": draw(st.sampled_from(["tanh", "sigmoid", "identity"]))}

    kernel = draw(st.integers(1, min(spatial)))
    stride = draw(st.integers(1, kernel))
    padding = draw(st.integers(0, kernel // 2))
    kind = draw(st.sampled_from(["max", "avg"])) + ("pool2d" if two_d else "pool1d")
    pool = {"type": kind, "kernel_size": kernel, "stride": stride, "padding": padding}
    before = draw(st.lists(st.sampled_from([batchnorm, activation]), max_size=2))
    after = draw(st.lists(st.sampled_from([batchnorm, activation]), max_size=1))
    layers: list[dict[str, object]] = [make() for make in before] + [pool] + [make() for make in after]
    layers.append({"type": "flatten"})
    if draw(st.booleans()):
        layers.append(
            {"units": draw(st.integers(1, 3)), "activation": "tanh", "init": {"method": "xavier", "seed": seed}}
        )
    loss = draw(st.sampled_from(["mse", "bce", "cross_entropy"]))
    outputs = 2 if loss == "cross_entropy" else 1
    last = {"mse": "identity", "bce": "sigmoid", "cross_entropy": "softmax"}[loss]
    layers.append({"units": outputs, "activation": last, "init": {"method": "pytorch", "seed": seed + 1}})
    rows = 3
    shape = [channels, *spatial]
    xs = rng.normal(size=(rows, *shape)).round(4)
    if loss == "cross_entropy":
        ys = np.eye(2)[rng.integers(0, 2, size=rows)]
    elif loss == "bce":
        ys = rng.uniform(0, 1, size=(rows, 1)).round(3)
    else:
        ys = rng.normal(size=(rows, 1)).round(3)
    value = {
        "network": {"inputs": shape, "layers": layers},
        "loss": loss,
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "data": [{"x": x.reshape(-1).tolist(), "y": y.tolist()} for x, y in zip(xs, ys, strict=True)],
    }
    return load_config_text(json.dumps(value), source="net.json", base_dir=Path("."), fmt="json")


@st.composite
def residual_networks(draw: st.DrawFn) -> NetworkSpec:
    """Random small networks with residual blocks: a dense layer of width w, one or two blocks (a block
    may hold a block) whose branch is dense w → k, then a standalone activation, batch norm (for
    batches of two or more) or seeded dropout, maybe, and dense k → w; the block's own f (identity,
    relu, tanh); a dense output layer and a loss that fits it."""
    import json
    from pathlib import Path

    from backprop_cli.loading.config import load_config_text

    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    inputs, width, rows = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))

    def dense(name: str, units: int, fan_in: int, activation: str = "identity") -> dict[str, object]:
        return {
            "name": name,
            "units": units,
            "activation": activation,
            "weights": rng.normal(0, 0.8, size=(units, fan_in)).tolist(),
            "biases": rng.normal(0, 0.5, size=units).tolist(),
        } | ({"negative_slope": 0.1} if activation == "leaky_relu" else {})

    def branch(depth: int) -> dict[str, object]:
        hidden = draw(st.integers(1, 3))
        inner: list[dict[str, object]] = [dense("fc1", hidden, width, draw(st.sampled_from(HIDDEN)))]
        middle = draw(st.sampled_from(["none", "activation", "batchnorm", "dropout"]))
        if middle == "activation":
            inner.append({"type": "activation", "name": "f", "activation": draw(st.sampled_from(HIDDEN))})
        elif middle == "batchnorm" and rows > 1:
            inner.append(
                {
                    "type": "batchnorm",
                    "name": "bn",
                    "gamma": rng.uniform(0.5, 1.5, hidden).tolist(),
                    "beta": rng.normal(0, 0.3, hidden).tolist(),
                }
            )
        elif middle == "dropout":
            inner.append({"type": "dropout", "name": "drop", "p": 0.25, "seed": draw(st.integers(0, 50))})
        inner.append(dense("fc2", width, hidden))
        if depth == 0 and draw(st.integers(0, 3)) == 0:
            inner.append(branch(1) | {"name": "inner"})
        return {"type": "residual", "layers": inner, "activation": draw(st.sampled_from(["identity", "relu", "tanh"]))}

    layers: list[dict[str, object]] = [dense("h", width, inputs, draw(st.sampled_from(HIDDEN)))]
    for index in range(draw(st.integers(1, 2))):
        layers.append(branch(0) | {"name": f"res{index + 1}"})
    loss = draw(st.sampled_from(["mse", "bce", "cross_entropy", "half_sse"]))
    outputs = 2 if loss == "cross_entropy" else draw(st.integers(1, 2))
    activation = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, "identity")
    layers.append(dense("o", outputs, width, activation))
    x = rng.normal(0, 1, size=(rows, inputs))
    if loss == "cross_entropy":
        y = np.eye(outputs)[rng.integers(0, outputs, size=rows)]
    elif loss == "bce":
        y = rng.uniform(0, 1, size=(rows, outputs))
    else:
        y = rng.normal(0, 1, size=(rows, outputs))
    config = {
        "network": {"inputs": inputs, "layers": layers},
        "loss": loss,
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "data": [{"x": a.tolist(), "y": b.tolist()} for a, b in zip(x, y, strict=True)],
    }
    return load_config_text(json.dumps(config), source="random.json", base_dir=Path("."), fmt="json")


@st.composite
def conv_networks(draw: st.DrawFn) -> NetworkSpec:
    """Random small convolutional networks: conv2d on [C, H, W] or conv1d on [C, L] (any kernel, stride
    and padding that fit, a smooth activation, drawn or xavier weights), then maybe an average pool or a
    second conv, flatten, and a dense output layer; mse, bce or cross-entropy over a batch of 3."""
    import json
    from pathlib import Path

    from backprop_cli.loading.config import load_config_text
    from backprop_cli.nn.layers.conv import output_size

    two_d = draw(st.booleans())
    channels = draw(st.integers(1, 2))
    spatial = [draw(st.integers(3, 5)) for _ in range(2 if two_d else 1)]
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    dims = "2d" if two_d else "1d"

    def conv(size: list[int], name: str) -> tuple[dict[str, object], list[int]]:
        kernel = draw(st.integers(1, min(size)))
        stride = draw(st.integers(1, 2))
        padding = draw(st.integers(0, kernel // 2))
        layer = {
            "type": f"conv{dims}",
            "name": name,
            "out_channels": draw(st.integers(1, 2)),
            "kernel_size": kernel,
            "stride": stride,
            "padding": padding,
            "activation": draw(st.sampled_from(["tanh", "sigmoid", "identity"])),
            "init": {"method": draw(st.sampled_from(["xavier", "he", "pytorch"])), "seed": seed},
            "bias": draw(st.booleans()),
        }
        return layer, [output_size(n, kernel, stride, padding) for n in size]

    first, size = conv(spatial, "c1")
    layers: list[dict[str, object]] = [first]
    after = draw(st.sampled_from(["nothing", "avgpool", "conv"]))
    if after == "avgpool" and min(size) >= 2:
        layers.append({"type": f"avgpool{dims}", "kernel_size": 2, "stride": 1})
    elif after == "conv":
        second, size = conv(size, "c2")
        layers.append(second)
    layers.append({"type": "flatten"})
    loss = draw(st.sampled_from(["mse", "bce", "cross_entropy"]))
    outputs = 2 if loss == "cross_entropy" else 1
    last = {"mse": "identity", "bce": "sigmoid", "cross_entropy": "softmax"}[loss]
    layers.append({"units": outputs, "activation": last, "init": {"method": "pytorch", "seed": seed + 1}})
    rows = 3
    shape = [channels, *spatial]
    xs = rng.normal(size=(rows, *shape)).round(4)
    if loss == "cross_entropy":
        ys = np.eye(2)[rng.integers(0, 2, size=rows)]
    elif loss == "bce":
        ys = rng.uniform(0, 1, size=(rows, 1)).round(3)
    else:
        ys = rng.normal(size=(rows, 1)).round(3)
    value = {
        "network": {"inputs": shape, "layers": layers},
        "loss": loss,
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "data": [{"x": x.reshape(-1).tolist(), "y": y.tolist()} for x, y in zip(xs, ys, strict=True)],
    }
    return load_config_text(json.dumps(value), source="net.json", base_dir=Path("."), fmt="json")
