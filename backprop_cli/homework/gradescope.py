"""The Gradescope autograder: what its zip holds, and the ``results.json`` a run writes.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when the image is built,
and for each submission runs ``run_autograder`` with the student's files in ``/autograder/submission/``
and ``/autograder/submission_metadata.json`` beside them; it reads ``/autograder/results/results.json``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backprop_cli.homework import ecf
from backprop_cli.homework.check import CheckResult, Explainer, revealed, working_text
from backprop_cli.homework.values import NamedValue
from backprop_cli.model.i18n import _
from backprop_cli.model.numbers import NumberFormat

SETTINGS = "backprop-autograder.json"
ROOT_VARIABLE = "BACKPROP_AUTOGRADER_ROOT"  # where /autograder is, for a simulated layout
PYTHON_VARIABLE = "BACKPROP_PYTHON"  # the Python that runs the tool (by default the venv setup.sh made)
MATCH = ("sid", "email", "id", "name")  # which field of submission_metadata.json's user is the student id
_SEED = re.compile(r"seed ([0-9a-f]{64})")


CONSTRAINTS = "constraints.txt"  # the dependencies' versions, as installed where the zip was written


VENV = "venv"  # the virtual environment setup.sh makes in /autograder/source, that run_autograder runs


def setup_sh(wheel: str) -> str:
    """Installs the tool from the wheel in the zip (it is on no package index), its dependencies at
    the versions of the machine that wrote the zip (constraints.txt), into a virtual environment of a
    Python from 3.11 on: Gradescope's Ubuntu 22.04 image has python3 3.10 (apt has python3.11), and
    newer Ubuntus refuse a system-wide pip install (PEP 668)."""
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, building the autograder image: install the backprop-cli this zip carries
# ({wheel}, the version that wrote the zip; it is not on PyPI) and its dependencies at the versions
# pinned in {CONSTRAINTS}, in a virtual environment beside this script ({VENV}/) that run_autograder runs.
set -euo pipefail
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
newest() {{  # the first Python from 3.11 on (backprop-cli's requires-python), by its version, not its name
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(not sys.version_info >= (3, 11))' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}}
if ! python="$(newest)"; then  # Ubuntu 22.04: python3 is 3.10
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv
  python="$(newest)"
fi
rm -rf "$here/{VENV}"
if ! "$python" -m venv "$here/{VENV}"; then  # Debian and Ubuntu ship venv's ensurepip apart
  rm -rf "$here/{VENV}"
  version="$("$python" -c 'import sys; print("python%d.%d" % sys.version_info[:2])')"
  apt-get update  # a fresh image's package lists are empty
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$version-venv"
  "$python" -m venv "$here/{VENV}"
fi
"$here/{VENV}/bin/python" -m pip install --constraint "$here/{CONSTRAINTS}" "$here/{wheel}"
"""


def run_autograder() -> str:
    """Gradescope copies it to /autograder/run_autograder: the venv is found from the root, not from it."""
    venv_python = f"${{{ROOT_VARIABLE}:-/autograder}}/source/{VENV}/bin/python"
    return f"""#!/usr/bin/env bash
# Gradescope runs this for each submission: grade it and write /autograder/results/results.json.
# {ROOT_VARIABLE} moves /autograder (a simulated layout); {PYTHON_VARIABLE} chooses the Python
# (by default the one of the virtual environment setup.sh made).
exec "${{{PYTHON_VARIABLE}:-{venv_python}}}" -m backprop_cli autograder run-gradescope
"""


def student_id(metadata: Mapping[str, Any], match: str) -> str | None:
    """The id of the (first) submitter in submission_metadata.json, by the field ``match``."""
    users = metadata.get("users")
    if not isinstance(users, list) or not users or not isinstance(users[0], dict):
        return None
    value = users[0].get(match)
    return str(value) if value not in (None, "") else None


def code_span(text: str) -> str:
    """Text (a student's) as one Markdown code span that it cannot break out of: fenced by one more
    backtick than its longest run of them, on one line (CommonMark, "Code spans")."""
    flat = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def code_block(text: str) -> str:
    """Lines shown as written (a derivation's tree): a fenced code block, its fence longer than any
    run of backticks in them (CommonMark, "Fenced code blocks")."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


_INLINE = re.compile(r"[\\`*\[\]<~]|&(?=#?\w+;)|(?<![^\W_])_|_(?![^\W_])")  # emphasis, code, links, HTML
_LINE_START = re.compile(r"(?m)^([ \t]*)([#>+\-=]|\d+(?=[.)]))")  # headings, quotes, lists, setext rules


def plain_markdown(text: str) -> str:
    """Text (ours, or quoting a student's) as Markdown that renders it as written: backslash-escaped
    only where CommonMark (with GitHub's ``~~``) would read a character as markup. Inline: ``\\``,
    backticks, ``*``, ``[``/``]`` (so no link or image starts; ``(``/``)``/``!`` are then plain), ``<``
    (no HTML, no autolink), ``~``, ``&`` of an entity, and ``_`` at a word's edge (an ``_`` inside a
    word, as in ``h.dL_dw1_1``, is never emphasis). At a line's start: ``#``, ``>``, ``+``, ``-``,
    ``=`` and ``1.``/``1)``. The one escape of every Markdown text of results.json."""
    escaped = _INLINE.sub(lambda m: "\\" + m.group(0), text)
    return _LINE_START.sub(
        lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit() else "\\" + m.group(2)), escaped
    )


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


@dataclass(frozen=True)
class Submission:
    """What a submission folder holds: the answers file to grade (None: none, or no telling which),
    the files passed over with why, and the answers files that leave no telling which is meant."""

    graded: Path | None
    ignored: tuple[tuple[Path, str], ...] = ()  # (a file, why it is not graded, in Markdown)
    rivals: tuple[Path, ...] = ()  # two or more different answers files: none is graded

    def ignored_names(self, folder: Path) -> list[str]:
        return [shown(p, folder) for p, _why in self.ignored]

    def remark(self, folder: Path) -> str:
        """``Graded `b.yaml`; not graded: `net.yaml` (not an answers file)`` (Markdown)."""
        assert self.graded is not None
        text = f"Graded {code_span(shown(self.graded, folder))}"
        passed = [f"{code_span(shown(p, folder))} ({why})" for p, why in self.ignored]
        return text + ("; not graded: " + ", ".join(passed) if passed else "") + "."


def shown(path: Path, folder: Path) -> str:
    """A submitted file as its student knows it: its path inside the submission, never the server's."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name


def find_submission(folder: Path) -> Submission:
    """The answers file of a submission: the only YAML/JSON file, else the only one that says it is one
    (``format: backprop-answers``), else, among several identical ones, the first (one named like a
    sheet first). Two different answers files are rivals: which is meant (a draft, the final?) is the
    student's to say, so none is graded. With no file that says so, one named like a sheet, else the first."""
    from backprop_cli.homework.gradebook import is_answers_file

    files = [p for p in answers_candidates(folder) if not p.is_symlink()]
    if len(files) <= 1:
        return Submission(files[0] if files else None)
    named = [p for p in files if p.name.endswith((".sheet.yaml", "answers.yaml", "sheet.yaml"))]
    ordered = [*named, *(p for p in files if p not in named)]
    answers = [p for p in ordered if is_answers_file(p)]
    if len({p.read_bytes() for p in answers}) > 1:
        return Submission(None, rivals=tuple(sorted(answers)))
    graded = answers[0] if answers else ordered[0]
    ignored = tuple(
        (p, f"the same as {code_span(shown(graded, folder))}" if p in answers else "not an answers file")
        for p in files
        if p != graded
    )
    return Submission(graded, ignored)


def seed_of(key_text: str) -> str | None:
    """The variant's seed a key from `backprop variants --answers` records in its header."""
    match = _SEED.search(key_text)
    return match.group(1) if match else None


def failure(
    output: str, *, max_score: float, visibility: str = "visible", extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A results.json that gives no score and says why (Gradescope shows ``output``, Markdown). It still
    says what the assignment is out of: Gradescope shows the score as ``score``/``max_score``."""
    report: dict[str, Any] = {"score": 0.0, "max_score": max_score, "output": output, "output_format": "md"}
    report |= {"visibility": visibility, "extra_data": dict(extra or {}), "tests": []}
    return report


def results(
    result: CheckResult,
    table: Mapping[str, NamedValue],
    *,
    reveal: str,
    visibility: str,
    fmt: NumberFormat,
    explain: Explainer | None = None,
    for_student: bool = False,
    remarks: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Gradescope's autograder ``results.json`` for one sheet: `check --format gradescope` and the
    autograder's run both write it here. One test per answer (numbered, tagged by its phase) whose
    Markdown ``output`` says the verdict, the expected value as ``reveal`` allows, the recomputation
    from the student's values, the first wrong step, the misconception matched, the hint and the
    derivation (``explain``); ``extra_data`` holds the same as data. ``for_student``: the notes
    without the advice meant for the instructor; ``remarks`` (Markdown already) and ``extra`` are the
    autograder's own lines and data."""
    tests = []
    for number, v in enumerate(result.verdicts, start=1):
        if v.verdict == "missing":
            parts = [_("no answer given")]
        else:
            parts = [
                _("given {given}: {verdict}").format(given=code_span(v.given_text or ""), verdict=f"**{_(v.label)}**")
            ]
        parts[0] += f" ({plain_markdown(v.note)})" if v.note else ""
        if revealed(v, reveal):
            parts[0] += _(" (expected {expected}, tolerance {tolerance})").format(
                expected=code_span(fmt(v.expected)), tolerance=plain_markdown(v.tolerance.shown())
            )
        working = working_text(v, reveal, fmt)
        lines = [working] if working is not None else []
        if v.hint:
            lines.append(_("hint: {hint}").format(hint=v.hint))
        if v.name == result.first_wrong:
            lines.append(_("the first wrong step: the answers after it are judged from your own values"))
        for finding in result.fingerprints:
            if v.name in finding.answers and (finding.recognised or len(v.fingerprints) > 1):
                sentence = _("this matches a known misconception, {title}: {mistake}.").format(
                    title=_(finding.title), mistake=_(finding.mistake)
                )
                lines.append(sentence + _(" The rule: {rule}.").format(rule=_(finding.rule)))
        parts += [plain_markdown(line) for line in lines]
        if explain is not None and v.verdict != "correct":
            parts.append(plain_markdown(_("How it is computed:")) + "\n\n" + code_block(explain(v.name)))
        tests.append(
            {
                "name": v.name,
                "number": str(number),
                "score": v.score,
                "max_score": v.weight,
                "status": "passed" if v.verdict == "correct" else "failed",
                "output": "\n\n".join(parts),
                "output_format": "md",
                "tags": [table[v.name].phase] if v.name in table else [],
                "visibility": visibility,
                "extra_data": {  # the verdict as data (Gradescope keeps extra_data for the course's own use)
                    "verdict": v.verdict,
                    "first_wrong_step": v.name == result.first_wrong,
                    "fingerprints": list(v.fingerprints),
                    **({"hint": v.hint} if v.hint else {}),
                },
            }
        )
    top = [result.score_line(), *result.feedback(), *result.notes(for_student=for_student)]
    data = {
        "counts": {k: result.count(k) for k in ecf.VERDICTS},
        "first_wrong_step": result.first_wrong,
        "fingerprints": [f.name for f in result.fingerprints if f.recognised],
        "ecf": result.policy.to_dict(),
    }
    return {
        "score": result.score,
        "max_score": result.max_score,
        "output": "\n\n".join([*(plain_markdown(line) for line in top), *remarks]),
        "output_format": "md",
        "visibility": visibility,
        "extra_data": data | dict(extra or {}),
        "tests": tests,
    }
