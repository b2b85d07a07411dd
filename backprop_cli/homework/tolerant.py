"""Reading a student's numbers the way a person wrote them, and a sheet whose YAML slipped.

A number is accepted in every way a student plausibly types it, and each normalisation is said:
``−0.1385`` (the Unicode minus the trace itself prints), ``0,1385`` (a decimal comma, where it cannot
be a thousands separator), ``13.85%``, ``3/4``, ``1.2e-3``, ``1.2×10^-3``, spaces around or inside.
What is still not a number gets a reason, and the grader marks that one answer invalid.

A sheet that is not valid YAML is salvaged line by line (:func:`salvage`): every ``name: value`` line
under ``answers:`` that reads on its own is graded; a line that does not is one invalid answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from backprop_cli.model.i18n import _

MINUS_SIGNS = "\u2212\u2013\u2012\uff0d\ufe63"  # minus, en dash, figure dash, full-width and small hyphen-minus
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f\u2007]+")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_DECIMAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_FRACTION = re.compile(r"([-+]?(?:\d+\.?\d*|\.\d+))/([-+]?(?:\d+\.?\d*|\.\d+))")
_TIMES_TEN = re.compile(r"([-+]?(?:\d+\.?\d*|\.\d+))[x×*·]10(?:\^|\*\*)?\(?([-+]?\d{1,3})\)?")
_COMMA = re.compile(r"([-+]?\d*),(\d+)")
_MAX_TEXT = 640  # characters: a fraction of two 300-digit numbers, at most


@dataclass(frozen=True)
class Reading:
    """A number read from text: its value and what was changed to read it (empty: read as written)."""

    value: float
    notes: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        return "; ".join(self.notes)


class NotANumber(ValueError):
    """Text that no normalisation makes a number; the message says why."""


def read_number(text: str) -> Reading:
    """The number ``text`` means, with the normalisations made; NotANumber when there is none.

    >>> read_number("−0,1385")
    Reading(value=-0.1385, notes=('Unicode minus read as -', 'decimal comma read as a point'))
    """
    if len(text) > _MAX_TEXT:
        raise NotANumber(f"{len(text)} characters; expected a number of at most {_MAX_TEXT}")
    notes: list[str] = []
    work = text.strip()
    if any(c in work for c in MINUS_SIGNS):
        work = "".join("-" if c in MINUS_SIGNS else c for c in work)
        notes.append(_("Unicode minus read as -"))
    if _SPACES.search(work):
        work = _SPACES.sub("", work)
        notes.append(_("spaces removed"))
    if not work:
        raise NotANumber("blank")
    percent = work.endswith("%")
    if percent:
        work = work[:-1]
    if "⁻" in work or any(c in work for c in "⁰¹²³⁴⁵⁶⁷⁸⁹"):
        work = work.translate(_SUPERSCRIPT)
        if not _TIMES_TEN.fullmatch(work):
            raise NotANumber("superscript digits outside a power of ten; expected a decimal such as 0.3775")
    if (comma := _COMMA.fullmatch(work)) is not None:
        whole, part = comma.groups()
        digits = whole.lstrip("+-")
        if len(part) == 3 and digits not in ("", "0"):
            raise NotANumber(
                f"the comma is ambiguous ({whole}.{part} or {whole}{part}); expected a point as the decimal mark"
            )
        work = f"{whole}.{part}"
        notes.append(_("decimal comma read as a point"))
    value = _plain(work, notes)
    if percent:
        notes.append(_("percent: {text} read as {value}/100").format(text=text.strip(), value=repr(value)))
        value = value / 100
    if not math.isfinite(value):
        raise NotANumber("not finite; expected a finite number")
    return Reading(value, tuple(notes))


def _plain(work: str, notes: list[str]) -> float:
    if _DECIMAL.fullmatch(work):
        return float(work)
    if (times := _TIMES_TEN.fullmatch(work)) is not None:
        mantissa, power = times.groups()
        notes.append(
            _("{written} read as {read}").format(written=f"{mantissa}×10^{int(power)}", read=f"{mantissa}e{int(power)}")
        )
        return float(f"{mantissa}e{int(power)}")
    if (fraction := _FRACTION.fullmatch(work)) is not None:
        top, bottom = (Fraction(part) for part in fraction.groups())
        if bottom == 0:
            raise NotANumber("the fraction divides by zero")
        return float(top / bottom)
    if "," in work and "." in work:
        raise NotANumber("both a comma and a point; expected one decimal mark")
    raise NotANumber("not a number; expected a decimal such as 0.3775 or a fraction such as 3/4")


# ---------------------------------------------------------------- salvaging a sheet whose YAML slipped

_LINE = re.compile(r"(?P<indent>[ \t]*)(?P<name>\"[^\"]*\"|'[^']*'|[^\s:#\"'][^:#]*?)[ \t]*:(?:[ \t]+(?P<rest>.*))?")
_TOP = re.compile(r"(?P<key>[A-Za-z_]+)[ \t]*:(?:[ \t]+(?P<rest>.*))?")


@dataclass(frozen=True)
class SalvagedLine:
    name: str
    text: str  # the value as written ("" for a blank)
    line: int  # 1-based
    col: int


@dataclass(frozen=True)
class Salvage:
    """What a line-by-line reading found: top-level scalars (student, config path and sha256) and answers."""

    top: dict[str, str]
    answers: tuple[SalvagedLine, ...]


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _without_comment(text: str) -> str:
    quote = ""
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


def salvage(text: str) -> Salvage:
    """Read a sheet line by line: ``key: value`` at the top, ``config:``'s ``path``/``sha256``, and each
    ``name: value`` line under ``answers:``. Nothing is evaluated; values stay text for the grader."""
    top: dict[str, str] = {}
    answers: list[SalvagedLine] = []
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _without_comment(raw)
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] not in " \t":
            match = _TOP.fullmatch(line)
            section = match.group("key") if match else ""
            if match and match.group("rest"):
                top[section] = _unquote(match.group("rest"))
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            continue
        name, rest = _unquote(match.group("name")), (match.group("rest") or "").strip()
        if section == "config" and name in ("path", "sha256"):
            top[f"config.{name}"] = _unquote(rest)
        elif section == "answers":
            answers.append(SalvagedLine(name, rest, number, len(match.group("indent")) + 1))
    return Salvage(top, tuple(answers))


def plain_value(text: str) -> Any:
    """A salvaged value as YAML would give it where it is plain: blank is None, quotes are dropped."""
    return None if not text or text in ("~", "null") else _unquote(text)
