"""The pydantic models of the config file: its JSON Schema, and the wording of every validation error.

:mod:`backprop_cli.loading.config` checks a config against the shipped schema first
(:mod:`backprop_cli.loading.schemacheck`, no pydantic) and imports this module only to explain a
value that does not pass, or for ``backprop schema``: importing pydantic and building these models is
costly next to the start-up of ``backprop trace`` (README, "Performance and hardening"). The shipped schema file
is kept equal to ``config_json_schema()`` by tests/cli/test_main.py, and tests/test_hardening.py checks
that the fast check never accepts what these models refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, SkipValidation
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from backprop_cli.errors import ConfigError, quoted
from backprop_cli.loading.config import IDENTIFIER, did_you_mean
from backprop_cli.loading.yamlsafe import Document, Key, Loc, describe
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.spec import ACTIVATIONS, LOSSES, PARAMETER_KINDS, REDUCTIONS
from backprop_cli.nn.init import INIT_METHODS
from backprop_cli.nn.optim import OPTIMIZERS


@dataclass(frozen=True)
class OneOf:
    """A string field restricted to ``choices``: an ``enum`` in the schema, a listing message when wrong."""

    what: str
    choices: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {**handler(schema), "enum": list(self.choices)}

    def check(self, value: str) -> str:
        if value not in self.choices:
            raise PydanticCustomError(
                "unknown_choice",
                _("unknown {what} {value}{hint}; expected one of {choices}"),
                {
                    "what": _(self.what),
                    "value": quoted(value),
                    "hint": did_you_mean(value, self.choices),
                    "choices": ", ".join(self.choices),
                },
            )
        return value


Number = Annotated[float, Field(allow_inf_nan=False)]
Name = Annotated[str, Field(pattern=IDENTIFIER)]
ActivationName = Annotated[str, OneOf(N_("activation"), (*ACTIVATIONS[:1], "linear", *ACTIVATIONS[1:]))]
LossName = Annotated[str, OneOf(N_("loss"), LOSSES)]
OptimizerName = Annotated[str, OneOf(N_("optimizer"), tuple(OPTIMIZERS))]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


InitMethodName = Annotated[str, OneOf(N_("init method"), INIT_METHODS)]


class InitModel(_Model):
    method: InitMethodName = Field(
        description=N_("initialisation for the weights/biases not given (see backprop_cli.nn.init)")
    )
    seed: int = Field(0, ge=0, description="random seed (numpy default_rng)")
    low: Number | None = Field(None, description="uniform only: lower bound (default 0)")
    high: Number | None = Field(None, description="uniform only: upper bound (default 1)")
    std: Number | None = Field(None, gt=0, description="normal only: standard deviation (default 1)")


class LayerModel(_Model):
    name: Name | None = Field(None, description="layer name; default layer1, layer2, … by position")
    units: int | None = Field(None, ge=1, description="number of neurons (may be left out when weights are given)")
    activation: ActivationName = Field(
        "identity", description=N_("activation function; softmax on the last layer only")
    )
    negative_slope: Number | None = Field(None, description="leaky_relu only: slope for z < 0 (default 0.01)")
    weights: list[list[Number]] | None = Field(None, description="shape [units][fan_in]: row j feeds neuron j")
    biases: list[Number] | None = Field(None, description="one per unit; default zeros (or from init)")
    bias: bool = Field(True, description="false for a layer without biases")
    frozen: list[Annotated[str, OneOf("parameter kind", PARAMETER_KINDS)]] = Field(
        [], description="parameters that are not updated"
    )
    init: SkipValidation[InitMethodName | InitModel] | None = Field(
        None, description="how to draw the weights/biases that are not given: a method, or {method, seed, …}"
    )
    type: Annotated[str, OneOf("layer type", ("dense",))] = Field("dense", description="dense (the default)")


class ActivationLayerModel(_Model):
    type: Annotated[str, OneOf("layer type", ("activation",))] = Field(
        description="activation: f applied to each entry of the layer's input"
    )
    name: Name | None = Field(None, description="layer name; default layer1, layer2, … by position")
    activation: ActivationName = Field(description=N_("activation function; softmax on the last layer only"))
    negative_slope: Number | None = Field(None, description="leaky_relu only: slope for z < 0 (default 0.01)")


class DropoutLayerModel(_Model):
    type: Annotated[str, OneOf("layer type", ("dropout",))] = Field(
        description="dropout: inverted dropout, a = z × m / (1 − p) (torch nn.Dropout)"
    )
    name: Name | None = Field(None, description="layer name; default layer1, layer2, … by position")
    p: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        0.5, description="probability of dropping an entry (default 0.5, torch's)"
    )
    seed: int | None = Field(None, ge=0, description="seed of the masks, drawn afresh each step (default 0)")
    mask: list[list[Number]] | None = Field(
        None, description="instead of seed: masks of 0 and 1, one row per sample of a batch, at every step"
    )


class BatchNormLayerModel(_Model):
    type: Annotated[str, OneOf("layer type", ("batchnorm",))] = Field(
        description="batchnorm: batch normalisation over features (torch nn.BatchNorm1d), or per channel of a "
        "shaped input [C, H, W] (nn.BatchNorm2d) or [C, L] (nn.BatchNorm1d)"
    )
    name: Name | None = Field(None, description="layer name; default layer1, layer2, … by position")
    eps: Number = Field(1e-5, gt=0, description="ε added to the variance (default 1e-5, torch's)")
    momentum: Number = Field(0.1, ge=0, le=1, description="weight of the batch in the running statistics (default 0.1)")
    gamma: list[Number] | None = Field(None, description="γ, one per feature or channel (default ones)")
    beta: list[Number] | None = Field(None, description="β, one per feature or channel (default zeros)")
    running_mean: list[Number] | None = Field(None, description="running mean to start from (default zeros)")
    running_var: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = Field(
        None, description="running variance to start from (default ones)"
    )
    frozen: list[Annotated[str, OneOf("parameter kind", ("gamma", "beta"))]] = Field(
        [], description="parameters that are not updated"
    )


class FlattenLayerModel(_Model):
    type: Annotated[str, OneOf("layer type", ("flatten",))] = Field(
        description="flatten: a shaped input (network.inputs [C, H, W]) as one row, row-major (torch nn.Flatten)"
    )
    name: Name | None = Field(None, description="layer name; default layer1, layer2, … by position")


class PoolLayerModel(_Model):
    type: Annotated[str, OneOf("layer type", ("maxpool2d", "avgpool2d", "maxpool1d", "avgpool1d"))] = Field(
        description="maxpool2d, avgpool2d (on [C, H, W]), maxpool1d, avgpool1d (on [C, L]): each channel's "
        "windows pooled by their max or mean (torch nn.MaxPool2d, nn.AvgPool2d, …)"
    )
    name: Name | None = Field(None, description="layer name; default layer1, layer2, … by position")
    kernel_size: int = Field(ge=1, description=N_("the size of a window along each spatial axis (torch's kernel_size)"))
    stride: int | None = Field(None, ge=1, description="step between windows (default kernel_size, torch's)")
    padding: int = Field(
        0, ge=0, description="cells added on each side (max: −∞, avg: 0, counted); at most kernel_size / 2"
    )


class ResidualLayerModel(_Model):
    type: Annotated[str, OneOf("layer type", ("residual",))] = Field(
        description="residual: a = f(x + F(x)), F being its inner layers (ResNet's basic block); F must give "
        "back the shape of x"
    )
    name: Name | None = Field(None, description="block name; default layer1, layer2, … by position")
    # each inner layer is validated as the model of its ``type`` (loading/config.py), as network.layers are
    layers: SkipValidation[Annotated[list[LayerEntry], Field(min_length=1)]] = Field(
        description=N_("the branch F: its layers, named within the block (res1.fc1 for layer fc1 of block res1)")
    )
    activation: ActivationName = Field(
        "identity", description="f applied to x + F(x) (default identity; relu as ResNet's basic block)"
    )
    negative_slope: Number | None = Field(None, description="leaky_relu only: slope for z < 0 (default 0.01)")


class ConvLayerModel(_Model):
    type: Annotated[str, OneOf("layer type", ("conv2d", "conv1d"))] = Field(
        description="conv2d (on [C, H, W]), conv1d (on [C, L]): a cross-correlation of the input with "
        "out_channels filters, then an activation (torch nn.Conv2d, nn.Conv1d)"
    )
    name: Name | None = Field(None, description="layer name; default layer1, layer2, … by position")
    out_channels: int | None = Field(
        None, ge=1, description="number of filters (may be left out when weights are given)"
    )
    kernel_size: int = Field(ge=1, description=N_("the size of the (square) kernel along each spatial axis"))
    stride: int = Field(1, ge=1, description="step between windows (default 1, torch's)")
    padding: int = Field(0, ge=0, description="zeros added on each side of each spatial axis (default 0)")
    activation: ActivationName = Field("identity", description="activation function applied to z (not softmax)")
    negative_slope: Number | None = Field(None, description="leaky_relu only: slope for z < 0 (default 0.01)")
    # checked by the layer (shape and numbers, located); here for the schema
    weights: SkipValidation[list[list[list[list[Number]]]] | list[list[list[Number]]]] | None = Field(
        None, description="torch's shape: conv2d [out][in][kh][kw], conv1d [out][in][k]"
    )
    biases: SkipValidation[list[Number]] | None = Field(
        None, description="one per filter; default zeros (or from init)"
    )
    bias: bool = Field(True, description="false for a layer without biases")
    frozen: list[Annotated[str, OneOf("parameter kind", PARAMETER_KINDS)]] = Field(
        [], description="parameters that are not updated"
    )
    init: SkipValidation[InitMethodName | InitModel] | None = Field(
        None,
        description="how to draw the weights/biases that are not given, with torch's conv fan-in C_in·k^d "
        "and fan-out C_out·k^d: a method, or {method, seed, …}",
    )


#: every layer type's config model (the registry, nn/layers, names each op's model)
LayerEntry = (
    LayerModel
    | ActivationLayerModel
    | DropoutLayerModel
    | BatchNormLayerModel
    | FlattenLayerModel
    | PoolLayerModel
    | ResidualLayerModel
    | ConvLayerModel
)
ResidualLayerModel.model_rebuild()


Shape = Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=2, max_length=3)]


class NetworkModel(_Model):
    inputs: SkipValidation[Annotated[int, Field(ge=1)] | list[Name] | Shape] = Field(
        description=N_("a count of inputs, a list of their names, or a shape [C, H, W] or [C, L]")
    )
    # each layer is validated as the model of its ``type`` (loading/config.py _layer_model), which words
    # its errors; here the union only gives the schema
    layers: SkipValidation[Annotated[list[LayerEntry], Field(min_length=1)]] = Field(
        description=N_("the layers, input side first")
    )


class LossModel(_Model):
    name: LossName = Field(description=N_("the loss function"))
    reduction: Annotated[str, OneOf("reduction", REDUCTIONS)] = Field(
        "mean",
        description="how a batch's losses combine: mean or sum of the per-sample losses, or sum_all, the sum over "
        "samples and outputs (torch's reduction='sum'; differs from sum for mse, mae and bce)",
    )


Beta = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class OptimizerModel(_Model):
    """Options as torch.optim names them; which apply depends on ``name`` (optim.DEFAULTS)."""

    name: OptimizerName = Field(
        description=N_("the optimizer: sgd, momentum (SGD with momentum), adam, adamw, rmsprop")
    )
    learning_rate: Number | None = Field(
        None, gt=0, description="the step size η > 0 (default as torch.optim: 1e-3; rmsprop 1e-2)"
    )
    momentum: Number | None = Field(
        None, ge=0, description="sgd, momentum, rmsprop: momentum μ >= 0 (default 0; optimizer momentum 0.9)"
    )
    dampening: Number | None = Field(None, ge=0, le=1, description="sgd, momentum: dampening τ (default 0)")
    nesterov: bool | None = Field(None, description="sgd, momentum: Nesterov momentum (needs μ > 0, τ = 0)")
    weight_decay: Number | None = Field(
        None, ge=0, description="L2 penalty λ >= 0 (default 0; adamw: decoupled, default 0.01)"
    )
    betas: list[Beta] | None = Field(
        None, min_length=2, max_length=2, description="adam, adamw: [β₁, β₂], each in [0, 1) (default [0.9, 0.999])"
    )
    eps: Number | None = Field(None, ge=0, description="adam, adamw, rmsprop: ε in the denominator (default 1e-8)")
    amsgrad: bool | None = Field(None, description="adam, adamw: use the running maximum of v (default false)")
    alpha: Number | None = Field(None, ge=0, le=1, description="rmsprop: smoothing constant α (default 0.99)")
    centered: bool | None = Field(None, description="rmsprop: subtract the running mean of g (default false)")


class RowModel(_Model):
    """One sample (checked by backprop_cli.loading.data; here for the schema)."""

    x: Number | list[Number] | list[list[Number]] | list[list[list[Number]]] = Field(
        description=N_("the inputs (a bare number for one input; a shaped input: C·H·W numbers, or nested lists)")
    )
    y: Number | list[Number] = Field(description=N_("the targets (a bare number for one output)"))


class DataFileModel(_Model):
    file: str = Field(min_length=1, description=N_("CSV (with a header), JSON or YAML file, relative to the config"))
    features: list[str] | None = Field(None, description="CSV input columns")
    targets: list[str] | None = Field(None, description="CSV target columns")
    label: str | None = Field(None, description="CSV column of class names, turned into one-hot targets")
    classes: list[str] | None = Field(None, description="class order for label (default: order of appearance)")
    test: str | None = Field(
        None,
        min_length=1,
        description="a held-out file of the same columns, relative to the config: `train` reports the loss and "
        "accuracy on it after training (never trained on)",
    )


DataFileName = Annotated[
    str, Field(min_length=1, description="a data file (CSV, JSON or YAML), relative to the config: {file: NAME}")
]


class TrainingModel(_Model):
    steps: int | None = Field(None, ge=1, description="number of update steps (default 1)")
    epochs: int | None = Field(None, ge=1, description="passes over the data (instead of steps)")
    batch_size: int | None = Field(None, ge=1, description="rows per step (default: all)")
    shuffle: bool = Field(False, description="permute each pass")
    seed: int | None = Field(None, ge=0, description="shuffle seed")
    mode: Annotated[str, OneOf("training mode", ("train", "eval"))] = Field(
        "train",
        description="train (default), or eval: torch's model.eval(): batch norm uses its running statistics "
        "(and does not update them), dropout passes its input",
    )


class ConfigModel(_Model):
    schema_: str | None = Field(None, alias="$schema", description="JSON Schema reference, ignored")
    description: str | None = Field(None, description="one line shown by `backprop examples`")
    network: NetworkModel = Field(description=N_("the inputs and the layers"))
    loss: SkipValidation[LossName | LossModel] = Field(description=N_("a loss name, or {name, reduction}"))
    optimizer: SkipValidation[OptimizerName | OptimizerModel] = Field(
        description=N_("an optimizer name, or {name, learning_rate}")
    )
    data: SkipValidation[list[RowModel] | DataFileModel | DataFileName] = Field(
        description=N_("rows {x, y}, or {file, …}, or just a file name")
    )
    training: TrainingModel = Field(TrainingModel(), description="steps or epochs, batch size, shuffling")


# ---- pydantic errors → located ConfigErrors ---------------------------------------------------

M = TypeVar("M", bound=BaseModel)
_KINDS = {
    "int_type": N_("an integer"),
    "float_type": N_("a number"),
    "bool_type": N_("true or false"),
    "string_type": N_("a string"),
    "list_type": N_("a list"),
    "model_type": N_("a mapping"),
    "dict_type": N_("a mapping"),
}


def _model_at(model: type[BaseModel], loc: Sequence[Key]) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {f.alias or n: f for n, f in current.model_fields.items()}
        if part not in fields:
            return None
        current = _inner_model(fields[part].annotation)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for a in get_args(annotation) if (m := _inner_model(a)) is not None), None)


def _shown(doc: Document, loc: Loc) -> Loc:
    """Cut a loc where the file holds a scalar (``loss: mse`` validated as {name: mse} → ``loss``)."""
    value = doc.value
    for i, part in enumerate(loc):
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return loc[: i + 1] if isinstance(value, dict) else loc[:i]
    return loc


def _located(error: Any, model: type[BaseModel], doc: Document, at: Loc) -> ConfigError:
    loc: Loc = (*at, *error["loc"])
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    if kind == "missing":
        parent = _model_at(model, error["loc"][:-1])
        field = parent.model_fields.get(str(loc[-1])) if parent else None
        name = quoted(loc[-1])
        if field and field.description:
            message = _("missing required field {name}; expected {what}").format(name=name, what=_(field.description))
        else:
            message = _("missing required field {name}").format(name=name)
        missing = doc.error(message, _shown(doc, loc))
        missing.missing_field = True  # config._first reports a missing field last, in any language
        return missing
    if kind == "extra_forbidden":
        parent = _model_at(model, error["loc"][:-1])
        allowed = [f.alias or n for n, f in parent.model_fields.items()] if parent else []
        return doc.error(
            _("unknown field {name}{hint}; expected one of {choices}").format(
                name=quoted(loc[-1]), hint=did_you_mean(loc[-1], allowed), choices=", ".join(allowed)
            ),
            loc,
            key=True,
        )
    if kind in _KINDS:
        message = _("got {value}; expected {what}").format(value=describe(value), what=_(_KINDS[kind]))
    elif kind in ("greater_than_equal", "greater_than"):
        sign, bound = (">=", ctx.get("ge")) if kind == "greater_than_equal" else (">", ctx.get("gt"))
        message = _("{value} is too small; expected a value {sign} {bound:g}").format(
            value=quoted(value), sign=sign, bound=bound
        )
    elif kind in ("less_than_equal", "less_than"):
        sign, bound = ("<=", ctx.get("le")) if kind == "less_than_equal" else ("<", ctx.get("lt"))
        message = _("{value} is too large; expected a value {sign} {bound:g}").format(
            value=quoted(value), sign=sign, bound=bound
        )
    elif kind == "too_short":
        message = _("has {n} items; expected at least {least}").format(
            n=ctx.get("actual_length"), least=ctx.get("min_length")
        )
    elif kind == "too_long":
        message = _("has more than {most} items; expected at most {most}").format(most=ctx.get("max_length"))
    elif kind == "string_pattern_mismatch":
        message = _("{value} is not a valid name; expected letters, digits and _, not starting with a digit").format(
            value=quoted(value)
        )
    else:  # unknown_choice carries our own wording; anything else keeps pydantic's
        message = str(error["msg"])
    return doc.error(message, _shown(doc, loc))


def validate(model: type[M], value: Any, doc: Document, at: Loc) -> M:
    """``model.model_validate(value)``, raising the first error in file order as a ConfigError."""
    try:
        return model.model_validate(value)
    except PydanticValidationError as exc:
        errors = exc.errors(include_url=False)
        # a misspelt key is also a missing one: report the misspelling, with its hint, first
        first = min(errors, key=lambda e: (e["type"] == "missing", *(doc.mark((*at, *e["loc"])) or (1 << 30, 0))))
        raise _located(first, model, doc, at) from None


def validate_model(name: str, value: Any, doc: Document, at: Loc) -> Any:
    """Validate ``value`` as the model called ``name``, raising the first error as a located ConfigError."""
    model: type[BaseModel] = globals()[name]
    return validate(model, value, doc, at)


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of config files (YAML or JSON), for editors to complete and check them."""
    schema = ConfigModel.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "backprop-cli config"} | {
        k: v for k, v in schema.items() if k != "title"
    }
