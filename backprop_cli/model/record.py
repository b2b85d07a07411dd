"""``@record``: ``@dataclass(frozen=True)`` whose six methods are shared functions, not compiled ones.

A dataclass writes each method it adds (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, the frozen
``__setattr__`` and ``__delattr__``) as source text and compiles it with ``exec`` when its module is
imported: about 1 ms a class on the machines we measure, most of it parsing ``__init__``, some 40 ms of
every ``backprop trace`` for the records on its path. ``record`` lets ``dataclass`` make the fields
(and ``__match_args__``) and gives the six methods as closures over the field names that do what
Python 3.11's dataclasses compile:

- ``__init__``: the fields' arguments in field order, positional or keyword, defaults and factories,
  fields outside ``__init__`` from their default, ``__post_init__``; Python's TypeErrors, word for
  word, for arguments that do not fit; a signature for :mod:`inspect`;
- ``__eq__``: for an operand of exactly the same class, the tuples of the compared fields
  (``compare=True``) are equal; otherwise ``NotImplemented``;
- ``__hash__``: the hash of the tuple of the fields with ``hash=True``, or ``hash=None`` and
  ``compare=True``; a ``__hash__`` written in the class body is kept, as dataclasses keeps it;
- ``__repr__``: ``QualName(field=repr, …)`` over the ``repr=True`` fields, ``...`` for a record met
  again inside its own repr;
- ``__setattr__``/``__delattr__``: FrozenInstanceError for any attribute of the record itself and for
  its fields on a plain subclass.

A method written in the class body is kept, as dataclasses keeps it. A class without a docstring is
left to ``dataclass(frozen=True)``, which writes the signature in as its docstring; InitVar and
kw_only fields are refused. The per-record cost moves to making one: ``__init__`` binds its arguments
in Python, a few microseconds, so records made by the thousand in a loop (the trace's quantities)
stay plain dataclasses. ``tests/model/test_record.py`` holds each method against
``dataclass(frozen=True)`` on the same classes.
"""

from __future__ import annotations

import dataclasses
import inspect
import reprlib
from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of these attributes of an object (attrgetter gives a bare value for one name)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        name = names[0]
        return lambda obj: (getattr(obj, name),)
    return lambda obj: ()


class _Factory:
    """Where a field's default comes from its factory, as dataclasses shows it in a signature."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _names(names: list[str]) -> str:
    """Python's own wording for missing arguments: 'a', 'a' and 'b', 'a', 'b', and 'c'."""
    quoted = [repr(name) for name in names]
    if len(quoted) < 3:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _init(made: type, fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    """dataclasses' ``__init__`` for these fields: positional or keyword arguments in field order,
    defaults and factories, fields outside ``__init__`` from their default, ``__post_init__``, and
    Python's TypeErrors for arguments that do not fit."""
    qualname = f"{made.__qualname__}.__init__"
    names = tuple(f.name for f in fields if f.init)
    accepted = frozenset(names)
    least = sum(1 for f in fields if f.init and f.default is MISSING and f.default_factory is MISSING)
    # (name, taken from the arguments, default, factory) for every field, in the order dataclasses sets them
    plan = tuple((f.name, f.init, f.default, f.default_factory) for f in fields)
    post_init = hasattr(made, "__post_init__")
    setter = object.__setattr__
    every_by_position = len(names) == len(fields)  # no field outside __init__ to fill in

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if every_by_position and not kwargs and len(args) == len(names):  # the common call, made fast
            for name, value in zip(names, args, strict=True):
                setter(self, name, value)
            if post_init:
                self.__post_init__()
            return
        # Python's order: the keywords, then too many positional arguments, then missing ones
        given_values = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in accepted:
                raise TypeError(f"{qualname}() got an unexpected keyword argument {key!r}")
            if key in given_values:
                raise TypeError(f"{qualname}() got multiple values for argument {key!r}")
            given_values[key] = value
        if len(args) > len(names):
            most = len(names) + 1
            takes = f"{most}" if least == len(names) else f"from {least + 1} to {most}"
            given = len(args) + 1
            plural = "" if takes == "1" else "s"
            raise TypeError(f"{qualname}() takes {takes} positional argument{plural} but {given} were given")
        if len(args) < least:  # the fields without defaults come first (checked below)
            missing = [name for name in names[len(args) : least] if name not in kwargs]
            if missing:
                what = "argument" if len(missing) == 1 else "arguments"
                raise TypeError(f"{qualname}() missing {len(missing)} required positional {what}: {_names(missing)}")
        for name, init, default, factory in plan:
            if init and name in given_values:
                setter(self, name, given_values[name])
            elif factory is not MISSING:
                setter(self, name, factory())
            elif default is not MISSING:
                setter(self, name, default)
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = qualname
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    arguments = [inspect.Parameter("self", kind)] + [
        inspect.Parameter(
            f.name,
            kind,
            default=_FACTORY if f.default_factory is not MISSING else f.default,
            annotation=f.type,
        )
        if f.default is not MISSING or f.default_factory is not MISSING
        else inspect.Parameter(f.name, kind, annotation=f.type)
        for f in fields
        if f.init
    ]
    __init__.__signature__ = inspect.Signature(arguments, return_annotation=None)  # type: ignore[attr-defined]
    return __init__


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[T]) -> type[T]:
    """``@dataclass(frozen=True)`` for ``cls``, its methods shared functions rather than compiled ones."""
    if not cls.__doc__:  # dataclasses writes the signature in as its docstring: leave that to it
        return dataclasses.dataclass(frozen=True)(cls)
    own = set(cls.__dict__)  # what the author wrote, before dataclasses adds to it
    class_hash = cls.__dict__.get("__hash__", MISSING)
    # dataclasses' own rule: a __hash__ of None beside an __eq__ in the body is Python's doing, not the author's
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in own))
    bases = [getattr(base, "__dataclass_params__", None) for base in cls.__mro__[1:]]
    frozen_base = any(p is not None and p.frozen for p in bases)
    if any(p is not None and not p.frozen for p in bases):
        raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    if "__setattr__" in own or "__delattr__" in own:
        raise TypeError(f"Cannot overwrite attribute __setattr__ or __delattr__ in class {cls.__name__}")
    # dataclasses makes the fields (and, under a frozen base, which it insists on, the frozen setattr and delattr)
    made = dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=frozen_base)
    fields = dataclasses.fields(made)  # type: ignore[arg-type]
    every = made.__dataclass_fields__.values()  # type: ignore[attr-defined]
    if any("InitVar" in str(f.type) or f.kw_only is True or f.name == "self" for f in every):
        raise TypeError(f"{cls.__name__}: InitVar, kw_only and a field named self need dataclass(frozen=True)")
    seen_default = None
    for f in fields:
        if f.init and (f.default is not MISSING or f.default_factory is not MISSING):
            seen_default = f.name
        elif f.init and seen_default is not None:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    compared = _getter(tuple(f.name for f in fields if f.compare))
    hashed = _getter(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)))
    shown = tuple(f.name for f in fields if f.repr)
    frozen_names = frozenset(f.name for f in fields)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        name: str = self.__class__.__qualname__
        return name + "(" + ", ".join([f"{n}={getattr(self, n)!r}" for n in shown]) + ")"

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is made or name in frozen_names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(made, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is made or name in frozen_names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(made, self).__delattr__(name)

    methods: list[Callable[..., Any]] = [__eq__, __repr__, _init(made, fields)]
    if not frozen_base:
        methods += [__setattr__, __delattr__]
    for method in methods:
        if method.__name__ not in own:
            method.__qualname__ = f"{made.__qualname__}.{method.__name__}"
            setattr(made, method.__name__, method)
    if not explicit_hash:
        __hash__.__qualname__ = f"{made.__qualname__}.__hash__"
        made.__hash__ = __hash__  # type: ignore[method-assign]
    params = made.__dataclass_params__  # type: ignore[attr-defined]
    params.init = params.eq = params.repr = params.frozen = True  # what the class now has
    return made
