"""Quantities: every number of a trace as data, with the factors it is computed from.

A :class:`Quantity` is one named number: its stable name, its value (a float, or an exact
Fraction), where it sits (step, phase, layer, sample) and its :class:`Form`: a formula template
over *slots*, each slot a factor (the qualified name of another quantity) or a constant (a
hyper-parameter, a count), and the rule that computes the value from the slots' values. The same
form gives the formula in names (``out.delta1 × hidden.a1``), the formula with the numbers put in
(``(-0.65) × 0.475``), and the value again from any values of the factors (:meth:`Quantity.recompute`:
a student's own numbers, a mutated rule's, rounded ones). A quantity without a rule is *given*: an
input, a target, a parameter before its step.

Templates are plain text with ``{0}``, ``{1}`` … for the slots; ``{0:v}`` writes the slot's number
as a value (``-0.65``) rather than as an operand (``(-0.65)``). Names in formulas are written
relative to the quantity's own place: a factor of the same step and sample drops its ``stepN/`` and
``sampleN/`` qualifiers, so formulas read as the textbook writes them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from backprop_cli.model.record import record

Scalar = float | Fraction
Rule = Callable[[Sequence[Scalar]], Scalar]

#: The one bound on exact values (``--exact``), checked wherever one is made: Python will not write an
#: int of more than 4,300 digits, and the fractions of a long exact run grow with every step.
MAX_EXACT_DIGITS = 4_000
MAX_EXACT_BITS = int(MAX_EXACT_DIGITS / math.log10(2))

#: The phases of a network step, in reading order (expressions use forward, backward and summary).
PHASES = ("parameters", "forward", "loss", "backward", "reduction", "update", "summary")

_SLOT = re.compile(r"\{(\d+)(:v)?\}")
_STEP = re.compile(r"step(\d+)/")
_SAMPLE = re.compile(r"sample(\d+)/")


class Placed(Protocol):
    """Anything that sits at one place of a trace (a quantity, a block of them, a section of rows)."""

    @property
    def step(self) -> int: ...

    @property
    def phase(self) -> str: ...

    @property
    def layer(self) -> str | None: ...

    @property
    def sample(self) -> int | None: ...


class Numbers(Protocol):
    """How numbers are written (``render.numbers.NumberFormat``): as a value, and as an operand."""

    def __call__(self, value: Scalar) -> str: ...

    def operand(self, value: Scalar) -> str: ...


@dataclass(frozen=True, slots=True)
class Const:
    """A constant slot: a hyper-parameter or a count. ``symbol`` is how formulas write it (η, Σy);
    without one, formulas write the number itself."""

    value: Scalar
    symbol: str | None = None


Slot = str | Const


@dataclass(frozen=True, slots=True)
class Form:
    """A formula: ``template`` over ``slots``, and the ``rule`` computing the value from them."""

    template: str | Callable[[Sequence[str]], str]  # a slot template, or a function of the slots' texts
    slots: tuple[Slot, ...] = ()
    rule: Rule | None = None
    numbers: str | None = None  # where the numbers are written otherwise than the names (``{0:v}``)

    def evaluate(self, values: Sequence[Scalar]) -> Scalar:
        assert self.rule is not None, "a given quantity has no rule"
        return self.rule(values)

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable without its rule (most rules are closures over a layer's fields): a form sent from
        a grading worker to its parent is written out there (formula, numbers), never evaluated again."""
        return (Form, (self.template, self.slots, None if self.rule is None else _left_behind, self.numbers))


def _left_behind(values: Sequence[Scalar]) -> Scalar:
    """The rule of a form unpickled: it stayed in the process that computed the value."""
    raise RuntimeError("this formula's rule stayed in the process that computed it")


@dataclass(frozen=True, slots=True)
class Quantity:
    """One number of a trace; see the module docstring."""

    name: str  # fully qualified: ``step2/sample3/h.delta1``
    value: Scalar
    phase: str  # one of PHASES
    step: int  # 1-based
    layer: str | None
    sample: int | None  # 0-based data row, for per-sample quantities of a multi-sample batch
    form: Form
    args: tuple[Scalar, ...] = ()  # the value of every slot, as computed (constants included)
    multi_step: bool = False  # the run has several steps, so names carry ``stepN/``
    # a parameter of step n > 1 is the value step n − 1 updated it to: that quantity's name
    origin: str | None = None
    # "given" (an input, a target, a parameter before its step: no arithmetic leads to it),
    # "computed", or "again" (a number shown a second time: the summary's loss)
    kind: str = "computed"

    @property
    def factors(self) -> tuple[str, ...]:
        """The qualified names of the quantities the formula is written with, in the order it writes them."""
        slots, template = self.form.slots, self.form.template
        if callable(template):
            marks = [f"\x00{i}\x00" if isinstance(s, str) else (s.symbol or str(s.value)) for i, s in enumerate(slots)]
            text = template(marks)
            used = sorted((text.find(m), i) for i, m in enumerate(marks) if isinstance(slots[i], str) and m in text)
            order = [i for _, i in used]
        else:
            order = [int(m.group(1)) for m in _SLOT.finditer(template)]
        if not order and self.form.rule is not None:  # a rule the formula does not write out (loss.after)
            order = list(range(len(slots)))
        return tuple(dict.fromkeys(s for s in (slots[i] for i in order) if isinstance(s, str)))

    @property
    def is_given(self) -> bool:
        """A number the exercise hands out rather than asks for: no arithmetic leads to it."""
        return self.kind == "given"

    def recompute(self, values: Mapping[str, Scalar] | None = None) -> Scalar:
        """The value computed again by the rule: from ``values`` where they name a factor, from the
        factor's own value in this trace where they do not (so ``recompute()`` is the trace's value)."""
        if values is None:
            return self.form.evaluate(self.args)
        return self.form.evaluate(
            [values.get(s, a) if isinstance(s, str) else a for s, a in zip(self.form.slots, self.args, strict=True)]
        )

    def short(self, name: str) -> str:
        """``name`` as this quantity's formula writes it: the qualifiers of its own place dropped."""
        rest = name
        match = _STEP.match(rest)
        if match is not None and int(match.group(1)) == self.step:
            rest = rest[match.end() :]
        match = _SAMPLE.match(rest)
        if match is not None and self.sample is not None and int(match.group(1)) == self.sample + 1:
            rest = rest[match.end() :]
        return rest

    def formula(self, numbers: Numbers) -> str:
        """The formula in names (constants by symbol, or as numbers where they have none)."""
        slots = self.form.slots
        if callable(self.form.template):
            return self.form.template([self._slot_text(s, numbers) for s in slots])

        def name(match: re.Match[str]) -> str:
            slot = slots[int(match.group(1))]
            if isinstance(slot, str):
                return self.short(slot)
            if slot.symbol is not None:
                return slot.symbol
            return numbers(slot.value) if match.group(2) else numbers.operand(slot.value)

        assert isinstance(self.form.template, str)
        return _SLOT.sub(name, self.form.template)

    def _slot_text(self, slot: Slot, numbers: Numbers) -> str:
        if isinstance(slot, str):
            return self.short(slot)
        return slot.symbol if slot.symbol is not None else numbers.operand(slot.value)

    def written(self, numbers: Numbers) -> str:
        """The formula with every slot's number put in (empty for a given quantity)."""
        if self.form.rule is None:
            return ""
        args = self.args
        if callable(self.form.template):
            return self.form.template([numbers.operand(a) for a in args])

        def number(match: re.Match[str]) -> str:
            value = args[int(match.group(1))]
            return numbers(value) if match.group(2) else numbers.operand(value)

        template = self.form.numbers if self.form.numbers is not None else self.form.template
        assert isinstance(template, str)
        return _SLOT.sub(number, template)


@record
class Built:
    """A block laid out: its title, its quantities in reading order, and its note."""

    title: str
    quantities: tuple[Quantity, ...]
    note: str = ""


@record
class Block:
    """A group of quantities a trace shows together (one table): one phase, of one layer and sample.

    Planned before it is made: where it sits and ``count``, its number of quantities, are known at once;
    ``build`` makes the quantities (and the title and note) only when asked, so that a filter or a row
    cap passes a block by without making any of it."""

    step: int
    phase: str
    layer: str | None
    sample: int | None  # 0-based data row, for per-sample blocks of a multi-sample batch
    count: int
    make: Callable[[], Built] = field(repr=False, compare=False)

    def build(self, limit: int | None = None) -> Built:
        """The block made (with ``limit``, only its first quantities)."""
        built = self.make()
        if limit is not None and limit < len(built.quantities):
            return Built(built.title, built.quantities[:limit], built.note)
        return built

    def quantities(self) -> Iterator[Quantity]:
        return iter(self.make().quantities)


def numbered(template: str, fields: Mapping[str, str]) -> str:
    """Fill a named template (``({a} − {y}) / {K}``) with slot markers or fixed text, keeping
    the result a slot template: ``numbered("({a} − {y})", {"a": "{0}", "y": "{1}"})`` is ``({0} − {1})``."""
    return template.format_map(fields)


def scalar(value: object) -> Scalar:
    """A number of a trace as a quantity holds it: an exact Fraction as it is, anything else as a float."""
    return value if isinstance(value, Fraction) else float(value)  # type: ignore[arg-type]


def too_large(value: Fraction) -> bool:
    """Whether an exact value's numerator or denominator has more than MAX_EXACT_DIGITS digits."""
    return max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_EXACT_BITS
