"""What the trace document (version 2) holds, for networks and expressions alike: built here, written
by :mod:`backprop_cli.render.json_out`.

One envelope for every kind of trace (README, "The trace as data"; ``backprop schema --trace``):

    {"format": "backprop-trace", "version": 2, "kind": "network" | "expression", "exact": bool,
     "config": {...}, "inputs": [...], "names": {...}, "steps": [...], "summary": {...}}

Version 1's step keys keep their meaning (``loss``, ``parameters``, ``gradients``, ``updated`` keyed
by layer, ``samples`` 0-based; ``rows`` beside it is 1-based as names are). ``--quantities`` adds each
step's quantities: name, value, place, formula in names, and the names of its factors. The trace's
filters (``--step``, ``--layer``, ``--phase``, ``--sample``) choose what each step holds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from backprop_cli.model.filters import Filter
from backprop_cli.model.formats import TRACE
from backprop_cli.model.numbers import NumberFormat, exact_text
from backprop_cli.model.quantity import Block, Quantity

if TYPE_CHECKING:
    from backprop_cli.graph.engine import ExprTrace
    from backprop_cli.loading.expression import ExprSpec
    from backprop_cli.nn.records import StepRecord

VERSION = 2

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


def head(
    kind: str, exact: bool, config: Mapping[str, Any], inputs: Iterable[str], names: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "format": TRACE,
        "version": VERSION,
        "kind": kind,
        "exact": exact,
        "config": dict(config),
        "inputs": list(inputs),
        "names": dict(names),
    }


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


def block_entries(blocks: Iterable[Block], only: Filter, fmt: NumberFormat, seen: set[str]) -> Iterator[dict[str, Any]]:
    for block in blocks:
        if not only.wants_section(block):
            continue
        for q in block.quantities():
            if q.name not in seen and only.wants_name(q.name):
                seen.add(q.name)
                yield quantity_entry(q, fmt)


def network_step(rec: StepRecord, only: Filter, *, quantities: bool, fmt: NumberFormat) -> dict[str, Any]:
    """One step of a network's document: version 1's keys, filtered, and its quantities when asked."""
    step = filtered(rec.to_dict(), only)
    if quantities:
        from backprop_cli.nn.blocks import step_blocks  # the engine's blocks: only with --quantities

        step["quantities"] = list(block_entries(step_blocks(rec, fmt), only, fmt, set()))
    return step


def filtered(step: dict[str, Any], only: Filter) -> dict[str, Any]:
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


def _sample_part(row: dict[str, Any], only: Filter) -> dict[str, Any]:
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
    number = float(value)
    # a saturated textbook factor (∂L/∂a of a = 1 under bce) is ∞ in float64: null, as orjson writes it in
    # the trace's own arrays, so every JSON this tool writes is strict JSON
    return number if math.isfinite(number) else None


def expression_document(spec: ExprSpec, trace: ExprTrace, *, quantities: bool = False) -> dict[str, Any]:
    """An expression trace's document: the envelope with one step, its nodes and backward edges."""
    from backprop_cli.layout.expression import NAME_PATTERNS

    body = trace.to_dict()
    step: dict[str, Any] = {"step": 1, **body}
    if quantities:
        from backprop_cli.graph.blocks import expr_blocks

        step["quantities"] = list(block_entries(expr_blocks(trace), Filter(), NumberFormat(), set()))
    summary = {"output": body["output"], "value": body["value"], "gradients": body["gradients"]}
    return {
        **head("expression", trace.exact, spec.normalised, spec.graph.inputs, NAME_PATTERNS),
        "steps": [step],
        "summary": summary,
    }
