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

#: the network picture's style in a document (the slide deck's own style sets the same classes)
NETWORK_STYLE = """
svg.network circle { fill: #f3f5f7; stroke: #8c959f; stroke-width: 1.5; }
svg.network circle.lit { fill: #ffd8b5; stroke: #bc4c00; stroke-width: 2.5; }
svg.network line { stroke: #d0d7de; stroke-width: 1; }
svg.network line.lit { stroke: #bc4c00; stroke-width: 1.5; }
svg.network text { font: 13px system-ui, sans-serif; fill: #57606a; text-anchor: middle; }
svg.network text.lit { fill: #bc4c00; font-weight: bold; }
""".strip()

GRAPH_STYLE = (
    """
figure.graph { overflow-x: auto; }  /* a wide graph scrolls at its size on screen, and shrinks to print */
@media print { svg.graph { max-width: 100%; height: auto; } }
svg.graph text { font: 12px ui-monospace, monospace; fill: #1f2328; }
svg.graph path.edge { fill: none; stroke: #57606a; stroke-width: 1.2; }
svg.graph marker path { fill: #57606a; }
svg.graph text.label { fill: #0b5cad; text-anchor: middle; }
svg.graph rect.label { fill: #fff; opacity: 0.85; }
""".strip()
    + "\n"
    + "\n".join(
        f"svg.graph rect.{kind} {{ fill: #{fill}; stroke: #{stroke}; stroke-width: 1.2; }}"
        for kind, (fill, stroke) in KIND_COLOURS.items()
    )
)
_ARROW = "bp-arrow"  # the one arrowhead's id (a page holds one graph)


def network_svg(art: Picture) -> str:
    """The network picture as inline SVG."""
    out = [f'<svg class="network" viewBox="0 0 {PICTURE_WIDTH:g} {PICTURE_HEIGHT:g}" width="320" role="img">']
    for x1, y1, x2, y2, lit in art.lines:
        css = ' class="lit"' if lit else ""
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{css}/>')
    for c in art.circles:
        css = ' class="lit"' if c.lit else ""
        out.append(f'<circle cx="{c.x:.1f}" cy="{c.y:.1f}" r="{RADIUS:g}"{css}/>')
    for label in art.labels:
        css = ' class="lit"' if label.lit else ""
        out.append(f'<text x="{label.x:.1f}" y="{label.y:.1f}"{css}>{escape(label.text)}</text>')
    return "".join(out) + "</svg>"


def graph_svg(graph: GraphPicture) -> str:
    """The computation graph as inline SVG, one unit of the layout a pixel: edges under boxes under labels."""
    out = [
        f'<svg class="graph" viewBox="0 0 {graph.width:.1f} {graph.height:.1f}" width="{graph.width:.0f}" '
        f'role="img" aria-label="{escape(graph.title)}">',
        f'<defs><marker id="{_ARROW}" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
    ]
    for e in graph.edges:
        path = " L".join(f"{x:.1f},{y:.1f}" for x, y in e.points)
        out.append(f'<path class="edge" d="M{path}" marker-end="url(#{_ARROW})"/>')
    for n in graph.nodes:
        out.append(
            f'<rect class="{n.kind}" x="{n.x:.1f}" y="{n.y:.1f}" width="{n.width:.1f}" height="{n.height:.1f}" rx="4"/>'
        )
        for line, (x, y) in zip(n.lines, n.baselines, strict=True):
            out.append(f'<text x="{x:.1f}" y="{y:.1f}">{escape(line)}</text>')
    for e in graph.edges:
        if e.label:
            left, top, width, height = e.label_box
            out.append(f'<rect class="label" x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:g}"/>')
            out.append(
                f'<text class="label" x="{e.label_at[0]:.1f}" y="{e.label_baseline:.1f}">{escape(e.label)}</text>'
            )
    return "\n".join(out) + "\n</svg>"
