"""Follow publishes without a restart: build the new index beside the live one and swap it in.

A publish commits to the store and bumps its revision. The IndexKeeper thread polls the revision
(every `poll_seconds`). The new index is built in a separate builder process (IndexBuilder: one
worker, nice'd, one BLAS/OpenMP thread, its own encoder instance), so the encoding and tokenising of a
200-clause document compete neither for the service's GIL nor for its encoder; the worker writes the
index to the index directory and the keeper loads it from there, warms it, and swaps it in with one
assignment: a search in flight keeps the index it started with, the next one gets the new index, and
no search ever waits for a build or sees half of one. Then it reloads the calculator and calls every
listener registered with `on_published` (e.g. to empty an answer cache); only then is the revision
"live" for `until_live` / `wait_live` (what the staff routes and tests wait on instead of polling).
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import tempfile
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from knowledge.index import PolicyIndex, build_index

logger = logging.getLogger(__name__)
Listener = Callable[[int], None]
BUILD_NICE = int(os.environ.get("KNOWLEDGE_BUILD_NICE", "10"))
BUILD_THREADS = int(os.environ.get("KNOWLEDGE_BUILD_THREADS", "1"))


# -- the builder process ----------------------------------------------------------------------------------
_worker_last: dict = {}  # in the worker: the index it built last (its vectors are re-used next time)


def _init_worker(nice: int, threads: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s index-builder: %(message)s")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[name] = str(threads)  # read when the encoder's native runtime loads, i.e. later
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    try:
        os.nice(nice)
    except OSError:
        pass
    try:
        import faiss
        faiss.omp_set_num_threads(threads)
    except (ImportError, AttributeError):
        pass


def _warm_worker(encoder_spec: str | None) -> None:
    """Load the modules and the encoder now, so the first publish does not wait for them."""
    from knowledge.encoders import make_encoder
    import knowledge.index  # noqa: F401

    make_encoder(encoder_spec)


def _build_in_worker(db_path: str, encoder_spec: str | None, index_dir: str, batch_size: int) -> dict:
    """Runs in the builder process: build from the store, save to index_dir, return the meta."""
    from knowledge.encoders import make_encoder
    from knowledge.store import Store

    encoder = make_encoder(encoder_spec)
    previous = _worker_last.get(index_dir)  # None the first time: build_index reads the vectors on disk
    index = build_index(Store(db_path), index_dir, encoder, previous=previous, batch_size=batch_size)
    _worker_last[index_dir] = index
    return index.meta


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(True)


class IndexBuilder:
    """Builds indexes in one long-lived worker process (started by warm() or the first build; its encoder
    loads once). KNOWLEDGE_BUILD_NICE (default 10) and KNOWLEDGE_BUILD_THREADS (default 1) tune it."""

    def __init__(self, db_path, encoder_spec: str | None, index_dir=None, nice: int = BUILD_NICE,
                 threads: int = BUILD_THREADS, batch_size: int = 16):
        self.db_path, self.encoder_spec = str(db_path), encoder_spec
        self._tmp: tempfile.TemporaryDirectory | None = None
        if index_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="policy-index-")
            index_dir = self._tmp.name
        self.index_dir = str(index_dir)
        self.nice, self.threads, self.batch_size = nice, threads, batch_size
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_worker, initargs=(self.nice, self.threads))
        return self._pool

    def warm(self) -> Future:
        """Start the worker and load its encoder (at low priority); done when it is ready."""
        return self._executor().submit(_warm_worker, self.encoder_spec)

    def build(self, store, previous: PolicyIndex, encoder) -> PolicyIndex:
        """Build in the worker (from the store file), then load the result here with the searcher's
        `encoder` (which checks the vectors are comparable)."""
        try:
            self._executor().submit(_build_in_worker, self.db_path, self.encoder_spec, self.index_dir,
                                    self.batch_size).result()
        except BrokenProcessPool:
            self._pool = None  # the worker died (killed, out of memory): a new one next time
            raise
        return PolicyIndex.load(self.index_dir, encoder)

    def close(self) -> None:
        if self._pool is not None:
            # a build in progress dies with the service (the next start builds again); without this, the
            # interpreter's exit would wait for it
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._tmp is not None:
            self._tmp.cleanup()


class ThreadBuilder:
    """Builds in the keeper's own thread (tests and tools without a builder process)."""

    def __init__(self, encoder, index_dir=None, batch_size: int = 8):
        self.encoder, self.index_dir, self.batch_size = encoder, index_dir, batch_size

    def build(self, store, previous: PolicyIndex, _encoder) -> PolicyIndex:
        return build_index(store, self.index_dir, self.encoder, previous=previous, batch_size=self.batch_size)

    def close(self) -> None:
        pass


# -- the keeper ---------------------------------------------------------------------------------------------
class IndexKeeper:
    def __init__(self, searcher, engine=None, builder=None, poll_seconds: float = 0.5,
                 nice: int = 4):
        self.searcher, self.engine = searcher, engine
        self.builder = builder or ThreadBuilder(searcher.encoder)
        self.poll_seconds, self.nice = poll_seconds, nice
        self.listeners: list[Listener] = []
        self.last_error: str | None = None
        self._live = int(searcher.index.meta.get("revision", -1))
        self._changed = threading.Condition()
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future]] = []
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
        self.builder.close()
        self._thread.join(timeout=5)

    @property
    def revision(self) -> int:
        """The store revision that is live: index swapped in, calculator reloaded, listeners called."""
        return self._live

    # -- waiting for a revision (instead of polling) -----------------------------------------------------
    def wait_live(self, revision: int, timeout: float) -> bool:
        """Block until `revision` (or a later one) is live; False if `timeout` seconds pass first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._live >= revision, timeout)

    async def until_live(self, revision: int, timeout: float) -> bool:
        """wait_live for the event loop: resolved by the keeper thread, no polling, no thread parked."""
        loop = asyncio.get_running_loop()
        with self._changed:
            if self._live >= revision:
                return True
            waiter = (revision, loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter[2], timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            with self._changed:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _went_live(self, revision: int) -> None:
        with self._changed:
            self._live = max(self._live, revision)
            self._changed.notify_all()
            ready = [w for w in self._waiters if w[0] <= self._live]
        for _, loop, future in ready:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # that loop has closed
                pass

    # -- following the store --------------------------------------------------------------------------
    def _loop(self) -> None:
        try:  # Linux: a thread's nice value is its own
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        except (AttributeError, OSError):
            pass
        while not self._stop.wait(self.poll_seconds):
            try:
                self.follow()
                self.last_error = None
            except Exception as error:  # keep serving the old index; try again next poll
                if self._stop.is_set():
                    break  # stop() ended the builder process under a build
                self.last_error = str(error)
                logger.exception("index rebuild failed; the previous index stays live")

    def follow(self) -> bool:
        """Build and swap in a new index if the store changed since the live one; True if swapped."""
        store = self.searcher.store
        store_id, revision = store.state()
        live = self.searcher.index
        if live.meta.get("revision") == revision and live.meta.get("store_id") == store_id:
            return False
        index = self.builder.build(store, live, self.searcher.encoder)
        index.corrector, index.corpus_chars  # lazily built parts: built here, not by the first search
        self.searcher.index = index  # the swap
        if self.engine is not None and hasattr(self.engine, "follow"):
            self.engine.reload()
        logger.info("published revision %s live: %s", index.meta.get("revision"), index.describe())
        for listener in list(self.listeners):
            try:
                listener(int(index.meta.get("revision", revision)))
            except Exception:
                logger.exception("publish listener failed")
        self._went_live(int(index.meta.get("revision", revision)))
        return True
