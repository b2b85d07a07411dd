"""The catalogues: every message the code marks is translated in every shipped language, placeholders
kept; the language is per call (a context), never left behind; plural forms by each language's rule."""

from __future__ import annotations

import ast
import inspect
import re
import string
import threading
from pathlib import Path

import pytest

from backprop_cli.model import i18n
from backprop_cli.model.i18n import LANGUAGES, N_, _, from_environment, ngettext, parse_po, pgettext, using

PACKAGE = Path(i18n.__file__).resolve().parents[1]
SHIPPED = [lang for lang in LANGUAGES if lang != "en"]
MARKERS = ("_", "N_", "ngettext", "pgettext")


def marked_messages() -> dict[str, str]:
    """Every message the source marks (``_("…")``, ``N_("…")``, ``ngettext("…", "…", n)``,
    ``pgettext("context", "…")``), as the catalogue key (a plural's two forms joined by NUL, a context
    and its message by EOT) → where it is first marked. This is the
    extraction Babel's ``pybabel extract`` would do, read from the same syntax tree. A multi-line
    ``N_(…)`` is a command's help (``help=N_(…)``, cli/kit.py's TranslatedHelp), keyed as click
    shows it and looks it up: ``inspect.cleandoc`` of the text."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS):
                continue
            texts = [a.value for a in node.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id == "ngettext" and len(texts) == 2:
                key = "\x00".join(texts)
            elif node.func.id == "pgettext" and len(texts) == 2:
                key = "\x04".join(texts)
            elif node.func.id not in ("ngettext", "pgettext") and texts:
                key = inspect.cleandoc(texts[0]) if node.func.id == "N_" and "\n" in texts[0] else texts[0]
            else:
                continue  # a marked constant translated where it is shown (its N_ is counted)
            found.setdefault(key, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def catalogue(lang: str) -> dict[str, list[str]]:
    return parse_po((PACKAGE / "model" / "locale" / f"{lang}.po").read_text(encoding="utf-8"))


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def test_the_source_marks_the_trace_words() -> None:
    marked = marked_messages()
    for message in ("Forward pass", "Backward pass", "Step {step} of {total}", "name", "value", "Summary"):
        assert message in marked


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_marked_message_is_translated(lang: str) -> None:
    entries = catalogue(lang)
    missing = [f"{where}: {key!r}" for key, where in marked_messages().items() if not all(entries.get(key, [""]))]
    assert not missing, f"untranslated in {lang}.po:\n" + "\n".join(missing)


@pytest.mark.parametrize("lang", SHIPPED)
def test_no_catalogue_entry_is_stale(lang: str) -> None:
    stale = set(catalogue(lang)) - set(marked_messages()) - {""}
    assert not stale, f"{lang}.po translates messages the source no longer has: {sorted(stale)}"


@pytest.mark.parametrize("lang", SHIPPED)
def test_translations_keep_the_placeholders(lang: str) -> None:
    header = catalogue(lang)[""][0]
    plurals = int(re.search(r"nplurals=(\d+)", header).group(1))  # type: ignore[union-attr]
    for key, forms in catalogue(lang).items():
        if not key:
            continue
        source = key.split("\x00")
        if len(source) == 2:
            assert len(forms) == plurals, (lang, key)
            for form in forms:  # a form for one or two may spell the number out
                assert fields(form) <= fields(source[1]), (lang, key, form)
        else:
            assert fields(forms[0]) == fields(source[0]), (lang, key, forms[0])


def test_english_is_the_source_text_unchanged() -> None:
    with using("en"):
        assert _("Forward pass") == "Forward pass"
        assert ngettext("a {n} row", "{n} rows", 1) == "a {n} row"
        assert ngettext("a {n} row", "{n} rows", 2) == "{n} rows"
    assert N_("Forward pass") == "Forward pass"


def test_a_language_lasts_for_its_block_only() -> None:
    assert i18n.current() == "en"
    with using("ru"):
        assert _("Forward pass") == "Прямой проход"
        with using("ja"):
            assert _("Forward pass") == "順伝播"
        assert _("Forward pass") == "Прямой проход"
    assert i18n.current() == "en"
    assert _("Forward pass") == "Forward pass"


def test_a_language_set_in_one_thread_is_not_seen_in_another() -> None:
    seen: list[str] = []
    entered, done = threading.Event(), threading.Event()

    def other() -> None:
        entered.wait(timeout=10)
        seen.append(_("Summary"))
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with using("ar"):
        entered.set()
        assert done.wait(timeout=10)
        assert _("Summary") == "الملخص"
    thread.join(timeout=10)
    assert seen == ["Summary"]


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of en, ru, ja, ar"), using("fr"):
        pass


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "строка"), (2, "строки"), (4, "строки"), (5, "строк"), (11, "строк"), (21, "строка"), (22, "строки")],
)
def test_russian_plural_forms(n: int, expected: str) -> None:
    with using("ru"):
        message = ngettext("data: {n} row ({source}); steps: {steps}", "data: {n} rows ({source}); steps: {steps}", n)
    assert message.split()[2] == expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "ru_RU.UTF-8"}, "ja"),
        ({"LC_ALL": "de_DE.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),  # the first set variable decides
        ({"LANGUAGE": "fr:ar", "LANG": "ru_RU.UTF-8"}, "ar"),  # LANGUAGE lists several, best first
        ({"LANGUAGE": "fr", "LANG": "ja_JP.UTF-8"}, "ja"),  # none of LANGUAGE's shipped: the locale
        ({"LANG": "ar_EG.UTF-8@latin"}, "ar"),
    ],
)
def test_the_environment_names_the_language(environ: dict[str, str], expected: str) -> None:
    assert from_environment(environ) == expected


def test_po_parser_reads_continued_strings_and_leaves_fuzzy_entries_out() -> None:
    text = "\n".join(
        [
            'msgid ""',
            'msgstr ""',
            '"Plural-Forms: nplurals=1; plural=0;\\n"',
            "",
            'msgid "a "',
            '"b"',
            'msgstr "x"',
            '"y \\"z\\""',
            "",
            "#, fuzzy",
            'msgid "c"',
            'msgstr "guess"',
            "",
        ]
    )
    entries = parse_po(text)
    assert entries["a b"] == ['xy "z"']
    assert "c" not in entries


def test_a_context_tells_two_translations_of_one_word_apart() -> None:
    entries = parse_po('msgid "given"\nmsgstr "ответ"\n\nmsgctxt "formula"\nmsgid "given"\nmsgstr "задано"\n')
    assert entries == {"given": ["ответ"], "formula\x04given": ["задано"]}
    assert "formula\x04given" in marked_messages()
    with using("ru"):
        assert pgettext("formula", "given") == "задано" and _("given") == "ответ"
    assert pgettext("formula", "given") == "given"


def test_the_source_marks_the_help_of_the_translated_commands() -> None:
    # what TranslatedHelp (cli/kit.py) looks up, as it looks it up: a help left unmarked would stay
    # English unnoticed, and a marked one is then translated or test_every_marked_message_is_translated fails
    import click

    from backprop_cli.cli.main import main

    marked = marked_messages()
    root = click.Context(main, info_name="backprop", **main.context_settings)
    assert main.help is not None and inspect.cleandoc(main.help) in marked
    for name in main.list_commands(root):
        command = main.get_command(root, name)
        assert command is not None and command.short_help in marked, name
    translated = ("trace", "check", "answers", "names", "explain", "validate", "schema", "examples")
    for name in (*translated, "gradcheck", "graph", "verify"):
        command = main.get_command(root, name)
        assert command is not None and command.help is not None
        assert inspect.cleandoc(command.help) in marked, name
        ctx = click.Context(command, parent=root)
        for param in command.get_params(ctx):
            assert not isinstance(param, click.Option) or param.help in marked, (name, param.name)
    assert {"Usage:", "Options", "Commands", "default: {default}", "Show this message and exit."} <= set(marked)


@pytest.mark.parametrize("lang", SHIPPED)
def test_a_translated_help_keeps_its_example_commands(lang: str) -> None:
    entries = catalogue(lang)
    helps = [key for key in marked_messages() if "\n" in key and "\b" in key]
    assert helps
    for key in helps:
        translation = entries[key][0]
        assert translation.count("\b") == key.count("\b"), (lang, key[:40])  # click's verbatim blocks
        blocks = [part for part in key.split("\n\n") if part.startswith("\b")]
        # a command line of a block: `backprop …` after two spaces, up to two spaces or the line's end
        examples = [found for block in blocks for found in re.findall(r"(?:^|  )(backprop(?: \S+)*)", block, re.M)]
        assert examples, key[:40]
        for example in examples:  # `backprop trace net.yaml`, word for word
            assert example in translation, (lang, example)
