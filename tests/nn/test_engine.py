"""The engine against hand-computed textbook numbers, central differences and its own invariants."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_cli.errors import NumericalFault
from backprop_cli.model.spec import DataSpec, LayerSpec, LossSpec, NetworkSpec, OptimizerSpec, TrainingSpec
from backprop_cli.nn.engine import Engine, batches, count_steps, run
from backprop_cli.nn.gradcheck import compare
from tests.strategies import make_spec, networks


def single(
    weights: list[list[float]],
    biases: list[float] | None,
    x: list[float],
    y: list[float],
    *,
    loss: str = "sse",
    lr: float = 0.1,
    steps: int = 1,
    activation: str = "identity",
) -> NetworkSpec:
    layer = LayerSpec("out", activation, np.array(weights), None if biases is None else np.array(biases))
    return NetworkSpec(
        inputs=tuple(f"x{i + 1}" for i in range(len(x))),
        layers=(layer,),
        loss=LossSpec(loss),
        optimizer=OptimizerSpec("sgd", lr),
        data=DataSpec(np.array([x]), np.array([y]), "inline"),
        training=TrainingSpec(steps=steps),
    )


def test_pytorch_snippet_gradient_is_minus_24() -> None:
    # loss = (w·x − 10)², w = 2, x = 3: dL/dw = 2·(6 − 10)·3 = −24
    rec = next(run(single([[2.0]], None, [3.0], [10.0])))
    assert rec.loss.value == 16.0
    assert rec.updates[0].grad[0, 0] == -24.0


def test_single_neuron_seed_numbers() -> None:
    # w = 1, b = 0, x = 2, y = 4: loss (2 − 4)² = 4, dL/dw = −8, dL/db = −4; η = 0.1 → w 1.8, b 0.4, loss 0
    first, second = run(single([[1.0]], [0.0], [2.0], [4.0], steps=2))
    assert first.loss.value == 4.0
    assert first.updates[0].grad[0, 0] == -8.0 and first.updates[1].grad[0] == -4.0
    assert first.updates[0].new[0, 0] == pytest.approx(1.8, abs=1e-15)
    assert first.updates[1].new[0] == pytest.approx(0.4, abs=1e-15)
    assert second.loss.value == pytest.approx(0.0, abs=1e-28)
    assert first.loss_after == second.loss.value


def mazur() -> NetworkSpec:
    layers = (
        LayerSpec("h", "sigmoid", np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([0.35, 0.35])),
        LayerSpec("o", "sigmoid", np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([0.60, 0.60])),
    )
    return NetworkSpec(
        ("i1", "i2"),
        layers,
        LossSpec("half_sse"),
        OptimizerSpec("sgd", 0.5),
        DataSpec(np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]), "inline"),
    )


def test_classic_2_2_2_matches_the_textbook_walkthrough() -> None:
    # Matt Mazur, "A Step by Step Backpropagation Example": every number below is printed there
    rec = next(run(mazur()))
    h, o = rec.forward
    assert h.z[0, 0] == pytest.approx(0.3775, abs=1e-12)  # net_h1
    assert h.a[0, 0] == pytest.approx(0.593269992, abs=1e-9)  # out_h1
    assert o.a[0, 0] == pytest.approx(0.75136507, abs=1e-8)  # out_o1
    assert o.a[0, 1] == pytest.approx(0.772928465, abs=1e-9)  # out_o2
    assert rec.loss.value == pytest.approx(0.298371109, abs=1e-9)  # E_total
    w_h, _b_h, w_o, _b_o = rec.updates
    assert w_o.grad[0, 0] == pytest.approx(0.082167041, abs=1e-9)  # ∂E/∂w5
    assert w_o.new[0, 0] == pytest.approx(0.35891648, abs=1e-8)  # w5+
    assert w_o.new[1, 1] == pytest.approx(0.561370121, abs=1e-9)  # w8+
    assert w_h.grad[0, 0] == pytest.approx(0.000438568, abs=1e-9)  # ∂E/∂w1
    assert w_h.new[0, 0] == pytest.approx(0.149780716, abs=1e-9)  # w1+
    assert w_h.new[1, 1] == pytest.approx(0.29950229, abs=1e-8)  # w4+


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_gradients_of_random_networks_match_central_differences(spec: NetworkSpec) -> None:
    for c in compare(spec):
        # kinks (ReLU at 0, MAE at a = y) are measure-zero for continuous random data
        np.testing.assert_allclose(c.analytic, c.numeric, rtol=2e-5, atol=2e-7, err_msg=f"{c.layer}.{c.kind}")


def test_a_wrong_derivative_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec([3, 4, 2], ["sigmoid", "identity"], "mse", seed=11)
    worst = max(float(c.relative_error().max()) for c in compare(spec))
    assert worst < 1e-6
    from backprop_cli.nn import ops

    broken = replace(ops.ACTIVATIONS["sigmoid"], derivative=lambda z, a, s: a * (1.0 + a))  # should be a(1 − a)
    monkeypatch.setitem(ops.ACTIVATIONS, "sigmoid", broken)
    results = compare(spec)
    worst = max(float(c.relative_error().max()) for c in results)
    assert worst > 0.1
    # the output layer's weights do not use σ' and still agree: the check points at the layer that is wrong
    by_layer = {(c.layer, c.kind): float(c.relative_error().max()) for c in results}
    assert by_layer[("layer2", "weights")] < 1e-6
    assert by_layer[("layer1", "weights")] > 0.1


def test_batch_gradient_is_the_mean_or_sum_of_per_sample_gradients() -> None:
    spec = make_spec([2, 3, 1], ["tanh", "identity"], "mse", seed=5, rows=4, batch_size=4)
    rec = next(run(spec))
    for u in rec.updates:
        np.testing.assert_allclose(u.grad, u.per_sample.mean(axis=0), rtol=1e-15)
    summed = next(run(replace(spec, loss=LossSpec("mse", "sum"))))
    for u, s in zip(rec.updates, summed.updates, strict=True):
        np.testing.assert_allclose(s.grad, 4 * u.grad, rtol=1e-12)
    assert summed.loss.value == pytest.approx(4 * rec.loss.value, rel=1e-12)


def test_frozen_parameters_get_gradients_but_keep_their_values() -> None:
    spec = mazur()
    frozen = replace(spec.layers[0], frozen=frozenset({"biases"}))
    rec = next(run(replace(spec, layers=(frozen, spec.layers[1]))))
    bias = rec.updates[1]
    assert bias.frozen and bias.kind == "biases"
    assert np.all(bias.grad != 0)
    np.testing.assert_array_equal(bias.new, bias.old)
    assert not rec.updates[0].frozen and np.all(rec.updates[0].new != rec.updates[0].old)


def test_schedule_cuts_every_pass_like_a_dataloader_for_steps_and_epochs_alike() -> None:
    # the pass's last batch is short (drop_last=False), for steps as for epochs: no batch straddles two passes
    assert batches(5, TrainingSpec(steps=4, batch_size=2)) == [(0, 1), (2, 3), (4,), (0, 1)]
    assert batches(5, TrainingSpec(epochs=2, batch_size=2)) == [(0, 1), (2, 3), (4,), (0, 1), (2, 3), (4,)]
    # the review's case: 3 rows shuffled in batches of 2 once gave [2, 1], [0, 0], … (row 0 twice)
    for seed in range(50):
        for rows in batches(3, TrainingSpec(steps=6, batch_size=2, shuffle=True, seed=seed)):
            assert len(set(rows)) == len(rows), (seed, rows)
    assert batches(3, TrainingSpec()) == [(0, 1, 2)]
    assert count_steps(5, TrainingSpec(epochs=2, batch_size=2)) == 6
    shuffled = batches(6, TrainingSpec(epochs=2, batch_size=3, shuffle=True, seed=1))
    assert shuffled == batches(6, TrainingSpec(epochs=2, batch_size=3, shuffle=True, seed=1))
    assert sorted(shuffled[0] + shuffled[1]) == list(range(6))


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 12),
    size=st.integers(1, 14),
    count=st.integers(1, 30),
    by_epochs=st.booleans(),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_batch_never_repeats_a_row_and_every_pass_is_a_permutation_cut_in_order(
    rows: int, size: int, count: int, by_epochs: bool, shuffle: bool, seed: int
) -> None:
    """The rule the README states: passes are permutations (the rows in order without shuffle), each cut into
    batches of batch_size with a short last one; epochs: E is E passes, steps: N their first N batches."""
    training = TrainingSpec(
        steps=None if by_epochs else count, epochs=count if by_epochs else None, batch_size=size, shuffle=shuffle,
        seed=seed,
    )  # fmt: skip
    schedule = batches(rows, training)
    assert len(schedule) == count_steps(rows, training)
    width = min(size, rows)
    per_pass = -(-rows // width)
    for k in range(0, len(schedule), per_pass):
        one_pass = schedule[k : k + per_pass]
        assert all(len(b) == width for b in one_pass[:-1]) and all(len(set(b)) == len(b) for b in one_pass)
        flat = [r for b in one_pass for r in b]
        assert len(flat) == len(set(flat))  # no row twice within a pass, so none twice in a batch
        if len(one_pass) == per_pass:  # a whole pass: every row once
            assert sorted(flat) == list(range(rows))
            assert shuffle or flat == list(range(rows))
    # --steps N on an epochs config takes the same batches, as many as asked: the batching does not change
    epochs = TrainingSpec(epochs=count // per_pass + 1, batch_size=size, shuffle=shuffle, seed=seed)
    assert (
        batches(rows, TrainingSpec(steps=count, batch_size=size, shuffle=shuffle, seed=seed))
        == batches(rows, epochs)[:count]
    )


def test_the_normalised_config_says_what_ran_under_steps_and_epochs() -> None:
    import json

    from click.testing import CliRunner

    from backprop_cli.cli.main import main

    runner = CliRunner()
    traced = json.loads(runner.invoke(main, ["trace", "iris", "--steps", "3", "--format", "json"]).output)
    assert traced["config"]["training"] == {"steps": 3, "epochs": None, "batch_size": 30, "shuffle": True, "seed": 0}
    assert len(traced["steps"]) == 3
    trained = json.loads(runner.invoke(main, ["train", "iris", "--epochs", "2", "--format", "json"]).output)
    assert trained["config"]["training"] == {"steps": None, "epochs": 2, "batch_size": 30, "shuffle": True, "seed": 0}
    assert trained["steps"] == 10
    trained = json.loads(runner.invoke(main, ["train", "iris", "--steps", "7", "--format", "json"]).output)
    assert trained["config"]["training"]["steps"] == 7 and trained["config"]["training"]["epochs"] is None


def test_step_names_carry_qualifiers_only_when_needed() -> None:
    one = next(run(mazur()))
    assert one.step_q is None and one.sample_q(0) is None
    spec = make_spec([2, 1], ["identity"], "sse", seed=2, rows=2, batch_size=2, steps=2)
    first = next(run(spec))
    assert first.step_q == 1 and first.sample_q(1) == 1


def test_overflow_is_a_located_numerical_fault() -> None:
    spec = single([[1e308]], [0.0], [10.0], [0.0])
    with pytest.raises(NumericalFault) as caught:
        list(run(spec))
    message = str(caught.value)
    assert "step 1" in message and "layer out" in message and "neuron 1" in message and "z" in message


def test_divergence_stops_at_the_first_non_finite_step() -> None:
    # a learning rate far too large: each step multiplies the error, until the numbers leave float64
    spec = single([[1.0]], [0.0], [3.0], [1.0], lr=10.0, steps=400)
    seen = []
    with pytest.raises(NumericalFault) as caught:
        for rec in run(spec):
            seen.append(rec.step)
    assert caught.value.step == len(seen) + 1
    assert caught.value.layer == "out"


def test_saturated_sigmoid_with_bce_uses_the_stable_gradient() -> None:
    spec = single([[50.0]], [0.0], [1.0], [0.0], loss="bce", activation="sigmoid")
    rec = next(run(spec))
    out = rec.backward[0]
    assert out.combined is not None
    assert np.isfinite(rec.loss.value) and rec.loss.value == pytest.approx(50.0, rel=1e-12)
    assert out.delta[0, 0] == pytest.approx(1.0, rel=1e-12)  # a − y with a = σ(50) ≈ 1


def test_engine_does_not_modify_the_spec() -> None:
    spec = mazur()
    before = spec.layers[0].weights.copy()
    list(Engine(spec).run())
    np.testing.assert_array_equal(spec.layers[0].weights, before)
