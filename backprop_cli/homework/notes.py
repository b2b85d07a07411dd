"""Checked lecture notes: numbers in a course's own Markdown, HTML or LaTeX tagged with a config and a
stable name, compared with what the tool computes at the precision they are written to.

Tags::

    <!-- bp:classic_2_2_2 o.dL_dw1_1 -->0.0822        Markdown and HTML (an HTML comment, then the number)
    \\bp{classic_2_2_2}{o.dL_dw1_1}{0.0822}            LaTeX (backprop.sty prints the number as it is)

A written number matches when it is within half a unit of its last written digit of the computed value
(0.0822 matches 0.082167…, 0.08 matches it too, 0.0823 does not); a fix writes the computed value to the
same number of decimals (or significant digits, for 1.2e-05). Nothing here runs a trace: the caller
gives each tag's value (``backprop verify`` in cli/verify.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

#: a number as notes write it: a sign (ASCII or U+2212), digits, decimals, an exponent
NUMBER = r"[-+−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_COMMENT = re.compile(rf"<!--\s*bp:(?P<config>\S+)\s+(?P<name>\S+)\s*-->[ \t]*(?P<number>{NUMBER})")
_LATEX = re.compile(rf"\\bp\{{(?P<config>[^{{}}]+)\}}\{{(?P<name>[^{{}}]+)\}}\{{\s*(?P<number>{NUMBER})\s*\}}")
# what opens a tag: one that makes no whole tag is reported, not skipped silently
_COMMENT_OPENING = re.compile(r"<!--\s*bp:")
_LATEX_OPENING = re.compile(r"\\bp\{")
_PARTS = re.compile(r"([-+−]?)(\d+)(?:\.(\d+))?(?:([eE])([-+]?)(\d+))?")
KINDS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".tex": "latex"}
STY = r"""\NeedsTeXFormat{LaTeX2e}
\ProvidesPackage{backprop}[2026/12/02 numbers checked by backprop verify]
%% \bp{config}{name}{number}: prints the number; `backprop verify notes.tex` checks it against the trace
%% of the config (a built-in example's name, or a path relative to the notes), `--fix` rewrites it.
\newcommand{\bp}[3]{#3}
\endinput
"""


@dataclass(frozen=True)
class Tag:
    line: int  # 1-based, of the number
    col: int  # 1-based, of the number
    config: str
    name: str
    number: str  # as written
    start: int  # the number's offsets in the text
    end: int
    opening: int  # the tag's own offset


def kind_of(path: Path) -> str:
    return KINDS.get(path.suffix.lower(), "markdown")


def find_tags(text: str, kind: str) -> list[Tag]:
    """Every tag of a note's text, in order (LaTeX tags in a ``.tex`` file, comment tags elsewhere)."""
    pattern = _LATEX if kind == "latex" else _COMMENT
    tags = []
    for match in pattern.finditer(text):
        start = match.start("number")
        line, col = _place(text, start)
        number = match["number"]
        tags.append(Tag(line, col, match["config"], match["name"], number, start, match.end("number"), match.start()))
    return tags


def broken_tags(text: str, kind: str, tags: Sequence[Tag]) -> Iterator[tuple[int, int]]:
    """(line, col) of every tag opening that does not make a whole tag (its number missing or malformed)."""
    whole = {tag.opening for tag in tags}
    for match in (_LATEX_OPENING if kind == "latex" else _COMMENT_OPENING).finditer(text):
        if match.start() not in whole:
            yield _place(text, match.start())


def _place(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _decimal(number: str) -> Decimal:
    return Decimal(number.replace("−", "-"))


def matches(number: str, value: float | Fraction) -> bool:
    """Whether ``number`` is ``value`` at the precision it is written to: within half a unit of its last digit."""
    written = _decimal(number)
    with localcontext() as context:
        context.prec = 60
        exact = _exact(value)
        half = Decimal(5).scaleb(written.as_tuple().exponent - 1)  # type: ignore[operator]
        return abs(exact - written) <= half


def _exact(value: float | Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else Decimal(value)


def rewritten(number: str, value: float | Fraction) -> str:
    """``value`` written as ``number`` is: as many decimals (or significant digits, in e-notation), its
    sign and exponent styles kept."""
    parts = _PARTS.fullmatch(number)
    assert parts is not None
    sign, _, decimals, e, exponent_sign, exponent = parts.groups()
    with localcontext() as context:
        context.prec = 60
        exact = _exact(value)
        if e:
            mantissa, power = f"{exact:.{len(decimals or '')}e}".split("e")
            p = int(power)
            spelled = "-" if p < 0 else exponent_sign
            text = f"{mantissa}{e}{spelled}{abs(p):0{len(exponent)}d}"
        else:
            text = str(exact.quantize(Decimal(1).scaleb(-len(decimals or "")), rounding=ROUND_HALF_EVEN))
    if text.startswith("-") and sign == "−":
        text = "−" + text[1:]
    if sign == "+" and not text.startswith("-"):
        text = "+" + text
    return text


def fixed(text: str, replacements: Sequence[tuple[Tag, str]]) -> str:
    """``text`` with each tag's number replaced (the tags in any order)."""
    out = text
    for tag, number in sorted(replacements, key=lambda pair: pair[0].start, reverse=True):
        out = out[: tag.start] + number + out[tag.end :]
    return out
