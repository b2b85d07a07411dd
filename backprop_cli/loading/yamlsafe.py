"""Hardened YAML and JSON reading that remembers where every value came from.

PyYAML alone reads YAML 1.1 (``1e-3`` is a string, ``no`` is False, ``010`` is 8), keeps the last of
duplicate keys, expands alias bombs and recurses once per nesting level. So this module never uses
PyYAML's composer or constructor: it walks the parser's event stream with an explicit stack, which
caps the depth before anything deep is built, rejects anchors, aliases, unknown tags and duplicate
keys, resolves plain scalars by the YAML 1.2 core schema, and records a 1-based (line, column) for
every value and key. JSON goes through the same walk for its marks and through ``json.loads`` for
strictness. Files are size-checked with ``os.stat`` before a byte is read.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
)

from backprop_cli.errors import QUOTE_LIMIT, ConfigError, os_reason, quoted
from backprop_cli.loading import run
from backprop_cli.model.budgets import Budgets, limits_of
from backprop_cli.model.i18n import N_, _
from backprop_cli.model.record import record

Key = str | int
Loc = tuple[Key, ...]
Mark = tuple[int, int]  # 1-based line, column
Format = Literal["yaml", "json"]

MIB = 1024 * 1024
CONFIG_LIMIT = 5 * MIB
DATA_LIMIT = 64 * MIB
MAX_DEPTH = 64
_MAX_DIGITS = 309  # float64's largest finite value has 309 digits
# the kinds of file other modules read through read_bytes/read_text (what=…): marked here, translated in the
# messages below, so that `check`'s "no such file; expected a YAML answers file" reads in one language
_OTHER_FILES = (N_("YAML answers file"), N_("template config"), N_("roster CSV"), N_("secret file"))
# the YAML and JSON parsers' commonest problems, translated where a message quotes one (any other is shown as
# the parser words it; one with a lone brace, such as "did not find expected ',' or '}'", cannot be a template)
_PARSER_PROBLEMS = frozenset(
    {
        N_("mapping values are not allowed in this context"),
        N_("mapping values are not allowed here"),
        N_("did not find expected key"),
        N_("did not find expected ',' or ']'"),
        N_("did not find expected '-' indicator"),
        N_("did not find expected node content"),
        N_("could not find expected ':'"),
        N_("found character that cannot start any token"),
        N_("found unexpected end of stream"),
        N_("found unknown escape character"),
        N_("found a tab character that violates indentation"),
        N_("Expecting value"),
        N_("Expecting ',' delimiter"),
        N_("Expecting ':' delimiter"),
        N_("Expecting property name enclosed in double quotes"),
        N_("Extra data"),
        N_("Unterminated string starting at"),
        N_("Invalid control character at"),
    }
)
_TOO_DEEP = N_("nested too deeply; expected at most {most} levels")  # shown by _too_deep()

# libyaml's parser when PyYAML has it (15x faster; its parser keeps a stack, so depth cannot crash
# it, and the walk below stops at MAX_DEPTH anyway), else the pure-Python one: events only, either way
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"(?i:true|false)")
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NONFINITE_YAML = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_NONFINITE_JSON = re.compile(r"NaN|-?Infinity")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _problem(text: str) -> str:
    """A parser's problem as a message quotes it: in the reader's language where the catalogue has it."""
    return _(text) if text in _PARSER_PROBLEMS else text


def _too_deep() -> str:
    return _(_TOO_DEEP).format(most=MAX_DEPTH)


def _tag(tag: str | None) -> str:
    shown = "!!" + tag[len(_CORE) :] if tag and tag.startswith(_CORE) else str(tag)
    return shown if shown.isprintable() and len(shown) <= QUOTE_LIMIT else quoted(shown)


def describe(value: Any) -> str:
    """A value as messages show it: ``true (a boolean)``, ``'abc' (a string)``, ``a list``, ``2.5``."""
    if isinstance(value, bool):
        return _("{value} (a boolean)").format(value=str(value).lower())
    if value is None:
        return _("nothing (null)")
    if isinstance(value, dict):
        return _("a mapping")
    if isinstance(value, list):
        return _("a list")
    return _("{value} (a string)").format(value=quoted(value)) if isinstance(value, str) else quoted(value)


def format_path(loc: Sequence[Key]) -> str:
    """``("network", "layers", 1, "weights", 0)`` → ``network.layers[1].weights[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, str) and not (part.isprintable() and len(part) <= QUOTE_LIMIT):
            out += f"[{quoted(part)}]"  # a key from the file, escaped and cut like any quoted text
        else:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def comment_text(text: str) -> str:
    """``text`` made safe to write inside a ``# …`` comment of a YAML file we write.

    A line break in a comment ends it, so a file name with one (``net\\n tolerance: …``) would write
    YAML; a control character makes the reader refuse the whole file. Every character Python would
    not print (line breaks, controls, U+2028, NEL, surrogates) is written as its escape, as ``repr``
    does, and so is a backslash, so the comment reads back unambiguously.
    """
    return "".join(c if c.isprintable() and c != "\\" else repr(c)[1:-1] for c in text)


@record
class Document:
    """A parsed file: its value, the name used in messages, and where each value and key starts."""

    value: Any
    source: str
    marks: Mapping[Loc, Mark] = field(default_factory=dict)
    key_marks: Mapping[Loc, Mark] = field(default_factory=dict)

    def mark(self, loc: Sequence[Key], *, key: bool = False) -> Mark | None:
        """The mark of ``loc`` (of its key when ``key``), else of the nearest parent that exists."""
        at = tuple(loc)
        if key and at in self.key_marks:
            return self.key_marks[at]
        while at not in self.marks and at:
            at = at[:-1]
        return self.marks.get(at)

    def error(self, message: str, loc: Sequence[Key], *, key: bool = False) -> ConfigError:
        mark = self.mark(loc, key=key)
        return ConfigError(
            message,
            file=self.source,
            line=mark[0] if mark else None,
            col=mark[1] if mark else None,
            path=format_path(loc) or None,
        )

    def rooted(self, name: str) -> Document:
        """The same document seen as ``{name: value}``, so paths read ``data[3].x`` for a bare list."""
        return Document(
            {name: self.value},
            self.source,
            _Lazy(lambda: {(name, *loc): m for loc, m in self.marks.items()}),
            _Lazy(lambda: {(name, *loc): m for loc, m in self.key_marks.items()}),
        )


def _read_at_most(stream: BinaryIO, most: int, first: int) -> bytes | bytearray:
    """Up to ``most`` bytes of ``stream``, asking first for ``first`` (stat's size + 1), then 1 MiB at a time.

    A regular file comes in one read of its own size. A pipe, a device or a file that grew since stat
    goes on in chunks gathered in one bytearray, so memory stays near what was read: asking for
    ``most`` at once would allocate the whole limit, and joining chunks would hold them twice.
    """
    want = min(first, most)
    head = stream.read(want)
    if len(head) < want:  # a buffered read comes back short only at the end of the stream
        return head
    gathered = bytearray(head)
    del head
    while len(gathered) < most and (chunk := stream.read(min(MIB, most - len(gathered)))):
        gathered += chunk
    return gathered


def read_bytes(path: str | os.PathLike[str], shown: str, *, limit: int, what: str) -> bytes | bytearray:
    """The bytes of a file, at most ``limit`` of them: refusing directories, files over the limit
    unread, and (when grading a sheet) files outside the folders this run may read.

    The file is opened with O_NONBLOCK, so a FIFO with no writer reads as empty instead of waiting
    forever on open; ``/dev/stdin`` from a pipe reads as it always did.
    """
    this_run = run.current()
    this_run.note_input(path)  # never to be overwritten by this run's output
    if (refusal := this_run.refusal(path)) is not None:
        raise ConfigError(refusal, file=shown)
    if (given := this_run.streamed.get(os.fspath(path))) is not None:
        return given
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ConfigError(_("no such file; expected a {what}").format(what=_(what)), file=shown) from None
    except PermissionError:
        raise ConfigError(_("permission denied; expected a readable {what}").format(what=_(what)), file=shown) from None
    except OSError as error:
        raise ConfigError(
            _("cannot read: {reason}; expected a {what}").format(reason=os_reason(error), what=_(what)), file=shown
        ) from None
    too_large = _("file is too large; expected a {what} of at most {most} MiB").format(what=_(what), most=limit // MIB)
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(_("is a directory; expected a {what}").format(what=_(what)), file=shown)
        if info.st_size > limit:
            raise ConfigError(
                _("{too_large} (it has {size} bytes)").format(too_large=too_large, size=info.st_size), file=shown
            )
        os.set_blocking(handle, True)  # a FIFO that has a writer: wait for its data, as for stdin
        stream = os.fdopen(handle, "rb")
    except BaseException:
        os.close(handle)
        raise
    try:
        with stream:
            raw = _read_at_most(stream, limit + 1, info.st_size + 1)
    except PermissionError:
        raise ConfigError(_("permission denied; expected a readable {what}").format(what=_(what)), file=shown) from None
    except OSError as error:
        raise ConfigError(
            _("cannot read: {reason}; expected a {what}").format(reason=os_reason(error), what=_(what)), file=shown
        ) from None
    if len(raw) > limit:
        raise ConfigError(too_large, file=shown)
    if not stat.S_ISREG(info.st_mode):
        this_run.streamed[os.fspath(path)] = bytes(raw)
    return raw


def read_text(path: str | os.PathLike[str], shown: str, *, limit: int, what: str) -> str:
    """The UTF-8 text of a file (see :func:`read_bytes`)."""
    raw = read_bytes(path, shown, limit=limit, what=what)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        col = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        bad = raw[error.start : error.start + 1].hex()
        raise _Refused(
            _("not UTF-8 text (byte 0x{byte}); expected a UTF-8 {what}").format(byte=bad, what=_(what)),
            file=shown,
            line=line,
            col=col,
        ) from None


def guess_format(text: str, source: str) -> Format:
    return "json" if source.lower().endswith(".json") or text.lstrip("\ufeff \t\r\n").startswith("{") else "yaml"


@record
class Values:
    """A budget on the values (scalars: keys, numbers, strings) of a file, and what to say past it."""

    most: int
    what: str  # "config file", "data file" … (in the reader's language, as the hint)
    hint: str = ""  # how to do without so many

    def error(self, source: str, loc: Loc, mark: Mark | None = None) -> ConfigError:
        return ConfigError(
            _("more than {most:,} values in this {what}; expected at most {most:,}{hint}").format(
                most=self.most, what=self.what, hint=self.hint
            ),
            file=source,
            line=mark[0] if mark else None,
            col=mark[1] if mark else None,
            path=format_path(loc) or None,
        )


def load_file(
    path: str | os.PathLike[str], shown: str, *, limit: int, what: str, values: Values | None = None
) -> Document:
    text = read_text(path, shown, limit=limit, what=what)
    return parse(text, shown, fmt="json" if Path(path).suffix.lower() == ".json" else "yaml", values=values)


def parse(text: str, source: str, *, fmt: Format, values: Values | None = None) -> Document:
    """Parse YAML or JSON text; an empty document has the value None. Past ``values`` the parse stops."""
    if fmt == "json":
        return _parse_json(text, source, values)
    return _parse_yaml(text, source, json_mode=False, values=values)


def _parse_json(text: str, source: str, values: Values | None = None) -> Document:
    """``json.loads`` for the value (fast, strict); the YAML walk for marks, run only when asked for."""
    if not text.strip():
        return Document(None, source)
    try:
        value = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ConfigError(
            _("invalid JSON: {problem}").format(problem=_problem(error.msg)),
            file=source,
            line=error.lineno,
            col=error.colno,
        ) from None
    except (ValueError, RecursionError) as error:  # a duplicate key, NaN or deep nesting: locate it
        _json_marks(text, source)
        if isinstance(error, ValueError):
            raise ConfigError(str(error), file=source) from None
        line, col = _too_deep_at(text) or (None, None)
        raise ConfigError(_too_deep(), file=source, line=line, col=col) from None
    if (problem := _refused(value)) is not None:
        _json_marks(text, source)  # the walk refuses the same thing, located
        raise ConfigError(problem, file=source)
    if values is not None and (past := _past(value, values.most)) is not None:
        raise values.error(source, past)  # by its path: the marks would take the YAML walk of the whole file
    if "\\u" in text:  # only an escape can make a lone surrogate: UTF-8 text itself holds none
        _refuse_lone_surrogates(value, text, source)
    marks = functools.cache(lambda: _json_marks(text, source))
    return Document(value, source, _Lazy(lambda: marks()[0]), _Lazy(lambda: marks()[1]))


def _json_marks(text: str, source: str) -> tuple[dict[Loc, Mark], dict[Loc, Mark]]:
    """Marks of JSON text from the YAML walk, which also raises located errors for what it refuses.

    Tabs are JSON whitespace but not YAML's; outside strings they only space things out, and strict
    JSON forbids raw tabs inside strings, so replacing them keeps every column in place.
    """
    try:
        walked = _parse_yaml(text.replace("\t", " "), source, json_mode=True)
    except _SyntaxProblem:  # valid JSON that YAML cannot read: no marks, messages name the file only
        return {}, {}
    return dict(walked.marks), dict(walked.key_marks)


def _flow_left_open(text: str, opened: int, tripped: int) -> bool:
    """Whether a flow collection opened on line ``opened`` (0-based) was left open, judging by where the
    parser tripped: on a later line that starts no deeper than the opening line, i.e. block structure
    (``loss: mse``) resumed. A trip on a deeper continuation line is a mistake inside the collection,
    such as a missing comma between rows, and is reported where it is."""
    if tripped <= opened:
        return False
    lines = text.splitlines()
    if tripped >= len(lines):  # the file ended inside the collection
        return True

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    return indent(lines[tripped]) <= indent(lines[opened])


def _too_deep_at(text: str) -> Mark | None:
    """Where brackets (``[`` or ``{``) first open more than MAX_DEPTH levels, if they do; quoted strings
    (a quote that starts a value, with ``\\`` escapes in double quotes) and ``#`` comments are skipped."""
    depth, line, col = 0, 1, 0
    quote = ""
    previous = "\n"
    escaped = comment = False
    for c in text:
        col += 1
        if c == "\n":
            line, col, comment = line + 1, 0, False
        elif comment:
            pass
        elif quote:
            if escaped:
                escaped = False
            elif c == "\\" and quote == '"':
                escaped = True
            elif c == quote:
                quote = ""
        elif c in "\"'" and previous in " \t\n[{,:":
            quote = c
        elif c == "#" and previous in " \t\n":
            comment = True
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, col
        elif c in "]}":
            depth -= 1
        previous = c
    return None


def _refused(value: Any) -> str | None:
    """What the walk would refuse in a value json.loads accepted: deep nesting, or 1e999 read as inf."""
    todo = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return _too_deep()
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
        elif isinstance(item, float) and not math.isfinite(item):
            return _("number {number} is too large; expected a finite number").format(number=item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > sys.float_info.max:
            return _("number {number} is too large; expected a finite number").format(number=_short(str(item)))
    return None


def _past(value: Any, most: int) -> Loc | None:
    """Where the value after the first ``most`` sits (keys and scalars count, in document order), if any."""
    count = 0
    todo: list[tuple[Loc, Any]] = [((), value)]
    while todo:
        loc, item = todo.pop()
        if isinstance(item, dict):
            count += len(item)
            todo.extend(reversed([((*loc, key), child) for key, child in item.items()]))
        elif isinstance(item, list):
            todo.extend(reversed([((*loc, i), child) for i, child in enumerate(item)]))
        else:
            count += 1
        if count > most:
            return loc
    return None


def _refuse_lone_surrogates(value: Any, text: str, source: str) -> None:
    """A ``"\\ud800"`` escape without its pair makes a string no output can encode: refuse it, located."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())
            todo.extend(item.keys())
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, str) and (found := _SURROGATE.search(item)) is not None:
            escape = f"\\u{ord(found.group()):04x}"
            at = text.lower().find(escape)
            line = text.count("\n", 0, at) + 1 if at >= 0 else None
            col = at - (text.rfind("\n", 0, at) + 1) + 1 if at >= 0 else None
            raise ConfigError(
                _(
                    "a lone surrogate {escape} in a string; expected valid Unicode text (a pair like "
                    "\\ud83d\\ude00 is fine)"
                ).format(escape=escape),
                file=source,
                line=line,
                col=col,
            )


def _short(number: str) -> str:
    return number if len(number) <= 24 else f"{number[:20]}… ({len(number.lstrip('+-'))} digits)"


class _Lazy(Mapping[Loc, Mark]):
    """A mapping computed on first use (JSON marks are only needed for an error message)."""

    def __init__(self, compute: Callable[[], Mapping[Loc, Mark]]) -> None:
        self._compute = functools.cache(compute)

    def __getitem__(self, key: Loc) -> Mark:
        return self._compute()[key]

    def __iter__(self) -> Iterator[Loc]:
        return iter(self._compute())

    def __len__(self) -> int:
        return len(self._compute())


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(_("duplicate key {key}; expected each key once").format(key=quoted(key)))
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(_("non-finite number {number}; expected a finite number").format(number=name))


class _SyntaxProblem(ConfigError):
    """Text that is not valid YAML (as opposed to valid YAML that we refuse)."""


class _Refused(ConfigError):
    """Valid YAML holding something we refuse (a non-finite number, a key written twice, a tag), or a
    file that is not UTF-8 text: what a lenient reader may read around line by line."""


def is_syntax_problem(error: ConfigError) -> bool:
    """Whether ``error`` says the text is not YAML at all (a slip a lenient reader may read around)."""
    return isinstance(error, _SyntaxProblem)


def is_refused_value(error: ConfigError) -> bool:
    """Whether ``error`` refuses one value of valid YAML, or says the text is not UTF-8 (see _Refused)."""
    return isinstance(error, _Refused)


_NOKEY: Any = object()


@dataclass
class _Frame:
    loc: Loc
    value: dict[str, Any] | list[Any]
    key: Any = _NOKEY  # the key waiting for its value, in a mapping


class _Walker:
    """Builds plain Python values and marks from parser events, with an explicit stack."""

    def __init__(self, source: str, *, json_mode: bool, values: Values | None = None) -> None:
        self.source = source
        self.json_mode = json_mode
        self.values = values
        self.count = 0  # scalars read, keys too: past values.most the walk stops
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.marks: dict[Loc, Mark] = {}
        self.key_marks: dict[Loc, Mark] = {}

    def fail(self, message: str, loc: Loc, mark: Any) -> ConfigError:
        return _Refused(
            message, file=self.source, line=mark.line + 1, col=mark.column + 1, path=format_path(loc) or None
        )

    def slot(self) -> tuple[Loc, bool]:
        """Where the next node goes, and whether it is a mapping key."""
        if not self.stack:
            return (), False
        top = self.stack[-1]
        if isinstance(top.value, dict):
            return (top.loc, True) if top.key is _NOKEY else ((*top.loc, top.key), False)
        return (*top.loc, len(top.value)), False

    def put(self, value: Any, loc: Loc) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.value, dict):
            top.value[top.key] = value
            top.key = _NOKEY
        else:
            top.value.append(value)

    def event(self, event: yaml.Event) -> None:
        if isinstance(event, AliasEvent):
            raise self.fail(
                _("aliases (*name) are not allowed; expected the value written out"), self.slot()[0], event.start_mark
            )
        if isinstance(event, (SequenceEndEvent, MappingEndEvent)):
            done = self.stack.pop()
            self.put(done.value, done.loc)
            return
        if not isinstance(event, (ScalarEvent, CollectionStartEvent)):
            return
        loc, is_key = self.slot()
        start: Any = event.start_mark
        if event.anchor is not None:
            raise self.fail(
                _("anchors (&{anchor}) are not allowed; expected plain values").format(
                    anchor=quoted(event.anchor)[1:-1]
                ),
                loc,
                start,
            )
        if isinstance(event, ScalarEvent):
            self.scalar(event, loc, is_key)
            return
        if is_key:
            raise self.fail(_("a key must be a plain name, not a list or mapping"), loc, start)
        tag = event.tag
        kind = "map" if isinstance(event, MappingStartEvent) else "seq"
        if tag not in (None, "!", _CORE + kind):
            raise self.fail(_("tag {tag} is not allowed; expected plain YAML values").format(tag=_tag(tag)), loc, start)
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(_too_deep(), loc, start)
        self.marks[loc] = (start.line + 1, start.column + 1)
        self.stack.append(_Frame(loc, {} if kind == "map" else []))

    def scalar(self, event: ScalarEvent, loc: Loc, is_key: bool) -> None:
        start: Any = event.start_mark
        mark = (start.line + 1, start.column + 1)
        self.count += 1
        if self.values is not None and self.count > self.values.most:
            raise self.values.error(self.source, (*loc, event.value) if is_key else loc, mark)
        if is_key:
            top = self.stack[-1]
            assert isinstance(top.value, dict)
            key = event.value
            if event.tag not in (None, "!", _CORE + "str"):
                raise self.fail(
                    _("tag {tag} is not allowed; expected plain YAML values").format(tag=_tag(event.tag)), loc, start
                )
            if key in top.value or (*loc, key) in self.key_marks:
                raise self.fail(
                    _("duplicate key {key}; expected each key once").format(key=quoted(key)),
                    (*loc, key),
                    event.start_mark,
                )
            self.key_marks[(*loc, key)] = mark
            top.key = key
            return
        self.marks[loc] = mark
        self.put(self.resolve(event, loc), loc)

    def resolve(self, event: ScalarEvent, loc: Loc) -> Any:
        text, tag = event.value, event.tag
        if tag is None and event.implicit[0]:
            return self.plain(text, loc, event.start_mark)
        if tag in (None, "!", _CORE + "str"):
            return text
        if tag in (_CORE + "int", _CORE + "float", _CORE + "bool", _CORE + "null"):
            kind = tag[len(_CORE) :]
            value: Any = self.plain(text, loc, event.start_mark)
            if kind == "float" and type(value) is int:
                value = float(value)
            if type(value) is not {"int": int, "float": float, "bool": bool, "null": type(None)}[kind]:
                raise self.fail(
                    _("{value} is not a valid !!{kind}").format(value=quoted(text), kind=kind), loc, event.start_mark
                )
            return value
        raise self.fail(
            _("tag {tag} is not allowed; expected plain YAML values").format(tag=_tag(tag)), loc, event.start_mark
        )

    def plain(self, text: str, loc: Loc, mark: Any) -> Any:
        """YAML 1.2 core schema: decimal ints, floats with or without a dot, only true/false as bools."""
        nonfinite = _NONFINITE_JSON if self.json_mode else _NONFINITE_YAML
        if nonfinite.fullmatch(text):
            raise self.fail(
                _("non-finite number {number}; expected a finite number").format(number=quoted(text)), loc, mark
            )
        if _NULL.fullmatch(text):
            return None
        if _BOOL.fullmatch(text):
            return text.lower() == "true"
        if _INT.fullmatch(text):
            # past float64's range no integer is usable here (and past 4,300 digits int() itself refuses)
            if len(text.lstrip("+-").lstrip("0")) > _MAX_DIGITS or abs(whole := int(text, 10)) > sys.float_info.max:
                raise self.fail(
                    _("number {number} is too large; expected a finite number").format(number=_short(text)), loc, mark
                )
            return whole
        if _FLOAT.fullmatch(text):
            number = float(text)
            if not math.isfinite(number):
                raise self.fail(
                    _("number {number} is too large; expected a finite number").format(number=quoted(text)), loc, mark
                )
            return number
        return text


def _parse_yaml(text: str, source: str, *, json_mode: bool, values: Values | None = None) -> Document:
    walker = _Walker(source, json_mode=json_mode, values=values)
    try:
        loader = _Loader(text)
        try:
            documents = 0
            while loader.check_event():
                event = loader.get_event()
                if isinstance(event, DocumentStartEvent):
                    documents += 1
                    if documents > 1:
                        raise walker.fail(_("more than one YAML document; expected one"), (), event.start_mark)
                walker.event(event)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "not valid"
        if "maximum nesting depth" in problem:  # libyaml's scanner has its own cap (1000), reached before ours
            line, col = _too_deep_at(text) or (1 + (mark.line if mark else 0), None)
            raise _SyntaxProblem(_too_deep(), file=source, line=line, col=col) from None
        opened = error.context_mark
        if (
            (error.context or "").startswith("while parsing a flow")
            and opened
            and mark
            and _flow_left_open(text, opened.line, mark.line)
        ):
            # an unclosed [ or { is found only where a later line breaks it: point at the bracket itself
            kind = (error.context or "").split()[-1]
            closer = "}" if kind == "mapping" else "]"
            raise _SyntaxProblem(
                _(
                    "invalid YAML: this flow {kind} is not closed ({problem} at line {line}, column {col}); "
                    "expected a closing '{closer}'"
                ).format(kind=kind, problem=_problem(problem), line=mark.line + 1, col=mark.column + 1, closer=closer),
                file=source,
                line=opened.line + 1,
                col=opened.column + 1,
            ) from None
        raise _SyntaxProblem(
            (_("invalid JSON: {problem}") if json_mode else _("invalid YAML: {problem}")).format(
                problem=_problem(problem)
            ),
            file=source,
            line=mark.line + 1 if mark else None,
            col=mark.column + 1 if mark else None,
        ) from None
    except yaml.reader.ReaderError as error:
        # libyaml counts bytes of UTF-8 here, the pure-Python reader characters
        before = text.encode()[: error.position].decode() if _Loader is not yaml.SafeLoader else text[: error.position]
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        raise _SyntaxProblem(
            _("unacceptable character {character}; expected printable text").format(
                character=repr(chr(error.character))
            ),
            file=source,
            line=line,
            col=col,
        ) from None
    except yaml.YAMLError as error:
        raise _SyntaxProblem(_("invalid YAML: {problem}").format(problem=error), file=source) from None
    return Document(walker.root, source, walker.marks, walker.key_marks)


def config_values(limits: Budgets | None = None) -> Values:
    """The value budget of a config file, for the YAML/JSON reader."""
    hint = _("; give a large layer by init: {method, seed} instead of inline weights, and many data rows as a CSV file")
    return Values(limits_of(limits).config_values, _("config file"), hint)
