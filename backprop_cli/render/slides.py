"""The trace as a self-contained HTML slide deck: 1280×720 slides scaled to the window, revealed a key at
a time, with no external assets (inline CSS, one inline script, the network as inline SVG, equations as
MathML, which browsers render natively).

Pure layout of :mod:`backprop_cli.layout.slides`. Keys: → Space PageDown Enter (next), ← PageUp
Backspace (back), Home, End, ``a`` (the whole slide at once); ``#5`` in the address opens slide 5,
``#5.3`` after three reveals, ``#5.all`` whole. Printing shows every slide whole. After loading, the
script shrinks a slide's type (to 60 % at most) where its content would not fit, and records each
slide's scale and whether it still overflows (``data-scale``, ``data-overflow``), which the tests read.
"""

from __future__ import annotations

from html import escape
from typing import TextIO

from backprop_cli.layout.document import Document, TraceJob, build
from backprop_cli.layout.header import network_columns
from backprop_cli.layout.slides import Deck, Slide, deck
from backprop_cli.model.i18n import _, current, is_rtl
from backprop_cli.render.math import mathml
from backprop_cli.render.pictures import network_svg

STYLE = """
html, body { margin: 0; height: 100%; background: #2b2f36; overflow: hidden; }
.slide { position: absolute; left: 50%; top: 50%; width: 1280px; height: 720px; box-sizing: border-box;
  padding: 26px 44px; background: #fff; color: #1f2328; font: 22px/1.3 system-ui, sans-serif;
  display: none; overflow: hidden; transform: translate(-50%, -50%); }
.slide.current { display: block; }
.heading { font-size: 16px; color: #57606a; }
h1 { font-size: 40px; margin: 60px 0 12px; }
h2 { font-size: 30px; margin: 4px 0 14px; }
.body { display: flex; gap: 28px; align-items: flex-start; }
.main { flex: 1; min-width: 0; }
.side { width: 320px; flex: none; }
table { border-collapse: collapse; margin: 0 0 10px; }
th, td { padding: 3px 12px; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #8c959f; font-size: 0.8em; color: #57606a; }
tbody tr:nth-child(even) { background: #f3f5f7; }
td.name, td.formula, td.written { font-family: ui-monospace, monospace; font-size: 0.85em; }
td.value, th.value { text-align: right; font-weight: bold; font-variant-numeric: tabular-nums; }
td.name { color: #0b5cad; white-space: nowrap; }
.note { color: #57606a; font-style: italic; font-size: 0.85em; }
math[display="block"] { margin: 10px 0; font-size: 1.15em; }
.hidden { visibility: hidden; }
.counter { position: absolute; right: 20px; bottom: 12px; font-size: 14px; color: #8c959f; }
ul.facts { font-size: 0.8em; }
svg.network circle { fill: #f3f5f7; stroke: #8c959f; stroke-width: 1.5; }
svg.network circle.lit { fill: #ffd8b5; stroke: #bc4c00; stroke-width: 2.5; }
svg.network line { stroke: #d0d7de; stroke-width: 1; }
svg.network line.lit { stroke: #bc4c00; stroke-width: 1.5; }
svg.network text { font: 13px system-ui, sans-serif; fill: #57606a; text-anchor: middle; }
svg.network text.lit { fill: #bc4c00; font-weight: bold; }
@media print {
  html, body { height: auto; overflow: visible; background: #fff; }
  .slide { display: block; position: relative; left: 0; top: 0; transform: none; page-break-after: always; }
  .hidden { visibility: visible; }
}
""".strip()

#: a right-to-left deck (Arabic): prose and headings run right to left; names, formulas, numbers and
#: equations keep their left-to-right order, each cell isolated; the network picture stays as drawn
RTL_STYLE = (
    "\n"
    + """
th, td { text-align: right; }
td.name, td.formula, td.written, td.value, math, svg.network { direction: ltr; unicode-bidi: isolate; }
td.value, th.value { text-align: left; }
.counter { right: auto; left: 20px; direction: ltr; unicode-bidi: isolate; }
""".strip()
)

SCRIPT = """
(function () {
  var slides = Array.prototype.slice.call(document.querySelectorAll(".slide"));
  var at = 0, shown = 0;
  function steps(s) { return Number(s.getAttribute("data-steps")); }
  function show() {
    slides.forEach(function (s, n) { s.classList.toggle("current", n === at); });
    var slide = slides[at];
    slide.querySelectorAll("[data-f]").forEach(function (e) {
      e.classList.toggle("hidden", Number(e.getAttribute("data-f")) > shown);
    });
    slide.querySelector(".counter").textContent = (at + 1) + " / " + slides.length;
    history.replaceState(null, "", "#" + (at + 1) + (shown ? "." + shown : ""));
  }
  function next() {
    if (shown < steps(slides[at])) { shown += 1; } else if (at < slides.length - 1) { at += 1; shown = 0; }
    show();
  }
  function back() {
    if (shown > 0) { shown -= 1; } else if (at > 0) { at -= 1; shown = steps(slides[at]); }
    show();
  }
  function scale() {
    var s = Math.min(window.innerWidth / 1280, window.innerHeight / 720);
    slides.forEach(function (slide) { slide.style.transform = "translate(-50%, -50%) scale(" + s + ")"; });
  }
  function fit() {  // shrink the type of a slide whose content does not fit, and say so
    slides.forEach(function (slide) {
      slide.classList.add("current");
      var size = 100;
      while ((slide.scrollHeight > slide.clientHeight || slide.scrollWidth > slide.clientWidth) && size > 60) {
        size -= 5;
        slide.style.fontSize = (22 * size / 100) + "px";
      }
      slide.setAttribute("data-scale", String(size / 100));
      var over = slide.scrollHeight > slide.clientHeight || slide.scrollWidth > slide.clientWidth;
      slide.setAttribute("data-overflow", String(over));
      slide.classList.remove("current");
    });
  }
  document.addEventListener("keydown", function (e) {
    var key = e.key;
    if (key === "ArrowRight" || key === " " || key === "PageDown" || key === "Enter") { next(); }
    else if (key === "ArrowLeft" || key === "PageUp" || key === "Backspace") { back(); }
    else if (key === "Home") { at = 0; shown = 0; show(); }
    else if (key === "End") { at = slides.length - 1; shown = steps(slides[at]); show(); }
    else if (key === "a") { shown = steps(slides[at]); show(); }
    else { return; }
    e.preventDefault();
  });
  document.addEventListener("click", next);
  window.addEventListener("resize", scale);
  fit();
  var place = /^#(\\d+)(?:\\.(\\d+|all))?$/.exec(location.hash);
  if (place) {
    at = Math.min(Math.max(Number(place[1]) - 1, 0), slides.length - 1);
    shown = place[2] === "all" ? steps(slides[at]) : Math.min(Number(place[2] || 0), steps(slides[at]));
  }
  scale();
  show();
  document.body.setAttribute("data-ready", "true");
}());
""".strip()


def _fragment(tag: str, css: str, text: str, when: int) -> str:
    return f'<{tag} class="{css} hidden" data-f="{when}">{escape(text)}</{tag}>'


def table(slide: Slide) -> str:
    """The slide's table: each row's name and formula appear first, its numbers at the next key."""
    header = [_("name")] + [_("formula")] * slide.has_formula + [slide.written_heading] * bool(slide.written_heading)
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    head += "".join(f'<th class="value">{escape(c)}</th>' for c in slide.columns)
    body = []
    for row, (first, then) in zip(slide.rows, slide.reveals(), strict=True):
        cells = [_fragment("td", "name", row.name, first)]
        if slide.has_formula:
            cells.append(_fragment("td", "formula", row.formula, first))
        if slide.written_heading:
            cells.append(_fragment("td", "written", row.written, then))
        cells += [_fragment("td", "value", value, then) for value in row.values]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def slide_html(slide: Slide, number: int) -> str:
    out = [f'<section class="slide" id="slide-{number}" data-steps="{slide.steps}">']
    out.append(f'<div class="heading">{escape(slide.heading)}</div>\n<h2>{escape(slide.title)}</h2>')
    out.append('<div class="body">\n<div class="main">')
    if slide.kind == "table":
        out.append(table(slide))
    else:
        for (when, _then), equation in zip(slide.reveals(), slide.chain, strict=True):
            out.append(f'<math display="block" class="hidden" data-f="{when}">{mathml(equation)}</math>')
    if slide.note:
        out.append(f'<p class="note">{escape(slide.note)}</p>')
    out.append("</div>")
    if slide.picture is not None:
        out.append(f'<div class="side">{network_svg(slide.picture)}</div>')
    out.append('</div>\n<div class="counter"></div>\n</section>')
    return "\n".join(out)


def title_html(d: Deck) -> str:
    out = ['<section class="slide" id="slide-1" data-steps="0">', f"<h1>{escape(d.title)}</h1>"]
    if d.description:
        out.append(f"<p>{escape(d.description)}</p>")
    out.append('<div class="body">\n<div class="main">')
    if d.network:
        head = "".join(f"<th>{escape(column)}</th>" for column in network_columns())
        rows = "\n".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in d.network)
        out.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>")
    out.append('<ul class="facts">\n' + "".join(f"<li>{escape(line)}</li>\n" for line in d.facts) + "</ul>")
    out.append("</div>")
    if d.picture is not None:
        out.append(f'<div class="side">{network_svg(d.picture)}</div>')
    out.append('</div>\n<div class="counter"></div>\n</section>')
    return "\n".join(out)


def render(doc: Document) -> str:
    """The whole deck as one page."""
    d = deck(doc)
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{current()}" dir="rtl">' if is_rtl() else f'<html lang="{current()}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(d.title)}</title>",
        f"<style>\n{STYLE}{RTL_STYLE if is_rtl() else ''}\n</style>",
        "</head>",
        "<body>",
        title_html(d),
    ]
    out += [slide_html(slide, number) for number, slide in enumerate(d.slides, start=2)]
    if d.closing or d.notice:
        number = len(d.slides) + 2
        lines = "".join(f"<p>{escape(line)}</p>" for line in (d.notice, d.closing) if line)
        summary = escape(_("Summary"))
        out.append(f'<section class="slide" id="slide-{number}" data-steps="0">\n<h2>{summary}</h2>\n{lines}')
        out.append('<div class="counter"></div>\n</section>')
    out += [f"<script>\n{SCRIPT}\n</script>", "</body>", "</html>", ""]
    return "\n".join(out)


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(render(build(job)))


def write_document(doc: Document, stream: TextIO, width: int | None = None) -> None:
    """A document already laid out (an expression's trace): ``width`` is for terminal images only."""
    stream.write(render(doc))
