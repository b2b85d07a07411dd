"""The JSON Schema of the trace document (version 2): what ``backprop schema --trace`` prints.

Written out by hand beside the writer (``render/json_out.py``) and held to it by a test that
validates every built-in example's document against it, floats and exact, with and without
``--quantities``. Keys beyond these may be added within a version; none may change meaning.
"""

from __future__ import annotations

from typing import Any

from backprop_cli.model import formats

_NUMBER: dict[str, Any] = {
    "description": "a float (shortest round trip), an exact fraction as 'n/d' (exact traces), or null where "
    "a saturated output's textbook factor is undefined",
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?[0-9]+(/[0-9]+)?$"}, {"type": "null"}],
}


def _nested(depth: int) -> dict[str, Any]:
    """A number, or lists of numbers nested ``depth`` levels (a matrix is 2)."""
    item: dict[str, Any] = {"$ref": "#/$defs/number"}
    for _ in range(depth):
        item = {"type": "array", "items": item}
    return item


_TENSORS = {
    "description": "by layer name, then by parameter kind, in torch's shapes (weights: [units][fan_in] of a "
    "dense layer, [out][in][kh][kw] of conv2d, [out][in][k] of conv1d; biases: [units])",
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "properties": {"weights": {"anyOf": [_nested(2), _nested(4), _nested(3)]}, "biases": _nested(1)},
        "additionalProperties": True,
    },
}

_QUANTITY = {
    "type": "object",
    "required": ["name", "value", "step", "phase", "layer", "sample", "formula", "factors", "given"],
    "properties": {
        "name": {"type": "string", "description": "the stable, fully qualified name (step2/sample3/h.delta1)"},
        "value": {"$ref": "#/$defs/number"},
        "step": {"type": "integer", "minimum": 1},
        "phase": {"enum": ["parameters", "forward", "loss", "backward", "reduction", "update", "summary"]},
        "layer": {"type": ["string", "null"]},
        "sample": {"type": ["integer", "null"], "minimum": 1, "description": "the data row, 1-based"},
        "formula": {"type": "string", "description": "in names, relative to the quantity's own step and sample"},
        "factors": {"type": "array", "items": {"type": "string"}, "description": "qualified names, as written"},
        "given": {"type": "boolean", "description": "an input, target or parameter before its step"},
    },
}

_NETWORK_STEP = {
    "type": "object",
    "required": ["step", "samples", "rows", "optimizer"],
    "properties": {
        "step": {"type": "integer", "minimum": 1},
        "samples": {"type": "array", "items": {"type": "integer", "minimum": 0}, "description": "0-based data rows"},
        "rows": {"type": "array", "items": {"type": "integer", "minimum": 1}, "description": "1-based data rows"},
        "loss": {"$ref": "#/$defs/number", "description": "the batch loss before the update"},
        "parameters": {**_TENSORS, "description": "before the update"},
        "gradients": {**_TENSORS, "description": "reduced over the batch (mean or sum)"},
        "updated": {**_TENSORS, "description": "after the update"},
        "loss_after": {"$ref": "#/$defs/number"},
        "optimizer": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        "optimizer_state": {"type": "object"},
        "optimizer_values": {"type": "object", "additionalProperties": {"$ref": "#/$defs/number"}},
        "per_sample": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sample", "row"],
                "properties": {
                    "sample": {"type": "integer", "minimum": 0},
                    "row": {"type": "integer", "minimum": 1},
                    "forward": {"type": "object"},
                    "loss": {"$ref": "#/$defs/number"},
                    "loss_terms": _nested(1),
                    "target": _nested(1),
                    "dL_da_output": _nested(1),
                    "backward": {"type": "object"},
                },
            },
        },
        "quantities": {"type": "array", "items": {"$ref": "#/$defs/quantity"}},
    },
}

_EXPRESSION_STEP = {
    "type": "object",
    "required": ["step", "output", "value", "gradients", "nodes", "backward"],
    "properties": {
        "step": {"const": 1},
        "output": {"type": "string"},
        "exact": {"type": "boolean"},
        "value": {"$ref": "#/$defs/number"},
        "gradients": {"type": "object", "additionalProperties": {"$ref": "#/$defs/number"}},
        "nodes": {"type": "array", "items": {"type": "object", "required": ["name", "op", "value"]}},
        "backward": {"type": "array", "items": {"type": "object", "required": ["name", "gradient"]}},
        "quantities": {"type": "array", "items": {"$ref": "#/$defs/quantity"}},
    },
}


def trace_json_schema() -> dict[str, Any]:
    """The schema of ``backprop trace --format json`` (and of ``Trace.to_json()``)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://backprop-cli.invalid/schema/trace-v2.json",
        "title": "backprop trace document, version 2",
        "type": "object",
        "required": ["format", "version", "kind", "exact", "config", "inputs", "names", "steps", "summary"],
        "properties": {
            "format": {"const": formats.TRACE},
            "version": {"const": 2},
            "kind": {"enum": ["network", "expression"]},
            "exact": {"type": "boolean", "description": "numbers are exact fractions, written as 'n/d'"},
            "config": {"type": "object", "description": "the normalised config that ran"},
            "inputs": {"type": "array", "items": {"type": "string"}},
            "names": {"type": "object", "additionalProperties": {"type": "string"}},
            "steps": {"type": "array"},
            "summary": {"type": "object"},
        },
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": "network"}}},
                "then": {
                    "properties": {
                        "steps": {"items": {"$ref": "#/$defs/network_step"}},
                        "summary": {
                            "required": ["loss_before", "loss_after", "steps"],
                            "properties": {
                                "loss_before": {"$ref": "#/$defs/number"},
                                "loss_after": {"$ref": "#/$defs/number"},
                                "steps": {"type": "integer", "minimum": 1},
                            },
                        },
                    }
                },
            },
            {
                "if": {"properties": {"kind": {"const": "expression"}}},
                "then": {
                    "properties": {
                        "steps": {"items": {"$ref": "#/$defs/expression_step"}, "minItems": 1, "maxItems": 1},
                        "summary": {"required": ["output", "value", "gradients"]},
                    }
                },
            },
        ],
        "$defs": {
            "number": _NUMBER,
            "quantity": _QUANTITY,
            "network_step": _NETWORK_STEP,
            "expression_step": _EXPRESSION_STEP,
        },
    }
