"""Shared by the document-format tests: run ``backprop trace`` and read name/value pairs out of its output."""

from __future__ import annotations

import re

from click.testing import CliRunner

from backprop_cli.cli.main import main

# committed network examples covering every layout: one weight, hidden layers, softmax, a batch, mae's |a − y|
EXAMPLES = [
    "pytorch_snippet",
    "single_neuron",
    "two_layer_relu",
    "classic_2_2_2",
    "softmax_classifier",
    "xor",
    "dog_not_dog",
]


def trace(*args: str) -> str:
    result = CliRunner().invoke(main, ["trace", *args], env={"NO_COLOR": None, "FORCE_COLOR": None})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def terminal_values(text: str) -> list[tuple[str, str]]:
    """(name, value) of every row of every section table of a plain terminal trace (wide enough not to wrap)."""
    pairs: list[tuple[str, str]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if re.match(r"name {2,}", lines[index]) and lines[index + 1].startswith("─"):
            index += 2
            while index < len(lines):
                if lines[index].startswith(" ") and pairs and index + 1 < len(lines):
                    index += 1  # a long sum's next line (or the caption): its name and value are on the first
                    continue
                cells = re.split(r" {2,}", lines[index].strip())
                if len(cells) < 2:
                    break
                pairs.append((cells[0], cells[-1]))
                index += 1
        else:
            index += 1
    return pairs


def markdown_values(text: str) -> list[tuple[str, str]]:
    """(name, value) of every row of the Markdown section tables (those whose first cell is a code span);
    a compact table's row gives one pair per sample column (its ``sampleN`` made that column's sample)."""
    pairs = []
    columns: list[str] = []
    for line in text.splitlines():
        if line.startswith("| name |"):
            heads = [cell.strip() for cell in line.strip("|").split("|")]
            columns = [head for head in heads if re.fullmatch(r"sample\d+", head)]
        elif line.startswith("| `"):
            cells = [re.sub(r"\\(.)", r"\1", cell).strip() for cell in re.split(r"(?<!\\) \| ", line[2:-2])]
            name = cells[0].strip("`")
            if "sampleN/" in name:
                values = cells[len(cells) - len(columns) :]
                pairs += [(name.replace("sampleN", c, 1), v) for c, v in zip(columns, values, strict=True) if v]
            else:
                pairs.append((name, cells[-1]))
    return pairs
