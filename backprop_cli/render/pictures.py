"""Pictures as inline SVG for HTML pages: the network (columns of circles, one layer lit) and an expression's
computation graph (a box per node with its name, value and gradient, edges with their local derivatives).

Pure writing of :mod:`backprop_cli.layout.network_picture` and :mod:`backprop_cli.layout.graph_picture`:
every place is the layout's, every string HTML-escaped. No namespace or external reference is written (an
``<svg>`` inside HTML needs none), so a page stays self-contained.
"""

from __future__ import annotations

from html import escape

from backprop_cli.layout.graph_picture import GraphPicture
from backprop_cli.layout.network_picture import PICTURE_HEIGHT, PICTURE_WIDTH, RADIUS, Picture
from backprop_cli.render.diagram import KIND_COLOURS

#: a wide graph scrolls on screen at its own size, and shrinks to the page to print
GRAPH_STYLE = """
figure.graph { overflow-x: auto; }
@media print { svg.graph { max-width: 100%; height: auto; } }
""".strip()
_ARROW = "bp-arrow"  # the one arrowhead's id (a page holds one graph)
# the colours of the slide deck's style (render/slides.py), for the pictures drawn without it
LINE_COLOUR, CIRCLE_FILL, CIRCLE_LINE = "#d0d7de", "#f3f5f7", "#8c959f"
MUTED, TEXT, LABEL = "#57606a", "#1f2328", "#0b5cad"


def network_svg(art: Picture) -> str:
    """The network picture as inline SVG, coloured by its own attributes (so it is drawn where no stylesheet
    comes with it: a notebook shows a page's body alone); a page's classes (the deck's ``lit``) override them."""
    out = [f'<svg class="network" viewBox="0 0 {PICTURE_WIDTH:g} {PICTURE_HEIGHT:g}" width="320" role="img">']
    out.append(f'<g stroke="{LINE_COLOUR}" stroke-width="1">')
    for x1, y1, x2, y2, lit in art.lines:
        css = ' class="lit"' if lit else ""
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{css}/>')
    out.append(f'</g><g fill="{CIRCLE_FILL}" stroke="{CIRCLE_LINE}" stroke-width="1.5">')
    for c in art.circles:
        css = ' class="lit"' if c.lit else ""
        out.append(f'<circle cx="{c.x:.1f}" cy="{c.y:.1f}" r="{RADIUS:g}"{css}/>')
    out.append(f'</g><g fill="{MUTED}" font-family="system-ui, sans-serif" font-size="13" text-anchor="middle">')
    for label in art.labels:
        css = ' class="lit"' if label.lit else ""
        out.append(f'<text x="{label.x:.1f}" y="{label.y:.1f}"{css}>{escape(label.text)}</text>')
    return "".join(out) + "</g></svg>"


def graph_svg(graph: GraphPicture) -> str:
    """The computation graph as inline SVG, one unit of the layout a pixel: edges under boxes under labels,
    coloured by its own attributes (drawn where no stylesheet comes with it)."""
    out = [
        f'<svg class="graph" viewBox="0 0 {graph.width:.1f} {graph.height:.1f}" width="{graph.width:.0f}" '
        f'role="img" aria-label="{escape(graph.title)}" font-family="ui-monospace, monospace" font-size="12">',
        f'<defs><marker id="{_ARROW}" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" '
        f'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="{MUTED}"/></marker></defs>',
        f'<g fill="none" stroke="{MUTED}" stroke-width="1.2">',
    ]
    for e in graph.edges:
        path = " L".join(f"{x:.1f},{y:.1f}" for x, y in e.points)
        out.append(f'<path class="edge" d="M{path}" marker-end="url(#{_ARROW})"/>')
    out.append(f'</g>\n<g stroke-width="1.2" fill="{TEXT}">')
    for n in graph.nodes:
        fill, stroke = KIND_COLOURS[n.kind]
        box = f'x="{n.x:.1f}" y="{n.y:.1f}" width="{n.width:.1f}" height="{n.height:.1f}" rx="4"'
        out.append(f'<rect class="{n.kind}" {box} fill="#{fill}" stroke="#{stroke}"/>')
        for line, (x, y) in zip(n.lines, n.baselines, strict=True):
            out.append(f'<text x="{x:.1f}" y="{y:.1f}">{escape(line)}</text>')
    out.append(f'</g>\n<g fill="{LABEL}" text-anchor="middle">')
    for e in graph.edges:
        if e.label:
            left, top, width, height = e.label_box
            box = f'x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:g}"'
            out.append(f'<rect class="label" {box} fill="#fff" fill-opacity="0.85"/>')
            out.append(
                f'<text class="label" x="{e.label_at[0]:.1f}" y="{e.label_baseline:.1f}">{escape(e.label)}</text>'
            )
    return "\n".join(out) + "\n</g>\n</svg>"
