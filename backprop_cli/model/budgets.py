"""Every budget of the tool's work, as numbers (the README's limits section states them): plain data
the loaders, the engine and the checks in :mod:`backprop_cli.budget` all read, so a test can set small
budgets instead of building giant inputs."""

from __future__ import annotations

from backprop_cli.errors import ConfigError
from backprop_cli.model.i18n import _, ngettext
from backprop_cli.model.record import record

MIB = 1024 * 1024


@record
class Budgets:
    """Every budget, by what it bounds (the README's limits section states them)."""

    # the run, as the trace's engine computes it (every value of every step recorded)
    trace_layer_steps: int = 10_000  # steps × layers
    trace_products: int = 250_000_000  # Σ over steps of batch rows × parameters
    # the run as `backprop train` computes it (nothing recorded)
    # an exact run (--exact): fractions cost about a thousand times a float's arithmetic
    exact_products: int = 250_000
    train_layer_steps: int = 20_000
    train_products: int = 10_000_000_000
    scheduled_rows: int = 5_000_000  # steps × batch size: the schedule is built whole before step 1
    rows: int = 3_000  # table rows rich lays out (text, svg; about 1.5 ms a row) with no cap or one above this
    document_rows: int = 20_000  # … Markdown, LaTeX and HTML lay out (0.1 to 0.2 ms a row)
    numbers: int = 3_500_000  # numbers in one JSON document
    names: int = 50_000  # named values laid out for names, answers, check and explain
    key_bytes: int = 5 * MIB  # an answers file: the most `answers` writes and `check` reads
    submissions: int = 20_000  # answers files one `check --key` batch grades
    batch_names: int = 5_000_000  # Σ over a batch's keys of the names each asks (each key's trace is computed)
    gradcheck_parameters: int = 2_000  # each checked with two forward passes, and a row of its table
    gradcheck_products: int = 2_000_000_000  # 2 × parameters × batch rows × parameters
    drawing: int = 10_000  # nodes and edges of a `graph` drawing or an exact trace's graph
    # files, before any of their content is used
    config_values: int = 100_000  # values (keys, numbers, strings) in a config file
    key_values: int = 101_000  # … in an answers file: a name and its value for each of `names` (and a header)
    data_values: int = 100_000  # values in a YAML or JSON data file
    rows_file_bytes: int = 4 * MIB  # a YAML or JSON data file (a CSV file may have 64 MiB)
    csv_cells: int = 5_000_000  # rows × columns of a CSV file
    slow_csv_cells: int = 500_000  # … read cell by cell (a CSV with quotes, odd characters or a problem to report)


LIMITS = Budgets()


def limits_of(limits: Budgets | None) -> Budgets:
    return limits or LIMITS  # looked up when called, so a test can replace LIMITS


def size_text(size: int) -> str:
    """``5 MiB``, or ``1,500 bytes`` for a size that is no whole number of MiB."""
    if size % MIB == 0:
        return _("{n} MiB").format(n=size // MIB)
    return ngettext("{n:,} bytes", "{n:,} bytes", size).format(n=size)


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


def guard_schedule(steps: int, size: int, *, limits: Budgets | None = None) -> None:
    """The engine's own bound on a schedule, for a caller that did not check the budget first (the
    commands do, located: check_schedule); here nothing says where the steps came from."""
    budget = limits_of(limits)
    if steps * size > budget.scheduled_rows:
        raise ConfigError(
            f"{plural(steps, 'step')} of {plural(size, 'row')} is too long a run; expected at most "
            f"{budget.scheduled_rows:,} rows in all (steps × batch size)",
            path="training",
        )
