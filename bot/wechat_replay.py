"""Replay protection for WeChat webhooks: a timestamp window and a memory of nonces inside it.

WeChat's `signature` covers only token, timestamp and nonce, never the body: a captured query string would
otherwise sign any body, forever. So a request is refused (403) when its timestamp is more than
`window_s` off our clock, or when its (timestamp, nonce) pair was already used for a *different* message.
The same message again — WeChat retrying a MsgId it got no answer to — passes, and the dedup window
(bot.wechat_dedup) gives it the first copy's reply.

Nonces are remembered only as long as their timestamp is inside the window: after that the timestamp check
alone refuses them. Like the dedup window this memory is per process (sticky routing per OpenID, see README).
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Optional

WINDOW_S = 300
MAX_NONCES = 200_000  # ~40 MB at most; WeChat sends far fewer messages per 10 minutes to one account


class ReplayGuard:
    def __init__(self, window_s: float = WINDOW_S, max_nonces: int = MAX_NONCES,
                 wall_clock: Callable[[], float] = time.time):
        self.window_s = window_s
        self.max_nonces = max_nonces
        self._wall_clock = wall_clock
        self._seen: "OrderedDict[tuple[str, str], tuple[float, str]]" = OrderedDict()

    def fresh(self, timestamp: Optional[str]) -> bool:
        """The timestamp is a number within `window_s` of now."""
        try:
            sent = float(timestamp or "")
        except ValueError:
            return False
        return abs(self._wall_clock() - sent) <= self.window_s

    def admit(self, timestamp: Optional[str], nonce: Optional[str], message_key: str) -> bool:
        """True when the request may be processed; remembers its nonce for `message_key`."""
        if not self.fresh(timestamp) or not nonce:
            return False
        self._forget_expired()
        key = (str(timestamp), nonce)
        seen = self._seen.get(key)
        if seen is not None:
            return seen[1] == message_key
        self._seen[key] = (float(timestamp), message_key)  # type: ignore[arg-type]
        while len(self._seen) > self.max_nonces:
            self._seen.popitem(last=False)
        return True

    def _forget_expired(self) -> None:
        oldest_allowed = self._wall_clock() - self.window_s
        while self._seen:
            key, (sent, _) = next(iter(self._seen.items()))
            if sent >= oldest_allowed:
                return
            del self._seen[key]
