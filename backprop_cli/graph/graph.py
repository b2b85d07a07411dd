"""From parsed statements to a computation graph: named nodes in topological order.

Names (stable, documented in the README):
- an input keeps its name from ``values`` (``x``);
- an assignment's result takes the assigned name (``q = x + y`` → node ``q``); when a name is
  assigned again (``c += c + 1``) the k-th value is ``c_k`` (``c_2``, ``c_3``, …);
- an unnamed subexpression is ``t1``, ``t2``, … in evaluation order (inner first, left to right);
- a generated name that the program already uses gets a trailing ``_`` until it is free.
Numeric literals are operands, not nodes: nothing flows back into a constant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from backprop_cli.errors import ConfigError, quoted
from backprop_cli.graph.parse import Apply, Expr, Num, Statement, Var, Where

MAX_NODES = 2000


@dataclass(frozen=True)
class Const:
    """A literal operand; ``text`` as written (exact mode reads it: 0.1 is 1/10)."""

    text: str
    value: float

    @property
    def operand(self) -> str:
        """The text inside a formula: a negative number or a fraction in parentheses (``(-2)``, ``(1/10)``)."""
        return f"({self.text})" if self.text.startswith("-") or "/" in self.text else self.text


Operand = str | Const  # a node name, or a literal


@dataclass(frozen=True)
class Node:
    name: str
    op: str  # "input", or a key of backprop_cli.graph.ops.OPS
    args: tuple[Operand, ...] = ()
    variable: str | None = None  # the program name whose value this node is (None: unnamed)
    line: int = 0  # program line (0 for inputs)
    col: int = 0
    statement: str = ""  # the program line it comes from


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]  # topological: inputs first, then in evaluation order
    inputs: tuple[str, ...]
    output: str  # the node whose gradients are traced
    index: Mapping[str, int] = field(default_factory=dict, compare=False)

    def node(self, name: str) -> Node:
        return self.nodes[self.index[name]]

    def ancestors(self) -> set[str]:
        """The output and every node it depends on: the nodes that get a gradient."""
        seen = {self.output}
        for n in reversed(self.nodes):
            if n.name in seen:
                seen.update(a for a in n.args if isinstance(a, str))
        return seen


def build_graph(statements: tuple[Statement, ...], inputs: tuple[str, ...], output: str | None, where: Where) -> Graph:
    """Nodes for ``statements`` reading ``inputs``; ``output`` names a variable (default: the last assigned)."""
    return _Builder(statements, inputs, where).build(output)


def _names_in(expr: Expr, into: set[str]) -> None:
    if isinstance(expr, Var):
        into.add(expr.name)
    elif isinstance(expr, Apply):
        for arg in expr.args:
            _names_in(arg, into)


class _Builder:
    def __init__(self, statements: tuple[Statement, ...], inputs: tuple[str, ...], where: Where) -> None:
        self.statements = statements
        self.inputs = inputs
        self.where = where
        self.taken: set[str] = set(inputs)
        for s in statements:
            self.taken.add(s.target)
            _names_in(s.value, self.taken)
        self.nodes: list[Node] = [Node(name, "input", variable=name) for name in inputs]
        self.current: dict[str, str] = {name: name for name in inputs}  # variable -> node holding its value
        self.versions: dict[str, int] = dict.fromkeys(inputs, 1)
        self.temporaries = 0
        self.statement: Statement | None = None

    def free(self, name: str) -> str:
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name

    def build(self, output: str | None) -> Graph:
        for s in self.statements:
            self.statement = s
            version = self.versions.get(s.target, 0) + 1
            self.versions[s.target] = version
            value = s.value if isinstance(s.value, Apply) else Apply("copy", (s.value,), s.line, s.col)
            # arguments first (they may read the old value of the target), then the named result
            args = tuple(self.operand(a) for a in value.args)
            name = s.target if version == 1 else self.free(f"{s.target}_{version}")
            self.add(Node(name, value.op, args, s.target, value.line, value.col, s.text))
            self.current[s.target] = name
        chosen = output if output is not None else (self.statements[-1].target if self.statements else None)
        if chosen is None or chosen not in self.current:
            known = ", ".join(sorted(self.current)) or "none"
            raise ConfigError(
                f"unknown output {quoted(chosen)}; expected a name the expression assigns or an input ({known})",
                file=self.where.source,
                path="output",
            )
        nodes = tuple(self.nodes)
        return Graph(nodes, self.inputs, self.current[chosen], {n.name: i for i, n in enumerate(nodes)})

    def add(self, node: Node) -> None:
        if len(self.nodes) >= MAX_NODES:
            raise self.where.error(
                f"the graph has more than {MAX_NODES} nodes; expected a smaller program", node.line, 1
            )
        self.nodes.append(node)

    def operand(self, expr: Expr) -> Operand:
        if isinstance(expr, Num):
            return Const(expr.text, expr.value)
        if isinstance(expr, Var):
            if expr.name not in self.current:
                given = ", ".join(self.inputs) or "none given"
                hint = self.where.values_hint
                raise self.where.error(
                    f"unknown name {expr.name!r}; expected an input from {hint} ({given}) or a name assigned above",
                    expr.line,
                    expr.col,
                )
            return self.current[expr.name]
        args = tuple(self.operand(a) for a in expr.args)
        self.temporaries += 1
        name = self.free(f"t{self.temporaries}")
        s = self.statement
        self.add(Node(name, expr.op, args, None, expr.line, expr.col, s.text if s else ""))
        return name
