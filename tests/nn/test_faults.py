"""nn/faults.py's numerical-fault line (exit 3) in Russian, Japanese and Arabic, through ``trace``.

The expected line is computed, not written out: the English run's line is taken apart (step, layer,
neuron, the quantity, the shown value, the advice), each part is translated with the catalogue's own
entry (tests/loading/test_languages.py's ``translated``) and put into the catalogue's translation of the
line's template. Names, numbers and symbols come from the English line unchanged.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import Result

from backprop_cli.errors import ExitCode
from backprop_cli.model.i18n import using
from backprop_cli.nn.faults import described, fault
from tests.loading.test_languages import LOCALES, Template, invoke, pieces, translated
from tests.model.test_i18n import catalogue

LINE = "numerical fault at {where}: {quantity} is {what}{shown}; {tail}"
ENGLISH = re.compile(
    r"numerical fault at step (?P<step>\d+)(?:, layer (?P<layer>[\w.-]+))?(?:, neuron (?P<neuron>\d+))?: "
    r"(?P<quantity>.+) is (?P<what>not finite|too large to write exactly)(?P<shown> \([^()]*\))?; (?P<tail>.+)"
)
BEFORE = "{quantity} (in the loss over all data before the first step)"


def network(weights: str, x: str, steps: int) -> str:
    return textwrap.dedent(
        f"""\
        network:
          inputs: 2
          layers:
            - {{name: out, units: 1, activation: identity, weights: {weights}, biases: [0.0]}}
        loss: sse
        optimizer: {{name: sgd, learning_rate: 0.1}}
        data: [{{x: {x}, y: [1.0]}}]
        training: {{steps: {steps}}}
        """
    )


def filled(lang: str, msgid: str, **values: str) -> str:
    translation = catalogue(lang)[msgid][0]
    assert translation, msgid
    return "".join(literal + ("" if name is None else values[name]) for literal, name in pieces(translation))


def expected_line(lang: str, english: str, quantity: Template) -> str:
    parts = ENGLISH.fullmatch(english)
    assert parts is not None, english
    where = filled(lang, "step {step}", step=parts["step"])
    if parts["layer"]:
        where += filled(lang, ", layer {layer}", layer=parts["layer"])
    if parts["neuron"]:
        where += filled(lang, ", neuron {neuron}", neuron=parts["neuron"])
    return filled(
        lang,
        LINE,
        where=where,
        quantity=translated(lang, parts["quantity"], quantity),
        what=translated(lang, parts["what"], Template(parts["what"])),
        shown=parts["shown"] or "",
        tail=translated(lang, parts["tail"], Template(parts["tail"])),
    )


FAULTS = {
    # 1e200·1e200 overflows the weighted sum while the loss before step 1 is computed
    "overflow": (
        network("[[1.0e+200, 0.0]]", "[1.0e+200, 0.0]", 1),
        Template(BEFORE, {"quantity": Template("weighted sum z")}),
    ),
    # the squared error of a huge but finite prediction overflows
    "overflow in the loss": (
        network("[[1.0e+100, 0.0]]", "[1.0e+100, 0.0]", 1),
        Template(BEFORE, {"quantity": Template("{loss} loss term")}),
    ),
    # a learning rate far too large for inputs of 100 (as lr_too_large): the weights grow until the loss overflows
    "exploding weights": (network("[[1.0, 1.0]]", "[100.0, 100.0]", 500), Template("{loss} loss term")),
}


def one_line(result: Result) -> str:
    assert result.exit_code == ExitCode.NUMERICAL_FAULT, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output + result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("how", ["--lang", "LANG"])
@pytest.mark.parametrize("lang", sorted(LOCALES))
@pytest.mark.parametrize("case", sorted(FAULTS))
def test_a_numerical_fault_is_in_the_readers_language(tmp_path: Path, case: str, lang: str, how: str) -> None:
    text, quantity = FAULTS[case]
    config = tmp_path / "net.yaml"
    config.write_text(text, encoding="utf-8")
    english = one_line(invoke("trace", str(config)))
    assert english.startswith("numerical fault at step ")  # English stays the source text
    if how == "--lang":
        line = one_line(invoke("trace", str(config), "--lang", lang))
    else:
        line = one_line(invoke("trace", str(config), env={"LANG": LOCALES[lang]}))
    assert line == expected_line(lang, english, quantity)
    assert line != english


def test_the_fault_keeps_its_english_fields_for_code() -> None:
    quantity = "weighted sum z (evaluating all data after step 3)"
    english = str(fault(step=3, layer="h", neuron=2, quantity=quantity, value=float("inf")))
    with using("ru"):
        made = fault(step=3, layer="h", neuron=2, quantity=quantity, value=float("inf"))
        shown = described(quantity)
    after = Template("{quantity} (evaluating all data after step {step})", {"quantity": Template("weighted sum z")})
    assert shown == translated("ru", quantity, after) and shown != quantity
    assert str(made) == expected_line("ru", english, after)
    assert (made.quantity, made.step, made.layer, made.neuron) == (quantity, 3, "h", 2)  # English, for code


LOG0 = Template(
    "numerical fault at {where}: {quantity}: {error}",
    {
        "where": Template("node {name} ({statement}, line {line})"),
        "quantity": Template("value"),
        "error": Template("log of {a}, which is not positive"),
    },
)


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_an_expression_fault_is_in_the_readers_language(lang: str) -> None:
    args = ("trace", "--expr", "f = log(x)", "--set", "x=0")
    english = one_line(invoke(*args))
    line = one_line(invoke(*args, "--lang", lang))
    assert line == translated(lang, english, LOG0) and line != english


SKIPPING = ("trace", "--expr", "u = log(x - 2)\nv = u * 2\nf = x * x", "--set", "x=2")


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_a_skipped_nodes_reason_is_in_the_readers_language(lang: str) -> None:
    result = invoke(*SKIPPING, "--width", "400", "--lang", lang)
    assert result.exit_code == 0, result.stderr
    log0 = translated(lang, "log of 0.0, which is not positive", Template("log of {a}, which is not positive"))
    reads = translated(lang, "it reads u", Template("it reads {name}"))
    assert f"u ({log0}); v ({reads})" in " ".join(result.output.split())  # the note may wrap


def test_the_json_trace_is_english_in_every_language() -> None:
    english = invoke(*SKIPPING, "--format", "json")
    assert english.exit_code == 0, english.stderr
    assert json.loads(english.output)["steps"][0]["skipped"][1] == {"name": "v", "reason": "it reads u"}
    for lang in sorted(LOCALES):
        assert invoke(*SKIPPING, "--format", "json", "--lang", lang).output == english.output


@pytest.mark.parametrize("lang", sorted(LOCALES))
@pytest.mark.parametrize(
    "detail",
    [
        "{optimizer} produced it; lower the learning rate",
        "{optimizer} produced it; lower the learning rate, and keep eps > 0 so that a zero gradient does not "
        "divide 0 by 0",
        "{optimizer} produced it; lower the learning rate or rescale the inputs: the gradient is too large for its "
        "running averages",
    ],
)
def test_an_optimizers_fault_is_worded_in_the_readers_language(lang: str, detail: str) -> None:
    """nn/engine.py's optimizer-state fault: its quantity and its advice through the catalogue's templates."""
    quantity = "adam's v of h.w1_2"
    english_detail = detail.format(optimizer="adam")
    with using(lang):
        line = str(fault(step=2, layer="h", neuron=1, quantity=quantity, value=float("inf"), detail=english_detail))
    shown = filled(lang, "{optimizer}'s {state} of {name}", optimizer="adam", state="v", name="h.w1_2")
    advice = filled(lang, detail, optimizer="adam")
    assert shown in line and line.endswith(advice), line
    assert "produced it" not in line and "'s v of" not in line
