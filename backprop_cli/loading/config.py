"""YAML/JSON/CSV → a validated :class:`NetworkSpec`; every error located as ``file:line:col: path: …``.

Three stages: :mod:`backprop_cli.loading.yamlsafe` reads the text into plain values with marks; the pydantic
models (:mod:`backprop_cli.loading.models`) check structure, types and ranges (their JSON Schema is
what ``backprop schema`` prints; a valid file passes the shipped copy of that schema in
:mod:`backprop_cli.loading.schemacheck`, and pydantic is imported only to word an error); the builders then
check what spans fields (shapes, fan-ins, the loss against the output layer), apply initialisation
and read the data (:mod:`backprop_cli.loading.data`).
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from backprop_cli.errors import ConfigError, quoted
from backprop_cli.loading.data import Columns, Expect, load_data_file, rows_from_document
from backprop_cli.loading.yamlsafe import CONFIG_LIMIT, Document, Loc, describe, guess_format, parse, read_text
from backprop_cli.model import formats
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.names import reserved_input, reserved_layer
from backprop_cli.model.spec import (
    BaseLayerSpec,
    LayerSpec,
    LossSpec,
    NetworkSpec,
    OptimizerSpec,
    TrainingSpec,
)
from backprop_cli.nn.init import InitSpec, canonical
from backprop_cli.nn.layers.base import LayerPlace, LayerType
from backprop_cli.nn.optim import DEFAULTS, check_options, flat_options, resolved_options

if TYPE_CHECKING:  # the models are imported only to word an error (see validate)
    from backprop_cli.loading.models import DataFileModel, InitModel, TrainingModel

EXPECTED_TOP = N_("expected a mapping with network, loss, optimizer and data")
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
# size caps, so a typo (inputs: 100000000) is bad input rather than an allocation that takes the machine
MAX_INPUTS = 1_000_000
# init: {method: normal} draws lie within a few σ (beyond 40σ has probability e^-800): finite below this
MAX_INIT_STD = 1e306


def did_you_mean(word: object, choices: Sequence[str]) -> str:
    import difflib  # only to word an error: not imported on the way of a valid config

    close = difflib.get_close_matches(str(word), choices, n=1)
    return _(" (did you mean {word}?)").format(word=repr(close[0])) if close else ""


def validate(model: str, value: Any, doc: Document, at: Loc) -> Any:
    """``value`` as the config model called ``model`` (see config_models), or a located ConfigError.

    The shipped JSON Schema decides first, without pydantic (schemacheck); pydantic (config_models)
    runs only for a value that does not pass there, to word its error, so a valid config loads fast.
    """
    from backprop_cli.loading.schemacheck import validated

    fast = validated(model, value)
    if fast is not None:
        return fast
    from backprop_cli.loading.models import validate_model

    return validate_model(model, value, doc, at)


# ---- builders ---------------------------------------------------------------------------------


def _input_names(doc: Document) -> tuple[str, ...]:
    at: Loc = ("network", "inputs")
    raw = doc.value["network"]["inputs"]
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw < 1:
            raise doc.error(_("{n} inputs; expected a count >= 1 or a list of names").format(n=raw), at)
        if raw > MAX_INPUTS:
            raise doc.error(_("{n} inputs is too many; expected at most {most:,}").format(n=raw, most=MAX_INPUTS), at)
        return tuple(f"x{i + 1}" for i in range(raw))
    if not isinstance(raw, list) or not raw:
        raise doc.error(
            _("got {value}; expected a count >= 1 or a list of input names").format(value=describe(raw)), at
        )
    if (shape := _input_shape(doc)) is not None:
        return tuple(f"x{i + 1}" for i in range(math.prod(shape)))
    for i, name in enumerate(raw):
        if not isinstance(name, str) or not re.fullmatch(IDENTIFIER, name):  # fullmatch: "x1\n" is no name
            raise doc.error(
                _("got {value}; expected a name of letters, digits and _").format(value=describe(name)), (*at, i)
            )
        if name in raw[:i]:
            raise doc.error(_("duplicate input name {name}; expected unique names").format(name=repr(name)), (*at, i))
        if (own := reserved_input(name)) is not None:
            raise doc.error(
                _("input name {name} is taken: the trace calls the {what} {own}; expected another name").format(
                    name=repr(name), what=own[0], own=repr(own[1])
                ),
                (*at, i),
            )
    return tuple(raw)


def _input_shape(doc: Document) -> tuple[int, ...] | None:
    """``inputs: [C, H, W]`` or ``[C, L]`` (a list of integers): the shape of a sample; None for a count or names."""
    at: Loc = ("network", "inputs")
    raw = doc.value["network"]["inputs"]
    if not isinstance(raw, list) or not any(isinstance(n, int) and not isinstance(n, bool) for n in raw):
        return None
    for i, n in enumerate(raw):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise doc.error(
                _("got {value}; expected a shape of integers >= 1, [C, H, W] or [C, L]").format(value=describe(n)),
                (*at, i),
            )
    if len(raw) not in (2, 3):
        raise doc.error(
            _("a shape of {n} axes; expected [C, H, W] (an image) or [C, L] (a sequence)").format(n=len(raw)), at
        )
    if math.prod(raw) > MAX_INPUTS:
        raise doc.error(
            _("a shape of {shape} is {n:,} inputs, too many; expected at most {most:,}").format(
                shape="×".join(map(str, raw)), n=math.prod(raw), most=MAX_INPUTS
            ),
            at,
        )
    return tuple(raw)


def _init_model(doc: Document, i: int | Loc, m: Any) -> InitModel | None:
    """Layer ``i``'s ``init`` (``i``: its index, or where it is: a block's inner layer): a method name
    (``init: he``, seed 0) or a mapping, validated."""
    at: Loc = (*(("network", "layers", i) if isinstance(i, int) else i), "init")
    if m.init is None:
        return None
    if isinstance(m.init, str):  # as `optimizer: adam` stands for {name: adam}
        model: InitModel = validate("InitModel", {"method": m.init}, doc, at)
        return model
    if not isinstance(m.init, dict):
        raise doc.error(
            _("got {value}; expected an init method or a mapping {{method, seed}}").format(value=describe(m.init)), at
        )
    model = validate("InitModel", m.init, doc, at)
    return model


def _init_spec(m: InitModel) -> InitSpec:
    given = {key: value for key in ("low", "high", "std") if (value := getattr(m, key)) is not None}
    return InitSpec(m.method, m.seed, **given)


def _checked_init(doc: Document, at: Loc, m: InitModel) -> InitSpec:
    method = canonical(m.method)
    for key in ("low", "high", "std"):
        wanted = "normal" if key == "std" else "uniform"
        if getattr(m, key) is not None and method != wanted:
            raise doc.error(
                _("{key} with method {method}; expected it only with method {wanted}").format(
                    key=key, method=repr(m.method), wanted=wanted
                ),
                (*at, key),
            )
    spec = _init_spec(m)
    if spec.low >= spec.high and method == "uniform":
        raise doc.error(
            _("high {high:g} is not above low {low:g}; expected low < high").format(high=spec.high, low=spec.low),
            (*at, "high"),
        )
    if method == "uniform" and not math.isfinite(spec.high - spec.low):  # numpy cannot draw from it
        raise doc.error(
            _(
                "the range from low {low:g} to high {high:g} is wider than float64 holds; "
                "expected high − low at most {most:.4g}"
            ).format(low=spec.low, high=spec.high, most=sys.float_info.max),
            (*at, "high" if m.high is not None else "low"),
        )
    if method == "normal" and spec.std > MAX_INIT_STD:  # draws of several σ would be ±∞
        raise doc.error(
            _("std {std:g} is too large; expected at most {most:g}, so that every draw is finite").format(
                std=spec.std, most=MAX_INIT_STD
            ),
            (*at, "std"),
        )
    return spec


def _layer_model(doc: Document, i: int, raw: Any, where: Loc | None = None) -> tuple[LayerType, Any]:
    """Layer ``i``'s type (``type:``, default dense) and its config validated as that type's model
    (``where``: its place when it is not network.layers[i], a block's inner layer)."""
    from backprop_cli.nn.layers import LAYER_TYPES

    at: Loc = where or ("network", "layers", i)
    kind = raw.get("type", "dense") if isinstance(raw, dict) else "dense"
    if not isinstance(kind, str):
        raise doc.error(
            _("got {value}; expected a layer type: {choices}").format(
                value=describe(kind), choices=", ".join(LAYER_TYPES)
            ),
            (*at, "type"),
        )
    if kind not in LAYER_TYPES:
        raise doc.error(
            _("unknown layer type {kind}{hint}; expected one of {choices}").format(
                kind=quoted(kind), hint=did_you_mean(kind, list(LAYER_TYPES)), choices=", ".join(LAYER_TYPES)
            ),
            (*at, "type"),
        )
    op_type = LAYER_TYPES[kind]
    return op_type, validate(op_type.config_model, raw, doc, at)


def _layer_error(doc: Document) -> ConfigError | None:
    """The first layer that is not valid as its type's model, if any (the file's other errors aside)."""
    network = doc.value.get("network")
    if not isinstance(network, dict) or "layers" not in network:
        return None
    try:
        for i, raw in enumerate(_layer_list(doc)):
            _layer_model(doc, i, raw)
    except ConfigError as error:
        return error
    return None


def _layer_list(doc: Document) -> list[Any]:
    """``network.layers``: a list of at least one entry (the models skip it: each entry is validated by its type)."""
    raws = doc.value["network"]["layers"]
    if not isinstance(raws, list):
        raise doc.error(_("got {value}; expected a list").format(value=describe(raws)), ("network", "layers"))
    if not raws:
        raise doc.error(_("has {n} items; expected at least {least}").format(n=0, least=1), ("network", "layers"))
    return raws


def _first(error: ConfigError, other: ConfigError | None) -> ConfigError:
    """Of two errors, the one pydantic would report first: a missing field last, then in file order."""
    if other is None:
        return error

    def key(e: ConfigError) -> tuple[bool, int, int]:
        return e.missing_field, e.line or 1 << 30, e.col or 0

    return min(error, other, key=key)


def _layers(
    doc: Document, inputs: tuple[str, ...], input_shape: tuple[int, ...] | None = None
) -> tuple[list[BaseLayerSpec], list[tuple[Any, Loc]]]:
    """Every layer's spec, each built by its type's op class (``nn/layers``) from its validated config
    model, a residual block's as its entry, its inner layers and its join (``residual.expand``); and
    each one's model and place (for the normalised config)."""
    layers: list[BaseLayerSpec] = []
    models: list[tuple[Any, Loc]] = []
    shape = input_shape or (len(inputs),)
    raws = _layer_list(doc)
    _layer_run(doc, raws, ("network", "layers"), "", (len(inputs), _("the number of inputs"), shape), layers, models)
    return layers, models


def _layer_run(
    doc: Document,
    raws: list[Any],
    where: Loc,
    prefix: str,
    below: tuple[int, str, tuple[int, ...]],
    layers: list[BaseLayerSpec],
    models: list[tuple[Any, Loc]],
) -> tuple[int, ...]:
    """The layers of ``raws`` (at ``where``: network.layers, or a block's ``layers``) appended to
    ``layers``, named with ``prefix`` (``res1.`` in block res1); ``below``: the width of their input,
    what it is (for messages) and its shape. Returns the shape of the last one's output."""
    fan_in, what, shape = below
    for i, raw in enumerate(raws):
        at: Loc = (*where, i)
        op_type, m = _layer_model(doc, i, raw, at)

        def error(message: str, *fields: str | int, at: Loc = at) -> ConfigError:
            return doc.error(message, (*at, *fields))

        def init(m: Any = m, at: Loc = at) -> InitSpec | None:
            model = _init_model(doc, at, m)
            return _checked_init(doc, (*at, "init"), model) if model is not None else None

        last = not prefix and i == len(raws) - 1
        shaped = shape if len(shape) > 1 else ()
        name = prefix + (m.name or f"layer{i + 1}")
        place = LayerPlace(i, name, fan_in, what, last, error, init, shaped)
        _check_name(doc, name, layers, (*at, "name") if m.name else at, inner=bool(prefix))
        if op_type.kind == "residual":
            from backprop_cli.nn.layers.residual import ENTRY, expand

            if not isinstance(m.layers, list) or not m.layers:
                got = (
                    _("has 0 items")
                    if isinstance(m.layers, list)
                    else _("got {value}").format(value=describe(m.layers))
                )
                raise doc.error(_("{got}; expected a list of at least 1 inner layer").format(got=got), (*at, "layers"))
            start = len(layers)
            entry = f"the input of residual block {name!r}"
            if any(isinstance(r, dict) and r.get("name") == ENTRY for r in m.layers):
                bad = next(k for k, r in enumerate(m.layers) if isinstance(r, dict) and r.get("name") == ENTRY)
                raise doc.error(
                    _(
                        "inner layer name {entry} is taken: {name}.{bare} names the block's entry; "
                        "expected another name"
                    ).format(entry=repr(ENTRY), name=name, bare=ENTRY),
                    (*at, "layers", bad, "name"),
                )
            out_shape = _layer_run(doc, m.layers, (*at, "layers"), f"{name}.", (fan_in, entry, shape), layers, models)
            inner = layers[start:]
            del layers[start:]
            inner_models = models[start:]
            del models[start:]
            layers.extend(expand(m, place, inner, shape, out_shape))
            models.extend([(m, at), *inner_models, (m, at)])
        else:
            layer = op_type.from_config(m, place)
            out_shape = layer.output_shape(shape)
            layers.append(layer)
            models.append((m, at))
        shape = out_shape
        fan_in = layers[-1].units
        what = _("the units of layer {name}").format(name=repr(layers[-1].name))
    return shape


def _nested(layers: list[BaseLayerSpec], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The layers' entries with each residual block's inner layers nested in it again (``residual.nest``)."""
    if not any(layer.kind == "residual" for layer in layers):
        return entries
    from backprop_cli.nn.layers.residual import nest

    return nest(layers, entries)


def _check_name(doc: Document, name: str, layers: list[BaseLayerSpec], where: Loc, *, inner: bool) -> None:
    """A layer's name is new, and (outside a block) not one that the trace's own names begin with."""
    if any(other.name == name for other in layers):
        raise doc.error(_("duplicate layer name {name}; expected unique names").format(name=repr(name)), where)
    if not inner and (own := reserved_layer(name)) is not None:
        raise doc.error(
            _(
                "layer name {quoted} is taken: the trace's own {own} (the {what}) begins with it, "
                "so {name}.z1 … would read as kin of it; expected another name"
            ).format(quoted=repr(name), own=repr(own[1]), what=own[0], name=name),
            where,
        )


def _named(doc: Document, key: str, model: str) -> tuple[Any, Loc]:
    """``loss: mse`` or ``loss: {name: mse, …}``, validated; returns the model and where its name is."""
    raw = doc.value[key]
    if isinstance(raw, str):
        return validate(model, {"name": raw}, doc, (key,)), (key,)
    if not isinstance(raw, dict):
        expected = _("got {value}; expected a loss name or a mapping with name")
        if key == "optimizer":
            expected = _("got {value}; expected a optimizer name or a mapping with name")
        raise doc.error(expected.format(value=describe(raw)), (key,))
    return validate(model, raw, doc, (key,)), (key, "name")


def _loss(doc: Document, output: BaseLayerSpec) -> LossSpec:
    m, at = _named(doc, "loss", "LossModel")
    needs = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(m.name)
    if needs is not None and output.activation != needs:
        raise doc.error(
            _(
                "loss {loss} with output layer {layer} of activation {activation}; expected a {needs} output layer"
            ).format(loss=repr(m.name), layer=repr(output.name), activation=repr(output.activation), needs=needs),
            at,
        )
    return LossSpec(m.name, m.reduction)


def _optimizer(doc: Document) -> tuple[OptimizerSpec, dict[str, Any]]:
    """The optimizer spec (given options only) and its normalised form (every option, torch defaults filled in)."""
    raw = doc.value["optimizer"]
    name = raw.get("name") if isinstance(raw, dict) else None  # a list or mapping here is no name (unhashable)
    if isinstance(name, str) and name in DEFAULTS:  # options checked against this optimizer's own
        valid = ["name", *DEFAULTS[raw["name"]]]
        for key in raw:
            if key not in valid:
                raise doc.error(
                    _("unknown option {key} for optimizer {optimizer}{hint}; expected one of {choices}").format(
                        key=quoted(key),
                        optimizer=quoted(raw["name"]),
                        hint=did_you_mean(key, valid),
                        choices=", ".join(valid),
                    ),
                    ("optimizer", key),
                    key=True,
                )
    m, _where = _named(doc, "optimizer", "OptimizerModel")
    given = {k: v for k, v in m.model_dump(exclude={"name", "learning_rate"}).items() if v is not None}
    given = flat_options({k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})
    learning_rate = m.learning_rate if m.learning_rate is not None else DEFAULTS[m.name]["learning_rate"]
    assert isinstance(learning_rate, float)
    options = resolved_options(m.name, given)
    try:
        check_options(m.name, options)
    except ConfigError as exc:
        at: Loc = ("optimizer", (exc.path or "").rpartition(".")[2])
        raise doc.error(exc.message, at if at[1] in given else ("optimizer",)) from None
    shown: dict[str, Any] = {k: v for k, v in options.items() if not k.startswith("beta")}
    if "beta1" in options:
        shown = {"betas": [options["beta1"], options["beta2"]], **shown}
    return OptimizerSpec(m.name, learning_rate, given), {"name": m.name, "learning_rate": learning_rate, **shown}


def _training(doc: Document, m: TrainingModel) -> TrainingSpec:
    if m.steps is not None and m.epochs is not None:
        raise doc.error(_("both steps and epochs given; expected one of them"), ("training", "epochs"))
    return TrainingSpec(m.steps, m.epochs, m.batch_size, m.shuffle, m.seed, mode=m.mode)


def _data(doc: Document, expect: Expect, base_dir: Path, override: str | os.PathLike[str] | None) -> Any:
    data = _training_data(doc, expect, base_dir, override)
    raw = doc.value.get("data")
    if not isinstance(raw, dict) or raw.get("test") is None:
        return data
    m: DataFileModel = validate("DataFileModel", raw, doc, ("data",))
    assert m.test is not None
    columns = Columns(doc, m.features, m.targets, m.label, m.classes)
    if m.label is not None and data.class_names is not None:
        # the training rows' class order, so that output unit k means the same class in both files
        columns = replace(columns, classes=list(data.class_names))
    path = base_dir / m.test
    name = str(path)
    test = load_data_file(path, name if name.isprintable() and len(name) <= 200 else quoted(name), expect, columns)
    if test.y.shape[1] != data.y.shape[1]:
        raise doc.error(
            _(
                "the test file has {test} targets per row and the training data {training}; expected the same columns"
            ).format(test=test.y.shape[1], training=data.y.shape[1]),
            ("data", "test"),
        )
    return replace(data, test=test)


def _training_data(doc: Document, expect: Expect, base_dir: Path, override: str | os.PathLike[str] | None) -> Any:
    raw = doc.value.get("data")
    columns = None
    if isinstance(raw, str) and raw.strip():  # data: rows.csv, short for {file: rows.csv}
        raw = {"file": raw}
    if isinstance(raw, dict):
        m: DataFileModel = validate("DataFileModel", raw, doc, ("data",))
        if m.label is not None and m.targets is not None:
            raise doc.error(_("both targets and label given; expected one of them"), ("data", "label"))
        if m.classes is not None and m.label is None:
            raise doc.error(_("classes without label; expected a label column to go with them"), ("data", "classes"))
        columns = Columns(doc, m.features, m.targets, m.label, m.classes)
        path = base_dir / m.file
        if override is None:
            name = str(path)  # from the config's text: an odd one is shown quoted and cut, like any quoted text
            return load_data_file(
                path, name if name.isprintable() and len(name) <= 200 else quoted(name), expect, columns
            )
        if m.label is not None and m.classes is None:
            columns = replace(columns, classes=_class_order(doc, path, expect, columns))
    if override is not None:
        return load_data_file(Path(override), os.fspath(override), expect, columns)
    if isinstance(raw, list):
        return rows_from_document(doc, ("data",), expect)
    raise doc.error(
        _("got {value}; expected a list of rows {{x, y}}, a mapping {{file, …}} or a file name").format(
            value=describe(raw)
        ),
        ("data",),
    )


def _class_order(doc: Document, path: Path, expect: Expect, columns: Columns) -> list[str]:
    """The classes of the config's own data file, in their order there: the order the output units had in
    training, which a --data file keeps (its class order of appearance may differ; a class it adds is an
    error at its cell)."""
    try:
        names = load_data_file(path, str(path), expect, columns).class_names
    except ConfigError as error:
        raise doc.error(
            _(
                "--data keeps the class order of the config's data file, which cannot be read ({problem}); "
                "expected the file, or the order named with data.classes"
            ).format(problem=error.one_line()),
            ("data", "file"),
        ) from None
    assert names is not None  # a label column always gives them
    return list(names)


def _layer_dict(layer: LayerSpec, init: InitModel | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": layer.name,
        "units": layer.units,
        "fan_in": layer.fan_in,
        "activation": layer.activation,
    }
    if layer.activation == "leaky_relu":
        out["negative_slope"] = layer.negative_slope
    out |= {
        "bias": layer.biases is not None,
        "weights": layer.weights.tolist(),
        "biases": None if layer.biases is None else layer.biases.tolist(),
        "frozen": sorted(layer.frozen),
        "init": None,
    }
    if init is not None:
        out["init"] = _init_spec(init).as_dict()
    return out


def load_config_text(
    text: str,
    *,
    source: str,
    base_dir: Path,
    data_override: str | os.PathLike[str] | None = None,
    fmt: Literal["yaml", "json"] | None = None,
) -> NetworkSpec:
    """Parse and validate config text; ``source`` names it in messages, ``base_dir`` anchors data files."""
    from backprop_cli.loading.yamlsafe import config_values

    doc = parse(text, source, fmt=fmt or guess_format(text, source), values=config_values())
    if doc.value is None:
        raise ConfigError(_("empty config; {expected}").format(expected=_(EXPECTED_TOP)), file=source)
    if not isinstance(doc.value, dict):
        raise doc.error(
            _("the top level is {value}; {expected}").format(value=describe(doc.value), expected=_(EXPECTED_TOP)), ()
        )
    _not_written_by_us(doc)
    given = doc.value if data_override is None else {"data": None, **doc.value}  # --data stands in
    try:
        model = validate("ConfigModel", given, doc, ())
    except ConfigError as error:  # the layers are validated apart (by type): the first error in the file wins
        raise _first(error, _layer_error(doc)) from None
    inputs = _input_names(doc)
    input_shape = _input_shape(doc)
    layers, layer_models = _layers(doc, inputs, input_shape)
    loss = _loss(doc, layers[-1])
    optimizer, optimizer_normalised = _optimizer(doc)
    training = _training(doc, model.training)
    bce = (0.0, 1.0) if loss.name == "bce" else None
    expect = Expect(inputs, layers[-1].units, bce, _("loss {name}").format(name=repr(loss.name)), input_shape)
    data = _data(doc, expect, base_dir, data_override)
    normalised = {
        "description": model.description,
        "network": {
            "inputs": list(input_shape or inputs),
            "layers": _nested(
                layers,
                [
                    _layer_dict(s, _init_model(doc, at, m)) if isinstance(s, LayerSpec) else s.config()
                    for s, (m, at) in zip(layers, layer_models, strict=True)
                ],
            ),
        },
        "loss": {"name": loss.name, "reduction": loss.reduction},
        "optimizer": optimizer_normalised,
        "data": {"source": data.source, "rows": data.rows}
        | ({"class_names": list(data.class_names)} if data.class_names else {}),
        "training": _training_dict(training, data.rows),
    }
    return NetworkSpec(
        inputs,
        tuple(layers),
        loss,
        optimizer,
        data,
        training,
        source,
        model.description,
        normalised,
        document=doc,
        input_shape=input_shape,
    )


def _training_dict(training: TrainingSpec, rows: int) -> dict[str, Any]:
    return {
        "steps": None if training.epochs is not None else training.steps or 1,
        "epochs": training.epochs,
        "batch_size": min(training.batch_size or rows, rows),
        "shuffle": training.shuffle,
        "seed": training.seed,
    } | ({"mode": training.mode} if training.mode != "train" else {})


def with_training(spec: NetworkSpec, *, steps: int | None = None, epochs: int | None = None) -> NetworkSpec:
    """``spec`` run for ``steps`` or ``epochs`` instead of its config's (``--steps``, ``--epochs``), with the
    normalised config saying so: the JSON's config is what ran. Batch size and shuffling stay."""
    # the option is kept, so that a budget refusal names it (budget.check_run)
    option = "--steps" if steps is not None else "--epochs"
    training = replace(spec.training, steps=steps, epochs=epochs, option=option)
    normalised = {**spec.normalised, "training": _training_dict(training, spec.data.rows)}
    return replace(spec, training=training, normalised=normalised)


def _not_written_by_us(doc: Document) -> None:
    """An answers file or a JSON document of ours is not a config: say what it is, not 'unknown field format'."""
    what = doc.value.get("format")
    if "network" not in doc.value and isinstance(what, str) and what in formats.WHAT:
        check = _(", or `backprop check {file}` to check these answers").format(file=doc.source)
        raise doc.error(
            _("this is {what}, not a config; expected a config{check}").format(
                what=formats.WHAT[what], check=check if what == formats.ANSWERS else ""
            ),
            ("format",),
        )


def load_config(path: str | os.PathLike[str], *, data_override: str | os.PathLike[str] | None = None) -> NetworkSpec:
    """Read a YAML (.yaml, .yml) or JSON (.json) config file; other names are guessed from the text."""
    source = os.fspath(path)
    text = read_text(path, source, limit=CONFIG_LIMIT, what=N_("config file"))
    suffix = Path(source).suffix.lower()
    fmt: Literal["yaml", "json"] | None = "json" if suffix == ".json" else None
    if suffix in (".yaml", ".yml"):
        fmt = "yaml"
    return load_config_text(text, source=source, base_dir=Path(source).parent, data_override=data_override, fmt=fmt)


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of config files (YAML or JSON), for editors to complete and check them."""
    from backprop_cli.loading.models import config_json_schema as schema

    return schema()


def load_network(
    config: str | None, data: str | os.PathLike[str] | None = None, steps: int | None = None
) -> tuple[NetworkSpec, Path]:
    """A network config by file or built-in example name (None: the default example), with ``data``
    replacing its data and ``steps`` its training; the spec and the file it came from."""
    from backprop_cli.loading.examples import EXAMPLES_DIR, label, resolve

    path = resolve(config)
    spec = replace(load_config(path, data_override=data), source=label(path))
    if spec.data.source != "inline" and Path(spec.data.source).parent.resolve() == EXAMPLES_DIR.resolve():
        # a built-in example's data file by name, so output does not depend on where the package is installed
        spec = replace(spec, data=replace(spec.data, source=Path(spec.data.source).name))
    if steps is not None:
        spec = with_training(spec, steps=steps)
    return spec, path
