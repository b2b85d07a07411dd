"""``backprop trace`` on expression programs (``--expr``, ``--set``, ``--exact``, expression configs)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from backprop_cli.cli.main import main

CIRCUIT = ["--expr", "f = (x + y) * z", "--set", "x=-2", "--set", "y=5", "--set", "z=-4"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["trace", *args], env={"NO_COLOR": None, "FORCE_COLOR": None})


def rows(output: str) -> dict[str, list[str]]:
    """Table rows by their first cell (the name)."""
    out = {}
    for line in output.splitlines():
        cells = line.split()
        if cells and (cells[0].startswith(("grad.", "d")) or cells[0] in ("f", "t1", "q")):
            out[cells[0]] = cells[1:]
    return out


def test_inline_expression_traces_node_by_node() -> None:
    result = invoke(*CIRCUIT, "--width", "120")
    assert result.exit_code == 0, result.stderr
    found = rows(result.output)
    assert found["t1"] == ["x", "+", "y", "(-2)", "+", "5", "3"]
    assert found["f"][-1] == "-12"
    assert found["df_dt1"] == ["z", "(-4)", "-4"]
    assert found["grad.t1.via.f"] == ["grad.f", "×", "df_dt1", "1", "×", "(-4)", "-4"]
    assert found["grad.x"][-1] == "-4" and found["grad.y"][-1] == "-4" and found["grad.z"][-1] == "3"


def test_json_carries_value_gradients_and_node_records() -> None:
    result = invoke(*CIRCUIT, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.output)
    assert doc["format"] == "backprop-trace" and doc["version"] == 2 and doc["kind"] == "expression"
    assert doc["exact"] is False and len(doc["steps"]) == 1  # the same envelope as a network's
    step = doc["steps"][0]
    assert step["value"] == -12.0 and doc["summary"]["value"] == -12.0
    assert step["gradients"] == doc["summary"]["gradients"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert [n["name"] for n in step["nodes"]] == ["x", "y", "z", "t1", "f"]
    first = step["backward"][0]
    assert first["name"] == "f" and first["seed"] is True
    assert first["edges"][0] == {
        "to": "t1",
        "position": 1,
        "upstream": 1.0,
        "local": {"name": "df_dt1", "value": -4.0},
        "product": {"name": "grad.t1.via.f", "value": -4.0},
    }


def test_a_shared_variable_shows_its_contributions_and_their_sum() -> None:
    result = invoke("shared_variable", "--width", "140")
    assert result.exit_code == 0, result.stderr
    found = rows(result.output)
    assert found["grad.x"] == [
        "grad.x.via.b.1", "+", "grad.x.via.b.2", "+", "grad.x.via.a", "3", "+", "3", "+", "(-2)", "4",
    ]  # fmt: skip
    assert "x is read 3 times (b, a): grad.x is the sum of the contributions" in result.output


def test_exact_fractions_in_text_and_json() -> None:
    args = ["--expr", "f = 24 / (7 * x)", "--set", "x=1", "--exact"]
    text = invoke(*args)
    assert text.exit_code == 0, text.stderr
    assert rows(text.output)["grad.x"][-1] == "-24/7"
    doc = json.loads(invoke(*args, "--format", "json").output)
    assert doc["exact"] is True and doc["summary"]["value"] == "24/7" and doc["summary"]["gradients"] == {"x": "-24/7"}


def test_exact_refuses_exp_by_name_with_exit_2() -> None:
    result = invoke("sigmoid_neuron_circuit", "--exact")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("--exact: exp is not a rational operation; expected only "
                                          "+ − × ÷, integer powers, abs, relu, max, min (or drop --exact)")  # fmt: skip
    assert "sigmoid_neuron_circuit.yaml:14:7: expression.line 6:" in result.stderr


def test_exact_on_an_irrational_network_says_why() -> None:
    result = invoke("xor", "--exact")
    assert result.exit_code == 2 and "--exact: the sigmoid activations of layers h and o" in result.stderr


def test_hostile_expression_is_one_located_line_and_exit_2() -> None:
    result = invoke("--expr", "f = __import__('os').system('echo hi')", "--set", "x=1")
    assert result.exit_code == 2
    assert result.stderr == "--expr:1:5: attribute access (a.b) is not allowed; expected a call of one of " + (
        "exp, log, sqrt, abs, tanh, sigmoid, relu, max, min\n"
    )
    assert result.stdout == ""
    deep = invoke("--expr", "f = 10**10**10")
    assert deep.exit_code == 2 and deep.stderr.startswith("--expr:1:9: the exponent must be a number")


def test_numerical_fault_is_exit_3() -> None:
    result = invoke("--expr", "f = log(x)", "--set", "x=0")
    assert result.exit_code == 3
    assert result.stderr.startswith("numerical fault at node f (f = log(x), line 1)")


def test_an_exact_value_past_the_printable_bound_is_a_located_fault_in_every_format() -> None:
    # 3^10000 has 4,772 digits: past Python's 4,300 for an int as text, once a crash when printed
    for fmt in ("text", "json", "markdown"):
        result = invoke("--expr", "a = x**100; f = a**100", "--set", "x=3", "--exact", "--format", fmt)
        assert result.exit_code == 3 and result.stdout == "", (fmt, result.stdout[-200:])
        assert result.stderr == (
            "numerical fault at node f (a = x**100; f = a**100, line 1): value: the exact value would have more "
            "than 4,000 digits; expected smaller numbers or fewer powers (or drop --exact)\n"
        )


def test_the_minus_sign_the_trace_prints_can_be_typed_back_in() -> None:
    """U+2212 (−), as descriptions print −2 and formulas x − y, reads as ASCII - in --set and --expr."""
    ascii_run = invoke(
        "--expr", "f = (x - y) * -z", "--set", "x=-2", "--set", "y=5", "--set", "z=-1/4", "--format", "json"
    )
    unicode_run = invoke(
        "--expr", "f = (x − y) * −z", "--set", "x=−2", "--set", "y=5", "--set", "z=−1/4", "--format", "json"
    )
    assert unicode_run.exit_code == 0, unicode_run.stderr
    mine, theirs = json.loads(unicode_run.output), json.loads(ascii_run.output)
    assert (
        (mine["summary"]["value"], mine["summary"]["gradients"])
        == (theirs["summary"]["value"], theirs["summary"]["gradients"])
        == (-1.75, {"x": 0.25, "y": -0.25, "z": 7.0})
    )  # (−2 − 5)·(1/4) = −1.75; ∂f/∂x = −z, ∂f/∂y = z, ∂f/∂z = −(x − y)


def test_set_overrides_config_values(tmp_path: Path) -> None:
    result = invoke("circuit_add_mul", "--set", "z=2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.output)
    # f = (x + y)·z with z = 2: ∂f/∂x = z = 2, ∂f/∂z = x + y = 3
    assert doc["config"]["values"] == {"x": "-2", "y": "5", "z": "2"}
    assert doc["summary"]["gradients"] == {"x": 2.0, "y": 2.0, "z": 3.0}


def test_network_only_options_are_refused() -> None:
    for option in (["--layer", "h"], ["--step", "1"], ["--steps", "2"], ["--sample", "1"]):
        result = invoke(*CIRCUIT, *option)
        assert result.exit_code == 2 and "applies to networks" in result.stderr, option
    both = invoke("circuit_add_mul", "--expr", "f = x")
    assert both.exit_code == 2 and "either CONFIG or --expr" in both.stderr


def test_phase_filter_and_output_file(tmp_path: Path) -> None:
    target = tmp_path / "trace.txt"
    result = invoke(*CIRCUIT, "--phase", "summary", "-o", str(target))
    assert result.exit_code == 0 and result.output == ""
    text = target.read_text(encoding="utf-8")
    assert "Result · f and its gradients by the inputs" in text and "Backward ·" not in text


def test_validate_describes_an_expression_config() -> None:
    result = CliRunner().invoke(main, ["validate", "circuit_add_mul"])
    assert result.exit_code == 0
    assert result.output == (
        "ok: circuit_add_mul (built-in example): expression of 2 operations; 3 inputs (x, y, z); output f\n"
    )


def test_expression_config_file_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"expression": "a = x * x\nf = a + x", "values": {"x": 3}}), encoding="utf-8")
    result = invoke(str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.output)["summary"]["gradients"] == {"x": 7.0}  # ∂(x² + x)/∂x = 2x + 1 = 7


def test_a_network_config_that_mentions_expression_is_still_a_network(tmp_path: Path) -> None:
    from backprop_cli.loading.examples import example_path

    text = example_path("pytorch_snippet").read_text(encoding="utf-8")
    path = tmp_path / "net.yaml"
    path.write_text(text.replace("description:", 'description: "expression: no"\n# was:'), encoding="utf-8")
    result = invoke(str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.output)["steps"][0]["gradients"]["out"]["weights"] == [[-24.0]]


def test_max_rows_caps_the_text_trace() -> None:
    result = invoke("micrograd_readme", "--max-rows", "20")
    assert result.exit_code == 0
    assert "… trace stopped after 20 rows" in result.output and "Backward ·" not in result.output
    assert "Backward ·" in invoke("micrograd_readme", "--max-rows", "0").output


def test_json_config_keeps_the_output_variable_and_names_its_node() -> None:
    doc = json.loads(invoke("micrograd_readme", "--format", "json").output)
    assert doc["config"]["output"] == "g"  # as the config says
    assert doc["summary"]["output"] == "g_2"  # the node: g was assigned twice
    assert round(doc["summary"]["value"], 4) == 24.7041


def test_set_without_an_expression_says_what_it_is_for() -> None:
    result = invoke("--set", "x=1")
    assert result.exit_code == 2
    assert result.stderr == (
        "--set: the default example is a network; --set gives expression inputs, expected with --expr or an "
        "expression config\n"
    )
    tiny = invoke("--expr", "f = x", "--set", "x=1e-400")
    assert tiny.stderr == "--set: x='1e-400': out of range; expected 0 or a size between 1e-300 and 1e300\n"


def test_tree_draws_the_graph_before_the_tables() -> None:
    result = invoke(*CIRCUIT, "--tree", "--phase", "summary", "--width", "100")
    assert result.exit_code == 0, result.stderr
    lines = result.output.splitlines()
    start = lines.index("--expr")
    assert lines[start + 1 : start + 6] == [
        "└── f = t1 × z · value -12 · grad.f 1",
        "    ├── [df_dt1 = -4] t1 = x + y · value 3 · grad.t1 -4",
        "    │   ├── [dt1_dx = 1] x · value -2 · grad.x -4",
        "    │   └── [dt1_dy = 1] y · value 5 · grad.y -4",
        "    └── [df_dz = 3] z · value -4 · grad.z 3",
    ]
    assert lines[start + 6].startswith("Result · f")
    network = invoke("xor", "--tree")
    assert network.exit_code == 2 and "use `backprop graph CONFIG --format tree`" in network.stderr
