"""Expression traces through the names contract: every named number, exact, in the trace's order."""

from __future__ import annotations

from backprop_cli.graph.engine import compute
from backprop_cli.homework.expression_values import expression_values
from backprop_cli.loading.expression import expression_from_option
from backprop_cli.model.filters import Filter
from backprop_cli.model.numbers import NumberFormat


def test_every_name_of_the_trace_with_its_exact_value() -> None:
    t = compute(expression_from_option("a = x * y\nb = x * x\nf = a + exp(b) / 3", ["x=0.3", "y=-2"]), exact=False)
    listed = {v.name: v for v in expression_values(t)}
    engine = dict(t.named_values())
    assert set(engine) <= set(listed)
    for name, value in engine.items():
        assert listed[name].value == value, name  # the float itself, not a rounded display
    assert listed["grad.x"].formula == "grad.x.via.b.1 + grad.x.via.b.2 + grad.x.via.a"
    assert listed["grad.x"].phase == "summary" and listed["dt1_db"].phase == "backward"
    assert list(listed)[:3] == ["x", "y", "a"]  # inputs, then forward in order


def test_exact_values_are_shown_as_fractions() -> None:
    t = compute(expression_from_option("f = 24 / (7 * x)", ["x=1"]), exact=True)
    listed = {v.name: v for v in expression_values(t, NumberFormat(6))}
    assert listed["grad.x"].shown == "-24/7"
    assert listed["grad.x"].value == -24 / 7


def test_filters_by_pattern_and_phase() -> None:
    t = compute(expression_from_option("q = x + y; f = q * z", ["x=-2", "y=5", "z=-4"]), exact=False)
    grads = [v.name for v in expression_values(t, only=Filter(patterns=("grad.?",)))]
    assert grads == ["grad.f", "grad.q", "grad.x", "grad.y", "grad.z"]
    forward = [v.name for v in expression_values(t, only=Filter(phases=frozenset({"forward"})))]
    assert forward == ["x", "y", "z", "q", "f"]
