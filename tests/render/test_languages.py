"""The default example's trace in Russian and Japanese in every format (golden files), Arabic HTML and
slides right to left, the Russian and Japanese LaTeX and Beamer compiling with pdflatex where the
language packages are installed, and Arabic LaTeX refused with a located line.

After an intended change, regenerate every golden file with one command,
``BACKPROP_UPDATE_GOLDEN=1 pytest tests/render/test_languages.py``, and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main

GOLDEN = Path(__file__).parent.parent / "golden" / "lang"
PLAIN = {"NO_COLOR": None, "FORCE_COLOR": None}
NAME_OR_NUMBER = re.compile(r"\b[a-z]+\.[\w.]+|-?\d+\.\d+")  # out.dL_dw1_1, -0.30875
SUFFIX = {  # every format a trace is written in
    "text": "txt",
    "markdown": "md",
    "html": "html",
    "svg": "svg",
    "latex": "tex",
    "beamer": "beamer.tex",
    "slides": "slides.html",
    "ipynb": "ipynb.json",  # a notebook, kept out of the linters' way too
    "torch": "py.txt",  # a Python script, kept out of the linters' way
    "json": "json",
}
#: formats whose English words are all the trace's (the notebook and script add their own prose and code)
DOCUMENTS = ("text", "markdown", "html", "svg", "latex", "beamer", "slides")


def run(*args: str, env: dict[str, str | None] | None = None) -> str:
    result = CliRunner().invoke(main, ["trace", *args], env={**PLAIN, **(env or {})})
    assert result.exit_code == 0, result.stderr
    return result.output


def traced(lang: str, output_format: str) -> str:
    return run("--lang", lang, "--format", output_format, "--width", "100", "--no-color")


@pytest.mark.parametrize("output_format", sorted(SUFFIX))
@pytest.mark.parametrize("lang", ["ru", "ja"])
def test_golden_render(lang: str, output_format: str) -> None:
    path = GOLDEN / f"two_layer_relu.{lang}.{SUFFIX[output_format]}"
    text = traced(lang, output_format)
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with BACKPROP_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("output_format", sorted(set(SUFFIX) - {"svg"}))  # SVG: the text's, and coordinates
def test_names_formulas_and_numbers_are_the_same_in_every_language(output_format: str) -> None:
    """Only the words change: every name, formula and number of the English trace is in the others."""
    english = traced("en", output_format)
    tokens = set(NAME_OR_NUMBER.findall(english))
    assert len(tokens) > 10
    if output_format in ("text", "markdown", "html", "slides"):  # the others spell or leave out these two
        assert "out.dL_dw1_1" in tokens and "-0.30875" in tokens
    for lang in ("ru", "ja", "ar"):
        if lang == "ar" and output_format in ("latex", "beamer"):
            continue  # refused (below)
        other = traced(lang, output_format)
        assert not tokens - set(NAME_OR_NUMBER.findall(other)), lang


@pytest.mark.parametrize("output_format", DOCUMENTS)
@pytest.mark.parametrize("lang", ["ru", "ja"])
def test_no_english_heading_is_left(lang: str, output_format: str) -> None:
    """The fixed words a document is built of are all translated (the description, names and formulas
    are the config's and stay)."""
    english = traced("en", output_format)
    other = traced(lang, output_format)
    for word in ("Forward pass", "Backward pass", "Summary", "written out", "the chain rule", "Step 1 of 1"):
        if word in english:
            assert word not in other, (lang, word)


def test_english_is_the_default_and_unchanged() -> None:
    golden = (Path(__file__).parent.parent / "golden" / "two_layer_relu.txt").read_text(encoding="utf-8")
    assert run("two_layer_relu", "--width", "100", "--no-color") == golden
    assert run("two_layer_relu", "--width", "100", "--no-color", "--lang", "en") == golden


def test_the_locale_chooses_the_language_and_lang_overrides_it() -> None:
    russian = run("--width", "100", "--no-color", env={"LANGUAGE": None, "LC_ALL": None, "LANG": "ru_RU.UTF-8"})
    assert "Прямой проход · слой hidden (relu)" in russian
    english = run("--width", "100", "--no-color", "--lang", "en", env={"LANGUAGE": None, "LANG": "ru_RU.UTF-8"})
    assert "Forward · layer hidden (relu)" in english


def test_arabic_html_is_right_to_left_with_numbers_left_to_right() -> None:
    page = traced("ar", "html")
    assert '<html lang="ar" dir="rtl">' in page
    assert "td.name, td.formula, td.written, td.value, pre.program, math { direction: ltr;" in page
    assert "<h3>الانتشار الأمامي</h3>" in page
    assert '<td class="value">-0.30875</td>' in page
    assert 'dir="rtl"' not in traced("ru", "html") and '<html lang="en">' in traced("en", "html")
    assert '<html lang="ru">' in traced("ru", "html") and '<html lang="ja">' in traced("ja", "html")


def test_json_is_the_same_in_every_language() -> None:
    english = json.loads(run("--format", "json"))
    assert json.loads(run("--format", "json", "--lang", "ru")) == english


@pytest.mark.parametrize("output_format", ["latex", "beamer"])
def test_arabic_latex_is_the_same_whatever_tex_this_machine_has(output_format: str) -> None:
    """Like the Russian and Japanese documents, the Arabic one does not depend on the TeX installed where it is
    written (no kpsewhich, no pdflatex on PATH here): the package is needed where pdflatex runs."""
    args = ["trace", "--lang", "ar", "--format", output_format]
    here = CliRunner().invoke(main, args, env=PLAIN)
    without_tex = CliRunner().invoke(main, args, env={**PLAIN, "PATH": ""})
    assert here.exit_code == 0 and without_tex.exit_code == 0, here.stderr + without_tex.stderr
    assert without_tex.stdout == here.stdout
    assert "\\usepackage[arabic,english]{babel}" in here.stdout


def test_an_arabic_latex_document_sets_arabic_runs_right_to_left() -> None:
    document = traced("ar", "latex")
    assert "\\usepackage[LAE,LFE,OT1]{fontenc}" in document and "\\usepackage[arabic,english]{babel}" in document
    assert "\\subsubsection*{\\textRL{الانتشار الأمامي}}" in document
    assert "\\texttt{hidden.\\allowbreak{}w1\\_1}" in document  # names stay left-to-right, outside the runs
    assert re.search(r"\\textRL\{[^}]*[A-Za-z0-9]", document) is None  # no Latin letter or digit in a run
    assert "[U+" not in document
    assert "\\textRL" not in traced("en", "latex") and "\\textRL" not in traced("ru", "latex")


def test_arabic_slides_are_right_to_left() -> None:
    deck = traced("ar", "slides")
    assert '<html lang="ar" dir="rtl">' in deck and "svg.network { direction: ltr;" in deck
    assert "<h2>الملخص</h2>" not in traced("en", "slides")
    assert '<html lang="ja">' in traced("ja", "slides") and '<html lang="en">' in traced("en", "slides")


def test_a_russian_or_japanese_latex_document_loads_its_language() -> None:
    russian, japanese, english = (traced(lang, "latex") for lang in ("ru", "ja", "en"))
    assert "\\usepackage[T2A]{fontenc}\n\\usepackage[russian,shorthands=off]{babel}" in russian
    assert "\\section*{Прямой проход}" not in russian and "\\subsubsection*{Прямой проход}" in russian
    assert "\\begin{CJK}{UTF8}{min}" in japanese and japanese.endswith("\\end{CJK}\n\\end{document}\n")
    assert "\\subsubsection*{順伝播}" in japanese
    assert "CJK" not in english and "babel" not in english
    assert "[U+" not in russian + japanese  # every letter is set, none named by its code point
    assert "\\begin{CJK}{UTF8}{goth}" in traced("ja", "beamer")


def test_a_fragment_names_what_the_including_document_loads() -> None:
    fragment = run("--lang", "ja", "--format", "latex", "--fragment")
    assert fragment.startswith("% backprop trace, a LaTeX fragment") and "CJKutf8" in fragment.splitlines()[1]
    assert "\\begin{CJK}{UTF8}{min}" in fragment and fragment.rstrip().endswith("\\end{CJK}")
    assert "babel (russian)" in run("--lang", "ru", "--format", "latex", "--fragment").splitlines()[1]


def _tex_has(*files: str) -> bool:
    """Whether TeX finds every file (kpsewhich, as pdflatex would)."""
    kpsewhich = shutil.which("kpsewhich")
    if shutil.which("pdflatex") is None or kpsewhich is None:
        return False
    found = subprocess.run([kpsewhich, *files], capture_output=True, text=True, timeout=60).stdout.split()
    return len(found) == len(files)


LANGUAGE_FILES = {  # what a language's document needs, and the Debian packages that have it
    "ru": (("t2aenc.def", "russianb.ldf"), "texlive-lang-cyrillic"),
    "ja": (("CJKutf8.sty", "c70min.fd", "c70goth.fd"), "latex-cjk-japanese latex-cjk-japanese-wadalab"),
    "ar": (("arabic.ldf",), "texlive-lang-arabic"),
}
BEAMER_FILES = ("beamer.cls", "pgfcore.sty")


@pytest.mark.parametrize("output_format", ["latex", "beamer"])
@pytest.mark.parametrize("lang", ["ru", "ja", "ar"])
def test_pdflatex_compiles_the_translated_document(lang: str, output_format: str, tmp_path: Path) -> None:
    files, package = LANGUAGE_FILES[lang]
    needed = files + (BEAMER_FILES if output_format == "beamer" else ())
    if not _tex_has(*needed):
        pytest.skip(f"pdflatex with {', '.join(needed)} is not installed (Debian/Ubuntu: {package})")
    (tmp_path / "trace.tex").write_text(traced(lang, output_format), encoding="utf-8")
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "trace.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,  # the first Cyrillic run has METAFONT make its fonts
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "trace.pdf").stat().st_size > 0
    log = (tmp_path / "trace.log").read_text(encoding="utf-8", errors="replace")
    assert "Missing character" not in log  # no letter fell out of the fonts


def _code(source: str) -> str:
    """A program's syntax tree without its comments (which the tree drops) and its module docstring."""
    import ast

    tree = ast.parse(source)
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant):
        tree.body = tree.body[1:]
    return ast.dump(tree)


@pytest.mark.parametrize("lang", ["ru", "ja", "ar"])
def test_a_translated_notebook_is_the_same_program_with_translated_prose(lang: str) -> None:
    from backprop_cli.render.notebook import code_cells
    from tests.render.test_notebook import run_notebook

    english, other = (json.loads(run("xor", "--lang", code, "--format", "ipynb")) for code in ("en", lang))
    assert [c["cell_type"] for c in other["cells"]] == [c["cell_type"] for c in english["cells"]]
    assert [_code(c) for c in code_cells(other)] == [_code(c) for c in code_cells(english)]
    assert code_cells(other) != code_cells(english)  # its comments are translated
    markdown = "".join("".join(c["source"]) for c in other["cells"] if c["cell_type"] == "markdown")
    for english_words in ("Forward pass", "Run the cells in order", "Change any of them", "## Step 1 ·"):
        assert english_words not in markdown, english_words
    assert "$$Z = A_{\\text{in}} W^{\\mathsf{T}} + b,\\quad A = f(Z)$$" in markdown  # the math is the same
    assert run_notebook(other) == run_notebook(english)
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install nbformat)")
    nbformat.validate(nbformat.reads(json.dumps(other), as_version=4))


@pytest.mark.parametrize("lang", ["ru", "ja", "ar"])
def test_a_translated_script_is_the_same_program_with_translated_comments(lang: str, tmp_path: Path) -> None:
    import sys

    english, other = (run("xor", "--lang", code, "--format", "torch") for code in ("en", lang))
    assert _code(other) == _code(english) and other != english
    assert "# name, fan-in" not in other and "replayed in PyTorch autograd" not in other
    if lang != "ja":
        return  # one run in torch is enough: the programs are the same (above)
    pytest.importorskip("torch", reason="torch is not installed (the script needs it to run)")
    printed = []
    for index, source in enumerate((english, other)):
        script = tmp_path / f"trace{index}.py"
        script.write_text(source, encoding="utf-8")
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        printed.append(done.stdout)
    assert printed[0] == printed[1] and "dL_dw1_1 = " in printed[0]  # the same names and numbers


@pytest.mark.parametrize("lang", ["ru", "ja", "ar"])
def test_every_translated_slide_fits_1280_by_720_in_chromium(lang: str, tmp_path: Path) -> None:
    from tests.render.test_slides import CHROMIUM, NO_CHROMIUM, _chromium

    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    deck = tmp_path / "deck.html"
    deck.write_text(traced(lang, "slides"), encoding="utf-8")
    result = _chromium(tmp_path, "--dump-dom", deck.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert 'data-ready="true"' in dom  # the script ran to its end
    slides = re.findall(r'<section class="slide[^"]*" id="slide-(\d+)"[^>]*data-overflow="(\w+)"', dom)
    assert len(slides) == dom.count('<section class="slide') > 10
    assert [number for number, over in slides if over != "false"] == []  # longer words still fit (shrunk at most)
