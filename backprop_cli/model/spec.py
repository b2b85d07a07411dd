"""The validated, resolved network description the engine runs on.

``config.py`` turns YAML/JSON/CSV into a :class:`NetworkSpec`; the engine never sees raw config.
Everything here is concrete: weights are arrays (initialisation already applied), data is two
float64 matrices, names are final.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from backprop_cli.model.record import record

if TYPE_CHECKING:
    from backprop_cli.loading.yamlsafe import Document

Array = NDArray[np.float64]

ACTIVATIONS = ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "softmax")
LOSSES = ("sse", "half_sse", "mse", "mae", "bce", "cross_entropy")
REDUCTIONS = ("mean", "sum", "sum_all")
PARAMETER_KINDS = ("weights", "biases")


#: how a built-in example's label (a spec's ``source``) ends, in English: the spec keeps it as data and a
#: title shows it in the reader's language (:func:`shown_source`)
BUILT_IN = " (built-in example)"


def shown_source(source: str) -> str:
    """A config's label as a title shows it: a built-in example's mark in the reader's language."""
    from backprop_cli.model.i18n import _

    if source.endswith(BUILT_IN):
        return _("{name} (built-in example)").format(name=source.removesuffix(BUILT_IN))
    return source


class BaseLayerSpec(ABC):
    """What every layer type's spec tells the rest of the program, whatever the layer computes.

    A layer type (``nn/layers/``: one op module each) has its own frozen dataclass of this class, with
    its own fields; the engine, the budgets, the trace's header and ``train`` read only these. It must
    say ``units``, ``fan_in`` and ``config`` (abstract: a spec without them cannot be made); the rest
    has defaults for a layer without parameters.
    """

    kind: ClassVar[str]  # the config's ``type:`` of this layer (``dense``, ``activation``, …)
    name: str
    activation: str  # the activation it applies ("identity" where none), one of ACTIVATIONS
    negative_slope: float  # leaky_relu only
    frozen: frozenset[str]  # the parameter kinds that are not updated

    @property
    @abstractmethod
    def units(self) -> int:
        """The number of outputs (the next layer's fan-in)."""

    @property
    @abstractmethod
    def fan_in(self) -> int:
        """The number of inputs."""

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of its output for an input of ``input_shape`` (C, H, W or C, L; (n,) when flat): a
        layer that works entry by entry keeps its input's; others give a flat (units,)."""
        return (self.units,)

    def tensors(self) -> dict[str, Array]:
        """The parameter tensors by kind, in their order (weights before biases), before the first step."""
        return {}

    @property
    def parameter_count(self) -> int:
        return sum(int(t.size) for t in self.tensors().values())

    @property
    def label(self) -> str:
        """What the layer applies, as the network tables name it: its activation (``dropout p = 0.5``)."""
        return self.activation

    @property
    def formula(self) -> str | None:
        """a as a formula of z for the network table, where its activation's does not say it."""
        return None

    def forward_latex(self) -> tuple[str, ...]:
        """The LaTeX of its forward pass, shown above its forward tables in Markdown and LaTeX documents."""
        return ()

    @abstractmethod
    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        """The layer as a config entry that loads back to it (``tensors``: other values of its parameters)."""


@record
class LayerSpec(BaseLayerSpec):
    """A dense layer: z = W·a_prev + b, a = f(z). ``weights`` has shape (units, fan_in)."""

    kind: ClassVar[str] = "dense"
    name: str
    activation: str  # one of ACTIVATIONS ("linear" is resolved to "identity")
    weights: Array
    biases: Array | None  # None for ``bias: false``
    negative_slope: float = 0.01  # leaky_relu only, PyTorch's default
    frozen: frozenset[str] = frozenset()  # subset of PARAMETER_KINDS

    @property
    def units(self) -> int:
        return int(self.weights.shape[0])

    @property
    def fan_in(self) -> int:
        return int(self.weights.shape[1])

    def tensors(self) -> dict[str, Array]:
        return {"weights": self.weights} | ({} if self.biases is None else {"biases": self.biases})

    @property
    def parameter_count(self) -> int:
        return int(self.weights.size + (0 if self.biases is None else self.biases.size))

    def config(self, tensors: Mapping[str, Array] | None = None) -> dict[str, Any]:
        values = self.tensors() | dict(tensors or {})
        entry: dict[str, Any] = {"name": self.name, "units": self.units, "activation": self.activation}
        if self.activation == "leaky_relu":
            entry["negative_slope"] = self.negative_slope
        entry["weights"] = values["weights"].tolist()
        if "biases" in values:
            entry["biases"] = values["biases"].tolist()
        else:
            entry["bias"] = False
        if self.frozen:
            entry["frozen"] = sorted(self.frozen)
        return entry


@record
class LossSpec:
    """The loss by name and its reduction over a batch's samples."""

    name: str  # one of LOSSES
    # over the samples of a batch: mean, sum, or sum_all (a sum over the samples and outputs, torch's 'sum')
    reduction: str = "mean"


@record
class OptimizerSpec:
    """The optimizer by name, its learning rate and its other options."""

    name: str  # "sgd" for now; the registry lives in optim.py
    learning_rate: float
    options: Mapping[str, float | bool] = field(default_factory=dict)


@record
class TrainingSpec:
    """How long to train (steps or epochs), the batches (size, shuffle, seed) and the mode."""

    steps: int | None = None
    epochs: int | None = None
    batch_size: int | None = None  # None: the whole data set
    shuffle: bool = False
    seed: int | None = None
    option: str | None = None  # the command-line option that set steps or epochs (--steps, --epochs), if one did
    mode: str = "train"  # or "eval": torch's model.eval() (batch norm's running statistics, dropout off)


@record
class DataSpec:
    """The data rows: inputs x and targets y as arrays, where they came from, and held-out rows."""

    x: Array  # (rows, inputs)
    y: Array  # (rows, outputs)
    source: str  # "inline" or the file the rows came from
    class_names: tuple[str, ...] | None = None  # for a label column turned into one-hot targets
    # a CSV with a label column: the file as opened and the columns read, so that `train --save` can
    # point a saved config at the same file, columns and class order
    file: str | None = None
    features: tuple[str, ...] | None = None
    label: str | None = None
    # data.test: held-out rows of the same columns and class order, evaluated by `train` after training
    test: DataSpec | None = None

    @property
    def rows(self) -> int:
        return int(self.x.shape[0])


@record
class NetworkSpec:
    """A loaded config: the network's inputs and layers, loss, optimizer, data and training."""

    inputs: tuple[str, ...]  # input names, default x1, x2, ... (a shaped input: one per entry, row-major)
    layers: tuple[BaseLayerSpec, ...]
    loss: LossSpec
    optimizer: OptimizerSpec
    data: DataSpec
    training: TrainingSpec = TrainingSpec()
    source: str = "<config>"  # the file (or built-in example) it came from
    description: str | None = None
    normalised: Mapping[str, Any] = field(default_factory=dict)  # JSON-able normalised config
    # the parsed config with its marks, so that checks made after loading (budgets) are located too
    document: Document | None = field(default=None, compare=False, repr=False)
    # ``inputs: [C, H, W]`` or ``[C, L]``: the shape of a sample (its entries are x1 … in row-major order)
    input_shape: tuple[int, ...] | None = None

    @property
    def parameter_count(self) -> int:
        return sum(layer.parameter_count for layer in self.layers)
