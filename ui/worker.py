"""Runs engine calls off the GUI thread and brings their results back to it.

`Tasks.run(fn, ...)` calls `fn(report)` on a worker thread of the task pool; `report`
may be called there with progress values. Result, error, progress and the end are
delivered as queued signals to a receiver living in the GUI thread, which calls the
callbacks given, so that widgets are only ever touched from the GUI thread.
A task given a `latest` name delivers its result only if no later task of that name
was started: a panel's refreshes can finish out of order, the newest one wins.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


class _Signals(QObject):
    progress = Signal(object)
    result = Signal(object)
    error = Signal(object)
    finished = Signal()


class _Delivery(QObject):
    """Lives in the GUI thread; its slots run there because the signals are queued."""

    def __init__(self, on_result: Callback | None, on_error: Callback | None,
                 on_progress: Callback | None, on_finished: Callable[[], None]):
        super().__init__()
        self._on_result, self._on_error = on_result, on_error
        self._on_progress, self._on_finished = on_progress, on_finished

    @Slot(object)
    def progress(self, value: Any) -> None:
        if self._on_progress:
            self._on_progress(value)

    @Slot(object)
    def result(self, value: Any) -> None:
        if self._on_result:
            self._on_result(value)

    @Slot(object)
    def error(self, exc: BaseException) -> None:
        if self._on_error:
            self._on_error(exc)
        else:
            log.error("background task failed", exc_info=exc)

    @Slot()
    def finished(self) -> None:
        self._on_finished()


class _Task(QRunnable):
    def __init__(self, fn: Callable[[Callable[[Any], None]], Any], signals: _Signals):
        super().__init__()
        self.setAutoDelete(False)
        self._fn, self._signals = fn, signals

    def run(self) -> None:
        try:
            value = self._fn(self._signals.progress.emit)
        except Exception as exc:  # handed to the GUI thread, which shows or logs it
            self._signals.error.emit(exc)
        else:
            self._signals.result.emit(value)
        finally:
            self._signals.finished.emit()


class Tasks(QObject):
    """The app's pool of worker threads, with the tasks still running."""

    def __init__(self, parent: QObject | None = None, threads: int = 4):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._running: set[tuple[_Task, _Signals, _Delivery]] = set()
        self._newest: dict[str, int] = {}

    def run(self, fn: Callable[[Callable[[Any], None]], Any], *,
            on_result: Callback | None = None, on_error: Callback | None = None,
            on_progress: Callback | None = None,
            on_finished: Callable[[], None] | None = None, latest: str | None = None) -> None:
        """Call `fn(report)` on a worker; callbacks run on the GUI thread.

        With `latest`, the result is dropped when a later task of the same name was
        started meanwhile (a refresh that read the vault before a newer one did).
        """
        if latest is not None and on_result is not None:
            on_result = self._if_newest(latest, on_result)
        signals = _Signals()
        entry: tuple[_Task, _Signals, _Delivery]

        def finished() -> None:
            self._running.discard(entry)
            if on_finished:
                on_finished()

        delivery = _Delivery(on_result, on_error, on_progress, finished)
        signals.progress.connect(delivery.progress)
        signals.result.connect(delivery.result)
        signals.error.connect(delivery.error)
        signals.finished.connect(delivery.finished)
        task = _Task(fn, signals)
        entry = (task, signals, delivery)
        self._running.add(entry)
        self.pool.start(task)

    def _if_newest(self, name: str, on_result: Callback) -> Callback:
        number = self._newest[name] = self._newest.get(name, 0) + 1

        def deliver(value: Any) -> None:
            if self._newest[name] == number:
                on_result(value)
        return deliver

    def wait(self, msecs: int = -1) -> bool:
        """Block until every worker is idle (shutdown, tests)."""
        return self.pool.waitForDone(msecs)
