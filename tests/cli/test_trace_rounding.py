"""`backprop trace --round-as-you-go N`: the chain a student gets who rounds every intermediate as told."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.homework.rounding import round_as_you_go
from backprop_cli.homework.values import value_table
from backprop_cli.loading.config import load_config
from backprop_cli.loading.examples import example_path
from backprop_cli.model.rounding import RoundedChain, Rounding
from backprop_cli.nn.engine import Engine


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "120"})


@pytest.mark.parametrize("name", ["classic_2_2_2", "single_neuron", "xor", "adam_two_steps"])
def test_the_traced_chain_is_the_key_s_chain(name: str) -> None:
    spec = load_config(example_path(name))
    four = Rounding("decimals", 4)
    traced = value_table(Engine(spec, rounding=RoundedChain(four)).run())
    keyed = round_as_you_go(value_table(Engine(spec).run()), four)
    assert {n: v.value for n, v in traced.items()} == {n: v.value for n, v in keyed.items()}
    assert all(v.value == four(v.value) for v in traced.values() if not v.is_given)


def test_the_text_trace_shows_the_rounded_chain_even_when_filtered() -> None:
    # Mazur's 2-2-2 by hand to 4 decimals: ∂E/∂out_o1 = 0.7414, σ′ = 0.7514·(1 − 0.7514) = 0.1868, δ = 0.1385
    whole = invoke("trace", "classic_2_2_2", "--round-as-you-go", "4")
    part = invoke("trace", "classic_2_2_2", "--round-as-you-go", "4", "--phase", "backward", "--layer", "o")
    for result in (whole, part):
        assert result.exit_code == 0, result.stderr
        assert re.search(r"o\.delta1\s+o\.dL_da1 × o\.da_dz1\s+0\.7414 × 0\.1868\s+0\.1385", result.output)
    assert re.search(r"o\.b1\.new\s+o\.b1 − η × o\.dL_db1\s+0\.6 − 0\.5 × 0\.1385\s+0\.5308", whole.output)
    markdown = invoke("trace", "classic_2_2_2", "--round-as-you-go", "4", "--format", "markdown").output
    assert "| `o.w1_1.new` | `o.w1_1 − η × o.dL_dw1_1` | `0.4 − 0.5 × 0.0822` | 0.3589 |" in markdown


def test_a_later_step_starts_from_the_rounded_update() -> None:
    spec = load_config(example_path("single_neuron"))
    two = Rounding("decimals", 2)
    traced = value_table(Engine(spec, rounding=RoundedChain(two)).run())
    assert traced["step2/neuron.w1_1"].value == traced["step1/neuron.w1_1.new"].value
    assert traced["step2/neuron.z1"].written == "1.8·2 + 0.4"


@pytest.mark.parametrize(
    "args", [["classic_2_2_2", "--format", "json"], ["pytorch_snippet", "--exact"], ["shared_variable"]]
)
def test_round_as_you_go_is_for_a_network_s_text_or_document(args: list[str]) -> None:
    result = invoke("trace", *args, "--round-as-you-go", "4")
    assert result.exit_code == 2 and result.stderr.startswith("--round-as-you-go: "), result.stderr
