"""Customer-service message API (客服消息) for answers that cannot go back as a passive reply.

`GET {base}/cgi-bin/token` gives an access token valid for `expires_in` seconds; it is cached until shortly
before it expires and refreshed once when WeChat reports it invalid (another server may have renewed it).
`POST {base}/cgi-bin/message/custom/send` sends one text message. The base URL is configurable so tests
and proxies can stand in for api.weixin.qq.com. Errors never carry the URL (it holds the secret/token).
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Callable, Optional

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=10)
EXPIRY_MARGIN_S = 300  # renew 5 min early: a token that expires mid-flight fails the send
STALE_TOKEN_ERRORS = {40001, 40014, 42001}  # invalid credential / invalid token / token expired


class WeChatApiError(Exception):
    def __init__(self, message: str, errcode: Optional[int] = None):
        super().__init__(message)
        self.errcode = errcode


class CustomerServiceApi:
    def __init__(self, app_id: str, app_secret: str, base_url: str,
                 clock: Callable[[], float] = time.monotonic):
        self.app_id = app_id
        self._app_secret = app_secret
        self.base_url = base_url.rstrip("/")
        self._clock = clock
        self._token: Optional[str] = None
        self._expires_at = 0.0
        self._lock: Optional[asyncio.Lock] = None  # created inside the running loop

    async def send_text(self, openid: str, content: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        for attempt in range(2):
            token = await self.access_token(force_refresh=attempt > 0)
            result = await self._call("POST", "/cgi-bin/message/custom/send", {"access_token": token}, body)
            errcode = int(result.get("errcode") or 0)
            if errcode == 0:
                return
            if errcode not in STALE_TOKEN_ERRORS or attempt:
                raise WeChatApiError(f"message/custom/send failed: {errcode} {result.get('errmsg', '')}", errcode)
            self._token = None

    async def access_token(self, force_refresh: bool = False) -> str:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one refresh at a time: concurrent senders share the new token
            if force_refresh or not self._token or self._clock() >= self._expires_at:
                await self._refresh_token()
            return self._token  # type: ignore[return-value]

    async def _refresh_token(self) -> None:
        result = await self._call("GET", "/cgi-bin/token", {
            "grant_type": "client_credential", "appid": self.app_id, "secret": self._app_secret})
        token = result.get("access_token")
        if not token:
            raise WeChatApiError(f"cgi-bin/token failed: {result.get('errcode')} {result.get('errmsg', '')}",
                                 result.get("errcode"))
        lifetime = float(result.get("expires_in") or 7200)
        self._token = token
        self._expires_at = self._clock() + max(lifetime - EXPIRY_MARGIN_S, lifetime / 2)

    async def _call(self, method: str, path: str, params: dict, body: Optional[dict] = None) -> dict:
        # WeChat wants raw UTF-8 in the JSON, not \\u escapes (wechatpy does the same)
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"} if data is not None else {}
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                async with session.request(method, self.base_url + path, params=params, data=data,
                                           headers=headers) as response:
                    if response.status >= 400:
                        raise WeChatApiError(f"{path}: HTTP {response.status}")
                    payload = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise WeChatApiError(f"{path}: {type(error).__name__}") from None
        if not isinstance(payload, dict):
            raise WeChatApiError(f"{path}: unexpected answer")
        return payload
