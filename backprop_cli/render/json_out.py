"""``--format json``: the trace document (version 2) written out, streamed one step at a time.

What the document holds is built in :mod:`backprop_cli.layout.json_document` (README, "The trace as
data"); this module only writes it. Steps are written as they are produced, so memory does not grow
with the number of steps. Floats are written with full precision (shortest round trip) by orjson,
which writes numpy arrays whole; nothing non-finite is ever written: :func:`dumps` refuses it loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO, cast

import numpy as np
import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def dumps(document: Any, *, indent: bool = False) -> str:
    """One JSON text: orjson with numpy arrays written whole (``indent``: by two spaces, as
    ``json.dumps(indent=2)`` lays it out). A NaN or ∞ anywhere is a loud ValueError, never
    ``Infinity`` or a silent null (orjson writes non-finite floats as null): every number the
    engine makes is checked where it is made, so one here is a regression."""
    return dump_bytes(document, indent=indent).decode()


def dump_bytes(document: Any, *, indent: bool = False) -> bytes:
    """:func:`dumps` as the UTF-8 bytes orjson makes (what a byte stream takes without decoding them)."""
    _refuse_non_finite(document)
    return orjson.dumps(document, option=_OPTIONS | (orjson.OPT_INDENT_2 if indent else 0))


def _refuse_non_finite(value: Any) -> None:
    """Walk the document's containers (an array is one node: its values are checked at once)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, np.ndarray):
            if item.dtype.kind == "f" and not np.isfinite(item).all():
                raise ValueError("Out of range float values are not JSON compliant: an array holds one")
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list | tuple):
            todo.extend(item)
        elif isinstance(item, float) and (item != item or item in (float("inf"), float("-inf"))):
            raise ValueError(f"Out of range float values are not JSON compliant: {item!r}")


def _byte_writer(out: TextIO) -> Callable[[bytes], object]:
    """Where the document's bytes go: straight into the binary buffer under a UTF-8 text stream (no
    decoding to str and encoding back: a third of the writing time of a large trace), else through the
    text stream, whose encoding and error handler then apply (LANG=C with PYTHONIOENCODING=ascii)."""
    buffer = getattr(out, "buffer", None)
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    if buffer is not None and encoding == "utf8":
        out.flush()  # what the text layer holds goes first
        return cast(Callable[[bytes], object], buffer.write)
    return lambda data: out.write(data.decode())


def write_document(
    top: Mapping[str, Any], steps: Iterable[Mapping[str, Any]], out: TextIO, summary: Callable[[], Any]
) -> None:
    """The envelope ``top``, the steps one by one as they come, then the summary (called after the last step)."""
    write = _byte_writer(out)
    write(dump_bytes(top)[:-1] + b',"steps":[')
    for index, step in enumerate(steps):
        write((b"\n" if index == 0 else b",\n") + dump_bytes(step))
    write(b'\n],"summary":' + dump_bytes(summary()) + b"}\n")


__all__ = ["dumps", "write_document"]
