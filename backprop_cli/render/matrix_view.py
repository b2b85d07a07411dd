"""The matrix view written out: bracketed matrices with their names and shapes, as terminal text, LaTeX math
(Markdown's ``$$`` and the LaTeX document) and MathML (HTML). Pure layout of :mod:`backprop_cli.layout.matrix`.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from rich.console import Group as RichGroup
from rich.console import RenderableType
from rich.text import Text

from backprop_cli.layout.document import Document
from backprop_cli.layout.math import formula
from backprop_cli.layout.matrix import Equation, Matrix, MatrixSection
from backprop_cli.render.math import latex, mathml

_LATEX_OPERATORS = {"·": r"\cdot", "⊙": r"\odot", "=": "=", "+": "+", "−": "-", ",": ",", ")": ")"}


def label(m: Matrix) -> str:
    """A matrix's name as shown above it: without the step (the heading says it)."""
    base = m.name.split("/", 1)[1] if m.name.startswith("step") and "/" in m.name else m.name
    return base


# ---------------------------------------------------------------- terminal


def _brackets(rows: int) -> list[tuple[str, str]]:
    if rows == 1:
        return [("[", "]")]
    return [("⎡", "⎤"), *[("⎢", "⎥")] * (rows - 2), ("⎣", "⎦")]


def matrix_lines(m: Matrix) -> list[str]:
    """The matrix as text: its label and shape, then its rows between brackets, columns right-aligned."""
    widths = [max(len(v) for v in column) for column in zip(*m.values, strict=True)]
    body = ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in m.values]
    rows = [f"{left} {line} {right}" for (left, right), line in zip(_brackets(len(body)), body, strict=True)]
    return [label(m), f"({m.shape_text})", *rows]


def equation_lines(eq: Equation, width: int) -> list[str]:
    """An equation's terms side by side (operators on the middle row), or one under another where the
    line would be wider than ``width``."""
    blocks = [matrix_lines(t) if isinstance(t, Matrix) else ["", "", t] for t in eq.terms]
    height = max(len(b) for b in blocks)
    middle = 2 + (height - 3) // 2
    columns = []
    for block, term in zip(blocks, eq.terms, strict=True):
        if isinstance(term, str):
            block = [""] * middle + [term]
        block_width = max(len(line) for line in block)
        columns.append([line.ljust(block_width) for line in block] + [" " * block_width] * (height - len(block)))
    lines = [" ".join(column[k] for column in columns).rstrip() for k in range(height)]
    if max(len(line) for line in lines) <= width:
        return lines
    stacked: list[str] = []
    for block in blocks:
        stacked += [line for line in block if line]
    return stacked


def section_text(section: MatrixSection, width: int) -> RenderableType:
    parts: list[RenderableType] = [Text(section.title, style="bold")]
    for eq in section.equations:
        parts.append(Text("\n".join(equation_lines(eq, width))))
        for row in eq.worked:
            parts.append(Text(f"  {row.name} = {row.written} = {row.value}"))
        if eq.why:
            parts.append(Text(f"  {eq.why}", style="italic"))
        parts.append(Text(""))
    if section.note:
        parts.append(Text(section.note, style="italic"))
    return RichGroup(*parts)


def terminal_outputs(doc: Document, width: int) -> Iterator[RenderableType]:
    """The matrix view's steps for the terminal (the header is the scalar trace's)."""
    for step in doc.matrix:
        yield Text(step.heading, style="bold")
        for section in step.sections:
            yield section_text(section, width)


# ---------------------------------------------------------------- LaTeX math


def _tex_name(text: str) -> str:
    return latex(formula(text.replace("ᵀ", ""))).strip() + ("^{\\mathsf{T}}" if text.endswith("ᵀ") else "")


def matrix_latex(m: Matrix) -> str:
    body = r" \\ ".join(" & ".join(latex(formula(v)).strip() for v in row) for row in m.values)
    name = _tex_name(label(m))
    shape = m.shape_text.replace("×", r"\times ")
    return rf"\underset{{{name}\ ({shape})}}{{\begin{{bmatrix}}{body}\end{{bmatrix}}}}"


def equation_latex(eq: Equation) -> str:
    out = []
    for term in eq.terms:
        if isinstance(term, Matrix):
            out.append(matrix_latex(term))
        elif term in _LATEX_OPERATORS:
            out.append(_LATEX_OPERATORS[term])
        elif term.endswith("("):
            out.append(rf"\operatorname{{{term[:-1]}}}(")
        else:
            out.append(latex(formula(term)).strip())
    return " ".join(out)


# ---------------------------------------------------------------- MathML


def matrix_mathml(m: Matrix) -> str:
    rows = "".join("<mtr>" + "".join(f"<mtd><mn>{escape(v)}</mn></mtd>" for v in row) + "</mtr>" for row in m.values)
    table = f"<mrow><mo>[</mo><mtable>{rows}</mtable><mo>]</mo></mrow>"
    under = f'<mrow><mi mathvariant="monospace">{escape(label(m))}</mi><mtext>\u00a0({m.shape_text})</mtext></mrow>'
    return f"<munder>{table}{under}</munder>"


def equation_mathml(eq: Equation) -> str:
    out = []
    for term in eq.terms:
        if isinstance(term, Matrix):
            out.append(matrix_mathml(term))
        elif term.endswith("("):
            out.append(f"<mi>{escape(term[:-1])}</mi><mo>(</mo>")
        elif term in _LATEX_OPERATORS:
            out.append(f"<mo>{escape(term)}</mo>")
        else:
            out.append(mathml(formula(term)))
    return f'<math display="block">{"".join(out)}</math>'
