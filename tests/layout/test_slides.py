"""The slide deck as data: a slide per phase and layer, rows revealed formula first, the network lit."""

from __future__ import annotations

from backprop_cli.layout.compact import SAMPLE_SLOT
from backprop_cli.layout.document import build
from backprop_cli.layout.slides import MAX_DRAWN_UNITS, ROWS_PER_SLIDE, Deck, deck, picture
from backprop_cli.loading.config import load_network as load
from tests.layout.test_document import job
from tests.render.formats_helpers import terminal_values, trace


def _deck(example: str) -> Deck:
    return deck(build(job(example)))


def _pairs(d: Deck) -> list[tuple[str, str]]:
    """(whole name, value) of every table cell of the deck."""
    out = []
    for slide in d.slides:
        for row in slide.rows:
            if slide.columns == ("value",):
                out.append((row.name, row.values[0]))
            else:
                out += [
                    (row.name.replace(SAMPLE_SLOT, c, 1), v)
                    for c, v in zip(slide.columns, row.values, strict=True)
                    if v
                ]
    return out


def test_every_number_of_the_trace_is_on_a_slide() -> None:
    for example in ("two_layer_relu", "xor", "softmax_classifier"):
        shown = terminal_values(trace(example, "--width", "300", "--no-color"))
        assert sorted(_pairs(_deck(example))) == sorted(shown), example


def test_a_slide_per_phase_and_layer_with_the_chain_rule_before_the_table() -> None:
    d = _deck("two_layer_relu")
    titles = [(s.kind, s.title) for s in d.slides if "Backward" in s.heading]
    assert titles == [
        ("chain", "Backward · layer out (identity): the chain rule"),
        ("table", "Backward · layer out (identity)"),
        ("worked", "Backward · layer out (identity): neuron 1 worked, with the numbers of the table"),
        ("chain", "Backward · layer hidden (relu): the chain rule"),
        ("table", "Backward · layer hidden (relu) (1 of 2)"),
        ("table", "Backward · layer hidden (relu) (2 of 2)"),
        ("worked", "Backward · layer hidden (relu): neuron 1 worked, with the numbers of the table"),
    ]
    assert all(len(s.rows) <= ROWS_PER_SLIDE for s in d.slides)
    forward = next(s for s in d.slides if s.title == "Forward · layer hidden (relu)")
    assert forward.equations and forward.layer == "hidden"


def test_rows_reveal_their_formula_before_their_numbers() -> None:
    slide = next(s for s in _deck("two_layer_relu").slides if s.title == "Backward · layer out (identity)")
    reveals = slide.reveals()
    assert reveals[0] == (1, 2) and reveals[1] == (3, 4)  # row 1: formula at 1, numbers at 2; row 2 next
    assert slide.steps == 2 * len(slide.rows)
    params = next(s for s in _deck("two_layer_relu").slides if s.title == "Parameters before the update")
    assert params.reveals()[:2] == [(1, 1), (2, 2)]  # a value without a formula: one key


def test_the_picture_lights_the_slide_s_layer() -> None:
    spec, _ = load("two_layer_relu", None)  # 2 inputs, hidden 2 relu, out 1
    art = picture(spec, "hidden")
    assert len(art.circles) == 5 and [c.lit for c in art.circles] == [False, False, True, True, False]
    assert sum(lit for *_, lit in art.lines) == 4  # the 2 × 2 lines into the hidden layer
    assert len(art.lines) == 6
    wide, _ = load("deep_sigmoid", None)
    drawn = picture(wide, None)
    assert len(drawn.circles) == 2 + 5 * 6 + 1 and MAX_DRAWN_UNITS >= 6
    assert not any(label.text == "⋮" for label in drawn.labels)


def test_a_batch_s_samples_share_a_slide() -> None:
    slide = next(s for s in _deck("xor").slides if s.title == "Forward · layer h (sigmoid)")
    assert slide.columns == ("sample1", "sample2", "sample3", "sample4")
    assert slide.written_heading == "written out (sample1)"
