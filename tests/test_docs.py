"""docs/examples/ is the real Markdown of every built-in network example, and ``--check`` notices drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from backprop_cli import docs
from backprop_cli.loading.examples import EXAMPLES_DIR, example_names

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def expected() -> dict[str, str]:
    return docs.expected_files()


def test_docs_examples_are_up_to_date(expected: dict[str, str]) -> None:
    stale = docs.stale(REPO / "docs" / "examples", expected)
    assert not stale, f"docs/examples/ is stale ({', '.join(stale)}); regenerate with: python -m backprop_cli.docs"


def test_docs_do_not_name_the_install_directory(expected: dict[str, str]) -> None:
    assert not [name for name, text in expected.items() if str(EXAMPLES_DIR) in text]
    assert "- data: 150 rows (iris.csv); steps: 2000; rows shuffled each pass (seed 0)" in expected["iris.md"]


def test_each_file_is_its_listed_command(expected: dict[str, str]) -> None:
    files = expected
    index = files[docs.INDEX]
    assert "| [two_layer_relu](two_layer_relu.md) |" in index
    assert "`backprop trace two_layer_relu --format markdown` |" in index
    assert files["two_layer_relu.md"] == docs.run_cli(["trace", "two_layer_relu", "--format", "markdown"])
    network = [n for n in example_names() if docs.example_args(n) is not None]
    assert sorted(files) == sorted([f"{n}.md" for n in network] + [docs.INDEX])


def test_long_runs_are_shown_by_their_first_step(monkeypatch: pytest.MonkeyPatch) -> None:
    assert docs.example_args("single_neuron") == ["trace", "single_neuron", "--format", "markdown"]  # 2 steps
    monkeypatch.setattr(docs, "MAX_WHOLE_STEPS", 1)
    assert docs.example_args("single_neuron") == ["trace", "single_neuron", "--format", "markdown", "--step", "1"]


def test_check_mode_fails_on_a_changed_missing_or_extra_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"a.md": "# a\n", docs.INDEX: "# index\n"}
    monkeypatch.setattr(docs, "expected_files", lambda: files)
    assert docs.main(["--check", str(tmp_path)]) == 1  # nothing written yet
    assert docs.main([str(tmp_path)]) == 0
    assert docs.main(["--check", str(tmp_path)]) == 0
    (tmp_path / "a.md").write_text("# edited by hand\n", encoding="utf-8")
    (tmp_path / "old.md").write_text("# an example that was removed\n", encoding="utf-8")
    assert docs.main(["--check", str(tmp_path)]) == 1
    assert "stale in" in capsys.readouterr().err
    assert docs.stale(tmp_path, files) == ["a.md", "old.md"]
    assert docs.main([str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [docs.INDEX, "a.md"]
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "# a\n"
