"""The outputs quoted in README.md are the real outputs of the commands that precede them.

Each ``<!-- begin: backprop ARGS -->`` … ``<!-- end -->`` block holds what ``backprop ARGS`` prints, in a
``text`` fence. After an intended change, regenerate with ``BACKPROP_UPDATE_GOLDEN=1 pytest tests/test_readme.py``.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from backprop_cli.cli import main

README = Path(__file__).parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- begin: backprop (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)


def output_of(args: str) -> str:
    result = CliRunner().invoke(
        main,
        shlex.split(args),
        prog_name="backprop",
        env={"NO_COLOR": None, "FORCE_COLOR": None, "COLUMNS": "100"},
        terminal_width=100,
    )
    assert result.exit_code == 0, result.output
    return result.output


def fenced(args: str) -> str:
    text = "\n".join(line.rstrip() for line in output_of(args).splitlines())
    return f"```text\n{text}\n```\n"


def test_readme_blocks_are_the_real_output() -> None:
    readme = README.read_text(encoding="utf-8")
    blocks = list(BLOCK.finditer(readme))
    assert len(blocks) >= 4, "README lost its generated blocks"
    updated = BLOCK.sub(lambda m: m.group(1) + fenced(m.group("args")) + m.group(4), readme)
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        README.write_text(updated, encoding="utf-8")
    stale = [m.group("args") for m, n in zip(blocks, BLOCK.finditer(updated), strict=True) if m.group() != n.group()]
    assert not stale, f"README blocks out of date: {stale}; regenerate with BACKPROP_UPDATE_GOLDEN=1"


def test_readme_opens_with_the_two_set_up_commands() -> None:
    fences = re.findall(r"```sh\n(.*?)\n```", README.read_text(encoding="utf-8"), re.S)
    install, tests = fences[0], fences[1]
    assert install.endswith("pip install . && backprop trace")
    assert tests.endswith("pip install '.[test]' && pytest")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install '.[test]' && pytest" in ci, ".ci/run must run the README's test command"
