"""A conversation a human agent holds is paused in Rasa (the policy service appends a `pause` event when an
agent claims it): Rasa logs the user's messages for the agent's transcript but runs no action.

Channels answer every message they get, with a polite failure reply when the bot produced nothing. For a
paused conversation the silence is on purpose, so the channel gets this marker instead of that reply:
REST clients see it, the web chat and WeChat show nothing (the agent answers through its own route).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List

logger = logging.getLogger(__name__)

PAUSED_MARKER = {"custom": {"handoff_paused": True}}


async def is_paused(app: Any, sender_id: str) -> bool:
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return False
    try:
        tracker = await store.retrieve(sender_id)
    except Exception:  # noqa: BLE001 - a store hiccup must not turn into a second failure reply
        logger.exception("could not read the tracker to check for a pause")
        return False
    return tracker is not None and tracker.is_paused()


async def silent_or_paused(app: Any, sender_id: str, messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The bot's messages; when there are none because a human holds the conversation, the marker."""
    if messages or not await is_paused(app, sender_id):
        return messages
    return [dict(PAUSED_MARKER)]
