"""Run the command line and report the process's own peak resident memory, last on stderr.

    python benchmarks/hwm_probe.py ARGS...     (as ``backprop ARGS...``; then ``VmHWM <KiB>`` on stderr)

Used by benchmark 3 (memory over steps) and by tests/test_hardening.py (hostile input in bounded
memory). The high-water mark comes from /proc/self/status (Linux). rusage's ru_maxrss would not do:
Linux carries the parent's resident size across fork + exec, so a child of a large process (the
benchmark runner, pytest) would report at least the parent's size.
"""

from __future__ import annotations

import atexit
import sys


def _report() -> None:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.stderr.write("VmHWM " + line.split()[1] + "\n")


if __name__ == "__main__":
    atexit.register(_report)
    from backprop_cli.cli.main import main

    main(sys.argv[1:], prog_name="backprop")
