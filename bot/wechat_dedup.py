"""Exactly-once processing of WeChat messages that WeChat retries.

WeChat re-posts a message it got no answer to within 5 s, up to three times, with the same MsgId (events:
the same FromUserName + CreateTime). The first request starts the work; every copy inside the window joins
the same asyncio task and so sees the same result. Claiming is a plain dict lookup with no await in between,
so concurrent requests in one event loop cannot both start the work.

The window lives in this process: several Rasa instances behind a load balancer need sticky routing per
OpenID (or a shared store) for this guarantee.
"""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, List, Optional, Tuple

DEFAULT_TTL_S = 300.0  # WeChat's retries span ~15 s; late copies (slow networks) are still recognised
DEFAULT_MAX_ENTRIES = 5000

PASSIVE = "passive"  # the answer goes back in the HTTP response
ASYNC = "async"      # someone answered "success": the answer goes through the customer-service API


@dataclass
class Pending:
    """One message's processing, shared by every copy of the message."""
    task: "asyncio.Task[Any]"
    started_at: float
    delivery: Optional[str] = None  # PASSIVE or ASYNC once decided, never changed after
    helpers: set = field(default_factory=set)  # follow-up tasks, referenced so they are not collected

    def decide(self, delivery: str) -> bool:
        """True for the one caller that fixes how the answer is delivered."""
        if self.delivery is None:
            self.delivery = delivery
            return True
        return False

    def spawn(self, coroutine: Awaitable[Any]) -> None:
        helper = asyncio.ensure_future(coroutine)
        self.helpers.add(helper)
        helper.add_done_callback(self.helpers.discard)


class DedupWindow:
    def __init__(self, ttl_s: float = DEFAULT_TTL_S, max_entries: int = DEFAULT_MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: "OrderedDict[str, Pending]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def claim(self, key: str, start: Callable[[], Awaitable[Any]]) -> Tuple[Pending, bool]:
        """The message's Pending, and True when this call started it (`start` runs only then)."""
        now = self._clock()
        self._forget_expired(now)
        pending = self._entries.get(key)
        if pending is not None:
            return pending, False
        pending = Pending(task=asyncio.ensure_future(start()), started_at=now)
        self._entries[key] = pending
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return pending, True

    def unfinished(self) -> List["asyncio.Future[Any]"]:
        """The work and follow-up tasks of the remembered messages that have not finished."""
        return [task for pending in self._entries.values() for task in (pending.task, *pending.helpers)
                if not task.done()]

    def _forget_expired(self, now: float) -> None:
        while self._entries:
            key, oldest = next(iter(self._entries.items()))
            if now - oldest.started_at < self.ttl_s:
                return
            del self._entries[key]
