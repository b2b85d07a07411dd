"""``backprop graph``: expressions and networks as Mermaid, DOT or a terminal tree."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from tests.render.test_diagram import check_dot, check_mermaid


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["graph", *args], env={"NO_COLOR": None, "FORCE_COLOR": None})


def test_default_is_mermaid_of_the_default_example() -> None:
    result = invoke()
    assert result.exit_code == 0, result.stderr
    assert check_mermaid(result.output) == (6, 7)
    assert 'title: "two_layer_relu (built-in example) · step 1, data row 1"' in result.output


def test_inline_expression_as_mermaid_dot_and_tree() -> None:
    args = ["--expr", "f = (x + y) * z", "--set", "x=-2", "--set", "y=5", "--set", "z=-4"]
    mermaid = invoke(*args)
    assert mermaid.exit_code == 0, mermaid.stderr
    assert check_mermaid(mermaid.output) == (5, 4)
    dot = invoke(*args, "--format", "dot")
    check_dot(dot.output)
    assert 'n4 [label="t1 = x + y\\nvalue 3\\ngrad.t1 -4", shape=box];' in dot.output
    tree = invoke(*args, "--format", "tree")
    assert tree.output.splitlines() == [
        "--expr",
        "└── f = t1 × z · value -12 · grad.f 1",
        "    ├── [df_dt1 = -4] t1 = x + y · value 3 · grad.t1 -4",
        "    │   ├── [dt1_dx = 1] x · value -2 · grad.x -4",
        "    │   └── [dt1_dy = 1] y · value 5 · grad.y -4",
        "    └── [df_dz = 3] z · value -4 · grad.z 3",
    ]


def test_exact_graph_shows_fractions() -> None:
    result = invoke("--expr", "f = x / (x + y)", "--set", "x=1", "--set", "y=2", "--exact")
    assert result.exit_code == 0, result.stderr
    # f = 1/3; ∂f/∂x = y/(x + y)² = 2/9, ∂f/∂y = −x/(x + y)² = −1/9
    assert "grad.x 2/9" in result.output and "grad.y -1/9" in result.output and "value 1/3" in result.output


def test_network_per_layer_and_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "xor.mmd"
    result = invoke("xor", "--nodes", "layer", "-o", str(target))
    assert result.exit_code == 0 and result.output == ""
    text = target.read_text(encoding="utf-8")
    assert check_mermaid(text) == (4, 3)
    assert "loss = 0.6987 (mean over 4 samples)" in text  # XOR's batch loss at the start


def test_bad_input_is_located() -> None:
    result = invoke("--expr", "f = x.y")
    assert result.exit_code == 2 and result.stderr.startswith("--expr:1:5: attribute access")
    missing = invoke("nope.yaml")
    assert missing.exit_code == 2 and missing.stderr.startswith("nope.yaml: no such file")


def test_readme_mermaid_block_is_the_real_output() -> None:
    import os
    import re

    readme = Path(__file__).parents[2] / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = re.compile(r"(```mermaid\n)(.*?)(```\n)", re.S)
    found = block.search(text)
    assert found, "README lost its mermaid block"
    real = invoke("circuit_add_mul").output
    if os.environ.get("BACKPROP_UPDATE_GOLDEN") and found.group(2) != real:
        readme.write_text(text[: found.start(2)] + real + text[found.end(2) :], encoding="utf-8")
        return
    assert found.group(2) == real, "README's mermaid block is stale; regenerate with BACKPROP_UPDATE_GOLDEN=1"
    check_mermaid(found.group(2))
