"""Read an expression program with Python's ``ast`` and a whitelist; never ``eval``, never execute.

A program is one assignment per line (or separated by ``;``): ``q = x + y``, ``f = q * z``,
``c += c + 1``, with ``+ - * / **``, unary minus, numeric literals and the calls in :data:`FUNCTIONS`.
Everything else (attribute access, imports, lambdas, comprehensions, strings, comparisons, …) is
refused with a located message. Before ``ast.parse`` sees the text, a token scan caps the length,
the parenthesis depth and the operators per statement, because CPython's parser runs out of stack
(MemoryError, RecursionError) on deep or very long chains; after it, the tree depth and the size of
every exponent are capped, so ``10**10**10`` is refused before anything is computed.
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass

from backprop_cli.errors import ConfigError

MAX_CHARS = 10_000
MAX_PARENS = 32  # nested parentheses
MAX_OPERATORS = 200  # operators in one statement
MAX_DEPTH = 100  # depth of one statement's expression tree
MAX_EXPONENT = 100  # |k| in x ** k
MAX_STATEMENTS = 500

# name -> (least, most) number of arguments; None: no upper bound
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "exp": (1, 1),
    "log": (1, 1),
    "sqrt": (1, 1),
    "abs": (1, 1),
    "tanh": (1, 1),
    "sigmoid": (1, 1),
    "relu": (1, 1),
    "max": (2, None),
    "min": (2, None),
}
_SURROGATE = re.compile("[\ud800-\udfff]")  # what non-UTF-8 bytes of argv become (surrogate escapes)
_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_OPERATOR_TOKENS = frozenset({"+", "-", "*", "/", "**", "%", "//", "@", "<<", ">>", "&", "|", "^", "~"})
EXPECTED = "expected assignments like `q = x + y` using + - * / **, numbers, names and " + ", ".join(FUNCTIONS)

# what a refused node is, in words a student recognises
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access (a.b)",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Subscript: "indexing (a[i])",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "a conditional expression",
    ast.Starred: "unpacking (*a)",
    ast.NamedExpr: "the walrus operator (:=)",
    ast.JoinedStr: "an f-string",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.ClassDef: "a class definition",
    ast.For: "a loop",
    ast.While: "a loop",
    ast.If: "an if statement",
    ast.With: "a with statement",
    ast.Try: "a try statement",
    ast.Delete: "del",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Return: "return",
    ast.Raise: "raise",
    ast.Assert: "assert",
    ast.AnnAssign: "an annotated assignment",
}


@dataclass(frozen=True)
class Num:
    """A numeric literal, kept as written so exact mode reads 0.1 as 1/10."""

    text: str
    value: float
    line: int
    col: int


@dataclass(frozen=True)
class Var:
    name: str
    line: int
    col: int


@dataclass(frozen=True)
class Apply:
    """An operation: ``add sub mul div pow neg copy`` or a function from :data:`FUNCTIONS`."""

    op: str
    args: tuple[Expr, ...]
    line: int
    col: int


Expr = Num | Var | Apply


@dataclass(frozen=True)
class Statement:
    target: str
    value: Expr  # for ``c += e`` already ``c + e``
    line: int
    col: int
    text: str  # the source line, stripped


Locate = Callable[[int, int], tuple[int | None, int | None]]


class Where:
    """Turns a (line, col) of the program text into a located :class:`ConfigError`.

    For a config file, ``locate`` maps program positions to file positions and the path reads
    ``expression.line N``; for ``--expr`` the program is its own file, named ``--expr``.
    """

    def __init__(
        self, source: str, locate: Locate | None = None, path: str | None = None, values_hint: str = "values"
    ) -> None:
        self.source = source
        self.locate = locate
        self.path = path
        self.values_hint = values_hint  # where inputs are given: "values" in a config, "--set" inline

    def error(self, message: str, line: int, col: int) -> ConfigError:
        if self.locate is None:
            return ConfigError(message, file=self.source, line=line, col=col)
        file_line, file_col = self.locate(line, col)
        path = f"{self.path}.line {line}" if self.path else f"line {line}"
        return ConfigError(message, file=self.source, line=file_line, col=file_col, path=path)


MINUS_SIGN = "\u2212"  # −, as the trace prints formulas and the descriptions print numbers


def ascii_minus(text: str) -> str:
    """``text`` with the minus sign U+2212 as ASCII ``-``: what the trace prints can be typed back in
    (one character for one, so every column stays where it was)."""
    return text.replace(MINUS_SIGN, "-")


def parse_program(text: str, where: Where) -> tuple[Statement, ...]:
    """The statements of ``text``, checked against the whitelist; a located ConfigError otherwise."""
    text = ascii_minus(text)
    if len(text) > MAX_CHARS:
        raise where.error(f"the expression has {len(text)} characters; expected at most {MAX_CHARS}", 1, 1)
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise where.error("a NUL character; expected plain text", line, 1)
    if (odd := _SURROGATE.search(text)) is not None:  # --expr of non-UTF-8 bytes, or a JSON "\ud800"
        at, code = odd.start(), ord(odd.group())
        what = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"a lone surrogate \\u{code:04x}"
        line, col = text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
        raise where.error(f"not UTF-8 text ({what}); expected the program as UTF-8 text", line, col)
    lines = text.splitlines()
    _scan_tokens(text, where)
    try:
        tree = ast.parse(text, mode="exec")
    except SyntaxError as error:
        line = error.lineno or 1
        col = error.offset or 1
        raise where.error(f"syntax error: {error.msg}; {EXPECTED}", line, col) from None
    except (MemoryError, RecursionError):  # the token scan should have caught this; never a traceback
        raise where.error(f"the expression is nested too deeply; {EXPECTED}", 1, 1) from None
    if not tree.body:
        raise where.error(f"no assignments; {EXPECTED}", 1, 1)
    if len(tree.body) > MAX_STATEMENTS:
        raise where.error(f"{len(tree.body)} statements; expected at most {MAX_STATEMENTS}", 1, 1)
    reader = _Reader(lines, where)
    return tuple(reader.statement(node) for node in tree.body)


def _scan_tokens(text: str, where: Where) -> None:
    """Refuse deep parentheses and long operator chains before CPython's parser recurses into them."""
    depth = 0
    operators = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            line, col = token.start[0], token.start[1] + 1
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
                if depth > MAX_PARENS:
                    raise where.error(f"parentheses nested too deeply; expected at most {MAX_PARENS} levels", line, col)
            elif token.type == tokenize.OP and token.string in ")]}":
                depth = max(depth - 1, 0)
            elif token.type == tokenize.OP and token.string in _OPERATOR_TOKENS:
                operators += 1
                if operators > MAX_OPERATORS:
                    raise where.error(
                        f"more than {MAX_OPERATORS} operators in one statement; split it into several assignments",
                        line,
                        col,
                    )
            elif token.type == tokenize.NEWLINE or (token.type == tokenize.OP and token.string == ";"):
                operators = 0
    except (tokenize.TokenError, SyntaxError):
        return  # ast.parse reports the syntax error, located


def _column(lines: list[str], line: int, byte_offset: int) -> int:
    """ast columns count UTF-8 bytes; messages count characters (1-based)."""
    if 1 <= line <= len(lines):
        return len(lines[line - 1].encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1
    return byte_offset + 1


class _Reader:
    def __init__(self, lines: list[str], where: Where) -> None:
        self.lines = lines
        self.where = where

    def at(self, node: ast.AST) -> tuple[int, int]:
        line = getattr(node, "lineno", 1)
        return line, _column(self.lines, line, getattr(node, "col_offset", 0))

    def refuse(self, node: ast.AST, message: str) -> ConfigError:
        return self.where.error(message, *self.at(node))

    def statement(self, node: ast.stmt) -> Statement:
        line, col = self.at(node)
        text = self.lines[line - 1].strip() if line <= len(self.lines) else ""
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                raise self.refuse(node, f"assign to exactly one name (`f = ...`); {EXPECTED}")
            target = self.target(node.targets[0])
            return Statement(target, self.expr(node.value, 0), line, col, text)
        if isinstance(node, ast.AugAssign):
            if not isinstance(node.target, ast.Name):
                raise self.refuse(node, f"augmented assignment to a name only (`c += ...`); {EXPECTED}")
            op = _BINARY.get(type(node.op))
            if op is None:
                raise self.refuse(node, f"operator {_op_text(node.op)}= is not supported; {EXPECTED}")
            target = self.target(node.target)
            value = Apply(op, (Var(target, *self.at(node.target)), self.expr(node.value, 1)), line, col)
            if op == "pow":
                value = Apply(op, (value.args[0], self.exponent(node.value)), line, col)
            return Statement(target, value, line, col, text)
        if isinstance(node, ast.Expr):
            raise self.refuse(node, f"a bare expression; give it a name (`f = ...`); {EXPECTED}")
        raise self.refuse(node, f"{_REFUSED.get(type(node), type(node).__name__)} is not allowed; {EXPECTED}")

    def target(self, node: ast.Name) -> str:
        if node.id in FUNCTIONS:
            raise self.refuse(node, f"{node.id!r} is a function name; expected another name for the result")
        return node.id

    def expr(self, node: ast.expr, depth: int) -> Expr:
        line, col = self.at(node)
        if depth > MAX_DEPTH:
            raise self.where.error(
                f"the expression is nested too deeply; expected at most {MAX_DEPTH} levels", line, col
            )
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise self.refuse(node, f"{node.id!r} is a function; expected a call like {node.id}(x)")
            return Var(node.id, line, col)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return self.expr(node.operand, depth + 1)
            if not isinstance(node.op, ast.USub):
                raise self.refuse(node, f"operator {_op_text(node.op)} is not supported; {EXPECTED}")
            operand = self.expr(node.operand, depth + 1)
            if isinstance(operand, Num):  # -2 is a number, not an operation
                text = operand.text[1:] if operand.text.startswith("-") else "-" + operand.text
                return Num(text, -operand.value, line, col)
            return Apply("neg", (operand,), line, col)
        if isinstance(node, ast.BinOp):
            op = _BINARY.get(type(node.op))
            if op is None:
                raise self.refuse(node, f"operator {_op_text(node.op)} is not supported; {EXPECTED}")
            left = self.expr(node.left, depth + 1)
            right = self.exponent(node.right) if op == "pow" else self.expr(node.right, depth + 1)
            return Apply(op, (left, right), line, col)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.refuse(node, f"{_REFUSED.get(type(node), type(node).__name__)} is not allowed; {EXPECTED}")

    def call(self, node: ast.Call, depth: int) -> Apply:
        line, col = self.at(node)
        if not isinstance(node.func, ast.Name):
            what = _REFUSED.get(type(node.func), "this kind of call")
            raise self.refuse(node.func, f"{what} is not allowed; expected a call of one of {', '.join(FUNCTIONS)}")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.refuse(node.func, f"unknown function {name!r}; expected one of {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise self.refuse(node.keywords[0], f"{name}() takes no keyword arguments")
        least, most = FUNCTIONS[name]
        count = len(node.args)
        if count < least or (most is not None and count > most):
            wanted = f"{least}" if least == most else f"at least {least}"
            raise self.refuse(node, f"{name}() takes {wanted} argument{'s' * (wanted != '1')}; it has {count}")
        return Apply(name, tuple(self.expr(arg, depth + 1) for arg in node.args), line, col)

    def number(self, node: ast.Constant) -> Num:
        line, col = self.at(node)
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.refuse(node, f"{_constant_kind(value)} is not allowed; expected a number")
        text = ast.get_source_segment("\n".join(self.lines), node) or repr(value)
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.refuse(node, f"number {text[:20]} is too large; expected a finite number")
        if isinstance(value, int):  # 0x10, 0b101, 1_000: written as the decimal they mean
            text = str(value)
        return Num(text.replace("_", ""), number, line, col)

    def exponent(self, node: ast.expr) -> Num:
        """The k of ``x ** k``: a number (optionally negative), at most MAX_EXPONENT in size."""
        sign = ""
        inner = node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            sign = "-" if isinstance(node.op, ast.USub) else ""
            inner = node.operand
        if not isinstance(inner, ast.Constant):
            raise self.refuse(
                node, "the exponent must be a number like 2, -1 or 0.5 (x ** y with an expression y is not supported)"
            )
        number = self.number(inner)
        value = -number.value if sign else number.value
        if abs(value) > MAX_EXPONENT:
            raise self.refuse(
                node, f"exponent {sign}{number.text} is too large; expected at most {MAX_EXPONENT} in size"
            )
        line, col = self.at(node)
        return Num(sign + number.text, value, line, col)


def _op_text(op: ast.AST) -> str:
    symbols = {
        ast.Mod: "%",
        ast.FloorDiv: "//",
        ast.MatMult: "@",
        ast.LShift: "<<",
        ast.RShift: ">>",
        ast.BitAnd: "&",
        ast.BitOr: "|",
        ast.BitXor: "^",
        ast.Invert: "~",
        ast.Not: "not",
    }
    return symbols.get(type(op), type(op).__name__)


def _constant_kind(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, complex):
        return "a complex number"
    return f"the constant {value!r}"
