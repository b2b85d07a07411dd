"""A PrairieLearn question from a template: ``info.json``, ``question.html`` and a ``server.py`` whose
``generate(data)`` draws the variant of ``data["variant_seed"]`` with this tool's own variant code
(:mod:`backprop_cli.homework.variants`) and whose ``grade(data)`` marks each answer as ``check`` does.

PrairieLearn calls ``generate(data)`` with ``data["params"]``, ``data["correct_answers"]`` and
``data["variant_seed"]``, and ``grade(data)`` with ``data["submitted_answers"]`` too, reading back
``data["partial_scores"]``, ``data["score"]`` and ``data["feedback"]``.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from backprop_cli.errors import ConfigError
from backprop_cli.homework.answers import DEFAULT_TOLERANCE, Tolerance
from backprop_cli.homework.values import NamedValue, named_values
from backprop_cli.loading.config import load_config_text
from backprop_cli.loading.yamlsafe import parse
from backprop_cli.model.filters import Filter
from backprop_cli.model.spec import NetworkSpec

NAMESPACE = uuid.UUID("6f1d6c0e-1b5e-4c4a-9a53-2f5c1d0b7a15")  # this tool's uuid5 namespace for questions
MAX_ATTEMPTS = 50


def selection(only: Filter) -> dict[str, list[int] | list[str]]:
    """The filters that choose the asked names, normalised: order and repeats of an option do not count."""
    return {
        "steps": sorted(only.steps),
        "layers": sorted(only.layers),
        "phases": sorted(only.phases),
        "samples": sorted(only.samples),
        "patterns": sorted(set(only.patterns)),
    }


def question_id(out_dir: str) -> str:
    """The question's QID as PrairieLearn names it: its directory's path under the course's ``questions``
    folder (``hw3/q1``: QIDs may be nested), else, outside one, the directory's own name."""
    parts = Path(os.path.abspath(out_dir)).parts
    if "questions" in parts[:-1]:
        below = len(parts) - 1 - parts[::-1].index("questions")  # the nearest questions folder above
        return "/".join(parts[below + 1 :])
    return parts[-1]


def question_uuid(template_sha256: str, only: Filter, qid: str) -> str:
    """A stable uuid: the same template, filters and question directory give the same id on every export,
    while another phase asked or another directory is another question (PrairieLearn wants a uuid unique
    in the course, and a new one for a copied question)."""
    key = json.dumps(
        {"template": template_sha256, "filters": selection(only), "qid": qid}, sort_keys=True, separators=(",", ":")
    )
    return str(uuid.uuid5(NAMESPACE, key))


def answer_key(index: int) -> str:
    """PrairieLearn's answers-name for the index-th asked name (names hold dots and slashes)."""
    return f"q{index + 1}"


def values_of(text: str) -> tuple[NetworkSpec, list[NamedValue]]:
    """A variant's spec and every named value of its trace (inline data: a question holds no files)."""
    from backprop_cli.nn.engine import Engine

    spec = load_config_text(text, source="variant.yaml", base_dir=Path("."), fmt="yaml")
    return spec, list(named_values(Engine(spec).run()))


def draw(
    template: str, variant_seed: int | str, names: Sequence[str], allow: Sequence[str] = ()
) -> tuple[str, dict[str, float]]:
    """The variant of ``variant_seed``: its config as YAML and the values of ``names``. Attempt n draws
    from ``sha256("prairielearn\\0" + seed + "\\0" + n)``; degenerate variants (variants.REASONS but
    duplicate, which needs a class) are redrawn, as `backprop variants` does."""
    import yaml

    from backprop_cli.homework import variants as v

    doc, limits = v.split_template(parse(template, "template", fmt="yaml"))
    draws = v.find_draws(doc)
    allow = (*allow, *limits.allow)
    wanted = set(names)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        seed = hashlib.sha256(f"prairielearn\0{variant_seed}\0{attempt}".encode()).hexdigest()
        value = v.instantiate(doc.value, draws, v.rng_for(seed))
        text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)
        spec, values = values_of(text)
        by_name = {x.name: x.value for x in values}
        if not wanted <= set(by_name):
            continue
        reasons = [r for r in v.degenerate(spec, values, wanted, limits) if r not in allow]
        if not reasons:
            return text, {name: by_name[name] for name in names}
    raise ConfigError(f"no acceptable variant for seed {variant_seed!r} in {MAX_ATTEMPTS} draws", file="template")


def grade(
    names: Sequence[str],
    correct: Mapping[str, float],
    submitted: Mapping[str, Any],
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> tuple[dict[str, dict[str, Any]], float]:
    """Each answer marked as `backprop check` marks it (tolerant reading, the key's tolerance):
    PrairieLearn's partial_scores by answers-name, and the score (their mean, 0 to 1)."""
    from backprop_cli.homework.tolerant import NotANumber, read_number

    partial: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(names):
        key = answer_key(index)
        given = submitted.get(key)
        expected = correct[key]
        if given is None or (isinstance(given, str) and not given.strip()):
            partial[key] = {"score": 0.0, "weight": 1, "feedback": f"{name}: no answer given"}
            continue
        try:
            number = float(given) if isinstance(given, int | float) else read_number(str(given)).value
        except NotANumber as why:
            partial[key] = {"score": 0.0, "weight": 1, "feedback": f"{name}: invalid ({why})"}
            continue
        right = tolerance.accepts(number, expected)
        verdict = "correct" if right else "wrong"
        partial[key] = {"score": 1.0 if right else 0.0, "weight": 1, "feedback": f"{name}: {verdict}"}
    score = sum(p["score"] for p in partial.values()) / len(partial) if partial else 0.0
    return partial, score


# ---------------------------------------------------------------- the question's files


def info_json(template_sha256: str, only: Filter, qid: str, title: str) -> str:
    info = {
        "uuid": question_uuid(template_sha256, only, qid),
        "title": title,
        "topic": "Backpropagation",
        "tags": ["backprop-cli"],
        "type": "v3",
    }
    return json.dumps(info, indent=4) + "\n"


def question_html(names: Sequence[str], tolerance: Tolerance = DEFAULT_TOLERANCE) -> str:
    if tolerance.kind == "relative":
        compare = f'comparison="relabs" rtol="{tolerance.amount!r}" atol="1e-09"'
    elif tolerance.kind == "absolute":
        compare = f'comparison="relabs" rtol="0" atol="{tolerance.amount!r}"'
    else:
        compare = f'comparison="decdig" digits="{int(tolerance.amount)}"'
    lines = [
        "<pl-question-panel>",
        "  <p>Trace one step of backpropagation through this network (run <code>backprop trace</code> on it",
        "  to check yourself afterwards) and give each number by its stable name.</p>",
        "  <pre>{{params.config}}</pre>",
        "</pl-question-panel>",
        "",
    ]
    for index, name in enumerate(names):
        label = html.escape(name, quote=True)
        tag = f'<pl-number-input answers-name="{answer_key(index)}" label="{label}" {compare}></pl-number-input>'
        lines.append(tag)
    return "\n".join(lines) + "\n"


def server_py(template: str, names: Sequence[str], tolerance: Tolerance = DEFAULT_TOLERANCE) -> str:
    if not all(re.fullmatch(r"[\x20-\x7e]+", n) for n in names):
        raise ConfigError("a name with a character outside printable ASCII; expected stable names", path="--only")
    return f'''"""PrairieLearn server for a backprop-cli question: generated by `backprop export prairielearn`.

Needs backprop-cli installed in the grading image; generate() draws the variant of data["variant_seed"]
with its variant code, grade() marks each answer as `backprop check` does.
"""

from backprop_cli.homework import prairielearn as _pl
from backprop_cli.homework.answers import Tolerance as _Tolerance

TEMPLATE = {template!r}
NAMES = {list(names)!r}
TOLERANCE = _Tolerance({tolerance.kind!r}, {tolerance.amount!r})


def generate(data):
    config, values = _pl.draw(TEMPLATE, data["variant_seed"], NAMES)
    data["params"]["config"] = config
    data["params"]["names"] = NAMES
    for index, name in enumerate(NAMES):
        data["correct_answers"][_pl.answer_key(index)] = values[name]


def grade(data):
    partial, score = _pl.grade(NAMES, data["correct_answers"], data["submitted_answers"], TOLERANCE)
    data["partial_scores"] = partial
    data["score"] = score
    data.setdefault("feedback", {{}})["backprop"] = "; ".join(p["feedback"] for p in partial.values())
'''
