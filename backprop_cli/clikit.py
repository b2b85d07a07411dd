"""What every command shares: error handling that maps to exit codes, and config loading.

Commands live in ``cli.py`` or in ``backprop_cli/commands/<name>.py`` (registered at the bottom of
``cli.py``); both use these helpers, so every command reports bad input the same way.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from backprop_cli.errors import BackpropError, ExitCode
from backprop_cli.render import PARAMETER_ROWS

if TYPE_CHECKING:
    from backprop_cli.spec import NetworkSpec

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: ExitCode) -> None:
    click.echo(message, err=True)
    sys.exit(int(code))


def _reader_gone() -> NoReturn:
    """The reader went away (`backprop trace | head`): stop quietly with status 0, as other tools do."""
    with contextlib.suppress(OSError, ValueError):  # no flush at exit may fail again, and print
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(int(ExitCode.OK))


def _raised_in(error: BaseException, function: str) -> bool:
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_name == function:
            return True
        frame = frame.tb_next
    return False


def handle_errors(command: F) -> F:
    """Turn library errors into one line on stderr and the exit code from :class:`ExitCode`."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from backprop_cli.output import forget_inputs

        forget_inputs()
        try:
            return command(*args, **kwargs)
        except BackpropError as error:
            _fail(error.one_line(), error.exit_code)
        except BrokenPipeError:
            _reader_gone()
        except SystemExit as stop:
            if stop.code == 1 and _raised_in(stop, "on_broken_pipe"):  # rich's Console meets it with exit 1
                _reader_gone()
            raise
        except KeyboardInterrupt:
            _fail("interrupted", ExitCode.INTERRUPTED)
        return None

    return wrapper  # type: ignore[return-value]


def load(config: str | None, data: str | None, steps: int | None = None) -> tuple[NetworkSpec, Path]:
    from backprop_cli.config import load_config
    from backprop_cli.examples import EXAMPLES_DIR, label, resolve

    path = resolve(config)
    spec = replace(load_config(path, data_override=data), source=label(path))
    if spec.data.source != "inline" and Path(spec.data.source).parent.resolve() == EXAMPLES_DIR.resolve():
        # a built-in example's data file by name, so output does not depend on where the package is installed
        spec = replace(spec, data=replace(spec.data, source=Path(spec.data.source).name))
    if steps is not None:
        spec = replace(spec, training=replace(spec.training, steps=steps, epochs=None, option="--steps"))
    return spec, path


# ---------------------------------------------------------------- options several commands share


def precision_option(help_text: str, default: int = 6) -> Callable[[F], F]:
    return click.option("--precision", type=click.IntRange(1, 17), default=default, show_default=True, help=help_text)


def data_option(help_text: str = "Data file replacing the config's data.") -> Callable[[F], F]:
    return click.option("--data", "data", type=click.Path(dir_okay=False), help=help_text)


def steps_option() -> Callable[[F], F]:
    return click.option(
        "--steps", type=click.IntRange(min=1), help="Number of steps, overriding the config's training."
    )


MAX_WIDTH = 1_000  # columns: rich lays every rule and padded cell out at the width (10^8 ran away)


def width_option(help_text: str = "Terminal width to lay the table out for.") -> Callable[[F], F]:
    return click.option("--width", type=click.IntRange(min=40, max=MAX_WIDTH), help=help_text)


def output_option(help_text: str = "Write to this file (atomically) instead of stdout.") -> Callable[[F], F]:
    return click.option("-o", "--output", help=help_text)


def text_or_json_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help_text,
    )


def color_option() -> Callable[[F], F]:
    return click.option(
        "--color/--no-color",
        default=None,
        help="Force colour on or off (default: on for a terminal; NO_COLOR is honoured).",
    )


def max_rows_option(help_text: str, default: int = PARAMETER_ROWS) -> Callable[[F], F]:
    return click.option("--max-rows", type=click.IntRange(min=0), default=default, show_default=True, help=help_text)


def make_console(stream: Any, width: int | None, color: bool | None = None) -> Any:
    """A rich console for ``stream``: stdout gets colour on a terminal (unless piped, NO_COLOR is
    set, or ``--no-color``); a file gets plain text laid out at ``width`` or 120 columns."""
    from rich.console import Console

    if stream is sys.stdout:
        return Console(
            file=stream,
            width=width,
            force_terminal=True if color else None,
            color_system=None if color is False else "auto",
            highlight=False,
            emoji=False,  # a name like x:y: stays as written (and rich's emoji table is not loaded)
        )
    return Console(file=stream, width=width or 120, color_system=None, highlight=False, emoji=False)


class OneLineUsageGroup(click.Group):
    """A click group whose usage errors (unknown option, bad option value, missing argument) are one
    line on stderr, exit status 2, like every other bad input: ``backprop trace: No such option:
    --bogus; see 'backprop trace --help'`` instead of click's three-line usage block.

    Commands in ``lazy`` (name → ``"module:attribute"``) are imported when first asked for, as in
    click's documentation on lazily loading subcommands, so one command does not pay for the others.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            import importlib

            module, _, attribute = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as error:  # click suggests from the loaded commands only
            suggest = self.list_commands(ctx)
            raise click.exceptions.NoSuchCommand(error.command_name, possibilities=suggest, ctx=ctx) from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            if isinstance(error, getattr(click.exceptions, "NoArgsIsHelpError", ())):  # bare `backprop`: the help
                error.show()
                sys.exit(error.exit_code)
            where = error.ctx.command_path if error.ctx is not None else "backprop"
            message = " ".join(error.format_message().split())
            # "No such option '--colour'. (Did you mean one of: …?)" → "…; did you mean one of: …?"
            message, _, suggestion = message.partition(". Did you mean")
            if not suggestion:
                message, _, suggestion = message.partition(". (Did you mean")
                suggestion = suggestion.removesuffix(")")
            message = message.rstrip(".") + (f"; did you mean{suggestion}" if suggestion else "")
            click.echo(f"{where}: {message}; see '{where} --help'", err=True)
            sys.exit(int(ExitCode.BAD_INPUT))
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)  # as click's standalone mode ends: always by exiting
