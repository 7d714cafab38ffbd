import asyncio
import shutil
import socket
import threading
from pathlib import Path

import pytest
import requests
from aiohttp import web

from service.app import create_app
from tests.support.background_server import BackgroundServer
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


class FakeRasa(BackgroundServer):
    """Listens where the service expects Rasa; records what the web channel is sent and answers it."""

    def __init__(self, port: int):
        super().__init__()
        self.wanted_port = port
        self.received = []

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/web/webhook", self.answer)
        return app

    async def answer(self, request):
        body = await request.json()
        self.received.append({"body": body, "token": request.headers.get("X-Chat-Proxy-Token")})
        return web.json_response([{"recipient_id": body["sender"], "text": f"答：{body['message']}"}])

    async def _serve(self):
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.wanted_port).start()
        self.port = self.wanted_port
