"""A transparent HTTP proxy between the action server and the policy service, steerable by tests.

The action server's POLICY_SERVICE_URL points here, so tests can make the *real* bot slow or long-winded
without any test hook in production code: `slow_down(question, seconds)` delays the next
`POST /api/answer` for that question, `rewrite(question, change)` replaces its JSON answer. Every
question asked through /api/answer is recorded in `questions`.
"""
from __future__ import annotations

import asyncio
import json
import threading
from typing import Callable, Dict, List, Optional

import aiohttp
from aiohttp import web

from tests.support.background_server import BackgroundServer

HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class PolicyProxy(BackgroundServer):
    def __init__(self, target: Optional[str] = None):
        super().__init__()
        self.target = target
        self.questions: List[str] = []
        self._delays: Dict[str, float] = {}
        self._rewrites: Dict[str, Callable[[dict], dict]] = {}
        self._lock = threading.Lock()

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        return app

    def slow_down(self, question: str, seconds: float) -> None:
        with self._lock:
            self._delays[question] = seconds

    def rewrite(self, question: str, change: Callable[[dict], dict]) -> None:
        with self._lock:
            self._rewrites[question] = change

    def asked(self, question: str) -> int:
        with self._lock:
            return sum(1 for asked in self.questions if asked == question)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        question = self._question(request, body)
        with self._lock:
            if question is not None:
                self.questions.append(question)
            delay = self._delays.pop(question, 0) if question is not None else 0
            change = self._rewrites.pop(question, None) if question is not None else None
        if delay:
            await asyncio.sleep(delay)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with aiohttp.ClientSession() as session:
            async with session.request(request.method, self.target + request.rel_url.path_qs, data=body,
                                       headers=headers, allow_redirects=False) as upstream:
                payload = await upstream.read()
                status, content_type, charset = upstream.status, upstream.content_type, upstream.charset
        if change is not None and status == 200:
            payload = json.dumps(change(json.loads(payload)), ensure_ascii=False).encode("utf-8")
        return web.Response(body=payload, status=status, content_type=content_type, charset=charset)

    @staticmethod
    def _question(request: web.Request, body: bytes) -> Optional[str]:
        if request.method != "POST" or request.path != "/api/answer":
            return None
        try:
            return json.loads(body.decode("utf-8")).get("q")
        except (ValueError, AttributeError):
            return None
