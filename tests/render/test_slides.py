"""The HTML slide deck: self-contained, revealed a key at a time, and (in headless Chromium) every slide of
the default example fits 1280×720."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.render.formats_helpers import trace
from tests.render.test_html import parse

CHROMIUM = next(
    (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None
)
NO_CHROMIUM = "Chromium is not installed (Debian/Ubuntu: apt-get install chromium)"


def test_the_deck_is_one_self_contained_page() -> None:
    out = trace("two_layer_relu", "--format", "slides")
    page = parse(out)  # well-formed: every element closed where it opened
    assert out.startswith("<!DOCTYPE html>") and out.count("<script>") == 1
    assert not [a for a in page.attributes if a[0] in ("src", "href")]
    assert "http" not in out.replace("http://www.w3.org/", "")  # no fetch; the SVG namespace is a name
    assert out == trace("two_layer_relu", "--format", "slides")  # the same bytes each time


def test_each_row_shows_its_formula_before_its_numbers() -> None:
    out = trace("two_layer_relu", "--format", "slides")
    # out.delta1 = out.dL_da1 × out.da_dz1 = (−0.65) × 1: the second row of the output layer's backward slide
    row = re.search(r"<tr><td class=\"name hidden\" data-f=\"(\d+)\">out\.delta1</td>(.*?)</tr>", out)
    assert row is not None
    formula = re.search(r'class="formula hidden" data-f="(\d+)"', row.group(2))
    value = re.search(r'class="value hidden" data-f="(\d+)">-0\.65<', row.group(2))
    assert formula and value and int(row.group(1)) == int(formula.group(1)) == int(value.group(1)) - 1


def test_keyboard_navigation_is_in_the_page() -> None:
    out = trace("two_layer_relu", "--format", "slides")
    for key in ("ArrowRight", "ArrowLeft", "PageDown", "PageUp", "Home", "End"):
        assert f'"{key}"' in out


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--hide-scrollbars",
        "--window-size=1280,720",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_every_slide_of_the_default_example_fits_1280_by_720(tmp_path: Path) -> None:
    deck = tmp_path / "deck.html"
    deck.write_text(trace("--format", "slides"), encoding="utf-8")
    result = _chromium(tmp_path, "--dump-dom", deck.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert 'data-ready="true"' in dom  # the script ran to its end
    slides = re.findall(
        r'<section class="slide[^"]*" id="slide-(\d+)"[^>]*data-scale="([\d.]+)" data-overflow="(\w+)"', dom
    )
    assert len(slides) == dom.count('<section class="slide') > 10
    assert [s for s in slides if s[2] != "false" or s[1] != "1"] == []  # whole, at full size


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_a_screenshot_of_a_step_slide_shows_its_table_and_lit_layer(tmp_path: Path) -> None:
    from PIL import Image  # matplotlib's dependency, there wherever the tests run

    deck = tmp_path / "deck.html"
    text = trace("--format", "slides")
    deck.write_text(text, encoding="utf-8")
    number = re.search(
        r'id="slide-(\d+)" data-steps="\d+">\n<div class="heading">[^<]*Backward pass</div>\n<h2>Backward · layer out',
        text,
    )
    assert number is not None
    shot = tmp_path / "slide.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", f"{deck.as_uri()}#{number.group(1)}.all")
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1280, 720)
        colours = {colour for _, colour in image.convert("RGB").getcolors(1 << 20) or []}
    assert (188, 76, 0) in colours  # the lit layer's outline (the output layer)
    assert (243, 245, 247) in colours  # the table's striped rows
