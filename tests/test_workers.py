"""backprop_cli.workers: forked processes asked in rounds, each keeping what it read."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from backprop_cli.workers import WorkerDied, Workers, can_fork, cpus

pytestmark = pytest.mark.skipif(not can_fork(), reason="no fork here: nothing is graded in workers")


@pytest.fixture(autouse=True)
def never_hang() -> Iterator[None]:
    """Each test fails, never hangs, if a worker's answer does not come."""
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("a round of workers hung"))
    signal.alarm(60)
    yield
    signal.alarm(0)


def _keeps(number: int, held: dict[str, Any], request: Any) -> Any:
    what, value = request
    if what == "put":
        held["value"] = value * 10 + number
        return os.getpid()
    if what == "get":
        return held["value"], os.getpid()
    if what == "fail":
        raise ValueError(f"bad request {value}")
    if what == "odd":
        raise _Unpicklable("not", "sent")
    if what == "die":
        if number == value:
            os._exit(7)
        return None
    if what == "kill":
        if number == value:
            os.kill(os.getpid(), signal.SIGKILL)
        return None
    if what == "realtime":  # a signal without a name
        if number == value:
            signal.signal(signal.SIGRTMIN + 1, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGRTMIN + 1)
        return None
    raise AssertionError(what)


def test_each_worker_keeps_what_it_read_for_the_next_round() -> None:
    with Workers(3, _keeps) as workers:
        pids = workers.ask([("put", 1), ("put", 2), ("put", 3)])
        assert len(set(pids)) == 3 and os.getpid() not in pids
        assert workers.ask([("get", None)] * 3) == [(10, pids[0]), (21, pids[1]), (32, pids[2])]


class _Unpicklable(Exception):
    def __init__(self, first: str, second: str) -> None:  # pickles, then fails to unpickle (one argument)
        super().__init__(f"{first} {second}")


def test_a_handler_that_raises_is_raised_here_with_its_traceback() -> None:
    with Workers(2, _keeps) as workers, pytest.raises(ValueError, match=r"^bad request 5\n") as raised:
        workers.ask([("put", 1), ("fail", 5)])
    assert str(raised.value) == "bad request 5"
    assert raised.value.__notes__[0].startswith("worker 2 of 2 failed:\nTraceback")
    assert 'raise ValueError(f"bad request {value}")' in raised.value.__notes__[0]


def test_an_exception_that_cannot_cross_is_raised_as_its_traceback() -> None:
    with Workers(2, _keeps) as workers, pytest.raises(RuntimeError, match=r"(?s)worker 1 of 2 failed:.*_Unpicklable"):
        workers.ask([("odd", None), ("put", 1)])


DEATHS = [("die", "exit status 7"), ("kill", "SIGKILL, signal 9")]
if hasattr(signal, "SIGRTMIN"):  # Linux: a real-time signal, which has no name
    DEATHS.append(("realtime", f"signal {signal.SIGRTMIN + 1}"))


@pytest.mark.parametrize(("what", "how"), DEATHS)
def test_a_worker_that_dies_is_an_error_at_once_never_a_hang(what: str, how: str) -> None:
    start = time.monotonic()
    with Workers(2, _keeps) as workers:
        workers.ask([("put", 1), ("put", 2)])
        with pytest.raises(WorkerDied, match=f"worker 2 of 2 ended \\({how}\\) before it answered"):
            workers.ask([(what, 1), (what, 1)])
        with pytest.raises(WorkerDied):  # and it stays dead: the next round fails too
            workers.ask([("get", None), ("get", None)])
    assert time.monotonic() - start < 30


def test_closing_ends_every_worker() -> None:
    workers = Workers(2, _keeps)
    pids = workers.ask([("put", 1), ("put", 2)])
    workers.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # reaped: no such process


def test_cpus_is_at_least_one() -> None:
    assert cpus() >= 1


def _sleeps(number: int, held: dict[str, Any], request: Any) -> Any:
    time.sleep(request)
    return number


def test_an_error_here_ends_the_workers_at_once() -> None:
    """Ctrl-C (or any error) while the workers are busy: they are ended, not waited for."""
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt), Workers(2, _sleeps) as workers:
        for number, conn in enumerate(workers._conns):
            conn.send(30 if number else 0)  # one busy for 30 s
        raise KeyboardInterrupt
    assert time.monotonic() - start < 10
