"""The SVG image: the terminal rendering exported by rich, the same bytes for the same config."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from click.testing import CliRunner

from backprop_cli.cli.main import main
from tests.render.formats_helpers import trace


def test_svg_is_xml_with_the_trace_text() -> None:
    out = trace("pytorch_snippet", "--format", "svg")
    root = ElementTree.fromstring(out)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = "".join(root.itertext()).replace("\xa0", " ")
    assert "out.dL_dw1_1" in text and "-24" in text  # the one-weight snippet: dL/dw = 2·(w·x − 10)·x = −24


def test_same_config_same_bytes_and_nothing_fetched() -> None:
    first = trace("two_layer_relu", "--format", "svg")
    assert first == trace("two_layer_relu", "--format", "svg")
    # the terminal's environment does not reach the image
    env = {"COLUMNS": "50", "FORCE_COLOR": "1", "NO_COLOR": "1"}
    result = CliRunner().invoke(main, ["trace", "two_layer_relu", "--format", "svg"], env=env)
    assert result.exit_code == 0 and result.stdout == first
    assert "@font-face" not in first and "url(" not in first.replace("url(#", "")


def test_width_and_filters_apply() -> None:
    narrow = trace("two_layer_relu", "--format", "svg", "--width", "60", "--phase", "loss")
    root = ElementTree.fromstring(narrow)
    text = "".join(root.itertext()).replace("\xa0", " ")
    assert "loss.term1" in text and "hidden.z1" not in text
    assert len(narrow) < len(trace("two_layer_relu", "--format", "svg"))


def test_light_theme_by_default_dark_on_request() -> None:
    from backprop_cli.render.svg import LIGHT

    light = trace("pytorch_snippet", "--format", "svg")
    dark = trace("pytorch_snippet", "--format", "svg", "--theme", "dark")
    assert light != dark
    assert f'fill="{LIGHT.background_color.hex}"' in light and 'fill="#ffffff"' in light.lower()
    assert 'fill="#ffffff"' not in dark.lower()
    for theme in ("light", "dark"):  # an expression's image too
        assert ElementTree.fromstring(trace("circuit_add_mul", "--format", "svg", "--theme", theme)) is not None
