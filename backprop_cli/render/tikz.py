r"""Pictures as TikZ for LaTeX: the network (the Beamer deck's frames and the LaTeX document's top) and an
expression's computation graph (the LaTeX document).

Pure writing of :mod:`backprop_cli.layout.network_picture` and :mod:`backprop_cli.layout.graph_picture`,
with text set as the LaTeX document sets it. A document loads TikZ only where it is installed
(``\IfFileExists``) and draws its pictures under ``\ifdefined\tikzpicture``, so it compiles without pgf
(with a line saying what is missing instead of the picture); a fragment draws them where the including
document loads TikZ. Colours are defined inside each picture, so a fragment needs no preamble of ours.
"""

from __future__ import annotations

from backprop_cli.layout.graph_picture import GraphPicture
from backprop_cli.layout.network_picture import RADIUS, Picture
from backprop_cli.model.i18n import N_, _
from backprop_cli.render.diagram import KIND_COLOURS
from backprop_cli.render.latex import text

BEAMER_SCALE = "x=0.11mm,y=-0.11mm"  # the network's 320 × 200 units in a 35 mm column of a frame
DOCUMENT_SCALE = "x=0.22mm,y=-0.22mm"  # in a document: 70 × 44 mm
#: a unit of the graph's layout: 0.6 pt makes its character (7.2 units) as wide as \ttfamily\footnotesize's
GRAPH_UNIT = 0.6
TEX_LIMIT = 15_000.0  # pt: the widest picture drawn at GRAPH_UNIT
LOADS = r"\IfFileExists{tikz.sty}{\usepackage{tikz}}{}"  # a document's preamble line
MISSING = N_("(A picture drawn with TikZ belongs here: load the tikz package; Debian/Ubuntu: texlive-pictures.)")


def guarded(picture: str) -> str:
    """A picture drawn where TikZ is loaded, a line saying so where it is not."""
    missing = rf"\emph{{{text(_(MISSING))}}}"  # in the reader's language
    return "\\ifdefined\\tikzpicture\n" + picture + "\n\\else\n" + missing + "\n\\fi\n"


def network_tikz(art: Picture, scale: str = BEAMER_SCALE, font: str = r"\tiny") -> str:
    """The network picture as a TikZ picture (``lit`` and ``litfill`` are the Beamer deck's colours)."""
    out = [rf"\begin{{tikzpicture}}[{scale}]"]
    for x1, y1, x2, y2, lit in art.lines:
        style = "lit,line width=0.5pt" if lit else "black!20,line width=0.3pt"
        out.append(rf"\draw[{style}] ({x1:.1f},{y1:.1f}) -- ({x2:.1f},{y2:.1f});")
    for c in art.circles:
        style = "draw=lit,fill=litfill,line width=0.8pt" if c.lit else "draw=black!45,fill=black!4"
        out.append(rf"\filldraw[{style}] ({c.x:.1f},{c.y:.1f}) circle[radius={RADIUS:g}];")
    for label in art.labels:
        colour = "lit" if label.lit else "black!60"
        body = r"$\vdots$" if label.text == "⋮" else text(label.text)
        out.append(rf"\node[{colour},font={font}] at ({label.x:.1f},{label.y:.1f}) {{{body}}};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


def _html(colour: str) -> str:
    return "".join(c * 2 for c in colour) if len(colour) == 3 else colour


def graph_tikz(graph: GraphPicture) -> str:
    """The computation graph as a TikZ picture in the layout's places, shrunk (type and all) to the line's
    width where it is wider."""
    # TeX's lengths end below 16,384 pt: a graph wider than TEX_LIMIT at 0.6 pt a unit is drawn smaller (its
    # type then wider than its boxes, a graph of very long names only)
    unit = min(GRAPH_UNIT, TEX_LIMIT / max(graph.width, graph.height, 1.0))
    wide = graph.width * unit
    out = [
        rf"\begin{{tikzpicture}}[x={unit:.4g}pt,y=-{unit:.4g}pt,scale={{min(1,\linewidth/{wide:.1f}pt)}},"
        r"every node/.append style={transform shape}]"
    ]
    for kind, (fill, stroke) in KIND_COLOURS.items():
        if any(n.kind == kind for n in graph.nodes):
            out.append(rf"\definecolor{{bp{kind}}}{{HTML}}{{{_html(fill).upper()}}}")
            out.append(rf"\definecolor{{bp{kind}line}}{{HTML}}{{{_html(stroke).upper()}}}")
    for e in graph.edges:
        path = " -- ".join(f"({x:.1f},{y:.1f})" for x, y in e.points)
        out.append(rf"\draw[->,>=stealth,black!65,line width=0.5pt] {path};")
    for n in graph.nodes:
        corner, far = f"({n.x:.1f},{n.y:.1f})", f"({n.x + n.width:.1f},{n.y + n.height:.1f})"
        out.append(rf"\filldraw[fill=bp{n.kind},draw=bp{n.kind}line,rounded corners=2pt] {corner} rectangle {far};")
        for line, (x, y) in zip(n.lines, n.baselines, strict=True):
            body = text(line)
            out.append(
                rf"\node[anchor=base west,inner sep=0pt,font=\ttfamily\footnotesize] at ({x:.1f},{y:.1f}) {{{body}}};"
            )
    for e in graph.edges:
        if e.label:
            x, y = e.label_at
            style = r"fill=white,fill opacity=0.85,text opacity=1,inner sep=1pt,text=blue!60!black"
            out.append(rf"\node[{style},font=\ttfamily\scriptsize] at ({x:.1f},{y:.1f}) {{{text(e.label)}}};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)
