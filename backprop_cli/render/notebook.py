"""The trace as a Jupyter notebook (nbformat 4.5 JSON): the cells of :mod:`backprop_cli.layout.notebook`,
with the header (network, facts) as the first markdown cell. Deterministic: cell ids are numbered, no
outputs are stored, keys are written in one order. Written without nbformat (the tests validate it with
nbformat where it is installed).
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from backprop_cli.layout.document import Document, TraceJob
from backprop_cli.layout.header import facts, network_columns, network_rows, title
from backprop_cli.layout.notebook import Cell, cells
from backprop_cli.model.i18n import _
from backprop_cli.render.markdown import table, text


def header(job: TraceJob) -> str:
    spec = job.spec
    out = [f"# {text(title(spec))}\n"]
    if spec.description:
        out.append(text(spec.description.strip()) + "\n")
    rows = [[text(c) for c in row] for row in network_rows(spec, job.fmt)]
    out.append(table(network_columns(), rows, values=0))
    out.append("".join(f"- {text(line)}\n" for line in facts(spec, job.total, job.fmt)))
    out.append(
        _(
            "Run the cells in order: each recomputes a phase with numpy and prints its numbers under the "
            "trace's names. Change a weight in the network cell and run on to see what moves."
        )
        + "\n"
    )
    return "\n".join(out)


def _lines(source: str) -> list[str]:
    return source.splitlines(keepends=True)


def notebook(job: TraceJob) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for number, cell in enumerate(cells(job.spec, job.only, header(job)), start=1):
        entry: dict[str, Any] = {"cell_type": cell.kind, "id": f"cell-{number}", "metadata": {}}
        if cell.kind == "code":
            entry |= {"execution_count": None, "outputs": []}
        entry["source"] = _lines(cell.source)
        out.append(entry)
    metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return {"cells": out, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def code_cells(document: dict[str, Any]) -> list[str]:
    """The notebook's code, cell by cell (what a test runs)."""
    return ["".join(c["source"]) for c in document["cells"] if c["cell_type"] == "code"]


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(json.dumps(notebook(job), indent=1, ensure_ascii=False) + "\n")


def write_document(doc: Document, stream: TextIO, width: int | None = None) -> None:
    from backprop_cli.errors import ConfigError

    raise ConfigError("a notebook is written for a network; expected a network config", path="--format")


__all__ = ["Cell", "code_cells", "notebook", "write"]
