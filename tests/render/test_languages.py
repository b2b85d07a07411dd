"""The default example's trace in Russian and Japanese (golden files, text, Markdown and HTML), Arabic
HTML right to left, and the formats not yet translated refused with a located line.

After an intended change, regenerate with ``BACKPROP_UPDATE_GOLDEN=1 pytest tests/render/test_languages.py``
and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main

GOLDEN = Path(__file__).parent.parent / "golden" / "lang"
PLAIN = {"NO_COLOR": None, "FORCE_COLOR": None}
NAME_OR_NUMBER = re.compile(r"\b[a-z]+\.[\w.]+|-?\d+\.\d+")  # out.dL_dw1_1, -0.30875
SUFFIX = {"text": "txt", "markdown": "md", "html": "html"}


def run(*args: str, env: dict[str, str | None] | None = None) -> str:
    result = CliRunner().invoke(main, ["trace", *args], env={**PLAIN, **(env or {})})
    assert result.exit_code == 0, result.stderr
    return result.output


def traced(lang: str, output_format: str) -> str:
    return run("--lang", lang, "--format", output_format, "--width", "100", "--no-color")


@pytest.mark.parametrize("output_format", sorted(SUFFIX))
@pytest.mark.parametrize("lang", ["ru", "ja"])
def test_golden_render(lang: str, output_format: str) -> None:
    path = GOLDEN / f"two_layer_relu.{lang}.{SUFFIX[output_format]}"
    text = traced(lang, output_format)
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with BACKPROP_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("output_format", sorted(SUFFIX))
def test_names_formulas_and_numbers_are_the_same_in_every_language(output_format: str) -> None:
    """Only the words change: every name, formula and number of the English trace is in the others."""
    english = traced("en", output_format)
    tokens = set(NAME_OR_NUMBER.findall(english))
    assert "out.dL_dw1_1" in tokens and "-0.30875" in tokens
    for lang in ("ru", "ja", "ar"):
        other = traced(lang, output_format)
        assert not tokens - set(NAME_OR_NUMBER.findall(other)), lang


def test_english_is_the_default_and_unchanged() -> None:
    golden = (Path(__file__).parent.parent / "golden" / "two_layer_relu.txt").read_text(encoding="utf-8")
    assert run("two_layer_relu", "--width", "100", "--no-color") == golden
    assert run("two_layer_relu", "--width", "100", "--no-color", "--lang", "en") == golden


def test_the_locale_chooses_the_language_and_lang_overrides_it() -> None:
    russian = run("--width", "100", "--no-color", env={"LANGUAGE": None, "LC_ALL": None, "LANG": "ru_RU.UTF-8"})
    assert "Прямой проход · слой hidden (relu)" in russian
    english = run("--width", "100", "--no-color", "--lang", "en", env={"LANGUAGE": None, "LANG": "ru_RU.UTF-8"})
    assert "Forward · layer hidden (relu)" in english


def test_arabic_html_is_right_to_left_with_numbers_left_to_right() -> None:
    page = traced("ar", "html")
    assert '<html lang="ar" dir="rtl">' in page
    assert "td.name, td.formula, td.written, td.value, pre.program, math { direction: ltr;" in page
    assert "<h3>الانتشار الأمامي</h3>" in page
    assert '<td class="value">-0.30875</td>' in page
    assert 'dir="rtl"' not in traced("ru", "html") and '<html lang="en">' in traced("en", "html")


def test_json_is_the_same_in_every_language() -> None:
    english = json.loads(run("--format", "json"))
    assert json.loads(run("--format", "json", "--lang", "ru")) == english


@pytest.mark.parametrize("output_format", ["latex", "beamer", "slides", "ipynb", "torch"])
def test_formats_not_yet_translated_are_refused(output_format: str) -> None:
    result = CliRunner().invoke(main, ["trace", "--lang", "ar", "--format", output_format], env=PLAIN)
    assert result.exit_code == 2
    assert result.stderr.startswith("--lang: ar with --format ")
    assert len(result.stderr.splitlines()) == 1
