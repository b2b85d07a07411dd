"""What the layer tests share: a config dict loaded as a file would be, its located error, a CLI run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from backprop_cli.cli.main import main
from backprop_cli.errors import ConfigError
from backprop_cli.loading.config import load_config_text
from backprop_cli.model.spec import NetworkSpec

TORCH = "torch is not installed; parity tests need `pip install torch==2.13.0`"


def load(value: dict[str, Any]) -> NetworkSpec:
    """``value`` loaded as the JSON file ``net.json`` would be."""
    return load_config_text(json.dumps(value), source="net.json", base_dir=Path("."), fmt="json")


def error(value: dict[str, Any]) -> str:
    """The one located line ``value`` is refused with."""
    with pytest.raises(ConfigError) as caught:
        load(value)
    return caught.value.one_line()


def invoke(*args: str) -> Result:
    """``backprop ARGS`` through click's runner, colour off."""
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "FORCE_COLOR": None})
