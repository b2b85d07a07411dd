"""``--help`` in the reader's language (cli/kit.py's TranslatedHelp): the catalogue's words where click
shows the English, chosen by ``--lang`` among the arguments or else the environment; English is click's own."""

from __future__ import annotations

import inspect
import re
import unicodedata

import click
import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.model import i18n

NO_LOCALE = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


def invoke(args: list[str], **environ: str) -> Result:
    return CliRunner().invoke(main, args, env={**NO_LOCALE, **environ}, prog_name="backprop")


def command(name: str) -> click.Command:
    found = main.get_command(click.Context(main, info_name="backprop"), name)
    assert found is not None
    return found


def squeezed(text: str) -> str:
    """Text without its whitespace: click wraps a paragraph at spaces (and, in Japanese, anywhere)."""
    return re.sub(r"\s+", "", text.replace("\b", ""))


def translated(lang: str, message: str) -> str:
    """The catalogue's entry, which must exist: a message left English would prove nothing here."""
    text = i18n.catalogue(lang).gettext(message)
    assert text != message, (lang, message)
    return text


def options_help(cmd: click.Command) -> list[str]:
    ctx = click.Context(cmd, parent=click.Context(main, **main.context_settings))
    return [param.help for param in cmd.get_params(ctx) if isinstance(param, click.Option) and param.help]


@pytest.mark.parametrize(
    ("name", "lang", "args", "environ"),
    [
        ("trace", "ru", [], {"LANG": "ru_RU.UTF-8"}),
        ("trace", "ja", ["--lang", "ja"], {}),
        ("check", "ja", ["--lang", "ja"], {}),
        ("check", "ar", ["--lang=ar"], {"LANG": "ru_RU.UTF-8"}),  # --lang wins over the environment
        ("answers", "ru", ["--lang", "ru"], {}),
        ("names", "ja", [], {"LANG": "ja_JP.UTF-8"}),  # names has no --lang: its help follows the environment
        ("explain", "ar", [], {"LC_MESSAGES": "ar_SA.UTF-8", "LANG": "en_US.UTF-8"}),
        ("schema", "ru", [], {"LANGUAGE": "fr:ru"}),
        ("gradcheck", "ar", [], {"LANG": "ar_EG.UTF-8"}),
        ("graph", "ru", [], {"LANG": "ru_RU.UTF-8"}),
        ("verify", "ja", [], {"LANG": "ja_JP.UTF-8"}),
    ],
)
def test_a_command_help_is_the_catalogues(name: str, lang: str, args: list[str], environ: dict[str, str]) -> None:
    result = invoke([name, "--help", *args], **environ)
    assert result.exit_code == 0, result.output
    cmd = command(name)
    assert cmd.help is not None
    assert result.output.startswith(f"{translated(lang, 'Usage:')} backprop {name} [OPTIONS]")
    assert f"\n{translated(lang, 'Options')}:\n" in result.output
    shown = squeezed(result.output)
    assert squeezed(translated(lang, inspect.cleandoc(cmd.help))) in shown
    for message in options_help(cmd):
        assert squeezed(translated(lang, message)) in shown, message
    option = {"answers": "yaml", "explain": "0"}.get(name, "text")  # a default each one shows
    default = translated(lang, "default: {default}").format(default=option)
    assert (
        name in ("schema", "graph", "verify") or squeezed(f"[{default}") in shown
    )  # click's own words around the defaults too
    assert cmd.help.split()[0] not in result.output.split()  # the first English word is gone


def test_the_command_list_is_the_catalogues() -> None:
    result = invoke(["--help"], LANG="ar_EG.UTF-8")  # the group has no --lang (its English help is unchanged)
    assert result.exit_code == 0, result.output
    shown = squeezed(result.output)
    assert main.help is not None
    assert squeezed(translated("ar", inspect.cleandoc(main.help))) in shown
    assert f"\n{translated('ar', 'Commands')}:\n" in result.output
    ctx = click.Context(main, info_name="backprop")
    for name in main.list_commands(ctx):
        short = command(name).short_help
        assert short is not None
        assert squeezed(name + translated("ar", short)) in shown, name


@pytest.mark.parametrize(
    "args",
    [
        ["trace", "--help"],
        ["check", "--help"],
        ["--help"],
        ["validate", "--help"],
        ["schema", "--help"],
        ["examples", "--help"],
        ["gradcheck", "-h"],
        ["graph", "-h"],
        ["verify", "-h"],
        ["answers", "-h"],
        ["names", "-h"],
        ["explain", "-h"],
    ],
)
def test_english_help_is_clicks_own(args: list[str]) -> None:
    # the same command as a plain click.Command (click.Group): what --help showed before it was translated
    settings = main.context_settings
    names = main.list_commands(click.Context(main, info_name="backprop"))
    if args[0] == "--help":
        commands = {name: command(name) for name in names}
        plain = click.Group(
            "backprop", commands=commands, params=main.params, help=main.help, context_settings=settings
        )
    else:
        cmd = command(args[0])
        copy = click.Command(args[0], params=cmd.params, help=cmd.help, short_help=cmd.short_help)
        plain = click.Group("backprop", commands={args[0]: copy}, context_settings=settings)
    expected = CliRunner().invoke(plain, args, env=NO_LOCALE, prog_name="backprop").output
    assert expected.startswith(f"Usage: backprop {'' if args[0] == '--help' else args[0] + ' '}[OPTIONS]")
    assert invoke(args).output == expected
    assert invoke(args, LANG="ru_RU.UTF-8").output != expected
    if args[0] in ("trace", "check", "answers"):  # --lang en wins over the environment
        assert invoke([*args, "--lang", "en"], LANG="ja_JP.UTF-8").output == expected
    assert invoke(args, LC_ALL="C.UTF-8", LANG="ja_JP.UTF-8").output == expected  # the first locale set decides


def test_the_help_language_is_lang_among_the_arguments_else_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop_cli.cli.help import help_language

    for key in NO_LOCALE:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert help_language(["trace", "--help"]) == "ja"
    assert help_language(["trace", "--lang", "ru", "--help"]) == "ru"
    assert help_language(["trace", "--lang=ar", "--help"]) == "ar"
    assert help_language(["trace", "--lang", "fr", "--help"]) == "ja"  # click refuses fr when it parses
    assert help_language(["trace", "--", "--lang", "ru"]) == "ja"  # past --, an argument, not an option


def columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in line)


@pytest.mark.parametrize("name", ["trace", "check"])
def test_japanese_help_is_wrapped_by_the_columns_it_takes(name: str) -> None:
    # regression: click counts characters, so a line of 76 Japanese characters took 152 columns
    result = invoke([name, "--help", "--lang", "ja"])  # CliRunner: click's formatter 80 columns wide
    assert result.exit_code == 0, result.output
    wide = [line for line in result.output.splitlines() if columns(line) != len(line)]
    assert len(wide) > 10
    assert all(columns(line) <= 80 for line in wide), [line for line in wide if columns(line) > 80]
    assert not [line for line in wide if line.strip()[0] in "、。）」"]  # never at the start of a line


@pytest.mark.parametrize("width", [40, 60, 80])
def test_the_formatter_fills_wide_text_to_its_width(width: int) -> None:
    from backprop_cli.cli.help import ColumnsHelpFormatter

    text = i18n.catalogue("ja").gettext(inspect.cleandoc(command("trace").help or ""))
    formatter = ColumnsHelpFormatter(width=width)
    with formatter.indentation():
        formatter.write_text(text)
        formatter.write_dl([("--data FILE", text.split("\n\n")[1]), ("--color / --no-color", "")])
    shown = formatter.getvalue()
    prose = [line for line in shown.splitlines() if not line.lstrip().startswith("backprop")]
    assert all(columns(line) <= width for line in prose), [line for line in prose if columns(line) > width]
    assert all(line.startswith("  ") for line in shown.splitlines() if line)
    assert squeezed(shown) == squeezed(text + "--dataFILE" + text.split("\n\n")[1] + "--color/--no-color")


def test_arabic_help_keeps_each_mark_on_its_letter() -> None:
    # Arabic's tanwin and shadda are combining marks: no columns of their own, never a line's first character
    result = invoke(["check", "--help", "--lang", "ar"])
    lines = [line.strip() for line in result.output.splitlines() if line.strip()]
    assert any(unicodedata.combining(c) for line in lines for c in line)
    assert not [line for line in lines if unicodedata.combining(line[0])]
    assert all(columns(line) <= 80 for line in result.output.splitlines() if "backprop " not in line)
