"""The names contract: matrices and vectors named like their entries (the matrix view's names)."""

from __future__ import annotations


def test_matrix_names_are_their_entries_names() -> None:
    from backprop_cli.model.names import matrix_names

    assert matrix_names("out.W", 1, 2) == [["out.w1_1", "out.w1_2"]]
    assert matrix_names("step2/h.dL_dW", 2, 1) == [["step2/h.dL_dw1_1"], ["step2/h.dL_dw2_1"]]
    assert matrix_names("h.W.new", 1, 1) == [["h.w1_1.new"]]
    assert matrix_names("sample3/h.delta", 2, 1) == [["sample3/h.delta1"], ["sample3/h.delta2"]]
    assert matrix_names("h.b.new", 1, 2) == [["h.b1.new", "h.b2.new"]]  # a vector written as one row
    assert matrix_names("h.delta", 2, 2) is None  # a vector is one column or one row
    assert matrix_names("h.z1", 1, 1) is None and matrix_names("loss", 1, 1) is None
