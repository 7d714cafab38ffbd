"""What every chat channel applies around the dialogue: sender namespaces, per-sender rate limit, deadline.

Sender ids are namespaced by channel (`rest:…`, `web:…`, `wechat:…`), so a client of one channel can never
name — read or change — a conversation of another. The reply deadline is below every caller's: the web
chat waits 5 s, WeChat 5 s (its channel answers by 4 s), so Rasa's channels answer within 4 s whatever an
action does (actions themselves time out at 3 s, ACTION_TIMEOUT).
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Awaitable, List, Dict

logger = logging.getLogger(__name__)

REPLY_DEADLINE_S = float(os.environ.get("RASA_REPLY_DEADLINE", "3.5"))
SLOW_REPLY = "抱歉，系统现在响应较慢，没能及时给出答复。请稍后再问一次，或回复“转人工”。"


def namespaced(channel: str, sender: str) -> str:
    return f"{channel}:{sender}"


async def within_deadline(processing: Awaitable[Any], deadline_s: float = REPLY_DEADLINE_S) -> bool:
    """Wait for `processing` at most `deadline_s`; False when late. Late work is not cancelled: it finishes
    in the background, so the conversation's tracker stays whole (the sender's lock orders what follows)."""
    task = asyncio.ensure_future(processing)
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=deadline_s)
        return True
    except asyncio.TimeoutError:
        task.add_done_callback(_log_failure)
        return False


def _log_failure(task: "asyncio.Future[Any]") -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("late message processing failed", exc_info=task.exception())


def late_reply(collected: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """What the bot said before the deadline, then the polite note that the rest is late."""
    return list(collected) + [{"text": SLOW_REPLY}]
