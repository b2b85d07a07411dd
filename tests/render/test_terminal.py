"""Golden plain-text renders of the terminal trace (width 100, no colour).

After an intended change of the layout, regenerate with ``BACKPROP_UPDATE_GOLDEN=1 pytest tests/render``
and read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main

GOLDEN = Path(__file__).parent.parent / "golden"
CASES = ["pytorch_snippet", "two_layer_relu", "classic_2_2_2", "softmax_classifier"]


def render(example: str) -> str:
    result = CliRunner().invoke(
        main, ["trace", example, "--width", "100", "--no-color"], env={"NO_COLOR": None, "FORCE_COLOR": None}
    )
    assert result.exit_code == 0, result.stderr
    return result.output


@pytest.mark.parametrize("example", CASES)
def test_golden_render(example: str) -> None:
    path = GOLDEN / f"{example}.txt"
    text = render(example)
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with BACKPROP_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_markup_like_text_is_printed_literally() -> None:
    from io import StringIO

    from rich.console import Console

    from backprop_cli.layout.rows import Row, Section
    from backprop_cli.render.terminal import section_table

    table = section_table(Section(1, "forward", "[bold]not markup[/bold]", None, None, (Row("[bias]", "", "", "1"),)))
    out = StringIO()
    Console(file=out, width=80, color_system=None).print(table)
    text = " ".join(out.getvalue().split())  # the title wraps to the narrow table's width
    assert "[bias] 1" in text and "[bold]not markup[/bold]" in text
