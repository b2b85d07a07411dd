"""The packages import one way down, as the README's Development section draws them.

Every import of ``backprop_cli`` modules is read from the source (module level and inside functions,
not those under ``if TYPE_CHECKING:``, which only annotate) and held to the layers below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "backprop_cli"

#: What each part may import at run time, besides itself and ``errors``. A part lower in the list never
#: imports one higher: the model is plain data, the engines never render, renderers never compute.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "model": set(),
    "nn": {"model"},
    "graph": {"model"},
    "loading": {"model", "nn", "graph"},
    "budget": {"model", "nn", "graph", "loading"},
    "landscape": {"model", "nn", "loading", "budget"},
    "layout": {"model", "nn", "graph"},
    "render": {"model", "layout"},
    "homework": {"model", "nn", "graph", "loading", "render"},
    "workers": set(),
    "api": {"model", "nn", "graph", "loading", "budget", "layout", "render", "homework"},
    "cli": {"model", "nn", "graph", "loading", "budget", "landscape", "layout", "render", "homework", "workers", "api"},
    "docs": {"model", "loading", "nn", "cli"},
    "__main__": {"cli"},
    "__init__": {"api", "model"},
}
#: render may read these data modules of the engine packages: results and records, never the engines
RENDER_READS = {"nn.diagnostics", "nn.train", "landscape.model", "landscape.grid"}


def part(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def runtime_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``backprop_cli`` import outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backprop_cli"):
            if node.module == "backprop_cli":
                found.extend((node.lineno, f"backprop_cli.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names if a.name.startswith("backprop_cli"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        out.append((".".join(relative.parts).removesuffix(".__init__"), path))
    return out


@pytest.mark.parametrize(("name", "path"), modules(), ids=[name for name, _ in modules()])
def test_imports_go_one_way_down(name: str, path: Path) -> None:
    here = part(name) if name != "backprop_cli" else "__init__"
    wrong = []
    for line, imported in runtime_imports(path):
        there = part(imported)
        if there in (here, "errors", "__version__"):
            continue
        inner = ".".join(imported.split(".")[1:3])
        if here == "render" and inner in RENDER_READS:
            continue
        if there not in ALLOWED.get(here, set()):
            wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {here} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_every_module_belongs_to_a_known_part() -> None:
    unknown = {part(name) for name, _ in modules() if name != "backprop_cli"} - set(ALLOWED)
    assert not unknown, unknown


def test_one_phases_constant() -> None:
    """The phases of a step are written down once (model/quantity.py) and imported everywhere else."""
    defining = [
        str(path.relative_to(PACKAGE.parent))
        for _, path in modules()
        if "PHASES = (" in path.read_text(encoding="utf-8")
    ]
    assert defining == ["backprop_cli/model/quantity.py"], defining


def test_one_console_factory() -> None:
    """Every console is made by render/console.py's make_console (stdout's colour rules, the narrowest
    width, no emoji codes, user text unable to drive the terminal); svg.py alone records one for an image."""
    constructing = sorted(
        str(path.relative_to(PACKAGE.parent))
        for _, path in modules()
        if any(
            isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("SafeConsole", "Console")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    )
    assert constructing == ["backprop_cli/render/console.py", "backprop_cli/render/svg.py"], constructing


def test_trace_and_train_of_the_default_example_import_only_what_they_use() -> None:
    """``backprop trace`` and ``backprop train`` of a network start without the expression loader,
    the rounded-as-you-go chain, the residual and activation layer types and (inline rows) the CSV
    reader (issue 13: cold start)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from backprop_cli.cli.main import main\n"
        "assert CliRunner().invoke(main, [sys.argv[1]]).exit_code == 0\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('backprop_cli') or m == 'csv')))\n"
    )
    never = {"backprop_cli.loading.expression", "backprop_cli.model.rounding", "backprop_cli.graph", "csv"}
    for command in ("trace", "train"):
        run = subprocess.run(
            [sys.executable, "-c", probe, command], capture_output=True, text=True, check=True, timeout=120
        )
        loaded = set(run.stdout.split())
        assert "backprop_cli.nn.engine" in loaded and "backprop_cli.model.record" in loaded  # the probe ran
        assert not loaded & never, (command, sorted(loaded & never))
        layers = sorted(m for m in loaded if m.startswith("backprop_cli.nn.layers."))
        assert layers == ["backprop_cli.nn.layers.base", "backprop_cli.nn.layers.dense"], (command, layers)
