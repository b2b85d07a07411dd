"""The Markdown worked example: the terminal's rows and numbers, headings per step and phase, GitHub math."""

from __future__ import annotations

import pytest

from backprop_cli.render.markdown import code, text
from tests.render.formats_helpers import EXAMPLES, markdown_values, terminal_values, trace


@pytest.mark.parametrize("example", EXAMPLES)
def test_markdown_shows_the_terminal_rows_with_the_same_numbers(example: str) -> None:
    terminal = terminal_values(trace(example, "--width", "300", "--no-color"))
    assert len(terminal) > 5  # the parser found the tables
    assert markdown_values(trace(example, "--format", "markdown", "--no-compact")) == terminal
    assert sorted(markdown_values(trace(example, "--format", "markdown"))) == sorted(terminal)


def test_precision_reaches_markdown_as_it_reaches_the_terminal() -> None:
    terminal = dict(terminal_values(trace("classic_2_2_2", "--width", "300", "--no-color", "--precision", "10")))
    markdown = dict(markdown_values(trace("classic_2_2_2", "--format", "markdown", "--precision", "10")))
    assert markdown == terminal
    # the textbook value of the classic example (Mazur's worked backprop): E_total = 0.298371109
    assert markdown["loss"] == "0.2983711088"


def test_headings_per_step_and_phase() -> None:
    out = trace("softmax_classifier", "--format", "markdown", "--no-compact")
    lines = out.splitlines()
    assert lines[0] == "# backprop trace · softmax\\_classifier (built-in example)"
    assert "## Step 1 of 1 · batch: data rows 1, 2" in lines
    for phase in ("Parameters", "Forward pass", "Loss", "Backward pass", "Batch reduction", "Update", "Summary"):
        assert f"### {phase}" in lines
    assert "#### Backward · layer o (softmax) · sample 2" in lines


def test_backward_sections_carry_the_chain_rule_as_github_math() -> None:
    out = trace("two_layer_relu", "--format", "markdown", "--phase", "backward")
    assert "$$\n\\frac{\\partial L}{\\partial w_{ji}^{\\text{out}}} = " in out
    # the hidden layer receives Σ_k δ_k·w_kj from the layer above
    assert r"\frac{\partial L}{\partial a_{j}} = \sum_{k}\delta_{k}^{\text{out}} \cdot w_{kj}^{\text{out}}" in out
    # neuron 1 worked with the table's own numbers: out.dL_dw1_1 = δ1 × hidden.a1 = (-0.65) × 0.475
    worked = (
        r"\mathtt{out.dL\_dw1\_1} = \mathtt{out.delta1} \times \mathtt{hidden.a1} = (-0.65) \times 0.475 = -0.30875"
    )
    assert worked in out


def test_pipes_are_escaped_in_table_cells() -> None:
    out = trace("dog_not_dog", "--format", "markdown", "--phase", "loss")
    assert r"| `\|dog.a1 − y1\| / 1` |" in out  # mae's |a − y|, not a column break
    assert code("a|b") == r"`a\|b`" and code("a`b") == "`` a`b ``"
    assert text("h.w1_2 [bias] *x* |y|") == r"h.w1\_2 \[bias\] \*x\* \|y\|"


def test_filters_apply_to_markdown() -> None:
    for compact in ("--compact", "--no-compact"):
        out = trace("xor", "--format", "markdown", "--phase", "backward", "--layer", "h", "--sample", "3", compact)
        headings = [line for line in out.splitlines() if line.startswith("#### ")]
        assert headings == ["#### Backward · layer h (sigmoid)" + " · sample 3" * (compact == "--no-compact")]
        names = [name for name, _ in markdown_values(out)]
        assert names and all(name.startswith("sample3/h.") for name in names)


def test_same_config_same_bytes() -> None:
    assert trace("xor", "--format", "markdown") == trace("xor", "--format", "markdown")
