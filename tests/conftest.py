"""Hypothesis runs the same cases on every run by default, so a landing CI run cannot fail on a case no
earlier run saw; `HYPOTHESIS_PROFILE=explore pytest` draws new cases (with hypothesis's example database), the
way to hunt for bugs locally. A case exploration finds goes into a test by name (see
tests/test_hardening_numbers.py, SATURATED_BCE)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(autouse=True)
def _english_unless_a_test_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands follow LANGUAGE/LC_ALL/LC_MESSAGES/LANG (model/i18n.py): every test runs in English, as
    the golden files are, whatever the developer's locale, unless it sets a language itself."""
    monkeypatch.setenv("LANGUAGE", "en")
