"""How one number of the trace was derived: its formula, the numbers put in, and each factor's own derivation.

A factor is every quantity the number's formula is written with (``Quantity.factors``: qualified
names, so ``x1`` in a per-sample row is that sample's input and ``h.dL_dw1_1`` in an update row the
batch-reduced gradient). Inputs, targets and parameters are the leaves; a parameter after the first
step names the value it was updated to in the step before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backprop_cli.homework.values import NamedValue
from backprop_cli.model.i18n import N_, _

if TYPE_CHECKING:
    from rich.text import Text

# a name as a line of the tree starts with it: optional qualifiers, then dotted parts (h.w1_2.m_hat)
_TOKEN = re.compile(r"(?:step\d+/)?(?:sample\d+/)?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
MAX_LINES = 400  # a derivation longer than this stops with a note: ask for a smaller --depth


@dataclass(frozen=True)
class Derivation:
    """One number and, where expanded, the derivations of the factors its formula names."""

    value: NamedValue
    kind: str  # "computed", "input", "target", "parameter" or "repeat" (expanded earlier in the tree)
    note: str  # e.g. "data row 1", "updated in step 1 (step1/h.w1_1.new)"
    factors: tuple[Derivation, ...]
    folded: bool  # it has factors that --depth left unexpanded

    def line(self, *, numbers: bool = True) -> str:
        """``h.delta1 = h.dL_da1 × h.da_dz1 = (-0.65) × 1 = -0.65``; a leaf as ``x1 = 1 (input, data row 1)``.

        Without ``numbers``, the formula alone (``h.delta1 = h.dL_da1 × h.da_dz1``, ``x1 (input, …)``):
        how it is computed, and no number of the trace (an answer that must stay hidden)."""
        v = self.value
        if self.kind in ("input", "target", "parameter"):
            shown = f" = {v.shown}" if numbers else ""
            return f"{v.name}{shown} ({_(self.kind)}{', ' + self.note if self.note else ''})"
        parts = [v.name]
        for text in (v.formula, v.written) if numbers else (v.formula,):
            if text and text not in parts and text != v.shown:
                parts.append(text)
        if numbers:
            parts.append(v.shown)
        tail = _(" (derived above)") if self.kind == "repeat" else ""
        if self.note:
            tail += f" ({self.note})"
        return " = ".join(parts) + tail


def factor_names(value: NamedValue, table: Mapping[str, NamedValue]) -> list[str]:
    """The qualified names of the factors ``value``'s formula is written with, in the order written
    (only those of the steps in ``table``: a parameter's origin outside it ends the walk)."""
    return [name for name in value.quantity.factors if name in table and name != value.name]


def _leaf(value: NamedValue, table: Mapping[str, NamedValue]) -> tuple[str, str] | None:
    """(kind, note) for an input, target or parameter; None for a computed number."""
    q = value.quantity
    if value.phase == "parameters":
        if q.origin is not None and q.origin in table:
            return N_("parameter"), _("updated in step {step}: {origin}").format(step=q.step - 1, origin=q.origin)
        return N_("parameter"), value.formula  # "frozen" or ""
    # the prose cells of the inputs' block, in the language the trace was made in (nn/blocks.py)
    target, data_row = _("target, {row}").format(row=""), _("data row {row}").format(row="")
    if q.is_given and value.formula.startswith(target):
        return N_("target"), value.formula.removeprefix(target)
    if q.is_given and value.formula.startswith(data_row):
        return N_("input"), value.formula
    return None


def derive(name: str, table: Mapping[str, NamedValue], depth: int | None = None) -> Derivation:
    """The derivation of ``name``, factors expanded ``depth`` levels deep (None: down to the leaves).

    A name already expanded elsewhere in the tree is shown once more as a line marked "derived above",
    so the tree stays as long as the number of distinct names, however the chain rule fans out.
    """
    expanded: set[str] = set()
    budget = [MAX_LINES]

    def build(current: str, level: int) -> Derivation:
        value = table[current]
        budget[0] -= 1
        leaf = _leaf(value, table)
        if leaf is not None:
            return Derivation(value, leaf[0], leaf[1], (), False)
        names = factor_names(value, table)
        if current in expanded and names:
            return Derivation(value, "repeat", "", (), False)
        expanded.add(current)
        if (depth is not None and level >= depth) or budget[0] <= 0:
            return Derivation(value, "computed", "", (), bool(names))
        return Derivation(value, "computed", "", tuple(build(n, level + 1) for n in names), False)

    return build(name, 0)


def tree_lines(derivation: Derivation, *, numbers: bool = True) -> list[tuple[str, str, str]]:
    """The derivation as (prefix, continuation, text) lines: ``├─ `` and the like before each factor, the
    prefix a wrapped line continues under, and the line itself; the last line notes folded factors."""
    lines = [("", "│  " if derivation.factors else "   ", derivation.line(numbers=numbers))]
    folded = [derivation.folded]

    def walk(node: Derivation, prefix: str) -> None:
        for index, factor in enumerate(node.factors):
            last = index == len(node.factors) - 1
            below = prefix + ("   " if last else "│  ")
            under = below + ("│  " if factor.factors else "   ")  # a long line goes on under its branch
            lines.append((f"{prefix}{'└─ ' if last else '├─ '}", under, factor.line(numbers=numbers)))
            folded[0] = folded[0] or factor.folded
            walk(factor, below)

    walk(derivation, "")
    if folded[0]:
        lines.append(("", "", _("(factors deeper than --depth are not expanded)")))
    return lines


def render_text(derivation: Derivation, *, numbers: bool = True) -> str:
    """The derivation as an indented tree of lines, plain text (terminal, JSON and Gradescope feedback);
    without ``numbers``, formulas only (``check --reveal never``: no value of the trace is shown)."""
    return "\n".join(prefix + text for prefix, _, text in tree_lines(derivation, numbers=numbers))


def render_rich(derivation: Derivation, width: int | None) -> Text:
    """The tree for a terminal: each line's name in the trace's name colour; with ``width``, a long line
    continues under its branch, broken at spaces or between tokens, never inside a name or a number."""
    from rich.text import Text

    from backprop_cli.render.fit import wrap

    out = Text()
    for prefix, continuation, text in tree_lines(derivation):
        parts = wrap(text, max(width - len(prefix), 20)) if width else [text]
        name, _space, rest = parts[0].partition(" ")
        is_name = _TOKEN.fullmatch(name) is not None
        out.append(prefix)
        out.append(name, style="cyan" if is_name else None)
        out.append(f" {rest}" if rest else "")
        for part in parts[1:]:
            out.append(f"\n{continuation}{part}")
        out.append("\n")
    out.rstrip()
    return out
