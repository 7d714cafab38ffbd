"""Fixtures shared across the test packages."""
from __future__ import annotations

import importlib.util

import pytest

# Channel tests that need Rasa itself run in the Rasa runtime (`make test` runs them with .venv/rasa's pytest,
# RASA_RUNTIME_TESTS in the Makefile); the app's runtime has no Rasa, so its test run leaves them out.
RASA_RUNTIME_TESTS = ["bot/test_rest.py", "bot/test_wechat.py"]
collect_ignore = [] if importlib.util.find_spec("rasa") else RASA_RUNTIME_TESTS


@pytest.fixture(scope="session")
def entitlement_engine():
    """The entitlement engine over the shipped parameters and rules (read-only: tests must not reload it)."""
    from knowledge.entitlements import EntitlementEngine

    return EntitlementEngine()
