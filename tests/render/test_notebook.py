"""``--format ipynb``: a notebook whose code recomputes every phase with numpy and prints the trace's
names and numbers; valid nbformat 4, the same bytes each time."""

from __future__ import annotations

import contextlib
import io
import json
import math
from typing import Any

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main
from backprop_cli.render.notebook import code_cells
from tests.render.formats_helpers import trace

CASES = [
    ("two_layer_relu",),
    ("classic_2_2_2",),
    ("xor",),
    ("softmax_classifier",),
    ("lr_just_right",),
    ("dog_not_dog",),
    ("iris", "--step", "2"),  # shuffled batches of 30, softmax and cross-entropy
]


def run_notebook(document: dict[str, Any]) -> dict[str, float]:
    """Every code cell run in order, in one namespace; what it printed, by name."""
    namespace: dict[str, Any] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for code in code_cells(document):
            exec(compile(code, "<notebook cell>", "exec"), namespace)  # the notebook this test generated
    values = {}
    for line in printed.getvalue().splitlines():
        name, value = line.split(" = ")
        values[name] = float(value)
    return values


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_notebook_recomputes_the_trace_s_numbers(case: tuple[str, ...]) -> None:
    document = json.loads(trace(*case, "--format", "ipynb"))
    printed = run_notebook(document)
    trace_json = json.loads(trace(*case, "--format", "json", "--quantities"))
    expected = {q["name"]: q["value"] for step in trace_json["steps"] for q in step["quantities"]}
    assert len(printed) > 5
    for name, value in printed.items():
        assert math.isclose(value, expected[name], rel_tol=1e-9, abs_tol=1e-12), (name, value, expected[name])
    if case[0] == "two_layer_relu":  # the source article's network: dL/dw of the output, −0.65 × 0.475
        assert printed["out.dL_dw1_1"] == pytest.approx(-0.30875, abs=1e-15)


def test_the_notebook_is_valid_nbformat_and_deterministic() -> None:
    out = trace("xor", "--format", "ipynb")
    assert out == trace("xor", "--format", "ipynb")
    document = json.loads(out)
    kinds = [c["cell_type"] for c in document["cells"]]
    assert kinds[:2] == ["markdown", "code"] and kinds.count("code") == 1 + 1 + 4  # setup, network, 4 phases
    assert all(c["outputs"] == [] for c in document["cells"] if c["cell_type"] == "code")
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install nbformat)")
    nbformat.validate(nbformat.reads(out, as_version=4))


def test_what_the_notebook_cannot_recompute_is_refused() -> None:
    result = CliRunner().invoke(main, ["trace", "adam_two_steps", "--format", "ipynb"])
    assert result.exit_code == 2 and "recomputes plain SGD, not adam" in result.stderr
    long = CliRunner().invoke(main, ["trace", "iris", "--format", "ipynb"])
    assert long.exit_code == 2 and "expected at most 50" in long.stderr


def test_a_trace_displays_in_jupyter() -> None:
    import backprop_cli as bp

    shown = bp.trace("two_layer_relu")
    html = shown._repr_html_()
    assert html.startswith('<div class="backprop-trace">') and "<table>" in html and "<style>" not in html
    assert shown._repr_markdown_().startswith("# backprop trace · two\\_layer\\_relu")
