"""Expression configs (``expression:``, ``values:``, ``output:``) and ``--expr``/``--set``, located errors.

A config holds a program instead of a network::

    description: "the (x + y)·z circuit"
    expression: |
      q = x + y
      f = q * z
    values: {x: -2, y: 5, z: -4}
    output: f              # optional: the last assigned name

Inputs keep their text (``0.1``, ``-24/7``) so ``--exact`` reads 0.1 as 1/10. A problem in the program
is reported as ``file:line:col: expression.line N: …`` with the position inside the file, or as
``--expr:1:col: …`` for an inline program.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backprop_cli.errors import ConfigError, quoted
from backprop_cli.loading.yamlsafe import (
    CONFIG_LIMIT,
    Document,
    Format,
    config_values,
    describe,
    guess_format,
    parse,
    read_text,
)
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.record import record

if TYPE_CHECKING:  # the expression engine is imported when an expression is loaded, not by a network's trace
    from backprop_cli.graph.graph import Graph
    from backprop_cli.graph.parse import Locate, Where

KEYS = ("description", "expression", "values", "output")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAYBE = re.compile(r"""^\s*["']?expression["']?\s*:|"expression"\s*:""", re.M)  # the key, YAML or JSON


@record
class ExprSpec:
    """A resolved expression program: its graph and the text of every input value."""

    program: str
    graph: Graph
    values: Mapping[str, str]  # input name -> value text, in the order given
    source: str
    description: str | None
    where: Where

    @property
    def normalised(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "expression": self.program,
            "values": dict(self.values),
            "output": self.graph.node(self.graph.output).variable,  # as written; the trace names its node
        }


def is_expression_document(path: Path) -> bool:
    """Whether the config file at ``path`` is an expression config (any problem: leave it to the loader)."""
    try:
        text = read_text(path, str(path), limit=CONFIG_LIMIT, what=N_("config file"))
        if not _MAYBE.search(text):  # network configs skip the second parse
            return False
        fmt = "json" if path.suffix.lower() == ".json" else guess_format(text, str(path))
        doc = parse(text, str(path), fmt=fmt, values=config_values())
    except ConfigError:
        return False
    return isinstance(doc.value, dict) and "expression" in doc.value


def load_expression_config(path: Path, source: str, sets: Sequence[str] = ()) -> ExprSpec:
    """Read an expression config file; ``sets`` (``NAME=VALUE``) replace or add values."""
    shown = os.fspath(path)
    text = read_text(path, shown, limit=CONFIG_LIMIT, what=N_("config file"))
    fmt: Format = "json" if path.suffix.lower() == ".json" else guess_format(text, shown)
    return load_expression_text(text, shown, source, sets, fmt=fmt)


def load_expression_text(
    text: str, shown: str, source: str | None = None, sets: Sequence[str] = (), *, fmt: Format | None = None
) -> ExprSpec:
    """An expression config from its text; ``shown`` names it in messages, ``source`` in the trace."""
    from backprop_cli.graph.parse import Where

    doc = parse(text, shown, fmt=fmt or guess_format(text, shown), values=config_values())
    top = doc.value
    if not isinstance(top, dict):
        raise doc.error(
            _("the top level is {value}; expected a mapping with expression and values").format(value=describe(top)), ()
        )
    for key in top:
        if key not in KEYS:
            raise doc.error(
                _("unknown key {key}; expected one of {choices}").format(key=quoted(key), choices=", ".join(KEYS)),
                (key,),
                key=True,
            )
    program = top.get("expression")
    if not isinstance(program, str) or not program.strip():
        raise doc.error(
            _("{value}; expected the program as text (`expression: |`)").format(value=describe(program)),
            ("expression",),
        )
    description = top.get("description")
    if description is not None and not isinstance(description, str):
        raise doc.error(_("{value}; expected text").format(value=describe(description)), ("description",))
    raw_values = top.get("values", {})
    if not isinstance(raw_values, dict):
        raise doc.error(
            _("{value}; expected a mapping of input names to numbers").format(value=describe(raw_values)), ("values",)
        )
    values: dict[str, str] = {}
    for name, value in raw_values.items():
        values[_checked_name(name, doc, ("values", name))] = _value_text(value, doc, ("values", name))
    values.update(parse_sets(sets))
    output = top.get("output")
    if output is not None and not isinstance(output, str):
        raise doc.error(_("{value}; expected the name of a variable").format(value=describe(output)), ("output",))
    where = Where(shown, _locator(text, doc), "expression")
    try:
        return _resolve(program, values, output, source or shown, description, where)
    except ConfigError as error:
        if output is not None and error.path == "output":  # the graph knows the names, the document the place
            raise doc.error(error.message, ("output",)) from None
        raise


def expression_from_option(program: str, sets: Sequence[str]) -> ExprSpec:
    """``--expr TEXT`` with ``--set NAME=VALUE`` inputs; the program's positions read ``--expr:line:col``."""
    from backprop_cli.graph.parse import Where

    if not program.strip():
        raise ConfigError(_("empty expression; expected assignments like `f = (x + y) * z`"), path="--expr")
    where = Where("--expr", values_hint="--set")
    return _resolve(program, parse_sets(sets), None, "--expr", None, where)


def parse_sets(sets: Sequence[str]) -> dict[str, str]:
    from backprop_cli.graph.parse import FUNCTIONS, ascii_minus

    out: dict[str, str] = {}
    for item in sets:
        name, sep, value = item.partition("=")
        name, value = name.strip(), ascii_minus(value)  # --set x=−2, as the descriptions print it
        if not sep or not _NAME.fullmatch(name) or name in FUNCTIONS:
            raise ConfigError(
                _("{item} is not NAME=VALUE; expected e.g. --set x=-2").format(item=repr(item)), path="--set"
            )
        problem = _number_problem(value)
        if problem:
            raise ConfigError(f"{name}={value!r}: {problem}", path="--set")
        out[name] = value.strip()
    return out


def _resolve(
    program: str, values: dict[str, str], output: str | None, source: str, description: str | None, where: Where
) -> ExprSpec:
    from backprop_cli.graph.graph import build_graph
    from backprop_cli.graph.parse import parse_program

    statements = parse_program(program, where)
    graph = build_graph(statements, tuple(values), output, where)
    return ExprSpec(program, graph, values, source, description, where)


def _checked_name(name: Any, doc: Document, loc: tuple[str, ...]) -> str:
    from backprop_cli.graph.parse import FUNCTIONS

    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise doc.error(
            _("input name {name} is not a name; expected letters, digits and _").format(name=quoted(name)),
            loc,
            key=True,
        )
    if name in FUNCTIONS:
        raise doc.error(
            _("{name} is a function name; expected another input name").format(name=quoted(name)), loc, key=True
        )
    return name


def _number_problem(text: str) -> str:
    """What is wrong with a value's text ("" when it is a usable number)."""
    from fractions import Fraction

    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        return _("not a number; expected a decimal like -2.5 or a fraction like 1/3")
    if value != 0 and not Fraction(1, 10**300) <= abs(value) <= 10**300:
        return _("out of range; expected 0 or a size between 1e-300 and 1e300")
    return ""


def _value_text(value: Any, doc: Document, loc: tuple[str, ...]) -> str:
    """The text of an input value: floats by their shortest round-trip decimal, strings as written."""
    from backprop_cli.graph.parse import ascii_minus

    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise doc.error(
            _("{value}; expected a number, or a fraction as text like '1/3'").format(value=describe(value)), loc
        )
    text = ascii_minus(value) if isinstance(value, str) else repr(value)
    if problem := _number_problem(text):
        raise doc.error(f"{describe(value)}: {problem}", loc)
    return text.strip()


def _locator(text: str, doc: Document) -> Locate:
    """Map (line, col) of the program to the file: exact for ``|`` block scalars, close for the others."""
    mark = doc.mark(("expression",))
    if mark is None:
        return lambda line, col: (None, None)
    lines = text.splitlines()
    start_line, start_col = mark
    head = lines[start_line - 1][start_col - 1 :] if start_line <= len(lines) else ""
    if head.startswith(("|", ">")):
        body = [line for line in lines[start_line:] if line.strip()]
        indent = len(body[0]) - len(body[0].lstrip(" ")) if body else 0
        return lambda line, col: (start_line + line, indent + col)
    quoted = 1 if head[:1] in "'\"" else 0
    return lambda line, col: (start_line, start_col + quoted + col - 1) if line == 1 else (start_line, start_col)


def is_expression(config: str | None) -> bool:
    """Whether CONFIG (a file or a built-in example name) is an expression config."""
    if config is None:
        return False
    from backprop_cli.loading.examples import resolve

    path = resolve(config)
    return os.path.exists(path) and is_expression_document(path)  # never raises: the loader reports


def load_expression(config: str | None, expr: str | None, sets: Sequence[str]) -> tuple[ExprSpec, list[Path]]:
    """The program from ``--expr`` or from an expression config (with ``--set`` values replacing its own)."""
    if expr is not None:
        if config is not None:
            raise ConfigError(_("give either CONFIG or --expr, not both"), path="--expr")
        return expression_from_option(expr, sets), []
    if not is_expression(config):
        raise ConfigError(
            _(
                "{config} is a network; --set gives expression inputs, expected with --expr or an expression config"
            ).format(config=config or _("the default example")),
            path="--set",
        )
    from backprop_cli.loading.examples import label, resolve

    path = resolve(config)
    return load_expression_config(path, label(path), sets), [path]
