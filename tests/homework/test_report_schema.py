"""The backprop-check JSON report and the Gradescope results.json, pinned by schemas: verdicts, the first
wrong step, ECF workings, misconception fingerprints and hints are fields, not only text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.homework.test_check import GRADESCOPE_SCHEMA
from tests.homework.test_ecf import SLIP, invoke, sheet

VERDICT = {"enum": ["correct", "ecf", "wrong", "missing", "invalid"]}
NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}
FINDING = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "title", "mistake", "rule", "answers", "unique", "recognised"],
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "mistake": {"type": "string"},
        "rule": {"type": "string"},
        "answers": NAMES,
        "unique": NAMES,
        "recognised": {"type": "boolean"},
    },
}
COUNTS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["correct", "ecf", "wrong", "missing", "invalid"],
    "properties": {k: {"type": "integer", "minimum": 0} for k in ("correct", "ecf", "wrong", "missing", "invalid")},
}
CHECK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "format",
        "version",
        "answers_file",
        "config",
        "score",
        "max_score",
        "passed",
        "counts",
        "first_wrong_step",
        "ecf",
        "rounding",
        "fingerprints",
        "feedback",
        "answers",
    ],
    "properties": {
        "format": {"const": "backprop-check"},
        "version": {"const": 1},
        "answers_file": {"type": "string"},
        "config": {
            "type": "object",
            "required": ["path", "sha256"],
            "properties": {"path": {"type": "string"}, "sha256": {"type": "string"}},
        },
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "minimum": 0},
        "passed": {"type": "boolean"},
        "counts": COUNTS,
        "first_wrong_step": {"type": ["string", "null"]},
        "ecf": {
            "type": "object",
            "additionalProperties": False,
            "required": ["credit"],
            "properties": {"credit": {"type": "number", "minimum": 0, "maximum": 1}},
        },
        "rounding": {
            "oneOf": [
                {"type": "null"},
                {"const": "exact"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {k: {"type": "integer", "minimum": 1} for k in ("decimals", "significant")},
                },
            ]
        },
        "fingerprints": {"type": "array", "items": FINDING},
        "feedback": {"type": "array", "items": {"type": "string"}},
        "answers": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "verdict", "given", "given_text", "weight", "score", "tolerance"],
                "properties": {
                    "name": {"type": "string"},
                    "verdict": VERDICT,
                    "given": {"type": ["number", "null"]},
                    "given_text": {"type": ["string", "null"]},
                    "weight": {"type": "number"},
                    "score": {"type": "number"},
                    "tolerance": {"type": "object"},
                    "expected": {"type": "number"},
                    "derivation": {"type": "string"},
                    "fingerprints": NAMES,
                    "hint": {"type": "string"},
                    "working": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["yours", "recomputed", "text"],
                        "properties": {
                            "yours": {"type": "object", "additionalProperties": {"type": "number"}},
                            "recomputed": {"type": "number"},
                            "text": {"type": "string"},
                        },
                    },
                },
            },
        },
    },
}
GRADESCOPE_EXTRA = {
    "test": {
        "type": "object",
        "additionalProperties": False,
        "required": ["verdict", "first_wrong_step", "fingerprints"],
        "properties": {
            "verdict": VERDICT,
            "first_wrong_step": {"type": "boolean"},
            "fingerprints": NAMES,
            "hint": {"type": "string"},
        },
    },
    "top": {
        "type": "object",
        "additionalProperties": False,
        "required": ["counts", "first_wrong_step", "fingerprints", "ecf"],
        "properties": {
            "counts": COUNTS,
            "first_wrong_step": {"type": ["string", "null"]},
            "fingerprints": NAMES,
            "ecf": {"type": "object"},
        },
    },
}


def sheets(tmp_path: Path) -> dict[str, Path]:
    """A slip carried forward, a sheet that forgot σ′ (the README's), hints, and a right one."""
    repo = Path(__file__).resolve().parents[2]
    return {
        "slip": sheet(tmp_path / "slip.yaml", "pytorch_snippet", SLIP),
        "sigma": repo / "docs" / "homework" / "classic_2_2_2_sheet.yaml",
        "hints": sheet(tmp_path / "hints.yaml", "classic_2_2_2", {"h.z1": -0.3775, "h.z2": 3.925, "o.a1": None}),
        "right": sheet(tmp_path / "right.yaml", "pytorch_snippet", {"out.z1": 6, "out.dL_dw1_1": -24}),
        "rounded": sheet(tmp_path / "rounded.yaml", "classic_2_2_2", {"h.a1": 0.5933}, "rounding: {decimals: 4}"),
    }


@pytest.mark.parametrize("reveal", ["never", "wrong", "always"])
def test_every_report_validates_and_carries_the_feedback_fields(tmp_path: Path, reveal: str) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra: pip install '.[test]'")
    seen: dict[str, Any] = {}
    for what, path in sheets(tmp_path).items():
        doc = json.loads(invoke("check", str(path), "--format", "json", "--reveal", reveal, "--explain").stdout)
        jsonschema.validate(doc, CHECK_SCHEMA)
        results = json.loads(invoke("check", str(path), "--format", "gradescope", "--reveal", reveal).stdout)
        jsonschema.validate(results, GRADESCOPE_SCHEMA)
        jsonschema.validate(results["extra_data"], GRADESCOPE_EXTRA["top"])
        for test in results["tests"]:
            jsonschema.validate(test["extra_data"], GRADESCOPE_EXTRA["test"])
        seen[what] = (doc, results)
    doc, results = seen["slip"]
    assert doc["first_wrong_step"] == results["extra_data"]["first_wrong_step"] == "out.z1"
    assert [t["extra_data"]["verdict"] for t in results["tests"]] == [a["verdict"] for a in doc["answers"]]
    doc, results = seen["sigma"]
    assert [f["name"] for f in doc["fingerprints"] if f["recognised"]] == ["missing_activation_derivative"]
    assert results["extra_data"]["fingerprints"] == ["missing_activation_derivative"]
    doc, _ = seen["hints"]
    assert [a.get("hint", "")[:9] for a in doc["answers"]] == ["sign only", "off by a ", ""]
    doc, _ = seen["right"]
    assert doc["passed"] and doc["first_wrong_step"] is None and doc["fingerprints"] == []
    assert doc["rounding"] is None
    doc, _ = seen["rounded"]
    assert doc["passed"] and doc["rounding"] == {"decimals": 4}


def test_the_schema_rejects_an_unknown_verdict(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra: pip install '.[test]'")
    doc = json.loads(invoke("check", str(sheets(tmp_path)["slip"]), "--format", "json").stdout)
    doc["answers"][0]["verdict"] = "partly"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, CHECK_SCHEMA)
