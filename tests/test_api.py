"""The Python API (``import backprop_cli as bp``): what the command computes, as values."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from rich.console import Console

import backprop_cli as bp
from backprop_cli.cli.main import main
from backprop_cli.errors import ConfigError
from backprop_cli.model import budgets

SNIPPET = {
    "network": {"inputs": 1, "layers": [{"units": 1, "activation": "identity", "weights": [[2.0]], "biases": [0.0]}]},
    "loss": "sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "data": [{"x": 3, "y": 10}],
}


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_all_names_what_the_package_offers() -> None:
    assert set(bp.__all__) == {
        "NumberFormat",
        "Quantity",
        "Trace",
        "__version__",
        "expression",
        "load",
        "trace",
        "train",
    }
    for name in bp.__all__:
        assert getattr(bp, name) is not None
    with pytest.raises(AttributeError):
        _ = bp.nothing_here  # type: ignore[attr-defined]


def test_a_quantity_by_name_as_the_trace_computes_it() -> None:
    t = bp.trace("pytorch_snippet")
    q = t["out.dL_dw1_1"]
    assert isinstance(q, bp.Quantity)
    assert q.value == -24.0  # dL/dw = 2·(w·x − y)·x = 2·(6 − 10)·3
    assert q.factors == ("out.delta1", "x")
    assert "out.dL_dw1_1" in t and "nope" not in t
    assert len(t) == len(t.names()) == len(list(t))


def test_an_unknown_name_says_the_closest_one() -> None:
    t = bp.trace("pytorch_snippet")
    with pytest.raises(KeyError, match=r"did you mean 'out\.dL_dw1_1'"):
        t["out.dL_dw1"]


def test_quantities_filter_by_phase_and_layer() -> None:
    t = bp.trace("classic_2_2_2")
    chosen = t.quantities(phase="backward", layer="o")
    assert chosen and all(q.phase == "backward" and q.layer == "o" for q in chosen)
    assert {q.name for q in chosen} < set(t.names())


def test_a_mapping_and_a_file_give_the_same_trace(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "net.json"  # type: ignore[operator]
    path.write_text(json.dumps(SNIPPET), encoding="utf-8")
    from_mapping, from_file = bp.trace(SNIPPET), bp.trace(path)
    assert [(q.name, q.value) for q in from_mapping] == [(q.name, q.value) for q in from_file]


def test_to_json_is_what_the_command_writes() -> None:
    for name in ("classic_2_2_2", "circuit_add_mul"):
        assert json.loads(bp.trace(name).to_json()) == json.loads(cli("trace", name, "--format", "json"))


def test_explain_is_what_the_command_prints_first() -> None:
    text = bp.trace("pytorch_snippet").explain("out.dL_dw1_1")
    assert text.splitlines()[0] == "out.dL_dw1_1 = out.delta1 × x = (-8) × 3 = -24"


def test_two_traces_in_one_process_do_not_affect_each_other() -> None:
    first = bp.trace(SNIPPET)
    before = [(q.name, q.value) for q in first]
    changed = {**SNIPPET, "data": [{"x": 1, "y": -5}]}
    second = bp.trace(changed)
    assert [(q.name, q.value) for q in first] == before
    assert second["layer1.dL_dw1_1"].value != first["layer1.dL_dw1_1"].value
    assert [(q.name, q.value) for q in bp.trace(SNIPPET)] == before


def test_an_expression_by_keyword_values() -> None:
    e = bp.expression("f = (x + y) * z", x=-2, y=5, z=-4)
    assert e.kind == "expression"
    assert (e["grad.x"].value, e["grad.y"].value, e["grad.z"].value) == (-4, -4, 3)
    exact = bp.expression("f = x / y", exact=True, x=1, y=3)
    assert str(exact["f"].value) == "1/3"


@pytest.mark.parametrize("name", ["classic_2_2_2", "circuit_add_mul"])
def test_a_trace_renders_in_jupyter_and_in_rich(name: str) -> None:
    t = bp.trace(name)
    page = t._repr_html_()
    # the page's body: a whole page's stylesheet (body { max-width … }) would restyle the notebook
    assert page.startswith('<div class="backprop-trace">') and "<table>" in page and "<style>" not in page
    console = Console(width=120, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(t)
    shown = console.export_text()
    first = t.names()[0].split("/")[-1]
    assert first in shown
    assert t.render("text").splitlines()[0] == cli("trace", name, "--width", "100").splitlines()[0]


@pytest.mark.parametrize("fmt", ["markdown", "latex", "html", "svg"])
@pytest.mark.parametrize("name", ["pytorch_snippet", "circuit_add_mul"])
def test_render_writes_every_document_format_as_the_command_does(name: str, fmt: str) -> None:
    written = bp.trace(name).render(fmt)
    if fmt == "svg":
        ET.fromstring(written)
    else:
        assert written == cli("trace", name, "--format", fmt)


def test_render_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        bp.trace("pytorch_snippet").render("pdf")


def test_the_api_is_bounded_as_the_command_is(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    monkeypatch.setattr(budgets, "LIMITS", replace(budgets.LIMITS, trace_products=10, train_products=10))
    with pytest.raises(ConfigError, match="too much arithmetic to trace"):
        bp.trace("classic_2_2_2")
    with pytest.raises(ConfigError, match="too much arithmetic to train"):
        bp.train("classic_2_2_2")


def test_train_returns_the_run() -> None:
    run = bp.train("lr_just_right")
    losses = [point.loss for point in run.history if point.loss is not None]
    assert len(losses) >= 2 and losses[-1] < losses[0]
    assert run.steps == bp.load("lr_just_right").training.steps


def test_bad_input_is_the_command_s_located_error() -> None:
    bad = {**SNIPPET, "loss": "nope"}
    with pytest.raises(ConfigError) as caught:
        bp.load(bad)
    assert "loss" in str(caught.value)


def test_a_trace_renders_in_its_own_language_and_leaves_none_behind() -> None:
    import backprop_cli as bp

    russian = bp.trace("two_layer_relu", lang="ru")
    english = bp.trace("two_layer_relu")
    assert "### Прямой проход" in russian.render("markdown")
    assert "Прямой проход · слой hidden (relu)" in russian.render("text")
    assert "### Forward pass" in english.render("markdown")  # rendered after the Russian one, in one process
    assert english.render("text") == bp.trace("two_layer_relu", lang="en").render("text")
    assert [q.value for q in russian] == [q.value for q in english]  # the numbers are the same
    with pytest.raises(ValueError, match="expected one of en, ru, ja, ar"):
        bp.trace("two_layer_relu", lang="fr")
