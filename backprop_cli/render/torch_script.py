"""The trace as a runnable PyTorch script (:mod:`backprop_cli.layout.torch_script`): ``python trace.py``."""

from __future__ import annotations

from typing import TextIO

from backprop_cli.layout.document import Document, TraceJob
from backprop_cli.layout.torch_script import script


def write(job: TraceJob, stream: TextIO) -> None:
    stream.write(script(job.spec, job.only))


def write_document(doc: Document, stream: TextIO, width: int | None = None) -> None:
    from backprop_cli.errors import ConfigError

    raise ConfigError("a PyTorch script is written for a network; expected a network config", path="--format")
