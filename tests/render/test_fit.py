"""Fitting tables: whole on one line when they fit, folded (never cut with "…") when they do not."""

from __future__ import annotations

import dataclasses
import io
import re

from rich.console import Console
from rich.table import Table

from backprop_cli.render.fit import Fitting, column_style


def render(width: int) -> str:
    def build(whole: bool) -> Table:
        table = Table()
        for name in ("name", "value"):
            table.add_column(name, **column_style(whole))  # type: ignore[arg-type]
        table.add_row("out.dL_dw1_2", "-0.000123456789")
        return table

    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(Fitting(build))
    return out.getvalue()


def test_a_table_that_fits_keeps_each_name_and_number_on_one_line() -> None:
    text = render(60)
    assert "out.dL_dw1_2" in text and "-0.000123456789" in text


def test_a_table_too_wide_folds_and_loses_no_character() -> None:
    text = render(24)
    assert "…" not in text and "-0.000123456789" not in text  # folded onto further lines
    body = [line.strip("│").split("│") for line in text.splitlines() if line.startswith("│")]
    assert len(body) > 1
    assert ["".join(cell.strip() for cell in column) for column in zip(*body, strict=True)] == [
        "out.dL_dw1_2",
        "-0.000123456789",
    ]


def test_wrap_breaks_at_spaces_then_between_tokens_never_inside_a_name_or_number() -> None:
    from backprop_cli.render.fit import atoms, longest_atom, wrap

    assert wrap("h.w1_1·x1 + h.w1_2·x2 + h.b1", 12) == ["h.w1_1·x1 +", "h.w1_2·x2 +", "h.b1"]
    assert wrap("e^(−(-0.0728321)))", 13) == ["e^(−(", "-0.0728321)))"]
    assert atoms("(-0.476776)·step2/sample1/h.a1") == ["(", "-0.476776", ")", "·", "step2/sample1/h.a1"]
    assert atoms("3/4·1.5e-05") == ["3/4", "·", "1.5e-05"]
    assert longest_atom("0.5·sample12/o.dL_dw1_2 + 1") == len("sample12/o.dL_dw1_2")
    assert wrap("", 5) == [""] and wrap("abcdefgh", 3) == ["abcdefgh"]  # a token wider than the line: whole


def _formula_table(width: int) -> str:
    from backprop_cli.render.fit import FormulaTable

    rows = [
        ("step1/sample1/loss.term1", ["(o.a1 − y1)² / 2", "(0.371812 − 0)² / 2"], "0.0691221"),
        ("step1/sample1/h.z1", ["h.w1_1·x1 + h.w1_2·x2 + h.w1_3·x3 + h.b1", "0.0218894·0.4 + (-0.658888)·0.6"], "0.03"),
    ]
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(FormulaTable(rows, ["formula", "written out"]))
    return out.getvalue()


def test_a_formula_table_keeps_names_whole_and_fits_at_every_width() -> None:
    for width in range(36, 121):
        text = _formula_table(width)
        lines = text.splitlines()
        assert max(len(line.rstrip()) for line in lines) <= width, width
        for name in ("step1/sample1/loss.term1", "step1/sample1/h.z1"):
            assert any(line.startswith(name) for line in lines), (width, text)
        for token in ("h.w1_1", "h.w1_3", "x3", "h.b1", "0.0218894", "-0.658888", "0.371812", "0.0691221"):
            assert re.search(rf"(?<![\w.]){re.escape(token)}(?![\w.])", text), (width, token, text)


def _both(table: object, width: int) -> tuple[str, str]:
    """The table as written (the plain lines where they apply) and as rich lays it out, cleaned alike."""
    from backprop_cli.render.console import SafeConsole
    from backprop_cli.render.fit import FormulaTable

    assert isinstance(table, FormulaTable)
    ours, theirs = io.StringIO(), io.StringIO()
    SafeConsole(file=ours, width=width, color_system=None).print(table)
    SafeConsole(file=theirs, width=width, color_system=None).print(table.layout(width))
    return ours.getvalue(), theirs.getvalue()


def test_the_plain_lines_are_what_rich_writes_at_every_width() -> None:
    """Without styles the side-by-side layout is written by fit.py, not rich: the same text, byte for
    byte, where it applies (wide and narrowed formula columns, the min_width share-out, a caption)."""
    from rich.text import Text

    from backprop_cli.render.fit import FormulaTable

    rows = [
        ("step1/sample1/loss.term1", ["(o.a1 − y1)² / 2", "(0.371812 − 0)² / 2"], "0.0691221"),
        ("step1/sample1/h.z1", ["h.w1_1·x1 + h.w1_2·x2 + h.w1_3·x3 + h.b1", "0.0218894·0.4 + (-0.658888)·0.6"], "0.03"),
        ("h.a1", ["", "max(0, 0.475)"], "-1.5"),
    ]
    short: list[tuple[str, list[str], str]] = [("x1", [], "1"), ("y1", [], "0.25")]
    applied = 0
    for width in range(20, 141):
        for table in (
            FormulaTable(
                rows, ["formula", "written out"], title=Text("Forward · layer h"), caption=Text("z = W·a + b")
            ),
            FormulaTable(short, [], title=Text("Parameters")),
            FormulaTable([("名前.z1", ["ж·x1"], "0.5")], ["формула"], title=Text("前向き")),
        ):
            applied += table.plain_lines(width) is not None
            ours, theirs = _both(table, width)
            assert ours == theirs, (width, ours, theirs)
    assert applied > 200  # the plain path was taken, not only rich's


def test_rich_lays_out_what_the_plain_lines_do_not_take() -> None:
    from rich.text import Text

    from backprop_cli.render.fit import FormulaTable

    tab = FormulaTable([("a\tb", ["x"], "1")], ["formula"])
    markup = FormulaTable([("a", ["x"], "1")], ["[b]formula[/b]"])
    long_title = FormulaTable([("a", ["x"], "1")], ["formula"], title=Text("a title much wider than its table " * 3))
    for table in (tab, markup, long_title):
        assert table.plain_lines(100) is None
        ours, theirs = _both(table, 100)
        assert ours == theirs


def _printed_both(renderable: object, width: int) -> tuple[str, str]:
    """``renderable`` printed by SafeConsole (fit.py's lines where they apply) and by rich's own print."""
    from rich.console import Console

    from backprop_cli.render.console import SafeConsole

    ours, theirs = io.StringIO(), io.StringIO()
    SafeConsole(file=ours, width=width, color_system=None, highlight=False, emoji=False).print(renderable)
    rich_console = SafeConsole(file=theirs, width=width, color_system=None, highlight=False, emoji=False)
    Console.print(rich_console, renderable)  # rich's print, through the same cleaning hook
    return ours.getvalue(), theirs.getvalue()


def _header_kinds() -> list[object]:
    """Trace headers (title, network table, facts) of examples with and without descriptions, plus texts
    and rules of the kinds a trace prints: wrapped, folded, blank lines, leading and trailing spaces, CJK."""
    from rich.console import Group
    from rich.rule import Rule
    from rich.text import Text

    from backprop_cli.cli.kit import load
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.render.terminal import header

    kinds: list[object] = []
    for name in ("two_layer_relu", "classic_2_2_2", "conv_cs231n"):
        spec, _ = load(name, None)
        kinds.append(header(spec, 3, NumberFormat(6)))
        spec = dataclasses.replace(spec, description="")
        kinds.append(header(spec, 1, NumberFormat(6), exact=True))
    kinds += [
        Rule(Text("Step 1 of 1 · batch: data row 1")),
        Rule(Text("Schritt 12 von 300 · Stapel: Datenzeilen 1–4")),
        Rule(Text("ステップ 1 / 1")),
        Text("The source article's two-layer network: ReLU hidden layer, linear output, squared error", style="italic"),
        Text("  indented line   \n\nsupercalifragilisticexpialidocious_name_without_spaces end\n"),
        Text("loss went from 0.25 to 0.125 over 3 steps (名前 ネットワーク)", style="bold"),
        Text("shown: 200 of 1000 rows; --max-rows 0 shows all", style="yellow"),
        Group(Text("a"), Rule(Text("b")), Text("")),
    ]
    return kinds


def test_the_plain_headers_rules_and_texts_are_what_rich_writes_at_every_width() -> None:
    from backprop_cli.render.console import SafeConsole
    from backprop_cli.render.fit import plain_lines

    probe = SafeConsole(file=io.StringIO(), width=80, color_system=None)
    applied = 0
    kinds = _header_kinds()
    for width in range(20, 141):
        probe.width = width
        for renderable in kinds:
            applied += plain_lines(probe, renderable, width) is not None
            ours, theirs = _printed_both(renderable, width)
            assert ours == theirs, (width, renderable, ours, theirs)
    assert applied > 121 * 10  # the plain path was taken for most, not only rich's


def test_rich_prints_the_headers_rules_and_texts_the_plain_lines_do_not_take() -> None:
    from rich import box
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    from backprop_cli.render.console import SafeConsole
    from backprop_cli.render.fit import plain_lines

    markup = Table(box=box.SIMPLE)
    markup.add_column("[b]layer[/b]")
    markup.add_row(Text("x"))
    wide = Table(box=box.SIMPLE, title=Text("a title wider than the table"))
    wide.add_column("a")
    wide.add_row(Text("1"))
    styled = Text("a cell with a background   ", style="on red")
    spans = Text("a")
    spans.append("b", style="bold")
    rounded = Table()
    rounded.add_column("a")
    rounded.add_row(Text("1"))
    probe = SafeConsole(file=io.StringIO(), width=60, color_system=None)
    for renderable in (
        markup,
        wide,
        styled,
        spans,
        rounded,
        Text("a\tb"),
        Rule(Text("a title too wide for the rule " * 3)),
        Rule("[b]markup[/b]"),
        Rule(Text("left"), align="left"),
    ):
        assert plain_lines(probe, renderable, 60) is None, renderable
        ours, theirs = _printed_both(renderable, 60)
        assert ours == theirs
