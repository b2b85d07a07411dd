"""The words the trace and ``check`` print, in the reader's language: one ``_()`` / ``ngettext`` entry point.

English is the source text and the default: with ``en`` every call returns its argument unchanged, so the
English output is byte-identical to what it was before there were catalogues. The other languages are
gettext catalogues in ``model/locale/<lang>.po`` (Russian, Japanese and Arabic to start with, the seed
articles' languages), parsed at run time into the stdlib's :class:`gettext.GNUTranslations` (plural forms
and all) the first time a language is used, so nothing but the stdlib is needed and there is no compiled
``.mo`` file that could go stale beside its ``.po``.

The language is a :class:`contextvars.ContextVar` set for the length of one command or API call by
:func:`using`, never a module global: two traces in one process, in two languages, do not see each other's.
Strings are looked up when text is made, never at import (module constants are marked with :func:`N_` and
translated where they are shown). Names (``out.dL_dw1_2``), formulas and numbers are never translated.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the catalogue machinery is imported only when a language other than English is used
    import gettext
    from importlib.resources.abc import Traversable

#: the shipped languages, English (the source text) first
LANGUAGES = ("en", "ru", "ja", "ar")
#: languages written right to left (documents set ``dir="rtl"`` and keep numbers left to right)
RTL = frozenset({"ar"})
DOMAIN = "backprop"

_LANG: ContextVar[str] = ContextVar("backprop_lang", default="en")


def current() -> str:
    """The language of the text being made now."""
    return _LANG.get()


def is_rtl(lang: str | None = None) -> bool:
    return (lang or current()) in RTL


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Make text in ``lang`` (``None``: English) until the block ends; the previous language comes back."""
    chosen = lang or "en"
    if chosen not in LANGUAGES:
        raise ValueError(f"language {chosen!r}; expected one of {', '.join(LANGUAGES)}")
    token = _LANG.set(chosen)
    try:
        yield chosen
    finally:
        _LANG.reset(token)


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for, in gettext's order (``LANGUAGE``, ``LC_ALL``,
    ``LC_MESSAGES``, ``LANG``): the first shipped one named, else English (``C``, ``POSIX`` and
    languages without a catalogue fall back to English)."""
    env = os.environ if environ is None else environ
    for key in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(key, "")
        if not value:
            continue
        for item in value.split(":"):  # LANGUAGE may list several, most wanted first
            code = item.split(".")[0].split("@")[0].split("_")[0].lower()
            if code in LANGUAGES:
                return code
        if key != "LANGUAGE":  # the first locale variable that is set decides, as in gettext
            return "en"
    return "en"


def N_(message: str) -> str:
    """Mark a constant for the catalogue without translating it (it is translated where it is shown).

    A command's help is such a constant (``help=N_("…")`` in its click decorator): cli/kit.py's
    ``TranslatedHelp`` looks it up when ``--help`` is shown, a multi-line one as click shows it
    (``inspect.cleandoc``), which is also the key the catalogue's scan (tests/model/test_i18n.py) gives it."""
    return message


def _(message: str) -> str:
    """``message`` in the current language (itself in English, or when a catalogue lacks it)."""
    lang = _LANG.get()
    if lang == "en":
        return message
    return catalogue(lang).gettext(message)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language where one English word needs two translations: ``context``
    says which use this is (``pgettext("formula", "given")``, a given number, beside the "given" column
    of check's report, the student's answer)."""
    lang = _LANG.get()
    if lang == "en":
        return message
    return catalogue(lang).pgettext(context, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for ``n`` things, by the current language's plural rule."""
    lang = _LANG.get()
    if lang == "en":
        return singular if n == 1 else plural
    return catalogue(lang).ngettext(singular, plural, n)


def po_path(lang: str) -> Traversable:
    from importlib import resources

    return resources.files("backprop_cli.model").joinpath("locale", f"{lang}.po")


@cache
def catalogue(lang: str) -> gettext.GNUTranslations:
    """The language's catalogue, read once (the cache holds immutable translations, never a choice)."""
    import gettext
    import io

    entries = parse_po(po_path(lang).read_text(encoding="utf-8"))
    return gettext.GNUTranslations(io.BytesIO(mo_bytes(entries)))


def parse_po(text: str) -> dict[str, list[str]]:
    """A ``.po`` file's entries: msgid (with ``\\x00`` and the plural msgid when it has one; after its
    context and ``\\x04`` when it has a ``msgctxt``, as in a ``.mo`` file) → msgstr forms.

    The subset of the format the catalogues use: ``msgctxt``, ``msgid``, ``msgid_plural``, ``msgstr``,
    ``msgstr[n]`` and continued string lines; comments and fuzzy flags are skipped (a fuzzy entry counts as untranslated
    by leaving it out)."""
    entries: dict[str, list[str]] = {}
    fields: dict[str, str] = {}
    current_key = ""
    fuzzy = False

    def flush() -> None:
        nonlocal fuzzy
        if "msgid" in fields:
            key = fields["msgid"]
            if "msgctxt" in fields:
                key = fields["msgctxt"] + "\x04" + key
            if "msgid_plural" in fields:
                key += "\x00" + fields["msgid_plural"]
                forms = [fields[k] for k in sorted((k for k in fields if k.startswith("msgstr[")), key=_form_index)]
            else:
                forms = [fields.get("msgstr", "")]
            if not fuzzy or key == "":
                entries[key] = forms
        fields.clear()
        fuzzy = False

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            continue
        if line.startswith('"'):
            fields[current_key] += _unquote(line)
            continue
        keyword, _space, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and "msgid" in fields:
            flush()
        current_key = keyword
        fields[keyword] = _unquote(rest)
    flush()
    return entries


def _form_index(key: str) -> int:
    return int(key[len("msgstr[") : -1])


def _unquote(token: str) -> str:
    import ast

    value = ast.literal_eval(token.strip())
    if not isinstance(value, str):
        raise ValueError(f"not a quoted string: {token}")
    return value


def mo_bytes(entries: Mapping[str, list[str]]) -> bytes:
    """The GNU ``.mo`` image of ``entries`` (as ``msgfmt`` writes it), for :class:`gettext.GNUTranslations`."""
    import struct

    pairs = sorted(
        (key.encode("utf-8"), "\x00".join(forms).encode("utf-8"))
        for key, forms in entries.items()
        if key == "" or any(forms)
    )
    count = len(pairs)
    ids_start = 7 * 4
    strs_start = ids_start + count * 8
    data_start = strs_start + count * 8
    ids = b""
    strs = b""
    id_table: list[int] = []
    str_table: list[int] = []
    for msgid, _msgstr in pairs:
        id_table += [len(msgid), data_start + len(ids)]
        ids += msgid + b"\x00"
    for _msgid, msgstr in pairs:
        str_table += [len(msgstr), data_start + len(ids) + len(strs)]
        strs += msgstr + b"\x00"
    header = struct.pack("<7I", 0x950412DE, 0, count, ids_start, strs_start, 0, data_start)
    return (
        header
        + struct.pack(f"<{len(id_table)}I", *id_table)
        + struct.pack(f"<{len(str_table)}I", *str_table)
        + ids
        + strs
    )
