"""``--exact``: the same ops on fractions, every step, agreeing with the float trace name by name."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.cli.main import main
from backprop_cli.errors import ConfigError, NumericalFault
from backprop_cli.homework.values import named_values
from backprop_cli.loading.config import load_network as load
from backprop_cli.model.spec import LayerSpec, NetworkSpec, OptimizerSpec, TrainingSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.optim import exact_number
from tests.strategies import make_spec


def both(spec: NetworkSpec) -> tuple[dict[str, float], dict[str, Fraction]]:
    """Every named value of the run, from the float engine and from the exact one."""
    floats = {v.name: v.value for v in named_values(Engine(spec).run())}
    exact = {v.name: v.exact for v in named_values(Engine(spec, exact=True).run())}
    return floats, exact  # type: ignore[return-value]


def assert_agree(spec: NetworkSpec, rel: float = 1e-9) -> dict[str, Fraction]:
    floats, exact = both(spec)
    assert list(floats) == list(exact)  # the same names, in the same order
    for name, value in exact.items():
        assert isinstance(value, Fraction), name
        assert float(value) == pytest.approx(floats[name], rel=rel, abs=1e-12), name
    return exact


def test_pytorch_snippet_exactly() -> None:
    # L = (w·x − 10)² at w = 2, x = 3: dL/dw = 2·(6 − 10)·3 = −24; w − 0.01 × (−24) = 2.24 = 56/25
    exact = assert_agree(load("pytorch_snippet", None)[0])
    assert exact["loss"] == 16 and exact["out.dL_dw1_1"] == -24 and exact["out.w1_1.new"] == Fraction(56, 25)
    assert exact["loss.after"] == (Fraction(56, 25) * 3 - 10) ** 2


@pytest.mark.parametrize(("name", "steps"), [("two_layer_relu", 3), ("single_neuron", 2), ("lr_just_right", 3)])
def test_examples_agree_with_the_float_trace_for_several_steps(name: str, steps: int) -> None:
    assert_agree(load(name, None, steps)[0])


def test_mae_with_momentum_and_weight_decay_for_several_steps() -> None:
    """Cases the old graph lowering refused: mae's sign, a momentum buffer carried across steps, λ."""
    spec = rounded(make_spec([2, 3, 2], ["relu", "identity"], "mae", seed=4, rows=3, steps=4))
    momentum = OptimizerSpec("momentum", 0.05, {"momentum": 0.9, "weight_decay": 0.01})
    exact = assert_agree(dataclasses.replace(spec, optimizer=momentum))
    assert any(name.endswith(".buf") and name.startswith("step4/") for name in exact)  # carried to the last step
    nesterov = OptimizerSpec("sgd", 0.1, {"momentum": 0.5, "nesterov": True})
    assert_agree(dataclasses.replace(spec, optimizer=nesterov, training=TrainingSpec(steps=3, batch_size=2)))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 3), min_size=2, max_size=4),
    st.lists(st.sampled_from(["identity", "relu", "leaky_relu"]), min_size=3, max_size=3),
    st.sampled_from(["sse", "half_sse", "mse", "mae"]),
    st.sampled_from(["mean", "sum"]),
    st.integers(1, 3),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_random_rational_networks_agree_with_float_mode(
    sizes: list[int], activations: list[str], loss: str, reduction: str, rows: int, bias: bool, seed: int
) -> None:
    spec = make_spec(
        sizes, activations[: len(sizes) - 1], loss, seed=seed, rows=rows, reduction=reduction, bias=bias, steps=2
    )
    assert_agree(rounded(spec))


def rounded(spec: NetworkSpec, decimals: int = 2) -> NetworkSpec:
    """The network with every given number rounded as a worked example writes it (short fractions)."""
    layers = tuple(
        dataclasses.replace(
            layer,
            weights=layer.weights.round(decimals),
            biases=None if layer.biases is None else layer.biases.round(decimals),
        )
        for layer in spec.layers
    )
    data = dataclasses.replace(spec.data, x=spec.data.x.round(decimals), y=spec.data.y.round(decimals))
    return dataclasses.replace(spec, layers=layers, data=data)


def test_decimal_text_is_read_exactly() -> None:
    assert exact_number(0.1) == Fraction(1, 10)
    assert exact_number(-0.65) == Fraction(-13, 20)


def test_irrational_networks_are_refused_naming_every_op() -> None:
    with pytest.raises(ConfigError) as caught:
        Engine(load("xor", None)[0], exact=True)
    message = caught.value.one_line()
    assert "the sigmoid activations of layers h and o and the loss bce are not rational;" in message
    spec = load("two_layer_relu", None)[0]
    with pytest.raises(ConfigError, match=r"the optimizer adam \(square roots\)"):
        Engine(dataclasses.replace(spec, optimizer=OptimizerSpec("adam", 0.1)), exact=True)


def test_one_irrational_activation_is_named_in_the_singular() -> None:
    spec = load("xor", None)[0]
    first = spec.layers[0]
    assert isinstance(first, LayerSpec)
    layers = (dataclasses.replace(first, activation="relu"), *spec.layers[1:])
    with pytest.raises(ConfigError) as caught:
        Engine(dataclasses.replace(spec, layers=layers, loss=load("pytorch_snippet", None)[0].loss), exact=True)
    assert "the sigmoid activation of layer o is not rational;" in caught.value.one_line()


def test_fractions_that_outgrow_the_bound_are_a_located_fault() -> None:
    """Two layers multiply: the bits of the fractions double with each step, and a long exact run stops,
    named, instead of slowing to a crawl."""
    spec = load("two_layer_relu", None, 40)[0]
    with pytest.raises(NumericalFault) as caught:
        for _ in Engine(spec, exact=True).run():
            pass
    assert "too large to write exactly" in str(caught.value) and "--steps" in str(caught.value)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"NO_COLOR": None, "FORCE_COLOR": None})
    return result.exit_code, result.stdout, result.stderr


def test_cli_json_carries_exact_strings_for_every_step() -> None:
    code, out, err = invoke("trace", "two_layer_relu", "--exact", "--steps", "2", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "network" and doc["exact"] is True and len(doc["steps"]) == 2
    first = doc["steps"][0]
    assert first["loss"] == "169/1600"  # 0.105625
    assert first["gradients"]["out"]["weights"] == [["-247/800", "0"]]  # -0.30875
    assert first["updated"]["out"]["weights"][0][0] == "8247/8000"  # 1 − 0.1 × (−0.30875) = 1.030875
    assert doc["steps"][1]["parameters"] == first["updated"]


def test_cli_text_and_refusals() -> None:
    code, out, err = invoke("trace", "pytorch_snippet", "--exact", "--phase", "update", "--width", "120")
    assert code == 0, err
    assert "out.w1_1.new   out.w1_1 − η × out.dL_dw1_1   2 − (1/100) × (-24)   56/25" in out
    assert "exact: every number is a fraction" in out
    code, _, err = invoke("trace", "xor", "--exact")
    assert code == 2 and "--exact: the sigmoid activations of layers h and o" in err
    code, out, err = invoke("trace", "two_layer_relu", "--exact", "--layer", "out", "--step", "1")
    assert code == 0, err
    code, out, err = invoke("graph", "pytorch_snippet", "--exact", "--format", "tree")
    assert code == 0, err
    assert "exact" in out


def test_sum_all_is_exact_too() -> None:
    """reduction: sum_all (torch's reduction='sum'): mse without its 1/K, exactly."""
    spec = rounded(make_spec([2, 2, 3], ["relu", "identity"], "mse", seed=2, rows=2, reduction="sum_all", steps=2))
    exact = assert_agree(spec)
    terms = [v for name, v in exact.items() if name.startswith("step1/sample1/loss.term")]
    assert len(terms) == 3 and exact["step1/sample1/loss"] == sum(terms)  # no / 3
