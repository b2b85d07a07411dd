"""The names contract: every number of a trace has a stable, short, 1-based name, built here.

Names are short, 1-based and textbook-like (``h.z1``, ``o.w2_1``, ``h.dL_dw1_2``). A name gets a
``stepN/`` qualifier when the run has more than one step and a ``sampleN/`` qualifier (N = data row,
1-based) when its batch has more than one sample; a name without ``sampleN/`` in a multi-sample
batch is the reduced (mean or sum) value. The README's Names section documents the scheme.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_STEP = re.compile(r"step(\d+)/")

NAME_PATTERNS: dict[str, str] = {
    "input": "x{i} (or the configured input name)",
    "weight": "{layer}.w{j}_{i}  (into neuron j from input i)",
    "bias": "{layer}.b{j}",
    "weighted_sum": "{layer}.z{j}",
    "activation": "{layer}.a{j}",
    "loss": "loss",
    "loss_term": "loss.term{k}",
    "upstream": "{layer}.dL_da{j}",
    "local_derivative": "{layer}.da_dz{j}  (softmax: {layer}.da{k}_dz{j})",
    "chain": "{layer}.chain{j}  (the textbook product ∂L/∂a × ∂a/∂z)",
    "delta": "{layer}.delta{j}",
    "weight_gradient": "{layer}.dL_dw{j}_{i}",
    "bias_gradient": "{layer}.dL_db{j}",
    "updated": "{parameter}.new  e.g. h.w1_2.new",
    "optimizer_state": "{parameter}.{state}",
    "loss_after": "loss.after",
    "loss_change": "loss.change",
    "target": "y{k}",
    "dropout_mask": "{layer}.mask{j}  (0: dropped, 1: kept)",
    "batch_norm": "{layer}.mean{j}, {layer}.var{j} (the batch's), {layer}.xhat{j}, {layer}.dL_dxhat{j}, "
    "{layer}.mean_dxhat{j}, {layer}.mean_dxhat_xhat{j}; parameters {layer}.gamma{j}, {layer}.beta{j}",
    "pooling": "{layer}.a{o} (window o's value), {layer}.win{o} (max: its winning cell's place in the window), "
    "{layer}.delta{o}; entries of shaped values numbered row-major, channel first",
    "batch_norm_channels": "on a shaped input {layer}.mean{c}, {layer}.var{c}, {layer}.gamma{c}, "
    "{layer}.dL_dgamma{c} … per channel c; {layer}.xhat{j}, {layer}.a{j} per entry j",
    "convolution": "{layer}.w{o}_{c}_{u}_{v} (filter o, input channel c, kernel row u, column v; conv1d "
    "{layer}.w{o}_{c}_{u}), {layer}.b{o}; {layer}.z{o}_{i}_{j}, {layer}.a{o}_{i}_{j}, {layer}.delta{o}_{i}_{j} "
    "(output channel o, row i, column j; conv1d {layer}.z{o}_{i}), {layer}.dL_dw{o}_{c}_{u}_{v}",
    "residual": "{block}.skip{j}, {block}.z{j} (branch + skip), {block}.a{j}; inner layers {block}.{layer}.…; "
    "backward {block}.branch.dL_da{j} (through the branch), {block}.dL_dskip{j} (along the skip), "
    "{block}.dL_dx{j} (their sum)",
    "qualifiers": "step{n}/ when the run has several steps, sample{r}/ (data row r, 1-based) when a batch "
    "has several samples",
}


def _own_names() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(kind, pattern, regex) of every name the trace makes itself, outside a layer: ``loss``, ``y{k}`` …

    Read off NAME_PATTERNS, so a name added to the contract is reserved with it: a pattern's first word,
    literal text kept and each ``{placeholder}`` a 1-based number. Patterns that start with a placeholder
    live inside a layer or a parameter (``h.z1``); the qualifiers hold a ``/`` no configured name has.
    """
    own = []
    for kind, pattern in NAME_PATTERNS.items():
        head = pattern.split()[0]
        if kind in ("input", "qualifiers") or head.startswith("{"):
            continue
        regex = "".join(
            "[1-9][0-9]*" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{\w+\})", head) if part
        )
        own.append((kind.replace("_", " "), head, re.compile(regex)))
    return tuple(own)


OWN_NAMES = _own_names()


def reserved_input(name: str) -> tuple[str, str] | None:
    """(kind, pattern) of the trace's own name that an input called ``name`` would be, or None.

    An input row is named by the input's name alone, so an input called ``loss`` would be a second
    ``loss`` row of the trace (and answers keyed by name would keep only one of them).
    """
    return next(((kind, pattern) for kind, pattern, regex in OWN_NAMES if regex.fullmatch(name)), None)


def reserved_layer(name: str) -> tuple[str, str] | None:
    """(kind, pattern) of the trace's own dotted name whose first part is ``name``, or None: a layer
    called ``loss`` would name its numbers ``loss.z1`` …, read as kin of the trace's ``loss.term1``."""
    return next(((kind, p) for kind, p, _ in OWN_NAMES if "." in p and p.split(".", 1)[0] == name), None)


def qualify(base: str, *, step: int | None = None, sample: int | None = None) -> str:
    """Prefix a name with its step and sample (row index 0-based in, 1-based out) qualifiers."""
    parts = []
    if step is not None:
        parts.append(f"step{step}/")
    if sample is not None:
        parts.append(f"sample{sample + 1}/")
    return "".join(parts) + base


def weight_name(layer: str, j: int, i: int) -> str:
    """Weight into neuron j from input i, both 0-based in, 1-based out."""
    return f"{layer}.w{j + 1}_{i + 1}"


def cell_name(layer: str, quantity: str, index: Sequence[int]) -> str:
    """An entry of a shaped value by its 0-based index, 1-based out: ``c1.z2_3_4`` (channel 2, row 3,
    column 4), ``c1.w2_1_3_3`` (filter 2, input channel 1, kernel row 3, column 3)."""
    return f"{layer}.{quantity}{'_'.join(str(i + 1) for i in index)}"


def bias_name(layer: str, j: int) -> str:
    return f"{layer}.b{j + 1}"


def neuron_name(layer: str, quantity: str, j: int) -> str:
    """``h.z1``, ``h.a1``, ``h.delta1``, ``h.dL_da1``, ``h.da_dz1`` ..."""
    return f"{layer}.{quantity}{j + 1}"


def upstream_name(below: str, entry: str, i: int) -> str:
    """∂L/∂a of entry ``i`` of the layer ``below`` (named ``entry`` as its output), as that layer names
    its own: ``h.a3`` → ``h.dL_da3``, whatever follows ``{below}.a``; by position where it does not."""
    prefix = f"{below}.a"
    return f"{below}.dL_da{entry[len(prefix) :]}" if entry.startswith(prefix) else neuron_name(below, "dL_da", i)


def grad_name(layer: str, j: int, i: int | None = None) -> str:
    return f"{layer}.dL_dw{j + 1}_{i + 1}" if i is not None else f"{layer}.dL_db{j + 1}"


def param_name(layer: str, kind: str, index: tuple[int, ...]) -> str:
    """``h.w1_2``, ``h.b1``; a parameter of another kind by its kind: ``bn.gamma1``, ``bn.beta1``."""
    if kind == "weights":
        return cell_name(layer, "w", index)  # a dense layer's (j, i), a conv layer's (o, c, u, v)
    return bias_name(layer, index[0]) if kind == "biases" else f"{layer}.{kind}{index[0] + 1}"


def param_grad_name(layer: str, kind: str, index: tuple[int, ...]) -> str:
    """``h.dL_dw1_2``, ``h.dL_db1``; another kind's: ``bn.dL_dgamma1``."""
    if kind == "weights":
        return cell_name(layer, "dL_dw", index)
    return grad_name(layer, index[0]) if kind == "biases" else f"{layer}.dL_d{kind}{index[0] + 1}"


def base_name(name: str) -> str:
    """The name without its qualifiers: ``step2/sample3/h.z1`` → ``h.z1``."""
    return name.rsplit("/", 1)[-1]


def closest_names(name: str, names: Sequence[str], n: int = 3) -> list[str]:
    """The real names nearest to a misspelt one (difflib), for 'did you mean' messages."""
    import difflib

    close = difflib.get_close_matches(name, names, n=n, cutoff=0.6)
    if close:
        return close
    # a right base name with a missing or wrong qualifier: ``h.z1`` in a multi-step run
    base = name.rsplit("/", 1)[-1]
    return [candidate for candidate in names if candidate.rsplit("/", 1)[-1] == base][:n]


def steps_named(names: Iterable[str]) -> frozenset[int]:
    """The steps that names refer to (``step3/…`` is step 3; a name without ``stepN/`` is in step 1)."""
    return frozenset(int(m.group(1)) if (m := _STEP.match(name)) else 1 for name in names)


# ---------------------------------------------------------------- matrices (the matrix view's names)

#: a matrix's kind -> its entries' quantity and suffix: W holds L.wj_i, W.new L.wj_i.new, dL_dW L.dL_dwj_i
MATRIX_KINDS = {"W": ("w", ""), "W.new": ("w", ".new"), "dL_dW": ("dL_dw", "")}
#: a vector's kind -> its entries' quantity and suffix: delta holds L.deltaj, b.new L.bj.new …
VECTOR_KINDS = {
    "b": ("b", ""),
    "b.new": ("b", ".new"),
    "z": ("z", ""),
    "a": ("a", ""),
    "delta": ("delta", ""),
    "dL_da": ("dL_da", ""),
    "da_dz": ("da_dz", ""),
    "dL_db": ("dL_db", ""),
}
_ALIAS = re.compile(
    r"(?P<prefix>(?:step\d+/)?(?:sample\d+/)?)(?P<layer>[^/.]+)\.(?P<kind>W\.new|b\.new|dL_dW|W|b|z|a|delta|dL_da|da_dz|dL_db)"
)


def matrix_names(alias: str, rows: int, columns: int) -> list[list[str]] | None:
    """The entries' names of a matrix or vector named ``alias`` (``step1/out.W``, ``sample2/h.delta``) of
    ``rows`` × ``columns`` (a vector: a column, or a row of its entries); None when it names no matrix."""
    match = _ALIAS.fullmatch(alias)
    if match is None:
        return None
    prefix, layer, kind = match["prefix"], match["layer"], match["kind"]
    if kind in MATRIX_KINDS:
        quantity, suffix = MATRIX_KINDS[kind]
        return [[f"{prefix}{layer}.{quantity}{j + 1}_{i + 1}{suffix}" for i in range(columns)] for j in range(rows)]
    quantity, suffix = VECTOR_KINDS[kind]
    if columns != 1 and rows != 1:
        return None  # a vector is one column (or one row)
    count = max(rows, columns)
    names = [f"{prefix}{layer}.{quantity}{j + 1}{suffix}" for j in range(count)]
    return [[n] for n in names] if columns == 1 else [names]
