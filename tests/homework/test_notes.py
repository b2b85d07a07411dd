"""Lecture-note tags: found where they are, compared at their written precision, rewritten as written."""

from __future__ import annotations

from fractions import Fraction

from backprop_cli.homework.notes import broken_tags, find_tags, fixed, matches, rewritten


def test_tags_are_found_with_their_place() -> None:
    text = "line one\nδ = <!-- bp:classic_2_2_2 o.dL_dw1_1 -->0.0822 here\n"
    (tag,) = find_tags(text, "markdown")
    assert (tag.line, tag.col, tag.config, tag.name, tag.number) == (2, 41, "classic_2_2_2", "o.dL_dw1_1", "0.0822")
    assert text[tag.start : tag.end] == "0.0822"
    (latex,) = find_tags(r"a \bp{xor}{step1/loss}{ 0.71 } b", "latex")
    assert (latex.config, latex.name, latex.number) == ("xor", "step1/loss", "0.71")
    assert find_tags("<!-- bp:xor loss -->0.71", "latex") == []  # each kind has its own tag


def test_a_tag_without_its_number_is_reported() -> None:
    text = "<!-- bp:xor loss -->0.7\n<!-- bp:xor loss --> about 0.7"
    assert list(broken_tags(text, "markdown", find_tags(text, "markdown"))) == [(2, 1)]
    latex = r"\bp{xor}{loss}{}"
    assert list(broken_tags(latex, "latex", find_tags(latex, "latex"))) == [(1, 1)]


def test_a_number_matches_within_half_a_unit_of_its_last_digit() -> None:
    # Mazur's o.dL_dw1_1 (classic_2_2_2): 0.08216704…
    value = 0.082167041
    assert matches("0.0822", value) and matches("0.08", value) and matches("0.082167", value)
    assert not matches("0.0823", value) and not matches("0.0821", value) and not matches("0.08218", value)
    assert matches("−24", -24.0) and matches("-2.4e1", -24.0) and not matches("-25", -24.0)
    assert matches("0.333", Fraction(1, 3)) and not matches("0.334", Fraction(1, 3))


def test_a_fix_keeps_the_written_precision_and_style() -> None:
    assert rewritten("0.0900", 0.082167041) == "0.0822"
    assert rewritten("0.08", 0.082167041) == "0.08"
    assert rewritten("−0.5", -0.31) == "−0.3"  # the Unicode minus stays
    assert rewritten("1.2e-05", 1.2345e-5) == "1.2e-05" and rewritten("3E+2", 412.0) == "4E+2"
    assert rewritten("25", -24.0) == "-24"
    text = "a <!-- bp:x y -->1.5 b <!-- bp:x z -->2.5"
    tags = find_tags(text, "markdown")
    assert fixed(text, [(tags[1], "2.25"), (tags[0], "1")]) == "a <!-- bp:x y -->1 b <!-- bp:x z -->2.25"
