"""Runs of the same network from the same start, side by side: which variants, and what each reached.

Variants come from repeatable options: every ``--optimizer NAME`` (or ``NAME:LEARNING_RATE``) runs at
every ``--learning-rate`` (default: the config's rate) and every ``--batch-size`` (default: the
config's). Each run's loss is computed on all data rows at every step, so the curves compare like
with like whatever the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from backprop_cli.errors import ConfigError
from backprop_cli.landscape import runs
from backprop_cli.landscape.build import journey
from backprop_cli.landscape.model import Comparison, Contest
from backprop_cli.model.spec import NetworkSpec

DEFAULT_THRESHOLD_SHARE = 0.01  # of the loss before training


def variants(
    spec: NetworkSpec, optimizers: Sequence[str], rates: Sequence[float], batch_sizes: Sequence[int]
) -> list[runs.Variant]:
    """The runs the options ask for, in the order given (optimizers, then rates, then batch sizes)."""
    for given in rates:
        if not (math.isfinite(given) and given > 0):
            raise ConfigError(f"{given!r}; expected a learning rate > 0", path="--learning-rate")
    entries: list[tuple[str, float | None]] = []
    for entry in optimizers or (spec.optimizer.name,):
        name, _, rate_text = entry.partition(":")
        rate = None
        if rate_text:
            try:
                rate = float(rate_text)
            except ValueError:
                raise ConfigError(
                    f"{entry!r}; expected NAME or NAME:LEARNING_RATE, e.g. adam:0.1", path="--optimizer"
                ) from None
            if not (math.isfinite(rate) and rate > 0):
                raise ConfigError(f"{entry!r}; expected a learning rate > 0 after the colon", path="--optimizer")
        entries.append((name.strip(), rate))
    out: list[runs.Variant] = []
    for name, own in entries:
        chosen_rates: list[float | None] = [own] if own is not None else [*rates] or [None]
        sizes: list[int | None] = [*batch_sizes] or [None]
        for rate in chosen_rates:
            for size in sizes:
                if size is not None and size > spec.data.rows:
                    raise ConfigError(f"batch size {size}; the data has {spec.data.rows} rows", path="--batch-size")
                shown = spec.optimizer.learning_rate if rate is None else rate
                label = f"{name} η = {shown:g}" + ("" if size is None else f", batch {size}")
                out.append(runs.variant(spec, name, rate, size, label))
    if len(out) > runs.MAX_RUNS:
        raise ConfigError(
            f"{len(out)} runs asked for; expected at most {runs.MAX_RUNS} "
            "(fewer --optimizer, --learning-rate, --batch-size)",
            path="--optimizer",
        )
    labels = [v.label for v in out]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise ConfigError(f"{', '.join(twice)} asked for twice; expected different runs", path="--optimizer")
    return out


def compare(spec: NetworkSpec, chosen: Sequence[runs.Variant], threshold: float | None) -> Comparison:
    plan = runs.layout(spec)
    every = list(range(spec.data.rows))
    contests: list[Contest] = []
    start = runs.start(spec)
    before = float(runs.losses_at(spec, start[None], every)[0])
    if threshold is None:
        limit, said = before * DEFAULT_THRESHOLD_SHARE, f"{DEFAULT_THRESHOLD_SHARE:.0%} of the loss before training"
    elif math.isfinite(threshold):
        limit, said = threshold, "--threshold"
    else:
        raise ConfigError(f"{threshold!r}; expected a finite loss", path="--threshold")
    for variant in chosen:
        done = runs.run(spec, variant)
        loss = runs.losses_at(spec, done.points, every)
        reached = next((k for k, value in enumerate(loss) if value <= limit), None)
        last = done.points[-1]
        path = journey(spec, done, done.points[:, :0], loss, loss)
        contests.append(
            Contest(
                path,
                done.batch_losses,
                reached,
                dict(zip(plan.names, map(float, last), strict=True)),
                runs.tensors(spec, last),
            )
        )
    return Comparison(
        spec.source,
        spec.loss.name,
        limit,
        said,
        tuple(contests),
        plan.names,
        dict(zip(plan.names, map(float, start), strict=True)),
    )
