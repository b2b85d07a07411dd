"""click's usage errors in the reader's language (cli/usage.py): each kind of error worded by the catalogue
from what the exception holds, in the language of ``--lang`` among the arguments (even where parsing failed
before ``--lang`` was read) or else of the environment; one line on stderr, exit 2; English is click's own."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.kit import OneLineUsageGroup
from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode
from backprop_cli.model.i18n import LANGUAGES, _, ngettext, using

NO_LOCALE = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None, "NO_COLOR": None}
SHIPPED = [lang for lang in LANGUAGES if lang != "en"]


def invoke(group: click.Group, args: list[str], **environ: str) -> Result:
    return CliRunner().invoke(group, args, env={**NO_LOCALE, **environ}, prog_name="backprop")


def see(where: str) -> str:
    return _("; see {help}").format(help=f"'{where} --help'")


def invalid(param: str, reason: str) -> str:
    return _("Invalid value for {param}: {reason}").format(param=param, reason=reason)


def one_of(value: str, choices: list[str]) -> str:
    listed = ", ".join(f"'{choice}'" for choice in choices)
    return ngettext("{value} is not {choices}", "{value} is not one of {choices}", len(choices)).format(
        value=f"'{value}'", choices=listed
    )


def suggest(*names: str) -> str:
    listed = ", ".join(f"'{name}'" for name in names)
    return ngettext("; did you mean {possibilities}?", "; did you mean one of: {possibilities}?", len(names)).format(
        possibilities=listed
    )


FORMATS = ["text", "json", "markdown", "latex", "html", "svg", "slides", "beamer", "ipynb", "torch"]

#: kind → (arguments, where the line says it is, the message in the current language); each command has --lang
CASES: dict[str, tuple[list[str], str, Callable[[], str]]] = {
    "no such option": (
        ["trace", "--bogus"],
        "backprop trace",
        lambda: _("No such option {name}").format(name="'--bogus'"),
    ),
    "no such option, two like it": (
        ["trace", "--nope"],
        "backprop trace",
        lambda: _("No such option {name}").format(name="'--nope'") + suggest("--pause", "--phase"),
    ),
    "no such command, one like it": (
        ["tracee"],
        "backprop",
        lambda: _("No such command {name}").format(name="'tracee'") + suggest("trace"),
    ),
    "no such command, three like it": (
        ["trian"],
        "backprop",
        lambda: _("No such command {name}").format(name="'trian'") + suggest("trace", "train", "variants"),
    ),
    "missing argument": (
        ["check"],
        "backprop check",
        lambda: _("Missing argument {name}").format(name="'ANSWERS...'"),
    ),
    "option without its value": (
        ["trace", "xor", "--width"],
        "backprop",
        lambda: ngettext("Option {name} requires an argument", "Option {name} requires {n} arguments", 1).format(
            name="'--width'", n=1
        ),
    ),
    "a flag given a value": (
        ["trace", "--color=yes"],
        "backprop",
        lambda: _("Option {name} does not take a value").format(name="'--color'"),
    ),
    "an extra argument": (
        ["trace", "xor", "zzz"],
        "backprop trace",
        lambda: ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", 1).format(
            args="zzz"
        ),
    ),
    "extra arguments": (
        ["trace", "xor", "zzz", "qqq"],
        "backprop trace",
        lambda: ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", 2).format(
            args="zzz qqq"
        ),
    ),
    "a choice": (
        ["trace", "--format", "nope"],
        "backprop trace",
        lambda: invalid("'--format'", one_of("nope", FORMATS)),
    ),
    "out of range": (
        ["trace", "--precision", "30"],
        "backprop trace",
        lambda: invalid("'--precision'", _("{value} is not in the range {range}").format(value=30, range="1<=x<=17")),
    ),
    "below a bound": (
        ["trace", "--width", "39"],
        "backprop trace",
        lambda: invalid("'--width'", _("{value} is not in the range {range}").format(value=39, range="40<=x<=1000")),
    ),
    "not an integer": (
        ["trace", "--precision", "abc"],
        "backprop trace",
        lambda: invalid("'--precision'", _("{value} is not a valid integer").format(value="'abc'")),
    ),
}


@pytest.mark.parametrize("lang", SHIPPED)
@pytest.mark.parametrize("kind", list(CASES))
def test_each_usage_error_is_the_catalogues_wording(kind: str, lang: str) -> None:
    args, where, message = CASES[kind]
    result = invoke(main, [args[0], "--lang", lang, *args[1:]])  # before a value-taking option at the end
    assert_one_line(result, line(lang, where, message))


def line(lang: str, where: str, message: Callable[[], str]) -> str:
    """The line the catalogue makes in ``lang``; in a shipped language it keeps none of the English
    line's words (so no entry is missing, and nothing of the template was left in English)."""
    with using(lang):
        text = f"{where}: {message()}{see(where)}"
    if lang != "en":
        with using("en"):
            english = f"{where}: {message()}{see(where)}"
        assert not english_words(english, where) & english_words(text, where), text
    return text


def english_words(line: str, where: str) -> set[str]:
    """The line's English words, leaving out what stays as it is: the command, quoted names and values,
    the extra arguments in brackets and a range such as ``1<=x<=17``."""
    rest = re.sub(r"'[^']*'|\([^)]*\)|\S*[<>=]\S*", " ", line.replace(where, " "))
    return {word.lower() for word in re.findall(r"[A-Za-z]+", rest)}


def assert_one_line(result: Result, expected: str) -> None:
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stdout == ""
    assert result.stderr == expected + "\n"


@pytest.mark.parametrize(
    ("args", "environ", "lang"),
    [
        (["trace", "--bogus", "--lang=ja"], {}, "ja"),  # --lang=X
        (["trace", "--bogus"], {"LANG": "ar_EG.UTF-8"}, "ar"),  # the environment
        (["trace", "--bogus"], {"LANGUAGE": "fr:ru", "LANG": "ja_JP.UTF-8"}, "ru"),  # in gettext's order
        (["trace", "--bogus", "--lang", "ru"], {"LANG": "ja_JP.UTF-8"}, "ru"),  # --lang wins
        (["trace", "--bogus", "--", "--lang", "ru"], {}, "en"),  # after --, an argument
        (["trace", "--bogus"], {"LANG": "fr_FR.UTF-8"}, "en"),  # a language without a catalogue
    ],
)
def test_the_language_is_lang_among_the_arguments_else_the_environments(
    args: list[str], environ: dict[str, str], lang: str
) -> None:
    result = invoke(main, args, **environ)
    expected = line(lang, "backprop trace", lambda: _("No such option {name}").format(name="'--bogus'"))
    assert_one_line(result, expected)


def test_a_refused_lang_is_itself_worded_in_the_environments_language() -> None:
    result = invoke(main, ["trace", "--lang", "xx"], LANG="ja_JP.UTF-8")
    expected = line("ja", "backprop trace", lambda: invalid("'--lang'", one_of("xx", list(LANGUAGES))))
    assert_one_line(result, expected)


@pytest.mark.parametrize(
    ("args", "param", "reason"),
    [  # commands without --lang: the environment's language
        (
            ["gradcheck", "--step-size", "0"],
            "'--step-size'",
            lambda: _("{value} is not in the range {range}").format(value=0.0, range="x>0"),
        ),
        (["landscape", "--grid", "x"], "'--grid'", lambda: _("{value} is not a valid integer").format(value="'x'")),
        (["landscape", "--span", "x"], "'--span'", lambda: _("{value} is not a valid number").format(value="'x'")),
    ],
)
@pytest.mark.parametrize("lang", SHIPPED)
def test_numbers_refused_by_their_type(args: list[str], param: str, reason: Callable[[], str], lang: str) -> None:
    result = invoke(main, args, LANG=f"{lang}.UTF-8")
    where = f"backprop {args[0]}"
    assert_one_line(result, line(lang, where, lambda: invalid(param, reason())))


def test_a_missing_option_and_a_directory_for_a_file(tmp_path: Path) -> None:
    result = invoke(main, ["variants", "xor"], LANG="ru_RU.UTF-8")
    expected = line("ru", "backprop variants", lambda: _("Missing option {name}").format(name="'--roster'"))
    assert_one_line(result, expected)

    result = invoke(main, ["trace", "--data", str(tmp_path), "--lang", "ar"])
    reason = lambda: _("{filename} is a directory").format(filename=f"'{tmp_path}'")  # noqa: E731
    assert_one_line(result, line("ar", "backprop trace", lambda: invalid("'--data'", reason())))


def paths_group() -> click.Group:
    """A group whose command takes the paths, and the required choice, no command of ours does."""

    @click.group(cls=OneLineUsageGroup)
    def group() -> None:
        pass

    @group.command()
    @click.argument("existing", type=click.Path(exists=True))
    @click.option("--folder", type=click.Path(file_okay=False))
    @click.option("--mode", type=click.Choice(["fast", "slow"]), required=True)
    @click.option("--lang")
    def run(existing: str, folder: str | None, mode: str, lang: str | None) -> None:
        pass

    return group


@pytest.mark.parametrize("lang", SHIPPED)
def test_paths_and_a_required_choice(tmp_path: Path, lang: str) -> None:
    group, gone, here = paths_group(), tmp_path / "gone.csv", tmp_path / "here.csv"
    here.write_text("x\n", encoding="utf-8")
    cases = [
        (
            ["run", str(gone)],
            lambda: invalid("'EXISTING'", _("{filename} does not exist").format(filename=f"'{gone}'")),
        ),
        (
            ["run", str(here), "--folder", str(here)],
            lambda: invalid("'--folder'", _("{filename} is a file").format(filename=f"'{here}'")),
        ),
        (
            ["run", str(here)],
            lambda: (
                _("Missing option {name}").format(name="'--mode'")
                + _("; choose from {choices}").format(choices="'fast', 'slow'")
            ),
        ),
    ]
    for args, message in cases:
        result = invoke(group, [*args, "--lang", lang])
        assert_one_line(result, line(lang, "backprop run", message))


@pytest.mark.parametrize(
    ("args", "line"),
    [  # click's own words, as before there were translations (tests/cli/test_main.py has the others)
        (["trace", "xor", "--width"], "backprop: Option '--width' requires an argument; see 'backprop --help'"),
        (["trace", "--color=yes"], "backprop: Option '--color' does not take a value; see 'backprop --help'"),
        (
            ["trace", "xor", "zzz", "qqq"],
            "backprop trace: Got unexpected extra arguments (zzz qqq); see 'backprop trace --help'",
        ),
        (
            ["trace", "--precision", "abc"],
            "backprop trace: Invalid value for '--precision': 'abc' is not a valid integer range; "
            "see 'backprop trace --help'",
        ),
        (
            ["trace", "--format", "nope"],
            "backprop trace: Invalid value for '--format': 'nope' is not one of 'text', 'json', 'markdown', "
            "'latex', 'html', 'svg', 'slides', 'beamer', 'ipynb', 'torch'; see 'backprop trace --help'",
        ),
        (["check", "--lang", "en"], "backprop check: Missing argument 'ANSWERS...'; see 'backprop check --help'"),
        (
            ["variants", "xor"],
            "backprop variants: Missing option '--roster'; see 'backprop variants --help'",
        ),
    ],
)
def test_english_is_clicks_own_message(args: list[str], line: str) -> None:
    assert_one_line(invoke(main, args), line)


def test_an_error_not_worded_here_is_clicks_english_still_one_line() -> None:
    @click.group(cls=OneLineUsageGroup)
    def group() -> None:
        pass

    @group.command()
    @click.option("--pair", nargs=2, type=int)
    @click.option("--lang")
    def run(pair: tuple[int, int] | None, lang: str | None) -> None:
        raise click.UsageError("a rule of this command's own")

    result = invoke(group, ["run", "--lang", "ru"])
    with using("ru"):
        expected = f"backprop run: a rule of this command's own{see('backprop run')}"
    assert_one_line(result, expected)


def test_the_readmes_example_is_the_real_line() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    result = invoke(main, ["trace", "--nope", "--lang", "ru"])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert f"backprop trace --nope --lang ru\n# {result.stderr}" in readme
