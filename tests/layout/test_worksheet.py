"""Handouts: the worksheet has a numbered blank for each asked name and gives none away; the solution
has the same numbers with the values. Through `backprop answers --format`."""

from __future__ import annotations

import re
import shutil
import subprocess
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
    rows = re.findall(r"(?m)^\| `([^`]+)` \|.*\| \((\d+)\)\u00a0(\S+) \|$", text)
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
        assert re.search(rf"(?m)^\| `{re.escape(name)}` \|.*\| \({i}\)\u00a0{re.escape(value)} \|$", text), name
    assert text.startswith("# Solution: ")


@pytest.mark.parametrize(("fmt", "blank"), [("html", "(1)&nbsp;________"), ("latex", "(1)")])
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


PDFLATEX = shutil.which("pdflatex")
NO_PDFLATEX = "pdflatex is not installed (Debian/Ubuntu: apt-get install texlive-latex-recommended)"
# xor: one batch of four samples, so its handout's answers sit in the side-by-side tables too
HANDOUTS = [ASK, ("xor", "--phase", "backward", "--layer", "o")]


def handout_text(ask: tuple[str, ...], fmt: str, *, blank: bool) -> str:
    result = invoke("answers", *ask, *(["--blank"] if blank else []), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("ask", HANDOUTS)
def test_the_latex_worksheet_sets_its_words_as_text_and_its_blanks_as_rules(ask: tuple[str, ...]) -> None:
    tex = handout_text(ask, "latex", blank=True)
    # each blank: its number in bold, a tie, then a rule in text mode; never underscores as a math subscript
    assert tex.count(r"\textbf{(1)}~\underline{\hspace{5em}}") == 1
    assert r"\_\_" not in tex and r"_{\mathtt{" not in tex
    assert not re.search(r"\$\(\d+\)", tex)  # no number label set as mathematics
    # the instructions are prose: "a" is an English word, not the variable a
    assert "$a$" not in tex and "marks a number that would give an answer away" in tex


@pytest.mark.parametrize("ask", HANDOUTS)
def test_the_latex_solution_puts_each_label_before_its_value_with_a_space(ask: tuple[str, ...]) -> None:
    tex = handout_text(ask, "latex", blank=False)
    labelled = [int(n) for n in re.findall(r"\\textbf\{\((\d+)\)\}~\$-?[0-9.e+-]+\$", tex)]
    assert sorted(labelled) == list(range(1, len(labelled) + 1)) and len(labelled) >= 10
    assert not re.search(r"\(\d+\)\$?-?\d", tex)  # (1)0.204273: a label glued to its value


@pytest.mark.parametrize(("fmt", "space"), [("markdown", "\u00a0"), ("html", "&nbsp;")])
def test_markdown_and_html_keep_each_label_with_its_value(fmt: str, space: str) -> None:
    # a no-break space: a narrow cell (four samples side by side) may wrap, but never between (n) and its value
    blank = handout_text(HANDOUTS[1], fmt, blank=True)
    solution = handout_text(HANDOUTS[1], fmt, blank=False)
    underscores = r"\_" * 8 if fmt == "markdown" else "_" * 8
    assert f"(1){space}{underscores}" in blank and f"(19){space}{underscores}" in blank
    assert re.search(rf"\(1\){space}0\.\d+", solution) and re.search(rf"\(8\){space}-0\.\d+", solution)
    assert not re.search(r"\(\d+\) (?:-?\d|\\?_)", blank + solution)  # (1) 0.247701 with a breaking space


@pytest.mark.skipif(PDFLATEX is None, reason=NO_PDFLATEX)
@pytest.mark.parametrize("ask", HANDOUTS)
@pytest.mark.parametrize("blank", [True, False], ids=["worksheet", "solution"])
def test_pdflatex_compiles_the_handouts(ask: tuple[str, ...], blank: bool, tmp_path: Path) -> None:
    (tmp_path / "handout.tex").write_text(handout_text(ask, "latex", blank=blank), encoding="utf-8")
    result = subprocess.run(
        [str(PDFLATEX), "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "handout.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "handout.pdf").read_bytes().startswith(b"%PDF-")
