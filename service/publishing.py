"""Follow publishes without a restart: rebuild the index beside the live one and swap it in.

A publish commits to the store and bumps its revision. The IndexKeeper thread polls the revision
(every `poll_seconds`), builds the new index from the store in its own thread with its own encoder
instance, at low CPU priority and in small batches, warms it, and swaps it in with one assignment:
a search in flight keeps the index it started with, the next one gets the new index, and no search
ever waits for a build or sees half of one. Then it reloads the calculator and calls every
listener registered with `on_published` (e.g. to empty an answer cache).
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable

from knowledge.index import build_index

logger = logging.getLogger(__name__)
Listener = Callable[[int], None]


class IndexKeeper:
    def __init__(self, searcher, engine=None, encoder=None, index_dir=None, poll_seconds: float = 0.5,
                 batch_size: int = 8, nice: int = int(os.environ.get("KNOWLEDGE_BUILD_NICE", "4"))):
        self.searcher, self.engine = searcher, engine
        self.encoder = encoder or searcher.encoder
        self.index_dir = index_dir
        self.poll_seconds, self.batch_size, self.nice = poll_seconds, batch_size, nice
        self.listeners: list[Listener] = []
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="index-keeper", daemon=True)
        searcher.config.auto_refresh_seconds = -1  # searches never rebuild: this thread does

    def on_published(self, listener: Listener) -> None:
        """Call `listener(revision)` after each swap (the new index and calculator are live)."""
        self.listeners.append(listener)

    def start(self) -> "IndexKeeper":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)  # a build in progress dies with the process

    @property
    def revision(self) -> int:
        """The store revision the live index reflects."""
        return int(self.searcher.index.meta.get("revision", -1))

    def _loop(self) -> None:
        try:  # Linux: a thread's nice value is its own; the encoder's worker threads inherit it
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        except (AttributeError, OSError):
            pass
        while not self._stop.wait(self.poll_seconds):
            try:
                self.follow()
                self.last_error = None
            except Exception as error:  # keep serving the old index; try again next poll
                self.last_error = str(error)
                logger.exception("index rebuild failed; the previous index stays live")

    def follow(self) -> bool:
        """Build and swap in a new index if the store changed since the live one; True if swapped."""
        store = self.searcher.store
        store_id, revision = store.state()
        live = self.searcher.index
        if live.meta.get("revision") == revision and live.meta.get("store_id") == store_id:
            return False
        index = build_index(store, None, self.encoder, previous=live, batch_size=self.batch_size)
        index.corrector, index.corpus_chars  # lazily built parts: built here, not by the first search
        self.searcher.index = index  # the swap
        if self.engine is not None and hasattr(self.engine, "follow"):
            self.engine.reload()
        if self.index_dir is not None:
            index.save(self.index_dir)
        logger.info("published revision %s live: %s", revision, index.describe())
        for listener in list(self.listeners):
            try:
                listener(revision)
            except Exception:
                logger.exception("publish listener failed")
        return True
