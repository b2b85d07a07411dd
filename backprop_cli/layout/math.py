"""Math for the documents, as plain data: a small expression tree, built from the trace's rows
(``name = formula = written out = value``, whose plain-text formulas are tokenised) and from the
textbook chain rule of a backward section. :mod:`backprop_cli.render.math` writes the tree as LaTeX
(Markdown, LaTeX) or MathML (HTML). Nothing is computed: every number is a row's formatted text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from backprop_cli.layout.rows import Row, Section
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import LayerSpec, NetworkSpec
from backprop_cli.nn.ops import ACTIVATIONS, loss_op

# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Mi:  # an identifier, a Greek letter, ∂; ``mono`` for a stable trace name
    text: str
    mono: bool = False


@dataclass(frozen=True)
class Mn:
    text: str


@dataclass(frozen=True)
class Mo:
    text: str


@dataclass(frozen=True)
class Mtext:
    text: str


@dataclass(frozen=True)
class Frac:
    num: Node
    den: Node


@dataclass(frozen=True)
class Scripts:  # base with a subscript and/or a superscript
    base: Node
    sub: Node | None = None
    sup: Node | None = None


@dataclass(frozen=True)
class Group:
    items: tuple[Node, ...]


Node = Mi | Mn | Mo | Mtext | Frac | Scripts | Group

FUNCTIONS = frozenset({"max", "min", "log", "exp", "tanh", "sign", "sqrt"})


# ---------------------------------------------------------------- plain formulas as math

_TOKEN = re.compile(
    r"(?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)"
    r"|(?P<special>[−×·½Σ∑ηδ∂σβελμαγ≤≥≠≈→←…√∇²ᵗ₀-₉])"
    r"|(?P<name>[^\W\d²₀-₉][^\W²₀-₉]*(?:[./][^\W²₀-₉]+)*)"  # ² and ₁ script the name before them
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.S,
)
_SUBSCRIPT_DIGITS = "₀₁₂₃₄₅₆₇₈₉"
#: the letters (and CJK punctuation) of the scripts the catalogues are written in (Cyrillic, Hebrew and
#: Arabic, kana and CJK ideographs, full-width forms): a word with one is translated prose, never a name
SCRIPT = re.compile(r"[\u0400-\u04ff\u0590-\u06ff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
_PROSE = frozenset(
    {"if", "else", "frozen", "target", "data", "row", "before", "the", "update", "same", "batch", "after", "undefined"}
)


def formula(text: str) -> Group:
    """A plain trace formula (``out.delta1 × hidden.a1``, ``(-0.65) × 0.475``) as a tree."""
    items: list[Node] = []
    tokens = [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(text)]
    index = 0
    while index < len(tokens):
        kind, value = tokens[index]
        index += 1
        if kind == "space":
            following = tokens[index][1] if index < len(tokens) else ""
            if (items and isinstance(items[-1], Mtext)) or following in _PROSE or SCRIPT.match(following):
                items.append(Mtext(" "))  # a space is kept only beside words of prose (``target, data row 1``)
        elif kind == "number":
            items.append(Mn(value))
        elif kind == "name" and value.startswith("_") and len(value) > 1 and items:  # Σ_k, δ_j: an index
            items.append(Scripts(items.pop(), sub=_name(value[1:])))
        elif kind == "name":
            items.append(_name(value))
        elif value == "²" and items:
            items.append(Scripts(items.pop(), sup=Mn("2")))
        elif value in _SUBSCRIPT_DIGITS and items:  # β₁, β₂ of the optimizers' hyper-parameters
            items.append(Scripts(items.pop(), sub=Mn(str(_SUBSCRIPT_DIGITS.index(value)))))
        elif value == "ᵗ" and items:  # Adam's β₁ᵗ
            items.append(Scripts(items.pop(), sup=Mi("t")))
        elif value == "^" and items and index < len(tokens):
            exponent, index = _exponent(tokens, index)
            items.append(Scripts(items.pop(), sup=formula(exponent)))
        elif kind == "other" and SCRIPT.match(value):  # a translation's punctuation (、)
            items.append(Mtext(value))
        elif kind == "special" and value in "Σηδσβελμαγ∂∇":
            items.append(Mi(value))
        else:
            items.append(Mo(value))
    merged: list[Node] = []
    for item in items:  # one \text{…} per run of prose
        if isinstance(item, Mtext) and merged and isinstance(merged[-1], Mtext):
            merged[-1] = Mtext(merged[-1].text + item.text)
        else:
            merged.append(item)
    return Group(tuple(merged))


def _name(value: str) -> Node:
    if re.fullmatch(r"[^\W\d_]_[^\W_]+", value):  # z_j, a_k: a subscripted symbol
        return Scripts(Mi(value[0]), Mi(value[2:]))
    if value in FUNCTIONS:
        return Mi(value)
    if value in _PROSE or SCRIPT.search(value):  # an English word of prose, or a translated one
        return Mtext(value)
    if len(value) == 1:
        return Mi(value)
    return Mi(value, mono=True)


def _exponent(tokens: Sequence[tuple[str, str]], index: int) -> tuple[str, int]:
    """The token after ``^``, or the parenthesised group it opens."""
    if tokens[index][1] != "(":
        return tokens[index][1], index + 1
    depth, parts = 0, []
    while index < len(tokens):
        value = tokens[index][1]
        depth += (value == "(") - (value == ")")
        parts.append(value)
        index += 1
        if depth == 0:
            break
    return "".join(parts[1:-1]), index


def row_equation(row: Row) -> Group:
    """``name = formula = written out = value``, leaving out parts that would repeat."""
    items: list[Node] = [Mi(row.name, mono=True)]
    seen = {row.value}
    for part in (row.formula, row.written):
        if part and part not in seen:
            items += [Mo("="), formula(part)]
            seen.add(part)
    items += [Mo("="), formula(row.value)]
    return Group(tuple(items))


# ---------------------------------------------------------------- the chain rule


def _d(top: Node, bottom: Node) -> Frac:
    return Frac(Group((Mi("∂"), top)), Group((Mi("∂"), bottom)))


def _s(base: str, sub: str, sup: str | None = None) -> Scripts:
    return Scripts(Mi(base), Mi(sub), Mtext(sup) if sup else None)


def chain_rule(layer: str, *, above: str | None, activation: str, slope: str, has_bias: bool) -> list[Group]:
    """The textbook chain rule of one layer's backward pass, in symbols, one equation per line."""
    loss = Mi("L")
    equations: list[Group] = []
    if above is not None:  # a hidden layer receives Σ_k δ_k·w_kj from the layer above
        upstream = (Scripts(Mo("∑"), Mi("k")), _s("δ", "k", above), Mo("·"), _s("w", "kj", above))
        equations.append(Group((_d(loss, _s("a", "j")), Mo("="), *upstream)))
    if activation == "softmax":  # every output depends on every z
        local = _d(_s("a", "k"), _s("z", "j"))
        delta: tuple[Node, ...] = (Scripts(Mo("∑"), Mi("k")), _d(loss, _s("a", "k")), Mo("·"), local)
        kronecker = Group((Mo("("), _s("δ", "kj"), Mo("−"), _s("a", "j"), Mo(")")))
        derivative: Node = Group((local, Mo("="), _s("a", "k"), kronecker))
    else:
        local = _d(_s("a", "j"), _s("z", "j"))
        delta = (_d(loss, _s("a", "j")), Mo("·"), local)
        written = ACTIVATIONS[activation].derivative_template.format(z="z_j", a="a_j", s=slope)
        derivative = Group((local, Mo("="), formula(written)))
    equations.append(Group((_s("δ", "j"), Mo("="), _d(loss, _s("z", "j")), Mo("="), *delta)))
    equations.append(Group((derivative,)))
    weight = _s("w", "ji", layer)
    by_weight = (_d(loss, _s("z", "j")), Mo("·"), _d(_s("z", "j"), weight))
    equations.append(Group((_d(loss, weight), Mo("="), *by_weight, Mo("="), _s("δ", "j"), Mo("·"), _s("a", "i", "in"))))
    if has_bias:
        equations.append(Group((_d(loss, _s("b", "j", layer)), Mo("="), _s("δ", "j"))))
    return equations


# ---------------------------------------------------------------- math per section


@dataclass(frozen=True)
class SectionMath:
    ops_latex: tuple[str, ...]  # the operation's own LaTeX (forward, loss): for Markdown and LaTeX
    chain: tuple[Group, ...]  # the chain rule in symbols (backward)
    worked: tuple[Group, ...]  # the chain for neuron 1, as rows of this section with their numbers


def _base(name: str) -> str:
    return name.rsplit("/", 1)[-1]  # without step/sample qualifiers


def section_math(spec: NetworkSpec, section: Section, fmt: NumberFormat, *, with_chain: bool = True) -> SectionMath:
    """What math goes with a section: nothing for tables of values, the rule and a worked neuron for backward."""
    layers = {layer.name: (index, layer) for index, layer in enumerate(spec.layers)}
    if section.phase == "loss" and any(_base(row.name).startswith("loss.term") for row in section.rows):
        return SectionMath((loss_op(spec.loss.name, spec.loss.reduction).latex,), (), ())
    if section.layer not in layers or section.phase not in ("forward", "backward"):
        return SectionMath((), (), ())
    index, layer = layers[section.layer]
    if not isinstance(layer, LayerSpec):  # another layer type: its own forward rule, its tables
        return SectionMath(layer.forward_latex() if section.phase == "forward" else (), (), ())
    if section.phase == "forward":
        bias = " + b_j" if layer.biases is not None else ""
        weighted = rf"z_j = \sum_i w_{{ji}}\, a^{{\text{{in}}}}_i{bias}"
        return SectionMath((weighted, ACTIVATIONS[layer.activation].latex), (), ())
    above = spec.layers[index + 1].name if index + 1 < len(spec.layers) else None
    chain: tuple[Group, ...] = ()
    if with_chain:
        slope = fmt.operand(layer.negative_slope)
        chain = tuple(
            chain_rule(
                layer.name, above=above, activation=layer.activation, slope=slope, has_bias=layer.biases is not None
            )
        )
    wanted = [f"{layer.name}.dL_da1", f"{layer.name}.chain1", f"{layer.name}.delta1", f"{layer.name}.dL_dw1_1"]
    by_base = {_base(row.name): row for row in section.rows}
    worked = tuple(row_equation(by_base[name]) for name in wanted if name in by_base)
    return SectionMath((), chain, worked)
