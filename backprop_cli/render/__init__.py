"""Renderers: pure layout of trace records. One module per format, one number formatter.

``FORMATS`` names the document formats of ``backprop trace --format``: each module has
``write(job: TraceJob, stream: TextIO) -> None`` (a network's run, laid out as it streams) and
``write_document(doc: Document, stream: TextIO, width: int | None) -> None`` (a document already laid
out: an expression's trace), imported only when that format is asked for.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO, cast

if TYPE_CHECKING:
    from backprop_cli.layout.document import Document, TraceJob

# table rows a trace lays out (in every table format) before a notice says how to see the rest (0: no
# cap): a whole step of the largest built-in example (deep_sigmoid: 1,999 rows; iris's batch of 30: 1,549;
# a 3-4-2 network with Adam and a batch of 3: 404), so that a textbook-sized network shows a step whole
DEFAULT_MAX_ROWS = 2_000
# rows a listing shows by default (--max-rows of other commands: the parameters `backprop train` lists
# one by one before it summarises each weight matrix and bias vector)
PARAMETER_ROWS = 400

Writer = Callable[["TraceJob", TextIO], None]
DocumentWriter = Callable[["Document", TextIO, "int | None"], None]

# what makes a terminal act rather than print: C0 controls but tab and newline, DEL, C1 controls (CSI,
# OSC …), and the bidirectional embeddings, overrides and isolates that reorder what is shown; compiled
# when first used (a plain trace's lines are checked with str.isprintable in render/fit.py instead)
_ACTING = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


@functools.cache
def _acting() -> re.Pattern[str]:
    return re.compile(_ACTING)


def printable(text: str) -> str:
    """``text`` without the characters that would make a terminal act on it (an ESC or OSC sequence in
    a description clears the screen or sets the window title). Every terminal renderer goes through
    it: rich output by :class:`backprop_cli.render.console.SafeConsole`, messages by clikit."""
    return _acting().sub("", text)


# name -> (module, what it writes); the text and json formats are written by the trace command itself
FORMATS: dict[str, tuple[str, str]] = {
    "markdown": ("backprop_cli.render.markdown", "GitHub Markdown with pipe tables and $$ math"),
    "latex": ("backprop_cli.render.latex", "a standalone LaTeX document for pdflatex"),
    "html": ("backprop_cli.render.html", "one self-contained HTML page with MathML"),
    "svg": ("backprop_cli.render.svg", "the terminal tables as an SVG image"),
    "slides": ("backprop_cli.render.slides", "a self-contained HTML slide deck, revealed a row at a time"),
    "beamer": ("backprop_cli.render.beamer", "a LaTeX Beamer slide deck for pdflatex, revealed with overlays"),
    "ipynb": ("backprop_cli.render.notebook", "a Jupyter notebook that recomputes each phase with numpy"),
    "torch": ("backprop_cli.render.torch_script", "a runnable PyTorch script printing the same names and numbers"),
}
# the formats laid out as documents (the document row budget; else rich's, for the terminal and SVG)
DOCUMENTS = frozenset({"markdown", "latex", "html", "slides", "beamer"})


def writer(name: str) -> Writer:
    """The ``write`` function of a document format (see ``FORMATS``)."""
    module = importlib.import_module(FORMATS[name][0])
    return cast(Writer, module.write)


def document_writer(name: str) -> DocumentWriter:
    """The ``write_document`` function of a document format (see ``FORMATS``)."""
    module = importlib.import_module(FORMATS[name][0])
    return cast(DocumentWriter, module.write_document)
