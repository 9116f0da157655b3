"""Files read ahead of the embedding: the first stage of the ingest pipeline.

A thread of its own goes through a run's queue entries in order and reads each (hashes
it, parses it in the reader process, chunks it) while the ingest worker embeds and stores
the files read before. What it has read waits in a buffer: it reads the next file only
while the buffer holds fewer than `capacity` chunks, so it never runs far ahead of the
embedding. The worker takes the files as groups: the next file (waiting for it), then the
ones already read, up to a number of chunks.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..errors import Cancelled
from .chunker import Chunk
from .parsers import ParsedDocument


@dataclass
class ReadFile:
    """A queue entry once read: to store (`parsed` and `chunks`), "unchanged" (its document
    is up to date), "failed" (`reason`), or "cancelled" (skipped while it was read)."""

    queue_id: int
    path: Path
    collection_id: int
    outcome: str = "read"
    reason: str | None = None
    parsed: ParsedDocument | None = None
    chunks: list[Chunk] = field(default_factory=list)
    sha: str = ""
    size: int = 0
    mtime: float = 0.0


Entry = tuple[int, str, int]
"""A queue entry: id, path, collection id."""


class ReadAhead:
    def __init__(self, entries: Iterable[Entry],
                 read: Callable[[Entry, Callable[[], bool]], ReadFile | None], capacity: int):
        """Start reading `entries` with `read(entry, stopped)`, which returns None for an
        entry to pass over and raises Cancelled once `stopped()` says so (or the run's
        cancel token does); anything else it raises ends the reading and is raised again
        by `group`, after the files read before."""
        self._entries, self._read, self._capacity = entries, read, capacity
        self._ready: deque[ReadFile] = deque()
        self._held = 0  # chunks in `_ready`
        self._changed = threading.Condition()
        self._stopping = False
        self._error: BaseException | None = None
        self.finished = False
        """Whether every entry was read (not stopped, cancelled or broken off)."""
        self._thread = threading.Thread(target=self._run, name="ingest-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for entry in self._entries:
                if self._stopping:
                    return
                file = self._read(entry, lambda: self._stopping)
                if file is None:
                    continue
                with self._changed:
                    while self._held >= self._capacity and self._ready and not self._stopping:
                        self._changed.wait()
                    self._ready.append(file)
                    self._held += len(file.chunks)
                    self._changed.notify_all()
            self.finished = True
        except Cancelled:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the worker's thread
            self._error = exc
        finally:
            with self._changed:
                self._stopping = True
                self._changed.notify_all()

    def group(self, chunks: int) -> list[ReadFile]:
        """The next file read (waiting for it) and those read after it that are ready, as
        long as they hold at most `chunks` chunks together; empty once nothing is left.
        Raises what broke the reading off, once the files read before are taken."""
        with self._changed:
            while not self._ready and not self._stopping:
                self._changed.wait()
            if not self._ready:
                if self._error is not None:
                    raise self._error
                return []
            group = [self._ready.popleft()]
            total = len(group[0].chunks)
            while self._ready and total + len(self._ready[0].chunks) <= chunks:
                group.append(self._ready.popleft())
                total += len(group[-1].chunks)
            self._held -= total
            self._changed.notify_all()
        return group

    def stop(self) -> None:
        """Stop reading (the file being read stops at its next step) and wait for it."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join()
