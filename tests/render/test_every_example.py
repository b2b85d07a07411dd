"""Every built-in example in every document format, networks, expressions and exact runs alike.

Each format is read back with a parser of that format (not by looking for the terminal's text), and its
names and numbers are the terminal's; the LaTeX of every example compiles with pdflatex where it is
installed.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from backprop_cli.loading.examples import example_names
from tests.render.formats_helpers import markdown_values, terminal_values, trace

EXAMPLES = example_names()
# the examples whose every op is rational, so that --exact traces them (a refusal elsewhere names the op)
EXACT = [
    "circuit_add_mul",
    "dog_not_dog",
    "dog_not_dog_squared",
    "lr_just_right",
    "lr_too_large",
    "micrograd_readme",
    "narrow_valley",
    "pytorch_snippet",
    "shared_variable",
    "single_neuron",
    "two_layer_relu",
]
CASES = [(name, ()) for name in EXAMPLES] + [(name, ("--exact",)) for name in EXACT]
IDS = [name + "".join(extra) for name, extra in CASES]
WIDE = ("--width", "400")  # no terminal cell wraps, so the terminal's rows read back whole


class _Cells(HTMLParser):
    """(name, value) of every row of the HTML section tables (the cells of class name and value)."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._css: str | None = None
        self._name = ""
        self._whole: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._css = dict(attrs).get("class") if tag == "td" else None
        self._whole = dict(attrs).get("data-name") if tag == "td" else None  # a compact table's value cell
        if tag == "tr":
            self._name = ""

    def handle_data(self, data: str) -> None:
        if self._css == "name":
            self._name += data
        elif self._css == "value":
            self.pairs.append((self._whole or self._name, data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._css = None


@functools.cache
def terminal(name: str, extra: tuple[str, ...], *more: str) -> list[tuple[str, str]]:
    return terminal_values(trace(name, *extra, *WIDE, *more))


def html_values(text: str) -> list[tuple[str, str]]:
    parser = _Cells()
    parser.feed(text)
    return parser.pairs


@pytest.mark.parametrize("name", [name for name in EXAMPLES if name not in EXACT])
def test_exact_refuses_every_other_example(name: str) -> None:
    """With the tests below that trace every EXACT example exactly, EXACT is what --exact accepts."""
    from click.testing import CliRunner

    from backprop_cli.cli.main import main

    result = CliRunner().invoke(main, ["trace", name, "--exact"])
    assert result.exit_code == 2, result.output
    assert re.search(r"not (a )?rational|to trace exactly \(--exact\)", result.stderr), result.stderr


@pytest.mark.parametrize(("name", "extra"), CASES, ids=IDS)
def test_markdown_and_html_hold_the_terminal_s_names_and_numbers(name: str, extra: tuple[str, ...]) -> None:
    shown = terminal(name, extra)
    markdown = trace(name, *extra, "--format", "markdown", "--no-compact")
    assert markdown.startswith("# backprop trace · ")
    assert markdown_values(markdown) == shown  # in the terminal's order
    assert sorted(markdown_values(trace(name, *extra, "--format", "markdown"))) == sorted(shown)  # compact
    page = trace(name, *extra, "--format", "html", "--no-compact")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert html_values(page) == shown
    assert sorted(html_values(trace(name, *extra, "--format", "html"))) == sorted(shown)


@pytest.mark.parametrize(("name", "extra"), CASES, ids=IDS)
def test_the_svg_is_an_image_of_the_terminal_trace(name: str, extra: tuple[str, ...]) -> None:
    # the first 300 rows: an image is drawn cell by cell, and the longest traces take seconds past that
    image = trace(name, *extra, "--format", "svg", "--max-rows", "300", *WIDE)
    root = ET.fromstring(image)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    drawn = "".join(root.itertext()).replace("\xa0", " ")
    for row_name, value in terminal(name, extra, "--max-rows", "300"):
        assert row_name in drawn and value in drawn


PDFLATEX = shutil.which("pdflatex")


@pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex is not installed (Debian/Ubuntu: apt-get install texlive-latex-recommended)"
)
@pytest.mark.parametrize(("name", "extra"), CASES, ids=IDS)
def test_the_latex_of_every_example_compiles(name: str, extra: tuple[str, ...], tmp_path: Path) -> None:
    source = trace(name, *extra, "--format", "latex")
    assert source.startswith("\\documentclass")
    (tmp_path / "trace.tex").write_text(source, encoding="utf-8")
    result = subprocess.run(
        [str(PDFLATEX), "-interaction=nonstopmode", "-halt-on-error", "trace.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    pages = re.search(r"Output written on trace\.pdf \((\d+) pages?", result.stdout)
    assert pages is not None and int(pages.group(1)) >= 1
