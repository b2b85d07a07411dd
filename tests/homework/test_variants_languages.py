"""`variants --lang`: the comments at the top of each student's config, key and sheet and the lines it prints
in the reader's language (from the catalogues); every other byte (the YAML, names, numbers, seeds, hashes,
the manifest) the English run's, the configs' identity the same, and `check` grades the files as before."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli import __version__
from backprop_cli.cli.main import main
from backprop_cli.homework import variants as v
from backprop_cli.homework.answers import config_identity, load_answers
from backprop_cli.model.i18n import _, ngettext, pgettext, using
from tests.homework.test_variants import SECRET, TEMPLATE

LANGS = ("ru", "ja", "ar")
STUDENTS = ("st001", "st002", "st003")


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    base: dict[str, str | None] = {"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"}
    return CliRunner().invoke(main, list(args), env={**base, **(env or {})})


def write_course(folder: Path) -> Path:
    """The template, the secret and a roster of three whose ids are the SIS User ID column."""
    (folder / "hw.yaml").write_text(TEMPLATE, encoding="utf-8")
    (folder / "course.key").write_text(SECRET, encoding="utf-8")
    rows = "".join(f"Student {s},{s}\n" for s in STUDENTS)
    (folder / "roster.csv").write_text("Student,SIS User ID\n" + rows, encoding="utf-8")
    return folder


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return write_course(tmp_path)


def run(course: Path, out: str, *extra: str, env: dict[str, str | None] | None = None) -> Result:
    result = invoke(
        "variants", str(course / "hw.yaml"), "--roster", str(course / "roster.csv"),
        "--secret-file", str(course / "course.key"), "-o", str(course / out), "--answers", "--phase", "backward",
        *extra, env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


def files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def data_lines(text: str) -> list[str]:
    """What YAML reads: the file without its comment lines."""
    return [line for line in text.splitlines() if not is_comment(line)]


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if is_comment(line)]


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The English run, once for the module: the reference every language is compared with."""
    folder = write_course(tmp_path_factory.mktemp("english"))
    return folder, run(folder, "en", "--lang", "en")


def manifest(folder: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((folder / "manifest.csv").read_text(encoding="utf-8")))
    return {row["student"]: row for row in rows}


@pytest.mark.parametrize("lang", LANGS)
def test_the_files_are_the_english_ones_but_for_their_comments(
    course: Path, english: tuple[Path, Result], lang: str
) -> None:
    english_dir = english[0] / "en"
    run(course, lang, "--lang", lang)
    translated, reference = files(course / lang), files(english_dir)
    assert translated.keys() == reference.keys()
    assert translated["manifest.csv"] == reference["manifest.csv"]  # data: student, attempt, seed, files
    rows = manifest(course / lang)
    for name, text in translated.items():
        if name == "manifest.csv":
            continue
        ours, theirs = data_lines(text), data_lines(reference[name])
        if name.endswith((".key.yaml", ".sheet.yaml")):
            # the one line apart from comments: the hash of the config's own bytes (its comments included)
            student = name.split(".")[0]
            raw = hashlib.sha256((course / lang / f"{student}.yaml").read_bytes()).hexdigest()
            assert f'  raw_sha256: "{raw}"' in ours
            english_raw = hashlib.sha256((english_dir / f"{student}.yaml").read_bytes()).hexdigest()
            assert f'  raw_sha256: "{english_raw}"' in theirs
            ours = [line for line in ours if not line.startswith("  raw_sha256:")]
            theirs = [line for line in theirs if not line.startswith("  raw_sha256:")]
        assert ours == theirs, name
        assert len(comment_lines(text)) == len(comment_lines(reference[name])), name
        assert not set(comment_lines(text)) & set(comment_lines(reference[name])), name  # every comment translated
    for student in STUDENTS:  # each config's header: the catalogue's three lines, with the run's own values
        row = rows[student]
        with using(lang):
            wanted = [
                _("backprop variant for student {student}, drawn from {template}").format(
                    student=student, template=str(course / "hw.yaml")
                ),
                _("template sha256 {sha256}; attempt {attempt}; seed {seed}").format(
                    sha256=config_identity(course / "hw.yaml"), attempt=row["attempt"], seed=row["seed"]
                ),
                _(
                    "seed = HMAC-SHA256(course secret, template sha256, student, attempt); backprop-cli {version}"
                ).format(version=__version__),
            ]
        assert translated[f"{student}.yaml"].splitlines()[:3] == [f"# {line}" for line in wanted]
        with using(lang):
            derivation = _(v.DERIVATION)
            key_lines = [
                _("template {template} (sha256 {sha256}); seed = {derivation}").format(
                    template=str(course / "hw.yaml"), sha256=config_identity(course / "hw.yaml"), derivation=derivation
                ),
                _("attempt {attempt}, seed {seed}; backprop-cli {version}").format(
                    attempt=row["attempt"], seed=row["seed"], version=__version__
                ),
            ]
            label = _("{student}'s variant of {template}").format(student=student, template=str(course / "hw.yaml"))
        for kind in ("key", "sheet"):
            header = translated[f"{student}.{kind}.yaml"].split("\nformat:")[0].splitlines()
            assert [f"# {line}" for line in key_lines] == header[-2:]
            assert label in header[0]


@pytest.mark.parametrize("lang", LANGS)
def test_the_printed_lines_are_the_catalogues(course: Path, lang: str) -> None:
    result = run(course, lang, "--lang", lang)
    with using(lang):
        each = ngettext("{n} draws each", "{n} draws each", 7).format(n=7)  # TEMPLATE has 7 draws
        done = ngettext(
            "{n} variants of {template} written to {folder} ({each}; redraws: {redraws})",
            "{n} variants of {template} written to {folder} ({each}; redraws: {redraws})",
            len(STUDENTS),
        ).format(
            n=len(STUDENTS),
            template=str(course / "hw.yaml"),
            folder=str(course / lang),
            each=each,
            redraws=pgettext("redraws", "none"),
        )
        grade_as = _(" (grade into Canvas with `check --layout canvas --canvas-id {column}`)").format(
            column="'SIS User ID'"
        )
        column = _("{roster}: the ids are the column {column}{grade_as}").format(
            roster=str(course / "roster.csv"), column="'SIS User ID'", grade_as=grade_as
        )
    assert result.stdout == done + "\n"
    assert result.stderr == column + "\n"
    assert "variants of" not in result.stdout and "the ids are" not in result.stderr  # not the English


@pytest.mark.parametrize("lang", LANGS)
def test_the_configs_identity_is_the_same_in_every_language(
    course: Path, english: tuple[Path, Result], lang: str
) -> None:
    run(course, lang, "--lang", lang)
    for student in STUDENTS:
        ours, theirs = course / lang / f"{student}.yaml", english[0] / "en" / f"{student}.yaml"
        assert ours.read_bytes() != theirs.read_bytes()  # the comments differ ...
        assert config_identity(ours) == config_identity(theirs)  # ... and identity does not cover them
        key, english_key = (
            load_answers(course / lang / f"{student}.key.yaml"),
            load_answers(english[0] / "en" / f"{student}.key.yaml"),
        )
        assert key.config_sha256 == english_key.config_sha256 == config_identity(ours)
        assert (key.answers, key.student) == (english_key.answers, english_key.student)


@pytest.mark.parametrize("lang", LANGS)
def test_check_grades_the_translated_files_as_the_english_ones(
    course: Path, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(course, lang, "--lang", lang)
    run(course, "en", "--lang", "en")  # beside it, named as long: check's report wraps alike
    # check names a file by the shorter of its absolute path and its path from the working folder; working
    # in the course folder makes both reports name their files "<lang>/st001...", whatever the test's folder
    monkeypatch.chdir(course)
    student = STUDENTS[0]
    for shown in ("en", lang):
        graded = invoke("check", f"{lang}/{student}.key.yaml", "--lang", shown)
        reference = invoke("check", f"en/{student}.key.yaml", "--lang", shown)
        assert graded.exit_code == reference.exit_code == 0, graded.output
        assert f"{lang}/{student}.yaml" in graded.output  # the config it was checked against, named
        assert graded.output == reference.output.replace(f"en/{student}.", f"{lang}/{student}.")
    # a sheet filled in with one right and one wrong answer, graded against the folder of keys
    sheet = Path("en", f"{student}.sheet.yaml").read_text(encoding="utf-8")
    first, second = [line.strip().rstrip(":") for line in data_lines(sheet) if re.fullmatch(r"  \S+:", line)][:2]
    right = load_answers(Path("en", f"{student}.key.yaml"))
    value = next(a.given_text for a in right.answers if a.name == first)
    outputs = []
    for folder in (lang, "en"):
        text = Path(folder, f"{student}.sheet.yaml").read_text(encoding="utf-8")
        text = re.sub(rf"(?m)^  {re.escape(first)}:$", f"  {first}: {value}", text)
        text = re.sub(rf"(?m)^  {re.escape(second)}:$", f"  {second}: 12345", text)
        submissions = Path(f"submissions-{folder}")
        submissions.mkdir(exist_ok=True)
        (submissions / f"{student}.yaml").write_text(text, encoding="utf-8")
        result = invoke("check", "--key", folder, str(submissions / f"{student}.yaml"), "--format", "json")
        assert result.exit_code == 1, result.output
        outputs.append(result.stdout.replace(f"{folder}/", "<keys>/").replace(str(submissions), "<subs>"))
    assert outputs[0] == outputs[1]


def test_the_language_falls_back_to_lang(course: Path) -> None:
    chosen = run(course, "flag", "--lang", "ja")
    from_locale = run(course, "locale", env={"LANG": "ja_JP.UTF-8", "LANGUAGE": None, "LC_ALL": None})
    assert from_locale.stdout == chosen.stdout.replace(str(course / "flag"), str(course / "locale"))
    assert files(course / "locale") == files(course / "flag")
    english = run(course, "c", env={"LANG": "C", "LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None})
    assert english.stdout.startswith(f"{len(STUDENTS)} variants of ")
