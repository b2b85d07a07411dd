"""The trace as GitHub Markdown: a heading per step and phase, pipe tables, the chain rule as ``$$`` math.

Pure layout of :mod:`backprop_cli.layout.document`: the sections and rows are the terminal's, with
numbers from the same :class:`NumberFormat`. Table cells hold names and formulas as code spans (so
``_`` and ``*`` stay literal) with ``|`` escaped; math blocks are LaTeX that GitHub renders.
"""

from __future__ import annotations

import re
from typing import TextIO

from backprop_cli.layout.compact import SampleTable
from backprop_cli.layout.document import Document, TraceJob, build, placed_document
from backprop_cli.layout.header import network_columns
from backprop_cli.layout.rows import Section
from backprop_cli.layout.worksheet import BLANK, Answer
from backprop_cli.model.i18n import _
from backprop_cli.render.diagram import to_mermaid
from backprop_cli.render.math import latex

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$])")  # what can start markup inside a line


def text(value: str) -> str:
    """Prose with Markdown's special characters escaped."""
    return _SPECIAL.sub(r"\\\1", value)


def value(cell: str) -> str:
    """A value cell; a handout's answer is its number, a no-break space (a narrow cell wraps, but never
    between the two), then its value or the blank."""
    if isinstance(cell, Answer):
        return text(cell.label) + "\u00a0" + text(BLANK if cell.shown is None else cell.shown)
    return text(cell)


def code(value: str) -> str:
    """A code span for a table cell: ``|`` escaped (GitHub splits cells before reading code spans)."""
    value = value.replace("|", r"\|")
    fence = "``" if "`" in value else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def table(header: list[str], rows: list[list[str]], *, values: int = 1) -> str:
    """A pipe table, its last ``values`` columns (the numbers) right-aligned."""
    align = ["---"] * (len(header) - values) + ["---:"] * values
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def math_block(tex: str) -> str:
    return f"$$\n{tex}\n$$\n"


def section_table(section: Section) -> str:
    has_formula = any(row.formula for row in section.rows)
    has_written = any(row.written for row in section.rows)
    header = [_("name")] + [_("formula")] * has_formula + [_("written out")] * has_written + [_("value")]
    rows = []
    for row in section.rows:
        cells = [code(row.name)]
        if has_formula:
            cells.append(code(row.formula) if row.formula else "")
        if has_written:
            cells.append(code(row.written) if row.written else "")
        cells.append(value(row.value))
        rows.append(cells)
    return table(header, rows)


def sample_table(folded: SampleTable) -> str:
    """A compact document's table: a row per quantity, a column of values per sample."""
    has_formula = any(row.formula for row in folded.rows)
    has_written = any(row.written for row in folded.rows)
    columns = folded.columns
    written = _("written out ({column})").format(column=columns[0])
    header = [_("name")] + [_("formula")] * has_formula + [written] * has_written + list(columns)
    rows = []
    for row in folded.rows:
        cells = [code(row.name)]
        if has_formula:
            cells.append(code(row.formula) if row.formula else "")
        if has_written:
            cells.append(code(row.written) if row.written else "")
        cells += [value(v) for v in row.values]
        rows.append(cells)
    return table(header, rows, values=len(columns))


def render(doc: Document) -> str:
    """The whole document as one Markdown string."""
    out = [f"# {text(doc.title)}\n"]
    if doc.description:
        out.append(text(doc.description) + "\n")
    if doc.program:
        fence = "````" if any("```" in line for line in doc.program) else "```"
        out.append(f"{fence}text\n" + "".join(line + "\n" for line in doc.program) + f"{fence}\n")
    if doc.graph is not None:  # GitHub draws a mermaid block; Mermaid places the nodes itself
        out.append("```mermaid\n" + to_mermaid(doc.graph.diagram) + "```\n")
        out.append(f"*{text(doc.graph.title)}*\n")
    if doc.network:
        out.append(table(network_columns(), [[text(c) for c in row] for row in doc.network], values=0))
    out.append("".join(f"- {text(line)}\n" for line in (*doc.facts, *doc.instructions)))
    if doc.matrix:
        out += matrix_view(doc)
    for part, placed_list in placed_document(doc):
        out.append(f"## {text(part.heading)}\n")
        for placed in placed_list:
            section, maths = placed.section, placed.maths
            if placed.phase_title:
                out.append(f"### {placed.phase_title}\n")
            if placed.subtitle:
                out.append(f"#### {text(placed.subtitle)}\n")
            out += [math_block(tex) for tex in maths.ops_latex]
            if maths.chain:
                out.append(_("The chain rule for this layer:") + "\n")
                out += [math_block(latex(eq)) for eq in maths.chain]
            out.append(sample_table(placed.table) if placed.table else section_table(section))
            note = placed.table.note if placed.table else section.note
            if note:
                out.append(f"*{text(note)}*\n")
            if maths.worked:
                out.append(
                    _("Worked for neuron 1, with the numbers of {whose}:").format(whose=placed.numbers_of) + "\n"
                )
                out += [math_block(latex(eq)) for eq in maths.worked]
    if doc.notice:
        out.append(f"*{text(doc.notice)}*\n")
    if doc.closing:
        out.append(f"**{text(doc.closing)}**\n")
    return "\n".join(out)


def matrix_view(doc: Document) -> list[str]:
    """The matrix view's steps: an equation of matrices per ``$$`` block, its entries worked below it."""
    from backprop_cli.render.matrix_view import equation_latex

    out = []
    for step in doc.matrix:
        out.append(f"## {text(step.heading)}\n")
        for section in step.sections:
            out.append(f"### {text(section.title)}\n")
            for eq in section.equations:
                out.append(math_block(equation_latex(eq)))
                if eq.worked:
                    out.append("".join(f"- {code(r.name)} = {code(r.written)} = {text(r.value)}\n" for r in eq.worked))
                if eq.why:
                    out.append(f"*{text(eq.why)}*\n")
            if section.note:
                out.append(f"*{text(section.note)}*\n")
    return out


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(render(build(job)))


def write_document(doc: Document, stream: TextIO, width: int | None = None) -> None:
    """A document already laid out (an expression's trace): ``width`` is for terminal images only."""
    stream.write(render(doc))
