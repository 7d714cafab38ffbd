"""Screening of raw user text before it reaches the dialogue model, shared by every channel.

Bad input gets a clear, polite reply instead of a crash or a random answer; the conversation is untouched
so the next message from the same sender works normally.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any, Optional, Tuple

MAX_CHARS = 500

EMPTY_REPLY = "您好像没有输入内容。请直接打字提问，例如：“创业担保贷款最多能贷多少？”"
NO_TEXT_REPLY = "我只能看懂文字哦。请用文字描述您的问题，例如：“摆摊要交费吗？”"
TOO_LONG_REPLY = (
    "您的消息有 {length} 个字，超过了 {limit} 字的上限。请把问题精简一下再发给我，"
    "或者回复“转人工”由工作人员为您解答。"
)


PROCESSING_FAILED_REPLY = "抱歉，系统刚才出了点问题，请稍后再问一次，或回复“转人工”。"


def with_fallback_reply(messages: list) -> list:
    """Every user message deserves an answer: when the bot produced nothing (e.g. the action server is
    down, which Rasa only logs), say so politely instead of leaving the user with silence."""
    if any(message.get("text") or message.get("custom") or message.get("buttons") for message in messages):
        return messages
    return list(messages) + [{"text": PROCESSING_FAILED_REPLY}]


@dataclass(frozen=True)
class Screened:
    text: str
    reply: Optional[str] = None  # when set, answer with this instead of running the bot


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"} and char not in "\n\t"


def _has_readable_text(text: str) -> bool:
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def screen_text(raw: str) -> Screened:
    text = unicodedata.normalize("NFC", "".join(c for c in raw if not _is_control(c))).strip()
    if not text:
        return Screened(text, EMPTY_REPLY)
    if len(text) > MAX_CHARS:
        return Screened(text, TOO_LONG_REPLY.format(length=len(text), limit=MAX_CHARS))
    if not _has_readable_text(text):
        return Screened(text, NO_TEXT_REPLY)
    return Screened(text)


MAX_BODY_BYTES = 64 * 1024


class BadRequest(Exception):
    pass


def parse_rest_body(body: bytes) -> Tuple[str, str, Any]:
    """Returns (sender, message, metadata) or raises BadRequest with a reason fit for the client."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"request body larger than {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("request body is not valid UTF-8")
    except json.JSONDecodeError:
        raise BadRequest('request body is not JSON; send {"sender": "...", "message": "..."}')
    except RecursionError:
        raise BadRequest("request body is JSON nested too deeply")
    if not isinstance(payload, dict):
        raise BadRequest('request body must be a JSON object: {"sender": "...", "message": "..."}')
    message = payload.get("message")
    if not isinstance(message, str):
        raise BadRequest('field "message" is required and must be a string')
    sender = payload.get("sender", "default")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > 128:
        raise BadRequest('field "sender" must be a non-empty string of at most 128 characters')
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest('field "metadata" must be a JSON object')
    return sender, message, metadata
