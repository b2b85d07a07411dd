"""Computation graphs as Mermaid (renders on GitHub as is), Graphviz DOT or a terminal tree.

The :class:`~backprop_cli.layout.diagram.Diagram` is built from a trace in the layout; these writers
only escape and lay it out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backprop_cli.layout.diagram import KINDS, Diagram, DiagramEdge

if TYPE_CHECKING:
    from rich.tree import Tree

_MERMAID_SHAPES = {"input": ('(["', '"])'), "op": ('["', '"]'), "output": ('[["', '"]]'), "loss": ('{{"', '"}}')}
#: each kind of node's fill and outline, the same in every drawing (Mermaid, the documents' SVG and TikZ)
KIND_COLOURS = {
    "input": ("e8f1fb", "3b6ea5"),
    "op": ("f7f7f7", "555"),
    "output": ("fdf0d5", "b07d1a"),
    "loss": ("fbe3e3", "a33"),
}
_MERMAID_STYLE = {kind: f"fill:#{fill},stroke:#{stroke}" for kind, (fill, stroke) in KIND_COLOURS.items()}


def mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for # " < > so nothing is read as syntax."""
    return text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def to_mermaid(d: Diagram) -> str:
    title = d.title.replace('"', "'").replace("\\", "/")
    out = ["---", f'title: "{title}"', "---", "flowchart LR"]
    for n in d.nodes:
        left, right = _MERMAID_SHAPES[n.kind]
        out.append(f"    {n.id}{left}{'<br/>'.join(mermaid_text(line) for line in n.lines)}{right}")
    for e in d.edges:
        label = f'|"{mermaid_text(e.label)}"|' if e.label else ""
        out.append(f"    {e.source} -->{label} {e.target}")
    used = [k for k in KINDS if any(n.kind == k for n in d.nodes)]
    for kind in used:
        out.append(f"    classDef {kind} {_MERMAID_STYLE[kind]}")
    for kind in used:
        out.append(f"    class {','.join(n.id for n in d.nodes if n.kind == kind)} {kind}")
    return "\n".join(out) + "\n"


def dot_text(text: str) -> str:
    """Text inside a quoted DOT string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


_DOT_SHAPES = {"input": "ellipse", "op": "box", "output": "doubleoctagon", "loss": "hexagon"}


def to_dot(d: Diagram) -> str:
    out = [
        "digraph computation {",
        "    rankdir=LR;",
        f'    label="{dot_text(d.title)}";',
        "    labelloc=t;",
        '    node [fontname="Helvetica", fontsize=11];',
        '    edge [fontname="Helvetica", fontsize=9];',
    ]
    for n in d.nodes:
        label = "\\n".join(dot_text(line) for line in n.lines)
        out.append(f'    {n.id} [label="{label}", shape={_DOT_SHAPES[n.kind]}];')
    for e in d.edges:
        attrs = f' [label="{dot_text(e.label)}"]' if e.label else ""
        out.append(f"    {e.source} -> {e.target}{attrs};")
    # a layer's neurons in one rank, in their order: dot orders the nodes of a rank by the edges
    # between them, so an invisible chain n3 -> n4 -> n5 fixes neuron 1 above 2 above 3
    groups: dict[str, list[str]] = {}
    for n in d.nodes:
        if n.group:
            groups.setdefault(n.group, []).append(n.id)
    for ids in groups.values():
        if len(ids) > 1:
            out.append(f"    {{ rank=same; {' -> '.join(ids)} [style=invis]; }}")
    return "\n".join(out) + "\n}\n"


def to_tree(d: Diagram) -> Tree:
    """A rich Tree from the last node down its inputs; a node reached again is shown once, then referred to."""
    from rich.text import Text
    from rich.tree import Tree

    by_id = {n.id: n for n in d.nodes}
    into: dict[str, list[DiagramEdge]] = {n.id: [] for n in d.nodes}
    for e in d.edges:
        into[e.target].append(e)
    root = next((n for n in d.nodes if n.kind in ("output", "loss")), d.nodes[-1])
    tree = Tree(Text(d.title, style="bold"))
    shown: set[str] = set()

    def grow(branch: Tree, node_id: str, via: str) -> None:
        node = by_id[node_id]
        prefix = f"[{via}] " if via else ""
        if node_id in shown and into[node_id]:
            branch.add(Text(f"{prefix}{node.lines[0]} (shown above)", style="dim"))
            return
        shown.add(node_id)
        child = branch.add(Text(prefix + " · ".join(node.lines)))
        for e in into[node_id]:
            grow(child, e.source, e.label)

    grow(tree, root.id, "")
    return tree
