"""A wheel of the running backprop-cli, made from its own files: what an autograder's image installs.

backprop-cli is not on a package index, so the Gradescope zip carries the tool itself: a pure-Python
wheel (``py3-none-any``, the files of the package that is running, as ``pyproject.toml`` packages them)
and the versions of its dependencies installed here, as pip constraints, so the image runs what the
instructor ran. Only the standard library is used (``zipfile``, ``hashlib``, ``importlib.metadata``).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import re
import zipfile
from pathlib import Path

DISTRIBUTION = "backprop-cli"
PACKAGE = "backprop_cli"
_DATA = ("examples/*.yaml", "examples/*.json", "examples/*.csv", "py.typed")  # pyproject's package-data
_ENTRY_POINTS = "[console_scripts]\nbackprop = backprop_cli.cli.main:main\n"
_STAMP = (2020, 1, 1, 0, 0, 0)  # the same bytes for the same files
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def wheel_name(version: str) -> str:
    return f"{PACKAGE}-{version}-py3-none-any.whl"


def package_files(root: Path) -> list[Path]:
    """The package's files, relative to its folder: every module and the package data, no caches."""
    found = {p for p in root.rglob("*.py") if "__pycache__" not in p.parts}
    for pattern in _DATA:
        found |= {p for p in root.glob(pattern) if p.is_file()}
    return sorted(p.relative_to(root) for p in found)


def requirements() -> list[str]:
    """The installed distribution's dependencies (not its extras), as its metadata lists them."""
    listed = importlib.metadata.requires(DISTRIBUTION) or []
    return [r for r in listed if "extra ==" not in r.replace('"', "").replace("'", "")]


def constraints() -> str:
    """``name==version`` of each dependency as installed here: the image installs exactly these."""
    lines = []
    for requirement in requirements():
        match = _NAME.match(requirement)
        if match is None:
            continue
        name = match.group(0)
        lines.append(f"{name}=={importlib.metadata.version(name)}\n")
    return "".join(lines)


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build(version: str, root: Path | None = None) -> bytes:
    """The wheel's bytes: the package at ``root`` (default: the one running) with its metadata."""
    if root is None:
        root = Path(__file__).resolve().parents[1]
    info = f"{PACKAGE}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: {version}\nRequires-Python: >=3.11\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requirements())
    wheel = "Wheel-Version: 1.0\nGenerator: backprop-cli\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries = [(f"{PACKAGE}/{path.as_posix()}", (root / path).read_bytes()) for path in package_files(root)]
    entries += [
        (f"{info}/METADATA", metadata.encode()),
        (f"{info}/WHEEL", wheel.encode()),
        (f"{info}/entry_points.txt", _ENTRY_POINTS.encode()),
    ]
    record = "".join(f"{name},{_digest(data)},{len(data)}\n" for name, data in entries) + f"{info}/RECORD,,\n"
    entries.append((f"{info}/RECORD", record.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            item = zipfile.ZipInfo(name, date_time=_STAMP)
            item.external_attr = 0o100644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(item, data)
    return buffer.getvalue()
