"""docs/images/ holds the README's seed-lesson pictures as their commands draw them; ``--check`` notices drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="matplotlib draws the images: pip install '.[test]' installs it")

from backprop_cli.docs import gallery

REPO = Path(__file__).parent.parent


def test_the_readme_pictures_are_up_to_date() -> None:
    found = [
        p
        for name in gallery.PICTURES
        for p in gallery.problems(REPO / gallery.IMAGES_DIR, name, gallery.expected(name))
    ]
    assert not found, f"{'; '.join(found)}; regenerate with: python -m backprop_cli.docs.gallery"


def test_the_readme_shows_each_picture_with_its_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in ("lr_overshoot", "optimizers", "optimizers_compare"):
        assert f"(docs/images/{name}.svg)" in readme
    for name in gallery.PICTURES:
        shown = gallery.command(name, "svg").replace(" --grid 121", "").replace(" --grid 81", "")
        assert shown in readme, shown


def test_check_fails_on_changed_numbers_an_image_not_drawn_from_its_data_and_a_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(gallery, "PICTURES", {"small": ["landscape", "--grid", "5"]})
    assert gallery.main(["--check", str(tmp_path)]) == 1  # nothing there yet
    assert gallery.main([str(tmp_path)]) == 0
    fresh = gallery.expected("small")
    assert gallery.problems(tmp_path, "small", fresh) == []
    data = tmp_path / "small.json"
    original = data.read_text(encoding="utf-8")
    document = json.loads(original)
    document["loss"][0][0] *= 1 + 1e-12  # an ulp-sized difference is not staleness, but the SVG's digest changes
    data.write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
    assert gallery.problems(tmp_path, "small", fresh) == ["small.svg: not drawn from small.json"]
    document["loss"][0][0] *= 1.001
    data.write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
    assert gallery.main(["--check", str(tmp_path)]) == 1
    assert (
        "small.json: its numbers are not what `backprop landscape --grid 5 --format json` computes"
        in capsys.readouterr().err
    )
    data.write_text(original, encoding="utf-8")
    svg = tmp_path / "small.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace("#d62728", "#000000"), encoding="utf-8")
    assert gallery.problems(tmp_path, "small", fresh) == [
        "small.svg: not what `backprop landscape --grid 5 --format svg` draws"
    ]
    svg.unlink()
    assert gallery.problems(tmp_path, "small", fresh) == ["small: missing"]
