"""Forward values and reverse-mode backward records for an expression graph; data only, no printing.

Backward visits the nodes in reverse topological order. At a node n it first sums what flowed into
it (``grad.n`` = Σ contributions; the output's own gradient is 1), then for every argument a it
records the edge: upstream ``grad.n``, local derivative ``dn_da`` and their product, the
contribution ``grad.a.via.n``. A value read by several nodes (or twice by one) therefore shows
every contribution and their sum. ``exact=True`` computes with Fractions: inputs and literals are
read from their decimal text, and an operation that is not rational is refused by name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from backprop_cli.errors import BackpropError, ExitCode
from backprop_cli.graph.graph import Const, Graph, Node
from backprop_cli.graph.ops import INFINITE_LOCALS, OPS, DomainError, Scalar
from backprop_cli.graph.parse import Where
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.quantity import MAX_EXACT_BITS, MAX_EXACT_DIGITS, too_large

if TYPE_CHECKING:
    from backprop_cli.loading.expression import ExprSpec

# Python writes an int of at most 4,300 digits (sys.get_int_max_str_digits), so every exact value is
# held below that where it is made: its numerator and its denominator have at most 4,000 digits each,
# that is at most 13,287 bits (13,287 · log10 2 < 4,000).
RATIONAL = "+ − × ÷, integer powers, abs, relu, max, min"


class ExprFault(BackpropError):
    """A value the operation cannot take (log of 0, division by 0) or that is not finite, at a named node."""

    exit_code = ExitCode.NUMERICAL_FAULT


@dataclass(frozen=True)
class NodeValue:
    """One forward node: its operation, its operands' values and its value."""

    node: Node
    arg_values: tuple[Scalar, ...]
    value: Scalar


@dataclass(frozen=True)
class Edge:
    """One backward edge from ``node`` into its argument ``arg`` (at ``position``)."""

    node: str
    arg: str
    position: int
    upstream: Scalar  # grad.node
    local: Scalar  # ∂node/∂arg
    product: Scalar  # upstream × local: the contribution grad.arg.via.node
    local_name: str
    contribution_name: str


@dataclass(frozen=True)
class Gradient:
    """∂output/∂name: the sum of its contributions (the output's own gradient is the seed 1)."""

    name: str
    contributions: tuple[Edge, ...]
    value: Scalar
    seed: bool = False


@dataclass(frozen=True)
class NodeBackward:
    """Backward at one node: its gradient, then the edges into its arguments."""

    gradient: Gradient
    edges: tuple[Edge, ...]


@dataclass(frozen=True)
class ExprTrace:
    graph: Graph
    forward: tuple[NodeValue, ...]
    backward: tuple[NodeBackward, ...]  # reverse topological order, only nodes the output depends on
    exact: bool
    # statements the output does not use whose value is not defined (log of −1, 1/0): left out of the
    # graph, each with why, instead of stopping the run (torch computes them as NaN or inf and moves on)
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def value(self) -> Scalar:
        return self.forward[self.graph.index[self.graph.output]].value

    @property
    def gradients(self) -> dict[str, Scalar]:
        """∂output/∂input for every input (0 when the output does not depend on it)."""
        found = {b.gradient.name: b.gradient.value for b in self.backward}
        zero: Scalar = Fraction(0) if self.exact else 0.0
        return {name: found.get(name, zero) for name in self.graph.inputs}

    def named_values(self) -> Iterator[tuple[str, Scalar]]:
        """Every named number of the trace, in reading order (for answer keys and checks)."""
        for f in self.forward:
            yield f.node.name, f.value
        for b in self.backward:
            yield grad_name(b.gradient.name), b.gradient.value
            for e in b.edges:
                yield e.local_name, e.local
                yield e.contribution_name, e.product
        for name, value in self.gradients.items():
            if name not in {b.gradient.name for b in self.backward}:
                yield grad_name(name), value

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: value, gradients and the per-node records (exact values as "n/d" strings)."""
        number = _json_number(self.exact)
        skipped = {"skipped": [{"name": name, "reason": reason} for name, reason in self.skipped]}
        return {
            "output": self.graph.output,
            "exact": self.exact,
            **(skipped if self.skipped else {}),
            "value": number(self.value),
            "gradients": {k: number(v) for k, v in self.gradients.items()},
            "nodes": [
                {
                    "name": f.node.name,
                    "op": f.node.op,
                    "args": [a if isinstance(a, str) else {"constant": a.text} for a in f.node.args],
                    "variable": f.node.variable,
                    "line": f.node.line or None,
                    "value": number(f.value),
                }
                for f in self.forward
            ],
            "backward": [
                {
                    "name": b.gradient.name,
                    "gradient": number(b.gradient.value),
                    "seed": b.gradient.seed,
                    "contributions": [
                        {"name": e.contribution_name, "from": e.node, "value": number(e.product)}
                        for e in b.gradient.contributions
                    ],
                    "edges": [
                        {
                            "to": e.arg,
                            "position": e.position + 1,
                            "upstream": number(e.upstream),
                            "local": {"name": e.local_name, "value": number(e.local)},
                            "product": {"name": e.contribution_name, "value": number(e.product)},
                        }
                        for e in b.edges
                    ],
                }
                for b in self.backward
            ],
        }


def grad_name(node: str) -> str:
    return f"grad.{node}"


def _json_number(exact: bool) -> Any:
    def number(value: Scalar) -> float | str | None:
        if exact:
            v = Fraction(value)
            return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
        # JSON has no inf or NaN: an infinite or undefined local derivative or gradient on the way to a
        # select that masks it (sqrt′(0) before relu at x < 0) is null, as the README says
        return float(value) if math.isfinite(value) else None

    return number


def edge_names(graph: Graph) -> dict[tuple[str, int], tuple[str, str]]:
    """(local derivative name, contribution name) of every edge, keyed by (node, argument position).

    ``dq_dx`` is ∂q/∂x and ``grad.x.via.q`` the contribution grad.q × dq_dx; when a node reads the
    same value twice (``y = x * x``) both get the argument position: ``dy_dx.1``, ``grad.x.via.y.1``.
    """
    names: dict[tuple[str, int], tuple[str, str]] = {}
    for n in graph.nodes:
        refs = [a for a in n.args if isinstance(a, str)]
        for position, arg in enumerate(n.args):
            if isinstance(arg, str):
                suffix = f".{position + 1}" if refs.count(arg) > 1 else ""
                names[(n.name, position)] = (f"d{n.name}_d{arg}{suffix}", f"grad.{arg}.via.{n.name}{suffix}")
    return names


def parse_scalar(text: str, *, exact: bool) -> Scalar:
    """An input value from its text: a decimal (``0.1``, ``-2``, ``1e-3``) or a fraction (``-24/7``)."""
    text = text.strip()
    value = Fraction(text)  # raises ValueError for anything else
    if exact:
        return value
    number = float(value) if "/" in text else float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def refuse_irrational(graph: Graph, where: Where) -> None:
    """``--exact``: a located error at the first operation that is not rational."""
    for n in graph.nodes:
        if n.op == "input":
            continue
        op = OPS[n.op]
        reason = ""
        if not op.rational:
            reason = f"{n.op} is not a rational operation"
        elif n.op == "pow" and isinstance(n.args[1], Const) and not float(n.args[1].value).is_integer():
            reason = f"the power {n.args[1].text} is not an integer"
        if reason:
            raise where.error(f"--exact: {reason}; expected only {RATIONAL} (or drop --exact)", n.line, n.col)


def run(graph: Graph, values: Mapping[str, Scalar], *, exact: bool = False) -> ExprTrace:
    """Forward then backward over ``graph`` with input ``values`` (floats, or Fractions when ``exact``).

    As torch: a value the output does not use may be undefined (it is left out, with why), a local
    derivative or a gradient on the way may be infinite or undefined where a select (relu, max, min)
    then masks it; an input's gradient, and every value the output uses, must be finite.
    """
    forward: list[NodeValue] = []
    value_of: dict[str, Scalar] = {}
    used = graph.ancestors()
    skipped: dict[str, str] = {}
    for n in graph.nodes:
        if n.op == "input":
            v = values[n.name]
            forward.append(NodeValue(n, (), v))
            value_of[n.name] = v
            continue
        dead = [a for a in n.args if isinstance(a, str) and a in skipped]
        if dead:  # only a statement the output does not use can read a skipped value
            skipped[n.name] = _("it reads {name}").format(name=dead[0])
            continue
        args = tuple(_operand_value(a, value_of, exact) for a in n.args)
        try:
            if exact and n.op == "pow":
                _check_exact_size(n, args[0], abs(int(args[1])))
            v = _checked(n, N_("value"), lambda n=n, args=args: OPS[n.op].forward(args), exact)
        except ExprFault as fault:
            if n.name in used:
                raise
            skipped[n.name] = str(fault).split(": ", 2)[-1]  # the reason, without "numerical fault at node …"
            continue
        forward.append(NodeValue(n, args, v))
        value_of[n.name] = v
    if skipped:
        kept = tuple(n for n in graph.nodes if n.name not in skipped)
        graph = Graph(kept, graph.inputs, graph.output, {n.name: i for i, n in enumerate(kept)})
    return ExprTrace(graph, tuple(forward), _backward(graph, forward, exact), exact, tuple(skipped.items()))


def _backward(graph: Graph, forward: list[NodeValue], exact: bool) -> tuple[NodeBackward, ...]:
    one: Scalar = Fraction(1) if exact else 1.0
    wanted = graph.ancestors()
    names = edge_names(graph)
    arrived: dict[str, list[Edge]] = {n.name: [] for n in graph.nodes}
    why: dict[str, str] = {}  # a gradient or contribution that is not finite: where that began
    out: list[NodeBackward] = []
    for record in reversed(forward):
        n = record.node
        if n.name not in wanted:
            continue
        seed = n.name == graph.output
        contributions = tuple(arrived[n.name])
        total: Scalar = one if seed else _sum([e.product for e in contributions], exact)
        if exact and too_large(total):  # a sum of fractions: its denominator can outgrow every term's
            raise too_large_fault(_where(n), f"the gradient {grad_name(n.name)}")
        if not exact and not math.isfinite(total):
            bad = [why[e.contribution_name] for e in contributions if e.contribution_name in why]
            why[grad_name(n.name)] = bad[0] if bad else f"{_where(n)}: the sum {grad_name(n.name)} overflows float64"
        if n.op == "input" and grad_name(n.name) in why:
            raise ExprFault(f"numerical fault at {why[grad_name(n.name)]}, so {grad_name(n.name)} is not finite "
                            f"({float(total)!r})")  # fmt: skip
        gradient = Gradient(n.name, contributions, total, seed)
        edges: list[Edge] = []
        if n.op != "input" and any(isinstance(a, str) for a in n.args):  # a node of constants passes nothing on
            op = OPS[n.op]
            locals_ = _locals(n, record, exact)
            for position, arg in enumerate(n.args):
                if not isinstance(arg, str):
                    continue
                local = locals_[position]
                local_name, contribution_name = names[(n.name, position)]
                # a select passes 0 where its local derivative is 0, whatever comes from above (torch's where)
                product = local * 0 if op.selects and local == 0 else total * local
                if exact and too_large(product):
                    raise too_large_fault(_where(n), f"gradient into {arg}")
                if not exact and not math.isfinite(product):
                    if not math.isfinite(local):
                        reason = INFINITE_LOCALS.get(n.op, f"{local_name} is not finite")
                        why[contribution_name] = f"{_where(n)}: local derivative: {reason}"
                    elif grad_name(n.name) in why:
                        why[contribution_name] = why[grad_name(n.name)]
                    else:
                        why[contribution_name] = f"{_where(n)}: gradient into {arg} overflows float64"
                edge = Edge(n.name, arg, position, total, local, product, local_name, contribution_name)
                edges.append(edge)
                arrived[arg].append(edge)
        out.append(NodeBackward(gradient, tuple(edges)))
    return tuple(out)


def _locals(n: Node, record: NodeValue, exact: bool) -> tuple[Scalar, ...]:
    """The local derivatives of ``n``; infinite ones are kept (float mode), the rest checked as before."""
    try:
        result = OPS[n.op].local(record.arg_values, record.value)
    except (DomainError, ZeroDivisionError, ValueError) as error:
        raise ExprFault(f"numerical fault at {_where(n)}: local derivative: {error}") from None
    except OverflowError:
        raise ExprFault(f"numerical fault at {_where(n)}: local derivative overflows float64") from None
    if exact:
        values = tuple(Fraction(v) for v in result)
        for v in values:
            if too_large(v):
                raise too_large_fault(_where(n), "local derivative")
        return values
    return tuple(float(v) for v in result)


def _sum(values: list[Scalar], exact: bool) -> Scalar:
    total: Scalar = Fraction(0) if exact else 0.0
    for v in values:
        total = total + v
    return total


def _operand_value(arg: str | Const, value_of: dict[str, Scalar], exact: bool) -> Scalar:
    if isinstance(arg, str):
        return value_of[arg]
    return Fraction(arg.text) if exact else arg.value


def _where(n: Node) -> str:
    if n.line:
        return _("node {name} ({statement}, line {line})").format(name=n.name, statement=n.statement, line=n.line)
    return _("node {name}").format(name=n.name)


def too_large_fault(where: str, quantity: str) -> ExprFault:
    return ExprFault(
        f"numerical fault at {where}: {quantity}: the exact value would have more than {MAX_EXACT_DIGITS:,} "
        "digits; expected smaller numbers or fewer powers (or drop --exact)"
    )


def _checked(n: Node, quantity: str, compute: Any, exact: bool) -> Any:
    try:
        result = compute()
    except (DomainError, ZeroDivisionError, ValueError) as error:
        raise ExprFault(
            _("numerical fault at {where}: {quantity}: {error}").format(
                where=_where(n), quantity=_(quantity), error=error
            )
        ) from None
    except OverflowError:
        raise ExprFault(
            _("numerical fault at {where}: {quantity} overflows float64; rescale the inputs").format(
                where=_where(n), quantity=_(quantity)
            )
        ) from None
    values = tuple(Fraction(v) if exact else float(v) for v in (result if isinstance(result, tuple) else (result,)))
    for v in values:
        if isinstance(v, Fraction):
            if too_large(v):
                raise too_large_fault(_where(n), quantity)
        elif not math.isfinite(v):
            raise ExprFault(
                _("numerical fault at {where}: {quantity} is not finite ({value})").format(
                    where=_where(n), quantity=_(quantity), value=repr(v)
                )
            )
    return values if isinstance(result, tuple) else values[0]


def _check_exact_size(n: Node, base: Scalar, k: int) -> None:
    """Refuse a^k before computing it when it must be too large: an int of b bits to the k has at least
    k·(b − 1) + 1 bits (what is not refused here is made, at most twice the bound, and then checked)."""
    value = Fraction(base)
    bits = max(value.numerator.bit_length(), value.denominator.bit_length())
    if bits and k * (bits - 1) + 1 > MAX_EXACT_BITS:
        raise too_large_fault(_where(n), "value")


def compute(spec: ExprSpec, *, exact: bool) -> ExprTrace:
    """Forward and backward over a loaded program, with its inputs read from their text (exactly with
    ``exact``, after refusing, located, an operation that is not rational)."""
    if exact:
        refuse_irrational(spec.graph, spec.where)
    values = {name: parse_scalar(text, exact=exact) for name, text in spec.values.items()}
    return run(spec.graph, values, exact=exact)
