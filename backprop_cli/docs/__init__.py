"""Generated documentation: the worked examples in ``docs/examples/`` and the README's command outputs.

``python -m backprop_cli.docs`` (from the repository root) writes ``docs/examples/NAME.md``, the
Markdown trace of every built-in network example, and an index; ``--check`` writes nothing and
exits 1 when a file is stale (CI and ``tests/test_docs.py`` run it). Each file is exactly what the
command listed in the index prints, run through the real CLI.

:func:`fenced` and :func:`python` are what the README's cog blocks call (``cog -r README.md``
regenerates them).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

DOCS_DIR = Path("docs") / "examples"
INDEX = "README.md"
MAX_WHOLE_STEPS = 10  # longer runs are shown by their first step (a full iris run is 2000 steps)
WIDTH = 100


def run_cli(args: Sequence[str], status: int = 0) -> str:
    """What ``backprop ARGS`` prints, run in-process with a fixed width and no colour; it must exit ``status``."""
    from click.testing import CliRunner

    from backprop_cli.cli.main import main

    result = CliRunner().invoke(
        main,
        list(args),
        prog_name="backprop",
        env={"NO_COLOR": None, "FORCE_COLOR": None, "COLUMNS": str(WIDTH)},
        terminal_width=WIDTH,
    )
    if result.exit_code != status:
        raise RuntimeError(f"backprop {shlex.join(args)} exited {result.exit_code}: {result.stderr or result.output}")
    return result.stdout


def fenced(args: str, language: str = "text", status: int = 0) -> str:
    """``backprop ARGS``'s output in a fence, trailing spaces trimmed (for cog blocks in the README).

    ``status`` is the exit status the command must end with (``backprop check`` of wrong answers: 1).
    """
    text = "\n".join(line.rstrip() for line in run_cli(shlex.split(args), status).splitlines())
    return f"```{language}\n{text}\n```\n"


def python(path: str) -> str:
    """A Python snippet file (``docs/snippets/``) and what it prints, run in a fresh namespace: the
    README's API examples. The snippet is shown as written in one fence and its output in a second,
    so a stale example is a cog diff like a stale command output."""
    import io
    from typing import Any

    source = Path(path).read_text(encoding="utf-8").strip("\n")
    printed = io.StringIO()

    def show(*values: Any, **options: Any) -> None:  # the snippet's print, into our buffer (cog owns stdout)
        print(*values, **options, file=printed)

    exec(compile(source, path, "exec"), {"__name__": "__readme__", "print": show})  # our own README's snippet
    output = "\n".join(line.rstrip() for line in printed.getvalue().splitlines())
    return f"```python\n{source}\n```\n\nprints:\n\n```text\n{output}\n```\n"


def example_args(name: str) -> list[str] | None:
    """The trace command that renders an example as Markdown; None for examples that are not networks."""
    import yaml

    from backprop_cli.loading.config import load_network as load
    from backprop_cli.loading.examples import example_path
    from backprop_cli.nn.engine import count_steps

    document = yaml.safe_load(example_path(name).read_text(encoding="utf-8"))  # a built-in file: trusted
    if not isinstance(document, dict) or "network" not in document:
        return None  # an expression program: the document formats lay out network traces
    spec, _ = load(name, None)
    args = ["trace", name, "--format", "markdown"]
    if count_steps(spec.data.rows, spec.training) > MAX_WHOLE_STEPS:
        args += ["--step", "1"]
    return args


def expected_files() -> dict[str, str]:
    """File name in ``docs/examples/`` → its content."""
    from backprop_cli.loading.examples import describe, example_names

    files: dict[str, str] = {}
    index = [
        "# Worked examples",
        "",
        "Generated from the built-in examples by `python -m backprop_cli.docs`; do not edit by hand.",
        "CI runs `python -m backprop_cli.docs --check`, which fails when a file here is stale.",
        f"Runs of more than {MAX_WHOLE_STEPS} steps are shown by their first step.",
        "",
        "| example | what it shows | command |",
        "| --- | --- | --- |",
    ]
    for name in example_names():
        args = example_args(name)
        if args is None:
            continue
        files[f"{name}.md"] = run_cli(args)
        description = describe(name).replace("|", r"\|")
        index.append(f"| [{name}]({name}.md) | {description} | `backprop {shlex.join(args)}` |")
    files[INDEX] = "\n".join(index) + "\n"
    return files


def stale(directory: Path, expected: dict[str, str]) -> list[str]:
    """Files that are missing, different, or left over (Markdown only)."""
    names = [n for n, text in expected.items() if not _same(directory / n, text)]
    extra = sorted(p.name for p in directory.glob("*.md") if p.name not in expected) if directory.is_dir() else []
    return names + extra


def _same(path: Path, text: str) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == text


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m backprop_cli.docs", description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DOCS_DIR, help=f"default: {DOCS_DIR}")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is stale")
    options = parser.parse_args(argv)
    directory: Path = options.directory
    expected = expected_files()
    out_of_date = stale(directory, expected)
    if options.check:
        if out_of_date:
            print(f"stale in {directory}: {', '.join(out_of_date)}; run: python -m backprop_cli.docs", file=sys.stderr)
            return 1
        print(f"{directory}: {len(expected)} files up to date")
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    for name in out_of_date:
        path = directory / name
        if name in expected:
            path.write_text(expected[name], encoding="utf-8", newline="\n")
        else:
            path.unlink()
    print(f"{directory}: {len(out_of_date)} of {len(expected)} files written or removed")
    return 0
