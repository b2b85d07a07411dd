"""Computation-graph drawings: Mermaid that passes a strict structural check, DOT, and the terminal tree."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from rich.console import Console

from backprop_cli.graph.engine import compute
from backprop_cli.layout.diagram import Diagram, DiagramEdge, DiagramNode, expression_diagram, network_diagram
from backprop_cli.loading.examples import DEFAULT_EXAMPLE, example_names, example_path
from backprop_cli.loading.expression import is_expression_document, load_expression
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.nn.engine import Engine
from backprop_cli.render.diagram import to_dot, to_mermaid, to_tree
from tests.strategies import make_spec

FMT = NumberFormat(4)
EXPRESSIONS = [n for n in example_names() if is_expression_document(example_path(n))]
NETWORKS = [n for n in example_names() if n not in EXPRESSIONS]

_SHAPES = {'(["': '"])', '["': '"]', '[["': '"]]', '{{"': '"}}'}
_NODE = re.compile(
    r'^    (?P<id>n[A-Za-z0-9]+)(?P<open>\(\["|\[\["|\["|\{\{")(?P<label>[^"]*)(?P<close>"\]\)|"\]\]|"\]|"\}\})$'
)
_EDGE = re.compile(r'^    (?P<src>n[A-Za-z0-9]+) -->(?:\|"(?P<label>[^"]*)"\|)? (?P<dst>n[A-Za-z0-9]+)$')
_CLASSDEF = re.compile(r"^    classDef (?P<name>[a-z]+) (?:[a-z-]+:#?[A-Za-z0-9]+)(?:,[a-z-]+:#?[A-Za-z0-9]+)*$")
_CLASS = re.compile(r"^    class (?P<ids>n[A-Za-z0-9]+(?:,n[A-Za-z0-9]+)*) (?P<name>[a-z]+)$")
_ENTITY = re.compile(r"#(?:\d+|quot|lt|gt);")
_RESERVED = {"end", "graph", "subgraph", "flowchart", "class", "classDef", "style", "click"}


def check_label(text: str, where: str) -> None:
    bare = _ENTITY.sub("", text.replace("<br/>", ""))
    for bad in '"<>#':
        assert bad not in bare, f"{where}: raw {bad!r} in label {text!r}"


def check_mermaid(text: str) -> tuple[int, int]:
    """A strict reading of the Mermaid subset we write; returns (nodes, edges). Any other line fails."""
    lines = text.split("\n")
    assert lines[-1] == "", "ends with a newline"
    lines = lines[:-1]
    assert lines[0] == "---" and lines[2] == "---", "front matter"
    title = re.fullmatch(r'title: "(?P<t>[^"\\]*)"', lines[1])
    assert title, f"title line {lines[1]!r}"
    assert lines[3] == "flowchart LR"
    ids: set[str] = set()
    edges = 0
    classes: set[str] = set()
    phase = "nodes"
    for number, line in enumerate(lines[4:], start=5):
        where = f"line {number}"
        if m := _NODE.match(line):
            assert phase == "nodes", f"{where}: node after edges"
            assert m["open"] in _SHAPES and _SHAPES[m["open"]] == m["close"], f"{where}: unbalanced shape"
            assert m["id"] not in ids and m["id"] not in _RESERVED, f"{where}: id {m['id']} reused"
            check_label(m["label"], where)
            ids.add(m["id"])
        elif m := _EDGE.match(line):
            phase = "edges"
            assert m["src"] in ids and m["dst"] in ids, f"{where}: edge between undefined nodes"
            if m["label"] is not None:
                check_label(m["label"], where)
                assert m["label"], f"{where}: empty edge label"
            edges += 1
        elif m := _CLASSDEF.match(line):
            phase = "classes"
            classes.add(m["name"])
        elif m := _CLASS.match(line):
            assert m["name"] in classes, f"{where}: class {m['name']} is not defined"
            assert set(m["ids"].split(",")) <= ids, f"{where}: class of undefined nodes"
        else:
            raise AssertionError(f"{where}: not valid in our Mermaid subset: {line!r}")
    assert ids, "no nodes"
    return len(ids), edges


def expression(name: str, exact: bool = False) -> Diagram:
    spec, _ = load_expression(name, None, ())
    return expression_diagram(compute(spec, exact=exact), FMT, spec.source)


def network(name: str, by: str = "neuron") -> Diagram:
    from backprop_cli.loading.config import load_network as load

    spec, _ = load(name, None)
    return network_diagram(next(iter(Engine(spec).run())), FMT, spec.source, by=by)


def test_the_default_example_is_valid_mermaid() -> None:
    text = to_mermaid(network(DEFAULT_EXAMPLE))
    # two inputs, two hidden neurons, one output neuron and the loss; 2·2 + 2·1 weights and the target edge
    assert check_mermaid(text) == (6, 7)
    assert '    n1 -->|"hidden.w1_1 = 0.5; hidden.dL_dw1_1 = -0.65"| n3' in text
    assert check_mermaid(to_mermaid(network(DEFAULT_EXAMPLE, by="layer"))) == (4, 3)


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_expression_examples_are_valid_mermaid(name: str) -> None:
    check_mermaid(to_mermaid(expression(name)))


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("by", ["neuron", "layer"])
def test_network_examples_are_valid_mermaid(name: str, by: str) -> None:
    check_mermaid(to_mermaid(network(name, by)))


def test_the_circuit_drawing_holds_values_gradients_and_local_derivatives() -> None:
    text = to_mermaid(expression("circuit_add_mul"))
    assert check_mermaid(text) == (5, 4)
    assert '    n1(["x<br/>value -2<br/>grad.x -4"])' in text
    assert '    n5[["f = q × z<br/>value -12<br/>grad.f 1"]]' in text
    assert '    n4 -->|"df_dq = -4"| n5' in text
    exact = to_mermaid(expression("shared_variable", exact=True))
    assert check_mermaid(exact) == (5, 6)  # x feeds b twice: two edges


def test_labels_are_escaped() -> None:
    hostile = 'say "hi" <script> #1; a\\b'
    d = Diagram(hostile, (DiagramNode("n1", (hostile,), "op"), DiagramNode("n2", ("b",), "output")), ())
    d = Diagram(d.title, d.nodes, (DiagramEdge("n1", "n2", hostile),))
    check_mermaid(to_mermaid(d))
    dot = to_dot(d)
    assert 'label="say \\"hi\\" <script> #1; a\\\\b"' in dot
    with pytest.raises(AssertionError, match="raw"):
        check_label('a "b"', "here")  # the check itself catches what escaping prevents


def test_the_checker_rejects_broken_mermaid() -> None:
    good = to_mermaid(expression("circuit_add_mul"))
    for broken in (
        good.replace('n1(["x', 'n1(["x"'),  # a raw quote
        good.replace("-->", "->", 1),  # not an arrow
        good.replace(" n5\n", " n9\n", 1),  # an undefined node
        good.replace('"])\n', '"]\n', 1),  # unbalanced shape
    ):
        with pytest.raises(AssertionError):
            check_mermaid(broken)


def check_dot(text: str) -> None:
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "digraph computation {" and lines[-1] == "}"
    ids = set()
    for line in lines[1:-1]:
        if m := re.fullmatch(r'    (n[A-Za-z0-9]+) \[label="((?:[^"\\]|\\.)*)", shape=[a-z]+\];', line):
            ids.add(m[1])
        elif m := re.fullmatch(r'    (n[A-Za-z0-9]+) -> (n[A-Za-z0-9]+)(?: \[label="(?:[^"\\]|\\.)*"\])?;', line):
            assert m[1] in ids and m[2] in ids
        elif m := re.fullmatch(r"    \{ rank=same; (n\w+(?: -> n\w+)+) \[style=invis\]; \}", line):
            assert set(m[1].split(" -> ")) <= ids
        else:
            assert re.fullmatch(r'    (rankdir=LR|labelloc=t|label="(?:[^"\\]|\\.)*"|(node|edge) \[.*\]);', line), line


@pytest.mark.parametrize("name", ["circuit_add_mul", "micrograd_readme"])
def test_dot_output_is_well_formed(name: str) -> None:
    check_dot(to_dot(expression(name)))


def test_dot_network() -> None:
    check_dot(to_dot(network("classic_2_2_2")))
    check_dot(to_dot(network("xor", by="layer")))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed: rendering not checked")
def test_graphviz_renders_the_dot() -> None:
    for d in (expression("micrograd_readme"), network("classic_2_2_2")):
        done = subprocess.run(
            ["dot", "-Tsvg"], input=to_dot(d), capture_output=True, text=True, check=False, timeout=60
        )
        assert done.returncode == 0, done.stderr


def test_dot_keeps_each_layer_in_neuron_order() -> None:
    text = to_dot(network("iris"))  # 4 inputs, 3 outputs: dot ordered them as it liked
    assert "    { rank=same; n1 -> n2 -> n3 -> n4 [style=invis]; }" in text
    assert "    { rank=same; n5 -> n6 -> n7 [style=invis]; }" in text
    assert to_dot(network("iris")) == text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed: layout not checked")
@pytest.mark.parametrize("name", ["iris", "deep_sigmoid", "classic_2_2_2"])
def test_graphviz_lays_each_layer_out_top_to_bottom_in_order(name: str) -> None:
    d = network(name)
    done = subprocess.run(["dot", "-Tplain"], input=to_dot(d), capture_output=True, text=True, check=True, timeout=60)
    height = {line.split()[1]: float(line.split()[3]) for line in done.stdout.splitlines() if line.startswith("node ")}
    layers: dict[str, list[str]] = {}
    for n in d.nodes:
        if n.group:
            layers.setdefault(n.group, []).append(n.id)
    for group, ids in layers.items():
        heights = [height[i] for i in ids]
        assert heights == sorted(heights, reverse=True), (group, heights)  # neuron 1 on top, then 2, …


def test_tree_shows_a_shared_node_once() -> None:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(to_tree(expression("micrograd_readme")))
    text = out.getvalue()
    assert text.count("c = a + b · value -2 · grad.c -27.77") == 1
    assert "[dt3_dc = 1] c = a + b (shown above)" in text


def test_random_networks_draw() -> None:
    spec = make_spec([3, 4, 2], ["tanh", "sigmoid"], "mse", seed=3)
    rec = next(iter(Engine(spec).run()))
    nodes, edges = check_mermaid(to_mermaid(network_diagram(rec, FMT, "random", by="neuron")))
    assert (nodes, edges) == (3 + 4 + 2 + 1, 3 * 4 + 4 * 2 + 2)
