"""Compact documents: a batch's per-sample sections folded into one table per phase and layer."""

from __future__ import annotations

from backprop_cli.layout.compact import SAMPLE_SLOT, SampleTable, fold, generic_title
from backprop_cli.layout.rows import Row, Section
from tests.render.formats_helpers import markdown_values, trace


def _forward(sample: int, x: str, z: str, formula: str = "out.w1_1·x") -> Section:
    rows = (Row(f"step1/sample{sample + 1}/out.z1", formula, f"0·{x}", z),)
    return Section(
        1, "forward", f"Forward · layer out (identity) · sample {sample + 1}", "out", sample, rows, "z = W·a"
    )


def test_samples_of_a_layer_fold_into_columns_where_the_first_sample_stood() -> None:
    batch = Section(1, "loss", "Batch loss", "out", None, (Row("step1/loss", "", "", "18.6667"),))
    folded = fold([_forward(0, "1", "0"), batch, _forward(1, "2", "0"), _forward(2, "3", "0")], per_table=6)
    assert len(folded) == 2 and folded[1] is batch
    table = folded[0]
    assert isinstance(table, SampleTable)
    assert table.title == "Forward · layer out (identity)" and table.columns == ("sample1", "sample2", "sample3")
    (row,) = table.rows
    assert row.name == f"step1/{SAMPLE_SLOT}/out.z1" and row.formula == "out.w1_1·x"
    assert row.written == "0·1"  # the first sample's numbers, under the heading that names it
    assert list(table.names()) == [(f"step1/sample{k}/out.z1", "0") for k in (1, 2, 3)]
    assert table.note == "z = W·a" and table.first.sample == 0


def test_a_batch_wider_than_a_table_continues_in_the_next() -> None:
    folded = fold([_forward(s, str(s), str(s)) for s in range(5)], per_table=2)
    assert [t.samples for t in folded if isinstance(t, SampleTable)] == [(0, 1), (2, 3), (4,)]


def test_samples_whose_formulas_differ_stay_unfolded() -> None:
    sections = [_forward(0, "1", "0"), _forward(1, "2", "0", formula="out.w1_1·x + out.b1")]
    assert fold(sections, per_table=6) == sections
    assert generic_title(sections[1]) == "Forward · layer out (identity)"


def test_inputs_fold_with_their_data_row_as_n() -> None:
    rows = [
        Section(
            1,
            "forward",
            f"Inputs · sample {s + 1}",
            None,
            s,
            (Row(f"sample{s + 1}/x", f"data row {s + 1}", "", str(s)),),
        )
        for s in (0, 1)
    ]
    (table,) = fold(rows, per_table=6)
    assert isinstance(table, SampleTable) and table.rows[0].formula == "data row N"


def test_lr_just_right_step_one_side_by_side() -> None:
    # w = 0, x = 1, 2, 3, y = 2x, mse on one output: ∂L/∂w = 2·(w·x − y)·x = −4x² = −4, −16, −36 per sample
    out = trace("lr_just_right", "--format", "markdown", "--step", "1")
    assert "| `step1/sampleN/out.dL_dw1_1` | `out.delta1 × x` | `(-4) × 1` | -4 | -16 | -36 |" in out
    values = dict(markdown_values(out))
    assert values["step1/sample3/out.dL_dw1_1"] == "-36"
    assert values["step1/out.dL_dw1_1"] == "-18.6667"  # their mean, (−4 − 16 − 36) / 3
    assert out.count("z_j = \\sum_i w_{ji}") == 1  # the forward equation once, not once per sample
    assert "samples side by side" in out  # a fact line says how to read the names


def test_equations_once_per_document_worked_neuron_once_per_step() -> None:
    out = trace("lr_just_right", "--format", "markdown", "--step", "1", "--step", "2")
    assert out.count("The chain rule for this layer:") == 1
    assert out.count("Worked for neuron 1, with the numbers of sample1 in the table:") == 2
    full = trace("lr_just_right", "--format", "markdown", "--step", "1", "--step", "2", "--no-compact")
    assert full.count("The chain rule for this layer:") == 2  # the full layout: once per step and layer
    assert full.count("z_j = \\sum_i w_{ji}") == 6  # and the forward equation once per section


def test_one_sample_runs_are_full_unless_asked() -> None:
    assert trace("classic_2_2_2", "--format", "markdown") == trace(
        "classic_2_2_2", "--format", "markdown", "--no-compact"
    )
    compact = trace("pytorch_snippet", "--format", "latex", "--compact")
    assert compact.startswith("\\documentclass") and "[a4paper,margin=1.5cm]" in compact  # portrait
    assert "landscape" in trace("pytorch_snippet", "--format", "latex")
