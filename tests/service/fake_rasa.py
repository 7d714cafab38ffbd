"""A stand-in for Rasa's HTTP API (GET tracker, POST tracker/events) with a token, recording events."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from aiohttp import web

from tests.support.background_server import BackgroundServer


class FakeRasaApi(BackgroundServer):
    def __init__(self, token: str, clock: Callable[[], float] = time.time):
        super().__init__()
        self.token = token
        self.clock = clock  # stamps events: tests point it at the service's injected clock
        self.events: dict[str, list[dict]] = {}
        self.refuse_appends = False  # as when Rasa's lock store is unreachable
        self.intents: dict[str, tuple[str, float]] = {}  # text → what /model/parse answers (else nlu_fallback)
        self.parsed: list[str] = []
        self._lock = threading.Lock()

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/conversations/{sender}/tracker", self._tracker)
        app.router.add_post("/conversations/{sender}/tracker/events", self._append)
        app.router.add_post("/model/parse", self._parse)
        return app

    def user_says(self, sender: str, text: str, channel: str = "rest", at: float | None = None) -> None:
        with self._lock:
            self.events.setdefault(sender, []).append(
                {"event": "user", "text": text, "timestamp": self.clock() if at is None else at,
                 "input_channel": channel, "parse_data": {"intent": {"name": "ask_policy"}}})

    def action_ran(self, sender: str, name: str, at: float | None = None) -> None:
        with self._lock:
            self.events.setdefault(sender, []).append(
                {"event": "action", "name": name, "timestamp": self.clock() if at is None else at})

    def kinds(self, sender: str) -> list[str]:
        with self._lock:
            return [event["event"] for event in self.events.get(sender, [])]

    def paused(self, sender: str) -> bool:
        state = False
        for kind in self.kinds(sender):
            state = {"pause": True, "resume": False}.get(kind, state)
        return state

    async def _tracker(self, request: web.Request) -> web.Response:
        if request.query.get("token") != self.token:
            return web.json_response({"message": "unauthorized"}, status=401)
        sender = request.match_info["sender"]
        with self._lock:
            events = list(self.events.get(sender, []))
        return web.json_response({"sender_id": sender, "events": events})

    async def _append(self, request: web.Request) -> web.Response:
        if request.query.get("token") != self.token:
            return web.json_response({"message": "unauthorized"}, status=401)
        if self.refuse_appends:
            return web.json_response({"message": "lock store unavailable"}, status=500)
        body = await request.json()
        with self._lock:
            for event in body if isinstance(body, list) else [body]:
                self.events.setdefault(request.match_info["sender"], []).append({**event, "timestamp": self.clock()})
        return web.json_response({"sender_id": request.match_info["sender"]})

    async def _parse(self, request: web.Request) -> web.Response:
        if request.query.get("token") != self.token:
            return web.json_response({"message": "unauthorized"}, status=401)
        text = (await request.json())["text"]
        self.parsed.append(text)
        name, confidence = self.intents.get(text, ("nlu_fallback", 0.5))
        return web.json_response({"text": text, "intent": {"name": name, "confidence": confidence}})
