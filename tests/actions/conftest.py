import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def tracker_from():
    """Tracker.from_dict over a JSON fixture, as rasa-sdk's own tests build trackers."""
    def load(name: str) -> Tracker:
        return Tracker.from_dict(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))
    return load


@pytest.fixture
def dispatcher():
    return CollectingDispatcher()


@pytest.fixture
def replace_policy_client(monkeypatch):
    """Makes `module`'s actions talk to `client` instead of the policy service."""
    def install(module, client):
        monkeypatch.setattr(module, "PolicyClient", lambda: client)
        return client
    return install
