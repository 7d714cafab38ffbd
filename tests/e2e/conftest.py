import pytest

from tests.e2e.services import Services


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """The three real services; the Rasa model loads once for the whole session (~50 s)."""
    running = Services(workdir=tmp_path_factory.mktemp("services")).start()
    yield running
    running.stop()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
