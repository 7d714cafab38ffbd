"""Per-key token buckets: a flood from one sender or client does not starve the others.

Pure and dependency-free, so both runtimes use it (see bot.masking on the bot/ boundary): the chat channels
inside Rasa key it by sender id, the policy service by client address. Memory is bounded: the least
recently seen keys are forgotten first (a forgotten key starts again with a full bucket).
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int, max_keys: int = 50_000,
                 clock: Callable[[], float] = time.monotonic):
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: "OrderedDict[str, tuple[float, float]]" = OrderedDict()  # key -> (tokens, at)

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when its bucket is empty."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate_per_s)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed

    def retry_after(self, key: str) -> float:
        """Seconds until `key` has a token again (0 when it has one now)."""
        tokens, at = self._buckets.get(key, (float(self.burst), self._clock()))
        tokens = min(float(self.burst), tokens + (self._clock() - at) * self.rate_per_s)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate_per_s


# Chat channels: a person types at most a message every few seconds; a burst covers quick-reply taps.
SENDER_RATE_PER_S = 0.5
SENDER_BURST = 10
SLOW_DOWN_REPLY = "您发送得太快了，请稍等几秒再发。"


def sender_limiter(clock: Callable[[], float] = time.monotonic) -> RateLimiter:
    return RateLimiter(SENDER_RATE_PER_S, SENDER_BURST, clock=clock)
