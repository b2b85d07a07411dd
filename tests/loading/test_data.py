"""Data rows: inline, CSV (columns, labels → one-hot), JSON/YAML row files, and --data overrides."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.errors import ConfigError
from backprop_cli.loading.config import load_config
from backprop_cli.loading.data import (
    _ODD_CHARACTERS,
    Columns,
    Expect,
    _csv_cells,
    _fast_csv,
    _has_odd_characters,
    load_data_file,
)
from backprop_cli.loading.yamlsafe import Document
from backprop_cli.model.spec import NetworkSpec

NETWORK = """\
network:
  inputs: {inputs}
  layers:
    - name: o
      units: {outputs}
      activation: {activation}
      init: {{method: zeros}}
loss: {loss}
optimizer: {{name: sgd, learning_rate: 0.1}}
"""

IRIS = """\
sepal_length,sepal_width,species
5.1,3.5,setosa
7.0,3.2,versicolor
6.3,3.3,virginica
4.9,3.0,setosa
"""


def write(
    tmp_path: Path,
    data: str,
    *,
    inputs: str = "2",
    outputs: int = 1,
    activation: str = "identity",
    loss: str = "mse",
    name: str = "net.yaml",
) -> Path:
    path = tmp_path / name
    path.write_text(NETWORK.format(inputs=inputs, outputs=outputs, activation=activation, loss=loss) + data)
    return path


def fails(path: Path, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_inline_rows_with_bare_numbers(tmp_path: Path) -> None:
    spec = load_config(write(tmp_path, "data:\n  - {x: 2, y: 4}\n  - {x: [3], y: [5]}\n", inputs="1"))
    np.testing.assert_array_equal(spec.data.x, [[2.0], [3.0]])
    np.testing.assert_array_equal(spec.data.y, [[4.0], [5.0]])
    assert spec.data.x.dtype == np.float64 and spec.data.source == "inline"


def test_inline_row_errors(tmp_path: Path) -> None:
    bad = write(tmp_path, "data:\n  - {x: [1, 2], y: 1}\n  - {x: [1, 2], y: 1, z: 3}\n")
    assert fails(bad).startswith(f"{bad}:12:23: data[1].z: unknown field 'z'; expected one of x, y")
    bad = write(tmp_path, "data:\n  - [1, 2]\n")
    assert fails(bad).startswith(f"{bad}:11:5: data[0]: not a mapping")
    bad = write(tmp_path, "data:\n  - {x: [1, true], y: 1}\n")
    assert fails(bad).startswith(f"{bad}:11:13: data[0].x[1]: got true (a boolean); expected a number")


def test_csv_with_features_and_targets(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("a,b,t,unused\n1,2,3,x\n4,5,6,y\n")
    spec = load_config(write(tmp_path, "data: {file: rows.csv, features: [b, a], targets: [t]}\n"))
    np.testing.assert_array_equal(spec.data.x, [[2.0, 1.0], [5.0, 4.0]])
    np.testing.assert_array_equal(spec.data.y, [[3.0], [6.0]])
    assert spec.data.source == str(tmp_path / "rows.csv")
    assert spec.normalised["data"] == {"source": str(tmp_path / "rows.csv"), "rows": 2}


def test_csv_defaults_use_input_names_then_the_rest(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("t,b,a\n3,2,1\n")
    spec = load_config(write(tmp_path, "data: {file: rows.csv}\n", inputs="[a, b]"))
    np.testing.assert_array_equal(spec.data.x, [[1.0, 2.0]])
    np.testing.assert_array_equal(spec.data.y, [[3.0]])
    spec = load_config(write(tmp_path, "data: {file: rows.csv, targets: [t]}\n"))  # features: all the others
    np.testing.assert_array_equal(spec.data.x, [[2.0, 1.0]])


def test_csv_label_becomes_one_hot_in_appearance_order(tmp_path: Path) -> None:
    (tmp_path / "iris.csv").write_text(IRIS)
    spec = load_config(
        write(
            tmp_path, "data: {file: iris.csv, label: species}\n", outputs=3, activation="softmax", loss="cross_entropy"
        )
    )
    assert spec.data.class_names == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(spec.data.y, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(spec.data.x[1], [7.0, 3.2])
    assert spec.normalised["data"]["class_names"] == ["setosa", "versicolor", "virginica"]


def test_csv_label_uses_the_stated_class_order(tmp_path: Path) -> None:
    (tmp_path / "iris.csv").write_text(IRIS)
    data = "data: {file: iris.csv, label: species, classes: [virginica, setosa, versicolor]}\n"
    spec = load_config(write(tmp_path, data, outputs=3, activation="softmax", loss="cross_entropy"))
    assert spec.data.class_names == ("virginica", "setosa", "versicolor")
    np.testing.assert_array_equal(spec.data.y, [[0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]])


def test_csv_label_errors(tmp_path: Path) -> None:
    (tmp_path / "iris.csv").write_text(IRIS)
    bad = write(
        tmp_path, "data: {file: iris.csv, label: species, classes: [setosa, versicolor, virginca]}\n", outputs=3
    )
    assert fails(bad) == (
        f"{tmp_path / 'iris.csv'}:4:3: column 'species': 'virginica' is not one of the classes; "
        "expected one of setosa, versicolor, virginca"
    )
    bad = write(tmp_path, "data: {file: iris.csv, label: species}\n", outputs=2)
    assert fails(bad).startswith(f"{bad}:10:31: data.label: 3 classes (setosa, versicolor, virginica); expected 2")
    bad = write(tmp_path, "data: {file: iris.csv, label: kind}\n", outputs=3)
    assert fails(bad).startswith(
        f"{bad}:10:31: data.label: column 'kind' is not in {tmp_path / 'iris.csv'}; "
        "expected one of sepal_length, sepal_width, species"
    )
    bad = write(tmp_path, "data: {file: iris.csv, label: species, targets: [x]}\n", outputs=3)
    assert fails(bad).startswith(f"{bad}:10:31: data.label: both targets and label given")
    bad = write(tmp_path, "data: {file: iris.csv, classes: [a]}\n", outputs=3)
    assert "classes without label" in fails(bad)


def test_csv_cell_and_shape_errors(tmp_path: Path) -> None:
    csv = tmp_path / "rows.csv"
    shown = str(csv)
    config = write(tmp_path, "data: {file: rows.csv, features: [a, b], targets: [t]}\n")
    csv.write_text("a,b,t\n1,2,3\n1,abc,3\n")
    assert fails(config) == f"{shown}:3:2: column 'b': 'abc' is not a number; expected a finite number"
    csv.write_text("a,b,t\n1,2,3\n\n1,2,inf\n")
    assert fails(config).startswith(f"{shown}:4:3: column 't': 'inf' is not a number")
    csv.write_text("a,b,t\n1,2,3\n1,2\n")
    assert fails(config).startswith(f"{shown}:3:1: row has 2 cells; expected 3 (the header's columns)")
    csv.write_text("a,b,t\n")
    assert fails(config).startswith(f"{shown}:1: no data rows")
    csv.write_text("")
    assert fails(config).startswith(f"{shown}: empty CSV file")
    csv.write_text("a,a,t\n1,2,3\n")
    assert fails(config).startswith(f"{shown}:1:2: duplicate column name 'a'")
    csv.write_text("a,b,c,t\n1,2,3,4\n")
    wrong = write(tmp_path, "data: {file: rows.csv, features: [a, b, c], targets: [t]}\n")
    assert fails(wrong).startswith(f"{wrong}:10:34: data.features: 3 feature columns (a, b, c); expected 2")
    wrong = write(tmp_path, "data: {file: rows.csv, features: [a, x], targets: [t]}\n")
    assert fails(wrong).startswith(f"{wrong}:10:38: data.features[1]: column 'x' is not in {shown}")
    wrong = write(tmp_path, "data: {file: rows.csv, features: [a, t], targets: [t]}\n")
    assert fails(wrong).startswith(f"{wrong}:10:38: data.features[1]: column 't' is both a feature and a target")
    wrong = write(tmp_path, "data: {file: rows.csv, features: [a, b]}\n")  # targets: the other two
    assert "2 target columns (c, t); expected 1 (the output layer's units)" in fails(wrong)
    missing = write(tmp_path, "data: {file: nope.csv}\n")
    assert fails(missing) == f"{tmp_path / 'nope.csv'}: no such file; expected a CSV file"
    other = write(tmp_path, "data: {file: rows.txt}\n")
    assert "unknown data file type '.txt'" in fails(other)


def test_csv_bce_targets_must_be_probabilities(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("a,b,t\n1,2,1\n1,2,2\n")
    config = write(tmp_path, "data: {file: rows.csv}\n", activation="sigmoid", loss="bce")
    assert fails(config).startswith(f"{tmp_path / 'rows.csv'}:3:3: column 't': target 2 is outside [0, 1]")


def test_data_file_paths_are_relative_to_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "rows.csv").write_text("x1,x2,y\n1,2,3\n")
    config = write(sub, "data: {file: rows.csv}\n")
    monkeypatch.chdir(tmp_path)
    spec = load_config(Path("sub") / "net.yaml")
    assert spec.data.source == str(Path("sub") / "rows.csv") and spec.data.rows == 1
    assert spec.source == str(Path("sub") / "net.yaml") and config.exists()


@pytest.mark.parametrize("suffix", ["yaml", "yml", "json"])
def test_row_files_as_a_list_or_a_data_mapping(tmp_path: Path, suffix: str) -> None:
    rows = '[{"x": [1, 2], "y": 3}, {"x": [4, 5], "y": [6]}]'
    (tmp_path / f"rows.{suffix}").write_text(rows)
    (tmp_path / f"wrapped.{suffix}").write_text(f'{{"description": "d", "data": {rows}}}')
    for name in ("rows", "wrapped"):
        spec = load_config(write(tmp_path, f"data: {{file: {name}.{suffix}}}\n"))
        np.testing.assert_array_equal(spec.data.x, [[1, 2], [4, 5]])
        np.testing.assert_array_equal(spec.data.y, [[3], [6]])
        assert spec.data.source == str(tmp_path / f"{name}.{suffix}")


def test_row_file_errors_are_located_in_the_row_file(tmp_path: Path) -> None:
    rows = tmp_path / "rows.yaml"
    config = write(tmp_path, "data: {file: rows.yaml}\n")
    rows.write_text("- {x: [1, 2], y: 3}\n- {x: [1, 2, 3], y: 3}\n")
    assert fails(config).startswith(f"{rows}:2:7: data[1].x: x has 3 values; expected 2 (the number of inputs)")
    rows.write_text("data:\n  - {x: [1, 2], y: .nan}\n")
    assert fails(config).startswith(f"{rows}:2:20: data[0].y: non-finite number '.nan'")
    rows.write_text("rows: []\n")
    assert fails(config).startswith(f"{rows}:1:1: rows: unknown field 'rows'; expected one of data, description")
    rows.write_text("# nothing\n")
    assert fails(config).startswith(f"{rows}: empty data file")
    rows.write_text("[]\n")
    assert fails(config).startswith(f"{rows}:1:1: data: no data rows")


def _override(tmp_path: Path, config: Path, data: str, name: str) -> NetworkSpec:
    (tmp_path / name).write_text(data)
    return load_config(config, data_override=tmp_path / name)


def test_data_override_replaces_inline_rows(tmp_path: Path) -> None:
    config = write(tmp_path, "data:\n  - {x: [0, 0], y: 0}\n", inputs="[a, b]")
    spec = _override(tmp_path, config, "b,y,a\n2,3,1\n", "over.csv")  # input names are columns
    np.testing.assert_array_equal(spec.data.x, [[1.0, 2.0]])
    np.testing.assert_array_equal(spec.data.y, [[3.0]])
    spec = _override(tmp_path, config, "p,q,r,s\n1,2,3,4\n", "over.csv")  # by position
    np.testing.assert_array_equal(spec.data.x, [[1.0, 2.0]])
    np.testing.assert_array_equal(spec.data.y, [[3.0]])
    spec = _override(tmp_path, config, "- {x: [7, 8], y: 9}\n", "over.yaml")
    np.testing.assert_array_equal(spec.data.x, [[7.0, 8.0]])
    assert spec.data.source == str(tmp_path / "over.yaml")
    with pytest.raises(ConfigError, match="0 target columns"):
        _override(tmp_path, config, "p,q\n1,2\n", "over.csv")


def test_data_override_keeps_the_configs_column_spec(tmp_path: Path) -> None:
    (tmp_path / "iris.csv").write_text(IRIS)
    config = write(
        tmp_path,
        "data: {file: missing.csv, label: species, classes: [setosa, versicolor, virginica]}\n",
        outputs=3,
        activation="softmax",
        loss="cross_entropy",
    )
    spec = _override(tmp_path, config, "species,sepal_width,sepal_length\nvirginica,1,2\n", "other.csv")
    np.testing.assert_array_equal(spec.data.x, [[1.0, 2.0]])
    np.testing.assert_array_equal(spec.data.y, [[0, 0, 1]])


def test_data_override_without_config_data_and_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    config = write(sub, "", inputs="1")
    (tmp_path / "rows.json").write_text('[{"x": 1, "y": 2}]')
    monkeypatch.chdir(tmp_path)
    spec = load_config(config, data_override="rows.json")
    assert spec.data.source == "rows.json" and spec.data.rows == 1
    assert "missing required field 'data'" in fails(config)


def test_load_data_file_directly(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("u,v\n1,0.5\n")
    spec = load_data_file(tmp_path / "r.csv", "r.csv", Expect(("x1",), 1, (0.0, 1.0), "loss 'bce'"))
    np.testing.assert_array_equal(spec.x, [[1.0]])
    np.testing.assert_array_equal(spec.y, [[0.5]])
    assert spec.class_names is None


# The CSV fast path (numpy parses every number in one go) must agree with the cell-by-cell reader
# wherever it answers, and must answer for plain files.


_CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        ["", " ", "nan", "inf", "-inf", "1e400", "1_0", " 2.5 ", "0x10", "abc", '"3"', "1.5e-3", "+4", "a", "b", "c"]
    ),
    # white space as numpy and Python's float() see it differently (numpy skips \x1c-\x1f)
    st.sampled_from(["4\x1c", "\x1f5", "6\x0b", "\t7", "8\u2003", "\xa09", "1\x00"]),
)


def _slow(text: str, expect: Expect, columns: Columns | None) -> tuple[object, ...]:
    """What the cell-by-cell reader gives: (x, y, class names), or the error's text."""
    try:
        spec = _csv_cells(text, "t.csv", expect, columns)
    except ConfigError as error:
        return (str(error),)
    return (spec.x, spec.y, spec.class_names)


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(2, 4),
    grid=st.data(),
    label=st.booleans(),
    bce=st.booleans(),
    crlf=st.booleans(),
)
def test_csv_fast_path_agrees_with_the_cell_by_cell_reader(
    width: int, grid: st.DataObject, label: bool, bce: bool, crlf: bool
) -> None:
    header = [f"c{j}" for j in range(width)]
    rows = grid.draw(st.lists(st.lists(_CELLS, min_size=width, max_size=width), min_size=1, max_size=6))
    if label:
        rows = [[*row[:-1], grid.draw(st.sampled_from(["a", "b", " a", "c"]))] for row in rows]
    text = ("\r\n" if crlf else "\n").join(",".join(cells) for cells in [header, *rows]) + "\n"
    columns = Columns(Document(None, "net.yaml"), label=header[-1]) if label else None
    expect = Expect(
        inputs=tuple(header[: width - 1]),
        outputs=2 if label else 1,
        target_range=(0.0, 1.0) if bce and not label else None,
        range_reason="loss 'bce'",
    )
    slow = _slow(text, expect, columns)
    fast = _fast_csv(text, "t.csv", expect, columns)
    if fast is None:
        return
    assert len(slow) == 3, f"the fast path accepted what the reader rejects: {slow[0]}"
    np.testing.assert_array_equal(fast.x, slow[0])
    np.testing.assert_array_equal(fast.y, slow[1])
    assert fast.class_names == slow[2]
    assert fast.x.dtype == np.float64 and fast.y.dtype == np.float64


def test_csv_fast_path_answers_for_plain_files() -> None:
    expect = Expect(inputs=("sepal_length", "sepal_width"), outputs=3)
    columns = Columns(Document(None, "net.yaml"), label="species")
    fast = _fast_csv(IRIS, "iris.csv", expect, columns)
    assert fast is not None
    assert fast.class_names == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(fast.x[1], [7.0, 3.2])
    np.testing.assert_array_equal(fast.y, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]])
    numeric = "a,b,t\n1,2,0.5\n3,4,1\n"
    fast = _fast_csv(numeric, "n.csv", Expect(inputs=("a", "b"), outputs=1), None)
    assert fast is not None
    np.testing.assert_array_equal(fast.y, [[0.5], [1.0]])
    # anything the fast path cannot vouch for goes back to the reader, which names the cell
    assert _fast_csv("a,b,t\n1,x,0.5\n", "n.csv", Expect(inputs=("a", "b"), outputs=1), None) is None


@pytest.mark.parametrize("tail", ["", "é", "\u00a0", "\u3000"])
def test_the_ascii_shortcut_finds_the_odd_characters_the_pattern_finds(tail: str) -> None:
    for code in range(128):
        text = f"a,b\n1,2{chr(code)}{tail}\n"
        assert _has_odd_characters(text) == (re.search(_ODD_CHARACTERS, text) is not None), (code, tail)


def test_a_data_file_name_alone_is_short_for_file(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("a,b,t\n1,2,3\n4,5,6\n")
    short = load_config(write(tmp_path, "data: rows.csv\n", inputs="[a, b]"))
    long = load_config(write(tmp_path, "data: {file: rows.csv}\n", inputs="[a, b]", name="long.yaml"))
    np.testing.assert_array_equal(short.data.x, long.data.x)
    np.testing.assert_array_equal(short.data.y, [[3.0], [6.0]])
    assert short.data.source == str(tmp_path / "rows.csv")
    bad = write(tmp_path, 'data: ""\n', name="empty.yaml")
    assert fails(bad).startswith(f"{bad}:10:7: data: got '' (a string); expected a list of rows")
