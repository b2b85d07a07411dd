"""The trace as a standalone LaTeX document (``article``, ``amsmath``, ``booktabs``) that pdflatex compiles.

Pure layout of :mod:`backprop_cli.render.document`. Only packages of a basic TeX installation are used
(``geometry``, ``amsmath``, ``booktabs``, ``longtable``, ``array``). Every character the trace prints
(−, ·, ×, ², η, δ, Σ, ∂ …) is spelled as a LaTeX macro; a character pdflatex cannot set is written as
its code point (``[U+0416]``) rather than breaking the build.
"""

from __future__ import annotations

import unicodedata
from typing import TextIO

from backprop_cli.render.document import Document, TraceJob, build, placed_sections
from backprop_cli.render.header import NETWORK_COLUMNS
from backprop_cli.render.math import LATEX_SYMBOLS, formula, latex
from backprop_cli.render.rows import Section

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[a4paper,landscape,margin=1.5cm]{geometry}
\usepackage{amsmath}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{array}
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
\newcolumntype{L}[1]{>{\raggedright\arraybackslash}p{#1}}
"""

_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "²": r"\textsuperscript{2}",
    "₁": r"\textsubscript{1}",  # β₁, β₂ and Adam's β₁ᵗ in the optimizers' notes
    "₂": r"\textsubscript{2}",
    "ᵗ": r"\textsuperscript{t}",
    "\n": " ",
}
_COLUMNS = {"name": "L{0.2\\linewidth}", "formula": "L{0.31\\linewidth}", "written out": "L{0.31\\linewidth}"}


def text(value: str) -> str:
    """Prose for text mode: TeX's special characters escaped, symbols as math macros."""
    out = []
    for c in value:
        if c in _TEXT:
            out.append(_TEXT[c])
        elif c.isascii():
            out.append(c)
        elif c in LATEX_SYMBOLS:
            out.append(rf"\ensuremath{{{LATEX_SYMBOLS[c]}}}")
        elif "\u00c0" <= c <= "\u00ff" and unicodedata.category(c).startswith("L"):
            out.append(c)  # Latin-1 letters: pdflatex's utf8 input sets them
        else:
            out.append(f"[U+{ord(c):04X}]")
    return "".join(out)


def name(value: str) -> str:
    """A stable name in typewriter type, breakable after ``/`` and ``.``."""
    return r"\texttt{" + text(value).replace("/", r"/\allowbreak{}").replace(".", r".\allowbreak{}") + "}"


def inline(value: str) -> str:
    return f"${latex(formula(value)).strip()}$" if value else ""


def tabular(header: list[str], rows: list[list[str]], spec: str) -> str:
    lines = [rf"\begin{{longtable}}{{@{{}}{spec}@{{}}}}", r"\toprule", " & ".join(header) + r" \\", r"\midrule"]
    lines += [r"\endhead"]
    lines += [" & ".join(row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{longtable}"]
    return "\n".join(lines) + "\n"


def section_table(section: Section) -> str:
    has_formula = any(row.formula for row in section.rows)
    has_written = any(row.written for row in section.rows)
    header = ["name"] + ["formula"] * has_formula + ["written out"] * has_written
    spec = "".join(_COLUMNS[column] for column in header) + "r"
    rows = []
    for row in section.rows:
        cells = [name(row.name)]
        if has_formula:
            cells.append(inline(row.formula))
        if has_written:
            cells.append(inline(row.written))
        cells.append(inline(row.value))
        rows.append(cells)
    return tabular([rf"\textbf{{{column}}}" for column in [*header, "value"]], rows, spec)


def display(equations: list[str]) -> str:
    return "\\begin{gather*}\n" + " \\\\\n".join(equations) + "\n\\end{gather*}\n"


def render(doc: Document) -> str:
    """The whole document as one LaTeX string."""
    out = [PREAMBLE, r"\begin{document}", "", rf"\section*{{{text(doc.title)}}}", ""]
    if doc.description:
        out.append(text(doc.description) + "\n")
    out.append(
        tabular(
            [rf"\textbf{{{text(column)}}}" for column in NETWORK_COLUMNS],
            [[text(cell) for cell in row] for row in doc.network],
            "l" * len(NETWORK_COLUMNS),
        )
    )
    out.append("\\begin{itemize}\n" + "".join(rf"\item {text(line)}" + "\n" for line in doc.facts) + "\\end{itemize}\n")
    for part in doc.steps:
        out.append(rf"\subsection*{{{text(part.heading)}}}" + "\n")
        for placed in placed_sections(doc, part):
            section, maths = placed.section, placed.maths
            if placed.phase_title:
                out.append(rf"\subsubsection*{{{placed.phase_title}}}" + "\n")
            if placed.subtitle:
                out.append(rf"\textbf{{{text(placed.subtitle)}}}\nopagebreak" + "\n")
            if maths.ops_latex:
                out.append(display(list(maths.ops_latex)))
            if maths.chain:
                out.append("The chain rule for this layer:\n" + display([latex(eq).strip() for eq in maths.chain]))
            out.append(section_table(section))
            if section.note:
                out.append(rf"\emph{{{text(section.note)}}}" + "\n")
            if maths.worked:
                out.append("Worked for neuron 1, with the numbers of the table:\n")
                out += [f"${latex(eq).strip()}$\\par\n" for eq in maths.worked]
    if doc.notice:
        out.append(rf"\emph{{{text(doc.notice)}}}" + "\n")
    if doc.closing:
        out.append(rf"\textbf{{{text(doc.closing)}}}" + "\n")
    out.append(r"\end{document}" + "\n")
    return "\n".join(out)


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(render(build(job)))
