"""Hardened YAML/JSON reading: YAML 1.2 scalars, refused constructs, caps, and marks."""

from __future__ import annotations

import builtins
import io
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from backprop_cli.errors import ConfigError
from backprop_cli.loading import yamlsafe
from backprop_cli.loading.yamlsafe import (
    CONFIG_LIMIT,
    MAX_DEPTH,
    Document,
    _read_at_most,
    format_path,
    load_file,
    parse,
    read_text,
)


def yaml_value(text: str) -> Any:
    return parse(text, "t.yaml", fmt="yaml").value


def refused(text: str, fmt: str = "yaml") -> str:
    with pytest.raises(ConfigError) as info:
        parse(text, f"t.{fmt}", fmt=fmt)  # type: ignore[arg-type]
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-3", 0.001),  # PyYAML alone: the string '1e-3'
        ("1E5", 100000.0),
        (".5", 0.5),
        ("-2.", -2.0),
        ("+3", 3),
        ("010", 10),  # PyYAML alone: octal 8
        ("0x1F", "0x1F"),  # decimal ints only
        ("1_000", "1_000"),
        ("no", "no"),  # PyYAML alone: False
        ("yes", "yes"),
        ("off", "off"),
        ("y", "y"),
        ("true", True),
        ("FALSE", False),
        ("True", True),
        ("~", None),
        ("null", None),
        ("'1.5'", "1.5"),
        ('"true"', "true"),
        ("!!str 1", "1"),
        ("!!float 3", 3.0),
        ("!!int '7'", 7),
        ("nan", "nan"),  # a plain word in YAML 1.2; the models then want a number
    ],
)
def test_yaml_1_2_scalars(text: str, value: Any) -> None:
    got = yaml_value(f"v: {text}\n")["v"]
    assert got == value and type(got) is type(value)


def test_non_finite_numbers_are_refused_where_they_stand() -> None:
    assert refused("a:\n  b: [1, .inf]\n").startswith("t.yaml:2:10: a.b[1]: non-finite number '.inf'")
    assert refused("a: -.Inf\n").startswith("t.yaml:1:4: a: non-finite")
    assert refused("a: .NaN\n").startswith("t.yaml:1:4: a: non-finite")
    assert refused("a: 1e999\n").startswith("t.yaml:1:4: a: number '1e999' is too large")
    assert refused('{"a": [NaN]}', "json").startswith("t.json:1:8: a[0]: non-finite number 'NaN'")
    assert refused('{"a": -Infinity}', "json").startswith("t.json:1:7: a: non-finite number '-Infinity'")
    assert refused('{"a": [1e999]}', "json").startswith("t.json:1:8: a[0]: number '1e999' is too large")


def test_duplicate_keys_are_refused_at_the_second() -> None:
    assert refused("a: 1\nb:\n  c: 1\n  c: 2\n").startswith("t.yaml:4:3: b.c: duplicate key 'c'")
    assert refused("a: 1\n'a': 2\n").startswith("t.yaml:2:1: a: duplicate key 'a'")
    assert refused('{"a": {"b": 1, "b": {}}}', "json").startswith("t.json:1:16: a.b: duplicate key 'b'")


def test_anchors_aliases_and_tags_are_refused() -> None:
    assert refused("a: &x [1, 2]\nb: *x\n").startswith("t.yaml:1:4: a: anchors (&x) are not allowed")
    # an alias without an anchor is a YAML error, still located
    assert refused("a: 1\nb: *x\n").startswith("t.yaml:2:4:")
    bomb = "a: &a [1, 1]\nb: &b [*a, *a]\nc: &c [*b, *b]\n"
    assert "anchors" in refused(bomb)
    assert refused("a: !!python/object/apply:os.system [ls]\n").startswith(
        "t.yaml:1:4: a: tag !!python/object/apply:os.system is not allowed"
    )
    assert refused("a: !!python/tuple [1]\n").startswith("t.yaml:1:4: a: tag !!python/tuple is not allowed")
    assert refused("!!python/name:os.system a: 1\n").startswith("t.yaml:1:1: tag !!python/name:os.system")
    assert refused("a: !custom 1\n").startswith("t.yaml:1:4: a: tag !custom is not allowed")
    assert refused("a: !!int x\n").startswith("t.yaml:1:4: a: 'x' is not a valid !!int")
    assert refused("? [1, 2]\n: x\n").startswith("t.yaml:1:3: a key must be a plain name")


@pytest.mark.parametrize(("fmt", "opener"), [("yaml", "["), ("yaml", "{a: "), ("json", "["), ("json", '{"a": ')])
def test_depth_bomb_is_refused_before_building_anything(fmt: str, opener: str) -> None:
    start = time.perf_counter()
    message = refused(opener * 10_000, fmt)
    assert f"nested too deeply; expected at most {MAX_DEPTH} levels" in message
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_depth_bomb_is_located_at_the_bracket_past_the_limit(fmt: str) -> None:
    # libyaml and json stop at their own (deeper) caps; the message points at the 65th bracket
    head = "a: " if fmt == "yaml" else '{"a": '
    text = head + "[" * 5_000 + "]" * 5_000 + ("" if fmt == "yaml" else "}")
    column = len(head) + MAX_DEPTH + (1 if fmt == "yaml" else 0)  # json's { is a level too
    assert refused(text, fmt).startswith(f"t.{fmt}:1:{column}: nested too deeply")


def test_the_depth_locator_skips_brackets_in_strings_and_comments() -> None:
    deep = "[" * 5_000 + "]" * 5_000  # past json's recursion limit and libyaml's own cap
    text = '{"d": "a\\"[[[[", "n": ' + deep + "}"
    assert refused(text, "json").startswith(f"t.json:1:{text.index(deep) + 64}: nested too deeply")
    text = "# it's [[[[\nn: " + deep + "\n"
    assert refused(text).startswith(f"t.yaml:2:{len('n: ') + 65}: nested too deeply")


def test_an_unclosed_flow_collection_is_located_at_its_bracket_not_the_next_line() -> None:
    message = refused("a: [1, 2\nb: 3\n")
    assert message.startswith("t.yaml:1:4: invalid YAML: this flow sequence is not closed (")
    assert " at line 2, column " in message and message.endswith("); expected a closing ']'")
    assert refused("x: 1\nc: {d: 1\ne: 2\n").startswith("t.yaml:2:4: invalid YAML: this flow mapping is not closed")


def test_a_mistake_inside_a_closed_flow_collection_is_reported_where_it_is() -> None:
    # a missing comma between two rows of a matrix: the bracket is closed, the comma is what is missing
    message = refused("w: [[0.5, -0.4]\n    [-0.3, 0.6]]\nb: 1\n")
    assert message.startswith("t.yaml:2:5: invalid YAML: ") and "not closed" not in message


def test_depth_limit_is_exact() -> None:
    assert parse("[" * MAX_DEPTH + "]" * MAX_DEPTH, "t.json", fmt="json").value is not None
    assert "nested too deeply" in refused("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "json")


def test_other_refusals() -> None:
    assert refused("a: 1\n---\nb: 2\n").startswith("t.yaml:2:1: more than one YAML document")
    message = refused("a: [1\n")
    assert message.startswith("t.yaml:1:4: invalid YAML: this flow sequence is not closed (")
    assert "expected ',' or ']'" in message
    assert refused("a: b: c\n").startswith("t.yaml:1:5: invalid YAML: mapping values are not allowed")
    assert refused("a: \x07\n").startswith("t.yaml:1:4: unacceptable character '\\x07'")
    assert refused("a: 1\né: \x07\n").startswith("t.yaml:2:4: unacceptable character '\\x07'")


def test_json_is_strict_and_located() -> None:
    assert refused('{\n  "a": 1,\n}', "json").startswith("t.json:3:1: invalid JSON: Expecting property name")
    assert refused("{a: 1}", "json").startswith("t.json:1:2: invalid JSON")  # fine YAML, not JSON
    assert refused("{'a': 1}", "json").startswith("t.json:1:2: invalid JSON")
    assert refused('{"a": 1} x', "json").startswith("t.json:1:10: invalid JSON: Extra data")
    assert parse("", "t.json", fmt="json").value is None


def test_json_values_and_marks_with_tabs() -> None:
    doc = parse('{\n\t"a": [1, 2.5, "x\\u00e9"],\n\t"b": {"c": true, "d": null}\n}', "t.json", fmt="json")
    assert doc.value == {"a": [1, 2.5, "xé"], "b": {"c": True, "d": None}}
    assert doc.mark(("a", 1)) == (2, 11)
    assert doc.mark(("b", "c")) == (3, 13)
    assert doc.mark(("b",), key=True) == (3, 2)


def test_marks_point_at_values_keys_and_parents() -> None:
    doc = parse("top:\n  list:\n    - {x: 1, y: [2, 3]}\n    - 4\n", "t.yaml", fmt="yaml")
    assert doc.mark(()) == (1, 1)
    assert doc.mark(("top", "list")) == (3, 5)
    assert doc.mark(("top", "list", 0, "y", 1)) == (3, 21)
    assert doc.mark(("top", "list", 1)) == (4, 7)
    assert doc.mark(("top", "list", 0, "x"), key=True) == (3, 8)
    assert doc.mark(("top", "list", 0, "missing")) == (3, 7)  # falls back to the parent
    error = doc.error("bad", ("top", "list", 0, "y", 1))
    assert str(error) == "t.yaml:3:21: top.list[0].y[1]: bad"
    rooted = doc.rooted("data")
    assert rooted.value == {"data": doc.value} and rooted.mark(("data", "top", "list", 1)) == (4, 7)


def test_format_path() -> None:
    assert format_path(("network", "layers", 1, "weights", 0, 2)) == "network.layers[1].weights[0][2]"
    assert format_path((3, "x")) == "[3].x"
    assert format_path(()) == ""


def test_empty_documents() -> None:
    assert yaml_value("") is None
    assert yaml_value("# only a comment\n") is None
    assert yaml_value("---\n") is None


def test_read_text_refuses_oversize_files_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as stream:
        stream.truncate(CONFIG_LIMIT + 1)  # sparse: no data written

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(builtins, "open", no_open)
    with pytest.raises(ConfigError, match=r"big\.yaml: file is too large; expected a config file of at most 5 MiB"):
        read_text(big, "big.yaml", limit=CONFIG_LIMIT, what="config file")


def test_read_text_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^x\.yaml: no such file; expected a data file$"):
        read_text(tmp_path / "x.yaml", "x.yaml", limit=100, what="data file")
    with pytest.raises(ConfigError, match="is a directory"):
        read_text(tmp_path, "dir", limit=100, what="data file")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes("a: 1\nb: 'é\xff'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"^bad\.yaml:2:5: not UTF-8 text \(byte 0xe9\)"):
        read_text(bad, "bad.yaml", limit=100, what="config file")
    small = tmp_path / "small.yaml"
    small.write_text("\ufeffa: 1\n", encoding="utf-8")  # a BOM is fine
    assert read_text(small, "small.yaml", limit=100, what="config file") == "a: 1\n"
    with pytest.raises(ConfigError, match="file is too large"):
        read_text(small, "small.yaml", limit=3, what="config file")


def test_read_at_most_reads_past_the_stated_size_in_chunks_up_to_the_limit() -> None:
    data = bytes(range(256)) * 10_000  # 2.56 MB: more than one 1 MiB chunk after the first read
    assert _read_at_most(io.BytesIO(data), len(data) + 1, 1) == data  # stat said 0 bytes, as for a pipe
    assert _read_at_most(io.BytesIO(data), 1_500_001, 11) == data[:1_500_001]  # stops at the limit
    assert _read_at_most(io.BytesIO(b""), 100, 1) == b""


def test_load_file_picks_the_format_by_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"a": 1}')
    (tmp_path / "a.yaml").write_text("a: 1e-3\n")
    assert load_file(tmp_path / "a.json", "a.json", limit=100, what="x").value == {"a": 1}
    assert load_file(tmp_path / "a.yaml", "a.yaml", limit=100, what="x").value == {"a": 0.001}
    (tmp_path / "b.json").write_text("{a: 1}")  # YAML flow, but not JSON
    with pytest.raises(ConfigError, match="invalid JSON"):
        load_file(tmp_path / "b.json", "b.json", limit=100, what="x")


def test_document_without_marks_still_names_the_file() -> None:
    assert str(Document({"a": 1}, "f.json").error("bad", ("a",))) == "f.json: a: bad"


@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)])
def test_libyaml_and_pure_python_parsers_agree(loader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsafe, "_Loader", loader)
    doc = parse("é: {b: [1e-3, no, 010]}\nc: 'x'\n", "t.yaml", fmt="yaml")
    assert doc.value == {"é": {"b": [0.001, "no", 10]}, "c": "x"}
    assert doc.mark(("é", "b", 2)) == (1, 19) and doc.mark(("c",)) == (2, 4)
    assert refused("a: 1\né: \x07\n").startswith("t.yaml:2:4: unacceptable character")
    assert refused("a: [1\n").startswith("t.yaml:1:4: invalid YAML: this flow sequence is not closed")
    assert "nested too deeply" in refused("[" * 10_000)
    assert refused("a: 1\nb: *x\n").startswith("t.yaml:2:4:")


def test_quoted_text_is_escaped_and_cut_with_its_length_said() -> None:
    # regression: a one-scalar file was quoted whole in its error (all of /etc/passwd)
    passwd = "root:x:0:0:root:/root:/bin/bash " * 40
    assert yamlsafe.quoted(passwd) == "'root:x:0:0:root:/root:/bin/bash root:x:0…' (1,280 characters)"
    assert yamlsafe.describe("\x1b]0;title\x07") == "'\\x1b]0;title\\x07' (a string)"  # never raw ESC
    assert yamlsafe.quoted("\u202eevil") == "'\\u202eevil'" and yamlsafe.quoted("plain") == "'plain'"
    assert yamlsafe.format_path(("network", "x" * 100)) == f"network['{'x' * 40}…' (100 characters)]"
    assert yamlsafe.format_path(("network", "layers", 0, "weights")) == "network.layers[0].weights"
    error = parse(f'"{passwd}"\n', "t.yaml", fmt="yaml").error(f"got {yamlsafe.describe(passwd)}", ())
    assert (
        error.one_line() == "t.yaml:1:1: got 'root:x:0:0:root:/root:/bin/bash root:x:0…' (1,280 characters) (a string)"
    )
