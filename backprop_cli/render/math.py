"""The documents' math written out: the tree of :mod:`backprop_cli.layout.math` as LaTeX (for ``$$…$$``
in Markdown and equation environments in LaTeX) or as presentation MathML (HTML)."""

from __future__ import annotations

from html import escape

from backprop_cli.layout.math import FUNCTIONS, SCRIPT, Frac, Group, Mi, Mn, Mo, Mtext, Node, Scripts

# Greek letters and operators: how LaTeX spells the characters the trace prints.
LATEX_SYMBOLS = {
    "−": "-",
    "×": r"\times",
    "·": r"\cdot",
    "½": r"\tfrac{1}{2}",
    "Σ": r"\Sigma",
    "∑": r"\sum",
    "η": r"\eta",
    "δ": r"\delta",
    "∂": r"\partial",
    "σ": r"\sigma",
    "β": r"\beta",
    "ε": r"\varepsilon",
    "λ": r"\lambda",
    "μ": r"\mu",
    "α": r"\alpha",
    "γ": r"\gamma",
    "≤": r"\le",
    "≥": r"\ge",
    "≠": r"\ne",
    "≈": r"\approx",
    "→": r"\to",
    "∇": r"\nabla",
    "←": r"\leftarrow",
    "…": r"\dots",
    "∞": r"\infty",
    "√": r"\surd",
    "{": r"\{",
    "}": r"\}",
    "|": r"\vert",
    "%": r"\%",
    "#": r"\#",
    "&": r"\&",
    "$": r"\$",
    "_": r"\_",
    "~": r"\sim",
    "\\": r"\backslash",
}
_MONO_ESCAPES = {"_": r"\_", "%": r"\%", "#": r"\#", "&": r"\&", "$": r"\$", "{": r"\{", "}": r"\}"}
_LATEX_FUNCTIONS = frozenset({"max", "min", "log", "exp", "tanh"})
_TEXT_ESCAPES = {**_MONO_ESCAPES, "\\": r"\textbackslash{}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}


def _mono(text: str) -> str:
    return "".join(_MONO_ESCAPES.get(c, c) if c.isascii() else _latex_char(c) for c in text)


def _latex_char(c: str) -> str:
    if c in LATEX_SYMBOLS:
        return LATEX_SYMBOLS[c]
    if c.isascii():
        return c
    return rf"\text{{[U+{ord(c):04X}]}}"  # pdflatex has no glyph for it: name it rather than fail


def latex(node: Node) -> str:
    """The tree as LaTeX math (for ``$$…$$`` in Markdown and equation environments in LaTeX)."""
    if isinstance(node, Mi):
        if node.mono:
            return rf"\mathtt{{{_mono(node.text)}}}"
        if node.text in FUNCTIONS:
            return rf"\{node.text} " if node.text in _LATEX_FUNCTIONS else rf"\operatorname{{{node.text}}}"
        spelled = "".join(_latex_char(c) for c in node.text)
        return spelled + (" " if spelled.startswith("\\") and spelled[-1].isalpha() else "")
    if isinstance(node, Mn):
        return node.text
    if isinstance(node, Mo):
        spelled = "".join(_latex_char(c) for c in node.text)
        spaced = node.text in ("=", "+", "−", "×", "≤", "≥", ">", "<", "←") or spelled.startswith("\\")
        return f" {spelled} " if spaced else spelled
    if isinstance(node, Mtext):
        spelled = "".join(
            _TEXT_ESCAPES.get(c, c) if c.isascii() else c if SCRIPT.match(c) else f"${_latex_char(c)}$"
            for c in node.text
        )  # a translation's letters as they are: the document loads their fonts (render/latex.py)
        return rf"\text{{{spelled}}}"
    if isinstance(node, Frac):
        return rf"\frac{{{latex(node.num)}}}{{{latex(node.den)}}}"
    if isinstance(node, Scripts):
        base = latex(node.base).strip()
        simple = isinstance(node.base, Mo) or (isinstance(node.base, Mi) and not node.base.mono)
        out = base if simple else "{" + base + "}"
        if node.sub is not None:
            out += "_{" + latex(node.sub) + "}"
        if node.sup is not None:
            out += "^{" + latex(node.sup) + "}"
        return out
    return "".join(latex(item) for item in node.items)


def mathml(node: Node) -> str:
    """The tree as presentation MathML (the inside of a ``<math>`` element)."""
    if isinstance(node, Mi):
        variant = ' mathvariant="monospace"' if node.mono else ""
        return f"<mi{variant}>{escape(node.text)}</mi>"
    if isinstance(node, Mn):
        return f"<mn>{escape(node.text)}</mn>"
    if isinstance(node, Mo):
        return f"<mo>{escape(node.text)}</mo>"
    if isinstance(node, Mtext):  # no-break spaces: browsers drop an mtext's outer spaces ("1 if z > 0")
        return f"<mtext>{escape(node.text).replace(' ', chr(0xA0))}</mtext>"
    if isinstance(node, Frac):
        return f"<mfrac>{_mrow(node.num)}{_mrow(node.den)}</mfrac>"
    if isinstance(node, Scripts):
        base = _mrow(node.base)
        if node.sub is not None and node.sup is not None:
            return f"<msubsup>{base}{_mrow(node.sub)}{_mrow(node.sup)}</msubsup>"
        if node.sub is not None:
            return f"<msub>{base}{_mrow(node.sub)}</msub>"
        return f"<msup>{base}{_mrow(node.sup or Group(()))}</msup>"
    return "".join(mathml(item) for item in node.items)


def _mrow(node: Node) -> str:
    return f"<mrow>{mathml(node)}</mrow>"
