"""The trace as a standalone LaTeX document (``article``, ``amsmath``, ``booktabs``) that pdflatex compiles.

Pure layout of :mod:`backprop_cli.layout.document`. Only packages of a basic TeX installation are needed
(``geometry``, ``amsmath``, ``booktabs``, ``longtable``, ``array``); TikZ draws the network or the
expression's graph where it is installed (render/tikz.py), and a line says what is missing where not.
Every character the trace prints (−, ·, ×, ², η, δ, Σ, ∂ …) is spelled as a LaTeX macro; a character
pdflatex cannot set is written as its code point (``[U+0416]``) rather than breaking the build.

A Russian document adds the T2A font encoding and babel's Russian (texlive-lang-cyrillic), a Japanese one
CJKutf8 with its body in a ``CJK`` environment (latex-cjk-japanese): then that language's letters are set
as they are. An Arabic one loads babel's Arabic from the ``arabi`` package (texlive-lang-arabic): the
document stays left-to-right (its tables, names, numbers and formulas), each run of Arabic words is set
right-to-left in arabi's ``\\textRL``. Like the Russian and Japanese ones, it is written whether or not
this machine's TeX has the package: the document is the same everywhere, and it is where pdflatex runs
that the package is needed (its ``\\usepackage`` lines say which).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TextIO

from backprop_cli.errors import ConfigError
from backprop_cli.layout.compact import SampleTable
from backprop_cli.layout.document import Document, TraceJob, build, placed_document
from backprop_cli.layout.graph_picture import GraphPicture
from backprop_cli.layout.header import NETWORK_COLUMNS, network_columns
from backprop_cli.layout.math import FUNCTIONS, SCRIPT, formula
from backprop_cli.layout.rows import Section
from backprop_cli.layout.worksheet import Answer
from backprop_cli.model.i18n import _, current
from backprop_cli.render.math import LATEX_SYMBOLS, latex

PACKAGES = ("amsmath", "booktabs", "longtable", "array")
PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[a4paper,landscape,margin=1.5cm]{geometry}
\usepackage{amsmath}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{array}
\IfFileExists{tikz.sty}{\usepackage{tikz}}{}
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
\newcolumntype{L}[1]{>{\raggedright\arraybackslash}p{#1}}
\newcolumntype{R}[1]{>{\raggedleft\arraybackslash}p{#1}}
"""
# a compact document (samples side by side) fits portrait pages
PORTRAIT = PREAMBLE.replace("[a4paper,landscape,margin=1.5cm]", "[a4paper,margin=1.5cm]")
# a fragment defines nothing: it says what the including document loads, and spells its columns out
FRAGMENT_HEAD = (
    "% backprop trace, a LaTeX fragment for \\input: the including document loads the packages\n"
    "% " + ", ".join(PACKAGES) + "\n"
    "% and tikz for the pictures (where it does not, a line says what is missing)\n"
)
#: per language: the packages it adds after ``\\documentclass``, what opens and closes its body, and the
#: letters (beyond ASCII and Latin-1) pdflatex then sets as they are
LANGUAGE_PACKAGES = {
    "ru": "\\usepackage[T2A]{fontenc}\n\\usepackage[russian,shorthands=off]{babel}\n",
    "ja": "\\usepackage{CJKutf8}\n",
    # arabi's Arabic font encodings, then OT1 last so the Latin text, the names and the numbers keep their fonts;
    # arabic.ldf renews the list labels, which Beamer (its templates) does not define: provided, empty, first
    "ar": "\\providecommand\\labelenumi{}\\providecommand\\labelenumii{}\\providecommand\\labelenumiii{}"
    "\\providecommand\\labelenumiv{}\\providecommand\\labelitemi{}\\providecommand\\labelitemii{}"
    "\\providecommand\\labelitemiii{}\\providecommand\\labelitemiv{}\n"
    "\\usepackage[LAE,LFE,OT1]{fontenc}\n\\usepackage[utf8]{inputenc}\n\\usepackage[arabic,english]{babel}\n",
}
_BODY = {"ja": ("\\begin{CJK}{UTF8}{%s}\n", "\\end{CJK}\n")}
_LETTERS = {
    "ru": re.compile(r"[\u0400-\u04ff«»„“”№]"),
    "ja": re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
}
# a run of Arabic words (with the spaces and the Arabic punctuation between them), set right-to-left
_ARABIC_RUN = re.compile(r"[\u0600-\u06ff](?:[\u0600-\u06ff\s]*[\u0600-\u06ff])?")


def language_check(lang: str | None = None) -> None:
    """Refuse a language the LaTeX formats have no packages for (every shipped language has them)."""
    lang = lang or current()
    if lang not in ("en", *LANGUAGE_PACKAGES):
        raise ConfigError(
            f"{lang} with a LaTeX format; expected --lang {', '.join(('en', *LANGUAGE_PACKAGES))}", path="--lang"
        )


def preamble(base: str) -> str:
    """``base`` (a preamble starting with its ``\\documentclass`` line) with the current language's packages."""
    language_check()
    head, _newline, rest = base.partition("\n")
    return head + "\n" + LANGUAGE_PACKAGES.get(current(), "") + rest


def body(font: str = "min") -> tuple[str, str]:
    """What opens and closes the document's body in the current language (``""`` for most)."""
    opening, closing = _BODY.get(current(), ("", ""))
    return (opening % font if opening else ""), closing


_SAMPLES_PER_TABLE = 4  # value columns side by side on a portrait page

_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "²": r"\textsuperscript{2}",
    "₁": r"\textsubscript{1}",  # β₁, β₂ and Adam's β₁ᵗ in the optimizers' notes
    "₂": r"\textsubscript{2}",
    "ᵗ": r"\textsuperscript{t}",
    "—": "---",  # dashes as TeX spells them, in every font encoding (a translation's "sample3 — the name")
    "–": "--",
    "\n": " ",
}
# Every column has a fixed width, so longtable knows them on the first pass: one pdflatex run suffices
# (with a column of natural width, `r`, it asks for a second to settle the widths).
_COLUMNS = {
    "name": "L{0.2\\linewidth}",
    "formula": "L{0.31\\linewidth}",
    "written out": "L{0.31\\linewidth}",
    "value": "R{0.1\\linewidth}",
}
# a compact table: name, formula, the first sample's numbers, then up to four values, in \footnotesize
_SAMPLE_WIDTHS = {"name": 0.16, "formula": 0.2, "written out": 0.2}
_NETWORK_SPEC = (  # layer, units, fan-in, activation, a = f(z), parameters
    "L{0.1\\linewidth}R{0.06\\linewidth}R{0.06\\linewidth}L{0.1\\linewidth}L{0.3\\linewidth}L{0.2\\linewidth}"
)


def text(value: str) -> str:
    """Prose for text mode: TeX's special characters escaped, symbols as math macros, the document
    language's letters as they are."""
    out = []
    letters = _LETTERS.get(current()) if not value.isascii() else None
    for c in value:
        if c in _TEXT:
            out.append(_TEXT[c])
        elif c.isascii():
            out.append(c)
        elif c in LATEX_SYMBOLS:
            out.append(rf"\ensuremath{{{LATEX_SYMBOLS[c]}}}")
        elif "\u00c0" <= c <= "\u00ff" and unicodedata.category(c).startswith("L"):
            out.append(c)  # Latin-1 letters: pdflatex's utf8 input sets them
        elif letters is not None and letters.match(c):
            out.append(c)
        else:
            out.append(f"[U+{ord(c):04X}]")
    return "".join(out)


def right_to_left(tex: str) -> str:
    """An Arabic document's every run of Arabic words (in text, a table's cell or a formula's ``\\text``)
    set right-to-left by babel's Arabic; the rest (names, numbers, formulas, tables) stays left-to-right."""
    if current() != "ar":
        return tex
    return _ARABIC_RUN.sub(lambda m: "\\textRL{" + m.group(0) + "}", tex)


def name(value: str) -> str:
    """A stable name in typewriter type, breakable after ``/`` and ``.``."""
    return r"\texttt{" + text(value).replace("/", r"/\allowbreak{}").replace(".", r".\allowbreak{}") + "}"


def inline(value: str) -> str:
    return f"${latex(formula(value)).strip()}$" if value else ""


# a blank to write an answer in: wide enough for six digits by hand, narrow enough for a value column
ANSWER_BLANK = r"\underline{\hspace{5em}}"


def value(cell: str) -> str:
    """A value cell: a number as math; a handout's answer as its bold number, a tie, then its value or a
    blank (in text mode, so no underscore is read as a subscript)."""
    if isinstance(cell, Answer):
        return rf"\textbf{{{cell.label}}}~" + (ANSWER_BLANK if cell.shown is None else inline(cell.shown))
    return inline(cell)


_MATH = re.compile(r"[=+−×·/^_()\[\]²√∇Σ∂δηλμβεσαγ≤≥<>|0-9]")
_TRACE_NAME = re.compile(r"(?:step\d+/)?(?:sample\d+/)?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+")
_PROSE = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]|\d+-[A-Za-z]{2,}|[A-Z][A-Za-z]*\d+")  # uses, 1-based, L2


def _kind(word: str) -> str:
    """How a word of a note is set: ``name`` (a trace name), ``prose`` or ``math``."""
    core = word.lstrip("(").rstrip("),;:")
    if _TRACE_NAME.fullmatch(core):
        return "name"
    if SCRIPT.search(core) or core in ("—", "–"):
        return "prose"  # a word of Russian, Japanese or Arabic (a one-letter one too: и, в)
    if core in FUNCTIONS:
        return "math"
    if _PROSE.fullmatch(core):
        return "prose"
    return "math" if _MATH.search(core) or len(core) == 1 else "prose"


# words that follow a variable a but never the article a ("1 if a is the maximum", "a if a > 0")
_NOT_AFTER_ARTICLE = frozenset(
    {"is", "are", "was", "be", "has", "and", "or", "if", "then", "else", "to", "of", "in", "on", "at", "by", "for"}
    | {"as", "with", "equals", "times", "when", "where"}
)


def _article(word: str, after: str | None) -> bool:
    """``a`` (or ``A``) before a word of prose that may follow an article: the English word, not the
    variable (``a batch's samples``, ``at a tie``; but ``1 if a is the maximum``)."""
    if word not in ("a", "A") or after is None:
        return False
    return _kind(after) == "prose" and after.lower().rstrip(",;:") not in _NOT_AFTER_ARTICLE


def note(value: str) -> str:
    r"""A note or fact line (prose with formulas in it) for text mode: each run of formula words in
    math mode (``$a_{\text{prev}}$``, ``$e^{-z}$``, ``$\Sigma_{k}$``), trace names in typewriter type,
    the rest escaped as prose, so no ``\textasciicircum{}`` or ``\_`` stands where math was meant."""
    out: list[str] = []
    run: list[str] = []

    def close() -> None:
        if run:
            words = " ".join(run)
            tail = words[len(words.rstrip(",;:")) :]  # punctuation after a formula is prose
            out.append(inline(words.rstrip(",;:")) + text(tail))
            run.clear()

    words = value.split(" ")
    for i, word in enumerate(words):
        kind = _kind(word) if word else "prose"
        if kind == "math" and _article(word, words[i + 1] if i + 1 < len(words) and words[i + 1] else None):
            kind = "prose"
        if kind == "math":
            run.append(word)
            if word.endswith((",", ";", ":")):  # a clause ends: the next formula is a new one
                close()
            continue
        close()
        if kind == "name":
            core = word.lstrip("(").rstrip("),;:")
            start = word.index(core)
            out.append(text(word[:start]) + name(core) + text(word[start + len(core) :]))
        else:
            out.append(text(word))
    close()
    return " ".join(out)


def tabular(header: list[str], rows: list[list[str]], spec: str) -> str:
    lines = [rf"\begin{{longtable}}{{@{{}}{spec}@{{}}}}", r"\toprule", " & ".join(header) + r" \\", r"\midrule"]
    lines += [r"\endhead"]
    lines += [" & ".join(row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{longtable}"]
    return "\n".join(lines) + "\n"


def section_table(section: Section) -> str:
    has_formula = any(row.formula for row in section.rows)
    has_written = any(row.written for row in section.rows)
    header = ["name"] + ["formula"] * has_formula + ["written out"] * has_written
    spec = "".join(_COLUMNS[column] for column in [*header, "value"])
    rows = []
    for row in section.rows:
        cells = [name(row.name)]
        if has_formula:
            cells.append(inline(row.formula))
        if has_written:
            cells.append(inline(row.written))
        cells.append(value(row.value))
        rows.append(cells)
    return tabular([rf"\textbf{{{text(_(column))}}}" for column in [*header, "value"]], rows, spec)


def sample_table(folded: SampleTable) -> str:
    """A compact document's table: a row per quantity, a column of values per sample."""
    has_formula = any(row.formula for row in folded.rows)
    has_written = any(row.written for row in folded.rows)
    kinds = ["name"] + ["formula"] * has_formula + ["written out"] * has_written
    share = (0.89 - sum(_SAMPLE_WIDTHS[k] for k in kinds)) / len(folded.columns)
    spec = "".join(f"L{{{_SAMPLE_WIDTHS[k]}\\linewidth}}" for k in kinds) + f"R{{{share:.3f}\\linewidth}}" * len(
        folded.columns
    )
    heads = [_(kind) for kind in kinds]
    if has_written:
        heads[-1] = _("written out ({column})").format(column=folded.columns[0])
    header = [rf"\textbf{{{text(h)}}}" for h in [*heads, *folded.columns]]
    rows = []
    for row in folded.rows:
        cells = [name(row.name)]
        if has_formula:
            cells.append(inline(row.formula))
        if has_written:
            cells.append(inline(row.written))
        cells += [value(v) for v in row.values]
        rows.append(cells)
    return "{\\footnotesize\\setlength{\\tabcolsep}{4pt}\n" + tabular(header, rows, spec) + "}\n"


def program(lines: tuple[str, ...]) -> str:
    """An expression's program in typewriter type, line for line, its spaces kept."""
    body = "\\\\\n".join("\\ ".join(text(word) for word in line.split(" ")) or "~" for line in lines)
    return "\\begin{quote}\\ttfamily\n" + body + "\n\\end{quote}\n"


def display(equations: list[str]) -> str:
    return "\\begin{gather*}\n" + " \\\\\n".join(equations) + "\n\\end{gather*}\n"


def matrix_view(doc: Document) -> list[str]:
    """The matrix view's steps: each equation of matrices displayed, its entries worked below it."""
    from backprop_cli.render.matrix_view import equation_latex

    out = []
    for step in doc.matrix:
        out.append(rf"\subsection*{{{text(step.heading)}}}" + "\n")
        for section in step.sections:
            out.append(rf"\subsubsection*{{{text(section.title)}}}" + "\n")
            for eq in section.equations:
                out.append("\\[" + equation_latex(eq) + "\\]\n")
                out += [f"{name(r.name)} $= {latex(formula(r.written)).strip()} = {r.value}$\\par\n" for r in eq.worked]
                if eq.why:
                    out.append(rf"\emph{{{note(eq.why)}}}\par" + "\n")
            if section.note:
                out.append(rf"\emph{{{note(section.note)}}}" + "\n")
    return out


_COLUMN_TYPE = re.compile(r"([LR])\{([^{}]*)\}")
_SPELLED = {"L": r">{\raggedright\arraybackslash}p{", "R": r">{\raggedleft\arraybackslash}p{"}


def spelled_columns(tex: str) -> str:
    """The L and R column types of the preamble spelled out in every table, for a fragment (which
    defines nothing in the document that includes it)."""

    def spell(line: str) -> str:
        if not line.startswith(r"\begin{longtable}"):
            return line
        return _COLUMN_TYPE.sub(lambda m: _SPELLED[m.group(1)] + m.group(2) + "}", line)

    return "\n".join(spell(line) for line in tex.split("\n"))


def fragment_head() -> str:
    """A fragment's comment: what the including document loads (and, in Japanese, that the fragment is a
    ``CJK`` environment of its own)."""
    language_check()
    extra = {
        "ru": ", fontenc (T2A), babel (russian)",
        "ja": ", CJKutf8",
        "ar": ", fontenc (LAE, LFE, OT1), inputenc (utf8), babel (arabic, english)",
    }.get(current(), "")
    listed = ", ".join(PACKAGES) + "\n"
    return FRAGMENT_HEAD.replace(listed, listed[:-1] + extra + "\n", 1)


def graph_figure(graph: GraphPicture) -> str:
    """An expression's computation graph, centred, its caption under it."""
    from backprop_cli.render.tikz import graph_tikz, guarded  # tikz.py sets its text with this module's

    caption = rf"{{\small {note(graph.title)}}}"
    return "\\begin{center}\n" + guarded(graph_tikz(graph)) + "\\par\\smallskip\n" + caption + "\n\\end{center}\n"


def render(doc: Document) -> str:
    """The whole document as one LaTeX string (a fragment without preamble with ``doc.fragment``)."""
    opening, closing = body()
    if doc.fragment:
        out = [fragment_head() + opening, rf"\section*{{{text(doc.title)}}}", ""]
    else:
        head = preamble(PORTRAIT if doc.compact else PREAMBLE)
        out = [head, r"\begin{document}" + ("\n" + opening.rstrip("\n") if opening else ""), ""]
        out += [rf"\section*{{{text(doc.title)}}}", ""]
    if doc.description:
        out.append(text(doc.description) + "\n")
    activation = NETWORK_COLUMNS.index("a = f(z)")
    network = [
        [inline(cell) if c == activation and r > 0 else text(cell) for c, cell in enumerate(row)]
        for r, row in enumerate(doc.network)  # row 0 lists the inputs' names
    ]
    if doc.program:
        out.append(program(doc.program))
    if doc.graph is not None:
        out.append(graph_figure(doc.graph))
    if network:
        out.append(tabular([rf"\textbf{{{text(column)}}}" for column in network_columns()], network, _NETWORK_SPEC))
    if doc.picture is not None:
        from backprop_cli.render.tikz import DOCUMENT_SCALE, guarded, network_tikz

        out.append(
            "\\begin{center}\n" + guarded(network_tikz(doc.picture, DOCUMENT_SCALE, r"\scriptsize")) + "\\end{center}\n"
        )
    items = [note(line) for line in doc.facts] + [text(line) for line in doc.instructions]
    out.append("\\begin{itemize}\n" + "".join(rf"\item {item}" + "\n" for item in items) + "\\end{itemize}\n")
    if doc.matrix:
        out += matrix_view(doc)
    for part, placed_list in placed_document(doc, _SAMPLES_PER_TABLE):
        out.append(rf"\subsection*{{{text(part.heading)}}}" + "\n")
        for placed in placed_list:
            section, maths = placed.section, placed.maths
            if placed.phase_title:
                out.append(rf"\subsubsection*{{{text(placed.phase_title)}}}" + "\n")
            if placed.subtitle:
                out.append(rf"\textbf{{{text(placed.subtitle)}}}\nopagebreak" + "\n")
            if maths.ops_latex:
                out.append(display(list(maths.ops_latex)))
            if maths.chain:
                chain = display([latex(eq).strip() for eq in maths.chain])
                out.append(text(_("The chain rule for this layer:")) + "\n" + chain)
            out.append(sample_table(placed.table) if placed.table else section_table(section))
            remark = placed.table.note if placed.table else section.note
            if remark:
                out.append(rf"\emph{{{note(remark)}}}" + "\n")
            if maths.worked:
                worked = _("Worked for neuron 1, with the numbers of {whose}:").format(whose=placed.numbers_of)
                out.append(text(worked) + "\n")
                out += [f"${latex(eq).strip()}$\\par\n" for eq in maths.worked]
    if doc.notice:
        out.append(rf"\emph{{{text(doc.notice)}}}" + "\n")
    if doc.closing:
        out.append(rf"\textbf{{{text(doc.closing)}}}" + "\n")
    if closing:
        out.append(closing.rstrip("\n"))
    if doc.fragment:
        return right_to_left(spelled_columns("\n".join(out)))
    out.append(r"\end{document}" + "\n")
    return right_to_left("\n".join(out))


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(render(build(job)))


def write_document(doc: Document, stream: TextIO, width: int | None = None) -> None:
    """A document already laid out (an expression's trace): ``width`` is for terminal images only."""
    stream.write(render(doc))
