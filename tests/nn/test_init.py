"""Weight initialisation: determinism, the documented distributions and their bounds, bias rules."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from backprop_cli.loading.config import load_config_text
from backprop_cli.nn.init import INIT_METHODS, InitSpec, initialise

UNITS, FAN_IN = 40, 50  # 2000 weights: enough for bounds and spread to show


@pytest.mark.parametrize("method", INIT_METHODS)
def test_same_seed_same_numbers_other_seed_other_numbers(method: str) -> None:
    w1, b1 = initialise(InitSpec(method, seed=3), units=UNITS, fan_in=FAN_IN)
    w2, b2 = initialise(InitSpec(method, seed=3), units=UNITS, fan_in=FAN_IN)
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(b1, b2)
    assert w1.shape == (UNITS, FAN_IN) and b1.shape == (UNITS,)
    assert w1.dtype == np.float64 and b1.dtype == np.float64
    other, _ = initialise(InitSpec(method, seed=4), units=UNITS, fan_in=FAN_IN)
    assert (method == "zeros") == np.array_equal(w1, other)


@pytest.mark.parametrize(
    ("method", "bound"),
    [
        ("xavier", math.sqrt(6 / (FAN_IN + UNITS))),  # Glorot uniform: a = √(6/(fan_in+fan_out))
        ("glorot", math.sqrt(6 / (FAN_IN + UNITS))),
        ("he_uniform", math.sqrt(6 / FAN_IN)),  # b = √(6/fan_in)
        ("pytorch", 1 / math.sqrt(FAN_IN)),  # nn.Linear: k = 1/√fan_in
    ],
)
def test_uniform_methods_stay_within_their_bound_and_fill_it(method: str, bound: float) -> None:
    weights, _ = initialise(InitSpec(method, seed=0), units=UNITS, fan_in=FAN_IN)
    assert np.all(np.abs(weights) <= bound)
    assert np.abs(weights).max() > 0.95 * bound  # not a narrower distribution
    assert abs(weights.mean()) < 0.05 * bound


@pytest.mark.parametrize(
    ("method", "std"),
    [
        ("xavier_normal", math.sqrt(2 / (FAN_IN + UNITS))),
        ("he", math.sqrt(2 / FAN_IN)),  # Kaiming normal
        ("kaiming", math.sqrt(2 / FAN_IN)),
        ("normal", 1.0),
    ],
)
def test_normal_methods_have_their_spread(method: str, std: float) -> None:
    weights, _ = initialise(InitSpec(method, seed=0), units=UNITS, fan_in=FAN_IN)
    assert weights.std() == pytest.approx(std, rel=0.05)
    assert abs(weights.mean()) < 0.1 * std


def test_uniform_and_normal_parameters() -> None:
    weights, _ = initialise(InitSpec("uniform", low=2.0, high=3.0), units=UNITS, fan_in=FAN_IN)
    assert weights.min() >= 2.0 and weights.max() < 3.0
    default, _ = initialise(InitSpec("uniform"), units=UNITS, fan_in=FAN_IN)
    assert default.min() >= 0.0 and default.max() < 1.0  # torch.nn.init.uniform_: U(0, 1)
    weights, _ = initialise(InitSpec("normal", std=0.01), units=UNITS, fan_in=FAN_IN)
    assert weights.std() == pytest.approx(0.01, rel=0.05)


def test_aliases_draw_the_same_numbers() -> None:
    from backprop_cli.nn.init import ALIASES

    for alias, method in ALIASES.items():
        a, _ = initialise(InitSpec(alias, seed=9), units=3, fan_in=4)
        b, _ = initialise(InitSpec(method, seed=9), units=3, fan_in=4)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", [m for m in INIT_METHODS if m != "pytorch"])
def test_biases_start_at_zero_except_for_pytorch(method: str) -> None:
    _, biases = initialise(InitSpec(method, seed=1), units=UNITS, fan_in=FAN_IN)
    np.testing.assert_array_equal(biases, np.zeros(UNITS))


def test_pytorch_draws_weights_first_then_biases() -> None:
    weights, biases = initialise(InitSpec("pytorch", seed=5), units=3, fan_in=4)
    rng = np.random.default_rng(5)
    np.testing.assert_array_equal(weights, rng.uniform(-0.5, 0.5, size=(3, 4)))  # k = 1/√4
    np.testing.assert_array_equal(biases, rng.uniform(-0.5, 0.5, size=3))
    assert np.any(biases != 0)


def test_xavier_matches_the_documented_draw() -> None:
    weights, _ = initialise(InitSpec("xavier", seed=7), units=2, fan_in=3)
    a = math.sqrt(6 / 5)
    np.testing.assert_array_equal(weights, np.random.default_rng(7).uniform(-a, a, size=(2, 3)))


def test_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown init method 'lecun'"):
        initialise(InitSpec("lecun"), units=1, fan_in=1)


CONFIG = """\
network:
  inputs: 4
  layers:
    - units: 3
      activation: tanh
      {weights}
      init: {{method: pytorch, seed: 5}}
loss: mse
optimizer: {{name: sgd, learning_rate: 0.1}}
data: [{{x: [1, 2, 3, 4], y: [0, 0, 0]}}]
"""


def test_given_weights_do_not_change_the_initialised_biases() -> None:
    drawn = load_config_text(CONFIG.format(weights=""), source="a.yaml", base_dir=Path("."))
    given = load_config_text(
        CONFIG.format(weights="weights: [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]"),
        source="a.yaml",
        base_dir=Path("."),
    )
    np.testing.assert_array_equal(drawn.layers[0].biases, given.layers[0].biases)  # type: ignore[arg-type]
    np.testing.assert_array_equal(given.layers[0].weights[2], [3, 3, 3, 3])
    expected_w, expected_b = initialise(InitSpec("pytorch", seed=5), units=3, fan_in=4)
    np.testing.assert_array_equal(drawn.layers[0].weights, expected_w)
    np.testing.assert_array_equal(drawn.layers[0].biases, expected_b)  # type: ignore[arg-type]
    assert drawn.normalised["network"]["layers"][0]["init"] == {"method": "pytorch", "seed": 5}
