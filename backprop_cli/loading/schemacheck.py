"""A fast, conservative check of config values against the shipped JSON Schema, without pydantic.

Importing pydantic and building the config models costs about 100 ms, half the start-up of
``backprop trace`` (benchmarks/run.py). Valid configs do not need it: this module checks a value
against ``examples/backprop-config.schema.json`` (which ``backprop schema`` prints from the pydantic
models, and a test keeps current) and, when the value passes, returns plain objects with the models'
attributes and defaults. Anything it does not pass, or a schema keyword it does not know, gives
``None``: the caller then validates with pydantic, which owns every error message. So this module
may be stricter than the models, never looser (tests/test_hardening.py compares the two on fuzzed
configs, and checks that the models have no validators the schema cannot show).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).parent.parent / "examples" / "backprop-config.schema.json"
_KNOWN = {
    "$ref",
    "anyOf",
    "type",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "default",
    "description",
    "title",
    "$schema",
    "$defs",
}


class _Unsure(Exception):
    """The value does not pass (or the schema says something this module does not know)."""


class Validated:
    """A model's fields as attributes (aliases such as ``$schema`` become ``schema_``), like pydantic's."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.__dict__.update({_attribute(name): value for name, value in fields.items()})

    def model_dump(self, *, exclude: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
        return {name: _dump(value) for name, value in vars(self).items() if name not in exclude}

    def __repr__(self) -> str:
        return f"Validated({vars(self)!r})"


def _attribute(name: str) -> str:
    return f"{name[1:]}_" if name.startswith("$") else name


def _dump(value: Any) -> Any:
    if isinstance(value, Validated):
        return value.model_dump()
    if isinstance(value, list):
        return [_dump(item) for item in value]
    return value


@functools.cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def validated(model: str, value: Any) -> Validated | None:
    """``value`` as model ``model`` (a ``$defs`` name, or ``ConfigModel`` for the whole file), or None."""
    schema = _schema()
    node = schema if model == "ConfigModel" else schema["$defs"].get(model)
    if node is None:
        return None
    try:
        result = _check(node, value)
    except (_Unsure, RecursionError, re.error, TypeError, ValueError, OverflowError):
        return None
    return result if isinstance(result, Validated) else None


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        raise _Unsure(ref)
    return {**_schema()["$defs"][ref[len("#/$defs/") :]], **{k: v for k, v in node.items() if k != "$ref"}}


def _check(node: Mapping[str, Any], value: Any) -> Any:
    """The checked value: objects become :class:`Validated`, with defaults filled in."""
    node = _resolve(node)
    if not set(node) <= _KNOWN:
        raise _Unsure(set(node) - _KNOWN)
    if "anyOf" in node:
        return _any_of(node["anyOf"], value)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return _object(node, value)
    if kind == "array":
        if not isinstance(value, list):
            raise _Unsure
        _bounds(node, len(value), "minItems", "maxItems")
        items = node.get("items")
        return [_check(items, item) for item in value] if items is not None else list(value)
    if kind == "string":
        if not isinstance(value, str):
            raise _Unsure
        _bounds(node, len(value), "minLength", "maxLength")
        if "pattern" in node and re.fullmatch(node["pattern"], value) is None:
            raise _Unsure
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Unsure
        _range(node, value)
    elif kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise _Unsure
        _range(node, value)
        return float(value)  # as pydantic's float fields give it
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _Unsure
    elif kind == "null":
        if value is not None:
            raise _Unsure
    elif kind is not None or "enum" not in node:
        raise _Unsure(kind)
    if "enum" in node and value not in node["enum"]:
        raise _Unsure
    return value


def _any_of(options: list[Mapping[str, Any]], value: Any) -> Any:
    nullable = [option for option in options if option.get("type") != "null"]
    if value is None and len(nullable) < len(options):
        return None
    if len(nullable) == 1:  # X | None: checked and converted as X, as pydantic does
        return _check(nullable[0], value)
    for option in nullable:  # a union (SkipValidation in the models): checked, but kept as written
        try:
            _check(option, value)
        except _Unsure:
            continue
        return value
    raise _Unsure


def _object(node: Mapping[str, Any], value: Any) -> Validated:
    if not isinstance(value, dict) or node.get("additionalProperties", True) is not False:
        raise _Unsure
    properties: Mapping[str, Any] = node.get("properties", {})
    if not set(value) <= set(properties) or not set(node.get("required", ())) <= set(value):
        raise _Unsure
    fields: dict[str, Any] = {}
    for name, field in properties.items():
        if name in value:
            fields[name] = _check(field, value[name])
        elif "default" in field:
            default = copy.deepcopy(field["default"])
            fields[name] = _check(field, default) if isinstance(default, dict) else default
        else:
            raise _Unsure(name)
    return Validated(fields)


def _bounds(node: Mapping[str, Any], size: int, low: str, high: str) -> None:
    if size < node.get(low, 0) or (high in node and size > node[high]):
        raise _Unsure


def _range(node: Mapping[str, Any], number: float) -> None:
    if "minimum" in node and not number >= node["minimum"]:
        raise _Unsure
    if "maximum" in node and not number <= node["maximum"]:
        raise _Unsure
    if "exclusiveMinimum" in node and not number > node["exclusiveMinimum"]:
        raise _Unsure
    if "exclusiveMaximum" in node and not number < node["exclusiveMaximum"]:
        raise _Unsure
