"""``@record`` behaves as ``@dataclass(frozen=True)``: each class below is made both ways from the same
body, and equality, hashing, repr, frozenness, ``replace``, ``fields``, pickling and subclassing agree."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import operator
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any, ClassVar

import numpy as np
import pytest

from backprop_cli.model.record import record

NAN = float("nan")  # one object: a NaN hashes by identity (Python 3.10+), equal to itself in a tuple
STDLIB: Callable[[type], type] = dataclass(frozen=True)


def make(decorate: Callable[[type], type]) -> dict[str, type]:
    """The same class bodies, decorated with ``decorate`` (each call makes new classes)."""

    @decorate
    class Point:
        """A point."""

        x: float
        y: float = 0.0

    @decorate
    class Empty:
        """No fields at all."""

    @decorate
    class One:
        """One field."""

        name: str

    @decorate
    class Options:
        """compare=False, repr=False, hash=True, a factory, a field outside __init__, a ClassVar."""

        name: str
        note: str = field(default="", compare=False)
        secret: str = field(default="s", repr=False)
        tags: tuple[str, ...] = field(default_factory=tuple)
        weight: float = field(default=1.0, hash=False)
        forced: int = field(default=0, compare=False, hash=True)
        derived: int = field(init=False, default=7)
        KIND: ClassVar[str] = "options"

    @decorate
    class Post:
        """A field set after __init__."""

        total: int
        half: float = field(init=False)

        def __post_init__(self) -> None:
            object.__setattr__(self, "half", self.total / 2)

    @decorate
    class Own:
        """A repr and an eq written by the author are kept (and the hash is still made from the fields)."""

        a: int
        b: int = 2

        def __repr__(self) -> str:
            return f"<own {self.a}>"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, type(self)) and other.a == self.a

    @decorate
    class OwnHash:
        """A hash of its own."""

        a: int

        def __hash__(self) -> int:
            return 42

    @decorate
    class Unhashable:
        """Hashing refused."""

        a: int
        __hash__ = None  # type: ignore[assignment]

    @decorate
    class Holder:
        """Holds a list (a repr that meets itself)."""

        items: list[Any]

    @decorate
    class Base:
        """A base."""

        a: int

    @decorate
    class Child(Base):
        """A record extending a record."""

        b: int = 1

    @dataclass(frozen=True)  # a stdlib subclass of a record (or of a stdlib class) works as before
    class Grandchild(Child):
        c: int = 2

    class Loose(Base):  # not a dataclass: may set attributes of its own, not the fields
        pass

    @decorate
    class Bare:
        a: int
        b: str = "x"

    @decorate
    class Arrays:
        """numpy arrays compared as dataclasses compare them."""

        values: np.ndarray[Any, Any]
        label: str = "w"

    return {name: cls for name, cls in locals().items() if isinstance(cls, type)}


def args_for(name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Argument sets to make instances of each class with, some equal to each other, some not."""
    sets: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {
        "Point": [((1.0,), {}), ((1.0, 0.0), {}), ((1.0, 2.0), {}), ((NAN,), {}), ((-0.0,), {})],
        "Empty": [((), {})],
        "One": [(("a",), {}), (("b",), {})],
        "Options": [
            (("n",), {}),
            (("n",), {"note": "other"}),
            (("n",), {"secret": "t"}),
            (("n",), {"tags": ("x",)}),
            (("n",), {"weight": 2.0}),
            (("n",), {"forced": 3}),
            (("m",), {}),
        ],
        "Post": [((4,), {}), ((5,), {})],
        "Own": [((1,), {}), ((1, 3), {}), ((2,), {})],
        "OwnHash": [((1,), {}), ((2,), {})],
        "Unhashable": [((1,), {})],
        "Holder": [(([1, 2],), {}), (([],), {})],
        "Base": [((1,), {}), ((2,), {})],
        "Child": [((1,), {}), ((1, 2), {})],
        "Grandchild": [((1,), {}), ((1, 2, 3), {})],
        "Loose": [((1,), {})],
        "Arrays": [((np.array([1.0]),), {}), ((np.array([1.0]), "b"), {})],
        "Bare": [((1,), {}), ((1, "y"), {})],
    }
    return sets[name]


def outcome(action: Callable[..., Any], *args: Any) -> Any:
    """What ``action(*args)`` returns, or the type and message of what it raises."""
    try:
        return ("ok", action(*args))
    except Exception as error:
        return ("raised", type(error).__name__, str(error))


#: arguments that fit some classes and not others: too many, too few, unknown or repeated keywords
BAD_ARGUMENTS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}),
    ((1,), {}),
    ((1, 2), {}),
    ((1, 2, 3), {}),
    ((1, 2, 3, 4, 5, 6, 7, 8), {}),
    ((), {"x": 1}),
    ((1,), {"x": 2}),
    ((), {"nope": 1}),
    ((), {"a": 1, "b": 2}),
    ((1,), {"a": 1}),
    (("n",), {"derived": 1}),
    ((), {"name": "n", "tags": ("t",)}),
    ((), {"total": 4}),
    ((), {"items": []}),
    ((), {"values": np.zeros(2)}),
]


def made(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return repr(cls(*args, **kwargs))


def replaced_equal(obj: Any, changes: dict[str, Any]) -> bool:
    return bool(dataclasses.replace(obj, **changes) == obj)


def deepcopy_equal(obj: Any) -> bool:
    return bool(copy.deepcopy(obj) == obj)


OURS = make(record)
NAMES = sorted(OURS)


@pytest.mark.parametrize("name", NAMES)
def test_same_behaviour_as_a_frozen_dataclass(name: str) -> None:
    ours, theirs = OURS[name], make(STDLIB)[name]
    assert [f.name for f in dataclasses.fields(ours)] == [f.name for f in dataclasses.fields(theirs)]
    assert ours.__doc__ == theirs.__doc__  # a class without a docstring gets dataclasses' own (its signature)
    assert str(inspect.signature(ours)) == str(inspect.signature(theirs))
    for args, kwargs in BAD_ARGUMENTS:  # the same TypeError, word for word, or the same record
        assert outcome(made, ours, args, kwargs) == outcome(made, theirs, args, kwargs), (args, kwargs)
    assert getattr(ours, "__match_args__", None) == getattr(theirs, "__match_args__", None)
    mine = [ours(*a, **k) for a, k in args_for(name)]
    stdlib = [theirs(*a, **k) for a, k in args_for(name)]
    for i, (a, b) in enumerate(zip(mine, stdlib, strict=True)):
        assert outcome(repr, a) == outcome(repr, b)  # both classes are make.<locals>.NAME
        assert outcome(hash, a) == outcome(hash, b)
        for j, (c, d) in enumerate(zip(mine, stdlib, strict=True)):
            assert outcome(operator.eq, a, c) == outcome(operator.eq, b, d), (i, j)
            assert outcome(operator.ne, a, c) == outcome(operator.ne, b, d), (i, j)
        assert (a == object()) is (b == object()) is False
        for field_name in [f.name for f in dataclasses.fields(ours)] + ["extra"]:
            assert outcome(setattr, a, field_name, 1) == outcome(setattr, b, field_name, 1)
            assert outcome(delattr, a, field_name) == outcome(delattr, b, field_name)
        changes = {f.name: getattr(a, f.name) for f in dataclasses.fields(ours) if f.init}
        assert outcome(replaced_equal, a, changes) == outcome(replaced_equal, b, changes)
        assert outcome(deepcopy_equal, a) == outcome(deepcopy_equal, b)
        assert outcome(dataclasses.asdict, a) == outcome(dataclasses.asdict, b)


def test_hash_of_the_same_fields_as_the_dataclass() -> None:
    """Not only the same equalities: the very hash values, so sets and dicts order keys alike."""
    theirs = make(STDLIB)
    assert hash(OURS["Point"](1.0, 2.0)) == hash(theirs["Point"](1.0, 2.0)) == hash((1.0, 2.0))
    assert hash(OURS["Options"]("n", forced=3)) == hash(theirs["Options"]("n", forced=3))
    assert hash(OURS["One"]("a")) == hash(("a",))
    assert hash(OURS["Empty"]()) == hash(())


def test_a_class_without_a_docstring_is_made_by_dataclasses() -> None:
    """dataclasses writes such a class's signature in as its docstring: record leaves it to dataclasses."""
    assert OURS["Bare"].__doc__ == "Bare(a: 'int', b: 'str' = 'x')"
    assert vars(OURS["Bare"])["__init__"].__code__ is not vars(OURS["Point"])["__init__"].__code__


def test_recursive_repr_shows_dots() -> None:
    theirs = make(STDLIB)
    mine, stdlib = OURS["Holder"]([]), theirs["Holder"]([])
    mine.items.append(mine)
    stdlib.items.append(stdlib)
    assert repr(mine) == repr(stdlib)
    assert repr(mine).endswith("(items=[...])")


def test_frozen_messages() -> None:
    point = OURS["Point"](1.0)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'x'"):
        point.x = 2.0
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'y'"):
        del point.y
    loose = OURS["Loose"](1)
    loose.other = 3  # a plain subclass's own attribute, as with dataclasses
    with pytest.raises(FrozenInstanceError):
        loose.a = 2


def test_equality_needs_the_same_class() -> None:
    assert OURS["Base"](1) != OURS["Child"](1)
    assert OURS["Child"](1) == OURS["Child"](1, 1)
    assert OURS["Point"](1.0) != (1.0, 0.0)

    class Anything:
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    # another class: NotImplemented, so Python asks the other operand, as with a dataclass
    assert OURS["Point"](1.0) == Anything()
    assert make(STDLIB)["Point"](1.0) == Anything()


def test_the_package_records_are_dataclasses_with_these_methods() -> None:
    """Every record of the package: a frozen dataclass whose eq, hash and repr are the shared ones."""
    from backprop_cli.model.quantity import Block
    from backprop_cli.model.spec import NetworkSpec
    from backprop_cli.nn.records import StepRecord

    for cls in (Block, NetworkSpec, StepRecord):
        assert dataclasses.is_dataclass(cls)
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        assert params.frozen and params.eq and params.repr
        assert cls.__eq__.__code__ is OURS["Point"].__eq__.__code__  # shared, not compiled for the class
        assert vars(cls)["__init__"].__code__ is vars(OURS["Point"])["__init__"].__code__
        assert cls.__repr__.__qualname__ == f"{cls.__qualname__}.__repr__"
