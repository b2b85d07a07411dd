"""A layer's, an optimizer's and ``--sample``'s config error in Russian, Japanese and Arabic (`trace` with
``--lang`` or ``LANG``), as tests/loading/test_languages.py checks the loading errors: the located prefix is
the English line's, and the message is the catalogue's translation of the English message's template.

The expected text is computed: the English line is matched against the template (its msgid) for the prefix
and the placeholders' values; the translation is read from the ``.po`` file and filled with them. A count
(``2 values``) is translated by the plural form the catalogue's own ``Plural-Forms`` rule picks for its number.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from backprop_cli.budget import check_drawing, check_gradcheck, check_key_text
from backprop_cli.cli.kit import load
from backprop_cli.errors import ConfigError
from backprop_cli.model.budgets import Budgets
from backprop_cli.model.i18n import using
from backprop_cli.model.spec import NetworkSpec
from tests.loading.test_languages import LOCALES, NETWORK, WHERE, invoke, pieces, refused
from tests.model.test_i18n import catalogue


@dataclass(frozen=True)
class Msg:
    """A catalogue msgid (a plural's as ``singular``/``plural``, its number from placeholder ``count`` or
    given as ``n``), the messages of its placeholders that hold translated phrases, and the regexes of
    those a lazy match would split wrongly (``{optimizer}{hint}`` with an empty hint)."""

    singular: str
    plural: str | None = None
    count: str | None = None
    n: int | None = None
    nested: dict[str, Msg] = field(default_factory=dict)
    regex: dict[str, str] = field(default_factory=dict)

    def english(self, values: dict[str, str] | None = None) -> list[str]:
        """The msgid (or both forms of a plural, the one English uses for its number first)."""
        if self.plural is None:
            return [self.singular]
        number = self.n if self.n is not None else int((values or {})[str(self.count)].replace(",", ""))
        return [self.singular, self.plural] if number == 1 else [self.plural, self.singular]


def pattern(template: str, regex: dict[str, str]) -> str:
    out, seen = "", set()
    for literal, name in pieces(template):
        out += re.escape(literal)
        if name is not None:
            out += f"(?P={name})" if name in seen else f"(?P<{name}>{regex.get(name, '.+?')})"
            seen.add(name)
    return out


def matched(text: str, msg: Msg, prefix: str = "") -> tuple[str, str, dict[str, str]]:
    """(the prefix, the English template ``text`` is formatted from, its placeholders' values)."""
    for template in (msg.singular, msg.plural) if msg.plural is not None else (msg.singular,):
        match = re.fullmatch(f"(?P<_where>{prefix})" + pattern(template, msg.regex), text)
        if match is not None:
            values = {k: v for k, v in match.groupdict().items() if k != "_where"}
            return match.group("_where"), template, values
    raise AssertionError((text, msg))


def form(lang: str, msg: Msg, values: dict[str, str]) -> str:
    """The catalogue's translation of ``msg``, the plural form its rule picks for the number."""
    if msg.plural is None:
        translation = catalogue(lang)[msg.singular][0]
        assert translation, msg.singular
        return translation
    entries = catalogue(lang)
    forms = entries[f"{msg.singular}\x00{msg.plural}"]
    rule = re.search(r"plural=([^;]+);", entries[""][0])
    assert rule is not None
    number = msg.n if msg.n is not None else int(values[str(msg.count)].replace(",", ""))
    return forms[gettext.c2py(rule.group(1))(number)]


def translated(lang: str, text: str, msg: Msg) -> str:
    _where, template, values = matched(text, msg)
    assert template == msg.english(values)[0], (text, template)  # the form English uses for the number
    for name, inner in msg.nested.items():
        values[name] = translated(lang, values[name], inner)
    return "".join(
        literal + ("" if name is None else values[name]) for literal, name in pieces(form(lang, msg, values))
    )


ROWS = NETWORK.replace(
    "data: [{x: [1.0], y: [2.0]}]",
    "training: {batch_size: 2, epochs: 2}\n"
    "data: [{x: [1.0], y: [2.0]}, {x: [2.0], y: [2.0]}, {x: [3.0], y: [2.0]}, {x: [4.0], y: [2.0]}]",
)
TWO_LAYERS = NETWORK.replace(
    "    - {name: out,",
    "    - {name: h, units: 2, activation: relu, weights: [[0.5], [0.25]], biases: [0.0, 0.0]}\n    - {name: out,",
).replace("weights: [[0.5]]", "weights: [[0.5, 0.5]]")
IMAGE = (
    NETWORK.replace(
        "  inputs: 1\n  layers:\n", "  inputs: [1, 2, 2]\n  layers:\n    - {LAYER}\n    - {type: flatten, name: f}\n"
    )
    .replace("data: [{x: [1.0], y: [2.0]}]", "data: [{x: [[[1.0, 2.0], [3.0, 4.0]]], y: [2.0]}]")
    .replace("weights: [[0.5]]", "weights: [[0.5, 0.5, 0.5, 0.5]]")
)
FIT = "{name}: kernel {kernel} does not fit an input of {shape} with padding {padding}"
VALUES = Msg("{n} value", "{n} values", "n")


@dataclass(frozen=True)
class Case:
    name: str
    config: str
    message: Msg
    flags: tuple[str, ...] = ()


CASES = [
    Case(
        "a weight row too long",
        NETWORK.replace("weights: [[0.5]]", "weights: [[0.5, 1.0]]"),
        Msg(
            "layer {name} weights row {r} has {values}; expected {fan_in} (the fan-in: {below})",
            nested={"values": VALUES, "below": Msg("the number of inputs")},
        ),
    ),
    Case(
        "a weight row too short for the layer below",
        TWO_LAYERS.replace("weights: [[0.5, 0.5]]", "weights: [[0.5]]"),
        Msg(
            "layer {name} weights row {r} has {values}; expected {fan_in} (the fan-in: {below})",
            nested={"values": VALUES, "below": Msg("the units of layer {name}")},
        ),
    ),
    Case(
        "fewer weight rows than units",
        NETWORK.replace("units: 1, activation: identity", "units: 2, activation: identity"),
        Msg(
            "layer {name} weights has {rows}; expected {units} (its units)",
            nested={"rows": Msg("{n} row", "{n} rows", "n")},
        ),
    ),
    Case(
        "five biases for one unit",
        NETWORK.replace("biases: [0.0]", "biases: [0.0, 0.0, 0.0, 0.0, 0.0]"),
        Msg("layer {name} biases has {values}; expected {units} (its units)", nested={"values": VALUES}),
    ),
    Case(
        "a dropout mask row too short for the layer below",
        TWO_LAYERS.replace(
            "    - {name: out,", "    - {type: dropout, name: d, p: 0.5, mask: [[1]]}\n    - {name: out,"
        ),
        Msg(
            "layer {name} mask row {r} has {values}; expected {fan_in} (the fan-in: {below})",
            nested={"values": VALUES, "below": Msg("the units of layer {name}")},
        ),
    ),
    Case(
        "a residual branch of another width",
        TWO_LAYERS.replace(
            "    - {name: out,",
            "    - {type: residual, name: b1, layers: [{name: fc, units: 3, activation: relu, "
            "weights: [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]], biases: [0.0, 0.0, 0.0]}]}\n    - {name: out,",
        ),
        Msg(
            "residual block {name}: its branch gives an output of shape {out_shape} (layer {last}), its input "
            "has shape {shape}; expected the same shape, since the block adds its input to the branch's output"
        ),
    ),
    Case(
        "softmax on a hidden layer",
        TWO_LAYERS.replace("activation: relu", "activation: softmax"),
        Msg("softmax on layer {name}, which is not the last; expected softmax only on the output layer"),
    ),
    Case(
        "a conv kernel too big",
        IMAGE.replace("{LAYER}", "{type: conv2d, name: c1, out_channels: 1, kernel_size: 3}"),
        Msg(FIT),
    ),
    Case(
        "a dense layer on an image",
        IMAGE.replace("{LAYER}", "{type: maxpool2d, name: p1, kernel_size: 1}").replace(
            "    - {type: flatten, name: f}\n", ""
        ),
        Msg(
            "layer {name} ({kind}) gets an input of shape {shape}; expected a flat input: put a {{type: flatten}} "
            "layer before it"
        ),
    ),
    Case(
        "conv weights missing",
        IMAGE.replace("{LAYER}", "{type: conv2d, name: c1, out_channels: 1, kernel_size: 1}"),
        Msg("weights missing; expected weights {shape} or init: {{method, seed}}"),
    ),
    Case(
        "a pool kernel too big",
        IMAGE.replace("{LAYER}", "{type: maxpool2d, name: p1, kernel_size: 3}"),
        Msg("{name}: kernel {kernel} does not fit an input of {shape}"),
    ),
    Case(
        "an unknown optimizer option",
        NETWORK.replace("learning_rate: 0.1}", "learning_rate: 0.1, betas: [0.9, 0.99]}"),
        Msg(
            "unknown option {key} for optimizer {optimizer}{hint}; expected one of {choices}",
            regex={"optimizer": "'[^']*'", "hint": "[^;]*"},
        ),
    ),
    Case(
        "momentum 0 with the momentum optimizer",
        NETWORK.replace("{name: sgd, learning_rate: 0.1}", "{name: momentum, learning_rate: 0.1, momentum: 0}"),
        Msg("momentum {momentum:g} with optimizer 'momentum'; expected μ > 0"),
    ),
    Case(
        "nesterov without momentum",
        NETWORK.replace("learning_rate: 0.1}", "learning_rate: 0.1, nesterov: true}"),
        Msg(
            "nesterov with {got}; expected momentum > 0 and dampening 0 (as torch.optim.SGD)",
            nested={"got": Msg("momentum 0")},
        ),
    ),
    Case(
        "--sample 99",
        NETWORK,
        Msg(
            "data row {sample} does not exist; the data has {rows} rows",
            "data row {sample} does not exist; the data has {rows} rows",
            "rows",
        ),
        ("--sample", "99"),
    ),
    Case(
        "--sample of a row another step holds",
        ROWS,
        Msg(
            "data row {sample} is not in {what} ({where}); expected one of those rows (--sample counts data rows "
            "from 1, not positions in the batch)",
            nested={
                "what": Msg("the batch of step {step}"),
                "where": Msg("step {step} holds {rows}", nested={"rows": Msg("row {rows}", "rows {rows}", n=2)}),
            },
        ),
        ("--step", "1", "--sample", "4"),
    ),
]


@pytest.mark.parametrize("lang", ["ru", "ja", "ar"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_trace_words_a_layer_optimizer_or_sample_error_in_the_language_asked(
    tmp_path: Path, case: Case, lang: str
) -> None:
    config = tmp_path / "net.yaml"
    config.write_text(case.config, encoding="utf-8")
    english = refused(invoke("trace", str(config), *case.flags))
    where, _template, _values = matched(english, case.message, WHERE)
    assert where.startswith("--sample: " if "--sample" in case.flags else f"{config}:"), english
    message = english[len(where) :]
    line = refused(invoke("trace", str(config), *case.flags, "--lang", lang))
    expected = translated(lang, message, case.message)
    assert expected != message  # a translation that can be told from the English
    assert line == where + expected
    assert refused(invoke("trace", str(config), *case.flags, env={"LANG": LOCALES[lang]})) == line
    assert refused(invoke("trace", str(config), *case.flags, "--lang", "en")) == english


def refusal(lang: str, check: Callable[[], object]) -> str:
    """The message of the ConfigError ``check`` raises with ``lang`` in force."""
    with using(lang), pytest.raises(ConfigError) as caught:
        check()
    return str(caught.value.message)


REFUSALS: list[tuple[str, dict[str, int], Callable[[NetworkSpec, Budgets], object], Msg]] = [
    (
        "gradcheck",
        {"gradcheck_parameters": 10},
        lambda spec, limits: check_gradcheck(spec, limits=limits),
        Msg(
            "checking {parameters:,} parameters takes two forward passes of {rows} each ({products:,} rows × "
            "parameters); expected at most {most:,} parameters and {most_products:,} rows × parameters; check "
            "a smaller network, or fewer rows (--data)",
            nested={"rows": Msg("{n:,} row", "{n:,} rows", "n")},
        ),
    ),
    (
        "graph",
        {"drawing": 20},
        lambda spec, limits: check_drawing(spec, exact=False, limits=limits),
        Msg(
            "the drawing would have {size:,} nodes and edges; expected at most {most:,}; {how}",
            nested={"how": Msg("draw one node per layer (--nodes layer)")},
        ),
    ),
    (
        "the answers file",
        {"key_bytes": 1000},
        lambda spec, limits: check_key_text("x" * 1500, limits=limits),
        Msg(
            "the answers file would have {size:,} bytes, more than `backprop check` reads ({most}); choose fewer "
            "names with {narrow} or --only",
            nested={
                "most": Msg("{n:,} bytes", "{n:,} bytes", "n"),
                "narrow": Msg("--step, --layer, --phase or --sample"),
            },
            regex={"narrow": "--step, --layer, --phase or --sample"},
        ),
    ),
]


@pytest.mark.parametrize("lang", ["ru", "ja", "ar"])
@pytest.mark.parametrize(("name", "limits", "check", "message"), REFUSALS, ids=[case[0] for case in REFUSALS])
def test_a_budget_refusal_is_worded_in_the_language_in_force(
    name: str, limits: dict[str, int], check: Callable[[NetworkSpec, Budgets], object], message: Msg, lang: str
) -> None:
    """gradcheck's, graph's and the answers file's refusals, budgets made small (gradcheck and graph take no
    --lang yet; the words are there when they do)."""
    spec, _names = load("classic_2_2_2", None)
    chosen = replace(Budgets(), **limits)
    english = refusal("en", lambda: check(spec, chosen))
    expected = translated(lang, english, message)
    assert expected != english
    assert refusal(lang, lambda: check(spec, chosen)) == expected
