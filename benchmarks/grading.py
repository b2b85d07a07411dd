"""Grading a class: one `backprop check --key DIR SUBMISSIONS` against a loop of single `backprop check` calls.

    python benchmarks/grading.py            # 1,000 students, each with their own variant (about a minute)
    python benchmarks/grading.py --json     # the batch also writes the JSON gradebook (every sheet's feedback)
    python benchmarks/grading.py --quick    # 40 students: a smoke test, not a measurement

Each student has their own variant of Mazur's 2-2-2 network (a different h.w1_1) and a key for every
computed name of its one step (34 names); every submission is its key with one answer changed, a
different one from student to student (student i changes the (i mod 34)-th), so that the feedback a
wrong answer gets (misconceptions as mutated traces, hints) is computed in every phase, as in a real
class. That feedback is computed only where a report shows it: the batch's JSON gradebook (``--json``
here); the text report and the CSV show scores, verdicts and notes, so the default batch computes none
(the single calls, Gradescope's results.json, always do). The batch is one subprocess; the loop is
timed on a sample of single calls (each a fresh process, as a shell loop runs them) and scaled to the
class. Target (issue 15): the batch at least 20× faster. The load average is printed before and after:
on a shared machine the times move with it.

Measured on 2026-12-04 (a 2-core machine, load average 0.7 to 1.0; the README quotes it): the batch
2.47 and 2.45 s of wall-clock time (4.5 s of CPU time), a single call 0.19 s: 78× and 74× (65× and
64× in CPU time); with --json 4.42 s, 41×. In one process (BACKPROP_JOBS=1) the batch takes 4.0 to
4.2 s; with 2 workers 2.4 to 2.6 s, the same bytes.

Earlier measurements (each change against the tree before it, on the machines of the day):
- 2026-12-02, a shared 2-core machine under heavy load (load average 10): the batch 83.8 s of
  wall-clock time and 17.9 s of CPU time, a single call 1.75 s (0.52 s of CPU): 20.9× (28.7× in CPU
  time). A profile of 200 students: a third the misconceptions' mutated traces, a fifth each key's own
  trace, a sixth parsing YAML.
- 2026-12-03, load 1.2 to 3.0, seven alternate pairs: the engine's Protocol isinstance checks (17 to
  31 µs each, about 68,000 in the class) remembered per layer class: CPU time 15.1 → 13.0 s (median).
- 2026-12-03, load 4.9 to 6.7, main's tree against this one alternately: no feedback computed for the
  text report and the CSV, and the cycle collector off: 20.1 → 11.7 s of CPU time (median of three
  pairs); with --format json 22.4 and 23.6 s before, 21.8 and 21.5 s after. Five more pairs (load 6.0
  to 6.6): 9.4 / 5.9, 9.7 / 10.8, 22.9 / 13.6, 23.9 / 13.1, 22.6 / 13.6 s, a median ratio of 1.66×
  (CPU time itself moves 2.5× with this load: compare pairs).
- 2026-12-03, two pairs, load 0.8 to 1.1: forked workers grading the keys' shares (this process still
  reading every file): 9.59 and 8.88 s one process, 7.81 and 6.63 s with 2 workers.
- 2026-12-03, load 0.1 to 1.1: the workers reading the files too (three rounds, backprop_cli/workers.py):
  5.1 to 7.9 s before, 4.1 to 6.3 s after in seven alternate pairs, a median 1.24×; three more runs
  each: one process 8.63, 8.36, 7.51 s; 2 workers 5.86, 6.17, 5.63 s.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
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
        text = key.read_text(encoding="utf-8")
        start = text.index("\nanswers:")
        answers = [m for m in re.finditer(r"(?m)^  ([\w./]+): (\S+)$", text) if m.start() > start]
        slip = answers[i % len(answers)]  # one wrong answer: twice the right one, and a little more
        wrong = f"  {slip.group(1)}: {2 * float(slip.group(2)) + 0.01!r}"
        (subs / f"{student}.yaml").write_text(text[: slip.start()] + wrong + text[slip.end() :], encoding="utf-8")
    return keys, subs


def seconds(command: list[str], cwd: Path) -> tuple[float, float]:
    """The wall-clock time of a command, and its CPU time (user + system): on a loaded machine the
    CPU time moves less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 students, 3 single calls: a smoke test")
    parser.add_argument("--students", type=int, default=None)
    parser.add_argument("--sample", type=int, default=None, help="single calls timed (default 20; 3 in --quick)")
    parser.add_argument("--json", action="store_true", help="the batch also writes the JSON gradebook (feedback)")
    options = parser.parse_args()
    students = options.students or (40 if options.quick else 1000)
    sample = min(students, options.sample or (3 if options.quick else 20))
    cli = [sys.executable, "-m", "backprop_cli"]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        keys, subs = make_class(folder, students)
        load_before = os.getloadavg()[0]
        reports = ["--format", "json", "-o", str(folder / "gradebook.json")] if options.json else []
        command = [*cli, "check", "--key", str(keys), str(subs), "--gradebook", "grades.csv", *reports]
        batch, batch_cpu = seconds(command, ROOT)
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
    loads = (load_before, os.getloadavg()[0])
    per_call = statistics.median(wall for wall, _ in singles)
    per_call_cpu = statistics.median(cpu for _, cpu in singles)
    loop, loop_cpu = per_call * students, per_call_cpu * students
    ratio, ratio_cpu = loop / batch, loop_cpu / batch_cpu
    met = "not measured in --quick" if options.quick else ("yes" if ratio >= TARGET else "NO")
    shown = " and the JSON gradebook" if options.json else ""
    print(f"students: {students:,} (gradebook rows: {rows:,}{shown}); single calls timed: {sample}")
    print(f"batch: {batch:.2f} s ({1000 * batch / students:.1f} ms a student); CPU time {batch_cpu:.2f} s")
    print(
        f"loop of single calls: {per_call:.3f} s a call × {students:,} = {loop:.1f} s; CPU {per_call_cpu:.3f} s a call"
    )
    print(f"ratio: {ratio:.1f}× (target ≥ {TARGET:.0f}×): {met}; in CPU time {ratio_cpu:.1f}×")
    print(f"load average (1 min) before and after: {loads[0]:.1f}, {loads[1]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
