"""The document every file format lays out: the terminal's header facts, the chosen steps and sections."""

from __future__ import annotations

import pytest

from backprop_cli.layout.document import TraceJob, build
from backprop_cli.layout.header import facts
from backprop_cli.loading.config import load_network as load
from backprop_cli.model.filters import Filter
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.nn.engine import Engine, count_steps
from tests.render.formats_helpers import EXAMPLES, trace


def job(example: str, only: Filter | None = None) -> TraceJob:
    spec, _ = load(example, None)
    engine = Engine(spec)
    total = count_steps(spec.data.rows, spec.training)
    return TraceJob(spec, engine.run(), total, NumberFormat(), only or Filter(), engine.loss(), engine.loss)


@pytest.mark.parametrize("example", EXAMPLES)
def test_header_facts_are_the_terminals(example: str) -> None:
    # terminal.header is built from the same facts(); this checks that it prints them whole
    terminal = " ".join(trace(example, "--width", "1000", "--no-color", "--phase", "summary").split())
    spec, _ = load(example, None)
    for line in facts(spec, count_steps(spec.data.rows, spec.training), NumberFormat()):
        assert " ".join(line.split()) in terminal


def test_filters_choose_steps_and_sections() -> None:
    doc = build(job("single_neuron", Filter(steps=frozenset({2}), phases=frozenset({"update"}))))
    assert [part.step for part in doc.steps] == [2]
    assert {s.phase for part in doc.steps for s in part.sections} == {"update"}
    assert [r.name for s in doc.steps[0].sections for r in s.rows] == ["step2/neuron.w1_1.new", "step2/neuron.b1.new"]


def test_closing_line_only_for_a_whole_run_of_several_steps() -> None:
    # the seed neuron: loss (1·2 + 0 − 4)² = 4; dL/dw = 2·(−2)·2 = −8, dL/db = −4, so step 1 gives
    # w = 1.8, b = 0.4 and 1.8·2 + 0.4 = 4: loss 0, where step 2 leaves it
    closing = build(job("single_neuron")).closing
    assert closing == "Loss on all data: 4 before step 1, 0 after step 2 (change -4)"
    assert build(job("single_neuron", Filter(steps=frozenset({2})))).closing == ""
    assert build(job("two_layer_relu")).closing == ""  # one step: its summary section says it
