"""``--format json``: the versioned trace document (version 2), for networks and expressions alike.

One envelope for every kind of trace (README, "The trace as JSON"; ``backprop schema --trace``):

    {"format": "backprop-trace", "version": 2, "kind": "network" | "expression", "exact": bool,
     "config": {...}, "inputs": [...], "names": {...}, "steps": [...], "summary": {...}}

Version 1's step keys keep their meaning (``loss``, ``parameters``, ``gradients``, ``updated`` keyed
by layer, ``samples`` 0-based; ``rows`` beside it is 1-based as names are). ``--quantities`` adds each
step's quantities: name, value, place, formula in names, and the names of its factors. The trace's
filters (``--step``, ``--layer``, ``--phase``, ``--sample``) choose what each step holds.

Steps are written as they are produced, so memory does not grow with the number of steps. Floats are
written with full precision (shortest round trip) by orjson, which writes numpy arrays whole; exact
values are ``"n/d"`` strings; nothing non-finite is ever written (a saturated output's undefined
textbook factor is null).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TextIO

import numpy as np
import orjson

from backprop_cli.homework.values import NameFilter
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.quantity import Block, Quantity
from backprop_cli.nn.records import NAME_PATTERNS, StepRecord, exact_text

FORMAT = "backprop-trace"
VERSION = 2
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY

# what each phase of the trace holds in a step of the document (the rest of a step is always there)
PHASE_KEYS = {
    "parameters": ("parameters",),
    "forward": ("per_sample",),
    "loss": ("loss", "per_sample"),
    "backward": ("per_sample",),
    "reduction": ("gradients",),
    "update": ("updated", "optimizer_state", "optimizer_values"),
    "summary": ("loss_after",),
}
SAMPLE_KEYS = {
    "forward": ("forward",),
    "loss": ("loss", "loss_terms", "target", "dL_da_output"),
    "backward": ("backward",),
}
_ALWAYS = ("step", "samples", "rows", "optimizer")


def dumps(document: Any) -> str:
    """One JSON text: orjson with numpy arrays written whole. A NaN or ∞ anywhere is a loud ValueError,
    never ``Infinity`` or a silent null (orjson writes non-finite floats as null): every number the
    engine makes is checked where it is made, so one here is a regression."""
    _refuse_non_finite(document)
    return orjson.dumps(document, option=_OPTIONS).decode()


def _refuse_non_finite(value: Any) -> None:
    """Walk the document's containers (an array is one node: its values are checked at once)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list | tuple):
            todo.extend(item)
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise ValueError(f"Out of range float values are not JSON compliant: {item!r}")
        elif isinstance(item, np.ndarray) and item.dtype.kind == "f" and not np.isfinite(item).all():
            raise ValueError("Out of range float values are not JSON compliant: an array holds one")


def head(
    kind: str, exact: bool, config: Mapping[str, Any], inputs: Iterable[str], names: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "exact": exact,
        "config": dict(config),
        "inputs": list(inputs),
        "names": dict(names),
    }


def write_document(
    top: Mapping[str, Any], steps: Iterable[Mapping[str, Any]], out: TextIO, summary: Callable[[], Any]
) -> None:
    """The envelope ``top``, the steps one by one as they come, then the summary (called after the last step)."""
    text = dumps(top)
    out.write(text[:-1] + ',"steps":[')
    for index, step in enumerate(steps):
        out.write(("\n" if index == 0 else ",\n") + dumps(step))
    out.write('\n],"summary":' + dumps(summary()) + "}\n")


def quantity_entry(q: Quantity, fmt: NumberFormat) -> dict[str, Any]:
    """One quantity as the document lists it (``--quantities``; also ``backprop names --format json``)."""
    return {
        "name": q.name,
        "value": _value(q.value),
        "step": q.step,
        "phase": q.phase,
        "layer": q.layer,
        "sample": None if q.sample is None else q.sample + 1,
        "formula": q.formula(fmt),
        "factors": list(q.factors),
        "given": q.is_given,
    }


def block_entries(
    blocks: Iterable[Block], only: NameFilter, fmt: NumberFormat, seen: set[str]
) -> Iterator[dict[str, Any]]:
    for block in blocks:
        if not only.wants_section(block):
            continue
        for q in block.quantities():
            if q.name not in seen and only.wants_name(q.name):
                seen.add(q.name)
                yield quantity_entry(q, fmt)


def network_step(rec: StepRecord, only: NameFilter, *, quantities: bool, fmt: NumberFormat) -> dict[str, Any]:
    """One step of a network's document: version 1's keys, filtered, and its quantities when asked."""
    step = filtered(rec.to_dict(), only)
    if quantities:
        from backprop_cli.nn.blocks import step_blocks

        step["quantities"] = list(block_entries(step_blocks(rec, fmt), only, fmt, set()))
    return step


def filtered(step: dict[str, Any], only: NameFilter) -> dict[str, Any]:
    """A step holding what the filters choose: the phases' keys, the layers' entries, the samples' rows."""
    if only.phases:
        keep = {key for phase in only.phases for key in PHASE_KEYS[phase]}
        step = {k: v for k, v in step.items() if k in keep or k in _ALWAYS}
    if only.layers:
        for key in ("parameters", "gradients", "updated", "optimizer_state"):
            if key in step:
                step[key] = {layer: v for layer, v in step[key].items() if layer in only.layers}
    if "per_sample" in step:
        rows = step["per_sample"]
        if only.samples:
            rows = [r for r in rows if r["row"] in only.samples]
        if only.phases or only.layers:
            rows = [_sample_part(r, only) for r in rows]
        step["per_sample"] = rows
    return step


def _sample_part(row: dict[str, Any], only: NameFilter) -> dict[str, Any]:
    keys = {"sample", "row"}
    for phase in only.phases or SAMPLE_KEYS:
        keys.update(SAMPLE_KEYS.get(phase, ()))
    part = {k: v for k, v in row.items() if k in keys}
    if only.layers:
        for key in ("forward", "backward"):
            if key in part:
                part[key] = {layer: v for layer, v in part[key].items() if layer in only.layers}
    return part


def _value(value: Any) -> Any:
    from fractions import Fraction

    if isinstance(value, Fraction):
        return exact_text(value)
    v = float(value)
    return v if v == v and abs(v) != float("inf") else None


__all__ = ["FORMAT", "NAME_PATTERNS", "VERSION", "dumps", "head", "network_step", "write_document"]
