"""Landscape and compare images: SVG bytes repeat exactly, the PNG opens, labels are the stable names."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main

pytest.importorskip("matplotlib", reason="matplotlib draws the images: pip install '.[test]' installs it")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None})


LANDSCAPE = [
    "landscape",
    "narrow_valley",
    "--steps",
    "8",
    "--grid",
    "31",
    "--optimizer",
    "sgd",
    "--optimizer",
    "adam:0.2",
]
COMPARE = ["compare", "lr_too_large", "--learning-rate", "0.3", "--learning-rate", "0.05"]


@pytest.mark.parametrize("args", [LANDSCAPE, COMPARE, ["landscape", "lr_too_large", "--x", "out.w1_1", "--steps", "3"]])
def test_svg_is_byte_identical_across_runs(args: list[str]) -> None:
    first, second = invoke(*args, "--format", "svg"), invoke(*args, "--format", "svg")
    assert first.exit_code == 0, first.stderr
    assert first.stdout_bytes == second.stdout_bytes
    svg = first.stdout
    assert svg.startswith("<?xml") and "<svg" in svg
    assert "<dc:date>" not in svg  # no date in the metadata
    assert re.search(r"matplotlib v?\d", svg)  # the version that drew it, for the README images' check


def test_text_is_drawn_as_paths_so_no_viewer_font_matters() -> None:
    svg = invoke(*LANDSCAPE, "--format", "svg").stdout
    assert "<text" not in svg and 'id="DejaVuSans-' in svg


def test_png_opens_and_is_the_same_picture_each_time(tmp_path: Path) -> None:
    from matplotlib.image import imread

    target = tmp_path / "landscape.png"
    result = invoke(*LANDSCAPE, "--format", "png", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    pixels = imread(target)
    assert pixels.shape[0] > 400 and pixels.shape[1] > 600
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    piped = invoke(*LANDSCAPE, "--format", "png")  # to a pipe: the same bytes
    assert piped.stdout_bytes == target.read_bytes()
    compare_png = invoke(*COMPARE, "--format", "png")
    assert imread(io.BytesIO(compare_png.stdout_bytes)).ndim == 3


def test_png_is_never_written_to_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from backprop_cli.cli.landscape import write_bytes
    from backprop_cli.errors import ConfigError

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with pytest.raises(ConfigError, match=r"--format png writes binary data; expected -o FILE\.png"):
        write_bytes(None, lambda: b"", [])


def test_an_error_while_drawing_leaves_no_file(tmp_path: Path) -> None:
    from backprop_cli.cli.landscape import write_bytes

    target = tmp_path / "picture.png"
    target.write_bytes(b"old")

    def broken() -> bytes:
        raise RuntimeError("drawing failed")

    with pytest.raises(RuntimeError):
        write_bytes(str(target), broken, [])
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["picture.png"]
