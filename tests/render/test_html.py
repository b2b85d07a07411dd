"""The HTML worked example: one self-contained, well-formed page with the terminal's numbers and MathML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from backprop_cli.layout.rows import Row, Section
from backprop_cli.render.html import section_table
from tests.render.formats_helpers import EXAMPLES, terminal_values, trace

VOID = {"meta", "br", "img", "link", "hr", "input"}


class _Page(HTMLParser):
    """Checks nesting and collects (name, value) of every section-table row."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.cells: list[tuple[str, str]] = []
        self.cell: str | None = None
        self.rows: list[tuple[str, str]] = []
        self.row: dict[str, str] = {}
        self.whole: str | None = None
        self.compact = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += attrs
        if tag not in VOID:
            self.open.append(tag)
        if tag == "td":
            self.cell = dict(attrs).get("class") or ""
            self.row.setdefault(self.cell, "")
            self.whole = dict(attrs).get("data-name")  # a compact table's value cell names its quantity
            if self.whole is not None:
                self.row["value"] = ""
        if tag == "tr":
            self.row, self.compact = {}, False

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()
        if tag == "td":
            self.cell = None
            if self.whole is not None:
                self.rows.append((self.whole, self.row["value"]))
                self.compact = True
        if tag == "tr" and "name" in self.row and not self.compact:
            self.rows.append((self.row["name"], self.row["value"]))

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.row[self.cell] += data


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.open == []
    return parser


@pytest.mark.parametrize("example", EXAMPLES)
def test_page_is_well_formed_and_shows_the_terminal_numbers(example: str) -> None:
    terminal = terminal_values(trace(example, "--width", "300", "--no-color"))
    assert parse(trace(example, "--format", "html", "--no-compact")).rows == terminal  # in the terminal's order
    assert sorted(parse(trace(example, "--format", "html")).rows) == sorted(terminal)  # a batch side by side


def test_page_is_self_contained() -> None:
    out = trace("softmax_classifier", "--format", "html")
    page = parse(out)
    assert out.startswith("<!DOCTYPE html>") and "<style>" in out
    assert not [a for a in page.attributes if a[0] in ("src", "href")]
    assert "http" not in out and "<script" not in out


def test_chain_rule_is_mathml() -> None:
    out = trace("two_layer_relu", "--format", "html", "--phase", "backward")
    assert '<math display="block">' in out
    # ∂L/∂w_ji = δ_j·a_i^in as a real fraction, not text
    assert "<mfrac><mrow><mi>∂</mi><mi>L</mi></mrow><mrow><mi>∂</mi><msubsup>" in out


def test_text_is_html_escaped() -> None:
    section = Section(1, "forward", "t", None, None, (Row("<script>", "a < b & c", "", "1"),))
    out = section_table(section)
    assert "&lt;script&gt;" in out and "a &lt; b &amp; c" in out and "<script>" not in out


def test_same_config_same_bytes() -> None:
    assert trace("xor", "--format", "html") == trace("xor", "--format", "html")
