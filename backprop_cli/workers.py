"""Forked worker processes that keep what they read between requests.

A :class:`ProcessPoolExecutor` hands each task to whichever worker is free, so what one task read is
gone for the next: a class graded in parts would have to send every parsed sheet back to this process
(pickling costs about as much as parsing) or read it twice. Here worker ``j`` is always the same
process: it is asked in rounds, one request a round, and what it read in one round (``held``) is there
in the next. The workers are forked, so they start with everything this process had.

A worker that dies (killed, out of memory) is a :class:`WorkerDied` as soon as it is waited for, never a
hang: each answer is awaited together with the process's own exit sentinel. An exception a handler
raises is raised here, the same exception (with the worker's traceback as a note) where it pickles, so
that a worker's error reads as this process's would; else a RuntimeError carrying that traceback.
Ctrl-C is this process's to handle; the workers ignore it and end when their pipe closes.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

#: a worker's handler: (its number, what it keeps between rounds, the request) -> its answer
Handler = Callable[[int, dict[str, Any], Any], Any]


class WorkerDied(RuntimeError):
    """A worker process ended (a signal, out of memory) before it answered."""


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def cpus() -> int:
    """How many CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _serve(number: int, conn: Connection, others: Sequence[Connection], handler: Handler) -> None:
    """A worker's life: answer each request on ``conn`` until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for other in others:  # the other pipes' ends, inherited: held open here, they would hide a death
        other.close()
    held: dict[str, Any] = {}
    while True:
        try:
            request = conn.recv()
        except EOFError:
            break
        try:
            answer: tuple[str, Any] = ("ok", handler(number, held, request))
        except Exception as error:  # sent back: this process raises it, with the worker's traceback as a note
            answer = ("raised", (_pickled(error), traceback.format_exc()))
        except BaseException:
            answer = ("raised", (None, traceback.format_exc()))
        try:
            conn.send(answer)
        except OSError:  # this process stopped listening (an error, Ctrl-C): nothing is waiting for it
            break
    conn.close()


def _pickled(error: Exception) -> bytes | None:
    """The exception as it pickles, or None: one that cannot cross is sent as its traceback only."""
    try:
        sent = pickle.dumps(error)
        pickle.loads(sent)  # some pickle and fail to unpickle (an __init__ with other arguments): tried here
    except Exception:
        return None
    return sent


class Workers:
    """``count`` forked processes, each running ``handler`` on the requests sent to it, in rounds."""

    def __init__(self, count: int, handler: Handler) -> None:
        context = multiprocessing.get_context("fork")
        pipes = [context.Pipe() for _ in range(count)]
        self._conns = [mine for mine, _ in pipes]
        self._procs: list[Any] = []
        try:
            for number, (_, theirs) in enumerate(pipes):
                others = [end for pair in pipes for end in pair if end is not theirs]
                process = context.Process(target=_serve, args=(number, theirs, others, handler), daemon=True)
                process.start()
                self._procs.append(process)
        except BaseException:
            self.close()  # those started end with their pipes
            raise
        finally:
            for _, theirs in pipes:
                theirs.close()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        self.close(at_once=error is not None)

    def ask(self, requests: Sequence[Any]) -> list[Any]:
        """One round: request ``j`` to worker ``j`` (all sent first, so the workers run at once), and
        their answers in the same order."""
        assert len(requests) == len(self._conns)
        for number, request in enumerate(requests):
            try:
                self._conns[number].send(request)
            except OSError:  # its end is closed: it has died
                raise self._died(number) from None
        return [self._answer(number) for number in range(len(self._conns))]

    def _answer(self, number: int) -> Any:
        conn, process = self._conns[number], self._procs[number]
        ready = wait([conn, process.sentinel])
        kind: str
        value: Any
        try:
            kind, value = conn.recv() if conn in ready else ("died", None)
        except (EOFError, OSError):
            kind, value = "died", None
        if kind == "died":
            raise self._died(number)
        if kind == "raised":
            sent, text = value
            where = f"worker {number + 1} of {len(self._conns)} failed:\n{text}"
            if sent is None:
                raise RuntimeError(where)
            error: Exception = pickle.loads(sent)
            error.add_note(where)  # shown with a traceback; a BackpropError's one line is as one process gives it
            raise error
        return value

    def _died(self, number: int) -> WorkerDied:
        process = self._procs[number]
        process.join(5)
        status = process.exitcode
        if status is not None and status < 0:
            try:
                how = f"{signal.Signals(-status).name}, signal {-status}"
            except ValueError:  # a real-time signal has no name
                how = f"signal {-status}"
        else:
            how = f"exit status {status}"
        return WorkerDied(f"worker {number + 1} of {len(self._conns)} ended ({how}) before it answered")

    def close(self, *, at_once: bool = False) -> None:
        """Close the pipes (each worker then ends) and wait for the workers; one that lingers is killed.
        ``at_once`` (an error or Ctrl-C here): what they are doing is wanted no more, so they are ended."""
        for conn in self._conns:
            conn.close()
        for process in self._procs:
            if at_once and process.is_alive():
                process.terminate()
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()
