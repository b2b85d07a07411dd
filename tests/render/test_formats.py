"""``backprop trace --format markdown|latex|html|svg``: the registry, --output, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main
from backprop_cli.errors import ExitCode
from backprop_cli.render import FORMATS, writer
from tests.render.formats_helpers import trace


def test_every_registered_format_has_a_writer_and_is_offered() -> None:
    help_text = CliRunner().invoke(main, ["trace", "--help"]).output
    for name in FORMATS:
        assert callable(writer(name))
        assert name in help_text


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_output_file_holds_exactly_what_stdout_shows(name: str, tmp_path: Path) -> None:
    target = tmp_path / f"trace.{name}"
    result = CliRunner().invoke(main, ["trace", "xor", "--format", name, "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == trace("xor", "--format", name)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary left behind


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_a_failed_run_leaves_an_existing_file_alone(name: str, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("before", encoding="utf-8")
    result = CliRunner().invoke(main, ["trace", "xor", "--format", name, "--layer", "nope", "-o", str(target)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "--layer: unknown layer 'nope'" in result.stderr
    assert target.read_text(encoding="utf-8") == "before"


def test_refuses_to_overwrite_the_config(tmp_path: Path) -> None:
    config = tmp_path / "net.yaml"
    config.write_text(
        "network: {inputs: 1, layers: [{units: 1, activation: identity, weights: [[2.0]], biases: [0.0]}]}\n"
        "loss: sse\noptimizer: {name: sgd, learning_rate: 0.1}\ndata: [{x: 3, y: 10}]\n",
        encoding="utf-8",
    )
    before = config.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["trace", str(config), "--format", "markdown", "-o", str(config)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "refusing to overwrite the input" in result.stderr and "Traceback" not in result.stderr
    assert config.read_text(encoding="utf-8") == before


def test_unknown_format_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["trace", "--format", "pdf"])
    assert result.exit_code == 2
    assert "markdown" in result.stderr


def test_compact_is_for_networks_only() -> None:
    result = CliRunner().invoke(main, ["trace", "circuit_add_mul", "--format", "markdown", "--compact"])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "--compact applies to networks only" in result.stderr
