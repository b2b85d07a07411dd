"""The wheel the Gradescope zip carries: the running package's own files, installable, importable alone."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from backprop_cli import __version__
from backprop_cli.homework import wheel

PACKAGE = Path(wheel.__file__).resolve().parents[1]


def test_the_wheel_holds_every_file_of_the_package_with_a_record_that_checks() -> None:
    data = wheel.build(__version__)
    assert data == wheel.build(__version__)  # the same bytes for the same files
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = f"backprop_cli-{__version__}.dist-info"
    names = set(archive.namelist())
    modules = {f"backprop_cli/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*.py")}
    modules = {m for m in modules if "__pycache__" not in m}
    assert modules <= names and "backprop_cli/py.typed" in names and "backprop_cli/examples/classic_2_2_2.yaml" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert archive.read("backprop_cli/homework/wheel.py") == Path(wheel.__file__).read_bytes()
    metadata = archive.read(f"{info}/METADATA").decode()
    assert f"Name: backprop-cli\nVersion: {__version__}\n" in metadata and "Requires-Dist: click" in metadata
    assert "pytest" not in metadata  # the test extra is not a dependency
    assert "Root-Is-Purelib: true" in archive.read(f"{info}/WHEEL").decode()
    assert "backprop = backprop_cli.cli.main:main" in archive.read(f"{info}/entry_points.txt").decode()
    record = archive.read(f"{info}/RECORD").decode().splitlines()
    assert {line.split(",")[0] for line in record} == names
    for line in record:
        name, digest, size = line.rsplit(",", 2)
        if name.endswith("RECORD"):
            continue
        body = archive.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
        assert (digest, int(size)) == (f"sha256={expected}", len(body)), name


def install(wheel_file: Path, target: Path) -> None:
    """pip installs the wheel into ``target`` as setup.sh does, but offline: no index, no dependencies."""
    command = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet", "--target", str(target)]
    done = subprocess.run([*command, str(wheel_file)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_the_wheel_installs_with_pip_and_runs_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / wheel.wheel_name(__version__)
    path.write_bytes(wheel.build(__version__))
    install(path, tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    code = "import backprop_cli; print(backprop_cli.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith(str(tmp_path / "site")), (done.stdout, done.stderr)
    config = tmp_path / "site" / "backprop_cli" / "examples" / "classic_2_2_2.yaml"
    command = [sys.executable, "-m", "backprop_cli", "trace", str(config), "--phase", "forward", "--no-color"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "h.z1" in done.stdout, done.stderr


def test_the_constraints_pin_each_dependency_to_its_installed_version() -> None:
    import importlib.metadata

    lines = wheel.constraints().splitlines()
    assert lines and all("==" in line for line in lines)
    pinned = dict(line.split("==") for line in lines)
    assert pinned["click"] == importlib.metadata.version("click") and "pytest" not in pinned
