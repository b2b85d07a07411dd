"""What one command invocation owns: the files it read, and the folders it may read from.

``clikit.handle_errors`` opens a :func:`scope` around each command, so two runs in one process (tests,
a notebook calling the CLI twice) never see each other's files. Outside a scope (library use) nothing is
remembered and every folder may be read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Run:
    """The state of one run: ``inputs`` are never to be overwritten by its outputs; when ``confined``
    holds folders, a file outside all of them is not read (``why`` is the message that says so);
    ``streamed`` keeps what each pipe or device gave."""

    inputs: set[Path] = field(default_factory=set)
    confined: tuple[Path, ...] = ()
    why: str = ""
    # what a pipe or device gave, by the name it was read as: a config is read twice (once to see
    # whether it is an expression), and a pipe (``/dev/stdin``) gives its bytes only once
    streamed: dict[str, bytes] = field(default_factory=dict)

    def note_input(self, path: str | os.PathLike[str]) -> None:
        self.inputs.add(Path(path))

    def refusal(self, path: str | os.PathLike[str]) -> str | None:
        """Why ``path`` may not be read in this run (its real path, symlinks followed, is outside the
        folders it is confined to), or None when it may."""
        if not self.confined:
            return None
        real = Path(os.path.realpath(path))
        if any(real.is_relative_to(folder) for folder in self.confined):
            return None
        return self.why


_current: ContextVar[Run | None] = ContextVar("backprop_run", default=None)


def current() -> Run:
    """This run's state; outside a command, a fresh one that nothing keeps."""
    return _current.get() or Run()


@contextlib.contextmanager
def scope() -> Iterator[Run]:
    """One command invocation: a new :class:`Run`, gone when the command ends."""
    token = _current.set(Run())
    try:
        yield current()
    finally:
        _current.reset(token)


@contextlib.contextmanager
def confined(folders: tuple[Path, ...], why: str) -> Iterator[None]:
    """Within this block, read only files whose real path is inside ``folders`` (grading a sheet: its
    own folder and the built-in examples), so a submission cannot make the grader read anything else."""
    run = _current.get()
    if run is None:  # outside a command: a scope just for this block
        with scope(), confined(folders, why):
            yield
        return
    saved = run.confined, run.why
    run.confined, run.why = tuple(Path(os.path.realpath(f)) for f in folders), why
    try:
        yield
    finally:
        run.confined, run.why = saved
