"""The Python API: load a config, trace it, and read its quantities by name.

    >>> import backprop_cli as bp
    >>> t = bp.trace("pytorch_snippet")
    >>> t["out.dL_dw1_1"].value
    -24.0
    >>> t.explain("out.dL_dw1_1").splitlines()[0]
    'out.dL_dw1_1 = out.delta1 × x = (-8) × 3 = -24'

Everything here is what the ``backprop`` command does, as values: a :class:`Trace` holds the run's
quantities (:class:`~backprop_cli.model.quantity.Quantity`) in the order the trace shows them, and
renders in Jupyter (``_repr_html_``, the HTML document) and in rich (``__rich__``, the terminal
tables). Nothing is kept between calls: two traces in one process never affect each other.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backprop_cli.model.quantity import Block, Quantity

Source = str | os.PathLike[str] | Mapping[str, Any]


def load(source: Source, *, data: str | os.PathLike[str] | None = None) -> Any:
    """A config as the engine runs it: a file path, a built-in example's name, or a mapping shaped
    like a config file (``{"network": …, "loss": …, "data": […]}`` or ``{"expression": …, "values": …}``).

    Returns a :class:`~backprop_cli.model.spec.NetworkSpec` or an expression program; bad input raises
    :class:`~backprop_cli.errors.ConfigError` with the one-line located message the command prints.
    """
    if isinstance(source, Mapping):
        return _load_mapping(source, data)
    from backprop_cli.loading.config import load_network
    from backprop_cli.loading.expression import is_expression, load_expression

    name = os.fspath(source)
    if is_expression(name):
        if data is not None:
            from backprop_cli.errors import ConfigError

            raise ConfigError("an expression config has no data rows; expected no data", path="data")
        return load_expression(name, None, ())[0]
    return load_network(name, None if data is None else os.fspath(data))[0]


def _load_mapping(config: Mapping[str, Any], data: str | os.PathLike[str] | None) -> Any:
    from backprop_cli.loading.config import load_config_text

    text = json.dumps(config, indent=1, ensure_ascii=False, default=_plain)
    if "expression" in config:
        from backprop_cli.loading.expression import load_expression_text

        return load_expression_text(text, "<config>")
    return load_config_text(text, source="<config>", base_dir=Path.cwd(), data_override=data, fmt="json")


def _plain(value: Any) -> Any:
    """numpy arrays and numbers in a config mapping, as JSON reads them."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not a config value")


def trace(
    config: Source | Any,
    *,
    steps: int | None = None,
    exact: bool = False,
    data: str | os.PathLike[str] | None = None,
    lang: str = "en",
) -> Trace:
    """Run every configured step of ``config`` (or ``steps`` of them) and keep its quantities.

    ``config`` is anything :func:`load` takes, or what it returns. ``exact``: fractions, for rational
    networks and expressions. ``lang`` (``en``, ``ru``, ``ja``, ``ar``): the language of the headings
    and notes the trace renders in; names, formulas and numbers are the same in every language. The work
    is bounded as the command's is (see the README's limits).
    """
    from backprop_cli.model.i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    spec: Any = config if _is_spec(config) else load(config, data=data)
    if hasattr(spec, "graph"):  # an expression program
        from backprop_cli.graph.engine import compute

        return Trace("expression", spec, exact, _ExpressionRun(compute(spec, exact=exact)), lang=lang)
    if steps is not None:
        spec = replace(spec, training=replace(spec.training, steps=steps, epochs=None))
    from backprop_cli.budget import check_run
    from backprop_cli.nn.engine import Engine

    check_run(spec, exact=exact)  # the command's bound, before any work: a ConfigError saying how to narrow it

    engine = Engine(spec, exact=exact)
    before = engine.loss()
    records = list(engine.run())
    return Trace("network", spec, exact, _NetworkRun(tuple(records), before, engine.loss()), lang=lang)


def expression(program: str, *, exact: bool = False, **values: float | str) -> Trace:
    """Trace an expression program: ``bp.expression("f = (x + y) * z", x=-2, y=5, z=-4)``."""
    from backprop_cli.loading.expression import expression_from_option

    spec = expression_from_option(program, [f"{name}={value}" for name, value in values.items()])
    return trace(spec, exact=exact)


def train(
    config: Source | Any,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    each_pass: bool = False,
    data: str | os.PathLike[str] | None = None,
) -> Any:
    """Train ``config`` in the engine's fast mode and return the run (``backprop train`` as a value):
    the loss history, the final parameters, the gradient diagnostics."""
    from backprop_cli.nn.train import train as run

    spec: Any = config if _is_spec(config) else load(config, data=data)
    if steps is not None or epochs is not None:
        spec = replace(spec, training=replace(spec.training, steps=steps, epochs=epochs))
    from backprop_cli.budget import check_train

    check_train(spec, output_format="text", max_rows=0, listed=False, each_pass=each_pass)
    return run(spec, each_pass=each_pass)


def _is_spec(value: Any) -> bool:
    return hasattr(value, "normalised") and not isinstance(value, Mapping)


@dataclass(frozen=True)
class _NetworkRun:
    records: tuple[Any, ...]  # StepRecord, one per step
    loss_before: Any
    loss_after: Any

    def blocks(self) -> Iterator[Block]:
        from backprop_cli.model.numbers import NumberFormat
        from backprop_cli.nn.blocks import step_blocks

        for rec in self.records:
            yield from step_blocks(rec, NumberFormat())


@dataclass(frozen=True)
class _ExpressionRun:
    result: Any  # ExprTrace

    def blocks(self) -> Iterator[Block]:
        from backprop_cli.graph.blocks import expr_blocks

        return expr_blocks(self.result)


@dataclass(frozen=True)
class Trace:
    """One run's quantities, by stable name and in the order the trace shows them."""

    kind: str  # "network" or "expression"
    spec: Any
    exact: bool
    run: _NetworkRun | _ExpressionRun = field(repr=False)
    lang: str = "en"  # the language of its headings and notes (model/i18n.py), set for each rendering
    _by_name: dict[str, Quantity] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from backprop_cli.model.i18n import using

        with using(self.lang):
            for block in self.run.blocks():
                for q in block.quantities():
                    self._by_name.setdefault(q.name, q)  # a name shown twice (the summary's loss) comes once

    # ------------------------------------------------------------ reading

    def __getitem__(self, name: str) -> Quantity:
        try:
            return self._by_name[name]
        except KeyError:
            from backprop_cli.model.names import closest_names

            close = closest_names(name, list(self._by_name))
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise KeyError(f"no quantity {name!r} in this trace{hint}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Quantity]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        return list(self._by_name)

    def quantities(
        self,
        *,
        phase: str | Sequence[str] | None = None,
        layer: str | Sequence[str] | None = None,
        step: int | Sequence[int] | None = None,
        sample: int | Sequence[int] | None = None,
        name: str | None = None,
    ) -> list[Quantity]:
        """The quantities the filters choose, as ``backprop names`` does: ``sample`` is a 1-based data
        row, ``name`` a glob (``"*.dL_dw*"``). A quantity of no layer (an input) stays under ``layer``."""

        def chosen(value: Any, wanted: Any) -> bool:
            if wanted is None:
                return True
            return value in ((wanted,) if isinstance(wanted, str | int) else tuple(wanted))

        return [
            q
            for q in self
            if chosen(q.phase, phase)
            and (q.layer is None or chosen(q.layer, layer))
            and chosen(q.step, step)
            and (q.sample is None or chosen(q.sample + 1, sample))
            and (name is None or fnmatch.fnmatchcase(q.name, name))
        ]

    @property
    def records(self) -> tuple[Any, ...]:
        """A network's step records (the engine's arrays: z, a, δ, gradients …), one per step."""
        return self.run.records if isinstance(self.run, _NetworkRun) else ()

    def explain(self, name: str, depth: int | None = None, *, precision: int = 6) -> str:
        """How ``name`` is derived, factor by factor down to inputs and parameters (``backprop explain``)."""
        from backprop_cli.homework.explain import derive, render_text
        from backprop_cli.homework.values import shown_value
        from backprop_cli.model.numbers import NumberFormat

        self[name]  # a located KeyError for a name that is not here
        fmt = NumberFormat(precision)
        table = {q.name: shown_value(q, fmt) for q in self}
        return render_text(derive(name, table, depth))

    # ------------------------------------------------------------ writing

    def to_json(self, *, quantities: bool = False) -> str:
        """The trace document (version 2), as ``backprop trace --format json`` writes it."""
        from backprop_cli.render.json_out import dumps

        return dumps(self.to_dict(quantities=quantities))

    def to_dict(self, *, quantities: bool = False) -> dict[str, Any]:
        from backprop_cli.model.numbers import NumberFormat

        if isinstance(self.run, _ExpressionRun):
            from backprop_cli.layout.json_document import expression_document

            return expression_document(self.spec, self.run.result, quantities=quantities)
        from backprop_cli.layout.json_document import head, network_step
        from backprop_cli.model.filters import Filter
        from backprop_cli.model.names import NAME_PATTERNS
        from backprop_cli.model.numbers import exact_text

        def number(value: Any) -> Any:
            return exact_text(value) if self.exact else float(value)

        steps = [network_step(rec, Filter(), quantities=quantities, fmt=NumberFormat()) for rec in self.records]
        summary = {
            "loss_before": number(self.run.loss_before),
            "loss_after": number(self.run.loss_after),
            "steps": len(self.records),
        }
        return {
            **head("network", self.exact, self.spec.normalised, self.spec.inputs, NAME_PATTERNS),
            "steps": steps,
            "summary": summary,
        }

    def render(self, fmt: str = "text", *, width: int = 100, precision: int = 6) -> str:
        """The trace as a document: ``text`` (the terminal tables, no colour), ``markdown``, ``latex``,
        ``html`` or ``svg``."""
        from backprop_cli.render import FORMATS

        if fmt != "text" and fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected text or one of {', '.join(FORMATS)}")
        from backprop_cli.model.i18n import using

        with using(self.lang):
            return self._render(fmt, width, precision)

    def _render(self, fmt: str, width: int, precision: int) -> str:
        import io

        from backprop_cli.model.numbers import NumberFormat

        stream = io.StringIO()
        if fmt == "text":
            from backprop_cli.render.console import make_console

            console = make_console(stream, width)
            console.print(self._renderable(NumberFormat(precision)))
        elif isinstance(self.run, _NetworkRun):
            from backprop_cli.layout.document import TraceJob
            from backprop_cli.model.filters import Filter
            from backprop_cli.render import writer

            run = self.run
            job = TraceJob(
                self.spec,
                run.records,
                len(run.records),
                NumberFormat(precision),
                Filter(),
                run.loss_before,
                lambda: run.loss_after,
                0,
                width,
                self.exact,
            )
            writer(fmt)(job, stream)
        else:
            from backprop_cli.render import document_writer

            document_writer(fmt)(self._expression_document(NumberFormat(precision)), stream, width)
        return stream.getvalue()

    # Jupyter shows a Trace as its HTML document (IPython asks for these by name): the page's body,
    # without its stylesheet, which would restyle the notebook around it
    def _repr_html_(self) -> str:
        page = self.render("html")
        body = page[page.index("<body>") + len("<body>") : page.rindex("</body>")]
        return f'<div class="backprop-trace">{body}</div>'

    def _repr_markdown_(self) -> str:
        return self.render("markdown")

    def _expression_document(self, fmt: Any) -> Any:
        from backprop_cli.layout.expression import expression_document

        assert isinstance(self.run, _ExpressionRun)
        return expression_document(self.spec, self.run.result, fmt)

    def _renderable(self, fmt: Any) -> Any:
        from rich.console import Group

        if isinstance(self.run, _NetworkRun):
            from backprop_cli.render.terminal import trace_outputs

            pieces = trace_outputs(
                self.spec, self.run.records, steps=len(self.run.records), fmt=fmt, max_rows=0, exact=self.exact
            )
            return Group(*(piece.renderable for piece in pieces))
        from backprop_cli.render.terminal import expression_outputs

        return Group(*expression_outputs(self._expression_document(fmt)))

    def __rich__(self) -> Any:
        from backprop_cli.model.i18n import using
        from backprop_cli.model.numbers import NumberFormat

        with using(self.lang):
            return self._renderable(NumberFormat())

    def render_text(self) -> str:
        return self.render("text")


__all__ = ["Quantity", "Trace", "expression", "load", "trace", "train"]
