"""Data rows → a :class:`DataSpec`: inline ``{x, y}`` rows, CSV files with a header, JSON/YAML row files.

Every problem is located in the file that holds it: a row of the config, a row of a YAML/JSON data
file, or a CSV cell (``iris.csv:14:3: column 'sepal_width': 'abc' is not a number``, where 3 is the
column's 1-based position). A CSV ``label`` column of class names becomes one-hot targets in the
order of ``classes`` when given, else in the order the classes first appear in the file.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from backprop_cli.errors import QUOTE_LIMIT, ConfigError, quoted
from backprop_cli.loading.yamlsafe import DATA_LIMIT, Document, Loc, Values, describe, load_file, read_text
from backprop_cli.model import budgets as budget
from backprop_cli.model.i18n import N_, _, ngettext
from backprop_cli.model.record import record
from backprop_cli.model.spec import DataSpec

ROW_KEYS = ("x", "y")


@record
class Expect:
    """What the network needs of every row."""

    inputs: tuple[str, ...]  # input names
    outputs: int  # units of the output layer
    target_range: tuple[float, float] | None = None  # e.g. (0, 1) for bce
    range_reason: str = ""  # why, e.g. "loss 'bce'"
    shape: tuple[int, ...] | None = None  # a shaped input ([C, H, W]): x may be nested lists of this shape


@record
class Columns:
    """A CSV column spec from the config's ``data`` mapping; ``doc`` locates its names."""

    doc: Document
    features: list[str] | None = None
    targets: list[str] | None = None
    label: str | None = None
    classes: list[str] | None = None


def _listed(names: Sequence[str], most: int = 12) -> str:
    """Names from a file (column headers, class labels) as a message lists them: odd ones quoted, the
    first ``most`` of them."""
    shown = [n if n.isprintable() and len(n) <= QUOTE_LIMIT else quoted(n) for n in names[:most]]
    return ", ".join(shown) + (_(" and {n} more").format(n=len(names) - most) if len(names) > most else "")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _vector(doc: Document, at: Loc, value: Any, size: int, what: str) -> list[float]:
    values = value if isinstance(value, list) else [value]
    for j, item in enumerate(values):
        if not _number(item):
            raise doc.error(
                _("got {value}; expected a number").format(value=describe(item)),
                (*at, j) if isinstance(value, list) else at,
            )
    if len(values) != size:
        message = ngettext(
            "{key} has {n} value; expected {size} ({what})",
            "{key} has {n} values; expected {size} ({what})",
            len(values),
        )
        raise doc.error(message.format(key=at[-1], n=len(values), size=size, what=_(what)), at)
    return [float(v) for v in values]


def _nested(doc: Document, at: Loc, value: list[Any], shape: tuple[int, ...]) -> list[Any]:
    """A sample given as nested lists of ``shape`` ([C][H][W]) as its C·H·W entries in row-major order."""
    shown = "×".join(map(str, shape))

    def walk(item: Any, where: Loc, axis: int) -> list[Any]:
        if axis == len(shape):
            if isinstance(item, list):
                raise doc.error(
                    _("a list nested {depth} deep; expected numbers in lists of shape {shape}").format(
                        depth=axis + 1, shape=shown
                    ),
                    where,
                )
            return [item]
        if not isinstance(item, list):
            raise doc.error(
                _("got {value}; expected a list of {size} (x has shape {shape})").format(
                    value=describe(item), size=shape[axis], shape=shown
                ),
                where,
            )
        if len(item) != shape[axis]:
            raise doc.error(
                ngettext(
                    "has {n} item on axis {axis}; expected {size} (x has shape {shape})",
                    "has {n} items on axis {axis}; expected {size} (x has shape {shape})",
                    len(item),
                ).format(n=len(item), axis=axis + 1, size=shape[axis], shape=shown),
                where,
            )
        return [v for j, sub in enumerate(item) for v in walk(sub, (*where, j), axis + 1)]

    flat = walk(value, at, 0)
    for index, item in enumerate(flat):
        if not _number(item):
            where = (*at, *(int(k) for k in _unravel(index, shape)))
            raise doc.error(_("got {value}; expected a number").format(value=describe(item)), where)
    return [float(v) for v in flat]


def _unravel(index: int, shape: tuple[int, ...]) -> list[int]:
    out = []
    for n in reversed(shape):
        index, k = divmod(index, n)
        out.append(k)
    return out[::-1]


def _check_range(expect: Expect, target: float) -> str | None:
    if expect.target_range is None:
        return None
    low, high = expect.target_range
    if low <= target <= high:
        return None
    interval = f"[{low:g}, {high:g}]"
    return _("target {target:g} is outside {interval}; expected a value in {interval} for {reason}").format(
        target=target, interval=interval, reason=expect.range_reason
    )


def rows_from_document(doc: Document, at: Loc, expect: Expect, *, source: str = "inline") -> DataSpec:
    """Inline rows: a non-empty list of ``{x, y}`` mappings at ``at`` in ``doc``."""
    rows: Any = doc.value
    for part in at:
        rows = rows[part]
    if not isinstance(rows, list) or not rows:
        raise doc.error(_("no data rows; expected a list of at least one row {x, y}"), at)
    xs, ys = [], []
    for i, row in enumerate(rows):
        here = (*at, i)
        if not isinstance(row, dict):
            raise doc.error(_("not a mapping; expected a row {x: [...], y: [...]}"), here)
        for key in row:
            if key not in ROW_KEYS:
                raise doc.error(
                    _("unknown field {name}; expected one of x, y").format(name=quoted(key)), (*here, key), key=True
                )
        for key in ROW_KEYS:
            if key not in row:
                raise doc.error(
                    _("missing required field {name}; expected a row {{x: [...], y: [...]}}").format(name=quoted(key)),
                    (*here, key),
                )
        x = row["x"]
        if expect.shape is not None and isinstance(x, list) and any(isinstance(v, list) for v in x):
            xs.append(_nested(doc, (*here, "x"), x, expect.shape))
        else:
            xs.append(_vector(doc, (*here, "x"), x, len(expect.inputs), _what_inputs(expect)))
        ys.append(_vector(doc, (*here, "y"), row["y"], expect.outputs, N_("the output layer's units")))
        for j, target in enumerate(ys[-1]):
            if (problem := _check_range(expect, target)) is not None:
                raise doc.error(problem, (*here, "y", j) if isinstance(row["y"], list) else (*here, "y"))
    return DataSpec(np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64), source)


def _what_inputs(expect: Expect) -> str:
    if expect.shape is None:
        return N_("the number of inputs")
    return _("the inputs: C·H·W of the shape {shape}, row-major, or nested lists").format(
        shape="×".join(map(str, expect.shape))
    )


def load_data_file(
    path: str | os.PathLike[str], shown: str, expect: Expect, columns: Columns | None = None
) -> DataSpec:
    """A CSV (by ``columns`` or by position) or a JSON/YAML file of rows (a list, or ``{data: [...]}``)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return _csv(path, shown, expect, columns)
    if suffix not in (".json", ".yaml", ".yml"):
        raise ConfigError(
            _("unknown data file type {suffix}; expected .csv, .json, .yaml or .yml").format(
                suffix=quoted(suffix or "without suffix")
            ),
            file=shown,
        )
    limits = budget.LIMITS
    with contextlib.suppress(OSError):  # a missing or unreadable file: read_text says so
        if (size := os.stat(path).st_size) > limits.rows_file_bytes:
            raise ConfigError(
                _(
                    "a {kind} data file of {size:,} bytes is too large to read row by row; expected at most {most}: "
                    "write the rows as a CSV file (up to {csv_most} and {cells:,} cells)"
                ).format(
                    kind=suffix[1:].upper(),
                    size=size,
                    most=budget.size_text(limits.rows_file_bytes),
                    csv_most=budget.size_text(DATA_LIMIT),
                    cells=limits.csv_cells,
                ),
                file=shown,
            )
    hint = _("; write the rows as a CSV file (up to {cells:,} cells)").format(cells=limits.csv_cells)
    values = Values(limits.data_values, _("data file"), hint)
    doc = load_file(path, shown, limit=limits.rows_file_bytes, what=N_("data file"), values=values)
    if doc.value is None:
        raise ConfigError(_("empty data file; expected a list of rows {x, y}"), file=shown)
    if isinstance(doc.value, dict):
        for key in doc.value:
            if key not in ("data", "description"):
                raise doc.error(
                    _("unknown field {name}; expected one of data, description").format(name=quoted(key)),
                    (key,),
                    key=True,
                )
        if "data" not in doc.value:
            raise doc.error(_("missing required field 'data'; expected the rows {x, y}"), ("data",))
        return rows_from_document(doc, ("data",), expect, source=shown)
    return rows_from_document(doc.rooted("data"), ("data",), expect, source=shown)


@record
class _Table:
    """A CSV file's header and its rows of cells, each with its line in the file."""

    shown: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line in the file, cells)

    def index(self, name: str) -> int:
        return self.header.index(name)

    def numbers(self, names: list[str]) -> list[list[float]]:
        """The named columns of every row, as finite floats."""
        where = [self.index(name) for name in names]
        return [[self.number(line, j, cells[j]) for j in where] for line, cells in self.rows]

    def number(self, line: int, j: int, cell: str) -> float:
        try:
            value = float(cell)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ConfigError(
                _("{value} is not a number; expected a finite number").format(value=quoted(cell)),
                file=self.shown,
                line=line,
                col=j + 1,
                path=f"column {quoted(self.header[j])}",
            )
        return value


def _read_table(text: str, shown: str, most: int | None = None) -> tuple[_Table, int | None]:
    """The header and rows of a CSV; with ``most``, the rows of at most that many cells, and the line of the
    row past them (None when the file ended first)."""
    import csv  # a CSV file's reader: not imported by a config whose rows are inline

    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    cells = 0
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                for j, name in enumerate(header):
                    if not name or name in header[:j]:
                        raise ConfigError(
                            (
                                _("duplicate column name {name} in the header; expected unique names")
                                if name
                                else _("empty column name {name} in the header; expected unique names")
                            ).format(name=quoted(name)),
                            file=shown,
                            line=reader.line_num,
                            col=j + 1,
                        )
                continue
            if len(record) != len(header):
                raise ConfigError(
                    _("row has {n} cells; expected {size} (the header's columns)").format(
                        n=len(record), size=len(header)
                    ),
                    file=shown,
                    line=reader.line_num,
                    col=1,
                )
            cells += len(record)
            if most is not None and cells > most:
                return _Table(shown, header, rows), reader.line_num
            rows.append((reader.line_num, record))
    except csv.Error as error:
        raise ConfigError(_("invalid CSV: {problem}").format(problem=error), file=shown, line=reader.line_num) from None
    if header is None:
        raise ConfigError(_("empty CSV file; expected a header row and data rows"), file=shown)
    if not rows:
        raise ConfigError(_("no data rows; expected at least one row after the header"), file=shown, line=1)
    return _Table(shown, header, rows), None


def _pick(table: _Table, expect: Expect, columns: Columns | None) -> tuple[list[str], list[str], str | None]:
    """(feature columns, target columns, label column) with every name checked against the header."""
    spec = columns or Columns(Document(None, table.shown))

    def check(names: list[str], field: str) -> list[str]:
        for k, name in enumerate(names):
            if name not in table.header:
                at: Loc = ("data", field) if field == "label" else ("data", field, k)
                raise spec.doc.error(
                    _("column {name} is not in {file}; expected one of {choices}").format(
                        name=quoted(name), file=table.shown, choices=_listed(table.header)
                    ),
                    at,
                )
        return names

    label = check([spec.label], "label")[0] if spec.label is not None else None
    targets = check(spec.targets, "targets") if spec.targets is not None else None
    used = [*(targets or []), *([label] if label else [])]
    if spec.features is not None:
        features = check(spec.features, "features")
        for k, name in enumerate(features):
            if name in used:
                raise spec.doc.error(
                    _("column {name} is both a feature and a target; expected it as one of them").format(
                        name=quoted(name)
                    ),
                    ("data", "features", k),
                )
    elif all(name in table.header and name not in used for name in expect.inputs):
        features = list(expect.inputs)
    elif columns is not None and used:
        features = [name for name in table.header if name not in used]
    else:
        features = [name for name in table.header if name not in used][: len(expect.inputs)]
    if targets is None and label is None:
        rest = [name for name in table.header if name not in features]
        targets = rest if spec.features is not None else rest[: expect.outputs]
    return features, targets or [], label


def _csv(path: str | os.PathLike[str], shown: str, expect: Expect, columns: Columns | None) -> DataSpec:
    text = read_text(path, shown, limit=DATA_LIMIT, what=N_("CSV file"))
    most = budget.LIMITS.csv_cells
    rows = text.count("\n")  # blank lines too: a bound, not a count
    columns_in_header = text.lstrip().split("\n", 1)[0].count(",") + 1
    if rows * columns_in_header > most:
        raise ConfigError(
            _(
                "about {rows:,} rows of {columns} columns is more than {most:,} cells; expected at most "
                "{most:,} (rows × columns): fewer rows, or only the columns the network uses"
            ).format(rows=rows, columns=columns_in_header, most=most),
            file=shown,
        )
    data = _fast_csv(text, shown, expect, columns)
    if data is None:
        data = _csv_cells(text, shown, expect, columns)
    return replace(data, file=os.fspath(path)) if data.label is not None else data


def _csv_cells(text: str, shown: str, expect: Expect, columns: Columns | None) -> DataSpec:
    """The CSV read cell by cell, so that the first bad cell is named by line, column and header.

    At most ``slow_csv_cells`` cells (a Python object each): a problem within them is reported where it
    is; a longer file without one is refused where the budget ends."""
    most = budget.LIMITS.slow_csv_cells
    table, stopped = _read_table(text, shown, most)
    if stopped is not None:
        _csv_table(table, shown, expect, columns, whole=False)  # a problem in the cells read is named first
        raise ConfigError(
            _(
                "this CSV is read cell by cell (it has quotes, control characters or odd spaces, or is not a table of "
                "numbers fast parsing takes), which reads at most {most:,} cells; expected a plain CSV (unquoted "
                "numbers and labels, up to {cells:,} cells) or a shorter file"
            ).format(most=most, cells=budget.LIMITS.csv_cells),
            file=shown,
            line=stopped,
        )
    return _csv_table(table, shown, expect, columns)


def _csv_table(table: _Table, shown: str, expect: Expect, columns: Columns | None, *, whole: bool = True) -> DataSpec:
    features, targets, label = _pick(table, expect, columns)
    _check_counts(shown, expect, columns, features, targets, label)
    xs = table.numbers(features)
    class_names: tuple[str, ...] | None = None
    if label is None:
        ys = table.numbers(targets)
        for (line, _), row in zip(table.rows, ys, strict=True):
            for n, target in zip(targets, row, strict=True):
                if (problem := _check_range(expect, target)) is not None:
                    raise ConfigError(
                        problem, file=shown, line=line, col=table.index(n) + 1, path=f"column {quoted(n)}"
                    )
    else:
        assert columns is not None
        class_names, ys = _one_hot(table, label, columns, expect, whole=whole)
    x, y = np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)
    return DataSpec(x, y, shown, class_names, features=tuple(features) if label else None, label=label)


# Control characters and non-ASCII spaces: numpy's parser skips some of them (\x1c-\x1f) as white space
# where Python's float() refuses the cell, so a file holding any goes to the cell-by-cell reader.
# (compiled by re when a CSV file is first read, not at import)
_ODD_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]"


_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"


def _has_odd_characters(text: str) -> bool:
    """Whether ``text`` holds any of _ODD_CHARACTERS; for ASCII text, by deleting the plain bytes (faster)."""
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _PLAIN_ASCII))
    return re.search(_ODD_CHARACTERS, text) is not None


def _fast_csv(text: str, shown: str, expect: Expect, columns: Columns | None) -> DataSpec | None:
    """What the cell-by-cell reader returns, for a plain CSV, with numpy parsing every number in one go.

    Plain: no quotes, every row with the header's number of cells, every used cell a finite number
    (as ``float`` reads it), targets in range, labels among the classes. On anything else this
    returns None and the cell-by-cell reader reads the file again and reports the first problem,
    located; so this never raises and never accepts what that reader would reject.
    """
    if '"' in text or _has_odd_characters(text):
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:  # a lone CR ends a line for the csv module: leave that to it
            return None
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 2:
        return None
    header = [cell.strip() for cell in lines[0].split(",")]
    if not all(header) or len(set(header)) != len(header):
        return None
    rows = lines[1:]
    commas = len(header) - 1
    if any(line.count(",") != commas for line in rows):
        return None
    try:
        features, targets, label = _pick(_Table(shown, header, []), expect, columns)
        _check_counts(shown, expect, columns, features, targets, label)
    except ConfigError:
        return None
    where = [header.index(name) for name in [*features, *targets]]
    used = sorted(set(where))
    if not used:
        return None
    try:
        values = np.loadtxt(rows, delimiter=",", comments=None, quotechar=None, usecols=used, ndmin=2)
    except ValueError:
        return None
    if values.shape != (len(rows), len(used)) or not np.isfinite(values).all():
        return None
    position = {j: k for k, j in enumerate(used)}
    picked = [position[j] for j in where[: len(features)]]
    xs = values if picked == list(range(values.shape[1])) else np.ascontiguousarray(values[:, picked])
    class_names: tuple[str, ...] | None = None
    if label is None:
        ys = np.ascontiguousarray(values[:, [position[j] for j in where[len(features) :]]])
        if expect.target_range is not None:
            low, high = expect.target_range
            if not ((ys >= low) & (ys <= high)).all():
                return None
    else:
        assert columns is not None
        j = header.index(label)
        right = commas - j  # cells after the label's
        cells = [(line.split(",", j + 1)[j] if j <= right else line.rsplit(",", right + 1)[1]).strip() for line in rows]
        names = list(columns.classes) if columns.classes is not None else list(dict.fromkeys(cells))
        if len(names) != expect.outputs:
            return None
        order: dict[str, int] = {}
        for k, name in enumerate(names):
            order.setdefault(name, k)  # the first, as list.index finds it
        if any(cell not in order for cell in cells):
            return None
        class_names = tuple(names)
        ys = np.eye(len(names))[[order[cell] for cell in cells]]
    return DataSpec(xs, ys, shown, class_names, features=tuple(features) if label else None, label=label)


def _check_counts(
    shown: str,
    expect: Expect,
    columns: Columns | None,
    features: list[str],
    targets: list[str],
    label: str | None,
) -> None:
    """As many feature columns as inputs and target columns as output units (a label column aside)."""
    for names, size, what, field in (
        (features, len(expect.inputs), N_("the number of inputs"), "features"),
        (targets, expect.outputs, N_("the output layer's units"), "targets"),
    ):
        if label is not None and field == "targets":
            continue
        if len(names) != size:
            if field == "features":
                counted = ngettext(
                    "{n} feature column ({names}); expected {size} ({what})",
                    "{n} feature columns ({names}); expected {size} ({what})",
                    len(names),
                )
            else:
                counted = ngettext(
                    "{n} target column ({names}); expected {size} ({what})",
                    "{n} target columns ({names}); expected {size} ({what})",
                    len(names),
                )
            message = counted.format(n=len(names), names=", ".join(names) or _("none"), size=size, what=_(what))
            if columns is not None and getattr(columns, field) is not None:
                raise columns.doc.error(message, ("data", field))
            raise ConfigError(
                _("{message}; name them with data.{field}").format(message=message, field=field),
                file=shown,
                line=1,
                col=1,
            )


def _one_hot(
    table: _Table, label: str, columns: Columns, expect: Expect, *, whole: bool = True
) -> tuple[tuple[str, ...], list[list[float]]]:
    """One-hot targets of the label column; ``whole``: the table is the whole file (else classes may be missing)."""
    j = table.index(label)
    names = list(columns.classes) if columns.classes is not None else []
    for line, cells in table.rows:
        value = cells[j].strip()
        if value not in names:
            if columns.classes is not None:
                raise ConfigError(
                    _("{value} is not one of the classes; expected one of {choices}").format(
                        value=quoted(value), choices=_listed(names)
                    ),
                    file=table.shown,
                    line=line,
                    col=j + 1,
                    path=f"column {quoted(label)}",
                )
            names.append(value)
    if len(names) != expect.outputs and (whole or len(names) > expect.outputs):
        where = ("data", "classes") if columns.classes is not None else ("data", "label")
        raise columns.doc.error(
            _("{n} classes ({names}); expected {size} (the output layer's units)").format(
                n=len(names), names=", ".join(names), size=expect.outputs
            ),
            where,
        )
    eye = np.eye(len(names))
    return tuple(names), [eye[names.index(cells[j].strip())].tolist() for _, cells in table.rows]
