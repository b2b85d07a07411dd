"""`answers --lang`: the comments at the top of a key or a blank sheet in the reader's language (from the
catalogues), the YAML itself (keys, names, numbers) the English file's, and `check` grades it as before."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.homework.answers import DEFAULT_TOLERANCE, load_answers
from backprop_cli.homework.rounding import EXACT, Rounding, comment
from backprop_cli.loading.examples import example_path
from backprop_cli.model.i18n import _, ngettext, pgettext, using
from backprop_cli.model.spec import shown_source

LANGS = ("ru", "ja", "ar")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def written(tmp_path: Path, name: str, *args: str) -> str:
    out = tmp_path / name
    result = invoke("answers", str(tmp_path / "net.yaml"), *args, "-o", str(out))
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "net.yaml"
    shutil.copy(example_path("classic_2_2_2"), path)
    return path


def header(text: str) -> list[str]:
    return text.split("\nformat:")[0].split("\n")


def data_lines(text: str) -> list[str]:
    """The file without its comments: what YAML reads."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("blank", [False, True])
def test_the_comments_are_the_catalogues_and_the_yaml_is_the_english_files(
    tmp_path: Path, config: Path, lang: str, blank: bool
) -> None:
    flags = ["--blank"] if blank else []
    english = written(tmp_path, "en.yaml", *flags)
    translated = written(tmp_path, f"{lang}.yaml", *flags, "--lang", lang)
    assert data_lines(translated) == data_lines(english)  # keys, names and numbers untouched
    (tmp_path / "en.yaml").write_text(english, encoding="utf-8")
    count = len(load_answers(tmp_path / "en.yaml").answers)
    with using(lang):
        title = (
            ngettext(
                "backprop blank answer sheet for {label}: {n} numbers, named as in `backprop trace`.",
                "backprop blank answer sheet for {label}: {n} numbers, named as in `backprop trace`.",
                count,
            )
            if blank
            else ngettext(
                "backprop answer key for {label}: {n} numbers, named as in `backprop trace`.",
                "backprop answer key for {label}: {n} numbers, named as in `backprop trace`.",
                count,
            )
        ).format(label=shown_source(str(config)), n=count)
        tolerance = _("Default tolerance: {tolerance} (answers rounded to 4 significant digits pass).").format(
            tolerance=DEFAULT_TOLERANCE.shown()
        )
        check_line = _("Check with: backprop check THIS_FILE")
        step, layer = _("step {step}").format(step=1), _("layer {layer}").format(layer="o")
        where = " · ".join([step, pgettext("phase", "backward"), layer])
    lines = header(translated)
    assert lines[0] == f"# {title}"
    assert f"# {tolerance}" in lines and f"# {check_line}" in lines
    assert all(line.startswith("# ") for line in lines)  # a note the translation breaks in two stays a comment
    assert len(lines) == len(header(english))
    assert not set(lines) & set(header(english))  # every line of the header is translated
    assert f"  # {where}" in translated.splitlines()


@pytest.mark.parametrize("lang", LANGS)
def test_a_translated_key_and_sheet_load_back_and_grade(tmp_path: Path, config: Path, lang: str) -> None:
    key = tmp_path / f"key-{lang}.yaml"
    key.write_text(written(tmp_path, f"key-{lang}.yaml", "--lang", lang), encoding="utf-8")
    english_key = tmp_path / "key-en.yaml"
    english_key.write_text(written(tmp_path, "key-en.yaml"), encoding="utf-8")
    read, english_read = load_answers(key), load_answers(english_key)
    assert (read.answers, read.tolerance, read.config_sha256) == (
        english_read.answers,
        english_read.tolerance,
        english_read.config_sha256,
    )
    graded = invoke("check", str(key), "--lang", lang)
    assert graded.exit_code == 0, graded.output
    assert graded.output == invoke("check", str(english_key), "--lang", lang).output.replace("key-en", f"key-{lang}")
    sheet = tmp_path / f"sheet-{lang}.yaml"
    written(tmp_path, sheet.name, "--blank", "--lang", lang)
    filled = re.sub(r"(?m)^  o\.delta1:$", "  o.delta1: 0.5", sheet.read_text(encoding="utf-8"))
    sheet.write_text(filled, encoding="utf-8")
    against = invoke("check", str(sheet), "--key", str(key))
    english_sheet = tmp_path / "sheet-en.yaml"
    written(tmp_path, english_sheet.name, "--blank")
    english_sheet.write_text(
        re.sub(r"(?m)^  o\.delta1:$", "  o.delta1: 0.5", english_sheet.read_text(encoding="utf-8")), encoding="utf-8"
    )
    reference = invoke("check", str(english_sheet), "--key", str(english_key))
    assert against.exit_code == reference.exit_code == 1
    assert against.output == reference.output.replace("sheet-en", f"sheet-{lang}").replace("key-en", f"key-{lang}")


def test_a_handout_stays_english_whatever_the_language(tmp_path: Path, config: Path) -> None:
    english = written(tmp_path, "en.md", "--blank", "--format", "markdown")
    assert written(tmp_path, "ru.md", "--blank", "--format", "markdown", "--lang", "ru") == english


# ---------------------------------------------------------------- the rounding: comment (lang5)

PROTOCOLS = [  # (example, answers flags, the protocol the key records)
    ("pytorch_snippet", ("--exact",), Rounding(EXACT)),
    ("classic_2_2_2", ("--round-as-you-go", "4"), Rounding("decimals", 4)),
    ("classic_2_2_2", ("--round-as-you-go", "1"), Rounding("decimals", 1)),  # a catalogue's singular form
    ("classic_2_2_2", ("--round-as-you-go", "3", "--significant"), Rounding("significant", 3)),
]


def rounding_line(text: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith("rounding:")]
    return line


def catalogue_comment(rounding: Rounding) -> str:
    """The comment as the catalogue has it, looked up here from the source texts (not the code under test)."""
    if rounding.exact:
        return _("exact fractions: an answer is right only when it is the exact value")
    if rounding.kind == "decimals":
        text = ngettext(
            "every intermediate rounded to {n} decimals as you go",
            "every intermediate rounded to {n} decimals as you go",
            rounding.digits,
        )
    else:
        text = ngettext(
            "every intermediate rounded to {n} significant digits as you go",
            "every intermediate rounded to {n} significant digits as you go",
            rounding.digits,
        )
    return text.format(n=rounding.digits)


@pytest.mark.parametrize("kind", ["decimals", "significant", EXACT])
def test_the_english_rounding_comment_is_describe_byte_for_byte(kind: str) -> None:
    for digits in range(1, 16) if kind != EXACT else [0]:
        rounding = Rounding(kind, digits)
        assert comment(rounding) == rounding.describe()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("example", "flags", "rounding"), PROTOCOLS)
def test_the_rounding_comment_is_the_catalogues_and_the_key_grades_as_the_english_one(
    tmp_path: Path, lang: str, example: str, flags: tuple[str, ...], rounding: Rounding
) -> None:
    english_key, key = tmp_path / "key-en.yaml", tmp_path / f"key-{lang}.yaml"
    assert invoke("answers", example, *flags, "-o", str(english_key)).exit_code == 0
    result = invoke("answers", example, *flags, "--lang", lang, "-o", str(key))
    assert result.exit_code == 0, result.output
    english, translated = english_key.read_text(encoding="utf-8"), key.read_text(encoding="utf-8")
    with using(lang):
        wanted = catalogue_comment(rounding)
    assert wanted != rounding.describe()  # the catalogue translates it
    assert rounding_line(translated) == f"rounding: {rounding.to_yaml()}  # {wanted}"
    assert rounding_line(english) == f"rounding: {rounding.to_yaml()}  # {rounding.describe()}"
    strip = re.compile(r"\s+#.*$")  # a trailing comment, which YAML does not read
    assert [strip.sub("", line) for line in data_lines(translated)] == [
        strip.sub("", line) for line in data_lines(english)
    ]
    read, english_read = load_answers(key), load_answers(english_key)
    assert (read.rounding, read.answers, read.config_sha256) == (
        english_read.rounding,
        english_read.answers,
        english_read.config_sha256,
    )
    for shown in ("en", lang):
        graded, reference = (
            invoke("check", str(key), "--lang", shown),
            invoke("check", str(english_key), "--lang", shown),
        )
        assert graded.exit_code == reference.exit_code == 0, graded.output
        assert graded.output == reference.output.replace("key-en", f"key-{lang}")
