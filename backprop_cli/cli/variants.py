"""``backprop variants``: one config (and with --answers a key and a blank sheet) per student of a roster."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from backprop_cli.cli.kit import handle_errors, lang_option
from backprop_cli.cli.names import filter_options
from backprop_cli.homework.variants import REASONS, Filters
from backprop_cli.model.i18n import N_


@dataclass
class _Variant:
    student: str
    attempt: int
    seed: str
    text: str
    chosen: list[Any] = field(default_factory=list)  # the NamedValues its key asks (the filters' choice)
    files: dict[str, str] = field(default_factory=dict)  # file name -> content
    redraws: Counter[str] = field(default_factory=Counter)


@click.command(short_help=N_("Write a variant of a template config for each student of a roster."))
@click.argument("template", type=click.Path(dir_okay=False))
@click.option("--roster", required=True, help="CSV with a header; the id column (id, student, SIS User ID, …).")
@click.option("--secret-file", required=True, help="The course secret (at least 16 bytes): seeds are HMACs of it.")
@click.option("-o", "--output", "out_dir", required=True, help="The folder to write the variants into.")
@click.option("--answers", "with_answers", is_flag=True, help="Also write each student's key and blank sheet.")
@filter_options
@click.option("--given", is_flag=True, help="Keys and sheets keep the given numbers (as `backprop answers --given`).")
@click.option(
    "--allow",
    multiple=True,
    type=click.Choice(list(REASONS)),
    help="Let variants with this flaw through (repeatable); every flaw is redrawn by default.",
)
@click.option(
    "--max-draws",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="Draws tried for one student before the template is refused.",
)
@lang_option()  # the files' comments and the lines printed; the YAML, names, seeds and hashes stay as they are
@handle_errors
def variants(
    template: str,
    roster: str,
    secret_file: str,
    out_dir: str,
    with_answers: bool,
    only_steps: tuple[int, ...],
    only_layers: tuple[str, ...],
    only_phases: tuple[str, ...],
    only_samples: tuple[int, ...],
    patterns: tuple[str, ...],
    given: bool,
    allow: tuple[str, ...],
    max_draws: int,
) -> None:
    """Draw a variant of TEMPLATE for each student of the roster and write it to OUTPUT as ID.yaml (with
    --answers also ID.key.yaml and ID.sheet.yaml), with manifest.csv listing student, attempt, seed, files
    and the reasons for redraws. A template is a network config in which values are draws:
    {uniform: [lo, hi], decimals: 2} or {uniform: [lo, hi], step: 0.25}, {integer: [lo, hi]},
    {choice: [relu, tanh]}, and {sample: [row, row, …], count: N} for data rows.

    The seed is an HMAC of the secret, the template's hash and the student's id: the course can draw
    the same variants again, a student cannot guess another's. A variant with every ReLU of a layer
    dead, a saturated output, a gradient asked for that is zero, a tie (a ReLU at z = 0, softmax logits
    tied) or the same numbers as another student's is redrawn (--allow lets one kind through); a
    student with no good variant in --max-draws draws is bad input, and nothing is written.

    The template's own `filters:` sets the thresholds (defaults: sigmoid outputs inside [0.01, 0.99],
    tanh inside [-0.99, 0.99], a gradient is zero below 1e-12) and the reasons it lets through, e.g.
    `filters: {saturated: {sigmoid: [0.05, 0.95]}, zero_gradient: 1e-9, allow: [tie]}`; it is not part
    of the variants' configs.

    \b
    Examples:
      backprop variants hw3.yaml --roster roster.csv --secret-file course.key -o variants/
      backprop variants hw3.yaml --roster roster.csv --secret-file course.key -o variants/ --answers --phase backward
    """
    from backprop_cli.budget import check_key_text
    from backprop_cli.cli.output import open_output
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework import variants as v
    from backprop_cli.homework.answers import config_identity
    from backprop_cli.loading.yamlsafe import CONFIG_LIMIT, config_values, describe, parse, read_bytes, read_text
    from backprop_cli.model import budgets
    from backprop_cli.model.i18n import _, ngettext, pgettext

    template_path = Path(template)
    doc = parse(
        read_text(template, template, limit=CONFIG_LIMIT, what="template config"),
        template,
        fmt="yaml",
        values=config_values(),
    )
    if not isinstance(doc.value, dict) or "network" not in doc.value:
        raise ConfigError(
            f"the template is {describe(doc.value)}; expected a network config with draws in it", file=template
        )
    doc, limits = v.split_template(doc)  # the template's filters: thresholds, and reasons let through
    draws = v.find_draws(doc)
    allow = tuple(dict.fromkeys((*allow, *limits.allow)))
    students, id_column = v.read_roster_column(read_text(roster, roster, limit=CONFIG_LIMIT, what="roster CSV"), roster)
    secret = v.check_secret(bytes(read_bytes(secret_file, secret_file, limit=4096, what="secret file")), secret_file)
    if len(students) > budgets.LIMITS.submissions:
        raise ConfigError(
            f"{len(students):,} students; expected at most {budgets.LIMITS.submissions:,} a run", file=roster
        )
    template_sha = config_identity(template_path)
    filters = (only_steps, only_layers, only_phases, only_samples, patterns)
    out = Path(out_dir)
    _refuse_stale(out, students, with_answers)
    seen: set[str] = set()
    made: list[_Variant] = []
    for student in students:
        made.append(
            _draw(
                student,
                doc.value,
                draws,
                secret,
                template_sha,
                template_path,
                out,
                filters,
                given,
                allow,
                max_draws,
                seen,
                limits,
            )
        )
    header = _("template {template} (sha256 {sha256}); seed = {derivation}").format(
        template=template, sha256=template_sha, derivation=_(v.DERIVATION)
    )
    for variant in made:
        variant.files[f"{variant.student}.yaml"] = variant.text
        if with_answers:
            for blank in (False, True):
                text = _answers(variant, template_path, given, blank=blank, header=header)
                check_key_text(text)
                variant.files[f"{variant.student}.{'sheet' if blank else 'key'}.yaml"] = text
    total = Counter[str]()
    for variant in made:
        total.update(variant.redraws)
    manifest = _manifest(made, with_answers)
    inputs = [template_path, Path(roster), Path(secret_file)]
    out.mkdir(parents=True, exist_ok=True)
    for variant in made:
        for name, text in variant.files.items():
            with open_output(str(out / name), inputs=inputs) as stream:
                stream.write(text)
    with open_output(str(out / "manifest.csv"), inputs=inputs) as stream:
        stream.write(manifest)
    # the reasons are --allow's names, and stay as they are
    redraws = ", ".join(f"{reason} {count}" for reason, count in total.most_common()) or pgettext("redraws", "none")
    each = ngettext("{n} draws each", "{n} draws each", len(draws)).format(n=len(draws))
    click.echo(
        ngettext(
            "{n} variants of {template} written to {folder} ({each}; redraws: {redraws})",
            "{n} variants of {template} written to {folder} ({each}; redraws: {redraws})",
            len(made),
        ).format(n=len(made), template=template, folder=out_dir, each=each, redraws=redraws)
    )
    canvas = next((c for c in v.CANVAS_ID_COLUMNS if c.lower() == id_column.lower()), None)
    grade_as = (
        _(" (grade into Canvas with `check --layout canvas --canvas-id {column}`)").format(column=repr(canvas))
        if canvas
        else ""
    )
    click.echo(
        _("{roster}: the ids are the column {column}{grade_as}").format(
            roster=roster, column=repr(id_column), grade_as=grade_as
        ),
        err=True,
    )


def _draw(
    student: str,
    template: Any,
    draws: list[Any],
    secret: bytes,
    template_sha: str,
    template_path: Path,
    out: Path,
    filters: tuple[Any, ...],
    given: bool,
    allow: tuple[str, ...],
    max_draws: int,
    seen: set[str],
    limits: Filters | None = None,
) -> _Variant:
    """The first acceptable variant for ``student``: attempts 1, 2, … until none of REASONS (but those
    allowed) holds; a located error when ``max_draws`` attempts all fail."""
    from backprop_cli import __version__
    from backprop_cli.cli.names import compute_values, name_filter, nothing_chosen
    from backprop_cli.errors import ConfigError
    from backprop_cli.homework import variants as v
    from backprop_cli.loading.config import load_config_text
    from backprop_cli.model.numbers import NumberFormat

    redraws = Counter[str]()
    for attempt in range(1, max_draws + 1):
        seed = v.seed_for(secret, template_sha, student, attempt)
        value = v.instantiate(template, draws, v.rng_for(seed))
        text = _variant_text(value, student, attempt, seed, template_path, template_sha, __version__, out)
        as_drawn = _variant_text(value, student, attempt, seed, template_path, template_sha, __version__, None)
        try:  # read with the template's folder as base: a data file named relative to it is found
            spec = load_config_text(as_drawn, source=str(template_path), base_dir=template_path.parent, fmt="yaml")
        except ConfigError as error:
            raise ConfigError(
                f"the variant drawn for {student!r} (attempt {attempt}) is not a valid config: {error.one_line()}; "
                "expected draws that always make a valid config",
                file=str(template_path),
            ) from None
        values = compute_values(spec, NumberFormat(), None, command="answers")
        only = name_filter(spec, *filters)
        chosen = [x for x in values if only.wants_quantity(x.quantity, x.name)]
        if not chosen:
            raise nothing_chosen(spec, NumberFormat(), only)
        asked = {x.name for x in chosen if given or not x.is_given}
        reasons = [r for r in v.degenerate(spec, values, asked, limits) if r not in allow]
        fingerprint = v.canonical(value)
        if fingerprint in seen and "duplicate" not in allow:
            reasons.append("duplicate")
        if not reasons:
            seen.add(fingerprint)
            return _Variant(student, attempt, seed, text, chosen, redraws=redraws)
        redraws.update(reasons)
    counts = ", ".join(f"{reason} {count}" for reason, count in redraws.most_common())
    # every reason a draw was refused for: letting only the commonest through would fail on the next
    allowing = " ".join(f"--allow {reason}" for reason, _ in redraws.most_common())
    raise ConfigError(
        f"no acceptable variant for student {student!r} in {max_draws} draws ({counts}); expected a template whose "
        f"ranges avoid degenerate variants, or {allowing}",
        file=str(template_path),
    )


def _variant_text(
    value: dict[str, Any],
    student: str,
    attempt: int,
    seed: str,
    template: Path,
    template_sha: str,
    version: str,
    out: Path | None,
) -> str:
    """The variant as YAML, its header saying where it came from; a data file's path re-anchored at ``out``."""
    import os

    import yaml

    from backprop_cli.loading.yamlsafe import comment_text
    from backprop_cli.model.i18n import _

    data = value.get("data")
    if out is not None and isinstance(data, dict) and isinstance(data.get("file"), str):
        anchored = Path(os.path.relpath((template.parent / data["file"]).resolve(), out.resolve()))
        value = {**value, "data": {**data, "file": anchored.as_posix()}}
    # comments only: the config's identity (answers.config_identity) is its parsed value, the same in every language
    header = [
        _("backprop variant for student {student}, drawn from {template}").format(
            student=comment_text(student), template=comment_text(str(template))
        ),
        _("template sha256 {sha256}; attempt {attempt}; seed {seed}").format(
            sha256=template_sha, attempt=attempt, seed=seed
        ),
        _("seed = HMAC-SHA256(course secret, template sha256, student, attempt); backprop-cli {version}").format(
            version=version
        ),
    ]
    header = [f"# {line}" for line in header]  # the values are made safe above; the catalogue's words are
    body = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)
    return "\n".join(header) + "\n" + body


def _answers(variant: _Variant, template: Path, given: bool, *, blank: bool, header: str) -> str:
    import hashlib
    import io

    from backprop_cli import __version__
    from backprop_cli.homework.answers import text_identity, write_answers
    from backprop_cli.model.i18n import _

    stream = io.StringIO()
    write_answers(
        stream,
        variant.chosen,
        config_ref=f"{variant.student}.yaml",
        sha256=text_identity(variant.text, f"{variant.student}.yaml"),
        raw_sha256=hashlib.sha256(variant.text.encode()).hexdigest(),
        label=_("{student}'s variant of {template}").format(student=variant.student, template=template),
        blank=blank,
        include_given=given,
        student=variant.student,
        header_lines=[
            header,
            _("attempt {attempt}, seed {seed}; backprop-cli {version}").format(
                attempt=variant.attempt, seed=variant.seed, version=__version__
            ),
        ],
    )
    return stream.getvalue()


def _refuse_stale(out: Path, students: list[str], with_answers: bool) -> None:
    """Bad input: a folder whose manifest.csv, from an earlier run, lists keys this run would not write
    and that are still there (students since left off the roster, or a run with --answers before one
    without). Left beside the new variants, `check --key` would grade them as students of the class (an
    old variant or blank sheet it never reads stays, harmless)."""
    import csv
    import io

    from backprop_cli.errors import ConfigError
    from backprop_cli.loading.yamlsafe import CONFIG_LIMIT

    manifest = out / "manifest.csv"
    if not manifest.is_file():
        return
    with open(manifest, "rb") as stream:  # this run's output, to be replaced: read, never noted as an input
        text = stream.read(CONFIG_LIMIT).decode("utf-8", errors="replace")
    writes = {f"{student}.key.yaml" for student in students} if with_answers else set()
    stale: list[tuple[int, str]] = []
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        name = row.get("key") or ""
        if name and name not in writes and Path(name).name == name and (out / name).is_file():
            stale.append((reader.line_num, name))
    if stale:
        shown = ", ".join(name for _, name in stale[:3]) + (", …" if len(stale) > 3 else "")
        keys = "key" if len(stale) == 1 else "keys"
        raise ConfigError(
            f"{len(stale):,} {keys} of an earlier run that this one would not write are still there ({shown}), "
            "and `check --key` would grade them with the class; expected a new folder for this roster (or those "
            "keys removed first)",
            file=str(manifest),
            line=stale[0][0],
        )


def _manifest(made: list[_Variant], with_answers: bool) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "attempt", "seed", "variant", "key", "sheet", "redraws"])
    for variant in made:
        key, sheet = (f"{variant.student}.key.yaml", f"{variant.student}.sheet.yaml") if with_answers else ("", "")
        reasons = "; ".join(f"{reason} {count}" for reason, count in variant.redraws.most_common())
        writer.writerow(
            [variant.student, variant.attempt, variant.seed, f"{variant.student}.yaml", key, sheet, reasons]
        )
    return out.getvalue()
