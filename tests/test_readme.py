"""The outputs quoted in README.md are the real outputs of the commands that precede them.

They live in cog blocks that call :func:`backprop_cli.docs.fenced`::

    <!-- [[[cog from backprop_cli.docs import fenced; cog.out(fenced("trace --help")) ]]] -->
    ...what `backprop trace --help` prints, in a text fence...
    <!-- [[[end]]] -->

CI runs ``cog --check README.md``; this test runs the same check so a local ``pytest`` catches a stale
README. Regenerate with ``cog -r README.md`` (or ``BACKPROP_UPDATE_GOLDEN=1 pytest tests/test_readme.py``,
which also turns an older ``<!-- begin: backprop ARGS -->`` … ``<!-- end -->`` block into a cog block).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
COG = re.compile(r"<!-- \[\[\[cog .*? \]\]\] -->\n.*?<!-- \[\[\[end\]\]\] -->\n", re.S)
LEGACY = re.compile(r"<!-- begin: backprop (?P<args>[^>]*?) -->\n(?P<body>.*?)<!-- end -->\n", re.S)


def cog_block(args: str, body: str = "") -> str:
    code = f'from backprop_cli.docs import fenced; cog.out(fenced("{args}"))'
    return f"<!-- [[[cog {code} ]]] -->\n{body}<!-- [[[end]]] -->\n"


def test_readme_cog_blocks_are_the_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    cogapp = pytest.importorskip("cogapp", reason="cogapp is a test extra: pip install '.[test]'")
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        text = README.read_text(encoding="utf-8")
        README.write_text(LEGACY.sub(lambda m: cog_block(m.group("args"), m.group("body")), text), encoding="utf-8")
        assert cogapp.Cog().main(["cog", "-r", str(README)]) == 0, capsys.readouterr()
    readme = README.read_text(encoding="utf-8")
    assert len(COG.findall(readme)) >= 5, "README lost its generated blocks"
    legacy = [m.group("args") for m in LEGACY.finditer(readme)]
    convert = f"BACKPROP_UPDATE_GOLDEN=1 pytest {__file__}"
    assert not legacy, f"README blocks {legacy} use the old markers; convert them with {convert}"
    status = cogapp.Cog().main(["cog", "--check", "--diff", str(README)])
    assert status == 0, f"README cog blocks are stale; regenerate with: cog -r README.md\n{capsys.readouterr().out}"


def test_readme_opens_with_the_two_set_up_commands() -> None:
    fences = re.findall(r"```sh\n(.*?)\n```", README.read_text(encoding="utf-8"), re.S)
    install, tests = fences[0], fences[1]
    assert install.endswith("pip install . && backprop trace")
    assert tests.endswith("pip install '.[test]' && pytest")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install '.[test]' && pytest" in ci, ".ci/run must run the README's test command"
    assert "cog --check README.md" in ci, ".ci/run must check the README's cog blocks"


def _walk_through() -> str:
    readme = README.read_text(encoding="utf-8")
    start = readme.index("### How to add a layer type")
    end = readme.find("\n#", start + 1)
    return readme[start : end if end != -1 else None]


def test_the_layer_walk_through_names_files_that_exist_and_at_most_three_to_touch() -> None:
    text = _walk_through()
    named = set(re.findall(r"`(backprop_cli/[\w/]+\.py|tests/[\w/]+\.py)`", text))
    assert named, "the walk-through names no files"
    root = README.parent
    missing = [path for path in named if "NAME" not in path and not (root / path).is_file()]
    assert not missing, missing
    steps = re.findall(r"(?m)^\d\. \*\*`(backprop_cli/[\w/]+\.py)`", text)
    assert len(steps) == 3, steps  # issue 13: at most three source files to touch


def test_every_layer_type_is_what_the_walk_through_says() -> None:
    """Each registered type: its own module under nn/layers, its config model in loading/models.py,
    in the LayerEntry union; so the walk-through's three files are all a new type needs."""
    from typing import get_args

    from backprop_cli.loading import models
    from backprop_cli.nn.layers import LAYER_TYPES

    union = set(get_args(models.LayerEntry)) or {models.LayerEntry}
    for kind, op_type in LAYER_TYPES.items():
        assert op_type.kind == kind
        assert op_type.__module__.startswith("backprop_cli.nn.layers."), op_type
        model = getattr(models, op_type.config_model)
        assert model in union, (kind, model)


def test_a_network_of_dense_layers_does_not_import_the_other_layer_types() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from backprop_cli.loading.config import load_network\n"
        "from backprop_cli.nn.engine import Engine\n"
        "spec, _ = load_network('two_layer_relu')\n"
        "list(Engine(spec).run())\n"
        "print(sorted(m for m in sys.modules if m.startswith('backprop_cli.nn.layers.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "['backprop_cli.nn.layers.base', 'backprop_cli.nn.layers.dense']"
