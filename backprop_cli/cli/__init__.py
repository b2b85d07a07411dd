"""The ``backprop`` command: click commands only, options, output files."""

from backprop_cli.cli.main import main

__all__ = ["main"]
