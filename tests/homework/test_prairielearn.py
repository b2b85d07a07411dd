"""`backprop export prairielearn`: the question's server.py imported and called as PrairieLearn does."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.homework import prairielearn as pl
from tests.homework.test_variants import TEMPLATE


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def export(tmp_path: Path, *extra: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "hw.yaml").write_text(TEMPLATE, encoding="utf-8")
    out = tmp_path / "questions" / "hw3"
    result = invoke("export", "prairielearn", str(tmp_path / "hw.yaml"), "-o", str(out), *extra)
    assert result.exit_code == 0, result.stderr
    return out


def server(folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"server_{abs(hash(folder))}", folder / "server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fresh(seed: int) -> dict[str, Any]:
    """The data dictionary PrairieLearn passes to generate()."""
    return {"params": {}, "correct_answers": {}, "variant_seed": seed, "options": {}}


def test_the_question_files_and_a_stable_uuid(tmp_path: Path) -> None:
    out = export(tmp_path, "--phase", "forward")
    info = json.loads((out / "info.json").read_text(encoding="utf-8"))
    assert info["type"] == "v3" and info["title"] == "hw"
    again = export(tmp_path / "again", "--phase", "forward")
    assert json.loads((again / "info.json").read_text(encoding="utf-8"))["uuid"] == info["uuid"]
    html = (out / "question.html").read_text(encoding="utf-8")
    labels = re.findall(
        r'<pl-number-input answers-name="(q\d+)" label="([^"]+)" comparison="relabs" rtol="0.001"', html
    )
    # the 2-2-1 network's forward phase: z and a of h's two units and o's one
    assert labels == [("q1", "h.z1"), ("q2", "h.z2"), ("q3", "h.a1"), ("q4", "h.a2"), ("q5", "o.z1"), ("q6", "o.a1")]


def test_generate_and_grade_agree_with_backprop_check(tmp_path: Path) -> None:
    out = export(tmp_path, "--phase", "forward")
    module = server(out)
    data = fresh(20240917)
    module.generate(data)
    again = fresh(20240917)
    module.generate(again)
    assert again == data  # a variant seed always gives the same variant
    other = fresh(7)
    module.generate(other)
    assert other["params"]["config"] != data["params"]["config"]
    config = tmp_path / "variant.yaml"
    config.write_text(data["params"]["config"], encoding="utf-8")
    key = tmp_path / "key.yaml"
    assert invoke("answers", str(config), "--phase", "forward", "-o", str(key)).exit_code == 0
    expected = {a: v for a, v in re.findall(r"(?m)^  (\S+): (\S+)$", key.read_text(encoding="utf-8"))}
    names = data["params"]["names"]
    assert [data["correct_answers"][f"q{i + 1}"] for i in range(len(names))] == [float(expected[n]) for n in names]
    # a student: two right (one typed with a decimal comma), one wrong, one not a number, two blank
    q1 = data["correct_answers"]["q1"]
    submitted = {"q1": f"{q1:.6f}".replace(".", ","), "q2": data["correct_answers"]["q2"], "q3": 5.0, "q4": "abc"}
    data.update(submitted_answers=submitted, format_errors={}, partial_scores={}, score=0, feedback={})
    module.grade(data)
    assert [data["partial_scores"][f"q{i}"]["score"] for i in range(1, 7)] == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert data["score"] == 2 / 6 and "h.a2: invalid" in data["feedback"]["backprop"]
    sheet = tmp_path / "sheet.yaml"  # the same answers, graded by check
    text = key.read_text(encoding="utf-8")
    for index, name in enumerate(names, start=1):
        given = submitted.get(f"q{index}", "")
        text = re.sub(rf"(?m)^  {re.escape(name)}: .*$", f"  {name}: {given}", text)
    sheet.write_text(text, encoding="utf-8")
    report = json.loads(invoke("check", str(sheet), "--key", str(key), "--format", "json").stdout)
    assert report["score"] / report["max_score"] == data["score"]
    assert [a["verdict"] for a in report["answers"]] == ["correct", "correct", "wrong", "invalid", "missing", "missing"]


def test_a_template_that_is_not_a_network_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("just: text\n", encoding="utf-8")
    result = invoke("export", "prairielearn", str(tmp_path / "t.yaml"), "-o", str(tmp_path / "q"))
    assert result.exit_code == 2 and "expected a network config" in result.stderr and not (tmp_path / "q").exists()


def test_a_tolerance_reaches_the_inputs_and_the_grading(tmp_path: Path) -> None:
    out = export(tmp_path, "--phase", "forward", "--tolerance", "decimals=2")
    html = (out / "question.html").read_text(encoding="utf-8")
    assert html.count('comparison="decdig" digits="2"') == 6
    module = server(out)
    data = fresh(3)
    module.generate(data)
    q1 = data["correct_answers"]["q1"]
    # within half a unit of the second decimal passes, beyond it fails (rounded to 2 decimals)
    data.update(submitted_answers={"q1": q1 + 0.004, "q2": data["correct_answers"]["q2"] + 0.006})
    module.grade(data)
    assert (data["partial_scores"]["q1"]["score"], data["partial_scores"]["q2"]["score"]) == (1.0, 0.0)
    bad = invoke(
        "export", "prairielearn", str(tmp_path / "hw.yaml"), "-o", str(tmp_path / "q2"), "--tolerance", "loose"
    )
    assert bad.exit_code == 2 and bad.stderr.startswith("--tolerance: 'loose' is not a tolerance")


def uuid_of(folder: Path) -> str:
    return str(json.loads((folder / "info.json").read_text(encoding="utf-8"))["uuid"])


def export_to(tmp_path: Path, qid: str, *extra: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "hw.yaml").write_text(TEMPLATE, encoding="utf-8")
    out = tmp_path / "questions" / qid
    result = invoke("export", "prairielearn", str(tmp_path / "hw.yaml"), "-o", str(out), *extra)
    assert result.exit_code == 0, result.stderr
    return out


def test_two_questions_of_one_template_get_two_uuids(tmp_path: Path) -> None:
    # PrairieLearn refuses two questions of one uuid in a course: the phase asked makes another question
    forward = export_to(tmp_path, "hw3fwd", "--phase", "forward")
    backward = export_to(tmp_path, "hw3bwd", "--phase", "backward")
    assert uuid_of(forward) != uuid_of(backward)
    # the same filters written into another question directory: a copy, which needs its own uuid
    copy = export_to(tmp_path, "hw3copy", "--phase", "forward")
    assert uuid_of(copy) != uuid_of(forward)
    # and another selection under the same directory name is another question too
    other = export_to(tmp_path / "other", "hw3fwd", "--phase", "forward", "--layer", "o")
    assert uuid_of(other) != uuid_of(forward)
    # nested QIDs (questions/hw3/q1, questions/practice/q1): the path under questions/ tells them apart
    nested = [export_to(tmp_path / "nested", f"{folder}/q1", "--phase", "forward") for folder in ("hw3", "practice")]
    assert uuid_of(nested[0]) != uuid_of(nested[1])
    assert pl.question_id(str(nested[0])) == "hw3/q1" and pl.question_id(str(tmp_path / "q9")) == "q9"


def test_a_re_export_keeps_its_uuid_and_every_byte(tmp_path: Path) -> None:
    first = export_to(tmp_path / "a", "hw3", "--phase", "forward", "--phase", "loss", "--only", "o.*", "--only", "h.*")
    # the same selection, its options in another order and repeated, into a directory of the same name
    again_options = ("--only", "h.*", "--phase", "loss", "--only", "o.*", "--phase", "forward", "--phase", "loss")
    again = export_to(tmp_path / "b", "hw3", *again_options)
    for name in ("info.json", "question.html", "server.py"):
        assert (again / name).read_bytes() == (first / name).read_bytes(), name
