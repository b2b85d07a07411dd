"""What every command shares (backprop_cli/clikit.py): here, shell completion of CONFIG arguments."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main
from backprop_cli.loading.examples import example_names


def complete(words: str) -> list[tuple[str, str]]:
    """What bash completion offers for ``words`` (its last word is the one being completed)."""
    env = {"_BACKPROP_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    result = CliRunner().invoke(main, [], env=env, prog_name="backprop")
    return [tuple(line.split(",", 1)) for line in result.stdout.splitlines()]  # type: ignore[misc]


@pytest.mark.parametrize("command", ["trace", "validate", "answers", "names", "graph", "train", "gradcheck", "explain"])
def test_a_config_argument_completes_example_names_then_files(command: str) -> None:
    # regression: CONFIG completed nothing; the built-in examples are what a new user types first
    offered = complete(f"backprop {command} x")
    assert offered == [*(("plain", n) for n in example_names() if n.startswith("x")), ("file", "x")]
    assert ("plain", "xor") in offered
    everything = complete(f"backprop {command} ''")
    assert [name for kind, name in everything if kind == "plain"] == example_names()
