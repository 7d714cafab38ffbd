"""Rasa's HTTP API as the handoff queue uses it: read a conversation from the tracker store, append events.

Rasa serves it only with `--enable-api --auth-token $RASA_AUTH_TOKEN` (scripts/run.sh generates a token for
the session when none is set). Appending goes through Rasa's lock store, so it never races a message
being processed; reading goes through the configured tracker store (SQLite, PostgreSQL …), never a copy.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.masking import mask

TIMEOUT = aiohttp.ClientTimeout(total=8)  # below the console's own patience; Rasa answers in ms
NLU_TIMEOUT = aiohttp.ClientTimeout(total=2)  # an agent waits for a copied answer: without the NLU it comes anyway


class RasaUnavailable(Exception):
    """Rasa's API could not be reached, is off (no token), or refused the request."""


@dataclass(frozen=True)
class Line:
    """One line of a transcript as the agent sees it (personal numbers masked)."""
    author: str        # user | bot | agent | event
    text: str
    timestamp: float
    agent: Optional[str] = None


@dataclass(frozen=True)
class Conversation:
    sender_id: str
    channel: Optional[str]
    paused: bool
    lines: list[Line]
    last_user_at: Optional[float]
    last_handoff_at: Optional[float] = None  # when action_handoff last ran: the citizen really asked

    @property
    def last_user_text(self) -> str:
        return next((line.text for line in reversed(self.lines) if line.author == "user"), "")


HANDOFF_ACTION = "action_handoff"
EVENT_NOTES = {"pause": "— 人工接管，机器人暂停 —", "resume": "— 机器人恢复应答 —"}


def transcript(sender_id: str, tracker: dict) -> Conversation:
    lines, channel, last_user_at, paused, last_handoff_at = [], None, None, False, None
    for event in tracker.get("events") or []:
        kind, at = event.get("event"), float(event.get("timestamp") or 0)
        if kind == "action" and event.get("name") == HANDOFF_ACTION:
            last_handoff_at = at
        elif kind == "user":
            text = event.get("text") or ""
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            shown = f"[按钮：{intent or text[1:]}]" if text.startswith("/") else mask(text)
            lines.append(Line("user", shown, at))
            channel, last_user_at = event.get("input_channel") or channel, at
        elif kind == "bot" and event.get("text"):
            agent = (event.get("metadata") or {}).get("agent")
            lines.append(Line("agent" if agent else "bot", mask(event["text"]), at, agent))
        elif kind in EVENT_NOTES:
            paused = kind == "pause"
            lines.append(Line("event", EVENT_NOTES[kind], at))
    return Conversation(sender_id, channel, paused, lines, last_user_at, last_handoff_at)


class RasaApi:
    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url.rstrip("/"), token

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    async def conversation(self, sender_id: str) -> Conversation:
        tracker = await self._call("GET", sender_id, "tracker", {"include_events": "ALL"})
        return transcript(sender_id, tracker)

    async def append(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        await self._call("POST", sender_id, "tracker/events", {"include_events": "NONE"}, events)

    async def pause(self, sender_id: str) -> None:
        await self.append(sender_id, [{"event": "pause"}])

    async def resume(self, sender_id: str, notice: str) -> None:
        await self.append(sender_id, [{"event": "resume"}, {"event": "bot", "text": notice}])

    async def record_agent_message(self, sender_id: str, agent: str, text: str) -> None:
        """The agent's reply becomes part of the conversation, marked with who wrote it."""
        await self.append(sender_id, [{"event": "bot", "text": text, "metadata": {"agent": agent}}])

    async def intent(self, text: str) -> tuple[str, float]:
        """The NLU's intent and confidence for `text`: what the bot's answer action gets for the same message."""
        parsed = await self._request("POST", "model/parse", "model/parse", {}, {"text": text}, NLU_TIMEOUT)
        intent = parsed.get("intent") or {}
        name, confidence = intent.get("name"), intent.get("confidence")
        if not isinstance(name, str) or not isinstance(confidence, (int, float)):
            raise RasaUnavailable("Rasa API model/parse: no intent in the answer")
        return name, float(confidence)

    async def _call(self, method: str, sender_id: str, path: str, params: dict, body: Any = None) -> dict:
        # the sender id stays out of error messages (they reach logs and the console)
        return await self._request(method, f"conversations/{quote(sender_id, safe='')}/{path}", path, params, body)

    async def _request(self, method: str, path: str, label: str, params: dict, body: Any = None,
                       timeout: aiohttp.ClientTimeout = TIMEOUT) -> dict:
        if not self.token:
            raise RasaUnavailable("Rasa's HTTP API is off: set RASA_AUTH_TOKEN for Rasa and this service")
        url = f"{self.base_url}/{path}"
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.request(method, url, params={**params, "token": self.token},
                                           json=body) as response:
                    if response.status >= 400:
                        raise RasaUnavailable(f"Rasa API {label}: HTTP {response.status}")
                    return await response.json(content_type=None) or {}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise RasaUnavailable(f"Rasa API {label}: {type(error).__name__}") from None


RASA = web.AppKey("rasa_api", RasaApi)  # the service's client: the handoff queue and the console's answers
