"""``backprop verify``: a planted stale number is caught in Markdown and LaTeX, and --fix mends it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode

# classic_2_2_2 (Mazur): o.dL_dw1_1 = 0.0821670406, loss 0.298371109; pytorch_snippet: dL/dw = −24
MARKDOWN = (
    "# Lecture 3\n\nThe gradient is <!-- bp:classic_2_2_2 o.dL_dw1_1 -->0.0822 and the loss\n"
    "<!-- bp:classic_2_2_2 loss -->0.2984.\nThe snippet's gradient: <!-- bp:pytorch_snippet out.dL_dw1_1 -->-24\n"
)
LATEX = (
    "\\documentclass{article}\n\\usepackage{backprop}\n\\begin{document}\n"
    "$\\partial L/\\partial w_5 = \\bp{classic_2_2_2}{o.dL_dw1_1}{0.0822}$, "
    "$L = \\bp{classic_2_2_2}{loss}{0.298}$\n\\end{document}\n"
)


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["verify", *args])


def test_notes_that_match_pass(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text(MARKDOWN, encoding="utf-8")
    (tmp_path / "notes.tex").write_text(LATEX, encoding="utf-8")
    result = run(str(tmp_path / "notes.md"), str(tmp_path / "notes.tex"))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert result.stdout == "ok: 5 tagged numbers in 2 files match the trace\n"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "text", "planted", "place"),
    [
        ("notes.md", MARKDOWN, "-->0.0822", "notes.md:3:53"),
        ("notes.tex", LATEX, "{0.0822}", "notes.tex:4:59"),
    ],
)
def test_a_planted_stale_number_is_caught_and_fixed(
    tmp_path: Path, name: str, text: str, planted: str, place: str
) -> None:
    note = tmp_path / name
    note.write_text(text.replace(planted, planted.replace("0.0822", "0.0900")), encoding="utf-8")
    result = run(str(note))
    assert result.exit_code == ExitCode.CHECK_FAILED  # type: ignore[attr-defined]
    assert f"{tmp_path}/{place}: classic_2_2_2 o.dL_dw1_1: written 0.0900, the trace has 0.0821670" in result.stdout  # type: ignore[attr-defined]
    assert "1 of " in result.stderr  # type: ignore[attr-defined]
    fixed = run("--fix", str(note))
    assert fixed.exit_code == 0 and "fixed 0.0900 -> 0.0822" in fixed.stdout  # type: ignore[attr-defined]
    assert note.read_text(encoding="utf-8") == text  # mended to exactly what was right
    assert run(str(note)).exit_code == 0  # type: ignore[attr-defined]


def test_a_config_beside_the_note_and_bad_tags_are_located(tmp_path: Path) -> None:
    (tmp_path / "net.yaml").write_text(
        "network: {inputs: 1, layers: [{units: 1, activation: identity, weights: [[2.0]], biases: [0.0]}]}\n"
        "loss: sse\noptimizer: {name: sgd, learning_rate: 0.1}\ndata: [{x: 3, y: 10}]\n",
        encoding="utf-8",
    )
    note = tmp_path / "n.md"
    note.write_text("(w·x − 10)² with w = 2: <!-- bp:net.yaml layer1.dL_dw1_1 -->−24\n", encoding="utf-8")
    assert run(str(note)).exit_code == 0  # type: ignore[attr-defined]
    note.write_text("x\n<!-- bp:net.yaml layer1.dL_dw9 -->1\n", encoding="utf-8")
    result = run(str(note))
    assert result.exit_code == ExitCode.BAD_INPUT and f"{note}:2:35: no quantity 'layer1.dL_dw9'" in result.stderr  # type: ignore[attr-defined]
    note.write_text("<!-- bp:nope loss -->1\n", encoding="utf-8")
    assert "no config 'nope'" in run(str(note)).stderr  # type: ignore[attr-defined]
    note.write_text("<!-- bp:xor loss --> about 1\n", encoding="utf-8")
    assert f"{note}:1:1: a tag without its number" in run(str(note)).stderr  # type: ignore[attr-defined]


PDFLATEX = shutil.which("pdflatex")


@pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex is not installed (Debian/Ubuntu: apt-get install texlive-latex-recommended)"
)
def test_the_shipped_package_typesets_the_numbers(tmp_path: Path) -> None:
    sty = run("--sty", "-o", str(tmp_path / "backprop.sty"))
    assert sty.exit_code == 0  # type: ignore[attr-defined]
    (tmp_path / "notes.tex").write_text(LATEX, encoding="utf-8")
    result = subprocess.run(
        [str(PDFLATEX), "-interaction=nonstopmode", "-halt-on-error", "notes.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
