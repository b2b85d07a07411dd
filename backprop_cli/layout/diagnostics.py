"""A traced run's gradient diagnostics, step by step: collected as the records stream past."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from backprop_cli.nn.diagnostics import LayerStats, from_record
from backprop_cli.nn.records import StepRecord


class Tap:
    """Passes a trace's step records through, keeping each step's diagnostics until they are taken."""

    def __init__(self, records: Iterable[StepRecord]) -> None:
        self._records = records
        self._pending: list[tuple[int, list[LayerStats]]] = []

    def __iter__(self) -> Iterator[StepRecord]:
        for rec in self._records:
            self._pending.append((rec.step, from_record(rec)))
            yield rec

    def take(self, *, before: int | None = None) -> list[tuple[int, list[LayerStats]]]:
        """The steps seen so far before step ``before`` (all when None), each once."""
        ready = [(k, s) for k, s in self._pending if before is None or k < before]
        self._pending = [(k, s) for k, s in self._pending if not (before is None or k < before)]
        return ready
