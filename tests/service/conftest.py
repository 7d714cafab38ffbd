import asyncio
import shutil
import socket
import threading
from pathlib import Path

import pytest
import requests
from aiohttp import web

from service.app import create_app
from service.config import PROJECT_ROOT, Settings

STAFF_TOKEN = "test-staff-token"


class RunningApp:
    """The policy service app on a free port in a background thread, talked to over real HTTP."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> "RunningApp":
        self._thread.start()
        self.runner = web.AppRunner(create_app(self.settings))
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(timeout=300)
        return self

    async def _serve(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, timeout=60, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return requests.put(self.url + path, timeout=60, **kwargs)


def unused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="session")
def policy_service(tmp_path_factory):
    var = Path(tmp_path_factory.mktemp("service-var"))
    parameters = var / "parameters"
    shutil.copytree(PROJECT_ROOT / "knowledge" / "parameters", parameters)
    settings = Settings(db_path=var / "knowledge.db", index_dir=var / "index", encoder=None,
                        rasa_url=unused_url(), staff_token=STAFF_TOKEN, parameters_dir=parameters)
    app = RunningApp(settings).start()
    yield app
    app.stop()
