"""The computation graph placed for a document: columns left to right, boxes that hold their text and do not
overlap, edges from a source's right side to a target's left side, the same places every time."""

from __future__ import annotations

from itertools import pairwise

import pytest

from backprop_cli.graph.engine import compute
from backprop_cli.layout.diagram import Diagram, DiagramEdge, DiagramNode, expression_diagram
from backprop_cli.layout.expression import expression_document
from backprop_cli.layout.graph_picture import (
    CHARACTER,
    LINE,
    MAX_DRAWN_NODES,
    PADDING,
    GraphPicture,
    PlacedNode,
    place,
)
from backprop_cli.loading.examples import example_names, example_path
from backprop_cli.loading.expression import is_expression_document, load_expression
from backprop_cli.model.numbers import NumberFormat

FMT = NumberFormat(6)
EXPRESSIONS = [n for n in example_names() if is_expression_document(example_path(n))]


def drawn(name: str | None = None, expr: str | None = None, sets: tuple[str, ...] = ()) -> GraphPicture:
    spec, _ = load_expression(name, expr, sets)
    graph = expression_document(spec, compute(spec, exact=False), FMT).graph
    assert graph is not None
    return graph


def _overlap(a: PlacedNode, b: PlacedNode) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height


def check(graph: GraphPicture) -> None:
    """What every placed graph keeps."""
    boxes = {n.id: n for n in graph.nodes}
    assert [n.id for n in graph.nodes] == [n.id for n in graph.diagram.nodes]
    for n in graph.nodes:
        assert max(len(line) for line in n.lines) * CHARACTER + 2 * PADDING <= n.width + 1e-9, n.id
        assert len(n.lines) * LINE + 2 * PADDING <= n.height + 1e-9, n.id
        assert n.x >= 0 and n.y >= 0 and n.x + n.width <= graph.width and n.y + n.height <= graph.height, n.id
    for i, a in enumerate(graph.nodes):
        for b in graph.nodes[i + 1 :]:
            assert not _overlap(a, b), (a.id, b.id)
    assert len(graph.edges) == len(graph.diagram.edges)
    for e in graph.edges:
        source, target = boxes[e.source], boxes[e.target]
        (x0, y0), (x1, y1) = e.points[0], e.points[-1]
        assert x0 == pytest.approx(source.x + source.width) and source.y <= y0 <= source.y + source.height
        assert x1 == pytest.approx(target.x) and target.y <= y1 <= target.y + target.height
        xs = [x for x, _ in e.points]
        assert xs == sorted(xs) and len(set(xs)) == len(xs), e  # left to right, never back
        if e.label:  # between the source's column and the target's, on the edge's last leg
            assert e.points[-2][0] <= e.label_at[0] <= x1


def test_the_circuit_is_placed_as_drawn_on_the_board() -> None:
    # CS231n's circuit f = (x + y)·z at x = −2, y = 5, z = −4: the inputs in the first column, q in the
    # second, f in the third; ∂f/∂x = ∂f/∂y = −4, ∂f/∂z = q = 3
    graph = drawn("circuit_add_mul")
    check(graph)
    x, y, z, q, f = graph.nodes
    assert (x.lines, z.lines) == (("x", "value -2", "grad.x -4"), ("z", "value -4", "grad.z 3"))
    assert q.lines == ("q = x + y", "value 3", "grad.q -4") and f.lines == ("f = q × z", "value -12", "grad.f 1")
    assert x.x == y.x and x.x + x.width < q.x and q.x + q.width < f.x
    assert x.y < y.y < z.y  # the inputs in the program's order
    assert q.y < f.y + f.height and f.y < q.y + q.height + LINE  # f beside q, not far below
    edges = {(e.source, e.target): e for e in graph.edges}
    assert edges[("n4", "n5")].label == "df_dq = -4" and edges[("n1", "n4")].label == "dq_dx = 1"
    # z reaches f across q's column: bent through one point there, beside q rather than through it
    bent = edges[("n3", "n5")]
    assert len(bent.points) == 3 and q.x <= bent.points[1][0] <= q.x + q.width
    assert not q.y <= bent.points[1][1] <= q.y + q.height
    # the two edges into q meet its left side apart, x's above y's (so they do not cross)
    assert edges[("n1", "n4")].points[-1][1] < edges[("n2", "n4")].points[-1][1]


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_every_expression_example_is_placed_cleanly_and_the_same_each_time(name: str) -> None:
    graph = drawn(name)
    check(graph)
    assert graph == drawn(name)


def test_a_value_read_twice_and_a_deep_chain() -> None:
    wide = drawn(expr="a = x * x\nb = a + x\nc = b * a\nd = tanh(c) + x * b", sets=("x=0.5",))
    check(wide)
    assert len({n.x for n in wide.nodes if n.kind == "input"}) == 1


def test_labels_between_two_columns_stand_a_line_apart() -> None:
    graph = drawn(expr="f = x * y + y * z + z * x", sets=("x=1", "y=2", "z=3"))
    check(graph)
    labels = sorted((e.label_at for e in graph.edges if e.label), key=lambda p: (p[0], p[1]))
    for (xa, ya), (xb, yb) in pairwise(labels):
        assert xa != xb or yb - ya >= LINE - 1e-9


def test_a_forward_pass_alone_shows_values_without_gradients() -> None:
    spec, _ = load_expression("circuit_add_mul", None, ())
    graph = expression_document(spec, compute(spec, exact=False), FMT, ("forward",)).graph
    assert graph is not None
    assert graph.nodes[0].lines == ("x", "value -2") and all(not e.label for e in graph.edges)
    assert "gradient" not in graph.title


def test_a_graph_too_large_to_draw_is_named_instead() -> None:
    program = "f = " + " + ".join(["x"] * (MAX_DRAWN_NODES + 1))
    spec, _ = load_expression(None, program, ("x=1",))
    doc = expression_document(spec, compute(spec, exact=False), FMT)
    assert doc.graph is None
    assert any(line.startswith("graph: ") and "backprop graph --format dot" in line for line in doc.facts)


def test_a_cycle_ends_the_placement_rather_than_recursing_forever() -> None:
    # a trace has no cycles; the placement still ends on a diagram that has one
    nodes = (DiagramNode("n1", ("a",), "op"), DiagramNode("n2", ("b",), "op"))
    edges = (DiagramEdge("n1", "n2", ""), DiagramEdge("n2", "n1", ""))
    graph = place(Diagram("loop", nodes, edges), "loop")
    assert len(graph.nodes) == 2


def test_the_diagram_is_the_one_backprop_graph_draws() -> None:
    spec, _ = load_expression("circuit_add_mul", None, ())
    trace = compute(spec, exact=False)
    graph = expression_document(spec, trace, FMT).graph
    assert graph is not None and graph.diagram == expression_diagram(trace, FMT, spec.source)
