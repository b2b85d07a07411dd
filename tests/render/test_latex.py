"""The LaTeX worked example: a standalone document that pdflatex compiles, every special character escaped."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from backprop_cli.render.latex import inline, name, note, text
from tests.render.formats_helpers import EXAMPLES, trace


def test_text_escapes_tex_specials_and_spells_symbols_as_macros() -> None:
    assert text("a_b & 50% #1 $x$ {y} ~ ^ \\") == (
        r"a\_b \& 50\% \#1 \$x\$ \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    assert text("δ = ∂L/∂z · η × Σ − 1²") == (
        r"\ensuremath{\delta} = \ensuremath{\partial}L/\ensuremath{\partial}z \ensuremath{\cdot} "
        r"\ensuremath{\eta} \ensuremath{\times} \ensuremath{\Sigma} \ensuremath{-} 1\textsuperscript{2}"
    )
    assert text("1 < 2 > 0 |a|") == r"1 \textless{} 2 \textgreater{} 0 \textbar{}a\textbar{}"
    assert text("café Ж") == "café [U+0416]"  # Latin-1 letters pass, others are named, never a build error


def test_names_and_formulas() -> None:
    assert name("step2/h.dL_dw1_2") == r"\texttt{step2/\allowbreak{}h.\allowbreak{}dL\_dw1\_2}"
    assert inline("h.delta1 × x1") == r"$\mathtt{h.delta1} \times \mathtt{x1}$"
    assert inline("(0.675 − 1)²") == "$(0.675 - 1)^{2}$"
    assert inline("1 / (1 + e^(−h.z1))") == r"$1/(1 + e^{ - \mathtt{h.z1}})$"
    assert inline("") == ""


def test_notes_set_their_formulas_in_math_mode() -> None:
    assert note("z = W·a_prev + b; a = 1 / (1 + e^(−z))") == r"$z = W \cdot a_{prev} + b$; $a = 1/(1 + e^{ - z})$"
    assert note("L = (1/K) Σ_k (a_k − y_k)²") == r"$L = (1/K)\Sigma_{k}(a_{k} - y_{k})^{2}$"
    assert note("δ uses the stable combined form (a − y) / K, equal to the chain") == (
        r"$\delta$ uses the stable combined form $(a - y)/K$, equal to the chain"
    )
    assert note("m_hat: bias-corrected first moment m / (1 − β₁ᵗ)") == (
        r"$m_{hat}$: bias-corrected first moment $m/(1 - {\beta_{1}}^{t})$"
    )
    assert note("o.dL_da1 is written from z too") == r"\texttt{o.\allowbreak{}dL\_da1} is written from $z$ too"
    assert note("data: 150 rows (iris.csv); steps: 2") == (
        r"data: $150$ rows (\texttt{iris.\allowbreak{}csv}); steps: $2$"
    )


def test_the_article_a_is_a_word_and_the_variable_a_is_math() -> None:
    # the English article before a noun is prose (the worksheet's "marks a number", a compact document's fact)
    assert note("· marks a number that would give an answer away") == (
        r"$\cdot$ marks a number that would give an answer away"
    )
    assert note("samples side by side: a batch's samples") == "samples side by side: a batch's samples"
    assert note("at a tie, to the first maximum") == "at a tie, to the first maximum"
    # the variable before a verb, a condition or an operator stays math
    assert note("∂f/∂a = 1 if a is the maximum, else 0") == (
        r"$\partial f/\partial a = 1$ if $a$ is the maximum, else $0$"
    )
    assert note("f = a if a > 0 else s·a") == r"$f = a$ if $a > 0$ else $s \cdot a$"


@pytest.mark.parametrize("example", EXAMPLES)
def test_notes_and_facts_have_no_escaped_math(example: str) -> None:
    r"""``^`` and ``_`` of a formula are math, not the characters \textasciicircum{} and \_ in text."""
    out = trace(example, "--format", "latex")
    lines = [line for line in out.splitlines() if line.startswith((r"\emph{", r"\item "))] + [
        line for line in out.splitlines() if " & " in line and "$" in line and "texttt" not in line
    ]
    assert lines
    for line in lines:
        prose = re.sub(r"\$[^$]*\$|\\texttt\{(?:[^{}]|\{\})*\}", "", line)  # what is left in text mode
        assert r"\textasciicircum" not in prose and r"\_" not in prose, line


@pytest.mark.parametrize("example", EXAMPLES)
def test_document_is_ascii_and_standalone(example: str) -> None:
    out = trace(example, "--format", "latex")
    assert out.isascii(), sorted({c for c in out if not c.isascii()})
    assert out.startswith("\\documentclass")
    for package in ("amsmath", "booktabs"):
        assert f"\\usepackage{{{package}}}" in out
    assert out.rstrip().endswith("\\end{document}")


def test_same_config_same_bytes() -> None:
    assert trace("softmax_classifier", "--format", "latex") == trace("softmax_classifier", "--format", "latex")


PDFLATEX = shutil.which("pdflatex")


@pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex is not installed (Debian/Ubuntu: apt-get install texlive-latex-recommended)"
)
@pytest.mark.parametrize("example", ["two_layer_relu", "softmax_classifier", "xor", "dog_not_dog"])
def test_pdflatex_compiles_the_document(example: str, tmp_path: Path) -> None:
    (tmp_path / "trace.tex").write_text(trace(example, "--format", "latex"), encoding="utf-8")
    result = subprocess.run(
        [str(PDFLATEX), "-interaction=nonstopmode", "-halt-on-error", "trace.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "trace.pdf").stat().st_size > 1000
    log = (tmp_path / "trace.log").read_text(encoding="utf-8", errors="replace")
    assert "Rerun" not in log and "Column widths have changed" not in log  # one pass is the whole build


def _pdflatex(tmp_path: Path, name: str) -> int:
    """Compile ``name``.tex in ``tmp_path`` once; the PDF's page count."""
    result = subprocess.run(
        [str(PDFLATEX), "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    pages = re.search(rf"Output written on {name}\.pdf \((\d+) pages?", result.stdout)
    assert pages is not None
    return int(pages.group(1))


@pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex is not installed (Debian/Ubuntu: apt-get install texlive-latex-recommended)"
)
def test_compact_latex_of_a_batch_is_a_few_portrait_pages(tmp_path: Path) -> None:
    # lr_just_right: three samples a step, six steps; each sample's sections repeated its equations
    (tmp_path / "compact.tex").write_text(trace("lr_just_right", "--format", "latex"), encoding="utf-8")
    (tmp_path / "full.tex").write_text(trace("lr_just_right", "--format", "latex", "--no-compact"), encoding="utf-8")
    compact, full = _pdflatex(tmp_path, "compact"), _pdflatex(tmp_path, "full")
    assert compact <= 12 and full >= 2 * compact, (compact, full)  # measured: 10 and 31 pages


@pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex is not installed (Debian/Ubuntu: apt-get install texlive-latex-recommended)"
)
def test_a_fragment_has_no_preamble_and_compiles_inside_a_course_document(tmp_path: Path) -> None:
    fragment = trace("xor", "--format", "latex", "--fragment")
    assert "\\documentclass" not in fragment and "\\begin{document}" not in fragment
    assert "\\newcolumntype" not in fragment and "\\usepackage" not in fragment
    assert (
        fragment.startswith("% backprop trace, a LaTeX fragment") and "amsmath, booktabs, longtable, array" in fragment
    )
    (tmp_path / "xor-trace.tex").write_text(fragment, encoding="utf-8")
    course = (
        "\\documentclass{article}\n\\usepackage{amsmath,booktabs,longtable,array}\n\\begin{document}\n"
        "\\section{Backpropagation on XOR}\n\\input{xor-trace}\n\\end{document}\n"
    )
    (tmp_path / "notes.tex").write_text(course, encoding="utf-8")
    assert _pdflatex(tmp_path, "notes") >= 1


def test_a_fragment_of_an_expression_has_no_preamble_either() -> None:
    fragment = trace("circuit_add_mul", "--format", "latex", "--fragment")
    assert "\\documentclass" not in fragment and "\\end{document}" not in fragment
