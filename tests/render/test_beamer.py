"""The Beamer deck: frames revealed with overlays, the network in TikZ; it compiles with pdflatex where
Beamer and pgf are installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.render.formats_helpers import trace

PDFLATEX = shutil.which("pdflatex")


def _installed(*files: str) -> bool:
    """Whether TeX finds every file (kpsewhich; TEXINPUTS reaches it as it reaches pdflatex)."""
    kpsewhich = shutil.which("kpsewhich")
    if PDFLATEX is None or kpsewhich is None:
        return False
    found = subprocess.run([kpsewhich, *files], capture_output=True, text=True, timeout=30, check=False)
    return len(found.stdout.split()) == len(files)


BEAMER = _installed("beamer.cls", "pgfcore.sty", "tikz.sty")
NO_BEAMER = (
    "pdflatex with Beamer and pgf/TikZ is not installed (Debian/Ubuntu: texlive-latex-recommended texlive-pictures)"
)


def test_frames_reveal_a_row_s_formula_then_its_numbers() -> None:
    out = trace("two_layer_relu", "--format", "beamer")
    assert out.startswith("\\documentclass[aspectratio=169,10pt]{beamer}") and out.isascii()
    # out.delta1 = out.dL_da1 × out.da_dz1 = (−0.65) × 1
    row = next(
        line for line in out.splitlines() if line.startswith(r"\uncover<") and "{out.\\allowbreak{}delta1}" in line
    )
    overlays = [int(n) for n in re.findall(r"\\uncover<(\d+)->", row)]
    assert overlays[0] == overlays[1] and overlays[-1] == overlays[0] + 1  # name and formula, then the numbers
    assert row.rstrip(" \\").endswith(rf"\uncover<{overlays[-1]}->{{$-0.65$}}")
    assert "\\begin{tikzpicture}" in out and "draw=lit" in out  # the lit layer in the picture
    assert out == trace("two_layer_relu", "--format", "beamer")


@pytest.mark.skipif(not BEAMER, reason=NO_BEAMER)
@pytest.mark.parametrize("example", ["two_layer_relu", "xor", "circuit_add_mul"])
def test_the_deck_compiles(example: str, tmp_path: Path) -> None:
    source = trace(example, "--format", "beamer")
    (tmp_path / "deck.tex").write_text(source, encoding="utf-8")
    result = subprocess.run(
        [str(PDFLATEX), "-interaction=nonstopmode", "-halt-on-error", "deck.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    pages = re.search(r"Output written on deck\.pdf \((\d+) pages?", result.stdout)
    frames = source.count("\\begin{frame}")
    assert pages is not None and int(pages.group(1)) > frames  # overlays: a page per reveal
