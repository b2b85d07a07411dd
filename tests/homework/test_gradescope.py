"""`backprop autograder gradescope`: the zip, unpacked into a simulated Gradescope layout and run there."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from backprop_cli import __version__
from backprop_cli.cli.main import main
from tests.homework.test_check import GRADESCOPE_SCHEMA
from tests.homework.test_variants import course


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


def unpack(archive: Path, root: Path) -> Path:
    """Gradescope's layout: the zip in /autograder/source, the submission in /autograder/submission."""
    source = root / "source"
    with zipfile.ZipFile(archive) as z:
        z.extractall(source)
        for info in z.infolist():  # extractall drops the modes: Gradescope's unzip keeps them
            os.chmod(source / info.filename, (info.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    return source


def run_autograder(root: Path, student: str | None) -> dict[str, Any]:
    if student is not None:
        metadata = {"users": [{"sid": student, "email": f"{student}@example.edu", "name": "A Student", "id": 7}]}
        (root / "submission_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    env = {**os.environ, "BACKPROP_AUTOGRADER_ROOT": str(root), "BACKPROP_PYTHON": sys.executable}
    site = root / "site"
    if not site.exists():  # the zip's own tool, installed as setup.sh installs it (offline: no dependencies)
        from tests.homework.test_wheel import install

        install(next((root / "source").glob("*.whl")), site)
    env["PYTHONPATH"] = str(site)
    done = subprocess.run(
        [str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def mazur_config(tmp_path: Path) -> Path:
    """Mazur's 2-2-2 network as a course's config, in tmp_path/course."""
    from backprop_cli.loading.examples import example_path

    config = tmp_path / "course" / "net.yaml"
    config.parent.mkdir()
    config.write_text(example_path("classic_2_2_2").read_text(encoding="utf-8"), encoding="utf-8")
    return config


def forward_zip(tmp_path: Path, *options: str) -> tuple[Path, Path, Path]:
    """Mazur's config, its key of the forward names, and the zip of that key (made with ``options``)
    unpacked into a simulated Gradescope layout: (config, key, the layout's root)."""
    config = mazur_config(tmp_path)
    key = tmp_path / "hw.yaml"
    assert invoke("answers", str(config), "--phase", "forward", "-o", str(key)).exit_code == 0
    archive = tmp_path / "a.zip"
    made = invoke("autograder", "gradescope", "--key", str(key), *options, "-o", str(archive))
    assert made.exit_code == 0, made.stderr
    root = tmp_path / "autograder"
    unpack(archive, root)
    return config, key, root


@pytest.fixture
def variants(tmp_path: Path) -> Path:
    course(tmp_path, 3)
    result = invoke(
        "variants", str(tmp_path / "hw.yaml"), "--roster", str(tmp_path / "roster.csv"),
        "--secret-file", str(tmp_path / "course.key"), "-o", str(tmp_path / "out"), "--answers", "--phase", "forward",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return tmp_path / "out"


def test_the_zip_runs_in_a_simulated_gradescope_layout_and_agrees_with_check(variants: Path, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra: pip install '.[test]'")
    archive = tmp_path / "autograder.zip"
    result = invoke("autograder", "gradescope", "--key", str(variants), "-o", str(archive), "--reveal", "wrong")
    assert result.exit_code == 0, result.stderr
    names = zipfile.ZipFile(archive).namelist()
    assert {"setup.sh", "run_autograder", "backprop-autograder.json", "keys/st002.key.yaml", "keys/st002.yaml"} <= set(
        names
    )
    root = tmp_path / "autograder"
    source = unpack(archive, root)
    setup = (source / "setup.sh").read_text(encoding="utf-8")
    tool = f"backprop_cli-{__version__}-py3-none-any.whl"
    assert f'pip install --constraint "$here/constraints.txt" "$here/{tool}"' in setup and "==" not in setup
    assert (source / tool).is_file() and "click==" in (source / "constraints.txt").read_text(encoding="utf-8")
    # st002 hands in their key with one answer changed, and claims to be st001 (ignored: Gradescope says who)
    sheet = (variants / "st002.key.yaml").read_text(encoding="utf-8").replace('student: "st002"', 'student: "st001"')
    sheet, count = re.subn(r"(?m)^  h\.z1: .*$", "  h.z1: 123", sheet)
    assert count == 1
    (root / "submission" / "answers.yaml").write_text(sheet, encoding="utf-8")
    results = run_autograder(root, "st002")
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    expected = invoke("check", str(root / "submission" / "answers.yaml"), "--key", str(variants / "st002.key.yaml"),
                      "--format", "json")  # fmt: skip
    check = json.loads(expected.stdout)
    assert (
        (results["score"], results["max_score"]) == (check["score"], check["max_score"]) == (5.0, 6.0)
    )  # 2-2-1 forward: 6 names
    first = results["tests"][0]
    assert (first["name"], first["number"], first["status"], first["tags"]) == ("h.z1", "1", "failed", ["forward"])
    assert first["output_format"] == "md" and "expected" in first["output"]
    manifest = (variants / "manifest.csv").read_text(encoding="utf-8")
    seed = next(line.split(",")[2] for line in manifest.splitlines() if line.startswith("st002,"))
    assert results["extra_data"]["seed"] == seed and results["extra_data"]["student"] == "st002"


def test_no_variant_no_answers_file_and_a_broken_sheet_still_write_results(variants: Path, tmp_path: Path) -> None:
    archive = tmp_path / "autograder.zip"
    assert invoke("autograder", "gradescope", "--key", str(variants), "-o", str(archive)).exit_code == 0
    root = tmp_path / "autograder"
    unpack(archive, root)
    results = run_autograder(root, "st002")
    assert results["score"] == 0 and "No answers file" in results["output"]
    (root / "submission" / "answers.yaml").write_text("just: text\n", encoding="utf-8")
    results = run_autograder(root, "nobody")
    assert results["score"] == 0 and "No variant for the student id `nobody`" in results["output"]
    results = run_autograder(root, "st003")
    assert results["score"] == 0 and "could not be graded" in results["output"] and "no answers" in results["output"]


def test_one_key_for_everyone(tmp_path: Path) -> None:
    config = mazur_config(tmp_path)
    keys = tmp_path / "keys"
    keys.mkdir()
    assert invoke("answers", str(config), "--phase", "update", "-o", str(keys / "hw.yaml")).exit_code == 0
    archive = tmp_path / "a.zip"
    assert invoke("autograder", "gradescope", "--key", str(keys / "hw.yaml"), "-o", str(archive)).exit_code == 0
    root = tmp_path / "autograder"
    unpack(archive, root)
    (root / "submission" / "mine.yaml").write_text((keys / "hw.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    results = run_autograder(root, None)
    assert results["score"] == results["max_score"] == 12.0  # the 2-2-2 network's updates: 8 weights, 4 biases


def test_the_filters_are_recorded_in_the_zip_and_students_never_see_the_instructors_hint(tmp_path: Path) -> None:
    config = mazur_config(tmp_path)
    key, sheet = tmp_path / "key.yaml", tmp_path / "sheet.yaml"
    assert invoke("answers", str(config), "-o", str(key)).exit_code == 0  # the key of every name
    assert invoke("answers", str(config), "--phase", "backward", "-o", str(sheet)).exit_code == 0  # all right
    for filters, expected in (((), None), (("--phase", "backward"), 1.0)):
        archive = tmp_path / f"a{len(filters)}.zip"
        made = invoke("autograder", "gradescope", "--key", str(key), *filters, "-o", str(archive))
        assert made.exit_code == 0, made.stderr
        root = tmp_path / f"autograder{len(filters)}"
        source = unpack(archive, root)
        settings = json.loads((source / "backprop-autograder.json").read_text(encoding="utf-8"))
        assert settings["filters"]["phases"] == list(filters[1:])
        (root / "submission" / "sheet.yaml").write_text(sheet.read_text(encoding="utf-8"), encoding="utf-8")
        results = run_autograder(root, None)
        assert "filters" not in results["output"] and "give check" not in results["output"], results["output"]
        if expected is None:  # every name asked: the sheet's backward names right, the rest missing
            assert 0 < results["score"] < results["max_score"]
            assert "your sheet does not list" in results["output"]
        else:
            assert results["score"] == results["max_score"] > 0
            assert {t["tags"][0] for t in results["tests"]} == {"backward"}


def test_the_answers_file_is_found_beside_the_config_in_a_submission(tmp_path: Path) -> None:
    config, key, root = forward_zip(tmp_path)
    (root / "submission" / "a_net.yaml").write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "submission" / "mine.yaml").write_text(key.read_text(encoding="utf-8"), encoding="utf-8")
    results = run_autograder(root, None)
    assert results["score"] == results["max_score"] == 8.0, results["output"]


def test_a_symbolic_link_in_the_submission_is_not_followed(variants: Path, tmp_path: Path) -> None:
    archive = tmp_path / "autograder.zip"
    assert invoke("autograder", "gradescope", "--key", str(variants), "-o", str(archive)).exit_code == 0
    root = tmp_path / "autograder"
    source = unpack(archive, root)
    (root / "submission" / "answers.yaml").symlink_to(source / "keys" / "st002.key.yaml")  # the key itself
    results = run_autograder(root, "st002")
    assert results["score"] == 0 and "symbolic links (`answers.yaml`), which are not followed" in results["output"]


def test_missing_or_broken_metadata_says_what_is_wrong_with_it(variants: Path, tmp_path: Path) -> None:
    archive = tmp_path / "autograder.zip"
    assert invoke("autograder", "gradescope", "--key", str(variants), "-o", str(archive)).exit_code == 0
    root = tmp_path / "autograder"
    unpack(archive, root)
    (root / "submission" / "answers.yaml").write_text((variants / "st001.key.yaml").read_text(encoding="utf-8"))
    metadata = root / "submission_metadata.json"
    results = run_autograder(root, None)
    assert results["score"] == 0 and "submission_metadata.json is missing" in results["output"]
    assert "None" not in results["output"]
    for text, expected in (
        ("{not json", "submission_metadata.json is not valid JSON"),
        ('{"users": []}', "lists no submitter"),
        ('{"users": [{"name": "A"}]}', "first user has no 'sid'"),
    ):
        metadata.write_text(text, encoding="utf-8")
        results = run_autograder(root, None)
        assert results["score"] == 0 and expected in results["output"], results["output"]
    results = run_autograder(root, "st001")
    assert results["score"] == results["max_score"] > 0


def test_student_text_cannot_inject_markdown_into_the_results(tmp_path: Path) -> None:
    from backprop_cli.homework import gradescope as gs

    assert gs.code_span("1``2") == "```1``2```" and gs.code_span("`x") == "`` `x ``"
    assert gs.code_span("a\n# b") == "`a # b`"  # one line: no heading
    assert gs.plain_markdown("[x](http://e) <img> **b**") == r"\[x\](http://e) \<img> \*\*b\*\*"
    _, key, root = forward_zip(tmp_path)
    evil = "'x` [click](http://evil.example) `'"
    sheet = re.sub(r"(?m)^  h\.z1:.*$", f'  h.z1: "{evil[1:-1]}"', key.read_text(encoding="utf-8"))
    sheet = sheet.replace("  h.a2:", "  '[h](http://evil.example)':")  # a stray name, quoted in a note
    (root / "submission" / "mine.yaml").write_text(sheet, encoding="utf-8")
    results = run_autograder(root, None)
    first = next(t for t in results["tests"] if t["name"] == "h.z1")
    assert first["output"].startswith("given `` x` [click](http://evil.example) ` ``: **invalid**"), first["output"]
    assert not re.search(r"(?<!\\)\]\(http", results["output"]) and r"\[h\](http://evil.example)" in results["output"]


# ---------------------------------------------------------------- the audit's findings

AUTOGRADER_EXTRA = ("student", "seed", "key_sha256", "config_sha256", "tool", "submission", "ignored")


def zipped(variants: Path, tmp_path: Path, *options: str) -> Path:
    """The zip of the variants' keys, unpacked into a simulated Gradescope layout: its root."""
    archive = tmp_path / "autograder.zip"
    made = invoke("autograder", "gradescope", "--key", str(variants), "-o", str(archive), *options)
    assert made.exit_code == 0, made.stderr
    root = tmp_path / "autograder"
    unpack(archive, root)
    return root


def test_the_autograder_gives_the_feedback_check_gives_for_the_same_sheet_and_key(tmp_path: Path) -> None:
    _, key, root = forward_zip(tmp_path, "--reveal", "wrong")
    # Mazur's forward pass with h.z1 slipped to 0.5 and h.a1 = σ(0.5) = 0.622459 computed from it (ECF)
    sheet = re.sub(r"(?m)^  h\.z1: .*$", "  h.z1: 0.5", key.read_text(encoding="utf-8"))
    sheet = re.sub(r"(?m)^  h\.a1: .*$", "  h.a1: 0.622459", sheet)
    (root / "submission" / "answers.yaml").write_text(sheet, encoding="utf-8")
    results = run_autograder(root, None)
    checked = invoke("check", str(root / "submission" / "answers.yaml"), "--key", str(key),
                     "--format", "gradescope", "--reveal", "wrong")  # fmt: skip
    assert checked.exit_code == 1, checked.stderr
    check = json.loads(checked.stdout)
    assert results["tests"] == check["tests"]  # the same tests, word for word: one code path
    ours = {k: v for k, v in results["extra_data"].items() if k in AUTOGRADER_EXTRA}
    assert results["extra_data"] == check["extra_data"] | ours and set(ours) == set(AUTOGRADER_EXTRA)
    assert results["extra_data"]["first_wrong_step"] == "h.z1" and results["extra_data"]["counts"]["ecf"] > 0
    assert results["output"].startswith(check["output"] + "\n\n")  # and which file was graded
    assert {k: v for k, v in results.items() if k not in ("tests", "extra_data", "output")} == {
        k: v for k, v in check.items() if k not in ("tests", "extra_data", "output")
    }
    tests = {t["name"]: t for t in results["tests"]}
    assert "the first wrong step" in tests["h.z1"]["output"] and tests["h.z1"]["extra_data"]["first_wrong_step"]
    assert "**correct given your values**" in tests["h.a1"]["output"] and "**ecf**" not in json.dumps(results)
    assert "with your h.z1 = 0.5: h.a1 = " in tests["h.a1"]["output"], tests["h.a1"]["output"]


def test_students_see_no_server_path_and_no_hash(variants: Path, tmp_path: Path) -> None:
    root = zipped(variants, tmp_path)
    # st002 hands in st001's sheet: written for another variant (its config.sha256 is st001's config's)
    (root / "submission" / "answers.yaml").write_text((variants / "st001.key.yaml").read_text(encoding="utf-8"))
    results = run_autograder(root, "st002")
    shown = json.dumps({k: v for k, v in results.items() if k != "extra_data"})
    assert results["score"] == 0 and str(root) not in shown and "/autograder" not in shown
    assert not re.search(r"[0-9a-f]{12}", shown) and "sha256" not in shown, shown
    assert "`answers.yaml` was written for another version of the assignment" in results["output"], shown
    extra = results["extra_data"]
    assert (
        re.fullmatch(r"[0-9a-f]{64}", extra["sheet_config_sha256"])
        and extra["sheet_config_sha256"] != extra["config_sha256"]
    )
    (root / "submission" / "answers.yaml").write_text("answers: [1, 2\n", encoding="utf-8")  # not YAML at all
    results = run_autograder(root, "st002")
    assert results["score"] == 0 and str(root) not in results["output"], results["output"]
    assert "`answers.yaml`" in results["output"] or "answers.yaml:" in results["output"], results["output"]


def test_a_result_that_grades_nothing_still_has_its_max_score(variants: Path, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra: pip install '.[test]'")
    root = zipped(variants, tmp_path)
    outcomes = [run_autograder(root, "st002")]  # no answers file
    (root / "submission" / "answers.yaml").write_text("just: text\n", encoding="utf-8")
    outcomes += [run_autograder(root, "nobody"), run_autograder(root, "st003")]  # no variant; unreadable
    (root / "submission_metadata.json").unlink()
    outcomes.append(run_autograder(root, None))  # no metadata
    for results in outcomes:
        jsonschema.validate(results, GRADESCOPE_SCHEMA)
        assert (results["score"], results["max_score"]) == (0, 6.0), results  # 2-2-1 forward: 6 names


def test_markdown_is_escaped_once_and_only_where_markdown_needs_it() -> None:
    from backprop_cli.homework.gradescope import plain_markdown

    assert plain_markdown("h.b1 (did you mean this one?)") == "h.b1 (did you mean this one?)"
    assert plain_markdown("o.dL_dw1_1 = 2·x, 3.5!") == "o.dL_dw1_1 = 2·x, 3.5!"  # intraword _: no emphasis
    assert plain_markdown("_a_ *b* `c` ~d~ &amp; a & b") == r"\_a\_ \*b\* \`c\` \~d\~ \&amp; a & b"
    assert plain_markdown("[x](http://e) <img>") == r"\[x\](http://e) \<img>"
    assert plain_markdown("# h\n- l\n1. n\n> q") == "\\# h\n\\- l\n1\\. n\n\\> q"
    assert plain_markdown("a - b # c > d 1. e") == "a - b # c > d 1. e"  # mid-line: plain


def test_a_misspelt_name_is_quoted_without_stray_backslashes(tmp_path: Path) -> None:
    _, key, root = forward_zip(tmp_path)
    sheet = key.read_text(encoding="utf-8").replace("  h.a2:", "  h.a_2:")
    (root / "submission" / "mine.yaml").write_text(sheet, encoding="utf-8")
    results = run_autograder(root, None)
    test = next(t for t in results["tests"] if t["name"] == "h.a2")
    assert "(did you mean this one?)" in test["output"] and "\\(" not in json.dumps(results), test["output"]


def test_two_answers_files_are_refused_and_a_config_beside_one_is_named(tmp_path: Path) -> None:
    config, key, root = forward_zip(tmp_path)
    right = key.read_text(encoding="utf-8")
    (root / "submission" / "a.yaml").write_text(re.sub(r"(?m)^  h\.z1: .*$", "  h.z1: 9", right), encoding="utf-8")
    (root / "submission" / "b.yaml").write_text(right, encoding="utf-8")
    results = run_autograder(root, None)  # a draft and a final? the autograder cannot know which
    assert (results["score"], results["max_score"]) == (0, 8.0) and results["tests"] == []
    assert "2 answers files (`a.yaml`, `b.yaml`)" in results["output"], results["output"]
    (root / "submission" / "a.yaml").unlink()
    (root / "submission" / "net.yaml").write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    results = run_autograder(root, None)
    assert results["score"] == results["max_score"] == 8.0
    assert "Graded `b.yaml`; not graded: `net.yaml` (not an answers file)" in results["output"], results["output"]
    assert (results["extra_data"]["submission"], results["extra_data"]["ignored"]) == ("b.yaml", ["net.yaml"])
    (root / "submission" / "copy.yaml").write_text(right, encoding="utf-8")  # the same sheet twice: no doubt
    results = run_autograder(root, None)
    assert results["score"] == 8.0 and "`copy.yaml` (the same as `b.yaml`)" in results["output"], results["output"]


@pytest.mark.parametrize("python3", ["3.10", "3.11"])
def test_setup_sh_installs_the_wheel_in_a_venv_of_a_python_from_3_11_on_and_run_autograder_uses_it(
    tmp_path: Path, python3: str
) -> None:
    """setup.sh where python3 is too old (Ubuntu 22.04's 3.10): it asks apt for python3.11 (a stand-in
    that "installs" this machine's Python); where it is 3.11, it asks apt for nothing. Either way it
    makes a venv in the source folder and installs the zip's wheel there, and run_autograder runs that
    venv's Python. Offline: pip is told (by its environment variables) no index and no dependencies;
    the dependencies come from this Python's."""
    import shutil
    import sysconfig

    _, key, root = forward_zip(tmp_path)
    source = root / "source"
    bin_ = tmp_path / "bin"  # the only PATH: the tools setup.sh needs, a python3 of 3.10, and apt-get
    bin_.mkdir()
    for tool in ("bash", "env", "dirname", "rm", "cat"):
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_ / tool).symlink_to(found)
    real = getattr(sys, "_base_executable", sys.executable)
    if python3 == "3.10":
        (bin_ / "python3").write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")  # sys.version_info < (3, 11)
    else:
        (bin_ / "python3").symlink_to(real)
    log = tmp_path / "apt.log"
    (bin_ / "apt-get").write_text(
        f'#!/bin/sh\necho "$*" >> {log}\n[ "$1" = install ] && /bin/ln -sf {real} {bin_}/python3.11\nexit 0\n',
        encoding="utf-8",
    )
    for script in ("python3", "apt-get") if python3 == "3.10" else ("apt-get",):
        (bin_ / script).chmod(0o755)
    env = {"PATH": str(bin_), "HOME": str(tmp_path), "PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1"}
    env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run([str(source / "setup.sh")], cwd=source, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    asked = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    assert asked == (["update", "install -y python3.11 python3.11-venv"] if python3 == "3.10" else [])
    venv_python = source / "venv" / "bin" / "python"
    where = subprocess.run(
        [str(venv_python), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, timeout=60
    )
    assert where.stdout.strip() == str(source / "venv"), where.stderr
    metadata = {"users": [{"sid": "s1", "email": "s1@example.edu", "name": "A Student", "id": 7}]}
    (root / "submission_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    (root / "submission" / "mine.yaml").write_text(key.read_text(encoding="utf-8"), encoding="utf-8")
    # click, rich, numpy, pydantic (not installed offline) from this Python's, by a .pth file: after the
    # venv's own site-packages, so that the wheel setup.sh installed is what runs even where this
    # environment has the tool installed too (CI's `pip install .`), which PYTHONPATH would put first
    own = subprocess.run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    (Path(own) / "this-pythons-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "BACKPROP_AUTOGRADER_ROOT": str(root)}
    code = "import backprop_cli; print(backprop_cli.__file__)"
    imported = subprocess.run([str(venv_python), "-c", code], cwd=root, env=env, capture_output=True, text=True,
                              timeout=60)  # fmt: skip
    assert imported.stdout.startswith(str(source / "venv")), imported.stdout + imported.stderr
    ran = subprocess.run(
        [str(source / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == results["max_score"] == 8.0


def test_the_scripts_choose_python_by_version_and_run_the_venv() -> None:
    from backprop_cli.homework import gradescope as gs

    script = gs.setup_sh("tool.whl")
    for candidate in ("python3.13", "python3.12", "python3.11", "python3"):
        assert candidate in script
    assert "sys.version_info >= (3, 11)" in script and "-m venv" in script and "--break-system-packages" not in script
    assert 'venv/bin/python" -m pip install --constraint' in script
    assert "BACKPROP_PYTHON:-" in gs.run_autograder() and "/source/venv/bin/python" in gs.run_autograder()
