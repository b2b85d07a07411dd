"""Handouts: the worksheet has a numbered blank for each asked name and gives none away; the solution
has the same numbers with the values. Through `backprop answers --format`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


ASK = ("classic_2_2_2", "--phase", "backward", "--layer", "o")


def asked() -> list[tuple[str, str]]:
    """(name, value as the trace shows it) of what the sheet asks, in its order (`backprop names`)."""
    sheet = invoke("answers", *ASK, "--blank").stdout
    names = re.findall(r"(?m)^  (\S+):$", sheet)
    shown = dict(line.split() for line in invoke("names", *ASK).stdout.splitlines())
    return [(name, shown[name]) for name in names]


def test_the_worksheet_numbers_a_blank_for_each_asked_name_and_shows_none_of_their_values() -> None:
    questions = asked()
    assert len(questions) == 10  # o's 2 da/dz, 2 δ, 4 weight and 2 bias gradients
    sheet = invoke("answers", *ASK, "--blank", "--format", "markdown")
    assert sheet.exit_code == 0, sheet.stderr
    text = sheet.stdout
    rows = re.findall(r"(?m)^\| `([^`]+)` \|.*\| \((\d+)\) (\S+) \|$", text)
    assert [(name, int(n)) for name, n, _ in rows] == [(name, i) for i, (name, _) in enumerate(questions, 1)]
    assert {blank for _, _, blank in rows} == {r"\_" * 8}
    for name, value in questions:
        assert value not in text, (name, value)  # o.delta1 = 0.138499 …: nowhere on the worksheet
    assert "| `h.delta1` | `h.dL_da1 × h.da_dz1` | · |" in text  # after the first blank: the formula only
    assert "| `h.z1` | `h.w1_1·i1 + h.w1_2·i2 + h.b1` | `0.15·0.05 + 0.2·0.1 + 0.35` | 0.3775 |" in text  # given


def test_the_solution_has_the_same_numbering_with_the_values() -> None:
    questions = asked()
    text = invoke("answers", *ASK, "--format", "markdown").stdout
    for i, (name, value) in enumerate(questions, 1):
        assert re.search(rf"(?m)^\| `{re.escape(name)}` \|.*\| \({i}\) {re.escape(value)} \|$", text), name
    assert text.startswith("# Solution: ")


@pytest.mark.parametrize(("fmt", "blank"), [("html", "(1) ________"), ("latex", "(1)")])
def test_html_and_latex_worksheets(fmt: str, blank: str) -> None:
    result = invoke("answers", *ASK, "--blank", "--format", fmt)
    assert result.exit_code == 0 and blank in result.stdout and "0.138499" not in result.stdout


def test_a_printable_pdf_through_pdflatex(tmp_path: Path) -> None:
    import shutil

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    out = tmp_path / "worksheet.pdf"
    result = invoke("answers", *ASK, "--blank", "--format", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF-")
