"""click's usage errors as one line in the reader's language: ``backprop trace: нет такого параметра
'--nope'; …; см. 'backprop trace --help'``.

The language is the one ``--help`` is shown in (:func:`backprop_cli.cli.help.help_language`): ``--lang``
among the arguments, found even when parsing failed before ``--lang`` was read, else the environment's.
Each kind of error is worded from what the exception holds (the option's name, the suggestions, the
parameter and its type's choices or bounds), never read back from click's English; the value a type
refused is the one its ``convert`` was given, and the extra arguments those ``parse_args`` had left, as
the traceback holds them. In English, and for any error not worded here, the line is click's own message.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import Any

import click

from backprop_cli.cli.help import help_language
from backprop_cli.model.i18n import _, ngettext, using

_UNSET = object()


def usage_line(error: click.UsageError, args: Sequence[str]) -> str:
    """The one line a usage error is: ``WHERE: MESSAGE; see 'WHERE --help'``, in the language of ``args``."""
    where = error.ctx.command_path if error.ctx is not None else "backprop"
    with using(help_language(args)) as lang:
        message = (_worded(error) if lang != "en" else None) or _click_message(error)
        see = _("; see {help}").format(help=f"'{where} --help'")
    return f"{where}: {message}{see}"


def _click_message(error: click.UsageError) -> str:
    """click's own message on one line: "No such option '--colour'. (Did you mean one of: …?)" →
    "No such option '--colour'; did you mean one of: …?"."""
    message = " ".join(error.format_message().split())
    message, _sep, suggestion = message.partition(". Did you mean")
    if not suggestion:
        message, _sep, suggestion = message.partition(". (Did you mean")
        suggestion = suggestion.removesuffix(")")
    return message.rstrip(".") + (f"; did you mean{suggestion}" if suggestion else "")


def _worded(error: click.UsageError) -> str | None:
    """The message in the current language, or None for a kind of error not worded here."""
    if isinstance(error, click.NoSuchOption):
        return _("No such option {name}").format(name=repr(error.option_name)) + _suggestion(error.possibilities)
    if isinstance(error, click.exceptions.NoSuchCommand):
        return _("No such command {name}").format(name=repr(error.command_name)) + _suggestion(error.possibilities)
    if isinstance(error, click.MissingParameter):
        return _missing(error)
    if isinstance(error, click.BadParameter):
        hint, reason = _hint(error), _refused(error)
        if hint is None or reason is None:
            return None
        return _("Invalid value for {param}: {reason}").format(param=hint, reason=reason)
    if isinstance(error, click.BadOptionUsage):
        return _option_usage(error)
    if type(error) is click.UsageError:
        return _extra_arguments(error)
    return None


def _suggestion(possibilities: Sequence[str] | None) -> str:
    if not possibilities:
        return ""
    names = ", ".join(repr(name) for name in sorted(possibilities))
    return ngettext(
        "; did you mean {possibilities}?", "; did you mean one of: {possibilities}?", len(possibilities)
    ).format(possibilities=names)


def _hint(error: click.BadParameter) -> str | None:
    """How click names the parameter: ``'--precision'``, ``'NAME'``."""
    if error.param_hint is not None:
        hint = error.param_hint
        return hint if isinstance(hint, str) else " / ".join(repr(item) for item in hint)
    return error.param.get_error_hint(error.ctx) if error.param is not None else None


def _missing(error: click.MissingParameter) -> str | None:
    if error.message:  # a message of its own, in English
        return None
    kind = error.param_type or (error.param.param_type_name if error.param is not None else None)
    templates = {
        "argument": _("Missing argument {name}"),
        "option": _("Missing option {name}"),
        "parameter": _("Missing parameter {name}"),
    }
    hint = _hint(error)
    if kind not in templates or hint is None:
        return None
    message = templates[kind].format(name=hint)
    if error.param is not None and isinstance(error.param.type, click.Choice):
        choices = ", ".join(repr(choice) for choice in error.param.type.choices)
        message += _("; choose from {choices}").format(choices=choices)
    return message


def _refused(error: click.BadParameter) -> str | None:
    """Why the parameter's type refused the value, from the type (choices, bounds) and the value."""
    kind = error.param.type if error.param is not None else None
    if kind is None:
        return None
    value = _local(error, "convert", kind, "value")
    if value is _UNSET:  # refused elsewhere than in the type's conversion (a callback, a count of values)
        return None
    if isinstance(kind, click.Choice):
        choices = ", ".join(repr(choice) for choice in kind.choices)
        return ngettext("{value} is not {choices}", "{value} is not one of {choices}", len(kind.choices)).format(
            value=repr(value), choices=choices
        )
    if isinstance(kind, click.FloatRange | click.IntRange):
        number: Any = float if isinstance(kind, click.FloatRange) else int
        try:
            converted = number(value)
        except ValueError:
            return _not_a_number(kind, value)
        return _("{value} is not in the range {range}").format(value=converted, range=_range(kind))
    if isinstance(kind, click.types.FloatParamType | click.types.IntParamType):
        return _not_a_number(kind, value)
    if isinstance(kind, click.Path):
        return _path_refused(kind, value)
    return None


def _not_a_number(kind: click.ParamType[Any], value: Any) -> str:
    if isinstance(kind, click.types.FloatParamType):
        return _("{value} is not a valid number").format(value=repr(value))
    return _("{value} is not a valid integer").format(value=repr(value))


def _range(kind: click.FloatRange | click.IntRange) -> str:
    """The bounds as click writes them in its help and errors: ``1<=x<=17``, ``x>=1``, ``x>0``."""
    if kind.min is None:
        return f"x{'<' if kind.max_open else '<='}{kind.max}"
    if kind.max is None:
        return f"x{'>' if kind.min_open else '>='}{kind.min}"
    return f"{kind.min}{'<' if kind.min_open else '<='}x{'<' if kind.max_open else '<='}{kind.max}"


def _path_refused(kind: click.Path, value: Any) -> str | None:
    """A path the type refused: the test click made, made again (the reasons the type can have)."""
    filename = f"'{click.format_filename(value)}'"
    try:
        found = os.stat(value)
    except OSError:
        return _("{filename} does not exist").format(filename=filename) if kind.exists else None
    if not kind.file_okay and stat.S_ISREG(found.st_mode):
        return _("{filename} is a file").format(filename=filename)
    if not kind.dir_okay and stat.S_ISDIR(found.st_mode):
        return _("{filename} is a directory").format(filename=filename)
    return None  # not readable, writable or executable: click's words


def _option_usage(error: click.BadOptionUsage) -> str | None:
    """An option given without its value, or a flag given one (``--color=yes``)."""
    command = error.ctx.command if error.ctx is not None else _local(error, "parse_args", click.Command, "self")
    if not isinstance(command, click.Command):
        return None
    name = error.option_name
    options = [p for p in command.params if isinstance(p, click.Option) and name in (*p.opts, *p.secondary_opts)]
    if len(options) != 1:
        return None
    option = options[0]
    if option.is_flag or option.count:
        return _("Option {name} does not take a value").format(name=repr(name))
    return ngettext("Option {name} requires an argument", "Option {name} requires {n} arguments", option.nargs).format(
        name=repr(name), n=option.nargs
    )


def _extra_arguments(error: click.UsageError) -> str | None:
    """``Got unexpected extra arguments (a b)``: the arguments left over where the command's
    ``parse_args`` failed (``ctx.fail``, the only plain usage error it raises)."""
    frames = _frames(error)
    if len(frames) < 2 or frames[-1].f_code.co_name != "fail" or frames[-2].f_code.co_name != "parse_args":
        return None
    left = frames[-2].f_locals.get("args")
    if not isinstance(left, list) or not left:
        return None
    return ngettext(
        "Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", len(left)
    ).format(args=" ".join(map(str, left)))


def _frames(error: BaseException) -> list[Any]:
    """The frames the error was raised through, outermost first."""
    frames = []
    trace = error.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame)
        trace = trace.tb_next
    return frames


def _local(error: BaseException, function: str, owner: object, name: str) -> Any:
    """The variable ``name`` of the innermost call of ``function`` the error was raised through whose
    ``self`` is ``owner`` (an instance, or a class it is an instance of); ``_UNSET`` if there is none."""
    for frame in reversed(_frames(error)):
        if frame.f_code.co_name != function or name not in frame.f_locals:
            continue
        this = frame.f_locals.get("self")
        if this is owner or (isinstance(owner, type) and isinstance(this, owner)):
            return frame.f_locals[name]
    return _UNSET
