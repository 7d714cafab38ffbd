"""Fixtures shared across the test packages."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def entitlement_engine():
    """The entitlement engine over the shipped parameters and rules (read-only: tests must not reload it)."""
    from knowledge.entitlements import EntitlementEngine

    return EntitlementEngine()
