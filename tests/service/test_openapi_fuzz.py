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
from tests.service.fake_rasa import FakeRasaApi

pytestmark = pytest.mark.fuzz
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


class FakeRasaWithApi(FakeRasa):
    """The web channel's webhook plus the tracker API that claiming and resolving a handoff use."""

    def __init__(self, port: int, token: str):
        super().__init__(port)
        self.api = FakeRasaApi(token)

    def make_app(self):
        app = super().make_app()
        app.router.add_get("/conversations/{sender}/tracker", self.api._tracker)
        app.router.add_post("/conversations/{sender}/tracker/events", self.api._append)
        return app


@pytest.fixture(scope="module")
def throwaway_service(tmp_path_factory):
    var = Path(tmp_path_factory.mktemp("fuzz-var"))
    shutil.copytree(PROJECT_ROOT / "knowledge" / "parameters", var / "parameters")
    rasa_url = unused_url()
    rasa_token = "fuzz-rasa-token"
    # /api/chat answers and handoffs can be claimed; a dead Rasa is a 503 by design, tested elsewhere
    rasa = FakeRasaWithApi(int(rasa_url.rsplit(":", 1)[1]), rasa_token).start()
    settings = Settings(db_path=var / "knowledge.db", index_dir=var / "index", encoder=None, rasa_url=rasa_url,
                        staff_token=STAFF_TOKEN, parameters_dir=var / "parameters", rasa_token=rasa_token)
    app = RunningApp(settings).start()
    yield app
    app.stop()
    rasa.stop()


# One worker: CPython 3.11.7's ast.parse is not thread-safe (gh-106905), and hypothesis parses lambdas while
# generating, so two workers crash schemathesis itself now and then ("AST constructor recursion depth mismatch").
def test_no_generated_request_gets_a_server_error(throwaway_service, tmp_path):
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{throwaway_service.url}/api/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", "10", "--request-timeout", "60", "--seed", "20261201", "--phases", "examples,coverage,fuzzing",
         "--workers", "1", "-H", f"Authorization: Bearer {STAFF_TOKEN}", "--report-dir", str(tmp_path),
         "--generation-database", "none"],
        capture_output=True, text=True, timeout=600)  # ~1 min unloaded
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
