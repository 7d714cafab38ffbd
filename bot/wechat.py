"""WeChat Official Account (公众号) input channel for Rasa: `GET|POST /webhooks/wechat/webhook`.

Enable it in credentials.yml with `bot.wechat.WeChatInput:`; it reads WECHAT_TOKEN, WECHAT_APP_ID,
WECHAT_APP_SECRET, WECHAT_AES_KEY, WECHAT_API_BASE and WECHAT_REPLY_DEADLINE from the environment
(credentials.example.env; keys of the same name in lower case under the channel override them).
The protocol lives in bot.wechat_endpoint; this module only adapts it to Sanic and Rasa.
The sender id given to Rasa is `wechat:<OpenID>`; logs show its pseudonym (bot.pseudonym), the one the
policy service stores.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channel_policy import namespaced
from bot.http_body import read_bounded
from bot.pause import silent_or_paused
from bot.wechat_config import WeChatSettings
from bot.wechat_endpoint import CHANNEL, HttpReply, OpenIdRedactor, WeChatEndpoint

logger = logging.getLogger(__name__)


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WeChatInput":
        return cls(WeChatSettings.load(credentials, os.environ))

    def __init__(self, settings: WeChatSettings):
        self.settings = settings
        _redact_openids_in_access_log()
        if not settings.configured:
            logger.warning("WeChat channel is off until WECHAT_TOKEN is set (it answers 503)")
        elif not settings.can_push:
            logger.warning("WECHAT_APP_ID/WECHAT_APP_SECRET unset: late and long answers cannot be delivered")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("wechat_webhook", __name__)
        server: Dict[str, Any] = {}  # the Sanic app, to read a conversation's pause from its tracker store

        @webhook.listener("before_server_start")
        async def remember_app(app: Any, _: Any) -> None:
            server["app"] = app

        async def ask_bot(openid: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
            collector = CollectingOutputChannel()
            sender_id = namespaced(self.name(), openid)
            await on_new_message(UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=metadata))
            return await silent_or_paused(server.get("app"), sender_id, collector.messages)

        endpoint = WeChatEndpoint(self.settings, ask_bot)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.configured else "not configured"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return _http(endpoint.verify(_query(request)))

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            started = endpoint.clock()
            body = await read_bounded(request, self.settings.max_body_bytes)
            if body is None:
                return response.text("request body too large", status=413)
            return _http(await endpoint.receive(_query(request), body, started))

        return webhook


def _redact_openids_in_access_log() -> None:
    access_log = logging.getLogger("sanic.access")  # on when LOG_LEVEL_LIBRARIES is INFO or DEBUG
    if not any(isinstance(f, OpenIdRedactor) for f in access_log.filters):
        access_log.addFilter(OpenIdRedactor())


def _query(request: Request) -> Dict[str, str]:
    return {key: request.args.get(key) for key in request.args}


def _http(reply: HttpReply) -> HTTPResponse:
    return response.text(reply.body, status=reply.status, content_type=reply.content_type)
