"""Files and the system, end to end: special files as outputs and inputs, OS errors, signals during a
write, output encodings, and a student's sheet that tries to make the grader read other files.

Every subprocess here has a timeout; tests about permissions skip, saying so, where this process can
read or write anyway (root ignores permission bits).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_cli.cli.main import main
from backprop_cli.errors import MAX_LINE, ExitCode
from backprop_cli.loading.examples import example_names, example_path

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "docs" / "homework" / "pytorch_snippet_sheet.yaml"
SHORT = 40  # yamlsafe.QUOTE_LIMIT: characters of a file's text a message may quote


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None, **(env or {})})


def one_line(result: Result, code: int = ExitCode.BAD_INPUT) -> str:
    """The single stderr line of a run that ended with ``code`` and no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def backprop(*args: str | bytes, timeout: float = 60, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """``backprop ARGS`` as a real process (for argv bytes, the environment, signals, real stdout)."""
    env = {**os.environ, "NO_COLOR": "1", **kwargs.pop("env", {})}  # type: ignore[dict-item]
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        stderr=subprocess.PIPE,
        timeout=timeout,
        check=False,
        env=env,
        **kwargs,  # type: ignore[arg-type]
    )


def private_device(folder: Path, name: str, minor: int) -> Path | None:
    """A character device of our own (1,3 null; 1,7 full), or None where this process cannot make one."""
    try:
        os.mknod(folder / name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except OSError:
        return None
    return folder / name


def full_device(folder: Path) -> Path:
    """A device that answers every write with ENOSPC. Our own when we can make one; the system's
    /dev/full only for a process that cannot replace it (not root), so a writer that wrongly renames
    over its target can never destroy the real one."""
    own = private_device(folder, "full", 7)
    if own is not None:
        return own
    if os.geteuid() != 0 and Path("/dev/full").is_char_device():
        return Path("/dev/full")
    pytest.skip("no full device to write to")


# ---- -o: every command that writes, every kind of target ------------------------------------------

WRITERS = {
    "trace": ["trace", "single_neuron", "-o"],
    "trace json": ["trace", "single_neuron", "--format", "json", "-o"],
    "trace markdown": ["trace", "single_neuron", "--format", "markdown", "-o"],
    "trace expression": ["trace", "--expr", "f = x * y", "--set", "x=2", "--set", "y=3", "-o"],
    "schema": ["schema", "-o"],
    "answers": ["answers", "single_neuron", "-o"],
    "names": ["names", "single_neuron", "-o"],
    "graph": ["graph", "single_neuron", "-o"],
    "train": ["train", "single_neuron", "-o"],
    "train --save": ["train", "single_neuron", "--save"],
    "check": ["check", str(SHEET), "--format", "json", "-o"],
}
EXIT = {"check": ExitCode.CHECK_FAILED}  # the sheet has a wrong and a missing answer: the report says so


@pytest.mark.parametrize("command", WRITERS)
def test_a_symlink_target_is_written_through_the_link(tmp_path: Path, command: str) -> None:
    (tmp_path / "real.txt").write_text("old\n")
    (tmp_path / "link.txt").symlink_to("real.txt")
    result = invoke(*WRITERS[command], str(tmp_path / "link.txt"))
    assert result.exit_code == EXIT.get(command, ExitCode.OK), result.stderr
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real.txt").read_text() != "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


@pytest.mark.parametrize("command", WRITERS)
def test_a_read_only_file_and_a_directory_are_refused_untouched(tmp_path: Path, command: str) -> None:
    kept = tmp_path / "kept.txt"
    kept.write_text("old\n")
    kept.chmod(0o444)
    option = "--save" if command == "train --save" else "--output"
    assert one_line(invoke(*WRITERS[command], str(kept))).startswith(f"{kept}: {option}: is read-only;")
    assert "is a directory" in one_line(invoke(*WRITERS[command], str(tmp_path)))  # --save: click's own words
    assert kept.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]


@pytest.mark.parametrize("command", ["trace", "trace json", "answers", "train --save", "check"])
def test_a_fifo_is_written_in_place(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = invoke(*WRITERS[command], str(fifo))
    reader.join(timeout=30)
    assert result.exit_code == EXIT.get(command, ExitCode.OK), result.stderr
    assert not reader.is_alive() and got and got[0], "the reader got nothing"
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and [p.name for p in tmp_path.iterdir()] == ["pipe"]


@pytest.mark.parametrize("command", ["trace", "schema", "train --save"])
def test_a_device_is_written_in_place(tmp_path: Path, command: str) -> None:
    null = private_device(tmp_path, "null", 3)
    if null is None:
        pytest.skip("cannot make a device node (needs root): the writer's own test covers the rule")
    assert invoke(*WRITERS[command], str(null)).exit_code == ExitCode.OK
    assert stat.S_ISCHR(null.lstat().st_mode) and [p.name for p in tmp_path.iterdir()] == ["null"]


@pytest.mark.parametrize("command", ["trace", "train --save", "schema"])
def test_a_full_device_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    full = full_device(tmp_path)
    option = "--save" if command == "train --save" else "--output"
    line = one_line(invoke(*WRITERS[command], str(full)))
    assert line == f"{full}: {option}: cannot write: no space left on device; what was written is incomplete"


# ---- OS errors: one line and an exit status, never a traceback -------------------------------------


@pytest.mark.parametrize("args", [["trace"], ["validate"], ["--help"]])
def test_stdout_on_a_full_device_is_one_line_and_exit_2(args: list[str]) -> None:
    if not Path("/dev/full").is_char_device():
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb") as full:  # stdout redirected, as `> /dev/full`: nothing is renamed
        done = backprop(*args, stdout=full)
    assert (done.returncode, done.stderr.decode()) == (2, "standard output: cannot write: no space left on device\n")


def test_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this process may write a read-only folder (root ignores permissions)")
        line = one_line(invoke("trace", "-o", str(folder / "out.txt")))
        assert line == f"{folder}/out.txt: --output: cannot create a file in {folder}: permission denied"
    finally:
        folder.chmod(0o755)


def test_an_unsearchable_folder_is_one_line_for_outputs_and_inputs(tmp_path: Path) -> None:
    folder = tmp_path / "closed"
    folder.mkdir()
    (folder / "net.yaml").write_bytes(example_path("single_neuron").read_bytes())
    folder.chmod(0o600)  # readable listing, but no x: nothing inside can be reached
    try:
        if os.access(folder / "net.yaml", os.R_OK):
            pytest.skip("this process may search an unsearchable folder (root ignores permissions)")
        assert one_line(invoke("trace", "-o", str(folder / "out.txt"))) == (
            f"{folder}/out.txt: --output: permission denied"
        )
        assert one_line(invoke("validate", str(folder / "net.yaml"))) == (
            f"{folder}/net.yaml: permission denied; expected a readable config file"
        )
    finally:
        folder.chmod(0o755)


def test_a_name_too_long_once_the_temporary_suffix_is_added_is_written(tmp_path: Path) -> None:
    name = "t" * 250  # fits NAME_MAX (255); ".NAME.XXXXXXXX.tmp" would not, and gave a traceback
    assert invoke("trace", "-o", str(tmp_path / name)).exit_code == ExitCode.OK
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert one_line(invoke("trace", "-o", str(tmp_path / ("t" * 256)))).endswith("--output: file name too long")


@pytest.mark.parametrize("stdout", ["pipe", "file"])
def test_output_to_proc_self_fd_1_goes_to_stdout(tmp_path: Path, stdout: str) -> None:
    # regression: the temporary went to /proc/self/fd/, a traceback (a pipe) or a rename
    if not Path("/proc/self/fd/1").exists():
        pytest.skip("no /proc")
    if stdout == "pipe":
        done = backprop("trace", "single_neuron", "-o", "/proc/self/fd/1")
        shown = done.stdout
    else:
        with (tmp_path / "out.txt").open("wb") as out:
            done = backprop("trace", "single_neuron", "-o", "/proc/self/fd/1", stdout=out)
        shown = (tmp_path / "out.txt").read_bytes()
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    assert b"backprop trace" in shown and b"loss" in shown


NON_UTF8 = os.fsdecode(b"\xff")  # what Python makes of a byte of a non-UTF-8 name in argv


@pytest.mark.parametrize(
    "args",
    [
        ["answers", "single_neuron", "-o", f"a{NON_UTF8}.yaml"],
        ["trace", "single_neuron", "-o", f"t{NON_UTF8}.txt"],
        ["trace", "single_neuron", "--format", "json", "-o", f"t{NON_UTF8}.json"],
        ["train", "single_neuron", "--save", f"s{NON_UTF8}.yaml"],
    ],
)
def test_non_utf8_output_names_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 0 and result.exception is None, result.stderr
    assert [os.fsencode(p.name) for p in tmp_path.iterdir()] == [os.fsencode(args[-1])]


def test_non_utf8_input_names_are_read_and_shown_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = f"x{NON_UTF8}.yaml"
    Path(config).write_bytes(example_path("single_neuron").read_bytes())
    Path(f"d{NON_UTF8}.csv").write_text("x1,y1\n1,2\n3,4\n", encoding="utf-8")
    result = invoke("trace", config, "--phase", "summary")
    assert result.exit_code == 0 and result.exception is None, result.stderr
    assert "x\\xff.yaml" in result.stdout  # the byte, escaped: never a UnicodeEncodeError
    result = invoke("validate", "single_neuron", "--data", f"d{NON_UTF8}.csv")
    assert result.exit_code == 0 and "d\\xff.csv" in result.stdout, result.stderr
    # an answers file cannot record such a path in YAML: refused before anything is written
    assert one_line(invoke("answers", config, "-o", "key.yaml")).endswith("expected a UTF-8 file name (rename it)")
    assert not Path("key.yaml").exists()


def test_non_utf8_names_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"x\xff.yaml")).write_bytes(example_path("xor").read_bytes())
    done = backprop(b"trace", b"x\xff.yaml", b"-o", b"t\xff.txt", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")
    assert (tmp_path / os.fsdecode(b"t\xff.txt")).read_text(encoding="utf-8").count("x\\xff.yaml") >= 1


@pytest.mark.parametrize(
    ("program", "where"),
    [(b"f = x\xff + 1", "--expr:1:6:"), (b"f = x + 1  # caf\xe9", "--expr:1:17:")],
)
def test_non_utf8_bytes_in_expr_are_one_located_line(program: bytes, where: str) -> None:
    line = one_line(invoke("trace", "--expr", os.fsdecode(program), "--set", "x=1"))
    assert line.startswith(f"{where} not UTF-8 text (byte 0x"), line


def test_a_lone_surrogate_in_a_json_config_is_one_located_line(tmp_path: Path) -> None:
    value = json.loads(json.dumps(yaml.safe_load(example_path("single_neuron").read_text(encoding="utf-8"))))
    value["description"] = "a \ud800 here"
    config = tmp_path / "net.json"
    config.write_text(json.dumps(value), encoding="utf-8")  # json.dumps writes it as the escape \ud800
    line = one_line(invoke("trace", str(config)))
    assert line.startswith(f"{config}:1:") and "a lone surrogate \\ud800 in a string" in line
    value["description"] = "\U0001f9e0 a pair is fine"  # written as \ud83e\udde0
    config.write_text(json.dumps(value), encoding="utf-8")
    assert invoke("validate", str(config)).exit_code == ExitCode.OK


@pytest.mark.parametrize(
    ("encoding", "args"),
    [
        ("ascii", ["trace"]),
        ("latin-1", ["trace"]),
        ("ascii", ["explain", "classic_2_2_2", "h.dL_dw1_1"]),
        ("ascii", ["check", str(SHEET), "--reveal", "wrong", "--explain"]),
    ],
)
def test_an_ascii_or_latin1_terminal_gets_ascii_spellings(encoding: str, args: list[str]) -> None:
    # regression: `LANG=C PYTHONIOENCODING=ascii backprop trace` was a UnicodeEncodeError traceback
    done = backprop(*args, env={"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": encoding})
    assert done.returncode in (0, 1, 2) and b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    text = (done.stdout + done.stderr).decode(encoding)  # every byte is in the stream's encoding
    assert "−" not in text and "δ" not in text and "∂" not in text
    if args == ["trace"]:  # latin-1 has ² and ·, ASCII has neither
        assert ("(L = sum_k (a_k - y_k)^2)" if encoding == "ascii" else "(L = sum_k (a_k - y_k)²)") in text
        assert ("0.5*1 + (-0.25)*0.5" if encoding == "ascii" else "0.5·1 + (-0.25)·0.5") in text
        assert "(eta = 0.1)" in text


@pytest.mark.parametrize(
    ("columns", "args"),
    [
        *((columns, ["trace"]) for columns in ("1", "2", "3")),
        ("1", ["trace", "xor", "--diagnostics"]),
        ("2", ["check", str(SHEET)]),
        ("3", ["train", "xor"]),
        ("1", ["gradcheck", "xor"]),
    ],
)
def test_a_terminal_of_1_to_3_columns_is_laid_out_at_the_narrowest_width(columns: str, args: list[str]) -> None:
    # regression: COLUMNS=1..3 tripped an assertion inside rich (a traceback)
    result = invoke(*args, env={"COLUMNS": columns})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (ExitCode.OK, ExitCode.CHECK_FAILED), result.stderr


# ---- inputs: special files never block -------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "PIPE"],
        ["validate", "single_neuron", "--data", "PIPE.csv"],
        ["check", "PIPE"],
        ["check", str(SHEET), "--config", "PIPE"],
    ],
)
def test_a_fifo_with_no_writer_as_an_input_does_not_block(tmp_path: Path, args: list[str]) -> None:
    # regression: the open of a FIFO waited for a writer forever
    for arg in args:
        if arg.startswith("PIPE"):
            os.mkfifo(tmp_path / arg)
    done = backprop(*args, cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and b"Traceback" not in done.stderr


@pytest.mark.parametrize("how", ["pipe", "file"])
def test_dev_stdin_as_the_config_works_from_a_pipe_and_a_file(tmp_path: Path, how: str) -> None:
    text = example_path("xor").read_bytes()
    if how == "pipe":
        done = backprop("trace", "/dev/stdin", "--phase", "summary", input=text)
    else:
        (tmp_path / "net.yaml").write_bytes(text)
        with (tmp_path / "net.yaml").open("rb") as stdin:
            done = backprop("trace", "/dev/stdin", "--phase", "summary", stdin=stdin)
    assert (done.returncode, done.stderr) == (0, b"") and b"loss.after" in done.stdout


# ---- SIGTERM and SIGHUP while writing: the temporary goes too -------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_writing_leaves_no_temporary_and_ends_the_process_by_it(tmp_path: Path, signum: int) -> None:
    # regression: SIGTERM or SIGHUP during -o left the hidden partial temporary (63 MB seen)
    out = tmp_path / "trace.json"
    out.write_text("the previous trace\n")
    # the longest xor run the trace budget takes (10,000 steps × layers): seconds of writing
    command = [sys.executable, "-m", "backprop_cli", "trace", "xor", "--steps", "5000", "--format", "json"]
    process = subprocess.Popen(
        [*command, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".trace.json.") and p.stat().st_size > 0 for p in tmp_path.iterdir()):
            assert process.poll() is None, process.communicate(timeout=60)
            assert time.monotonic() < deadline, "the trace never started writing"
            time.sleep(0.02)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait(timeout=60)
    assert process.returncode == -signum and stderr == b"", (process.returncode, stderr)
    assert [p.name for p in tmp_path.iterdir()] == ["trace.json"] and out.read_text() == "the previous trace\n"


# ---- check: a sheet never makes the grader read other files --------------------------------------


SECRET = "root:x:0:0:root:/root:/bin/bash\n" * 40  # one YAML scalar, as /etc/passwd is


def sheet(folder: Path, config_path: str, answers: str = "answers: {loss: 1}\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sheet.yaml"
    path.write_text(f"format: backprop-answers\nversion: 1\nconfig: {{path: {config_path!r}}}\n{answers}")
    return path


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.yaml"
    path.write_text(SECRET)
    return path


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "symlinked folder"])
def test_a_sheet_cannot_name_a_config_outside_its_folder(tmp_path: Path, secret: Path, how: str) -> None:
    # regression: config.path was followed anywhere, and a one-scalar file was printed whole
    folder = tmp_path / "submission"
    if how == "absolute":
        path = sheet(folder, str(secret))
    elif how == "dotdot":
        path = sheet(folder, "../secret.yaml")
    elif how == "symlink":
        path = sheet(folder, "net.yaml")
        (folder / "net.yaml").symlink_to(secret)
    else:
        path = sheet(folder, "inner/net.yaml")
        (folder / "inner").symlink_to(tmp_path)
    line = one_line(invoke("check", str(path)))
    assert line.startswith(f"{path}:3:") and "outside the answers file's folder" in line, line
    assert "root:x" not in line


def test_a_config_inside_the_folder_cannot_read_data_outside_it(tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text("x1,y1\n" + SECRET.replace(":", ","))
    folder = tmp_path / "submission"
    path = sheet(folder, "net.yaml")
    config = yaml.safe_load(example_path("single_neuron").read_text(encoding="utf-8"))
    config["data"] = {"file": "../secret.csv"}
    (folder / "net.yaml").write_text(yaml.safe_dump(config))
    line = one_line(invoke("check", str(path)))
    assert line.startswith(f"{folder}/../secret.csv: is outside the folder of the answers file {path}"), line
    assert "root,x" not in line
    # the grader's own choice of config (--config) may read anywhere
    assert invoke("check", str(path), "--config", str(folder / "net.yaml")).exit_code in (0, 1, 2)
    assert "outside" not in invoke("check", str(path), "--config", str(folder / "net.yaml")).stderr


def test_the_grader_chooses_with_config_or_key(tmp_path: Path) -> None:
    net = tmp_path / "net.yaml"
    net.write_bytes(example_path("pytorch_snippet").read_bytes())
    folder = tmp_path / "submission"
    path = sheet(folder, "../net.yaml", "answers: {loss: 16}\n")
    assert "outside the answers file's folder" in one_line(invoke("check", str(path)))
    assert invoke("check", str(path), "--config", str(net)).exit_code == ExitCode.OK
    key = tmp_path / "keys" / "key.yaml"
    key.parent.mkdir()
    assert invoke("answers", str(net), "--only", "loss", "-o", str(key)).exit_code == 0
    assert "../net.yaml" in key.read_text()  # a key's path leads out of its folder: the grader's own file
    assert invoke("check", str(path), "--key", str(key)).exit_code == ExitCode.OK


def test_a_sheet_may_name_a_config_beside_it_or_a_built_in_example(tmp_path: Path) -> None:
    folder = tmp_path / "submission"
    (folder / "nets").mkdir(parents=True)
    (folder / "nets" / "net.yaml").write_bytes(example_path("pytorch_snippet").read_bytes())
    assert invoke("check", str(sheet(folder, "nets/net.yaml", "answers: {loss: 16}\n"))).exit_code == 0
    assert invoke("check", str(sheet(folder, "pytorch_snippet", "answers: {loss: 16}\n"))).exit_code == 0


def test_a_one_scalar_file_is_quoted_short_and_escaped(tmp_path: Path, secret: Path) -> None:
    line = one_line(invoke("check", str(secret)))
    assert line.startswith(f"{secret}:1:1: the top level is 'root:x:0:0:root:/root:/bin/bash root:x:0…'")
    assert f"({len(' '.join(SECRET.split())):,} characters) (a string)" in line
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text('"\\e]0;owned\\a\\e[2J"\n')  # a YAML string of terminal escapes
    line = one_line(invoke("validate", str(hostile)))
    assert "\x1b" not in line and "\x07" not in line and "'\\x1b]0;owned\\x07\\x1b[2J' (a string)" in line


# ---- every message quotes at most a short, escaped excerpt of a file -----------------------------

EXAMPLES = {name: yaml.safe_load(example_path(name).read_text(encoding="utf-8")) for name in example_names()}
HOSTILE = "\x1b]0;owned\x07" + "root:x:0:0:root:/root:/bin/bash " * 40


def _places(value: object, at: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [at]
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_places(child, (*at, key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out.extend(_places(child, (*at, i)))
    return out


@st.composite
def hostile_config(draw: st.DrawFn) -> object:
    """An example config with the hostile text as one value, or as one key."""
    value = json.loads(json.dumps(EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))]))
    at = draw(st.sampled_from(_places(value)))
    if not at:
        return HOSTILE
    parent: object = value
    for part in at[:-1]:
        parent = parent[part]  # type: ignore[index]
    if isinstance(parent, dict) and draw(st.booleans()):
        parent[HOSTILE] = parent.pop(at[-1])
    else:
        parent[at[-1]] = HOSTILE  # type: ignore[index]
    return value


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(config=hostile_config())
def test_a_message_never_quotes_more_than_a_short_escaped_excerpt(config: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "net.json").write_text(json.dumps(config), encoding="utf-8")
        result = invoke("validate", str(Path(folder) / "net.json"))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == ExitCode.OK:
        return
    line = one_line(result)
    assert line.isprintable() and len(line) <= MAX_LINE, line
    assert HOSTILE[: SHORT + 20] not in line and "root:x:0:0:root:/root:/bin/bash root:x:0:0:root:/root" not in line
