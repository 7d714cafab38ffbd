"""The live handoff queue: conversations a citizen asked to hand to a person, and the agents' replies.

A handoff is one explicit ownership state per conversation (Chatwoot's pending → open → resolved):
    queued   the citizen waits; the bot still answers (and tells them their place in the queue)
    claimed  an agent holds it; Rasa's tracker is paused, so the bot stays quiet for that sender
    resolved the agent gave it back; the tracker is resumed and the citizen told so
It is keyed by Rasa's sender id as-is (`web:…`, `wechat:…` or an older bare id); the channel comes from the
tracker (the input channel of the citizen's last message) or the id's prefix.

State lives in SQLite under var/ (handoff.db, 0600): the queue and an outbox of messages to the citizen
with their delivery state, so a failed WeChat delivery stays visible and can be retried. The transcript is
not copied here: it is read from Rasa's tracker store each time (service.rasa_api).
"""
from __future__ import annotations

import datetime as dt
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional
from zoneinfo import ZoneInfo

from bot.guard import MAX_CHARS
from bot.masking import mask
from service.private_db import PrivateDatabase

REASONS = {"user_request": "用户要求转人工", "no_answer": "机器人无法回答，用户接受转人工",
           "negative_feedback": "用户对回答不满意，接受转人工"}
OPEN = ("queued", "claimed")
CHANNEL_PREFIXES = ("web", "wechat", "rest")

SCHEMA = """
CREATE TABLE IF NOT EXISTS handoffs (
    id INTEGER PRIMARY KEY, sender_id TEXT NOT NULL, channel TEXT NOT NULL, reason TEXT NOT NULL,
    question TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, created_at REAL NOT NULL,
    claimed_by TEXT, claimed_at REAL, resolved_by TEXT, resolved_at REAL, out_of_hours INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS handoffs_open ON handoffs (status, created_at);
CREATE INDEX IF NOT EXISTS handoffs_sender ON handoffs (sender_id, status);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, handoff_id INTEGER NOT NULL REFERENCES handoffs(id), sender_id TEXT NOT NULL,
    channel TEXT NOT NULL, author TEXT NOT NULL, agent TEXT, text TEXT NOT NULL, created_at REAL NOT NULL,
    status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS outbox_sender ON outbox (sender_id, id);
"""


class HandoffError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Handoff:
    id: int
    sender_id: str
    channel: str
    reason: str
    question: str
    status: str
    created_at: float
    claimed_by: Optional[str]
    claimed_at: Optional[float]
    resolved_by: Optional[str]
    resolved_at: Optional[float]
    out_of_hours: bool

    def json(self, now: float, position: Optional[int] = None) -> dict:
        data = asdict(self)
        data.update(reason_text=REASONS.get(self.reason, self.reason), waiting_s=int(now - self.created_at),
                    position=position, out_of_hours=bool(self.out_of_hours))  # SQLite keeps it as 0/1
        return data


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    handoff_id: int
    sender_id: str
    channel: str
    author: str        # "agent" (人工客服) or "bot" (the resume notice)
    agent: Optional[str]
    text: str
    created_at: float
    status: str        # pending → sent | failed | expired (WeChat's 48 h window closed)
    error: str
    attempts: int


POLLED_CHANNELS = ("web", "rest")  # these fetch agent messages; WeChat gets them pushed


def channel_of(sender_id: str, tracker_channel: Optional[str] = None) -> str:
    """The citizen's channel: the id's prefix (`web:`, and the older `web-` of the web chat), else the
    tracker's input channel (the web chat reaches Rasa through the REST channel), else rest."""
    prefix = sender_id.split(":", 1)[0] if ":" in sender_id else sender_id.split("-", 1)[0]
    if prefix in CHANNEL_PREFIXES:
        return prefix
    return tracker_channel if tracker_channel in CHANNEL_PREFIXES else "rest"


@dataclass(frozen=True)
class OfficeHours:
    """When agents answer, e.g. "1-5 09:00-17:30" (ISO weekdays, local time) or "always"."""
    days: tuple[int, ...]
    start: dt.time
    end: dt.time
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, zone: str = "Asia/Shanghai") -> "OfficeHours":
        spec = (spec or "always").strip().lower()
        if spec == "always":
            return cls(tuple(range(1, 8)), dt.time(0, 0), dt.time.max, ZoneInfo(zone))
        try:
            days, hours = spec.split()
            first, last = (int(day) for day in days.split("-"))
            start, end = (dt.time.fromisoformat(part) for part in hours.split("-"))
        except ValueError:
            raise ValueError(f'HANDOFF_HOURS must look like "1-5 09:00-17:30" or "always", got {spec!r}') from None
        if not (1 <= first <= last <= 7 and start < end):
            raise ValueError(f"HANDOFF_HOURS out of range: {spec!r}")
        return cls(tuple(range(first, last + 1)), start, end, ZoneInfo(zone))

    def open_at(self, timestamp: float) -> bool:
        local = dt.datetime.fromtimestamp(timestamp, self.zone)
        return local.isoweekday() in self.days and self.start <= local.time() <= self.end


class HandoffQueue(PrivateDatabase):
    def __init__(self, path: Path, hours: OfficeHours, clock: Callable[[], float] = time.time):
        super().__init__(path, SCHEMA)  # questions and replies are personal: the file is owner-only
        self.hours, self.clock = hours, clock

    # the citizen's side
    def enqueue(self, sender_id: str, reason: str, channel: str, question: str = "") -> tuple[Handoff, bool]:
        """The sender's open handoff, or a new one; second value: whether it was created now."""
        current = self.open_for(sender_id)
        if current is not None:
            return current, False
        now = self.clock()
        handoff_id = self._insert(
            "INSERT INTO handoffs (sender_id, channel, reason, question, status, created_at, out_of_hours) "
            "VALUES (?, ?, ?, ?, 'queued', ?, ?)",
            (sender_id, channel, reason if reason in REASONS else "user_request", mask(question)[:MAX_CHARS], now,
             int(not self.hours.open_at(now))))
        return self.get(handoff_id), True  # type: ignore[return-value]

    def open_for(self, sender_id: str) -> Optional[Handoff]:
        rows = self._query("SELECT * FROM handoffs WHERE sender_id = ? AND status IN ('queued', 'claimed') "
                           "ORDER BY id DESC LIMIT 1", (sender_id,))
        return Handoff(**rows[0]) if rows else None

    def position(self, handoff: Handoff) -> int:
        """How many queued conversations are ahead of this one (0 when it is claimed or first)."""
        if handoff.status != "queued":
            return 0
        return self._query("SELECT COUNT(*) FROM handoffs WHERE status = 'queued' AND id < ?",
                           (handoff.id,))[0][0]

    # the agents' side
    def get(self, handoff_id: int) -> Optional[Handoff]:
        rows = self._query("SELECT * FROM handoffs WHERE id = ?", (handoff_id,))
        return Handoff(**rows[0]) if rows else None

    def require(self, handoff_id: int) -> Handoff:
        handoff = self.get(handoff_id)
        if handoff is None:
            raise HandoffError(404, "no such conversation")
        return handoff

    def open_handoffs(self) -> list[Handoff]:
        """Claimed first (they are being worked on), then the queue oldest first."""
        rows = self._query("SELECT * FROM handoffs WHERE status IN ('queued', 'claimed') "
                           "ORDER BY status = 'queued', id")
        return [Handoff(**row) for row in rows]

    def claim(self, handoff_id: int, agent: str) -> Handoff:
        handoff = self.require(handoff_id)
        if handoff.status == "claimed" and handoff.claimed_by == agent:
            return handoff
        if handoff.status != "queued":
            holder = f"（{handoff.claimed_by}）" if handoff.status == "claimed" else ""
            raise HandoffError(409, f"conversation is {handoff.status}{holder}")
        with closing(self._connect()) as db, db:
            changed = db.execute("UPDATE handoffs SET status = 'claimed', claimed_by = ?, claimed_at = ? "
                                 "WHERE id = ? AND status = 'queued'", (agent, self.clock(), handoff_id)).rowcount
        if not changed:  # another agent was faster
            raise HandoffError(409, "conversation was just claimed by someone else")
        return self.require(handoff_id)

    def unclaim(self, handoff_id: int) -> None:
        """Back to the queue, at its old place (the claim could not take effect)."""
        self._query("UPDATE handoffs SET status = 'queued', claimed_by = NULL, claimed_at = NULL "
                    "WHERE id = ? AND status = 'claimed'", (handoff_id,))

    def held_by(self, handoff_id: int, agent: str) -> Handoff:
        handoff = self.require(handoff_id)
        if handoff.status != "claimed" or handoff.claimed_by != agent:
            raise HandoffError(409, "claim the conversation first" if handoff.status == "queued"
                               else f"conversation is {handoff.status}, held by {handoff.claimed_by or 'nobody'}")
        return handoff

    def resolve(self, handoff_id: int, agent: str) -> Handoff:
        handoff = self.require(handoff_id)
        if handoff.status == "resolved":
            raise HandoffError(409, "conversation is already resolved")
        if handoff.status == "claimed" and handoff.claimed_by != agent:
            raise HandoffError(409, f"conversation is held by {handoff.claimed_by}")
        self._query("UPDATE handoffs SET status = 'resolved', resolved_by = ?, resolved_at = ? WHERE id = ?",
                    (agent, self.clock(), handoff_id))
        return self.require(handoff_id)

    # outbox: messages to the citizen and their delivery
    def add_message(self, handoff: Handoff, author: str, text: str, agent: Optional[str] = None) -> OutboxMessage:
        message_id = self._insert(
            "INSERT INTO outbox (handoff_id, sender_id, channel, author, agent, text, created_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
            (handoff.id, handoff.sender_id, handoff.channel, author, agent, text, self.clock()))
        return self.message(message_id)  # type: ignore[return-value]

    def message(self, message_id: int) -> Optional[OutboxMessage]:
        rows = self._query("SELECT * FROM outbox WHERE id = ?", (message_id,))
        return OutboxMessage(**rows[0]) if rows else None

    def messages(self, handoff_id: int) -> list[OutboxMessage]:
        return [OutboxMessage(**row) for row in
                self._query("SELECT * FROM outbox WHERE handoff_id = ? ORDER BY id", (handoff_id,))]

    def mark(self, message_id: int, status: str, error: str = "") -> OutboxMessage:
        self._query("UPDATE outbox SET status = ?, error = ?, attempts = attempts + 1 WHERE id = ?",
                    (status, error[:300], message_id))
        return self.message(message_id)  # type: ignore[return-value]

    def collect_polled(self, sender_id: str, after: int) -> list[OutboxMessage]:
        """Messages for a web-chat (or REST) sender newer than `after`; fetching them is their delivery."""
        rows = self._query("SELECT * FROM outbox WHERE sender_id = ? AND channel IN ('web', 'rest') AND id > ? "
                           "ORDER BY id LIMIT 50", (sender_id, after))
        pending = [row["id"] for row in rows if row["status"] == "pending"]
        if pending:
            self._query(f"UPDATE outbox SET status = 'sent', attempts = attempts + 1 "
                        f"WHERE id IN ({','.join('?' * len(pending))})", tuple(pending))
        return [OutboxMessage(**{**row, "status": "sent"}) for row in rows]
