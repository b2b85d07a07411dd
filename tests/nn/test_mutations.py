"""Each misconception's trace against numbers worked by hand (Mazur's 2-2-2 network unless said)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from backprop_cli.loading.config import load_config as _load
from backprop_cli.loading.examples import example_path
from backprop_cli.model.spec import NetworkSpec
from backprop_cli.nn.engine import Engine
from backprop_cli.nn.mutations import BY_NAME, MUTATIONS, Mutation


def load_config(name: str) -> NetworkSpec:
    return _load(example_path(name))


def values(spec: NetworkSpec, mutation: str | None = None) -> dict[str, float]:
    from backprop_cli.homework.values import value_table

    records = BY_NAME[mutation].run(spec) if mutation else Engine(spec).run()
    return {name: v.value for name, v in value_table(records).items()}


@pytest.fixture(scope="module")
def classic() -> NetworkSpec:
    return load_config("classic_2_2_2")


# Mazur's published numbers: out_h1 = 0.593269992, ∂E/∂out_o1 = 0.74136507, δ_o1 = 0.138498562,
# δ_o2 = −0.0380982366, ∂E/∂w5 = 0.082167041, w5+ = 0.35891648, w7+ = 0.511301270, b_o = 0.60.
DELTA_O1, DELTA_O2, DW5 = 0.138498562, -0.0380982366, 0.082167041


def test_gradient_ascent_adds_the_step(classic: NetworkSpec) -> None:
    assert values(classic, "gradient_ascent")["o.w1_1.new"] == pytest.approx(0.4 + 0.5 * DW5, rel=1e-8)


def test_learning_rate_twice_steps_by_eta_squared(classic: NetworkSpec) -> None:
    assert values(classic, "learning_rate_twice")["o.w1_1.new"] == pytest.approx(0.4 - 0.25 * DW5, rel=1e-8)


def test_missing_half_doubles_every_gradient(classic: NetworkSpec) -> None:
    got = values(classic, "missing_half")
    assert got["o.dL_da1"] == pytest.approx(2 * 0.74136507, rel=1e-8)
    assert got["o.dL_dw1_1"] == pytest.approx(2 * DW5, rel=1e-8)


def test_missing_activation_derivative_takes_delta_as_dl_da(classic: NetworkSpec) -> None:
    got = values(classic, "missing_activation_derivative")
    assert got["o.da_dz1"] == 1 and got["h.da_dz2"] == 1
    assert got["o.delta1"] == pytest.approx(0.74136507, rel=1e-8)
    assert got["o.dL_dw1_1"] == pytest.approx(0.74136507 * 0.593269992, rel=1e-8)


def test_bias_gradient_forgotten_leaves_the_biases(classic: NetworkSpec) -> None:
    got, right = values(classic, "bias_gradient_forgotten"), values(classic)
    assert got["o.b1.new"] == 0.6 and got["h.b2.new"] == 0.35
    assert got["o.w1_1.new"] == right["o.w1_1.new"]  # the weights are updated as they should be


def test_transposed_weights_pass_delta_down_through_w_ij(classic: NetworkSpec) -> None:
    got, right = values(classic, "transposed_weights"), values(classic)
    assert right["h.dL_da1"] == pytest.approx(0.036350306, rel=1e-7)  # Mazur: ∂E/∂out_h1 = δ1·w5 + δ2·w7
    assert got["h.dL_da1"] == pytest.approx(DELTA_O1 * 0.40 + DELTA_O2 * 0.45, rel=1e-7)  # w5 and w6


def test_updated_weights_in_backward_use_w_plus(classic: NetworkSpec) -> None:
    got = values(classic, "updated_weights_in_backward")
    assert got["h.dL_da1"] == pytest.approx(DELTA_O1 * 0.35891648 + DELTA_O2 * 0.511301270, rel=1e-7)
    assert got["o.w1_1.new"] == values(classic)["o.w1_1.new"]  # the output layer itself is right


def test_mean_and_sum_swapped_scale_the_batch_gradient() -> None:
    spec = load_config("xor")  # a batch of four, mean
    got, right = values(spec, "mean_sum_swapped"), values(spec)
    assert got["h.dL_dw1_1"] == pytest.approx(4 * right["h.dL_dw1_1"], rel=1e-12)
    assert got["sample1/h.dL_dw1_1"] == right["sample1/h.dL_dw1_1"]  # each sample's own is right


def test_missing_mean_drops_the_one_over_k() -> None:
    spec = load_config("classic_2_2_2")
    spec = replace(spec, loss=replace(spec.loss, name="mse"))  # two outputs: ∂L/∂a = 2(a − y)/2
    got, right = values(spec, "missing_mean"), values(spec)
    assert got["o.dL_da1"] == pytest.approx(2 * right["o.dL_da1"], rel=1e-12)
    assert right["o.dL_da1"] == pytest.approx(0.74136507, rel=1e-8)  # mse over 2 = half_sse's a − y


def test_softmax_elementwise_keeps_only_the_diagonal() -> None:
    spec = load_config("softmax_classifier")
    got, right = values(spec, "softmax_elementwise"), values(spec)
    names = [n for n in right if n.endswith(".da1_dz2")]
    assert names and all(got[n] == 0 and right[n] != 0 for n in names)
    diagonal = [n for n in right if n.endswith(".da1_dz1")]
    assert all(got[n] == right[n] for n in diagonal)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_every_mutation_leaves_the_names_and_the_given_numbers(classic: NetworkSpec, mutation: Mutation) -> None:
    spec = replace(classic, loss=replace(classic.loss, name="mse")) if mutation.name == "missing_mean" else classic
    got, right = values(spec, mutation.name), values(spec)
    assert list(got) == list(right)
    assert got["i1"] == right["i1"] and got["o.w1_1"] == right["o.w1_1"]
    assert np.isfinite(list(got.values())).all()
