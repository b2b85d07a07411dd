"""Grading a class: one `backprop check --key DIR SUBMISSIONS` against a loop of single `backprop check` calls.

    python benchmarks/grading.py            # 1,000 students, each with their own variant (about a minute)
    python benchmarks/grading.py --quick    # 40 students: a smoke test, not a measurement

Each student has their own variant of Mazur's 2-2-2 network (a different h.w1_1) and a key for every
computed name of its one step (34 names); every submission is its key with one answer changed. The
batch is one subprocess; the loop is timed on a sample of single calls (each a fresh process, as a
shell loop runs them) and scaled to the class. Target (issue 15): the batch at least 20× faster.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = 20.0


def make_class(folder: Path, students: int) -> tuple[Path, Path]:
    from click.testing import CliRunner

    from backprop_cli.cli.main import main
    from backprop_cli.loading.examples import example_path

    base = example_path("classic_2_2_2").read_text(encoding="utf-8")
    keys, subs = folder / "keys", folder / "submissions"
    keys.mkdir()
    subs.mkdir()
    runner = CliRunner()
    for i in range(students):
        student = f"s{i:04d}"
        config = keys / f"{student}.yaml"
        config.write_text(base.replace("[[0.15,", f"[[{0.1 + i / (10 * students):.6f},"), encoding="utf-8")
        key = keys / f"{student}.key.yaml"
        done = runner.invoke(main, ["answers", str(config), "-o", str(key)])
        assert done.exit_code == 0, done.stderr
        text = re.sub(r"(?m)^  h\.z1: .*$", "  h.z1: 0.5", key.read_text(encoding="utf-8"))  # one wrong answer
        (subs / f"{student}.yaml").write_text(text, encoding="utf-8")
    return keys, subs


def seconds(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 students, 3 single calls: a smoke test")
    parser.add_argument("--students", type=int, default=None)
    parser.add_argument("--sample", type=int, default=None, help="single calls timed (default 20; 3 in --quick)")
    options = parser.parse_args()
    students = options.students or (40 if options.quick else 1000)
    sample = min(students, options.sample or (3 if options.quick else 20))
    cli = [sys.executable, "-m", "backprop_cli"]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        keys, subs = make_class(folder, students)
        batch = seconds([*cli, "check", "--key", str(keys), str(subs), "--gradebook", "grades.csv"], ROOT)
        rows = (ROOT / "grades.csv").read_text(encoding="utf-8").count("\n") - 1
        (ROOT / "grades.csv").unlink()
        singles = [
            seconds(
                [
                    *cli,
                    "check",
                    str(subs / f"s{i:04d}.yaml"),
                    "--key",
                    str(keys / f"s{i:04d}.key.yaml"),
                    "--format",
                    "gradescope",
                    "-o",
                    str(folder / "results.json"),
                ],
                ROOT,
            )
            for i in range(sample)
        ]
    per_call = statistics.median(singles)
    loop = per_call * students
    ratio = loop / batch
    met = "not measured in --quick" if options.quick else ("yes" if ratio >= TARGET else "NO")
    print(f"students: {students:,} (gradebook rows: {rows:,}); single calls timed: {sample}")
    print(f"batch: {batch:.2f} s ({1000 * batch / students:.1f} ms a student)")
    print(f"loop of single calls: {per_call:.3f} s a call × {students:,} = {loop:.1f} s")
    print(f"ratio: {ratio:.1f}× (target ≥ {TARGET:.0f}×): {met}")


if __name__ == "__main__":
    main()
