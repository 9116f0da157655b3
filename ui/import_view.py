"""The Documents tab's import list: every file the library's ingest worker takes, with its
state and progress (the files an earlier run left queued too), the overall bar with the
time left, Skip file (the selected one leaves the queue), Cancel and Clear list.

The overall bar counts each file of the run by how far it is (its chunks embedded), not
only the files done, and the time left is the time so far scaled by what remains, shown
from the first seconds (rough at first: every file counts alike).

It follows the engine's events, whoever queued the files (this window, a linked folder, or
an upload over the LAN API); events come on the worker's threads and are handed to the GUI
thread through a queued signal.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QProgressBar, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from engine import EnclaveService, IngestProgress, IngestReport, UserError

from . import engine_texts
from .i18n import Retranslating

_WAITING = ("queued", "interrupted", "parsing", "recognising", "embedding")
"""States of a file that is still in the queue (the last three: being read now)."""
ETA_AFTER_S = 2.0
"""No time left is guessed before the run has gone on this long."""


def file_fraction(event: IngestProgress) -> float:
    """How far one file is, 0 to 1: read, then its chunks embedded, then stored."""
    if event.final:
        return 1.0
    if event.stage == "embedding" and event.file_chunks_total:
        return 0.05 + 0.9 * event.file_chunks_done / event.file_chunks_total
    if event.stage == "recognising" and event.ocr_pages_total:  # its pages said in words
        return 0.02 + 0.03 * event.ocr_pages_done / event.ocr_pages_total
    return {"parsing": 0.02, "embedding": 0.05, "storing": 0.95}.get(event.stage, 0.0)


class ImportView(Retranslating, QGroupBox):
    importProgress = Signal(int, int, bool)  # files done, files total, running
    runEnded = Signal()
    """A run of the worker ended: the library has changed."""
    errorRaised = Signal(object)
    _ingestEvent = Signal(object)  # from the engine's worker thread, delivered on the GUI's

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.service: EnclaveService | None = None
        self.running = False
        self._cancelling = False
        self._eta: float | None = None
        self._started = 0.0
        self._fractions: dict[str, float] = {}  # how far each file of this run is
        self._rows: dict[str, int] = {}
        self._reasons: dict[str, str | None] = {}  # by path: a texts.Said keeps its code
        self._unsubscribe = lambda: None
        self._ingestEvent.connect(self._on_event)

        self.drop_hint = QLabel()
        self.jobs = QTableWidget(0, 3)
        self.jobs.verticalHeader().hide()
        self.jobs.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.jobs.setSelectionMode(QAbstractItemView.SingleSelection)
        self.jobs.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.jobs.itemSelectionChanged.connect(self._set_enabled)
        self.jobs.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.jobs.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.jobs.setColumnWidth(2, 160)
        self.overall = QProgressBar()
        self.overall.setRange(0, 1000)
        self.overall_label = QLabel()
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.cancel_import)
        self.clear_button = QPushButton()
        self.clear_button.clicked.connect(self.clear_finished)
        self.skip_button = QPushButton()  # the selected file leaves the queue
        self.skip_button.clicked.connect(self.skip_selected)
        overall_row = QHBoxLayout()
        overall_row.addWidget(self.overall, 1)
        overall_row.addWidget(self.overall_label)
        overall_row.addWidget(self.skip_button)
        overall_row.addWidget(self.cancel_button)
        overall_row.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.drop_hint)
        layout.addWidget(self.jobs)
        layout.addLayout(overall_row)
        self.retranslate()
        self._set_enabled()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Import"))
        self.drop_hint.setText(self.tr(
            "Drop files or folders anywhere on the window: PDF, Word (.docx), text, Markdown, "
            "HTML, and scans as PNG, JPEG or TIFF."))
        self.jobs.setHorizontalHeaderLabels([self.tr("File"), self.tr("State"), self.tr("Progress")])
        self.cancel_button.setText(self.tr("Cancel"))
        self.skip_button.setText(self.tr("Skip file"))
        self.skip_button.setToolTip(self.tr(
            "Take the selected file out of the import queue; the other files go on."))
        self.clear_button.setText(self.tr("Clear list"))
        for path, row in self._rows.items():
            item = self.jobs.item(row, 1)
            reason = self._reasons.get(path)
            item.setText(self._state_text(item.data(Qt.UserRole), reason))
            item.setToolTip(engine_texts.shown(reason) if reason else "")
        self._update_overall_label()

    def _state_text(self, state: str, reason: str | None = None) -> str:
        texts = {
            "queued": self.tr("Queued"), "parsing": self.tr("Reading"),
            "recognising": self.tr("Reading with OCR"),
            "embedding": self.tr("Embedding"), "storing": self.tr("Saving"),
            "indexed": self.tr("Indexed"), "skipped": self.tr("Unchanged, skipped"),
            "failed": self.tr("Failed"), "cancelled": self.tr("Cancelled"),
            "interrupted": self.tr("Queued"),  # stopped in the middle: still in the queue
        }
        text = texts.get(state, state)
        return f"{text}: {engine_texts.shown(reason)}" if reason else text

    def set_service(self, service: EnclaveService | None) -> None:
        """Follow this library's ingest worker (None: none)."""
        self._unsubscribe()
        self._unsubscribe = lambda: None
        self.service = service
        self._set_running(False)
        if service is not None:
            self._unsubscribe = service.library.subscribe(self._ingestEvent.emit)
            self.show_queued(service.library.queued())  # left by an earlier run: visible

    # --- what the panel tells -----------------------------------------------------------

    def show_queued(self, files: list[Path]) -> None:
        """Rows for files just queued; the worker's events may have come first (they win)."""
        for path in files:
            if str(path) not in self._rows:
                self._set_row(str(path), "queued", 0)
        if files:
            self.refresh_running()

    def refresh_running(self) -> None:
        """Show whether the worker is at work now (after queueing; its events follow)."""
        if self.service is not None:
            self._set_running(self.service.library.importing)

    def show_refused(self, path: Path, reason: str) -> None:
        self._set_row(str(path), "failed", 0, reason)

    def row_state(self, name: str) -> str | None:
        """The state shown for a file (by name): for tests and screenshots."""
        for path, row in self._rows.items():
            if Path(path).name == name:
                return self.jobs.item(row, 1).data(Qt.UserRole)
        return None

    def cancel_import(self) -> None:
        """Stop the import at the next boundary; the files still waiting are dropped."""
        if self.service is not None and self.running:
            self.service.library.cancel()
            self._cancelling = True
            self._update_overall_label()

    def skip_selected(self) -> None:
        """Take the selected file out of the queue (if it is being read, it stops there)."""
        path = self._selected_waiting()
        if self.service is None or path is None:
            return
        try:
            self.service.library.skip(path)
        except UserError as exc:  # done meanwhile, or the library is read-only here
            self.errorRaised.emit(exc)

    def _selected_waiting(self) -> str | None:
        """The selected file, if it is still waiting or being read."""
        rows = {index.row() for index in self.jobs.selectionModel().selectedRows()}
        for path, row in self._rows.items():
            if row in rows and self.jobs.item(row, 1).data(Qt.UserRole) in _WAITING:
                return path
        return None

    def clear_finished(self) -> None:
        self._rows.clear()
        self._reasons.clear()
        self.jobs.setRowCount(0)
        self._update_overall_label()
        self._set_enabled()

    # --- following the engine's worker ------------------------------------------------

    def _on_event(self, event: IngestProgress | IngestReport) -> None:
        if self.service is None:
            return
        if isinstance(event, IngestReport):  # a run ended: the next one tells it started
            self._set_running(False)
            self.runEnded.emit()
            if event.error:  # the vault or the index failed: the files stay queued
                self.errorRaised.emit(RuntimeError(event.error))
            return
        if event.files_total:  # not for the files a cancel dropped
            self._set_running(True)
        if event.path:
            if event.stage in ("cancelled", "interrupted"):
                fraction = 0
            else:
                self._fractions[event.path] = file_fraction(event)
                fraction = int(100 * self._fractions[event.path])
            reason = event.reason
            if event.stage == "recognising" and event.ocr_pages_done < event.ocr_pages_total:
                reason = self.tr("page {0} of {1}").format(event.ocr_pages_done + 1,
                                                           event.ocr_pages_total)
            self._set_row(event.path, event.stage, fraction, reason)
        if event.files_total:
            done = min(1.0, max(event.files_done, sum(self._fractions.values()))
                       / event.files_total)
            self.overall.setValue(int(1000 * done))
            elapsed = time.monotonic() - self._started
            self._eta = (elapsed * (1 - done) / done if done and elapsed >= ETA_AFTER_S
                         else None)
            self._update_overall_label(event.files_done, event.files_total)
            self.importProgress.emit(event.files_done, event.files_total, True)

    def _set_running(self, running: bool) -> None:
        if running == self.running:
            return
        self.running = running
        self._cancelling = False
        self._eta = None
        self._fractions.clear()
        self._started = time.monotonic()
        self.overall.setValue(0 if running else 1000)
        self._update_overall_label()
        self._set_enabled()
        self.importProgress.emit(0, 0, running)

    def _set_enabled(self) -> None:
        self.cancel_button.setEnabled(self.running)
        self.clear_button.setEnabled(not self.running and bool(self._rows))
        self.skip_button.setEnabled(self._selected_waiting() is not None)

    def _update_overall_label(self, done: int = 0, total: int = 0) -> None:
        if not self.running:
            self.overall_label.setText(self.tr("Idle") if not self._rows else self.tr("Done"))
            return
        if self._cancelling:
            self.overall_label.setText(self.tr("Cancelling…"))
            return
        text = self.tr("{0} of {1} files").format(done, total) if total else self.tr("Starting…")
        if self._eta is not None:
            minutes = round(self._eta / 60)
            text += " · " + (self.tr("about %n min left", "", minutes) if minutes
                             else self.tr("less than a minute left"))
        self.overall_label.setText(text)

    def _set_row(self, path: str, state: str, percent: int, reason: str | None = None) -> None:
        row = self._rows.get(path)
        if row is None:
            row = self.jobs.rowCount()
            self.jobs.insertRow(row)
            name = QTableWidgetItem(Path(path).name)
            name.setToolTip(path)
            self.jobs.setItem(row, 0, name)
            self.jobs.setItem(row, 1, QTableWidgetItem())
            self.jobs.setCellWidget(row, 2, QProgressBar())
            self._rows[path] = row
        item = self.jobs.item(row, 1)
        item.setData(Qt.UserRole, state)
        self._reasons[path] = reason
        item.setText(self._state_text(state, reason))
        item.setToolTip(engine_texts.shown(reason) if reason else "")
        self.jobs.cellWidget(row, 2).setValue(percent)
        self.jobs.scrollToItem(item)
        self._set_enabled()
