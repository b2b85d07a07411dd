"""Fitting tables: whole on one line when they fit, folded (never cut with "…") when they do not."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from backprop_cli.render.fit import Fitting, column_style


def render(width: int) -> str:
    def build(whole: bool) -> Table:
        table = Table()
        for name in ("name", "value"):
            table.add_column(name, **column_style(whole))  # type: ignore[arg-type]
        table.add_row("out.dL_dw1_2", "-0.000123456789")
        return table

    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(Fitting(build))
    return out.getvalue()


def test_a_table_that_fits_keeps_each_name_and_number_on_one_line() -> None:
    text = render(60)
    assert "out.dL_dw1_2" in text and "-0.000123456789" in text


def test_a_table_too_wide_folds_and_loses_no_character() -> None:
    text = render(24)
    assert "…" not in text and "-0.000123456789" not in text  # folded onto further lines
    body = [line.strip("│").split("│") for line in text.splitlines() if line.startswith("│")]
    assert len(body) > 1
    assert ["".join(cell.strip() for cell in column) for column in zip(*body, strict=True)] == [
        "out.dL_dw1_2",
        "-0.000123456789",
    ]
