"""``backprop answers --format markdown|html|latex|pdf``: the worksheet (--blank) or its solution handout."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FORMATS = ("markdown", "html", "latex", "pdf")
PDFLATEX_SECONDS = 120


def write_handout(
    spec: Any, path: Path, asked: Sequence[Any], *, blank: bool, output_format: str, output: str | None
) -> None:
    """Lay out the steps the sheet asks from, as the trace's documents do, blanks where it asks."""
    from backprop_cli.budget import check_layout
    from backprop_cli.cli.output import open_output
    from backprop_cli.layout.document import TraceJob, build
    from backprop_cli.layout.worksheet import handout
    from backprop_cli.model.filters import Filter
    from backprop_cli.model.numbers import NumberFormat
    from backprop_cli.nn.engine import Engine, count_steps
    from backprop_cli.render import DEFAULT_MAX_ROWS, document_writer

    chosen = Filter(frozenset({v.step for v in asked}))
    rows = check_layout(spec, chosen, DEFAULT_MAX_ROWS, document=True).rows
    engine = Engine(spec)
    fmt = NumberFormat()
    total = count_steps(spec.data.rows, spec.training)
    before = float(engine.loss())
    job = TraceJob(spec, engine.run(), total, fmt, chosen, before, lambda: float(engine.loss()), DEFAULT_MAX_ROWS,
                   None, False, rows)  # fmt: skip
    doc = handout(build(job), [v.name for v in asked], solution=not blank)
    text = io.StringIO()
    document_writer("latex" if output_format == "pdf" else output_format)(doc, text, None)
    if output_format != "pdf":
        with open_output(output, inputs=[path]) as stream:
            stream.write(text.getvalue())
        return
    pdf = _pdflatex(text.getvalue())
    with open_output(output, inputs=[path]) as stream:
        stream.flush()
        stream.buffer.write(pdf)


def _pdflatex(tex: str) -> bytes:
    import shutil
    import subprocess
    import tempfile

    from backprop_cli.errors import ConfigError

    if shutil.which("pdflatex") is None:
        raise ConfigError("pdflatex is not installed; expected it on PATH (or --format latex)", path="--format")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "handout.tex").write_text(tex, encoding="utf-8")
        try:
            done = subprocess.run(
                ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "handout.tex"],
                cwd=folder,
                capture_output=True,
                timeout=PDFLATEX_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            message = f"pdflatex took over {PDFLATEX_SECONDS} s; expected --format latex"
            raise ConfigError(message, path="--format") from None
        result = Path(folder) / "handout.pdf"
        if done.returncode != 0 or not result.is_file():
            raise ConfigError("pdflatex failed on the handout; expected --format latex to inspect it", path="--format")
        return result.read_bytes()
