"""``--format torch``: a PyTorch script of the same network, data and optimizer that prints the trace's
names with autograd's numbers (run where torch is installed)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli.main import main
from tests.render.formats_helpers import trace

CASES = [
    ("two_layer_relu",),
    ("xor",),  # a batch, sigmoid + BCE
    ("adam_two_steps",),  # Adam's state across steps
    ("iris", "--step", "3"),  # shuffled batches of 30, softmax + cross-entropy
]


def test_the_script_is_deterministic_python() -> None:
    out = trace("two_layer_relu", "--format", "torch")
    assert out == trace("two_layer_relu", "--format", "torch")
    compile(out, "trace.py", "exec")  # valid Python
    assert "torch.optim.SGD(params, lr=0.1" in out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_autograd_prints_the_trace_s_numbers(case: tuple[str, ...], tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="torch is not installed (the script needs it to run)")
    script = tmp_path / "trace.py"
    script.write_text(trace(*case, "--format", "torch"), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    printed = {line.split(" = ")[0]: float(line.split(" = ")[1]) for line in run.stdout.splitlines()}
    document = json.loads(trace(*case, "--format", "json", "--quantities"))
    expected = {q["name"]: q["value"] for step in document["steps"] for q in step["quantities"]}
    assert len(printed) > 5
    for name, value in printed.items():
        assert math.isclose(value, expected[name], rel_tol=1e-9, abs_tol=1e-12), (name, value, expected[name])
    if case[0] == "two_layer_relu":  # −0.65 × 0.475, the source article's output-layer gradient
        assert printed["out.dL_dw1_1"] == pytest.approx(-0.30875, abs=1e-15)


def test_an_expression_has_no_script() -> None:
    result = CliRunner().invoke(main, ["trace", "circuit_add_mul", "--format", "torch"])
    assert result.exit_code == 2 and "expected a network config" in result.stderr
