"""``@record``: ``@dataclass(frozen=True)`` with three of its six methods shared instead of compiled.

A dataclass writes each method it adds as source text and compiles it with ``exec`` when its module
is imported, about 0.1 to 0.2 ms a method here; the forty-odd frozen records on the path of
``backprop trace`` spend some 40 ms of every start on it. ``record`` lets ``dataclass`` make the
fields, ``__init__`` (which is called for every record made, so it stays compiled for its fields)
and the frozen ``__setattr__``/``__delattr__``, and gives ``__eq__``, ``__hash__`` and ``__repr__``
as closures over the field names that do what the compiled ones do (Python 3.11's dataclasses):

- ``__eq__``: for an operand of exactly the same class, the tuples of the compared fields
  (``compare=True``) are equal; otherwise ``NotImplemented``;
- ``__hash__``: the hash of the tuple of the fields with ``hash=True``, or ``hash=None`` and
  ``compare=True``; a ``__hash__`` written in the class body is kept, as dataclasses keeps it;
- ``__repr__``: ``QualName(field=repr, …)`` over the ``repr=True`` fields, ``...`` for a record met
  again inside its own repr.

A method written in the class body is kept, as dataclasses keeps it. ``tests/model/test_record.py``
holds each against ``dataclass(frozen=True)`` on the same classes.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
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


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[T]) -> type[T]:
    """``@dataclass(frozen=True)`` for ``cls``, with the shared ``__eq__``, ``__hash__`` and ``__repr__``."""
    body = set(cls.__dict__)  # what the author wrote, before dataclasses adds to it
    class_hash = cls.__dict__.get("__hash__", dataclasses.MISSING)
    # dataclasses' own rule: a __hash__ of None beside an __eq__ in the body is Python's doing, not the author's
    explicit_hash = not (class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in body))
    made = dataclasses.dataclass(cls, frozen=True, eq=False, repr=False)
    fields = dataclasses.fields(made)  # type: ignore[arg-type]
    compared = _getter(tuple(f.name for f in fields if f.compare))
    hashed = _getter(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)))
    shown = tuple(f.name for f in fields if f.repr)

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

    for method in (__eq__, __repr__):
        if method.__name__ not in body:
            method.__qualname__ = f"{made.__qualname__}.{method.__name__}"
            setattr(made, method.__name__, method)
    if not explicit_hash:
        __hash__.__qualname__ = f"{made.__qualname__}.__hash__"
        made.__hash__ = __hash__  # type: ignore[method-assign]
    params = made.__dataclass_params__  # type: ignore[attr-defined]
    params.eq = params.repr = True  # what the class has, for readers of the parameters
    return made
