"""Run every benchmark and print one table of figures and ratios measured side by side in this run.

    python benchmarks/run.py            # all benchmarks, 7 alternating runs each (about 4 minutes on 2 cores)
    python benchmarks/run.py --quick    # 1 run each, small sizes: a smoke test, not a measurement
    python benchmarks/run.py --only 1,5 # some of them

Each figure is the median of several runs; commands compared with each other are run alternately
(A, B, A, B, …) so that a slow moment of the machine hits both. Commands run as real subprocesses
with their output to a pipe, as in a grading script. Nothing here asserts a time: the table says
whether each target is met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workloads import (  # noqa: E402  (benchmarks/ is not a package)
    count_numbers,
    torch_available,
    write_mlp_config,
    write_train_config,
)

PYTHON = sys.executable
# Commands run as an installed tool runs for its users: with its modules' bytecode cached. Some
# sandboxes set PYTHONDONTWRITEBYTECODE, which (for a source checkout or an editable install, whose
# bytecode pip did not compile) makes every run compile our modules afresh, about 50 ms of each start.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
IMPORT_FLOOR = "import numpy, rich.console, rich.table, click, yaml"


def backprop_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m backprop_cli``."""
    script = Path(PYTHON).with_name("backprop")
    if script.exists():
        return [str(script)]
    found = shutil.which("backprop")
    return [found] if found else [PYTHON, "-m", "backprop_cli"]


QUICK = "not measured in --quick"  # the met column of a target whose workload --quick shrinks


@dataclass
class Result:
    benchmark: str
    figure: str
    target: str
    met: bool | str | None  # None: not applicable (e.g. torch missing); a string: why it was not measured


def timed(command: Sequence[str], *, stdin: int | None = subprocess.DEVNULL) -> tuple[float, bytes]:
    """Wall time of one run with stdout to a pipe (read fully); raises if the command fails."""
    start = time.perf_counter()
    done = subprocess.run(command, stdin=stdin, capture_output=True, check=False, env=ENV)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed, done.stdout


def alternate(commands: Mapping[str, Sequence[str]], runs: int) -> dict[str, float]:
    """Median wall time of each command, the commands run in turn ``runs`` times (after one warm-up each)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm the page cache and .pyc files
        timed(command)
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(timed(command)[0])
    return {name: statistics.median(values) for name, values in times.items()}


HWM_PROBE = Path(__file__).with_name("hwm_probe.py")


def peak_rss_mib(args: Sequence[str]) -> float:
    """Peak resident memory (MiB) of one ``backprop ARGS`` run, its output discarded."""
    done = subprocess.run(
        [PYTHON, str(HWM_PROBE), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    if done.returncode != 0:
        raise RuntimeError(f"backprop {' '.join(args)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return int(done.stderr.decode().rsplit("VmHWM ", 1)[1].split()[0]) / 1024  # the probe reports KiB


def on_a_terminal(command: Sequence[str], columns: int = 120) -> float:
    """Wall time of one run with stdout on a pseudo-terminal (so rich renders as for a person)."""
    import pty

    leader, follower = pty.openpty()
    env = {**ENV, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE, env=env)
    os.close(follower)
    while True:
        try:
            if not os.read(leader, 65536):
                break
        except OSError:  # EIO: the child closed the terminal
            break
    process.wait()
    elapsed = time.perf_counter() - start
    os.close(leader)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}")
    return elapsed


# ---- the benchmarks ---------------------------------------------------------------------------------


def cold_start(runs: int) -> list[Result]:
    """1. ``backprop trace`` (default example) to a pipe against importing what it cannot do without."""
    medians = alternate({"floor": [PYTHON, "-c", IMPORT_FLOOR], "trace": [*backprop_command(), "trace"]}, runs)
    ratio = medians["trace"] / medians["floor"]
    return [
        Result(
            "1 cold start: backprop trace | cat",
            f"{medians['trace'] * 1000:.0f} ms vs import floor {medians['floor'] * 1000:.0f} ms = {ratio:.2f}x",
            "<= 1.3x",
            ratio <= 1.3,
        )
    ]


def trace_throughput(runs: int, workdir: Path, quick: bool) -> list[Result]:
    """3. ``backprop trace --format json`` of a 32-64-64-10 network: numbers a second, and memory vs steps."""
    sizes = (8, 16, 16, 4) if quick else (32, 64, 64, 10)
    # the rate over 20 steps (3 M numbers); memory over 5 and 20 steps (more is past the JSON budget, 3.5 M)
    few, many = (2, 6) if quick else (5, 20)
    config = write_mlp_config(workdir / "mlp.yaml", sizes, rows=64, batch=16)
    args = ["trace", str(config), "--format", "json"]
    command = [*backprop_command(), *args]
    times = []
    numbers = 0
    timed([*command, "--steps", str(many)])
    for _ in range(runs):
        elapsed, out = timed([*command, "--steps", str(many)])
        times.append(elapsed)
        numbers = count_numbers(json.loads(out))
    seconds = statistics.median(times)
    rate = numbers / seconds
    rss_few = statistics.median(peak_rss_mib([*args, "--steps", str(few)]) for _ in range(max(1, runs // 2)))
    rss_many = statistics.median(peak_rss_mib([*args, "--steps", str(many)]) for _ in range(max(1, runs // 2)))
    growth = rss_many / rss_few
    shape = "-".join(map(str, sizes))
    return [
        Result(
            f"3 trace --format json, {shape}, batch 16, {many} steps",
            f"{numbers:,} numbers in {seconds * 1000:.0f} ms (whole command) = {rate / 1e6:.2f} M numbers/s",
            ">= 5 M/s",
            QUICK if quick else rate >= 5e6,
        ),
        Result(
            f"3 peak memory, {few} vs {many} steps",
            f"{rss_few:.0f} MiB vs {rss_many:.0f} MiB = {growth:.2f}x",
            "not growing (<= 1.1x)",
            QUICK if quick else growth <= 1.1,
        ),
    ]


def terminal_render(runs: int) -> list[Result]:
    """4. The default example rendered on a (pseudo-)terminal, the whole command."""
    command = [*backprop_command(), "trace"]
    on_a_terminal(command)
    seconds = statistics.median(on_a_terminal(command) for _ in range(runs))
    return [
        Result(
            "4 backprop trace on a terminal (default example)",
            f"{seconds * 1000:.0f} ms whole command",
            "< 500 ms",
            seconds < 0.5,
        )
    ]


def engine_throughput(runs: int, workdir: Path, quick: bool) -> list[Result]:
    """2. ``backprop train`` on a 784-128-10 network against the same loop in plain numpy and in PyTorch.

    The command is the issue's: ``backprop train CONFIG``, its text summary to a pipe. The same run with
    ``--format json`` (the summary plus every trained parameter at full precision, 4.4 MB here) is
    measured beside it for reference.
    """
    sizes = (32, 16, 10) if quick else (784, 128, 10)
    rows, steps = (256, 20) if quick else (2048, 500)
    config, csv_path = write_train_config(workdir, sizes, rows=rows, batch=64, steps=steps)
    loops = HERE / "loops.py"
    commands: dict[str, list[str]] = {
        "backprop train": [*backprop_command(), "train", str(config)],
        "backprop train --format json": [*backprop_command(), "train", str(config), "--format", "json"],
        "numpy loop": [PYTHON, str(loops), "numpy", str(csv_path), *map(str, (*sizes, 64, steps))],
    }
    if torch_available():
        commands["torch loop"] = [PYTHON, str(loops), "torch", str(csv_path), *map(str, (*sizes, 64, steps))]
    medians = alternate(commands, runs)
    shape = "-".join(map(str, sizes))
    ours = medians["backprop train"]
    numpy_ratio = ours / medians["numpy loop"]
    results = [
        Result(
            f"2 backprop train {shape}, {rows} CSV rows, batch 64, {steps} steps",
            f"{ours * 1000:.0f} ms vs numpy loop {medians['numpy loop'] * 1000:.0f} ms = {numpy_ratio:.2f}x",
            "<= 1.15x numpy",
            QUICK if quick else numpy_ratio <= 1.15,
        )
    ]
    as_json = medians["backprop train --format json"]
    results.append(
        Result(
            "2 ... with --format json (for reference)",
            f"{as_json * 1000:.0f} ms vs numpy loop {medians['numpy loop'] * 1000:.0f} ms "
            f"= {as_json / medians['numpy loop']:.2f}x",
            "-",
            None,
        )
    )
    if "torch loop" in medians:
        torch_ratio = ours / medians["torch loop"]
        results.append(
            Result(
                "2 ... against PyTorch",
                f"{ours * 1000:.0f} ms vs torch loop {medians['torch loop'] * 1000:.0f} ms = {torch_ratio:.2f}x",
                "< 1x torch",
                QUICK if quick else torch_ratio < 1.0,
            )
        )
    else:
        results.append(Result("2 ... against PyTorch", "torch is not importable: not measured", "< 1x torch", None))
    return results


def landscape_grid(runs: int, quick: bool) -> list[Result]:
    """5. ``backprop landscape`` on a 201×201 grid of the default example: the landscape's work in process
    (the run, the grid in one vectorised pass, the paths' points), and the whole command to a pipe."""
    from backprop_cli.cli.kit import load
    from backprop_cli.landscape.build import Request, build
    from backprop_cli.landscape.compare import variants

    points = 51 if quick else 201
    spec, _ = load(None, None)
    request = Request("hidden.w1_1", "out.w1_1", points=points)
    chosen = variants(spec, (), (), ())
    build(spec, request, chosen)  # warm: numpy's first calls
    times = []
    for _ in range(max(3, runs)):
        start = time.perf_counter()
        build(spec, request, chosen)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    command = [*backprop_command(), "landscape", "--x", "hidden.w1_1", "--y", "out.w1_1", "--grid", str(points)]
    command += ["--format", "json"]
    timed(command)
    whole = statistics.median(timed(command)[0] for _ in range(runs))
    return [
        Result(
            f"5 landscape {points}×{points} grid, default example (in process)",
            f"{seconds * 1000:.0f} ms for {points * points:,} grid points",
            "< 250 ms",
            QUICK if quick else seconds < 0.25,
        ),
        Result(
            "5 ... the whole command, --format json to a pipe",
            f"{whole * 1000:.0f} ms",
            "-",
            None,
        ),
    ]


# ---- the table ------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def table(results: list[Result]) -> str:
    rows = [("benchmark", "measured", "target", "met")] + [
        (
            r.benchmark,
            r.figure,
            r.target,
            r.met if isinstance(r.met, str) else {True: "yes", False: "NO", None: "n/a"}[r.met],
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


BENCHMARKS: dict[str, Callable[[int, Path, bool], list[Result]]] = {
    "1": lambda runs, _dir, _quick: cold_start(runs),
    "2": engine_throughput,
    "3": trace_throughput,
    "4": lambda runs, _dir, _quick: terminal_render(runs),
    "5": lambda runs, _dir, quick: landscape_grid(runs, quick),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run each on small sizes (a smoke test)")
    parser.add_argument("--runs", type=int, help="runs per command (default 7; 1 with --quick)")
    parser.add_argument("--only", default="1,2,3,4,5", help="comma-separated benchmark numbers")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 7)
    print(f"machine: {machine()}")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="backprop-bench-") as tmp:
        for key in args.only.split(","):
            key = key.strip()
            if key not in BENCHMARKS:
                parser.error(f"unknown benchmark {key!r}; expected some of {','.join(BENCHMARKS)}")
            print(f"running benchmark {key} ...", file=sys.stderr, flush=True)
            results.extend(BENCHMARKS[key](runs, Path(tmp), args.quick))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
