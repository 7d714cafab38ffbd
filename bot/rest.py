"""REST channel that validates its input: `POST /webhooks/rest/webhook` with {"sender", "message"}.

Rasa's stock RestInput answers a body without `message`, a non-JSON or a non-UTF-8 body with a 500 or an
empty list; this subclass answers those with a 400 and a reason, and screens the text (bot.guard).
"""
from __future__ import annotations

import logging
from typing import Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.guard import BadRequest, parse_rest_body, screen_text, with_fallback_reply
from bot.pause import silent_or_paused

logger = logging.getLogger(__name__)


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("guarded_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, message, metadata = parse_rest_body(request.body or b"")
            except BadRequest as reason:
                return response.json({"error": str(reason)}, status=400)
            screened = screen_text(message)
            if screened.reply:
                return response.json([{"recipient_id": sender, "text": screened.reply}])
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(screened.text, collector, sender, input_channel=self.name(), metadata=metadata)
                )
            except Exception:  # the user still gets an answer; the traceback goes to the log
                logger.exception("processing a REST message failed")
            replies = with_fallback_reply(await silent_or_paused(request.app, sender, collector.messages))
            return response.json([{"recipient_id": sender, **message} for message in replies])

        return webhook
