"""``python benchmarks/run.py --quick`` runs from the checkout and prints every figure (times are not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_command_runs_in_quick_mode_and_prints_every_benchmark() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("machine: ")
    assert lines[1].split() == ["benchmark", "measured", "target", "met"]
    rows = lines[3:]
    assert [row[:2] for row in rows][:1] == ["1 "] and {row[0] for row in rows} == {"1", "2", "3", "4", "5"}
    assert all(row.rstrip().endswith((" yes", " NO", " n/a", " not measured in --quick")) for row in rows), rows
    # 2, 3 and 5 run shrunken workloads in --quick: their targets are not measured, so never "NO" (nor "yes")
    assert all(row.rstrip().endswith((" n/a", "not measured in --quick")) for row in rows if row[0] in "235"), rows
    assert "M numbers/s" in done.stdout and "MiB vs" in done.stdout and "numpy loop" in done.stdout


def test_the_grading_benchmark_runs_in_quick_mode() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "grading.py"), "--quick", "--students", "8", "--sample", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "gradebook rows: 8" in done.stdout and "not measured in --quick" in done.stdout
