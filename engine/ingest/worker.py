"""The one ingest worker of an open library: a thread that is the queue's only reader.

Front ends put files in the vault's `ingest_queue` (through the library facade) and wake
the worker; it works through the queue with the pipeline, one run at a time, and tells
every subscriber each step (`IngestProgress`) and the end of each run (`IngestReport`;
every wake ends with one, even when the queue was empty).
Nobody else runs the pipeline, so no two runs ever take the same queue rows.

`cancel()` stops the current run at the next file or batch boundary and drops the files
still waiting (each gets a "cancelled" event), or keeps them queued; `stop()` (when the
library closes) stops the run and keeps the queue, which the next `resume()` takes up.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..records import IngestProgress, IngestReport
from ..store.diskspace import DISK_FULL, disk_full
from ..store.vault import Vault
from .pipeline import CancelToken, Ingestor

log = logging.getLogger(__name__)

IngestEvent = IngestProgress | IngestReport
"""A step of a file (progress) or the end of a run (its report)."""
Listener = Callable[[IngestEvent], None]


class IngestWorker:
    def __init__(self, vault: Vault, ingestor: Ingestor):
        self._vault, self._ingestor = vault, ingestor
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._finishing = False  # the last report is going out: no longer "running"
        self._closing = False
        self._cancel = CancelToken()
        self._drop_after_run = False
        self._thread: threading.Thread | None = None

    # --- what front ends call ------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every event, on the worker's threads (a file being read is
        told of from the read-ahead thread; each file's steps come in order); returns the
        way to stop."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return unsubscribe

    def resume(self) -> None:
        """Work through whatever is queued (files just added, or left by an earlier run)."""
        with self._lock:
            if self._closing:
                raise UserError.said("library_closed")
            self._busy, self._finishing = True, False  # busy until the queue is found empty
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="ingest", daemon=True)
                self._thread.start()
            self._wake.set()  # under the lock: the thread decides "idle" under it too

    def cancel(self, drop_waiting: bool = True) -> None:
        """Stop the run at the next boundary; the files still waiting are forgotten, or,
        with `drop_waiting` False, stay queued for the next `resume`."""
        with self._lock:
            if self._busy:
                self._drop_after_run = self._drop_after_run or drop_waiting
                self._cancel.cancel()

    def skip(self, path: str) -> bool:
        """Take one file out of the queue (the one being read now stops there, and the run
        goes on with the next); whether it was queued. Its last event is "cancelled"."""
        queued, now = self._ingestor.skip(path)
        if queued and not now:  # the run tells of the one it was at
            self._publish(IngestProgress(0, 0, 0, Path(path).name, "cancelled", 0.0, path))
        return queued

    @property
    def running(self) -> bool:
        """Whether the worker is at work (false from the moment it reports its last run)."""
        with self._lock:
            return self._busy and not self._finishing

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the queue is worked through and the last report delivered (or the
        worker stopped, or `timeout`); True unless the time ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy, timeout)

    def stop(self) -> None:
        """Stop for good (the library is closing): the run ends, the queue stays."""
        with self._lock:
            self._closing = True
            self._cancel.cancel()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()
        self._ingestor.close()

    # --- the thread ----------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while not self._closing:
                self._wake.wait()
                self._wake.clear()
                while not self._closing and self._run_once():
                    pass  # one report per wake at least, then until the queue is empty
        finally:  # whatever happens, nobody waits forever on a worker that is gone
            with self._lock:
                self._busy = self._finishing = False
                self._idle.notify_all()

    def _run_once(self) -> bool:
        """One run over the queue and its report; whether to run again at once."""
        try:
            report = self._ingestor.run(self._publish, self._cancel)
        except Exception as exc:  # a full disk, a broken vault or index: told to the front ends
            if disk_full(exc):
                log.warning("ingest run stopped: the disk is full")
                report = IngestReport(error=f"{DISK_FULL} ({exc})")
            else:
                log.exception("ingest run failed")
                report = IngestReport(error=f"{type(exc).__name__}: {exc}")
        if self._drop_after_run:
            self._drop_waiting()
        stopped = report.cancelled or report.error is not None
        more = not stopped and bool(self._vault.scalar("SELECT count(*) FROM ingest_queue"))
        with self._lock:
            if stopped:  # a cancel is for the run it stopped, not for the next one
                self._cancel = CancelToken()
                self._drop_after_run = False
            going_idle = not more and not self._wake.is_set()
            self._finishing = going_idle  # `running` says false as the report goes out
        self._publish(report)
        with self._lock:
            if going_idle and not self._wake.is_set():
                self._busy = self._finishing = False
                self._idle.notify_all()
            else:
                self._finishing = False
        return more

    def _drop_waiting(self) -> None:
        with self._vault.transaction() as conn:
            paths = [row[0] for row in conn.execute("SELECT path FROM ingest_queue")]
            conn.execute("DELETE FROM ingest_queue")
        with self._lock:
            self._cancel = CancelToken()
            self._drop_after_run = False
        for path in paths:
            self._publish(IngestProgress(0, 0, 0, Path(path).name, "cancelled", 0.0, path))

    def _publish(self, event: IngestEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # one broken subscriber must not stop the others or the run
                log.exception("an ingest listener failed")
