"""REST channels that validate their input: `POST /webhooks/rest/webhook` and the web chat's `/webhooks/web/webhook`.

Rasa's stock RestInput answers a body without `message`, a non-JSON or a non-UTF-8 body with a 500 or an
empty list; these answer with a 400 and a reason, read the body against its limit while it streams in,
screen the text (bot.guard), namespace the sender, limit each sender's rate and answer within the deadline
(bot.channel_policy).

The web chat's channel is reached only through the policy service, which issues the browser's id in a signed
cookie: it must present CHAT_PROXY_TOKEN (shared by the two processes), so no client can pick a `web:` id.
"""
from __future__ import annotations

import hmac
import logging
import os
from typing import Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channel_policy import late_reply, namespaced, within_deadline
from bot.guard import MAX_BODY_BYTES, BadRequest, parse_rest_body, screen_text, with_fallback_reply
from bot.http_body import read_bounded
from bot.ratelimit import SLOW_DOWN_REPLY, sender_limiter
from bot import rasa_tuning
from bot.pause import silent_or_paused

logger = logging.getLogger(__name__)
rasa_tuning.install()  # action deadline and compiled response schema (this module loads with the server)
PROXY_TOKEN_HEADER = "X-Chat-Proxy-Token"


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(self) -> None:
        self.limiter = sender_limiter()

    def refusal(self, request: Request) -> HTTPResponse | None:
        """A response refusing the request before its body is read, or None to go on."""
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint(f"guarded_{self.name()}_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            refused = self.refusal(request)
            if refused is not None:
                return refused
            body = await read_bounded(request, MAX_BODY_BYTES)
            if body is None:
                return response.json({"error": f"request body larger than {MAX_BODY_BYTES} bytes"}, status=413)
            try:
                sender, message, metadata = parse_rest_body(body)
            except BadRequest as reason:
                return response.json({"error": str(reason)}, status=400)
            screened = screen_text(message)
            if screened.reply:
                return response.json([{"recipient_id": sender, "text": screened.reply}])
            sender_id = namespaced(self.name(), sender)
            if not self.limiter.allow(sender_id):
                return response.json([{"recipient_id": sender, "text": SLOW_DOWN_REPLY}], status=429,
                                     headers={"Retry-After": str(int(self.limiter.retry_after(sender_id)) + 1)})
            collector = CollectingOutputChannel()
            processing = on_new_message(
                UserMessage(screened.text, collector, sender_id, input_channel=self.name(), metadata=metadata))
            try:
                in_time = await within_deadline(processing)
            except Exception:  # the user still gets an answer; the traceback goes to the log
                logger.exception("processing a %s message failed", self.name())
                in_time = True
            if not in_time:
                replies = late_reply(collector.messages)
            else:  # a conversation a human agent holds is silent on purpose (bot/pause.py)
                replies = with_fallback_reply(await silent_or_paused(request.app, sender_id, collector.messages))
            return response.json([{**message, "recipient_id": sender} for message in replies])  # as the client named it

        return webhook


class WebChatInput(GuardedRestInput):
    """The web chat, behind the policy service's /api/chat (which owns the browser's signed id)."""

    @classmethod
    def name(cls) -> Text:
        return "web"

    def __init__(self) -> None:
        super().__init__()
        self.proxy_token = os.environ.get("CHAT_PROXY_TOKEN", "")
        if not self.proxy_token:
            logger.warning("web chat channel is off until CHAT_PROXY_TOKEN is set (make run sets it)")

    def refusal(self, request: Request) -> HTTPResponse | None:
        if not self.proxy_token:
            return response.json({"error": "web chat channel not configured: set CHAT_PROXY_TOKEN"}, status=503)
        presented = request.headers.get(PROXY_TOKEN_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(presented, self.proxy_token.encode("utf-8")):
            return response.json({"error": "only the policy service may use this channel"}, status=403)
        return None
