"""Writing results: to stdout, or atomically to a file that is never one of the inputs."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from backprop_cli.errors import ConfigError

_inputs_read: set[Path] = set()  # every file this run read (config, data files): never an output


def note_input(path: str | os.PathLike[str]) -> None:
    _inputs_read.add(Path(path))


def forget_inputs() -> None:
    """Start a new run (the CLI calls this before each command, so tests in one process stay apart)."""
    _inputs_read.clear()


def _mode_for(path: Path) -> int:
    """The file's current permissions when it is being replaced, else what a new file gets (0666 less the umask)."""
    with contextlib.suppress(OSError):
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def open_output(target: str | None, *, inputs: Sequence[Path] = ()) -> Iterator[TextIO]:
    """Yield a text stream; for a file, write a temporary beside it and rename only on success."""
    if target is None or target == "-":
        yield sys.stdout
        return
    path = Path(target)
    resolved = path.resolve()
    for source in (*inputs, *_inputs_read):
        if source.exists() and source.resolve() == resolved:
            raise ConfigError(
                f"refusing to overwrite the input {source}; choose another --output file", file=target, path="--output"
            )
    if path.is_dir():
        raise ConfigError("is a directory; expected a file to write", file=target, path="--output")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ConfigError(f"directory {directory} does not exist", file=target, path="--output")
    import tempfile  # only for -o: every command imports this module (yamlsafe notes its inputs here)

    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(handle, _mode_for(path))  # mkstemp makes 0600; the result gets a normal file's mode
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
