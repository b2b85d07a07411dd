"""Per-student variants of a template config: drawn from a seed only the course can derive, filtered.

A template is a network config in which some values are draws::

    weights: [[{uniform: [-1, 1], decimals: 2}, 0.20], [0.25, {uniform: [0, 1], step: 0.25}]]
    activation: {choice: [relu, tanh]}
    units: {integer: [2, 3]}
    data: {sample: [{x: [0.05, 0.1], y: [0.01]}, {x: [0.3, 0.2], y: [1]}, ...], count: 1}

``uniform`` draws a number from [lo, hi] rounded to ``decimals`` (2 when neither is given) or on the
grid lo + k·``step``; ``integer`` a whole number from lo to hi; ``choice`` one of the values; ``sample``
``count`` distinct rows of the list, in their order. Draws are made in the template's order.

The seed of a student's variant is ``HMAC-SHA256(secret, "backprop-variant\\0" + template sha256 +
"\\0" + student id + "\\0" + attempt)``: the course reproduces it from the secret, a student cannot
guess another's. Attempt 1 is tried first; a degenerate variant is redrawn with the next attempt, and
the reason counted (REASONS).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import hmac
import io
import json
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backprop_cli.errors import ConfigError, quoted
from backprop_cli.homework.values import NamedValue
from backprop_cli.loading.yamlsafe import Document, Loc, describe
from backprop_cli.model.i18n import N_
from backprop_cli.model.spec import NetworkSpec

DRAWS = {"uniform": ("decimals", "step"), "integer": (), "choice": (), "sample": ("count",)}
#: why a variant is redrawn, by the name ``--allow`` takes to let it through
REASONS = {
    "dead-relu": "every ReLU of a layer is dead (z ≤ 0 on every sample): no gradient flows below it",
    "saturated": "an output is saturated (by default sigmoid outside [0.01, 0.99], tanh beyond ±0.99)",
    "zero-gradient": "a gradient asked for is zero (by default |value| < 1e-12)",
    "tie": "a tie: a ReLU exactly at its kink (z = 0) or two softmax logits tied for the largest",
    "duplicate": "the same variant as another student's",
}
SATURATED = {"sigmoid": (0.01, 0.99), "tanh": (-0.99, 0.99)}  # the ranges an output must stay inside
ZERO = 1e-12  # a gradient this small counts as zero
FILTER_KEYS = ("saturated", "zero_gradient", "allow")


@dataclass(frozen=True)
class Filters:
    """The template's ``filters:``: the thresholds of REASONS, and the reasons let through.

    ``saturated: {sigmoid: [lo, hi], tanh: [lo, hi]}`` (the range an output layer's activation must
    stay inside; either may be given alone), ``zero_gradient: 1e-9`` (a gradient asked for whose size
    is below it is zero), ``allow: [tie, ...]`` (as ``--allow``). Left out: the defaults above."""

    saturated: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(SATURATED))
    zero_gradient: float = ZERO
    allow: tuple[str, ...] = ()


def split_template(doc: Document) -> tuple[Document, Filters]:
    """The template without its ``filters:`` (the config the draws are made in), and the filters;
    a malformed one is a located error."""
    if not isinstance(doc.value, dict) or "filters" not in doc.value:
        return doc, Filters()
    given = doc.value["filters"]
    rest = Document({k: x for k, x in doc.value.items() if k != "filters"}, doc.source, doc.marks, doc.key_marks)
    expected = "expected a mapping of saturated, zero_gradient and allow (see `backprop variants --help`)"
    if not isinstance(given, dict):
        raise doc.error(f"filters is {describe(given)}; {expected}", ("filters",))
    for name in given:
        if name not in FILTER_KEYS:
            raise doc.error(f"unknown filter {quoted(name)}; {expected}", ("filters", name), key=True)
    saturated = dict(SATURATED)
    ranges = given.get("saturated", {})
    if not isinstance(ranges, dict):
        raise doc.error(
            f"filters.saturated is {describe(ranges)}; expected a mapping like {{sigmoid: [0.01, 0.99]}}",
            ("filters", "saturated"),
        )
    for activation, bounds in ranges.items():
        at = ("filters", "saturated", activation)
        if activation not in SATURATED:
            raise doc.error(
                f"no saturation range for {quoted(activation)}; expected one of {', '.join(SATURATED)}", at, key=True
            )
        if not (
            isinstance(bounds, list) and len(bounds) == 2 and all(_number(b) for b in bounds) and bounds[0] < bounds[1]
        ):
            raise doc.error(f"filters.saturated.{activation} is {describe(bounds)}; expected [lo, hi] with lo < hi", at)
        saturated[activation] = (float(bounds[0]), float(bounds[1]))
    zero = given.get("zero_gradient", ZERO)
    if not (_number(zero) and math.isfinite(zero) and zero >= 0):
        raise doc.error(
            f"filters.zero_gradient is {describe(zero)}; expected a number ≥ 0 (1e-12 by default)",
            ("filters", "zero_gradient"),
        )
    allow = given.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(r, str) and r in REASONS for r in allow):
        raise doc.error(
            f"filters.allow is {describe(allow)}; expected a list of {', '.join(REASONS)}", ("filters", "allow")
        )
    return rest, Filters(saturated, float(zero), tuple(allow))


DEFAULT_DECIMALS = 2
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")
# in the order they are preferred: Canvas's export has Student (the name), ID (Canvas's own number) and
# SIS User ID (the institution's id, what the other systems know the student by)
ID_COLUMNS = ("sis user id", "sis_user_id", "student_id", "student id", "id", "username", "login", "student")
CANVAS_ID_COLUMNS = ("SIS User ID", "ID", "SIS Login ID")  # where a Canvas grade import may carry the id
_POINTS_POSSIBLE = "points possible"  # the row under the header of a Canvas gradebook export
MIN_SECRET = 16  # bytes


@dataclass(frozen=True)
class Draw:
    loc: Loc  # where in the template
    kind: str  # one of DRAWS
    spec: Mapping[str, Any]


# ---------------------------------------------------------------- the template


def find_draws(doc: Document) -> list[Draw]:
    """Every draw of a template, in document order; a malformed one is a located error."""
    found: list[Draw] = []

    def walk(value: Any, loc: Loc) -> None:
        if isinstance(value, dict):
            kinds = [k for k in value if k in DRAWS]
            if len(kinds) > 1:
                raise doc.error(f"a draw gives {' and '.join(kinds)}; expected one of {', '.join(DRAWS)}", loc)
            if kinds:
                found.append(_draw(doc, value, loc, kinds[0]))
                return
            for key, item in value.items():
                walk(item, (*loc, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, (*loc, i))

    walk(doc.value, ())
    return found


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _draw(doc: Document, value: dict[str, Any], loc: Loc, kind: str) -> Draw:
    extra = [k for k in value if k != kind and k not in DRAWS[kind]]
    if extra:
        allowed = ", ".join(DRAWS[kind]) or "nothing"
        raise doc.error(
            f"unknown key {quoted(extra[0])} in a {kind} draw; expected {allowed} beside it", (*loc, extra[0])
        )
    given = value[kind]
    at = (*loc, kind)
    if kind in ("uniform", "integer"):
        whole = kind == "integer"
        what = "whole numbers" if whole else "numbers"
        if (
            not isinstance(given, list)
            or len(given) != 2
            or not all(_number(v) and (not whole or isinstance(v, int)) for v in given)
        ):
            raise doc.error(f"{kind} is {describe(given)}; expected [lo, hi], two {what} with lo ≤ hi", at)
        if given[0] > given[1]:
            raise doc.error(f"{kind} [{given[0]}, {given[1]}] has lo above hi; expected lo ≤ hi", at)
        if "decimals" in value and "step" in value:
            raise doc.error("a uniform draw gives decimals and step; expected one of them", loc)
        decimals = value.get("decimals", DEFAULT_DECIMALS)
        if "decimals" in value and (type(decimals) is not int or not 0 <= decimals <= 12):
            raise doc.error(
                f"decimals is {describe(decimals)}; expected a whole number from 0 to 12", (*loc, "decimals")
            )
        step = value.get("step")
        if step is not None and not (_number(step) and step > 0):
            raise doc.error(f"step is {describe(step)}; expected a number > 0", (*loc, "step"))
    elif not isinstance(given, list) or not given:
        raise doc.error(f"{kind} is {describe(given)}; expected a list of at least one value", at)
    if kind == "sample":
        count = value.get("count", 1)
        if type(count) is not int or not 1 <= count <= len(given):
            raise doc.error(
                f"count is {describe(count)}; expected a whole number from 1 to {len(given)}", (*loc, "count")
            )
    return Draw(loc, kind, value)


def _drawn(draw: Draw, rng: random.Random) -> Any:
    spec = draw.spec
    if draw.kind == "integer":
        lo, hi = spec["integer"]
        return rng.randint(lo, hi)
    if draw.kind == "choice":
        return copy.deepcopy(rng.choice(spec["choice"]))
    if draw.kind == "sample":
        pool = spec["sample"]
        return [copy.deepcopy(pool[i]) for i in sorted(rng.sample(range(len(pool)), spec.get("count", 1)))]
    lo, hi = spec["uniform"]
    if "step" in spec:
        k = rng.randint(0, math.floor((hi - lo) / spec["step"] + 1e-9))
        return round(lo + k * spec["step"], 12)
    decimals = spec.get("decimals", DEFAULT_DECIMALS)
    number = min(max(round(rng.uniform(lo, hi), decimals), lo), hi)
    return int(number) if decimals == 0 else number


def instantiate(template: Any, draws: Iterable[Draw], rng: random.Random) -> Any:
    """The template with every draw replaced by a value from ``rng`` (draws taken in order)."""
    value = copy.deepcopy(template)
    for draw in draws:
        *parent, last = draw.loc
        holder = value
        for key in parent:
            holder = holder[key]
        holder[last] = _drawn(draw, rng)
    return value


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- seeds, roster, secret


def seed_for(secret: bytes, template_sha256: str, student: str, attempt: int) -> str:
    message = f"backprop-variant\0{template_sha256}\0{student}\0{attempt}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


#: how a seed is made, as a key's header says it (marked for the catalogue: translated where it is written)
DERIVATION = N_("HMAC-SHA256(course secret, backprop-variant NUL template-sha256 NUL student NUL attempt), hex")


def rng_for(seed: str) -> random.Random:
    return random.Random(int(seed, 16))


def read_roster(text: str, source: str) -> list[str]:
    """Student ids from a roster CSV (see :func:`read_roster_column`)."""
    return read_roster_column(text, source)[0]


def read_roster_column(text: str, source: str) -> tuple[list[str], str]:
    """Student ids from a roster CSV, and the header of the column they came from: the column named
    SIS User ID, student_id, id, username, login or student (any case; the first of these there is);
    each id once, usable as a file name. Canvas's "Points Possible" row is skipped."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ConfigError("empty roster; expected a CSV with a header naming an id column", file=source, line=1, col=1)
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(name) for name in ID_COLUMNS if name in header), None)
    if column is None:
        raise ConfigError(
            f"no id column in the header {quoted(','.join(rows[0]))}; expected one named {', '.join(ID_COLUMNS)}",
            file=source,
            line=1,
            col=1,
        )
    ids: list[str] = []
    seen: dict[str, int] = {}
    files: dict[str, tuple[str, int]] = {}  # each file a variant writes (lower case) -> (its id, its line)
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row) or row[0].strip().lower() == _POINTS_POSSIBLE:
            continue
        student = row[column].strip() if column < len(row) else ""
        col = sum(len(cell) + 1 for cell in row[:column]) + 1
        if not _ID.fullmatch(student):
            what = "empty" if not student else f"{quoted(student)} is not usable as a file name"
            raise ConfigError(
                f"{what}; expected an id of letters, digits and . _ @ + - (at most 128)",
                file=source,
                line=number,
                col=col,
                path=rows[0][column].strip(),
            )
        if student in seen:
            raise ConfigError(
                f"{quoted(student)} is listed twice (first on line {seen[student]}); expected each student once",
                file=source,
                line=number,
                col=col,
                path=rows[0][column].strip(),
            )
        for name in (f"{student}.yaml", f"{student}.key.yaml", f"{student}.sheet.yaml"):
            other = files.get(name.lower())
            if other is not None:
                raise ConfigError(
                    f"{quoted(student)} and {quoted(other[0])} (line {other[1]}) would both write {name} (file names "
                    "may not tell case apart); expected ids whose files do not collide",
                    file=source,
                    line=number,
                    col=col,
                    path=rows[0][column].strip(),
                )
        for name in (f"{student}.yaml", f"{student}.key.yaml", f"{student}.sheet.yaml"):
            files[name.lower()] = (student, number)
        seen[student] = number
        ids.append(student)
    if not ids:
        raise ConfigError("no students in the roster; expected a row per student", file=source, line=2, col=1)
    return ids, rows[0][column].strip()


def check_secret(secret: bytes, source: str) -> bytes:
    key = secret.strip()
    if len(key) < MIN_SECRET:
        raise ConfigError(
            f"the secret has {len(key)} bytes; expected at least {MIN_SECRET} (e.g. `head -c 32 /dev/urandom | "
            "base64 > course.key`)",
            file=source,
        )
    return key


# ---------------------------------------------------------------- degenerate variants


def _short(v: NamedValue) -> str:
    return v.name.rsplit("/", 1)[-1].split(".", 1)[-1]


def degenerate(
    spec: NetworkSpec, values: Iterable[NamedValue], asked: set[str], filters: Filters | None = None
) -> list[str]:
    """The REASONS (but duplicate) that make this variant a poor exercise, from its first step, by the
    template's ``filters`` (the defaults without)."""
    limits = filters or Filters()
    reasons: list[str] = []
    first = [v for v in values if v.step == 1]
    last = spec.layers[-1].name
    for layer in spec.layers:
        zs = [v for v in first if v.layer == layer.name and v.phase == "forward" and re.fullmatch(r"z\d+", _short(v))]
        outs = [v for v in first if v.layer == layer.name and v.phase == "forward" and re.fullmatch(r"a\d+", _short(v))]
        if layer.activation == "relu" and zs and all(v.value <= 0 for v in zs):
            reasons.append("dead-relu")
        if layer.activation in ("relu", "leaky_relu") and any(v.value == 0 for v in zs):
            reasons.append("tie")
        if layer.activation == "softmax":
            by_sample: dict[int | None, list[float]] = {}
            for v in zs:
                by_sample.setdefault(v.sample, []).append(v.value)
            if any(len(z) > 1 and sorted(z)[-1] == sorted(z)[-2] for z in by_sample.values()):
                reasons.append("tie")
        if layer.name == last and layer.activation in limits.saturated:
            lo, hi = limits.saturated[layer.activation]
            if any(not lo <= v.value <= hi for v in outs):
                reasons.append("saturated")
    gradients = [v for v in values if v.name in asked and ("dL_d" in _short(v) or "delta" in _short(v))]
    if any(abs(v.value) < limits.zero_gradient for v in gradients):
        reasons.append("zero-gradient")
    return list(dict.fromkeys(reasons))
