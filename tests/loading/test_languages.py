"""A broken config's located line in Russian, Japanese and Arabic (`trace`/`check` with ``--lang`` or ``LANG``):
the ``file:line:col: field.path:`` prefix is the English line's, and the message is the catalogue's
translation of the English message's template with the same names, numbers and quoted values.

The expected text is computed, not written out: the English line is matched against the template (its
msgid) to find the prefix and the values of its placeholders; the translation is read from the ``.po``
file (tests/model/test_i18n.py's parser) and filled with those values. A placeholder whose value is itself
a translated phrase (``got {value}`` with ``a list``) is given its own template and translated the same way.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode
from backprop_cli.loading.examples import example_path
from tests.model.test_i18n import catalogue

LOCALES = {"ru": "ru_RU.UTF-8", "ja": "ja_JP.UTF-8", "ar": "ar_EG.UTF-8"}
NO_LOCALE = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}
# file:line[:col]: or --option:, then the field's path (network.layers[0].units, column 'b') if there is one
WHERE = r"(?:\S+:\d+(?::\d+)?|--[\w-]+): (?:(?:column '[^']*'|[\w.\[\]-]+): )?"

Nested = dict[str, "Template"]


@dataclass(frozen=True)
class Template:
    """A catalogue msgid, and the templates of those of its placeholders that hold translated phrases
    (``joined``: the msgid is a separator, as ``" or "`` in ``sgd or momentum``)."""

    msgid: str
    nested: Nested = field(default_factory=dict)
    joined: bool = False


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, **NO_LOCALE, **(env or {})})


def pieces(template: str) -> list[tuple[str, str | None]]:
    return [(literal, name) for literal, name, _spec, _conv in string.Formatter().parse(template)]


def pattern(template: str) -> str:
    """A regex for the text ``template`` formats to: each placeholder a named group (a repeated one a
    back-reference), whatever its format spec."""
    out, seen = "", set()
    for literal, name in pieces(template):
        out += re.escape(literal)
        if name is not None:
            out += f"(?P={name})" if name in seen else f"(?P<{name}>.+?)"
            seen.add(name)
    return out


def translated(lang: str, text: str, template: Template) -> str:
    """``text`` (``template.msgid`` formatted in English) as the ``lang`` catalogue words it."""
    if template.joined:
        return catalogue(lang)[template.msgid][0].join(text.split(template.msgid))
    match = re.fullmatch(pattern(template.msgid), text)
    assert match is not None, (text, template.msgid)
    values = match.groupdict()
    for name, inner in template.nested.items():
        values[name] = translated(lang, values[name], inner)
    translation = catalogue(lang)[template.msgid][0]
    assert translation, template.msgid
    return "".join(literal + ("" if name is None else values[name]) for literal, name in pieces(translation))


def split(line: str, template: Template) -> tuple[str, str]:
    """The located line's prefix and its message (which ``template`` formats to)."""
    match = re.fullmatch(f"(?P<_where>{WHERE})({pattern(template.msgid)})", line)
    assert match is not None, (line, template.msgid)
    return match.group("_where"), line[len(match.group("_where")) :]


NETWORK = """\
network:
  inputs: 1
  layers:
    - {name: out, units: 1, activation: identity, weights: [[0.5]], biases: [0.0]}
loss: mse
optimizer: {name: sgd, learning_rate: 0.1}
data: [{x: [1.0], y: [2.0]}]
"""


@dataclass(frozen=True)
class Case:
    name: str
    config: str  # the config's text
    template: Template
    files: dict[str, str] = field(default_factory=dict)  # other files beside the config
    flags: tuple[str, ...] = ()


CASES = [
    Case(
        "yaml slip",
        NETWORK.replace("  inputs: 1", "  inputs: 1: 2"),
        Template("invalid YAML: {problem}", {"problem": Template("mapping values are not allowed in this context")}),
    ),
    Case(
        "unknown field",
        NETWORK + "zzz_field: 1\n",
        Template("unknown field {name}{hint}; expected one of {choices}"),
    ),
    Case(
        "wrong type",
        NETWORK.replace("learning_rate: 0.1", "learning_rate: [0.1]"),
        Template("got {value}; expected {what}", {"value": Template("a list"), "what": Template("a number")}),
    ),
    Case(
        "a bad CSV cell",
        NETWORK.replace("data: [{x: [1.0], y: [2.0]}]", "data: {file: rows.csv, features: [a], targets: [b]}"),
        Template("{value} is not a number; expected a finite number"),
        files={"rows.csv": "a,b\n1.0,2.0\n3.0,two\n"},
    ),
    Case(
        "the --exact refusal",
        NETWORK.replace("{name: sgd, learning_rate: 0.1}", "{name: adam, learning_rate: 0.1}"),
        Template(
            "{reasons} is not rational; expected activations {activations}, losses {losses} and the optimizers "
            "{optimizers} (or drop --exact)",
            {"reasons": Template("the optimizer {name} (square roots)"), "optimizers": Template(" or ", joined=True)},
        ),
        flags=("--exact",),
    ),
]


def written(tmp_path: Path, case: Case) -> Path:
    for name, text in case.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    config = tmp_path / "net.yaml"
    config.write_text(case.config, encoding="utf-8")
    return config


def refused(result: Result) -> str:
    assert result.exit_code == ExitCode.BAD_INPUT, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("lang", ["ru", "ja", "ar"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_trace_words_a_broken_config_in_the_language_asked(tmp_path: Path, case: Case, lang: str) -> None:
    config = written(tmp_path, case)
    english = refused(invoke("trace", str(config), *case.flags))
    where, message = split(english, case.template)
    assert where.startswith(f"{tmp_path}/" if case.name != "the --exact refusal" else "--exact: "), english
    line = refused(invoke("trace", str(config), *case.flags, "--lang", lang))
    expected = translated(lang, message, case.template)
    assert expected != message  # a translation that can be told from the English
    assert line == where + expected
    assert refused(invoke("trace", str(config), *case.flags, env={"LANG": LOCALES[lang]})) == line
    assert refused(invoke("trace", str(config), *case.flags, "--lang", "en")) == english


@pytest.mark.parametrize(("lang", "locale"), LOCALES.items())
@pytest.mark.parametrize("case", CASES[:4], ids=lambda case: case.name)
def test_check_words_the_config_error_in_the_language_of_lang(
    tmp_path: Path, case: Case, lang: str, locale: str
) -> None:
    """`check --config BROKEN` with the language from ``LANG`` (and ``--lang`` over it)."""
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(example_path("single_neuron")), "-o", str(key)).exit_code == 0
    config = written(tmp_path, case)
    english = refused(invoke("check", str(key), "--config", str(config)))
    where, message = split(english, case.template)
    assert where.startswith(f"{tmp_path}/"), english
    expected = where + translated(lang, message, case.template)
    assert refused(invoke("check", str(key), "--config", str(config), env={"LANG": locale})) == expected
    assert refused(invoke("check", str(key), "--config", str(config), "--lang", lang, env={"LANG": "C"})) == expected
    assert refused(invoke("check", str(key), "--config", str(config), "--lang", "en", env={"LANG": locale})) == english


def test_a_missing_field_is_still_reported_after_the_others_in_any_language(tmp_path: Path) -> None:
    """The first error is chosen by what it is, not by its English words: a layer's unknown field (the
    layers are validated apart) comes before the config's missing loss in Russian too."""
    config = tmp_path / "net.yaml"
    config.write_text(
        NETWORK.replace("loss: mse\n", "").replace("units: 1,", "units: 1, zzz_field: 1,"), encoding="utf-8"
    )
    template = Template("unknown field {name}{hint}; expected one of {choices}")
    where, message = split(refused(invoke("trace", str(config))), template)
    assert refused(invoke("trace", str(config), "--lang", "ru")) == where + translated("ru", message, template)
