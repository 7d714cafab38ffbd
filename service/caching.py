"""The policy service's cache of query vectors, for the questions citizens ask again and again.

`QueryVectorCache` wraps the searcher's encoder: the vector of a query text never changes for one encoder, so
it needs no invalidation when the knowledge changes (passages — index builds — are never cached). Answers are
not cached: they depend on the NLU hint and the conversation's context as well as on the question.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, Sequence

import numpy as np

QUERY_VECTORS = 4096


class LRU:
    def __init__(self, size: int):
        self.size = size
        self._items: "OrderedDict[Hashable, Any]" = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            if key not in self._items:
                self.misses += 1
                return default
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = make()  # outside the lock: two threads may compute the same value, harmlessly
            self.put(key, value)
        return value


_MISSING = object()


class QueryVectorCache:
    """An encoder whose query vectors are remembered (read-only arrays, shared safely)."""

    def __init__(self, encoder, size: int = QUERY_VECTORS):
        self._encoder = encoder
        self._vectors = LRU(size)
        self.name, self.dim = encoder.name, encoder.dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        found = {text: self._vectors.get(text) for text in dict.fromkeys(texts)}
        missing = [text for text, vector in found.items() if vector is None]
        if missing:  # one batched encoder call for everything new
            for text, vector in zip(missing, self._encoder.encode_queries(missing)):
                vector.setflags(write=False)
                self._vectors.put(text, vector)
                found[text] = vector
        if not found:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([found[text] for text in texts])

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encoder.encode_passages(texts)

    def __getattr__(self, name: str) -> Any:  # anything else the encoder offers
        return getattr(self._encoder, name)
