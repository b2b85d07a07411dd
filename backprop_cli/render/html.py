"""The trace as one self-contained HTML page: inline CSS, real tables, the chain rule as MathML.

Pure layout of :mod:`backprop_cli.layout.document`; no scripts, fonts or stylesheets are fetched
(browsers render MathML natively). Every piece of text is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import TextIO

from backprop_cli.layout.compact import SAMPLE_SLOT, SampleTable
from backprop_cli.layout.document import Document, TraceJob, build, placed_document
from backprop_cli.layout.header import network_columns
from backprop_cli.layout.math import Group
from backprop_cli.layout.rows import Section
from backprop_cli.layout.worksheet import BLANK, Answer
from backprop_cli.model.i18n import _, current, is_rtl
from backprop_cli.render.math import mathml
from backprop_cli.render.pictures import GRAPH_STYLE, graph_svg, network_svg

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
th, td { padding: 0.15rem 0.8rem; text-align: left; vertical-align: top; }
thead th { border-bottom: 1px solid #888; }
tbody tr:nth-child(even) { background: #f4f6f8; }
td.name, td.formula, td.written { font-family: ui-monospace, monospace; }
td.value, th.value { text-align: right; font-weight: bold; font-variant-numeric: tabular-nums; }
p.note { color: #555; font-style: italic; margin-top: -0.5rem; }
math[display="block"] { margin: 0.4rem 0; }
pre.program { background: #f4f6f8; padding: 0.5rem 1rem; }
""".strip()

FIGURE_STYLE = """
figure { margin: 0.5rem 0 1rem; }
figcaption { color: #555; font-size: 0.9em; }
""".strip()

#: a right-to-left page (Arabic): prose and headings run right to left, while names, formulas, numbers
#: and equations keep their left-to-right order, each cell isolated so its neighbours cannot reorder it
RTL_STYLE = (
    "\n"
    + """
caption, th, td { text-align: right; }
td.name, td.formula, td.written, td.value, pre.program, math { direction: ltr; unicode-bidi: isolate; }
td.value, th.value { text-align: left; }
""".strip()
)


def _cell(value: str, css: str) -> str:
    return f'<td class="{css}">{escape(value)}</td>'


def _value(cell: str) -> str:
    """A value cell's content; a handout's answer is its number, a no-break space (a narrow cell wraps,
    but never between the two), then its value or the blank."""
    if isinstance(cell, Answer):
        return escape(cell.label) + "&nbsp;" + escape(BLANK if cell.shown is None else cell.shown)
    return escape(cell)


def section_table(section: Section) -> str:
    has_formula = any(row.formula for row in section.rows)
    has_written = any(row.written for row in section.rows)
    header = [_("name")] + [_("formula")] * has_formula + [_("written out")] * has_written
    head = "".join(f"<th>{escape(column)}</th>" for column in header) + f'<th class="value">{escape(_("value"))}</th>'
    body = []
    for row in section.rows:
        cells = [_cell(row.name, "name")]
        if has_formula:
            cells.append(_cell(row.formula, "formula"))
        if has_written:
            cells.append(_cell(row.written, "written"))
        cells.append(f'<td class="value">{_value(row.value)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n"


def sample_table(folded: SampleTable) -> str:
    """A compact document's table: a row per quantity, a column of values per sample, each value cell
    carrying its quantity's whole name (``data-name``)."""
    has_formula = any(row.formula for row in folded.rows)
    has_written = any(row.written for row in folded.rows)
    columns = folded.columns
    written = _("written out ({column})").format(column=columns[0])
    header = [_("name")] + [_("formula")] * has_formula + [written] * has_written
    head = "".join(f"<th>{escape(c)}</th>" for c in header) + "".join(f'<th class="value">{c}</th>' for c in columns)
    body = []
    for row in folded.rows:
        cells = [_cell(row.name, "name")]
        if has_formula:
            cells.append(_cell(row.formula, "formula"))
        if has_written:
            cells.append(_cell(row.written, "written"))
        for column, value in zip(columns, row.values, strict=True):
            whole = escape(row.name.replace(SAMPLE_SLOT, column, 1))
            cells.append(f'<td class="value" data-name="{whole}">{_value(value)}</td>' if value else "<td></td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n"


def block(equation: Group) -> str:
    return f'<math display="block">{mathml(equation)}</math>\n'


def matrix_view(doc: Document) -> list[str]:
    """The matrix view's steps: each equation of matrices as MathML, its entries worked below it."""
    from backprop_cli.render.matrix_view import equation_mathml

    out = []
    for step in doc.matrix:
        out.append(f"<section>\n<h2>{escape(step.heading)}</h2>")
        for section in step.sections:
            out.append(f"<h3>{escape(section.title)}</h3>")
            for eq in section.equations:
                out.append(equation_mathml(eq))
                if eq.worked:
                    items = "".join(
                        f"<li><code>{escape(r.name)}</code> = <code>{escape(r.written)}</code> = {escape(r.value)}</li>"
                        for r in eq.worked
                    )
                    out.append(f"<ul>{items}</ul>")
                if eq.why:
                    out.append(f'<p class="note">{escape(eq.why)}</p>')
            if section.note:
                out.append(f'<p class="note">{escape(section.note)}</p>')
        out.append("</section>")
    return out


def _picture_style(doc: Document) -> str:
    """The style of the pictures the page draws (none when it draws none)."""
    style = [FIGURE_STYLE] if doc.picture is not None or doc.graph is not None else []
    style += [GRAPH_STYLE] * (doc.graph is not None)
    return "".join("\n" + part for part in style)


def render(doc: Document) -> str:
    """The whole page as one string."""
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{current()}" dir="rtl">' if is_rtl() else f'<html lang="{current()}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(doc.title)}</title>",
        f"<style>\n{STYLE}{_picture_style(doc)}{RTL_STYLE if is_rtl() else ''}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(doc.title)}</h1>",
    ]
    if doc.description:
        out.append(f"<p>{escape(doc.description)}</p>")
    if doc.program:
        out.append('<pre class="program">' + escape("\n".join(doc.program)) + "</pre>")
    if doc.graph is not None:
        caption = f"<figcaption>{escape(doc.graph.title)}</figcaption>"
        out.append(f'<figure class="graph">\n{graph_svg(doc.graph)}\n{caption}\n</figure>')
    if doc.network:
        head = "".join(f"<th>{escape(column)}</th>" for column in network_columns())
        rows = "\n".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in doc.network)
        out.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>")
    if doc.picture is not None:
        out.append(f'<figure class="network">{network_svg(doc.picture)}</figure>')
    out.append("<ul>\n" + "".join(f"<li>{escape(line)}</li>\n" for line in (*doc.facts, *doc.instructions)) + "</ul>")
    if doc.matrix:
        out += matrix_view(doc)
    for part, placed_list in placed_document(doc):
        out.append(f"<section>\n<h2>{escape(part.heading)}</h2>")
        for placed in placed_list:
            section, maths = placed.section, placed.maths
            if placed.phase_title:
                out.append(f"<h3>{escape(placed.phase_title)}</h3>")
            if placed.subtitle:
                out.append(f"<h4>{escape(placed.subtitle)}</h4>")
            if maths.chain:
                chain = escape(_("The chain rule for this layer:"))
                out.append(f"<p>{chain}</p>\n" + "".join(block(eq) for eq in maths.chain))
            out.append(sample_table(placed.table) if placed.table else section_table(section))
            note = placed.table.note if placed.table else section.note
            if note:
                out.append(f'<p class="note">{escape(note)}</p>')
            if maths.worked:
                worked = _("Worked for neuron 1, with the numbers of {whose}:").format(whose=placed.numbers_of)
                out.append(f"<p>{escape(worked)}</p>")
                out.append("".join(block(eq) for eq in maths.worked))
        out.append("</section>")
    if doc.notice:
        out.append(f'<p class="note">{escape(doc.notice)}</p>')
    if doc.closing:
        out.append(f"<p><strong>{escape(doc.closing)}</strong></p>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(render(build(job)))


def write_document(doc: Document, stream: TextIO, width: int | None = None) -> None:
    """A document already laid out (an expression's trace): ``width`` is for terminal images only."""
    stream.write(render(doc))
