"""schemathesis against /api/openapi.json, bounded to about a minute: no input may produce a 500.

Runs against its own policy service (own store, index and parameters), with the staff token, so the fuzzer
also edits, retires and adds documents without disturbing any other test.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT, Settings
from tests.service.conftest import STAFF_TOKEN, FakeRasa, RunningApp, unused_url

pytestmark = pytest.mark.fuzz
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def throwaway_service(tmp_path_factory):
    var = Path(tmp_path_factory.mktemp("fuzz-var"))
    shutil.copytree(PROJECT_ROOT / "knowledge" / "parameters", var / "parameters")
    rasa_url = unused_url()
    rasa = FakeRasa(int(rasa_url.rsplit(":", 1)[1])).start()  # /api/chat answers; a dead Rasa is a 503 by design
    settings = Settings(db_path=var / "knowledge.db", index_dir=var / "index", encoder=None,
                        rasa_url=rasa_url, staff_token=STAFF_TOKEN, parameters_dir=var / "parameters")
    app = RunningApp(settings).start()
    yield app
    app.stop()
    rasa.stop()


def test_no_generated_request_gets_a_server_error(throwaway_service, tmp_path):
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{throwaway_service.url}/api/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", "10", "--request-timeout", "60", "--seed", "20261201", "--phases", "examples,coverage,fuzzing",
         "--workers", "2", "-H", f"Authorization: Bearer {STAFF_TOKEN}", "--report-dir", str(tmp_path),
         "--generation-database", "none"],
        capture_output=True, text=True, timeout=600)  # ~1 min unloaded
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
