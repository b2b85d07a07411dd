"""The terminal landscape: every width from 60 to 200 and piped, shades and numbered steps, a golden render."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console, Group

from backprop_cli.cli.main import main
from backprop_cli.landscape.build import Request, build
from backprop_cli.landscape.compare import variants
from backprop_cli.landscape.model import Landscape
from backprop_cli.loading.config import load_network as load
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.render.landscape_map import SHADES, landscape_text

GOLDEN = Path(__file__).parent.parent / "golden"


def view(example: str, request: Request, optimizers: tuple[str, ...] = (), steps: int | None = None) -> Landscape:
    spec, _ = load(example, None, steps)
    return build(spec, request, variants(spec, optimizers, (), ()))


def render(picture: Landscape, width: int) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, highlight=False, emoji=False)
    console.print(Group(*landscape_text(picture, NumberFormat(4), width)))
    return out.getvalue()


@pytest.fixture(scope="module")
def pictures() -> dict[str, Landscape]:
    return {
        "surface": view("narrow_valley", Request(points=41), ("sgd:0.1", "momentum:0.03", "adam:0.2"), steps=12),
        "curve": view("lr_too_large", Request("out.w1_1", points=41), steps=4),
        "pca": view("deep_relu_he", Request(direction="pca", points=21), steps=20),
    }


# every width for the map with three paths; the curve and a PCA map (the same layout) at the edges and between
WIDTHS = {"surface": range(60, 201), "curve": (60, 61, 79, 80, 101, 137, 199, 200), "pca": (60, 83, 120, 200)}


@pytest.mark.parametrize("kind", ["surface", "curve", "pca"])
def test_every_width_from_60_to_200_fits(pictures: dict[str, Landscape], kind: str) -> None:
    for width in WIDTHS[kind]:
        text = render(pictures[kind], width)
        too_wide = [line for line in text.splitlines() if len(line) > width]
        assert not too_wide, (width, too_wide[:2])
        assert "0" in text and "arrow" in text


def test_the_map_has_its_shades_axes_steps_and_legend(pictures: dict[str, Landscape]) -> None:
    text = render(pictures["surface"], 100)
    assert "out.w1_1" in text and "out.b1" in text  # the axes are the stable names
    assert "A0" in text and "B12" in text and "C12" in text  # each run's letter and its step numbers
    assert sum(text.count(shade) for shade in SHADES[1:]) > 1000
    assert 'shades (loss): " " below' in text and '"@" from' in text
    assert "A0…A12: sgd η = 0.1, 12 steps from the same start" in text
    # at w = −1, b = 3 the residuals w·x + b − y are 2 − 3x = −1, −4, −7, −10 for x = 1 … 4:
    # ∂L/∂w = 2·mean(r·x) = 2·(−70/4) = −35 and ∂L/∂b = 2·mean(r) = 2·(−22/4) = −11
    assert "arrow at the start: −∇L, downhill (∂L/∂out.w1_1 = -35, ∂L/∂out.b1 = -11)" in " ".join(text.split())


def test_the_pca_picture_says_which_directions_it_draws(pictures: dict[str, Landscape]) -> None:
    text = " ".join(render(pictures["pca"], 120).split())
    assert "PC1 (" in text and "of the path's variance" in text
    assert "PCA of the first run's path about its last point (Li et al. 2018)" in text


def test_piped_output_takes_the_consoles_width_and_colour_is_off() -> None:
    result = CliRunner().invoke(main, ["landscape", "--grid", "21"], env={"NO_COLOR": None, "COLUMNS": "73"})
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 73
    assert "\x1b[" not in result.stdout


def test_colour_adds_styles_but_not_characters() -> None:
    args = ["landscape", "--grid", "21", "--width", "90"]
    plain = CliRunner().invoke(main, [*args, "--no-color"]).stdout
    coloured = CliRunner().invoke(main, [*args, "--color"]).stdout
    assert "\x1b[" in coloured
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


@pytest.mark.parametrize(
    ("name", "args"),
    [
        (
            "landscape_narrow_valley",
            ["narrow_valley", "--steps", "12", "--optimizer", "sgd:0.1", "--optimizer", "adam:0.2"],
        ),
        (
            "landscape_lr_curve",
            ["lr_too_large", "--x", "out.w1_1", "--learning-rate", "0.3", "--learning-rate", "0.05", "--steps", "3"],
        ),
    ],
)
def test_golden_render(name: str, args: list[str]) -> None:
    result = CliRunner().invoke(
        main, ["landscape", *args, "--width", "100", "--no-color"], env={"NO_COLOR": None, "FORCE_COLOR": None}
    )
    assert result.exit_code == 0, result.stderr
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        path.write_text(result.stdout, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with BACKPROP_UPDATE_GOLDEN=1"
    assert result.stdout == path.read_text(encoding="utf-8")
