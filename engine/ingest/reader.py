"""Files are read (parsed) in a child process, within a budget of time and memory.

The parsers meet every file a library is given, hostile ones included: a zip bomb, a PDF
whose objects loop, a Word file of four million empty paragraphs. Read in the ingest
worker itself, one such file could take the machine's memory or hold the queue (and every
later import) for hours. So a child process reads each file under an address-space limit
(`memory_mb` beyond what it holds at start), and the worker waits for it at most
`timeout_s`: past either, or if the child dies, the file fails with the reason, the child
is replaced, and the batch goes on. The child is started once (about half a second: it
imports the parsers) and reads file after file; it exits when the worker's end of the pipe
closes, so it never outlives the library, even after a kill -9.

Pages read with OCR take seconds each: the child tells of each page as it goes, and each
page it finishes gives the file `timeout_s` more (a file may take that long per page,
not in all); the worker hears of the pages through `read`'s `progress`.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable

from ..errors import Cancelled, DocumentError, OverBudgetError
from .parsers import ParsedDocument, Progress, ReadLimits, parse

_POLL_S = 0.2  # how often a wait looks at the cancel token and the child's health
_START_TIMEOUT_S = 60.0


class ReaderProcess:
    """A child process that parses files one at a time for the ingest worker."""

    def __init__(self, limits: ReadLimits, timeout_s: float, memory_mb: int):
        self.limits, self.timeout_s, self.memory_mb = limits, timeout_s, memory_mb
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def read(self, path: Path, data: bytes | None = None,
             cancelled: Callable[[], bool] = lambda: False,
             progress: Progress | None = None) -> ParsedDocument:
        """The file parsed (or `data`, the bytes of a file of that name); raises the parser's
        DocumentError, OverBudgetError past the time or memory budget, or Cancelled.
        `progress` hears of the pages read with OCR."""
        conn = self._start()
        conn.send((str(path), data))
        deadline = time.monotonic() + self.timeout_s
        progress_seen = False
        while True:
            while not conn.poll(_POLL_S):
                if cancelled():
                    self.close()
                    raise Cancelled()
                if not self._process.is_alive():
                    raise self._crashed()
                if time.monotonic() > deadline:
                    self.close()
                    raise OverBudgetError.said(
                        "file_page_too_slow" if progress_seen else "file_too_slow",
                        seconds=f"{self.timeout_s:.0f}")
            try:
                outcome, value = conn.recv()
            except EOFError:  # died as it answered
                raise self._crashed() from None
            if outcome != "progress":
                break
            progress_seen = True
            deadline = time.monotonic() + self.timeout_s
            if progress:
                progress(*value)
        if outcome == "parsed":
            return value
        if outcome == "over-memory":
            self.close()  # a fresh child for the next file: this one's heap is in pieces
            raise OverBudgetError.said("file_too_much_memory", memory_mib=self.memory_mb)
        if outcome == "bug":
            raise RuntimeError(f"the reader failed:\n{value}")
        raise value  # a DocumentError with its reason

    def _crashed(self) -> OverBudgetError:
        """The child died reading: stop what is left of it, and say so of the file."""
        self._process.join(1)
        code = self._process.exitcode
        self.close()
        return OverBudgetError.said("file_reader_crashed", exit_code=code)

    def _start(self) -> Connection:
        if self._process is not None and self._process.is_alive():
            return self._conn
        self.close()
        # spawn, not fork: the worker's process holds threads, models and a vault connection
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(theirs, self.limits, self.memory_mb),
            name="enclave-reader", daemon=True)
        self._process.start()
        theirs.close()
        self._conn = ours
        # ready once its libraries are loaded: starting is not part of any file's budget
        if not ours.poll(_START_TIMEOUT_S) or ours.recv() != "ready":
            self.close()
            raise RuntimeError("the reader process did not start")
        return ours

    def close(self) -> None:
        """Stop the child (a new one starts with the next file)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process.close()
            self._process = None


def _serve(conn: Connection, limits: ReadLimits, memory_mb: int) -> None:
    """The child: parse each (path, data) received and send the outcome back, until EOF."""
    import pymupdf  # noqa: F401  the parsers' libraries, loaded before the limit is set
    import docx  # noqa: F401
    import bs4  # noqa: F401

    _limit_memory(memory_mb)
    conn.send("ready")
    while True:
        try:
            path, data = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("parsed", parse(Path(path), limits, data,
                                     lambda done, total: conn.send(("progress", (done, total)))))
        except MemoryError:
            reply = ("over-memory", None)
        except Exception as exc:
            reply = (("failed", exc) if isinstance(exc, DocumentError)
                     else ("bug", traceback.format_exc()))
        data = None
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("over-memory", None))


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at what the process maps now plus `memory_mb`."""
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    limit = mapped + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
