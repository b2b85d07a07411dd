"""Domain exceptions and the one place exit codes are defined.

Library code raises these; only ``cli.py`` turns them into an exit status.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

MAX_LINE = 600  # characters of a one-line error message, at most


QUOTE_LIMIT = 40  # characters of a file's text that a message may quote


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """Text from a file as a message quotes it: ``repr`` (so control, format and surrogate characters
    are escaped: ``'\\x1b[2J'``), cut after ``limit`` characters: ``'root:x:0:0:…' (1,234 characters)``.
    Every message that quotes what a file holds goes through here, so none prints a whole file."""
    if isinstance(value, str) and len(value) > limit:
        cut = repr(value[:limit])
        return f"{cut[:-1]}…{cut[-1]} ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else f"{text[:limit]}…"


def os_reason(error: OSError) -> str:
    """An OS error as messages word it: ``no space left on device``."""
    text = error.strerror or str(error)
    return text[:1].lower() + text[1:]


class ExitCode(IntEnum):
    """Every exit status the ``backprop`` command can end with."""

    OK = 0
    CHECK_FAILED = 1  # a check (gradcheck, answers) found a wrong value
    BAD_INPUT = 2  # config, data, option or file problem (an OS error reading or writing one too)
    NUMERICAL_FAULT = 3  # overflow, NaN or infinity met while computing
    INTERRUPTED = 130  # Ctrl-C, the shell convention 128 + SIGINT


class BackpropError(Exception):
    """Base class: an error with a one-line message and an exit code."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def one_line(self) -> str:
        """The message as stderr shows it: one line (whitespace runs as one space), any other control
        or format character escaped (a file's ESC never reaches the terminal raw), at most MAX_LINE
        characters. Quoted file content is cut far shorter where it is quoted (yamlsafe.quoted)."""
        text = " ".join(str(self).split())
        if not text.isprintable():
            text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
        return text if len(text) <= MAX_LINE else f"{text[: MAX_LINE - 30]}… (message cut at {MAX_LINE} characters)"


class ConfigError(BackpropError):
    """Bad input, located as ``file:line:col: field.path: what is wrong; what was expected``."""

    exit_code = ExitCode.BAD_INPUT
    #: a required field is missing (reported after the file's other errors, whatever the language)
    missing_field: bool = False

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        self.path = path
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.col is not None:
                    where += f":{self.col}"
            where += ": "
        field = f"{self.path}: " if self.path else ""
        return f"{where}{field}{self.message}"


class NumericalFault(BackpropError):
    """A non-finite value met while computing, named by step, layer, neuron and quantity.

    ``message`` is the line in the reader's language (``nn.faults.fault`` words it); the fields stay in
    English, for code that inspects them."""

    exit_code = ExitCode.NUMERICAL_FAULT

    def __init__(
        self,
        message: str,
        *,
        step: int,
        quantity: str,
        layer: str | None = None,
        neuron: int | None = None,
        value: float | None = None,
        detail: str = "",
    ) -> None:
        self.step = step
        self.layer = layer
        self.neuron = neuron
        self.quantity = quantity
        self.value = value
        self.detail = detail
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable (the fields are keyword-only): a fault met in a worker process reaches its parent whole."""
        fields = {k: getattr(self, k) for k in ("step", "quantity", "layer", "neuron", "value", "detail")}
        return (_fault, (type(self), str(self), fields))


def _fault(kind: type[NumericalFault], message: str, fields: dict[str, Any]) -> NumericalFault:
    return kind(message, **fields)
