"""The trace as a LaTeX Beamer deck (16:9) for pdflatex: the HTML deck's slides as frames, revealed with
overlays (``\\uncover``): each row's name and formula first, its numbers at the next overlay, a chain
rule an equation at a time, the network drawn with TikZ and the frame's layer lit.

Pure layout of :mod:`backprop_cli.layout.slides`; text, names and formulas are set as the LaTeX
document sets them (:mod:`backprop_cli.render.latex`). Beamer loads pgf/TikZ itself, so the deck needs
nothing beyond a TeX installation with Beamer (texlive-latex-recommended with texlive-pictures); a Russian
or Japanese deck adds the LaTeX document's language packages (T2A and babel, or CJKutf8 in its sans-serif
Gothic face).
"""

from __future__ import annotations

from typing import TextIO

from backprop_cli.layout.document import Document, TraceJob, build
from backprop_cli.layout.header import network_columns
from backprop_cli.layout.slides import Deck, Slide, deck
from backprop_cli.model.i18n import _
from backprop_cli.render.latex import body, inline, name, note, preamble, right_to_left, text
from backprop_cli.render.math import latex
from backprop_cli.render.tikz import network_tikz as tikz

PREAMBLE = r"""\documentclass[aspectratio=169,10pt]{beamer}
\usepackage{amsmath}
\usepackage{booktabs}
\usepackage{array}
\usepackage{tikz}
\setbeamertemplate{navigation symbols}{}
\setbeamertemplate{footline}[frame number]
\setbeamercovered{invisible}
\definecolor{lit}{RGB}{188,76,0}
\definecolor{litfill}{RGB}{255,216,181}
\newcolumntype{L}[1]{>{\raggedright\arraybackslash}p{#1}}
\newcolumntype{R}[1]{>{\raggedleft\arraybackslash}p{#1}}
"""


def _widths(slide: Slide) -> str:
    """Column widths that fill the line exactly: each a share of it less its padding (the outer
    padding is dropped, ``@{}``, which the shares' sum of 1 leaves as slack)."""
    kinds = [0.25] + [0.26] * slide.has_formula + [0.24] * bool(slide.written_heading)
    value = (1 - sum(kinds)) / len(slide.columns)
    shares = [("L", k) for k in kinds] + [("R", value)] * len(slide.columns)
    return "@{}" + "".join(rf"{a}{{\dimexpr{k:.3f}\linewidth-2\tabcolsep\relax}}" for a, k in shares) + "@{}"


def _cover(when: int, body: str) -> str:
    return rf"\uncover<{when + 1}->{{{body}}}" if body else ""


def table(slide: Slide) -> str:
    """The frame's table: a row's name and formula at one overlay, its numbers at the next."""
    header = [_("name")] + [_("formula")] * slide.has_formula + [slide.written_heading] * bool(slide.written_heading)
    header += list(slide.columns)
    lines = [
        r"{\scriptsize\setlength{\tabcolsep}{3pt}",
        rf"\begin{{tabular}}{{{_widths(slide)}}}",
        r"\toprule",
        " & ".join(rf"\textbf{{{text(h)}}}" for h in header) + r" \\",
        r"\midrule",
    ]
    for row, (first, then) in zip(slide.rows, slide.reveals(), strict=True):
        cells = [_cover(first, name(row.name))]
        if slide.has_formula:
            cells.append(_cover(first, inline(row.formula)))
        if slide.written_heading:
            cells.append(_cover(then, inline(row.written)))
        cells += [_cover(then, inline(value)) for value in row.values]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}"]
    return "\n".join(lines)


def frame(slide: Slide) -> str:
    # a batch side by side, or the long equations of a chain rule, take the whole frame, without the picture
    wide = len(slide.columns) > 1 or slide.kind != "table"
    out = [r"\begin{frame}", rf"\frametitle{{{text(slide.title)}}}", rf"\framesubtitle{{{text(slide.heading)}}}"]
    main: list[str] = []
    if slide.equations:
        main.append(r"{\footnotesize" + "".join(rf"\[{eq}\]" for eq in slide.equations) + "}")
    if slide.kind == "table":
        main.append(table(slide))
    else:
        for (when, _then), equation in zip(slide.reveals(), slide.chain, strict=True):
            main.append(_cover(when, rf"{{\small\[{latex(equation).strip()}\]}}"))
    if slide.note:
        main.append(rf"{{\scriptsize\emph{{{note(slide.note)}}}}}")
    if slide.picture is None or wide:
        out += main
    else:
        out += [r"\begin{columns}[T]", r"\begin{column}{0.72\textwidth}", *main, r"\end{column}"]
        out += [r"\begin{column}{0.26\textwidth}", tikz(slide.picture), r"\end{column}", r"\end{columns}"]
    out.append(r"\end{frame}")
    return "\n".join(out) + "\n"


def title_frame(d: Deck) -> str:
    out = [r"\begin{frame}", rf"\frametitle{{{text(d.title)}}}"]
    if d.description:
        out.append(text(d.description) + r"\par\medskip")
    if d.network:
        columns = network_columns()
        spec = "@{}" + "l" * len(columns) + "@{}"
        rows = [" & ".join(text(c) for c in row) + r" \\" for row in d.network]
        head = " & ".join(rf"\textbf{{{text(c)}}}" for c in columns) + r" \\"
        out.append(rf"{{\scriptsize\begin{{tabular}}{{{spec}}}\toprule" + "\n" + head + "\n\\midrule\n")
        out.append("\n".join(rows) + "\n\\bottomrule\\end{tabular}}\\par\\medskip")
    out.append(
        r"{\tiny\begin{itemize}" + "".join(rf"\item {note(line)}" + "\n" for line in d.facts) + r"\end{itemize}}"
    )
    if d.picture is not None:
        out.append(r"\hfill" + tikz(d.picture))
    out.append(r"\end{frame}")
    return "\n".join(out) + "\n"


def render(doc: Document) -> str:
    """The whole deck as one LaTeX string."""
    d = deck(doc)
    opening, closing = body("goth")
    out = [preamble(PREAMBLE), r"\begin{document}" + ("\n" + opening.rstrip("\n") if opening else ""), ""]
    out.append(title_frame(d))
    out += [frame(slide) for slide in d.slides]
    if d.closing or d.notice:
        lines = r"\par\medskip ".join(text(line) for line in (d.notice, d.closing) if line)
        summary = text(_("Summary"))
        out.append(r"\begin{frame}" + f"\n\\frametitle{{{summary}}}\n" + lines + "\n\\end{frame}\n")
    if closing:
        out.append(closing.rstrip("\n"))
    out.append(r"\end{document}" + "\n")
    return right_to_left("\n".join(out))


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(render(build(job)))


def write_document(doc: Document, stream: TextIO, width: int | None = None) -> None:
    """A document already laid out (an expression's trace): ``width`` is for terminal images only."""
    stream.write(render(doc))
