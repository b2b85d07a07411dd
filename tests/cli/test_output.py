"""The one writer (backprop_cli/output.py): what each kind of target gets, and what it refuses."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backprop_cli.cli.output import OutputError, open_output
from backprop_cli.loading import run
from backprop_cli.loading.config import load_config
from backprop_cli.loading.examples import example_path


def write(target: str | Path, text: str = "new\n", **kwargs: object) -> None:
    with open_output(str(target), **kwargs) as stream:  # type: ignore[arg-type]
        stream.write(text)


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def device(folder: Path, name: str, minor: int) -> Path:
    """A character device of our own in ``folder`` (1,3 is null, 1,7 is full): never the system's."""
    path = folder / name
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except (PermissionError, OSError) as error:
        pytest.skip(f"cannot make a device node here ({error.strerror}): needs root")
    return path


@pytest.fixture
def umask() -> Iterator[int]:
    old = os.umask(0o022)
    try:
        yield 0o022
    finally:
        os.umask(old)


def test_a_new_file_is_written_whole_with_a_normal_mode_and_no_temporary_left(tmp_path: Path, umask: int) -> None:
    write(tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text() == "new\n"
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o666 & ~umask
    assert entries(tmp_path) == ["out.txt"]


def test_a_regular_file_is_replaced_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    write(target)
    assert target.read_text() == "new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert entries(tmp_path) == ["out.txt"]


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), open_output(str(target)) as stream:
        stream.write("half")
        raise RuntimeError("the run failed midway")
    assert target.read_text() == "old\n" and entries(tmp_path) == ["out.txt"]


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("old\n")
    (tmp_path / "link.txt").symlink_to("real.txt")
    write(tmp_path / "link.txt")
    assert (tmp_path / "link.txt").is_symlink() and os.readlink(tmp_path / "link.txt") == "real.txt"
    assert (tmp_path / "real.txt").read_text() == "new\n"
    (tmp_path / "dangling.txt").symlink_to("created.txt")  # a link to nothing yet: its target is made
    write(tmp_path / "dangling.txt")
    assert (tmp_path / "created.txt").read_text() == "new\n" and (tmp_path / "dangling.txt").is_symlink()


def test_a_fifo_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write(fifo, "through the pipe\n")
    reader.join(timeout=30)
    assert not reader.is_alive() and got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and entries(tmp_path) == ["pipe"]


def test_a_device_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    # regression: as root, `-o /dev/null` renamed a regular file over the system's /dev/null
    null = device(tmp_path, "null", 3)
    write(null)
    assert stat.S_ISCHR(null.lstat().st_mode) and entries(tmp_path) == ["null"]


def test_a_full_device_is_one_located_error(tmp_path: Path) -> None:
    # regression: `-o /dev/full` exited 0; a device is written in place, so its ENOSPC is seen on close
    full = device(tmp_path, "full", 7)
    with pytest.raises(OutputError) as raised:
        write(full, "x" * 100_000)
    assert raised.value.one_line() == (
        f"{full}: --output: cannot write: no space left on device; what was written is incomplete"
    )
    assert stat.S_ISCHR(full.lstat().st_mode)


def test_a_read_only_file_is_refused_untouched(tmp_path: Path) -> None:
    # regression: a 0444 file was silently replaced (root may write anything; the mode says no)
    target = tmp_path / "kept.txt"
    target.write_text("old\n")
    target.chmod(0o444)
    with pytest.raises(OutputError, match=r"kept\.txt: --output: is read-only; expected a file you may write"):
        write(target)
    assert target.read_text() == "old\n" and entries(tmp_path) == ["kept.txt"]


def test_a_directory_and_a_missing_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory; expected a file to write"):
        write(tmp_path)
    with pytest.raises(OutputError, match=r"directory .*nowhere does not exist"):
        write(tmp_path / "nowhere" / "out.txt")


def test_a_name_that_fits_gets_a_temporary_that_fits_too(tmp_path: Path) -> None:
    # regression: a 250-character name failed, since ".NAME.XXXXXXXX.tmp" is 14 characters longer
    longest = "a" * (os.pathconf(tmp_path, "PC_NAME_MAX") - 5) + ".json"
    write(tmp_path / longest)
    assert entries(tmp_path) == [longest]
    with pytest.raises(OutputError, match="--output: file name too long"):
        write(tmp_path / ("b" + longest))


def test_the_output_is_never_an_input_by_name_or_by_hard_link(tmp_path: Path) -> None:
    source = tmp_path / "net.yaml"
    source.write_text("x\n")
    os.link(source, tmp_path / "other-name.yaml")
    for target in (source, tmp_path / "sub" / ".." / "net.yaml", tmp_path / "other-name.yaml"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(OutputError, match="refusing to overwrite the input"):
            write(target, inputs=[source])
    assert source.read_text() == "x\n"


def test_inputs_belong_to_one_run_and_are_forgotten_after_it(tmp_path: Path) -> None:
    # regression: output._inputs_read was a process-wide set that only grew, so a file read by one run
    # stayed an "input" of every later one in the process
    config = tmp_path / "net.yaml"
    config.write_bytes(example_path("single_neuron").read_bytes())
    with run.scope():
        load_config(config)  # read: this run may not overwrite it
        with pytest.raises(OutputError, match="refusing to overwrite the input"):
            write(config)
        with run.scope():  # another run (nested, as a test calling the CLI inside one would be)
            write(config, config.read_text())
    assert run.current().inputs == set()
    load_config(config)  # outside any run, nothing is remembered
    write(config, config.read_text())


def test_a_file_too_large_for_the_limit_is_one_error_and_leaves_nothing(tmp_path: Path) -> None:
    """A real write error on a regular file: RLIMIT_FSIZE makes the kernel refuse it (EFBIG), as a full
    disk would (ENOSPC), without filling one."""
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from backprop_cli.cli.main import main\n"
        "sys.argv = ['backprop', 'trace', 'xor', '--format', 'json', '-o', sys.argv[1]]\n"
        "main()\n"
    )
    target = tmp_path / "trace.json"
    target.write_text("the previous trace\n")
    done = subprocess.run(
        [sys.executable, "-c", script, str(target)], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stderr) == (
        2,
        f"{target}: --output: cannot write: file too large; it is left as it was\n",
    )
    assert target.read_text() == "the previous trace\n" and entries(tmp_path) == ["trace.json"]
