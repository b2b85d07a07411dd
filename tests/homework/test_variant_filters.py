"""A template's `filters:`: the thresholds behind a redraw, and the reasons let through (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backprop_cli.cli.names import compute_values
from backprop_cli.errors import ConfigError
from backprop_cli.homework import prairielearn as pl
from backprop_cli.homework import variants as v
from backprop_cli.homework.values import NamedValue
from backprop_cli.loading.config import load_config_text
from backprop_cli.loading.yamlsafe import parse
from backprop_cli.model.numbers import NumberFormat
from backprop_cli.model.spec import NetworkSpec
from tests.homework.test_variants import TEMPLATE, course, run

# one output sigmoid, fixed: o.z1 = 0.4·h.a1 + 0.45·h.a2 + b with b drawn from 0 to 2
FIXED = (
    TEMPLATE.replace("{choice: [relu, sigmoid, tanh]}", "sigmoid")
    .replace("{uniform: [-1, 1], decimals: 2}", "0.4")
    .replace("{uniform: [-1, 1], step: 0.25}", "0.3")
    .replace("{uniform: [0, 1], decimals: 1}", "0.3")
    .replace("{sample: [", "[")
    .replace("], count: 1}", "]")
)


def spec_and_values(tmp_path: Path, bias: int) -> tuple[NetworkSpec, list[NamedValue]]:
    text = FIXED.replace("{integer: [0, 2]}", str(bias))
    spec = load_config_text(text, source="fixed.yaml", base_dir=tmp_path, fmt="yaml")
    assert isinstance(spec, NetworkSpec)
    return spec, list(compute_values(spec, NumberFormat()))


def test_the_defaults_are_the_documented_thresholds() -> None:
    limits = v.Filters()
    assert limits.saturated == {"sigmoid": (0.01, 0.99), "tanh": (-0.99, 0.99)}
    assert limits.zero_gradient == 1e-12 and limits.allow == ()
    doc, read = v.split_template(parse(TEMPLATE, "hw.yaml", fmt="yaml"))
    assert read == limits and "filters" not in doc.value


def test_a_tighter_saturation_range_redraws_what_the_default_lets_through(tmp_path: Path) -> None:
    spec, values = spec_and_values(tmp_path, 2)
    outs = [x.value for x in values if x.step == 1 and x.name.endswith("o.a1")]
    assert outs and all(0.92 < a < 0.93 for a in outs)  # σ(0.4·a1 + 0.45·a2 + 2) on each row: inside [0.01, 0.99]
    names = {x.name for x in values}
    assert "saturated" not in v.degenerate(spec, values, names)
    tight = v.Filters(saturated={"sigmoid": (0.05, 0.9), "tanh": (-0.99, 0.99)})
    assert "saturated" in v.degenerate(spec, values, names, tight)
    loose = v.Filters(zero_gradient=1.0)  # every gradient of this tiny network is below 1: all "zero"
    assert "zero-gradient" in v.degenerate(spec, values, names, loose)


def test_a_template_s_filters_are_used_by_variants_and_not_written_into_the_variants(tmp_path: Path) -> None:
    always = FIXED.replace("{integer: [0, 2]}", "2")  # every draw the same: its outputs σ ≈ 0.92
    tight = always + "filters:\n  saturated: {sigmoid: [0.05, 0.9]}\n"
    course(tmp_path, 1, tight)
    result = run(tmp_path, "out", "--max-draws", "3")
    assert result.exit_code == 2 and "(saturated 3)" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()
    course(tmp_path, 1, tight + "  allow: [saturated]\n")
    result = run(tmp_path, "out", "--max-draws", "3")
    assert result.exit_code == 0, result.stderr
    written = (tmp_path / "out" / "st001.yaml").read_text(encoding="utf-8")
    assert "\nfilters:" not in written and "saturated:" not in written
    course(tmp_path, 1, always)  # the default range lets it through
    assert run(tmp_path, "plain", "--max-draws", "1").exit_code == 0


def test_prairielearn_draws_by_the_template_s_filters(tmp_path: Path) -> None:
    always = FIXED.replace("{integer: [0, 2]}", "2")
    pl.draw(always, 1, [])  # the defaults let it through
    with pytest.raises(ConfigError, match="no acceptable variant"):
        pl.draw(always + "filters:\n  saturated: {sigmoid: [0.05, 0.9]}\n", 1, [])


@pytest.mark.parametrize(
    ("filters", "where", "what"),
    [
        ("  saturate: {}", "filters.saturate", "unknown filter 'saturate'"),
        ("  saturated: {relu: [0, 1]}", "filters.saturated.relu", "no saturation range for 'relu'"),
        ("  saturated: {sigmoid: [0.9, 0.1]}", "filters.saturated.sigmoid", "expected [lo, hi] with lo < hi"),
        ("  zero_gradient: -1", "filters.zero_gradient", "expected a number ≥ 0"),
        ("  allow: [ties]", "filters.allow", "expected a list of dead-relu"),
    ],
)
def test_a_malformed_filter_is_one_located_line_and_exit_2(tmp_path: Path, filters: str, where: str, what: str) -> None:
    course(tmp_path, 1, TEMPLATE + "filters:\n" + filters + "\n")
    result = run(tmp_path, "out")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    line = TEMPLATE.count("\n") + 2
    assert result.stderr.startswith(f"{tmp_path / 'hw.yaml'}:{line}:"), result.stderr
    assert where in result.stderr and what in result.stderr
    assert not (tmp_path / "out").exists()
