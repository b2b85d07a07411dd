"""The safe console: user text cannot drive the terminal, and lines end without invisible padding."""

from __future__ import annotations

import io

from rich.table import Table
from rich.text import Text

from backprop_cli.render.console import SafeConsole


def render(*objects: object, end: str = "\n", color: bool = False) -> str:
    out = io.StringIO()
    console = SafeConsole(
        file=out, width=40, force_terminal=color, color_system="truecolor" if color else None, _environ={}
    )
    console.print(*objects, end=end)
    return out.getvalue()


def test_control_characters_of_user_text_are_dropped_and_styles_kept() -> None:
    assert render(Text("a\x1b[2Jb\x07c\x9b", style="bold")) == "a[2Jbc\n"
    coloured = render(Text("a\x1b]0;t\x07b", style="bold"), color=True)
    assert coloured == "\x1b[1ma]0;tb\x1b[0m\n"  # rich's own codes, not the text's


def test_lines_lose_invisible_padding_but_not_coloured_cells_or_a_prompt() -> None:
    table = Table("name", "value", box=None)
    table.add_row("h.z1", "0.5")
    table.add_row("h.a1_long_name", "1")
    assert all(line == line.rstrip() for line in render(table).splitlines())
    cell = render(Text("x") + Text("   ", style="on red"), color=True)
    assert "   " in cell  # a background colour shows: kept
    assert render("Enter: next phase ", end="") == "Enter: next phase "  # the cursor waits after it
