"""Writing results: the one writer of every command's output (stdout, ``-o``, ``--save``).

What each kind of target gets (the README's "Output files" says the same to users):

- none or ``-``: standard output, as it comes;
- a new name or a regular file: a hidden temporary file beside it, given the old file's mode (and
  owner, where allowed), renamed over it only once everything is written and closed; on an error,
  Ctrl-C, SIGTERM or SIGHUP the temporary is removed and the old file stays as it was;
- a symlink: followed; what it points to is written as above, and the link stays a link;
- a device, a FIFO, a socket, ``/proc/self/fd/N``: opened and written in place, never replaced
  (``os.replace`` over them would replace the entry itself: as root, ``-o /dev/null`` destroyed it);
- a directory, a read-only file, or a file this run read: refused, untouched.

Every OS error here (a full disk, a read-only folder, a name too long) is an :class:`OutputError`:
one line, exit status 2.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from backprop_cli.cli.encoding import ERRORS  # a non-UTF-8 file name's byte is written as \xff
from backprop_cli.errors import ConfigError, os_reason
from backprop_cli.loading import run

_TEMPORARY_EXTRA = len(".") + len(".") + 8 + len(".tmp")  # mkstemp's "." + name + ".XXXXXXXX.tmp"


class OutputError(ConfigError):
    """The output could not be written: one located line, exit status 2."""


class Signalled(BaseException):
    """SIGTERM or SIGHUP arrived while an output file was being written (so its temporary is removed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def open_output(target: str | None, *, inputs: Sequence[Path] = (), option: str = "--output") -> Iterator[TextIO]:
    """Yield a text stream for ``target`` (None or ``-``: stdout); see the module docstring for what each
    kind of file gets. ``inputs`` (and every file this run read) are refused as targets."""
    if target is None or target == "-":
        with _stdout():
            yield sys.stdout
        return
    path = Path(target)

    def fail(message: str) -> OutputError:
        return OutputError(message, file=target, path=option)

    info = _stat(path, fail)
    _refuse_inputs(path, info, (*inputs, *run.current().inputs), fail, option)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise fail("is a directory; expected a file to write")
    real = Path(os.path.realpath(path))
    if info is None or (stat.S_ISREG(info.st_mode) and _same(real, info)):
        if info is not None and (not info.st_mode & 0o222 or not os.access(path, os.W_OK)):
            raise fail(f"is read-only; expected a file you may write (make it writable, or choose another {option})")
        with _atomic(real, info, fail) as stream:
            yield stream
    else:  # a device, FIFO or socket (or a /proc link to one): written where it is
        with _direct(path, fail) as stream:
            yield stream


def check_target(target: str | None, *, inputs: Sequence[Path] = (), option: str = "--output") -> None:
    """Refuse, before any work, a target :func:`open_output` would refuse (a missing folder, a directory,
    a read-only file, an input), or one in a folder this user may not write; nothing is written."""
    if target is None or target == "-":
        return
    path = Path(target)

    def fail(message: str) -> OutputError:
        return OutputError(message, file=target, path=option)

    info = _stat(path, fail)
    _refuse_inputs(path, info, (*inputs, *run.current().inputs), fail, option)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise fail("is a directory; expected a file to write")
    if info is not None and stat.S_ISREG(info.st_mode) and (not info.st_mode & 0o222 or not os.access(path, os.W_OK)):
        raise fail(f"is read-only; expected a file you may write (make it writable, or choose another {option})")
    directory = Path(os.path.realpath(path)).parent
    if (info is None or stat.S_ISREG(info.st_mode)) and not os.access(directory, os.W_OK | os.X_OK):
        raise fail(f"directory {directory} is not writable; expected a folder you may write")


def _stat(path: Path, fail: Callable[[str], OutputError]) -> os.stat_result | None:
    """The target's status (symlinks followed), None for a name not taken yet in an existing folder."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        pass
    except OSError as error:  # a name too long, a folder that cannot be searched, a loop of links
        raise fail(os_reason(error)) from None
    directory = Path(os.path.realpath(path)).parent  # a dangling symlink: the file it names is created
    if not os.path.isdir(directory):
        raise fail(f"directory {directory} does not exist; expected an existing folder")
    return None


def _same(real: Path, info: os.stat_result) -> bool:
    """Whether ``real`` is the file ``info`` describes: a /proc/self/fd link to a pipe resolves to a name
    like ``pipe:[123]`` that is not it."""
    with contextlib.suppress(OSError):
        mine = os.stat(real)
        return (mine.st_dev, mine.st_ino) == (info.st_dev, info.st_ino)
    return False


def _refuse_inputs(
    path: Path,
    info: os.stat_result | None,
    inputs: Sequence[Path],
    fail: Callable[[str], OutputError],
    option: str,
) -> None:
    """Refuse a target that is one of ``inputs``: by name (symlinks and ``..`` resolved) or, for a
    regular file, by identity (a hard link). Names are resolved only for an input that is the target's
    file (the same name resolved is the same file): a batch's thousand inputs cost a stat each."""
    if info is None:  # no file there yet: no existing input has its name
        return
    resolved: Path | None = None
    for source in dict.fromkeys(inputs):
        with contextlib.suppress(OSError):
            theirs = os.stat(source)
            if (theirs.st_dev, theirs.st_ino) != (info.st_dev, info.st_ino):
                continue
            resolved = resolved or path.resolve()
            if stat.S_ISREG(info.st_mode) or source.resolve() == resolved:
                raise fail(f"refusing to overwrite the input {source}; choose another {option} file")


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def _atomic(real: Path, info: os.stat_result | None, fail: Callable[[str], OutputError]) -> Iterator[TextIO]:
    import tempfile  # only for -o: every command imports this module (yamlsafe notes its inputs here)

    directory = real.parent
    name = _temporary_stem(directory, real.name)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise fail(f"cannot create a file in {directory}: {os_reason(error)}") from None
    kept = "it is left as it was" if info is not None else "nothing was written"
    with _signals_end_the_write():
        try:
            os.fchmod(handle, info.st_mode & 0o777 if info is not None else _new_file_mode())
            if info is not None:
                with contextlib.suppress(OSError):  # root keeps the owner; others keep what they may
                    os.fchown(handle, info.st_uid, info.st_gid)
            stream = os.fdopen(handle, "w", encoding="utf-8", errors=ERRORS, newline="\n")
        except BaseException:
            os.close(handle)
            os.unlink(temporary)
            raise
        try:
            yield stream
            stream.close()  # a full disk often shows only here, when the last buffer is written
            os.replace(temporary, real)
        except BaseException as error:
            _close_quietly(stream)
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            if isinstance(error, OSError) and error.filename in (None, temporary, os.fspath(real)):
                raise fail(f"cannot write: {os_reason(error)}; {kept}") from None
            raise


@contextlib.contextmanager
def _direct(path: Path, fail: Callable[[str], OutputError]) -> Iterator[TextIO]:
    with _signals_end_the_write():
        try:  # no O_CREAT: if the device went away meanwhile, no regular file takes its place
            handle = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOCTTY)
        except OSError as error:
            raise fail(f"cannot open: {os_reason(error)}") from None
        stream = os.fdopen(handle, "w", encoding="utf-8", errors=ERRORS, newline="\n")
        try:
            yield stream
            stream.close()
        except BaseException as error:
            _close_quietly(stream)
            if isinstance(error, OSError) and not isinstance(error, BrokenPipeError) and error.filename is None:
                raise fail(f"cannot write: {os_reason(error)}; what was written is incomplete") from None
            raise


@contextlib.contextmanager
def _stdout() -> Iterator[None]:
    try:
        yield
        sys.stdout.flush()  # a write error shows here, reported, rather than at exit
    except OSError as error:
        if isinstance(error, BrokenPipeError) or error.filename is not None:
            raise
        discard_stdout()
        raise OutputError(f"cannot write: {os_reason(error)}", file="standard output") from None


def discard_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit cannot fail again (and print a traceback)."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _close_quietly(stream: TextIO) -> None:
    with contextlib.suppress(OSError, ValueError):  # io closes the descriptor even when the flush fails
        stream.close()


def _temporary_stem(directory: Path, name: str) -> str:
    """``name`` cut so that the temporary's name (``.NAME.XXXXXXXX.tmp``) fits the file system's limit."""
    try:
        most = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        most = 255
    raw = os.fsencode(name)[: max(1, most - _TEMPORARY_EXTRA)]
    return os.fsdecode(raw)


@contextlib.contextmanager
def _signals_end_the_write() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Signalled` while a file is written, so the cleanup above runs
    (the CLI then ends by the same signal); the previous handlers come back afterwards. A signal that
    was ignored (``nohup``) stays ignored."""
    import signal

    wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    saved: dict[int, Any] = {}

    def raise_signalled(signum: int, frame: Any) -> None:
        raise Signalled(signum)

    try:
        for signum in wanted:
            if signal.getsignal(signum) == signal.SIG_DFL:
                saved[signum] = signal.signal(signum, raise_signalled)
    except ValueError:  # not the main thread: signals cannot be handled here
        pass
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
