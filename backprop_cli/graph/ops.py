"""The operations of an expression graph: forward, local derivatives and formula text, side by side.

Each entry holds what micrograd keeps together: how the output is computed, the local derivative
∂out/∂arg_i for each argument, and the text of both, filled in with names (the formula) or with
numbers (written out) by the layout. The same code runs on floats and on Fractions; an op that is
not rational (exp, log, …) has ``rational=False`` and ``--exact`` refuses it by name.
Semantics follow PyTorch: relu'(0) = 0, |x|'(0) = 0, and max/min split the gradient evenly
between tied arguments (torch.maximum / torch.minimum).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from backprop_cli.model.i18n import _

Scalar = Any  # float, or Fraction in exact mode: every rational op below works on both
Texts = Sequence[str]


class DomainError(ValueError):
    """An argument outside an operation's domain (log of a negative number, division by zero, …)."""


@dataclass(frozen=True)
class Op:
    name: str
    rational: bool
    forward: Callable[[Sequence[Scalar]], Scalar]
    # local derivatives of the output with respect to each argument, from the arguments and output
    local: Callable[[Sequence[Scalar], Scalar], tuple[Scalar, ...]]
    text: Callable[[Texts], str]  # the operation written with argument texts
    # the local derivative by argument i, written with argument texts and the output's text
    local_text: Callable[[int, Texts, str], str]
    meaning: str  # for the README and notes: the op and its derivative in math
    # relu, max, min pass the gradient on through a select, as torch's backward does (where / masked_fill):
    # where the local derivative is 0 the contribution is 0, even from an infinite or undefined upstream
    selects: bool = False


def _sign(x: Scalar) -> Scalar:
    return (x > 0) - (x < 0)


def _div(a: Scalar, b: Scalar) -> Scalar:
    if b == 0:
        raise DomainError(_("division by zero"))
    return a / b


def _div_local(x: Sequence[Scalar], out: Scalar) -> tuple[Scalar, ...]:
    """(1/b, −a/b²); where b² underflows to 0 for a tiny b ≠ 0, −a/b/b (±∞ past float64, as torch)."""
    a, b = x
    square = b * b
    return (_div(1, b), _div(-a, square) if square else _div(_div(-a, b), b))


def _pow(a: Scalar, k: Scalar) -> Scalar:
    if a == 0 and k < 0:
        raise DomainError(_("0 to the negative power {k}").format(k=k))
    if isinstance(a, Fraction):
        return a ** int(k)
    if a < 0 and not float(k).is_integer():
        raise DomainError(_("a negative number {a} to the fractional power {k}").format(a=a, k=k))
    return math.pow(a, k)


def _pow_local(x: Sequence[Scalar], out: Scalar) -> tuple[Scalar, ...]:
    a, k = x
    if k == 0:  # a^0 = 1 everywhere, also at a = 0 (as torch)
        return (0 * k, 0)
    if a == 0 and k < 1:  # k·0^(k−1) with k − 1 < 0: infinite, as torch gives it (0 < k < 1; k < 0 faults forward)
        return (math.inf, 0)
    try:
        return (k * _pow(a, k - 1), 0)
    except OverflowError:  # math.pow past float64: as torch's inf
        return (math.copysign(math.inf, k * (-1 if a < 0 and int(k - 1) % 2 else 1)), 0)


def _pow_local_text(i: int, t: Texts, out: str) -> str:
    k = t[1].strip("()")
    less = Fraction(k) - 1
    shown = str(less.numerator) if less.denominator == 1 else repr(float(less))
    return f"{t[1]}·{t[0]}^{'(' + shown + ')' if less < 0 else shown}"


def _log(a: Scalar) -> Scalar:
    if a <= 0:
        raise DomainError(_("log of {a}, which is not positive").format(a=a))
    return math.log(a)


def _sqrt(a: Scalar) -> Scalar:
    if a < 0:
        raise DomainError(_("sqrt of the negative number {a}").format(a=a))
    return math.sqrt(a)


def _sqrt_local(x: Sequence[Scalar], out: Scalar) -> tuple[Scalar, ...]:
    if out == 0:  # 1/(2·0): infinite, as torch gives it; a fault only if it reaches an input's gradient
        return (math.inf,)
    return (1 / (2 * out),)


# why a local derivative is infinite, for the fault that names it when the ∞ reaches an input's gradient
INFINITE_LOCALS = {
    "sqrt": "the derivative of sqrt at 0 is infinite",
    "pow": "the derivative of a^k at a = 0 is infinite for k < 1",
}


def _sigmoid(z: Scalar) -> Scalar:
    if z >= 0:  # the stable form: exp of a non-positive number only
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def _tie_share(x: Sequence[Scalar], out: Scalar) -> tuple[Scalar, ...]:
    ties = sum(1 for v in x if v == out)
    share = Fraction(1, ties) if isinstance(out, Fraction) else 1 / ties
    return tuple(share if v == out else 0 * share for v in x)


def _bare(text: str) -> str:
    """``(-2)`` → ``-2`` where the text already sits in a call's parentheses or stands alone."""
    inner = text[1:-1]
    return inner if text.startswith("(") and text.endswith(")") and "(" not in inner and ")" not in inner else text


def _join(name: str) -> Callable[[Texts], str]:
    return lambda t: f"{name}({', '.join(_bare(a) for a in t)})"


def _extremum_text(name: str) -> Callable[[int, Texts, str], str]:
    return lambda i, t, out: f"1 if {t[i]} = {out} else 0 (ties share 1)"


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op(
            "copy",
            True,
            lambda x: x[0],
            lambda x, o: (1,),
            lambda t: _bare(t[0]),
            lambda i, t, o: "1",
            "f = a; ∂f/∂a = 1",
        ),
        Op(
            "add",
            True,
            lambda x: x[0] + x[1],
            lambda x, o: (1, 1),
            lambda t: f"{t[0]} + {t[1]}",
            lambda i, t, o: "1",
            "f = a + b; ∂f/∂a = 1, ∂f/∂b = 1",
        ),
        Op(
            "sub",
            True,
            lambda x: x[0] - x[1],
            lambda x, o: (1, -1),
            lambda t: f"{t[0]} − {t[1]}",
            lambda i, t, o: "1" if i == 0 else "−1",
            "f = a − b; ∂f/∂a = 1, ∂f/∂b = −1",
        ),
        Op(
            "mul",
            True,
            lambda x: x[0] * x[1],
            lambda x, o: (x[1], x[0]),
            lambda t: f"{t[0]} × {t[1]}",
            lambda i, t, o: t[1 - i],
            "f = a × b; ∂f/∂a = b, ∂f/∂b = a",
        ),
        Op(
            "div",
            True,
            lambda x: _div(x[0], x[1]),
            _div_local,
            lambda t: f"{t[0]} / {t[1]}",
            lambda i, t, o: f"1 / {t[1]}" if i == 0 else f"−{t[0]} / {t[1]}²",
            "f = a / b; ∂f/∂a = 1/b, ∂f/∂b = −a/b²",
        ),
        Op(
            "pow",
            True,  # with an integer exponent; exact mode checks the exponent
            lambda x: _pow(x[0], x[1]),
            _pow_local,
            lambda t: f"{t[0]}^{t[1]}",
            _pow_local_text,
            "f = a^k (k a number); ∂f/∂a = k·a^(k−1)",
        ),
        Op(
            "neg",
            True,
            lambda x: -x[0],
            lambda x, o: (-1,),
            lambda t: f"−{t[0]}",
            lambda i, t, o: "−1",
            "∂(−a)/∂a = −1",
        ),
        # internal ops for networks traced as graphs (--exact): not callable from a program
        Op(
            "sum",
            True,
            lambda x: sum(x[1:], x[0]),
            lambda x, o: (1,) * len(x),
            lambda t: " + ".join(t),
            lambda i, t, o: "1",
            "f = a + b + …; ∂f/∂a = 1",
        ),
        Op(
            "leaky_relu",
            True,
            lambda x: x[0] if x[0] > 0 else x[1] * x[0],
            lambda x, o: (1 if x[0] > 0 else x[1], 0),
            lambda t: f"leaky_relu({_bare(t[0])}, {_bare(t[1])})",
            lambda i, t, o: f"1 if {t[0]} > 0 else {t[1]}",
            "f = a if a > 0 else s·a; ∂f/∂a = 1 if a > 0 else s",
        ),
        Op(
            "exp",
            False,
            lambda x: math.exp(x[0]),
            lambda x, o: (o,),
            _join("exp"),
            lambda i, t, o: o,
            "f = exp(a); ∂f/∂a = exp(a) = f",
        ),
        Op(
            "log",
            False,
            lambda x: _log(x[0]),
            lambda x, o: (_div(1, x[0]),),
            _join("log"),
            lambda i, t, o: f"1 / {t[0]}",
            "f = log(a) (natural); ∂f/∂a = 1/a",
        ),
        Op(
            "sqrt",
            False,
            lambda x: _sqrt(x[0]),
            _sqrt_local,
            _join("sqrt"),
            lambda i, t, o: f"1 / (2·{o})",
            "f = sqrt(a); ∂f/∂a = 1/(2·f)",
        ),
        Op(
            "abs",
            True,
            lambda x: abs(x[0]),
            lambda x, o: (_sign(x[0]),),
            lambda t: f"|{t[0]}|",
            lambda i, t, o: f"sign({t[0]})",
            "f = |a|; ∂f/∂a = sign(a), 0 at 0",
        ),
        Op(
            "tanh",
            False,
            lambda x: math.tanh(x[0]),
            lambda x, o: (1 - o * o,),
            _join("tanh"),
            lambda i, t, o: f"1 − {o}²",
            "f = tanh(a); ∂f/∂a = 1 − f²",
        ),
        Op(
            "sigmoid",
            False,
            lambda x: _sigmoid(x[0]),
            lambda x, o: (o * (1 - o),),
            _join("sigmoid"),
            lambda i, t, o: f"{o}·(1 − {o})",
            "f = σ(a) = 1/(1 + e^−a); ∂f/∂a = f·(1 − f)",
        ),
        Op(
            "relu",
            True,
            lambda x: x[0] if x[0] > 0 else 0 * x[0],
            lambda x, o: (1 if x[0] > 0 else 0,),
            _join("relu"),
            lambda i, t, o: f"1 if {t[0]} > 0 else 0",
            "f = max(0, a); ∂f/∂a = 1 if a > 0 else 0",
            selects=True,
        ),
        Op(
            "max",
            True,
            lambda x: max(x),
            _tie_share,
            _join("max"),
            _extremum_text("max"),
            "f = max(a, b, …); ∂f/∂a = 1 if a is the maximum, else 0; tied arguments share 1 evenly",
            selects=True,
        ),
        Op(
            "min",
            True,
            lambda x: min(x),
            _tie_share,
            _join("min"),
            _extremum_text("min"),
            "f = min(a, b, …); ∂f/∂a = 1 if a is the minimum, else 0; tied arguments share 1 evenly",
            selects=True,
        ),
    )
}
