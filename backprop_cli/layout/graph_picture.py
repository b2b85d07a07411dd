"""An expression's computation graph placed on a page, as plain data: a box per node at its place, each
edge a polyline from its source's right side to its target's left side, its label beside its last leg.

The :class:`~backprop_cli.layout.diagram.Diagram` says what is drawn (a node's name, value and gradient,
an edge's local derivative); this module says where, in a unit of its own (about a pixel of a 12 px
monospace font): the HTML writer uses the unit as a pixel, the TikZ writer as a fixed length. The
placement is a small layered drawing (Sugiyama's): inputs in the first column, every other node one
column right of its furthest argument, an edge across several columns bent through a point in each,
the columns' order settled by a few barycentre sweeps. Everything is deterministic: ties keep the
diagram's order, and no set or hash order is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from backprop_cli.layout.diagram import Diagram, DiagramNode

CHARACTER = 7.2  # a character's advance in the unit (12 px monospace: 0.6 em)
LINE = 15.0  # a line of a label
PADDING = 6.0  # inside a box, around its text
ROW_GAP = 18.0  # between boxes of one column
MARGIN = 8.0  # around the whole picture
MIN_COLUMN_GAP = 48.0  # between columns, when no edge label needs more
LABEL_ROOM = 28.0  # a label's width plus this is the least gap of the columns it stands between
SWEEPS = 4  # barycentre sweeps (down and up) ordering the columns
#: the most nodes a document draws; a larger graph is left to ``backprop graph`` (Mermaid or DOT)
MAX_DRAWN_NODES = 80


@dataclass(frozen=True)
class PlacedNode:
    id: str
    kind: str  # the diagram node's kind: input, op, output
    lines: tuple[str, ...]
    x: float  # the box's left edge
    y: float  # its top
    width: float
    height: float

    @property
    def baselines(self) -> tuple[tuple[float, float], ...]:
        """Where each line of the label starts: (x, baseline), inside the box's padding."""
        return tuple((self.x + PADDING, self.y + PADDING + LINE * (k + 0.75)) for k in range(len(self.lines)))


@dataclass(frozen=True)
class PlacedEdge:
    source: str
    target: str
    points: tuple[tuple[float, float], ...]  # from the source's right side to the target's left side
    label: str
    label_at: tuple[float, float]  # the label's centre ("" labels: unused)

    @property
    def label_box(self) -> tuple[float, float, float, float]:
        """The label's background: left, top, width, height (a line high, two units wider than its text)."""
        width = len(self.label) * CHARACTER + 4
        return self.label_at[0] - width / 2, self.label_at[1] - LINE / 2, width, LINE

    @property
    def label_baseline(self) -> float:
        return self.label_at[1] + LINE / 4


@dataclass(frozen=True)
class GraphPicture:
    """The graph ready to draw: its diagram (what Mermaid writes, which lays itself out), and the places."""

    title: str
    diagram: Diagram
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]
    width: float
    height: float


def _size(node: DiagramNode) -> tuple[float, float]:
    longest = max((len(line) for line in node.lines), default=1)
    return longest * CHARACTER + 2 * PADDING, len(node.lines) * LINE + 2 * PADDING


def _columns(d: Diagram) -> dict[str, int]:
    """Each node's column: inputs (and nodes nothing flows into) 0, any other one past its furthest argument."""
    into: dict[str, list[str]] = {n.id: [] for n in d.nodes}
    for e in d.edges:
        into[e.target].append(e.source)
    column: dict[str, int] = {}

    def place(node: str, seen: tuple[str, ...]) -> int:
        if node not in column:
            if node in seen:  # a cycle cannot come from a trace; where one is, the walk stops there
                return 0
            column[node] = 1 + max((place(s, (*seen, node)) for s in into[node]), default=-1)
        return column[node]

    for n in d.nodes:
        place(n.id, ())
    return column


def _order(layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> None:
    """Reorder each column (in place) by the mean place of its neighbours, sweeping right then left."""

    def sweep(indices: range, neighbours: dict[str, list[str]], step: int) -> None:
        for i in indices:
            where = {slot: k for k, slot in enumerate(layers[i - step])}
            here = {slot: k for k, slot in enumerate(layers[i])}
            keys = {}
            for slot, k in here.items():
                near = [where[s] for s in neighbours[slot] if s in where]
                keys[slot] = (sum(near) / len(near) if near else float(k), k)
            layers[i].sort(key=keys.__getitem__)

    for _ in range(SWEEPS):
        sweep(range(1, len(layers)), up, 1)
        sweep(range(len(layers) - 2, -1, -1), down, -1)


def _spread(wanted: list[float], heights: list[float]) -> list[float]:
    """Tops for a column's boxes in their order, each as near its wanted centre as the gaps allow, the
    whole column shifted so that it is as much above its wishes as below them."""
    tops: list[float] = []
    for centre, height in zip(wanted, heights, strict=True):
        top = centre - height / 2
        if tops:
            top = max(top, tops[-1] + heights[len(tops) - 1] + ROW_GAP)
        tops.append(top)
    shift = sum(c - (t + h / 2) for c, t, h in zip(wanted, tops, heights, strict=True)) / max(len(tops), 1)
    return [t + shift for t in tops]


def _ports(count: int, top: float, height: float) -> list[float]:
    """Where ``count`` edges meet a box's side: spread evenly over its middle."""
    if count <= 1:
        return [top + height / 2] * count
    span = min(height - 2 * PADDING, LINE * (count - 1))
    return [top + height / 2 - span / 2 + span * k / (count - 1) for k in range(count)]


def place(d: Diagram, title: str) -> GraphPicture:
    """The diagram's nodes and edges placed left to right (see the module's docstring)."""
    nodes = {n.id: n for n in d.nodes}
    sizes = {n.id: _size(n) for n in d.nodes}
    column = _columns(d)
    count = max(column.values(), default=0) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for n in d.nodes:
        layers[column[n.id]].append(n.id)
    # an edge across several columns passes through a slot (a point) in each column between
    routes: list[list[str]] = []
    up: dict[str, list[str]] = {n.id: [] for n in d.nodes}
    down: dict[str, list[str]] = {n.id: [] for n in d.nodes}
    for index, e in enumerate(d.edges):
        route = [e.source]
        for c in range(column[e.source] + 1, column[e.target]):
            slot = f"{index}:{c}"
            layers[c].append(slot)
            up[slot], down[slot] = [], []
            route.append(slot)
        route.append(e.target)
        for a, b in pairwise(route):
            down[a].append(b)
            up[b].append(a)
        routes.append(route)
    _order(layers, up, down)

    def height(slot: str) -> float:
        return sizes[slot][1] if slot in sizes else 0.0

    # columns' x: as wide as their widest box, apart by enough for the labels of the legs between them
    widths = [max((sizes[s][0] for s in layer if s in sizes), default=0.0) for layer in layers]
    gaps = [MIN_COLUMN_GAP] * max(count - 1, 0)
    for e in d.edges:
        if e.label and column[e.target] > 0:
            gap = column[e.target] - 1
            gaps[gap] = max(gaps[gap], len(e.label) * CHARACTER + LABEL_ROOM)
    lefts = [MARGIN]
    for c in range(1, count):
        lefts.append(lefts[-1] + widths[c - 1] + gaps[c - 1])
    # rows' y: the first column stacked, each next one near the mean of its arguments' centres
    centre: dict[str, float] = {}
    for c, layer in enumerate(layers):
        heights = [height(s) for s in layer]
        if c == 0:
            wanted, top = [], 0.0
            for h in heights:
                wanted.append(top + h / 2)
                top += h + ROW_GAP
        else:
            wanted = []
            for k, s in enumerate(layer):
                near = [centre[a] for a in up[s] if a in centre]
                wanted.append(sum(near) / len(near) if near else (wanted[-1] + heights[k - 1] if wanted else 0.0))
        for s, t, h in zip(layer, _spread(wanted, heights), heights, strict=True):
            centre[s] = t + h / 2
    lowest = min((centre[s] - height(s) / 2 for layer in layers for s in layer), default=0.0)
    offset = MARGIN - lowest
    placed: dict[str, PlacedNode] = {}
    for c, layer in enumerate(layers):
        for s in layer:
            if s in sizes:
                w, h = sizes[s]
                x = lefts[c] + (widths[c] - w) / 2
                node = nodes[s]
                placed[s] = PlacedNode(s, node.kind, node.lines, x, centre[s] + offset - h / 2, w, h)

    # ports: a box's incoming edges meet its left side in the order of where they come from (and its
    # outgoing ones its right side in the order of where they go), so that they do not cross there
    def at(slot: str) -> float:
        return centre[slot] + offset

    outs: dict[str, list[int]] = {n: [] for n in placed}
    ins: dict[str, list[int]] = {n: [] for n in placed}
    for index, route in enumerate(routes):
        outs[route[0]].append(index)
        ins[route[-1]].append(index)
    start: dict[int, float] = {}
    end: dict[int, float] = {}
    for slot, box in placed.items():
        ordered = sorted(outs[slot], key=lambda i: (at(routes[i][1]), i))
        start.update(zip(ordered, _ports(len(ordered), box.y, box.height), strict=True))
        ordered = sorted(ins[slot], key=lambda i: (at(routes[i][-2]), i))
        end.update(zip(ordered, _ports(len(ordered), box.y, box.height), strict=True))
    edges: list[PlacedEdge] = []
    for index, (e, route) in enumerate(zip(d.edges, routes, strict=True)):
        source, target = placed[route[0]], placed[route[-1]]
        points = [(source.x + source.width, start[index])]
        for slot in route[1:-1]:
            c = column[e.source] + len(points)
            points.append((lefts[c] + widths[c] / 2, at(slot)))
        points.append((target.x, end[index]))
        # the label at the middle of the gap before the target's column, on the edge's last leg
        c = column[e.target]
        middle = (lefts[c - 1] + widths[c - 1] + lefts[c]) / 2 if c > 0 else target.x
        (x1, y1), (x2, y2) = points[-2], points[-1]
        y = y1 + (y2 - y1) * (middle - x1) / (x2 - x1) if x2 != x1 else (y1 + y2) / 2
        edges.append(PlacedEdge(e.source, e.target, tuple(points), e.label, (middle, y)))
    edges = _apart(edges)
    width = max((b.x + b.width for b in placed.values()), default=0.0) + MARGIN
    bottom = max((b.y + b.height for b in placed.values()), default=0.0)
    bottom = max([bottom, *(e.label_at[1] + LINE / 2 for e in edges if e.label)])
    return GraphPicture(title, d, tuple(placed[n.id] for n in d.nodes), tuple(edges), width, bottom + MARGIN)


def _apart(edges: list[PlacedEdge]) -> list[PlacedEdge]:
    """Labels in one gap between columns kept a line apart (pushed down in the order of their places)."""
    out = list(edges)
    by_gap: dict[float, list[int]] = {}
    for index, e in enumerate(out):
        if e.label:
            by_gap.setdefault(round(e.label_at[0]), []).append(index)
    for indices in by_gap.values():
        indices.sort(key=lambda i: (out[i].label_at[1], i))
        floor = float("-inf")
        for i in indices:
            x, y = out[i].label_at
            y = max(y, floor + LINE)
            floor = y
            e = out[i]
            out[i] = PlacedEdge(e.source, e.target, e.points, e.label, (x, y))
    return out
