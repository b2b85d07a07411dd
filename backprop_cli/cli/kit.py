"""What every command shares: error handling that maps to exit codes, and config loading.

Commands live in ``cli.py`` or in ``backprop_cli/commands/<name>.py`` (registered at the bottom of
``cli.py``); both use these helpers, so every command reports bad input the same way.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import os
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from backprop_cli.cli.help import TranslatedHelp
from backprop_cli.errors import BackpropError, ConfigError, ExitCode
from backprop_cli.model.i18n import N_, _
from backprop_cli.render import PARAMETER_ROWS, printable

if TYPE_CHECKING:
    from backprop_cli.model.spec import NetworkSpec

F = TypeVar("F", bound=Callable[..., Any])
_WRITE_ERRORS = {errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EBADF}
MIN_WIDTH = 40  # the narrowest layout: --width's least value, and what COLUMNS=1 gets


def _fail(message: str, code: ExitCode) -> NoReturn:
    _flush_stdout()  # what was printed before the error goes out first (or is dropped, if it cannot)
    # not err=True: click would re-encode an ASCII stderr as UTF-8; printable: a file name in a message
    # cannot drive the terminal
    click.echo(printable(message), file=sys.stderr)
    sys.exit(int(code))


def _reader_gone() -> NoReturn:
    """The reader went away (`backprop trace | head`): stop quietly with status 0, as other tools do."""
    from backprop_cli.cli.output import discard_stdout

    discard_stdout()  # so that no flush at exit fails again, and prints
    sys.exit(int(ExitCode.OK))


def _raised_in(error: BaseException, function: str) -> bool:
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_name == function:
            return True
        frame = frame.tb_next
    return False


def _flush_stdout() -> str | None:
    """Flush stdout now, so that a write error (`backprop trace > /dev/full`) is reported here as one
    line rather than as a traceback at exit; returns that line, or None."""
    from backprop_cli.cli.output import discard_stdout
    from backprop_cli.errors import os_reason

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        discard_stdout()
    except OSError as error:
        discard_stdout()
        return f"standard output: cannot write: {os_reason(error)}"
    except ValueError:  # closed
        pass
    return None


def os_error_line(error: OSError) -> str:
    """Any OS error not met by a reader or the writer, as one line: ``NAME: what the system said``."""
    from backprop_cli.cli.output import discard_stdout
    from backprop_cli.errors import os_reason

    if error.filename is not None:
        return f"{os.fsdecode(error.filename)}: {os_reason(error)}"
    if error.errno in _WRITE_ERRORS:  # a write with no file named: click.echo or rich printing to stdout
        discard_stdout()
        return f"standard output: cannot write: {os_reason(error)}"
    return f"error: {os_reason(error)}"


def handle_errors(command: F) -> F:
    """Turn library errors, OS errors and signals into one line on stderr and the exit code from
    :class:`ExitCode`; each call is one run (:mod:`backprop_cli.loading.run`) with its own state."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from backprop_cli.cli.encoding import spell_streams_in_their_encoding
        from backprop_cli.cli.output import Signalled
        from backprop_cli.loading import run

        spell_streams_in_their_encoding()
        with run.scope():
            try:
                result = command(*args, **kwargs)
            except BackpropError as error:
                _fail(error.one_line(), error.exit_code)
            except BrokenPipeError:
                _reader_gone()
            except OSError as error:
                _fail(os_error_line(error), ExitCode.BAD_INPUT)
            except SystemExit as stop:
                if stop.code == 1 and _raised_in(stop, "on_broken_pipe"):  # rich's Console meets it with exit 1
                    _reader_gone()
                raise
            except KeyboardInterrupt:
                _fail("interrupted", ExitCode.INTERRUPTED)
            except Signalled as signalled:  # the output's temporary file is gone: end as the signal asks
                _flush_stdout()
                import signal

                signal.signal(signalled.signum, signal.SIG_DFL)
                os.kill(os.getpid(), signalled.signum)
                raise  # not reached, unless the signal is blocked
        if (problem := _flush_stdout()) is not None:
            _fail(problem, ExitCode.BAD_INPUT)
        return result

    return wrapper  # type: ignore[return-value]


def wait_for_enter(console: Any, prompt: str) -> bool:
    """Show ``prompt`` and wait for Enter on stdin (a terminal); False at end of input (Ctrl-D).

    Ctrl-C ends the wait whenever it comes. ``input()`` would miss a SIGINT that arrives after the
    prompt is printed but before its read starts, until Enter (the handler runs only between Python
    bytecodes). Here the signal also writes to a wake-up pipe (``signal.set_wakeup_fd``) that the
    wait selects on beside stdin, so even that SIGINT ends the wait and raises KeyboardInterrupt.
    """
    import select
    import signal

    console.print(prompt, end="")
    wake_read, wake_write = os.pipe()
    try:
        os.set_blocking(wake_write, False)
        os.set_blocking(wake_read, False)
        try:
            previous = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
        except ValueError:  # not the main thread: no signal reaches this wait anyway
            return bool(sys.stdin.readline())
        try:
            while True:
                ready, _, _ = select.select([sys.stdin, wake_read], [], [])
                if wake_read in ready:  # a signal came: its handler runs here (Ctrl-C raises), else wait on
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_read, 512)
                    continue
                return bool(sys.stdin.readline())
        finally:
            signal.set_wakeup_fd(previous)
    finally:
        os.close(wake_read)
        os.close(wake_write)


def load(config: str | None, data: str | None, steps: int | None = None) -> tuple[NetworkSpec, Path]:
    """A network config (a file or a built-in example's name), as every command loads one."""
    from backprop_cli.loading.config import load_network

    return load_network(config, data, steps)


def check_rows(spec: NetworkSpec, steps: Sequence[int], samples: Sequence[int]) -> None:
    """Refuse a ``--sample`` (a 1-based data row) that no chosen step's batch holds, saying which rows
    they hold: ``--step 2 --sample 2`` would otherwise show nothing, or step 2's other rows."""
    if not samples:
        return
    from backprop_cli.budget import check_schedule
    from backprop_cli.model.i18n import _, ngettext
    from backprop_cli.nn.engine import batches

    check_schedule(spec)  # the schedule is built whole: bounded first
    schedule = batches(spec.data.rows, spec.training)
    chosen = sorted(set(steps)) or range(1, len(schedule) + 1)
    held = {row for step in chosen if step <= len(schedule) for row in schedule[step - 1]}  # 0-based
    for sample in samples:
        if sample - 1 in held:
            continue
        if steps:
            where = "; ".join(
                _("step {step} holds {rows}").format(step=step, rows=_rows(schedule[step - 1])) for step in chosen[:4]
            )
            where += "; …" if len(chosen) > 4 else ""
            what = (
                _("the batch of step {step}").format(step=chosen[0])
                if len(chosen) == 1
                else _("the batches of the steps chosen")
            )
        else:
            n, rows = len(schedule), _rows(sorted(held))
            where = (
                _("the run's only step holds {rows}").format(rows=rows)
                if n == 1
                else ngettext("the run's {n} steps hold {rows}", "the run's {n} steps hold {rows}", n).format(
                    n=n, rows=rows
                )
            )
            what = _("any step's batch")
        raise ConfigError(
            _(
                "data row {sample} is not in {what} ({where}); expected one of those rows (--sample counts data "
                "rows from 1, not positions in the batch)"
            ).format(sample=sample, what=what, where=where),
            path="--sample",
        )


def _rows(rows: Sequence[int], most: int = 12) -> str:
    """0-based batch rows as 1-based data rows: ``rows 3, 4``, ``rows 1–30``, ``rows 5, 9, …, 150 (30 rows)``."""
    ones = sorted(row + 1 for row in rows)
    runs: list[str] = []
    start = previous = ones[0]
    for row in [*ones[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        runs.append(
            str(start)
            if start == previous
            else f"{start}–{previous}"
            if previous > start + 1
            else f"{start}, {previous}"
        )
        if row is not None:
            start = previous = row
    from backprop_cli.model.i18n import ngettext

    more = ngettext(", … ({n} row)", ", … ({n} rows)", len(ones)).format(n=len(ones))
    shown = ", ".join(runs[:most]) + (more if len(runs) > most else "")
    return ngettext("row {rows}", "rows {rows}", len(ones)).format(rows=shown)


# ---------------------------------------------------------------- options several commands share


def complete_config(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of a CONFIG argument: the built-in examples' names, then files (the shell's own)."""
    from click.shell_completion import CompletionItem

    from backprop_cli.loading.examples import example_names

    names = [CompletionItem(name) for name in example_names() if name.startswith(incomplete)]
    return [*names, CompletionItem(incomplete, type="file")]


def precision_option(help_text: str, default: int = 6) -> Callable[[F], F]:
    return click.option("--precision", type=click.IntRange(1, 17), default=default, show_default=True, help=help_text)


def data_option(help_text: str = N_("Data file replacing the config's data.")) -> Callable[[F], F]:
    return click.option("--data", "data", type=click.Path(dir_okay=False), help=help_text)


def steps_option() -> Callable[[F], F]:
    return click.option(
        "--steps", type=click.IntRange(min=1), help=N_("Number of steps, overriding the config's training.")
    )


MAX_WIDTH = 1_000  # columns: rich lays every rule and padded cell out at the width (10^8 ran away)


def width_option(help_text: str = N_("Terminal width to lay the table out for.")) -> Callable[[F], F]:
    return click.option("--width", type=click.IntRange(min=MIN_WIDTH, max=MAX_WIDTH), help=help_text)


def output_option(help_text: str = N_("Write to this file (atomically) instead of stdout.")) -> Callable[[F], F]:
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
        help=N_("Force colour on or off (default: on for a terminal; NO_COLOR is honoured)."),
    )


def max_rows_option(help_text: str, default: int = PARAMETER_ROWS) -> Callable[[F], F]:
    return click.option("--max-rows", type=click.IntRange(min=0), default=default, show_default=True, help=help_text)


def make_console(stream: Any, width: int | None, color: bool | None = None) -> Any:
    """The console every command prints through (:func:`backprop_cli.render.console.make_console`),
    imported when a command prints: rich's console is not loaded for a usage error."""
    from backprop_cli.render.console import make_console as console

    return console(stream, width, color, min_width=MIN_WIDTH)


# ---------------------------------------------------------------- --help in the reader's language


#: the help click itself gives its options, translated where the help is shown like ours
class OneLineUsageGroup(TranslatedHelp, click.Group):
    """A click group whose usage errors (unknown option, bad option value, missing argument) are one
    line on stderr, exit status 2, like every other bad input: ``backprop trace: No such option
    '--bogus'; see 'backprop trace --help'`` instead of click's three-line usage block, in the
    language of ``--lang`` or the environment (cli/usage.py).

    Commands in ``lazy`` (name → ``"module:attribute"``) are imported when first asked for, as in
    click's documentation on lazily loading subcommands, so one command does not pay for the others.
    Its commands' help is translated as :class:`TranslatedHelp` translates it.
    """

    command_class = TranslatedHelp

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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's list of commands, each short help in the current language."""
        commands = [(name, cmd) for name in self.list_commands(ctx) if (cmd := self.get_command(ctx, name))]
        commands = [(name, cmd) for name, cmd in commands if not cmd.hidden]
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _cmd in commands)
        rows = [
            (
                name,
                _(inspect.cleandoc(cmd.short_help)).strip()
                if cmd.short_help and not cmd.deprecated
                else cmd.get_short_help_str(limit),
            )
            for name, cmd in commands
        ]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)

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
        from backprop_cli.cli.encoding import spell_streams_in_their_encoding

        spell_streams_in_their_encoding()  # --help and usage errors too
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except BrokenPipeError:
            _reader_gone()
        except OSError as error:  # --help on a full disk: outside any command's handle_errors
            _fail(os_error_line(error), ExitCode.BAD_INPUT)
        except click.UsageError as error:
            if isinstance(error, getattr(click.exceptions, "NoArgsIsHelpError", ())):  # bare `backprop`: the help
                error.show()
                sys.exit(error.exit_code)
            from backprop_cli.cli.usage import usage_line

            click.echo(usage_line(error, sys.argv[1:] if args is None else args), file=sys.stderr)
            sys.exit(int(ExitCode.BAD_INPUT))
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)  # as click's standalone mode ends: always by exiting


def lang_option(data_formats: Collection[str] = ()) -> Callable[[F], F]:
    """``--lang``: the language of the headings, notes and verdicts the command prints (model/i18n.py),
    else the one ``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG`` name, else English; set for this one
    call only (the command runs inside it), so nothing carries over to the next call in the process.
    With ``--format`` one of ``data_formats`` (a report that is data, such as check's JSON) the whole
    command runs in English, so every sentence the report carries (hints, notes, misconceptions) is the
    same in every language."""
    from backprop_cli.model.i18n import LANGUAGES

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, lang: str | None = None, **kwargs: Any) -> Any:
            from backprop_cli.model.i18n import from_environment, using

            chosen = lang or from_environment()
            if kwargs.get("output_format") in data_formats:
                chosen = "en"
            with using(chosen):
                return command(*args, **kwargs)

        option = click.option(
            "--lang",
            type=click.Choice(LANGUAGES),
            default=None,
            help=N_(
                "Language of headings, notes and verdicts: en, ru, ja, ar "
                "[default: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG, else en]; names and formulas stay as they are."
            ),
        )
        return option(wrapper)  # type: ignore[return-value]

    return decorate
