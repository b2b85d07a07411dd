"""The built-in examples: commented YAML configs shipped inside the package (``configs/`` in the repo)."""

from __future__ import annotations

import os
from pathlib import Path

from backprop_cli.errors import ConfigError
from backprop_cli.model.spec import BUILT_IN

EXAMPLES_DIR = Path(__file__).parent.parent / "examples"
DEFAULT_EXAMPLE = "two_layer_relu"


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.yaml"))


def example_path(name: str) -> Path:
    return EXAMPLES_DIR / f"{name}.yaml"


def resolve(argument: str | None) -> Path:
    """A config argument: an existing file, or the name of a built-in example (default when None)."""
    if argument is None:
        return example_path(DEFAULT_EXAMPLE)
    path = Path(argument)
    # os.path.exists, not Path.exists: it never raises (an unsearchable folder is the loader's to report)
    if os.path.exists(path) or path.suffix.lower() in (".yaml", ".yml", ".json") or "/" in argument:
        return path  # a missing file is reported, located, by the loader
    if argument in example_names():
        return example_path(argument)
    raise ConfigError(
        f"no such file or built-in example {argument!r}; expected a config file or one of: "
        + ", ".join(example_names()),
        file=argument,
    )


def label(path: Path) -> str:
    """How a config is named in the trace: built-in examples by name, so output does not depend on the install."""
    if path.parent.resolve() == EXAMPLES_DIR.resolve() and path.stem in example_names():
        return path.stem + BUILT_IN
    return str(path)


def describe(name: str) -> str:
    """The first line of an example's ``description``."""
    from backprop_cli.loading.config import load_config
    from backprop_cli.loading.expression import is_expression_document, load_expression_config

    path = example_path(name)
    if is_expression_document(path):  # a computation graph (expression:) rather than a network
        description = load_expression_config(path, name).description
    else:
        description = load_config(path).description
    return description.strip().splitlines()[0] if description else ""
