"""Hypothesis runs the same cases on every run by default, so a landing CI run cannot fail on a case no
earlier run saw; `HYPOTHESIS_PROFILE=explore pytest` draws new cases (with hypothesis's example database), the
way to hunt for bugs locally. A case exploration finds goes into a test by name (see
tests/test_hardening_numbers.py, SATURATED_BCE)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
