"""The README's pictures of the seed lessons, in ``docs/images/``, and the check that they are not stale.

``python -m backprop_cli.docs.gallery`` (from the repository root) writes, for each picture, the
SVG the README shows and the JSON it was drawn from, each exactly what the listed ``backprop`` command
prints; ``--check`` writes nothing and exits 1 when a picture is stale (CI runs it, and so does
``tests/test_landscape_gallery.py``).

What is checked, and why not just the SVG's bytes: matplotlib may lay out an image differently from
one version to the next, so SVG bytes alone would make the check fail on every upgrade without
anything being wrong. The checked artefact is the picture's data:

1. the JSON on disk must be what the command computes now (the same structure, every number to
   1e-9 relative: ulp-level differences between CPUs are not staleness);
2. the SVG on disk must have been drawn from that JSON: it records the JSON's SHA-256;
3. where the installed matplotlib is the version recorded in the SVG, the SVG's bytes must also be
   what the command draws now (this catches a change in how pictures are drawn).
"""

from __future__ import annotations

import json
import math
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

IMAGES_DIR = Path("docs") / "images"
TOLERANCE = 1e-9

#: name → the command that draws it (``--format svg`` or ``json`` is added)
PICTURES: dict[str, list[str]] = {
    "lr_overshoot": [
        "landscape", "lr_too_large", "--x", "out.w1_1", "--learning-rate", "0.3", "--learning-rate", "0.05",
        "--steps", "3", "--grid", "121",
    ],
    "optimizers": [
        "landscape", "narrow_valley", "--optimizer", "sgd:0.1", "--optimizer", "momentum:0.03",
        "--optimizer", "adam:0.2", "--grid", "81",
    ],
    "optimizers_compare": [
        "compare", "narrow_valley", "--optimizer", "sgd:0.1", "--optimizer", "momentum:0.03", "--optimizer", "adam:0.2",
    ],
}  # fmt: skip
_DRAWN = re.compile(r"drawn with matplotlib (\S+) from data sha256 ([0-9a-f]{64})")


def command(name: str, output_format: str) -> str:
    return "backprop " + shlex.join([*PICTURES[name], "--format", output_format])


def expected(name: str) -> dict[str, str]:
    """``NAME.json`` and ``NAME.svg`` as the commands print them now."""
    from backprop_cli.docs import run_cli

    args = PICTURES[name]
    return {f"{name}.json": run_cli([*args, "--format", "json"]), f"{name}.svg": run_cli([*args, "--format", "svg"])}


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-300)
    return type(a) is type(b) and a == b


def _without_record(svg: str) -> str:
    return _DRAWN.sub("", svg)


def problems(directory: Path, name: str, fresh: dict[str, str]) -> list[str]:
    """Why picture ``name`` in ``directory`` is stale (empty when it is not)."""
    import hashlib

    import matplotlib

    data, image = directory / f"{name}.json", directory / f"{name}.svg"
    if not data.is_file() or not image.is_file():
        return [f"{name}: missing"]
    out = []
    stored = data.read_text(encoding="utf-8")
    if not _close(json.loads(stored), json.loads(fresh[f"{name}.json"])):
        out.append(f"{name}.json: its numbers are not what `{command(name, 'json')}` computes")
    svg = image.read_text(encoding="utf-8")
    drawn = _DRAWN.search(svg)
    if drawn is None or drawn.group(2) != hashlib.sha256(stored.encode("utf-8")).hexdigest():
        out.append(f"{name}.svg: not drawn from {name}.json")
    elif drawn.group(1) == matplotlib.__version__ and _without_record(svg) != _without_record(fresh[f"{name}.svg"]):
        out.append(f"{name}.svg: not what `{command(name, 'svg')}` draws")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m backprop_cli.docs.gallery", description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=IMAGES_DIR, help=f"default: {IMAGES_DIR}")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a picture is stale")
    options = parser.parse_args(argv)
    directory: Path = options.directory
    found: list[str] = []
    written = 0
    for name in PICTURES:
        fresh = expected(name)
        stale = problems(directory, name, fresh)
        found += stale
        if stale and not options.check:
            directory.mkdir(parents=True, exist_ok=True)
            for file, text in fresh.items():
                (directory / file).write_text(text, encoding="utf-8", newline="\n")
            written += 1
    if options.check:
        if found:
            print(
                f"stale in {directory}: {'; '.join(found)}; run: python -m backprop_cli.docs.gallery",
                file=sys.stderr,
            )
            return 1
        print(f"{directory}: {len(PICTURES)} pictures up to date")
        return 0
    print(f"{directory}: {written} of {len(PICTURES)} pictures written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
