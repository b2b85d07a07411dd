"""Pictures in documents: an expression's computation graph (inline SVG in HTML, TikZ in LaTeX, Mermaid in
Markdown) and a network's picture near the top of its HTML and LaTeX documents.

Golden files of ``circuit_add_mul`` in the three formats: after an intended change regenerate them with
``BACKPROP_UPDATE_GOLDEN=1 pytest tests/render/test_pictures.py`` and read the diff before committing it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.render.formats_helpers import trace
from tests.render.test_beamer import _installed
from tests.render.test_diagram import check_mermaid
from tests.render.test_html import parse
from tests.render.test_slides import CHROMIUM, NO_CHROMIUM, _chromium

GOLDEN = Path(__file__).parent.parent / "golden"
SUFFIX = {"html": "html", "latex": "tex", "markdown": "md"}
TIKZ = _installed("tikz.sty")
NO_TIKZ = "pdflatex with pgf/TikZ is not installed (Debian/Ubuntu: texlive-latex-recommended texlive-pictures)"
# the circuit's nodes as its config's comment works them out: q = x + y = 3, f = q·z = −12,
# ∂f/∂x = ∂f/∂y = z = −4, ∂f/∂z = q = 3, ∂f/∂q = z = −4
CIRCUIT_LINES = [
    "x",
    "value -2",
    "grad.x -4",
    "y",
    "value 5",
    "grad.y -4",
    "z",
    "value -4",
    "grad.z 3",
    "q = x + y",
    "value 3",
    "grad.q -4",
    "f = q × z",
    "value -12",
    "grad.f 1",
]
CIRCUIT_LABELS = ["df_dq = -4", "df_dz = 3", "dq_dx = 1", "dq_dy = 1"]


@pytest.mark.parametrize("output_format", sorted(SUFFIX))
def test_golden_circuit(output_format: str) -> None:
    path = GOLDEN / f"circuit_add_mul.{SUFFIX[output_format]}"
    text = trace("circuit_add_mul", "--format", output_format)
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with BACKPROP_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")
    assert text == trace("circuit_add_mul", "--format", output_format)  # the same bytes each time


def _svg(page: str, css: str) -> str:
    found = re.findall(rf'<svg class="{css}".*?</svg>', page, re.S)
    assert len(found) == 1, found
    return str(found[0])


def test_html_draws_the_graph_inline_with_every_name_value_and_gradient() -> None:
    page = trace("circuit_add_mul", "--format", "html")
    parse(page)  # well-formed, the SVG's elements closed too
    assert "http" not in page and "<script" not in page and " href=" not in page
    svg = _svg(page, "graph")
    assert page.index(svg) < page.index("<h2>")  # above the trace
    assert re.findall(r'<text x="[\d.]+" y="[\d.]+">([^<]*)</text>', svg) == CIRCUIT_LINES
    assert re.findall(r'<text class="label"[^>]*>([^<]*)</text>', svg) == CIRCUIT_LABELS
    assert [m for m in re.findall(r'<rect class="(\w+)"', svg) if m != "label"] == ["input"] * 3 + ["op", "output"]
    assert svg.count('<path class="edge"') == 4 and 'class="network"' not in page


def test_html_escapes_what_a_name_or_description_holds() -> None:
    page = trace("--expr", "f = a * b", "--set", "a=1", "--set", "b=2", "--format", "html")
    svg = _svg(page, "graph")
    assert "f = a × b" in svg and 'aria-label="The computation graph of f:' in svg
    parse(page)


def test_latex_draws_the_graph_in_tikz_and_markdown_in_mermaid() -> None:
    tex = trace("circuit_add_mul", "--format", "latex")
    assert tex.isascii() and "\\IfFileExists{tikz.sty}{\\usepackage{tikz}}{}" in tex
    picture = tex[tex.index("\\begin{tikzpicture}") : tex.index("\\end{tikzpicture}")]
    body = re.findall(r"\\node\[anchor=base west[^\]]*\] at \([\d.,]+\) \{(.*)\};", picture)
    spelled = [line.replace("×", "\\ensuremath{\\times}") for line in CIRCUIT_LINES]
    assert body == spelled
    labels = re.findall(r"\\node\[fill=white[^\]]*\] at \([\d.,]+\) \{(.*)\};", picture)
    assert labels == [label.replace("_", "\\_") for label in CIRCUIT_LABELS]
    assert tex.index("\\begin{tikzpicture}") < tex.index("\\subsection*")
    md = trace("circuit_add_mul", "--format", "markdown")
    block = re.search(r"```mermaid\n(.*?)```\n", md, re.S)
    assert block is not None and check_mermaid(block.group(1)) == (5, 4)
    assert '    n5[["f = q × z<br/>value -12<br/>grad.f 1"]]' in block.group(1)


def test_network_documents_draw_the_network_once_near_the_top() -> None:
    page = trace("two_layer_relu", "--format", "html")
    svg = _svg(page, "network")
    assert page.index("<table>") < page.index(svg) < page.index("<h2>")
    assert svg.count("<circle") == 2 + 2 + 1 and svg.count("<line") == 2 * 2 + 2 * 1  # inputs, hidden, out
    assert 'class="lit"' not in svg and 'class="graph"' not in page
    tex = trace("two_layer_relu", "--format", "latex")
    assert tex.count("\\begin{tikzpicture}") == 1 and tex.count("circle[radius=") == 5
    assert tex.index("\\begin{tikzpicture}") < tex.index("\\subsection*")
    matrix = trace("two_layer_relu", "--format", "html", "--view", "matrix")
    assert matrix.count('<svg class="network"') == 1
    md = trace("two_layer_relu", "--format", "markdown")
    assert "```mermaid" not in md and "<svg" not in md  # Markdown has the network table only


def _compile(tmp_path: Path, name: str, source: str) -> str:
    (tmp_path / f"{name}.tex").write_text(source, encoding="utf-8")
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return (tmp_path / f"{name}.log").read_text(encoding="utf-8", errors="replace")


@pytest.mark.skipif(not TIKZ, reason=NO_TIKZ)
@pytest.mark.parametrize("example", ["circuit_add_mul", "two_layer_relu"])
def test_pdflatex_compiles_the_pictures(example: str, tmp_path: Path) -> None:
    log = _compile(tmp_path, "trace", trace(example, "--format", "latex"))
    assert "tikz.sty" in log and "Overfull \\hbox" not in log
    assert (tmp_path / "trace.pdf").stat().st_size > 1000


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_a_fragment_draws_its_graph_where_tikz_is_loaded_and_says_so_where_not(tmp_path: Path) -> None:
    fragment = trace("circuit_add_mul", "--format", "latex", "--fragment")
    assert "\\usepackage" not in fragment and "% and tikz for the pictures" in fragment
    (tmp_path / "circuit.tex").write_text(fragment, encoding="utf-8")
    body = "\\begin{document}\n\\input{circuit}\n\\end{document}\n"
    packages = "\\usepackage{amsmath,booktabs,longtable,array}\n"
    log = _compile(tmp_path, "bare", "\\documentclass{article}\n" + packages + body)
    assert "tikz.sty" not in log
    if TIKZ:
        log = _compile(tmp_path, "drawn", "\\documentclass{article}\n" + packages + "\\usepackage{tikz}\n" + body)
        assert "tikz.sty" in log


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_chromium_draws_the_graph(tmp_path: Path) -> None:
    from PIL import Image  # matplotlib's dependency, there wherever the tests run

    page = tmp_path / "circuit.html"
    page.write_text(trace("circuit_add_mul", "--format", "html"), encoding="utf-8")
    shot = tmp_path / "circuit.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    with Image.open(shot) as image:
        colours = {colour for _, colour in image.convert("RGB").getcolors(1 << 20) or []}
    assert (0xE8, 0xF1, 0xFB) in colours and (0xFD, 0xF0, 0xD5) in colours  # an input's fill, the output's


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_pictures_are_coloured_without_the_page_s_stylesheet(tmp_path: Path) -> None:
    """A notebook shows a trace's page body alone (``Trace._repr_html_``): the pictures colour themselves."""
    from PIL import Image

    import backprop_cli as bp

    for name, fill in (("circuit_add_mul", (0xE8, 0xF1, 0xFB)), ("two_layer_relu", (0xF3, 0xF5, 0xF7))):
        body = bp.trace(name)._repr_html_()
        assert "<style" not in body
        page = tmp_path / f"{name}.html"
        page.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
        shot = tmp_path / f"{name}.png"
        result = _chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
        assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
        with Image.open(shot) as image:
            colours = {colour for _, colour in image.convert("RGB").getcolors(1 << 20) or []}
        assert fill in colours, name  # an input's box, a neuron's circle: not SVG's default black


@pytest.mark.skipif(not TIKZ, reason=NO_TIKZ)
def test_a_graph_wider_than_tex_lengths_still_compiles(tmp_path: Path) -> None:
    # 70 nodes of 62-character names: about 136,000 units wide, 81,500 pt at 0.6 pt a unit (TeX stops at 16,383)
    name = "v" + "x" * 60
    program = "\n".join([f"{name}0 = x + 1", *(f"{name}{i} = {name}{i - 1} * 2" for i in range(1, 70))])
    tex = trace("--expr", program, "--set", "x=1", "--format", "latex")
    unit = re.search(r"\\begin\{tikzpicture\}\[x=([\d.]+)pt", tex)
    assert unit is not None and float(unit.group(1)) < 0.6
    _compile(tmp_path, "wide", tex)
