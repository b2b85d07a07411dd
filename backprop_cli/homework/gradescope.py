"""The Gradescope autograder: what its zip holds, and the ``results.json`` a run writes.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when the image is built,
and for each submission runs ``run_autograder`` with the student's files in ``/autograder/submission/``
and ``/autograder/submission_metadata.json`` beside them; it reads ``/autograder/results/results.json``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backprop_cli.homework.check import CheckResult, revealed
from backprop_cli.homework.values import NamedValue
from backprop_cli.model.numbers import NumberFormat

SETTINGS = "backprop-autograder.json"
ROOT_VARIABLE = "BACKPROP_AUTOGRADER_ROOT"  # where /autograder is, for a simulated layout
PYTHON_VARIABLE = "BACKPROP_PYTHON"  # the Python that runs the tool (python3 by default)
MATCH = ("sid", "email", "id", "name")  # which field of submission_metadata.json's user is the student id
_SEED = re.compile(r"seed ([0-9a-f]{64})")


CONSTRAINTS = "constraints.txt"  # the dependencies' versions, as installed where the zip was written


def setup_sh(wheel: str) -> str:
    """Installs the tool from the wheel in the zip (it is on no package index), its dependencies at
    the versions of the machine that wrote the zip (constraints.txt)."""
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, building the autograder image: install the backprop-cli this zip carries
# ({wheel}, the version that wrote the zip; it is not on PyPI) and its dependencies at the versions
# pinned in {CONSTRAINTS}.
set -euo pipefail
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
  apt-get update && apt-get install -y python3 python3-pip
fi
python3 -m pip install --constraint "$here/{CONSTRAINTS}" "$here/{wheel}"
"""


def run_autograder() -> str:
    return f"""#!/usr/bin/env bash
# Gradescope runs this for each submission: grade it and write /autograder/results/results.json.
# {ROOT_VARIABLE} moves /autograder (a simulated layout); {PYTHON_VARIABLE} chooses the Python.
exec "${{{PYTHON_VARIABLE}:-python3}}" -m backprop_cli autograder run-gradescope
"""


def student_id(metadata: Mapping[str, Any], match: str) -> str | None:
    """The id of the (first) submitter in submission_metadata.json, by the field ``match``."""
    users = metadata.get("users")
    if not isinstance(users, list) or not users or not isinstance(users[0], dict):
        return None
    value = users[0].get(match)
    return str(value) if value not in (None, "") else None


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~])")


def code_span(text: str) -> str:
    """Text (a student's) as one Markdown code span that it cannot break out of: fenced by one more
    backtick than its longest run of them, on one line (CommonMark, "Code spans")."""
    flat = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def plain_markdown(text: str) -> str:
    """Text that may quote a student's (a note, a reason) as Markdown that renders it as written:
    every character Markdown gives a meaning to backslash-escaped, no raw HTML."""
    return _MARKDOWN.sub(r"\\\1", text)


def read_metadata(path: Path, match: str) -> tuple[str | None, str]:
    """The student id in Gradescope's submission_metadata.json, else None and what is wrong with it."""
    import json

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, f"{path.name} is missing (Gradescope writes it beside the submission)"
    except (OSError, UnicodeDecodeError) as error:
        return None, f"{path.name} cannot be read ({type(error).__name__})"
    try:
        metadata = json.loads(text)
    except ValueError as error:
        return None, f"{path.name} is not valid JSON ({error})"
    if not isinstance(metadata, dict):
        return None, f"{path.name} is not a JSON object"
    users = metadata.get("users")
    if not isinstance(users, list) or not users or not isinstance(users[0], dict):
        return None, f"{path.name} lists no submitter (its users is {json.dumps(users)[:60]})"
    student = student_id(metadata, match)
    if student is None:
        return None, f"{path.name}'s first user has no {match!r} (the autograder matches keys by it)"
    return student, ""


def answers_candidates(folder: Path) -> list[Path]:
    """The YAML/JSON files of a submission and the symbolic links in it (never followed: see links)."""
    every = sorted(folder.rglob("*")) if folder.is_dir() else []
    return [p for p in every if p.is_symlink() or (p.is_file() and p.suffix.lower() in (".yaml", ".yml", ".json"))]


def links(folder: Path) -> list[Path]:
    """The symbolic links of a submission: not followed (one could point at the keys)."""
    return [p for p in answers_candidates(folder) if p.is_symlink()]


def find_submission(folder: Path) -> Path | None:
    """The answers file of a submission: the only YAML/JSON file, else the first that says it is one
    (``format: backprop-answers``; one named like a sheet first), else one named like a sheet."""
    from backprop_cli.homework.gradebook import is_answers_file

    files = [p for p in answers_candidates(folder) if not p.is_symlink()]
    if len(files) <= 1:
        return files[0] if files else None
    named = [p for p in files if p.name.endswith((".sheet.yaml", "answers.yaml", "sheet.yaml"))]
    others = [p for p in files if p not in named]
    answers = [p for p in [*named, *others] if is_answers_file(p)]
    return answers[0] if answers else named[0] if named else files[0]


def seed_of(key_text: str) -> str | None:
    """The variant's seed a key from `backprop variants --answers` records in its header."""
    match = _SEED.search(key_text)
    return match.group(1) if match else None


def failure(output: str, visibility: str = "visible") -> dict[str, Any]:
    """A results.json that gives no score and says why (Gradescope shows ``output``)."""
    return {"score": 0.0, "output": output, "output_format": "md", "visibility": visibility, "tests": []}


def results(
    result: CheckResult,
    table: Mapping[str, NamedValue],
    *,
    reveal: str,
    visibility: str,
    extra: Mapping[str, Any],
    fmt: NumberFormat | None = None,
) -> dict[str, Any]:
    """results.json per Gradescope's specification: one test per answer, numbered, tagged by phase."""
    fmt = fmt or NumberFormat()
    tests = []
    for number, v in enumerate(result.verdicts, start=1):
        given = code_span(v.given_text or "")
        text = "no answer given" if v.verdict == "missing" else f"given {given}: **{v.verdict}**"
        text += f" ({plain_markdown(v.note)})" if v.note else ""
        if revealed(v, reveal):
            text += f" (expected `{fmt(v.expected)}`, tolerance {v.tolerance.describe()})"
        tests.append(
            {
                "name": v.name,
                "number": str(number),
                "score": v.score,
                "max_score": v.weight,
                "status": "passed" if v.verdict == "correct" else "failed",
                "output": text,
                "output_format": "md",
                "tags": [table[v.name].phase],
                "visibility": visibility,
            }
        )
    return {
        "score": result.score,
        "max_score": result.max_score,
        "output": "\n\n".join(plain_markdown(line) for line in [result.score_line(), *result.notes(for_student=True)]),
        "output_format": "md",
        "visibility": visibility,
        "extra_data": dict(extra),
        "tests": tests,
    }
