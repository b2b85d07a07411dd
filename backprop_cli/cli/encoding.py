"""Text into the encoding of the stream it goes to, never a UnicodeEncodeError.

The trace prints − × · δ ∂ Σ η …; a terminal or pipe that cannot show them (``LANG=C`` with
``PYTHONIOENCODING=ascii``, latin-1) gets ASCII spellings instead, through the codec error handler
``backprop-ascii``. The same handler writes a byte of a non-UTF-8 file name (a surrogate escape) as
``\\xff``, in files too.
"""

from __future__ import annotations

import codecs
import contextlib
import sys

# Single characters where tables are aligned (−, ×, ·), names where a letter stands for itself.
ASCII_SPELLINGS = {
    "−": "-", "×": "x", "·": "*", "÷": "/", "…": "...", "∂": "d", "δ": "delta", "Δ": "Delta",
    "²": "^2", "‖": "||", "Σ": "sum", "∑": "sum", "∇": "grad", "√": "sqrt", "∞": "inf",
    "±": "+-", "≈": "~=", "≠": "!=", "≤": "<=", "≥": ">=", "→": "->", "←": "<-", "½": "1/2",
    "α": "alpha", "β": "beta", "γ": "gamma", "ε": "eps", "η": "eta", "θ": "theta", "λ": "lambda",
    "μ": "mu", "σ": "sigma", "τ": "tau", "ᵀ": "^T", "ᵗ": "^t", "\u0302": "^", "ḡ": "gbar",
    "─": "-", "│": "|", "├": "|", "┤": "|", "└": "+",
    "█": "#", "▇": "#", "▆": "=", "▅": "=", "▄": "-", "▃": "-", "▂": "_", "▁": "_",
    **{chr(0x2080 + digit): str(digit) for digit in range(10)},  # subscripts ₀…₉
}  # fmt: skip
ERRORS = "backprop-ascii"


def _spell(error: UnicodeError) -> tuple[str, int]:
    """The codec error handler: an ASCII spelling, ``\\xNN`` for a byte kept from a non-UTF-8 file name
    (a surrogate escape), else Python's ``\\uNNNN``."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if char in ASCII_SPELLINGS:
            out.append(ASCII_SPELLINGS[char])
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        else:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out), error.end


codecs.register_error(ERRORS, _spell)


def spell_streams_in_their_encoding() -> None:
    """Let stdout and stderr write any text: what their encoding lacks is spelt by :func:`_spell`."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) in ("strict", "backslashreplace", "surrogateescape"):
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.reconfigure(errors=ERRORS)  # type: ignore[union-attr]
