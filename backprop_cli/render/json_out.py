"""``--format json``: the versioned trace contract (design notes), streamed one step at a time.

Steps are written as they are produced, so memory does not grow with the number of steps.
Floats are written with full precision (repr round-trip).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from backprop_cli.spec import NetworkSpec
from backprop_cli.trace import NAME_PATTERNS, StepRecord

FORMAT = "backprop-trace"
VERSION = 1


def write_trace(
    spec: NetworkSpec,
    records: Iterable[StepRecord],
    out: TextIO,
    *,
    summary: Any = None,
    steps: frozenset[int] = frozenset(),
) -> None:
    """Write the JSON document; ``summary`` is called after the last step for the closing numbers."""
    head = {
        "format": FORMAT,
        "version": VERSION,
        "config": dict(spec.normalised),
        "inputs": list(spec.inputs),
        "names": NAME_PATTERNS,
    }
    text = json.dumps(head, ensure_ascii=False, allow_nan=False)
    out.write(text[:-1] + ', "steps": [')
    first = True
    for rec in records:
        if steps and rec.step not in steps:
            continue
        out.write(("\n" if first else ",\n") + json.dumps(rec.to_dict(), ensure_ascii=False, allow_nan=False))
        first = False
    tail = summary() if callable(summary) else summary
    out.write('\n], "summary": ' + json.dumps(tail, ensure_ascii=False, allow_nan=False) + "}\n")
