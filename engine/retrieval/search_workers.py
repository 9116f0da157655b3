"""Searches in worker processes beside the program that writes the library
(`enclave serve --workers N`).

A search holds Python's GIL for most of its time (fetching rows, weighing terms), so one
process runs searches one at a time however many cores the machine has. `SearchWorkers`
keeps N spawned processes, each with a read-only connection of its own to the vault (the
key travels over the pipe), its own copy of the HNSW index and its own query embedder, and
hands each search to an idle one. It has the retriever's `search`, so the facade uses it in
place of the retriever in this process.

What stays in the process that writes: every change to the library (imports, keys,
conversations, the audit log), answers and their model, and whatever the front end keeps
(the API's keys, rate limits and generation queue). The workers follow the library: each
change to the writer's index (vectors added or removed, the index rebuilt) is sent to every
worker, in order, ahead of any search sent after it; the vault they read is the same file.

A worker that is starting (its model and index take seconds to load) or has died is not
given searches: while none is ready, searches run in this process as before. A change of
the vault's key or of the embedding model needs the workers started again.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import queue
import threading
import traceback
from multiprocessing.connection import Connection

import numpy as np

from ..config import EngineConfig
from ..records import SearchHit
from ..store.vault import ReaderOpening
from .embedder import Embedder
from .retriever import HybridRetriever
from .vector_index import INDEX_FILE, VectorIndex

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 300  # a cold start builds the int8 graph and catches a large index up


class SearchWorkers:
    """`count` search processes over the library that `retriever` searches here."""

    def __init__(self, retriever: HybridRetriever, config: EngineConfig,
                 opening: ReaderOpening, count: int):
        if count < 1:
            raise ValueError("at least one search worker")
        self._local = retriever
        self._idle: list[_Worker] = []
        self._waiting: collections.deque[_Turn] = collections.deque()
        self._ready = 0
        self._lock = threading.Lock()
        self._closed = False
        index = retriever.index
        self._workers: list[_Worker] = []
        index.follow(self._changed)  # each worker starts after this: none misses a change
        for _ in range(count):
            self._workers.append(_Worker(config, opening, index.dimension))
        for worker in self._workers:
            threading.Thread(target=self._started, args=(worker,), daemon=True,
                             name="search-worker-start").start()

    @property
    def count(self) -> int:
        return len(self._workers)

    @property
    def ready(self) -> int:
        """How many workers take searches now."""
        return self._ready

    def wait_ready(self, timeout: float) -> bool:
        """Wait until every worker takes searches (True) or `timeout` seconds pass."""
        deadline = threading.Event()
        for _ in range(int(timeout * 20)):
            if self._ready == len(self._workers) or self._closed:
                break
            deadline.wait(0.05)
        return self._ready == len(self._workers)

    def search(self, query: str, k: int = 5, collection_ids: list[int] | None = None,
               document_ids: list[int] | None = None,
               timings: dict[str, float] | None = None) -> list[SearchHit]:
        """As `HybridRetriever.search`, in an idle worker (in this process while none is
        ready)."""
        worker = self._take()
        if worker is None:
            return self._local.search(query, k, collection_ids, document_ids, timings)
        try:
            outcome, value, spent = worker.search((query, k, collection_ids, document_ids))
        except (EOFError, OSError):
            self._lost(worker)
            return self._local.search(query, k, collection_ids, document_ids, timings)
        self._give_back(worker)
        if outcome == "error":
            raise value
        if outcome == "bug":
            log.error("a search failed in its worker; searched here instead:\n%s", value)
            return self._local.search(query, k, collection_ids, document_ids, timings)
        if timings is not None:
            timings.update(spent)
        return value

    def close(self) -> None:
        """Stop the workers (searches go on in this process)."""
        with self._lock:
            self._closed, self._ready = True, 0
            self._wake_all_waiting()
        for worker in self._workers:
            worker.stop()

    def _take(self) -> "_Worker | None":
        """An idle worker, waiting for one in turn (first come, first served: a search
        that came later never takes the worker a waiting one was to get); None when
        none is ready."""
        with self._lock:
            if not self._ready:
                return None
            if self._idle:
                return self._idle.pop()
            turn = _Turn()
            self._waiting.append(turn)
        turn.given.wait()
        return turn.worker

    def _give_back(self, worker: "_Worker") -> None:
        with self._lock:
            if self._waiting:
                turn = self._waiting.popleft()
                turn.worker = worker
                turn.given.set()
            else:
                self._idle.append(worker)

    def _wake_all_waiting(self) -> None:
        """No worker is left: those waiting search in this process (the lock is held)."""
        while self._waiting:
            self._waiting.popleft().given.set()

    def _started(self, worker: "_Worker") -> None:
        if worker.wait_started():
            with self._lock:
                if not self._closed:
                    self._ready += 1
            if not self._closed:
                self._give_back(worker)
                return
        if not self._closed:
            log.error("a search worker did not start; searches run in this process")
        worker.stop()

    def _lost(self, worker: "_Worker") -> None:
        log.error("a search worker ended (exit code %s); searches run in the others, or "
                  "in this process", worker.exitcode)
        with self._lock:
            self._ready -= 0 if self._closed else 1
            if not self._ready:
                self._wake_all_waiting()
        worker.stop()

    def _changed(self, change: str, ids: list[int], vectors: np.ndarray | None) -> None:
        for worker in self._workers:
            worker.send(("change", change, ids, vectors))


class _Turn:
    """A search waiting for a worker: `given` is set with `worker` (None: search here)."""

    def __init__(self):
        self.given = threading.Event()
        self.worker: _Worker | None = None


class _Worker:
    """One search process: its pipe, and a thread writing to it what is sent, in order
    (an index change never waits for a search to finish)."""

    def __init__(self, config: EngineConfig, opening: ReaderOpening, dimension: int):
        # spawn, not fork: this process holds threads, models and a vault connection
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, config, opening,
                                                             dimension),
                                        name="enclave-search", daemon=True)
        self._process.start()
        theirs.close()
        self._outbox: queue.SimpleQueue[tuple | None] = queue.SimpleQueue()
        threading.Thread(target=self._write, daemon=True, name="search-worker-pipe").start()

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode

    def wait_started(self) -> bool:
        try:
            return (self._conn.poll(_START_TIMEOUT_S) and self._conn.recv() == "ready")
        except (EOFError, OSError):
            return False

    def send(self, message: tuple) -> None:
        self._outbox.put(message)

    def search(self, request: tuple) -> tuple:
        """Send a search and wait for its outcome (the worker answers one at a time)."""
        self.send(("search", request))
        return self._conn.recv()

    def stop(self) -> None:
        self._outbox.put(None)
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5)

    def _write(self) -> None:
        while (message := self._outbox.get()) is not None:
            try:
                self._conn.send(message)
            except (OSError, ValueError):  # the worker is gone: its searches fail over
                return


def _serve(conn: Connection, config: EngineConfig, opening: ReaderOpening,
           dimension: int) -> None:
    """The worker: open the library read-only, then apply changes and answer searches in
    the order they come, until the pipe closes."""
    vault = opening.open()
    index = VectorIndex(config.data_dir / INDEX_FILE, vault.derived_key("hnsw-index"),
                        dimension)
    index.open(vault)
    embedder = Embedder.configured(config)
    embedder.embed_query("warm up")
    retriever = HybridRetriever.configured(config, vault, index, embedder)
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "change":
            _apply(index, vault, *message[1:])
            continue
        timings: dict[str, float] = {}
        try:
            reply = ("hits", retriever.search(*message[1], timings=timings), timings)
        except Exception as exc:  # the caller's error (a UserError) or a bug
            reply = ("error", exc, {})
        try:
            conn.send(reply)
        except Exception:  # an error that does not pickle
            conn.send(("bug", traceback.format_exc(), {}))


def _apply(index: VectorIndex, vault, change: str, ids: list[int],
           vectors: np.ndarray | None) -> None:
    if change == "added":
        index.add(ids, vectors)
    elif change == "removed":
        index.remove(ids)
    else:  # rebuilt: hold exactly what the vault holds
        index.open(vault)
