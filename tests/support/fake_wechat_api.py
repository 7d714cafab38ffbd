"""A local stand-in for api.weixin.qq.com's customer-service API, recording every call.

`GET /cgi-bin/token` checks appid/secret and hands out access tokens; `POST /cgi-bin/message/custom/send`
checks the token and records the message. The server runs in a background thread with its own event loop
(tests.support.background_server), so synchronous tests and the Rasa server (another process) can both reach it.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import List

from aiohttp import web

from tests.support.background_server import BackgroundServer, wait_until


@dataclass
class SentMessage:
    touser: str
    msgtype: str
    content: str
    at: float = field(default_factory=time.monotonic)


class FakeWeChatApi(BackgroundServer):
    def __init__(self, app_id: str, app_secret: str, expires_in: int = 7200):
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.expires_in = expires_in
        self.token_requests = 0
        self.sent: List[SentMessage] = []
        self.rejected_sends = 0
        self._valid_tokens: set = set()
        self._lock = threading.Lock()

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        return app

    # --- for tests -------------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Makes every issued token invalid, as when another server renewed it."""
        with self._lock:
            self._valid_tokens.clear()

    def messages_to(self, openid: str) -> List[SentMessage]:
        with self._lock:
            return [message for message in self.sent if message.touser == openid]

    def wait_for(self, openid: str, count: int, timeout: float) -> List[SentMessage]:
        return wait_until(lambda: self.messages_to(openid), lambda got: len(got) >= count, timeout)

    # --- the API ---------------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.token_requests += 1
            self._valid_tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": self.expires_in})

    async def _send(self, request: web.Request) -> web.Response:
        with self._lock:
            valid = request.query.get("access_token") in self._valid_tokens
            if not valid:
                self.rejected_sends += 1
        if not valid:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        raw = await request.read()
        try:
            body = json.loads(raw.decode("utf-8"))
            message = SentMessage(body["touser"], body["msgtype"], body["text"]["content"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"errcode": 44002, "errmsg": "invalid body"})
        with self._lock:
            self.sent.append(message)
        return web.json_response({"errcode": 0, "errmsg": "ok"})
