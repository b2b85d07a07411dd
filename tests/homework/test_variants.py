"""`backprop variants`: per-student variants from a template, seeded by an HMAC, degenerate ones redrawn."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.errors import ConfigError
from backprop_cli.homework import variants as v
from backprop_cli.loading.yamlsafe import parse

TEMPLATE = """\
# homework 3: a 2-2-1 network, drawn per student
network:
  inputs: 2
  layers:
    - name: h
      units: 2
      activation: {choice: [relu, sigmoid, tanh]}
      weights: [[{uniform: [-1, 1], decimals: 2}, 0.20], [0.25, {uniform: [-1, 1], step: 0.25}]]
      biases: [0.35, {uniform: [0, 1], decimals: 1}]
    - name: o
      units: 1
      activation: sigmoid
      weights: [[{uniform: [-1, 1], decimals: 2}, 0.45]]
      biases: [{integer: [0, 2]}]
loss: half_sse
optimizer: {name: sgd, learning_rate: 0.5}
data: {sample: [{x: [0.05, 0.10], y: [0.01]}, {x: [1, -1], y: [0.99]}, {x: [0.5, 0.5], y: [0.5]}], count: 1}
"""
SECRET = "a course secret of more than sixteen bytes\n"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def course(tmp_path: Path, students: int, template: str = TEMPLATE) -> list[str]:
    (tmp_path / "hw.yaml").write_text(template, encoding="utf-8")
    (tmp_path / "course.key").write_text(SECRET, encoding="utf-8")
    ids = [f"st{i:03d}" for i in range(1, students + 1)]
    (tmp_path / "roster.csv").write_text("name,id\n" + "".join(f"Student {s},{s}\n" for s in ids), encoding="utf-8")
    return ids


def run(tmp_path: Path, out: str, *extra: str) -> Result:
    return invoke(
        "variants", str(tmp_path / "hw.yaml"), "--roster", str(tmp_path / "roster.csv"),
        "--secret-file", str(tmp_path / "course.key"), "-o", str(tmp_path / out), *extra,
    )  # fmt: skip


def test_the_seed_is_the_hmac_of_the_secret_the_template_and_the_student() -> None:
    by_hand = hmac.new(b"k" * 16, b"backprop-variant\x00abc\x00s1\x002", hashlib.sha256).hexdigest()
    assert v.seed_for(b"k" * 16, "abc", "s1", 2) == by_hand
    assert v.seed_for(b"k" * 16, "abc", "s2", 2) != by_hand and v.seed_for(b"j" * 16, "abc", "s1", 2) != by_hand


def test_draws_are_found_in_order_and_drawn_within_their_ranges() -> None:
    doc = parse(TEMPLATE, "hw.yaml", fmt="yaml")
    draws = v.find_draws(doc)
    assert [d.kind for d in draws] == ["choice", "uniform", "uniform", "uniform", "uniform", "integer", "sample"]
    for seed in range(200):
        value = v.instantiate(doc.value, draws, random.Random(seed))
        h, o = value["network"]["layers"]
        assert h["activation"] in ("relu", "sigmoid", "tanh")
        assert -1 <= h["weights"][0][0] <= 1 and round(h["weights"][0][0], 2) == h["weights"][0][0]
        assert h["weights"][1][1] in (-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1)  # the 0.25 grid
        assert o["biases"][0] in (0, 1, 2) and isinstance(o["biases"][0], int)
        assert len(value["data"]) == 1 and value["data"][0]["y"] in ([0.01], [0.99], [0.5])
    assert doc.value["network"]["layers"][0]["activation"] == {"choice": ["relu", "sigmoid", "tanh"]}  # untouched


@pytest.mark.parametrize(
    ("draw", "message"),
    [
        ("{uniform: [1, -1]}", r"hw\.yaml:2:15: a\.uniform: uniform \[1, -1\] has lo above hi; expected lo ≤ hi"),
        ("{uniform: 3}", r"uniform is 3; expected \[lo, hi\]"),
        ("{uniform: [0, 1], decimals: 2, step: 0.5}", "gives decimals and step"),
        ("{integer: [0, 1.5]}", "two whole numbers"),
        ("{choice: []}", "at least one value"),
        ("{sample: [1, 2], count: 3}", "count is 3.*from 1 to 2"),
        ("{choice: [1], uniform: [0, 1]}", "gives choice and uniform"),
        ("{uniform: [0, 1], decimal: 2}", "unknown key 'decimal' in a uniform draw"),
    ],
)
def test_a_malformed_draw_is_located(draw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        v.find_draws(parse(f"a:\n    {draw}\n", "hw.yaml", fmt="yaml"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,email\nAnn,a@x\n", r"r\.csv:1:1: no id column"),
        ("id\nst1\n\nst1\n", r"r\.csv:4:1: id: 'st1' is listed twice \(first on line 2\)"),
        ("name,id\nAnn,\n", r"r\.csv:2:5: id: empty"),
        ("id\n../etc\n", "not usable as a file name"),
        ("", "empty roster"),
        ("id\n", "no students"),
        ("id\na\na.key\n", r"r\.csv:3:1: id: 'a\.key' and 'a' \(line 2\) would both write a\.key\.yaml"),
        ("id\nAnn\nann\n", r"'ann' and 'Ann' \(line 2\) would both write ann\.yaml"),
    ],
)
def test_a_roster_without_usable_ids_is_located(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        v.read_roster(text, "r.csv")


@pytest.mark.parametrize(
    ("text", "ids", "column"),
    [
        # Canvas's gradebook export: the name, Canvas's own ID, the SIS User ID, and a Points Possible row
        (
            "Student,ID,SIS User ID,SIS Login ID,Section,HW3 (123)\n    Points Possible,,,,,17\n"
            '"Doe, Jane",4411,st001,jdoe,A,\n"Roe, Rick",4412,st002,rroe,A,\n',
            ["st001", "st002"],
            "SIS User ID",
        ),
        ('Student,SIS User ID\n"Doe, Jane",st001\n', ["st001"], "SIS User ID"),  # not the name column
        ('Student,ID\n"Doe, Jane",4411\n', ["4411"], "ID"),
        ("student\ns1\ns2\n", ["s1", "s2"], "student"),  # a plain list of ids
    ],
)
def test_the_roster_id_column_is_the_institutions_id_and_is_named(text: str, ids: list[str], column: str) -> None:
    assert v.read_roster_column(text, "r.csv") == (ids, column)


def test_variants_say_which_roster_column_the_ids_came_from(tmp_path: Path) -> None:
    course(tmp_path, 2)
    roster = "Student,ID,SIS User ID\nPoints Possible,,\nAnn,11,st001\nBen,12,st002\n"
    (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
    result = run(tmp_path, "out")
    assert result.exit_code == 0, result.stderr
    assert "roster.csv: the ids are the column 'SIS User ID'" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("st*.yaml")) == ["st001.yaml", "st002.yaml"]


def test_a_class_of_200_distinct_reproducible_non_degenerate_with_keys_that_check(tmp_path: Path) -> None:
    ids = course(tmp_path, 200)
    result = run(tmp_path, "out", "--answers", "--phase", "backward")
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    manifest = list(csv.DictReader(io.StringIO((out / "manifest.csv").read_text(encoding="utf-8"))))
    assert [row["student"] for row in manifest] == ids
    texts = {s: (out / f"{s}.yaml").read_text(encoding="utf-8") for s in ids}
    bodies = {text.split("\n", 3)[3] for text in texts.values()}  # without the header (seed and attempt differ)
    assert len(bodies) == 200  # distinct
    for row in manifest:  # the seed recorded is the HMAC of the attempt that was kept
        assert row["seed"] == v.seed_for(
            SECRET.strip().encode(), _template_sha(tmp_path), row["student"], int(row["attempt"])
        )
        assert row["seed"] in texts[row["student"]] and "backprop-cli " in texts[row["student"]]
        assert (int(row["attempt"]) > 1) == bool(row["redraws"])
    again = run(tmp_path, "again", "--answers", "--phase", "backward")
    assert again.exit_code == 0
    assert all((tmp_path / "again" / f"{s}.yaml").read_text(encoding="utf-8") == texts[s] for s in ids)  # reproducible
    for s in ids[:10]:  # each key checks all correct against its own variant; its sheet is blank
        key, sheet = out / f"{s}.key.yaml", out / f"{s}.sheet.yaml"
        assert invoke("check", str(key)).exit_code == 0
        assert f'student: "{s}"' in sheet.read_text(encoding="utf-8")
    graded = invoke("check", "--key", str(out), str(out / f"{ids[0]}.key.yaml"), "--format", "json")
    students = {s["student"]: s["status"] for s in json.loads(graded.stdout)["students"]}
    assert students[ids[0]] == "graded" and sum(x == "no submission" for x in students.values()) == 199


def _template_sha(tmp_path: Path) -> str:
    from backprop_cli.homework.answers import config_identity

    return config_identity(tmp_path / "hw.yaml")


def test_degenerate_variants_are_redrawn_and_counted(tmp_path: Path) -> None:
    from backprop_cli.cli.names import compute_values
    from backprop_cli.loading.config import load_config_text
    from backprop_cli.model.numbers import NumberFormat

    dead = TEMPLATE.replace("{choice: [relu, sigmoid, tanh]}", "relu").replace(
        "biases: [0.35, {uniform: [0, 1], decimals: 1}]", "biases: [-5, -5]"
    )
    spec = load_config_text(
        dead.replace("{uniform: [-1, 1], decimals: 2}", "0.1").replace("{uniform: [-1, 1], step: 0.25}", "0.1")
        .replace("{integer: [0, 2]}", "0").replace("{sample: [", "[").replace("], count: 1}", "]"),
        source="dead.yaml", base_dir=tmp_path, fmt="yaml",
    )  # fmt: skip
    values = compute_values(spec, NumberFormat())
    # z = 0.1·x1 + 0.1·x2 − 5 < 0 on every row: both ReLUs dead, so h's gradients are all 0
    assert v.degenerate(spec, values, {x.name for x in values}) == ["dead-relu", "zero-gradient"]
    course(tmp_path, 3, dead)
    result = run(tmp_path, "out", "--max-draws", "4")
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert "no acceptable variant for student 'st001' in 4 draws (dead-relu 4, zero-gradient 4)" in result.stderr
    assert result.stderr.endswith("or --allow dead-relu --allow zero-gradient\n")  # what the next run needs, all of it
    assert result.stderr.startswith(f"{tmp_path / 'hw.yaml'}: ")
    assert not (tmp_path / "out").exists()  # nothing half-written
    allowed = run(tmp_path, "out", "--max-draws", "4", "--allow", "dead-relu", "--allow", "zero-gradient")
    assert allowed.exit_code == 0 and (tmp_path / "out" / "st003.yaml").is_file()


def test_duplicates_are_redrawn(tmp_path: Path) -> None:
    # three values only: a class of three gets them all, and a fourth student cannot be given a new one
    one = TEMPLATE.replace("{choice: [relu, sigmoid, tanh]}", "sigmoid").replace(
        "{uniform: [-1, 1], decimals: 2}", "0.3"
    )
    one = one.replace("{uniform: [-1, 1], step: 0.25}", "0.3").replace("{uniform: [0, 1], decimals: 1}", "0.3")
    one = one.replace("{integer: [0, 2]}", "0")
    course(tmp_path, 3, one)
    result = run(tmp_path, "out", "--max-draws", "200")
    assert result.exit_code == 0, result.stderr
    rows = [
        line.split("\n", 3)[3]
        for line in ((tmp_path / "out" / f"st00{i}.yaml").read_text(encoding="utf-8") for i in (1, 2, 3))
    ]
    assert len(set(rows)) == 3
    course(tmp_path, 4, one)
    result = run(tmp_path, "more", "--max-draws", "30")
    assert result.exit_code == 2 and "duplicate 30" in result.stderr and not (tmp_path / "more").exists()


def test_a_missing_or_short_secret_and_a_template_that_is_not_a_config_are_bad_input(tmp_path: Path) -> None:
    course(tmp_path, 2)
    (tmp_path / "course.key").unlink()
    result = run(tmp_path, "out")
    assert result.exit_code == 2 and "course.key: no such file; expected a secret file" in result.stderr
    (tmp_path / "course.key").write_text("short\n", encoding="utf-8")
    result = run(tmp_path, "out")
    assert result.exit_code == 2 and "the secret has 5 bytes; expected at least 16" in result.stderr
    course(tmp_path, 2, "just: text\n")
    result = run(tmp_path, "out")
    assert result.exit_code == 2 and "expected a network config with draws in it" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_with_files_of_an_earlier_run_this_one_would_not_write_is_refused(tmp_path: Path) -> None:
    """A re-run for a smaller roster (or without --answers) into the same folder would leave the other
    students' variants and keys there, and `check --key` would grade them as students of the class."""
    ids = course(tmp_path, 3)
    assert run(tmp_path, "out", "--answers").exit_code == 0
    assert run(tmp_path, "out", "--answers").exit_code == 0  # the same roster again: every file rewritten
    (tmp_path / "roster.csv").write_text(f"name,id\nStudent,{ids[0]}\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    result = run(tmp_path, "out", "--answers")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"{tmp_path / 'out' / 'manifest.csv'}:3: 2 keys of an earlier run")
    assert "(st002.key.yaml, st003.key.yaml)" in result.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before  # nothing written
    (tmp_path / "roster.csv").write_text("name,id\n" + "".join(f"Student,{s}\n" for s in ids), encoding="utf-8")
    result = run(tmp_path, "out")  # the same students without --answers: their old keys would stay
    assert result.exit_code == 2 and "3 keys of an earlier run" in result.stderr and "st001.key.yaml" in result.stderr
    for name in ("st002", "st003"):  # the old keys removed (their variants and sheets, never graded, may stay)
        (tmp_path / "out" / f"{name}.key.yaml").unlink()
    (tmp_path / "roster.csv").write_text(f"name,id\nStudent,{ids[0]}\n", encoding="utf-8")
    assert run(tmp_path, "out", "--answers").exit_code == 0  # the folder's keys are this run's again
    (tmp_path / "out" / "manifest.csv").write_text(
        "student,attempt,seed,variant,key,sheet,redraws\nx,1,0,../hw.yaml,../hw.yaml,/etc/passwd,\n", encoding="utf-8"
    )  # names that are not a file of the folder are never looked at
    assert run(tmp_path, "out", "--answers").exit_code == 0
