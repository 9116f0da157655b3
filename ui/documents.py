"""The documents tab: importing files (drop, Add…), the library table, failed files, and
collections linked to folders that are kept in sync while the app runs (the import list
itself is ui/import_view.py).

Imports are the engine's: files are put in the library's queue and its one ingest worker
does them, whoever queued them (this window, or an upload over the LAN API, which shows
here too). Cancel stops at the next batch boundary (a document is stored whole or not at
all) and drops the files still waiting.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import (QFileSystemWatcher, QSortFilterProxyModel, Qt, QTimer,
                            QUrl, Signal)
from PySide6.QtGui import QDesktopServices, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QSplitter, QTableView, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from engine import DEFAULT_COLLECTION, Document, EnclaveService, Failure

from . import engine_texts
from .i18n import Retranslating
from .import_view import ImportView
from .worker import Tasks


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def folders_below(folders: list[Path]) -> set[str]:
    """Linked folders and every folder below them (walked off the GUI thread)."""
    found = set()
    for folder in folders:
        if folder.is_dir():
            found.add(str(folder))
            found.update(str(p) for p in folder.rglob("*")
                         if p.is_dir() and not p.name.startswith("."))
    return found


class DocumentsPanel(Retranslating, QWidget):
    libraryChanged = Signal()
    importProgress = Signal(int, int, bool)  # files done, files total, running
    errorRaised = Signal(object)

    def __init__(self, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.service: EnclaveService | None = None
        self._failure_reasons: list[str] = []  # texts.Said keep their codes
        self._opening = False
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(lambda _: self._sync_timer.start())
        self._sync_timer = QTimer(self, singleShot=True, interval=2000)
        self._sync_timer.timeout.connect(self.sync_folders)

        # adding
        self.add_files_button = QPushButton()
        self.add_files_button.clicked.connect(self.choose_files)
        self.add_folder_button = QPushButton()
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.into_label = QLabel()
        self.collection_box = QComboBox()
        self.collection_box.setEditable(True)
        self.collection_box.setMinimumWidth(160)
        self.link_button = QPushButton()
        self.link_button.clicked.connect(self.choose_linked_folder)
        top = QHBoxLayout()
        for widget in (self.add_files_button, self.add_folder_button, self.into_label,
                       self.collection_box, self.link_button):
            top.addWidget(widget)
        top.addStretch(1)

        # the import in progress
        self.imports = ImportView()
        self.imports.importProgress.connect(self.importProgress)
        self.imports.importProgress.connect(lambda *_: self._set_enabled())
        self.imports.runEnded.connect(lambda: (self.reload(), self.libraryChanged.emit()))
        self.imports.errorRaised.connect(self.errorRaised)
        self.cancel_button = self.imports.cancel_button

        # the library
        self.library_box = QGroupBox()
        self.filter = QLineEdit()
        self.filter.setClearButtonEnabled(True)
        self.model = QStandardItemModel(0, 6, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setSortRole(Qt.UserRole)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._set_enabled())
        self.reindex_button = QPushButton()
        self.reindex_button.clicked.connect(self.reindex_selected)
        self.delete_button = QPushButton()
        self.delete_button.clicked.connect(self.delete_selected)
        self.reveal_button = QPushButton()
        self.reveal_button.clicked.connect(self.reveal_selected)
        library_bar = QHBoxLayout()
        library_bar.addWidget(self.filter, 1)
        for widget in (self.reindex_button, self.delete_button, self.reveal_button):
            library_bar.addWidget(widget)
        library_layout = QVBoxLayout(self.library_box)
        library_layout.addLayout(library_bar)
        library_layout.addWidget(self.table)

        # failed files
        self.failed_box = QGroupBox()
        self.failed = QTableWidget(0, 2)
        self.failed.verticalHeader().hide()
        self.failed.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.failed.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.failed.setColumnWidth(0, 260)
        self.retry_button = QPushButton()
        self.retry_button.clicked.connect(self.retry_failed)
        failed_layout = QVBoxLayout(self.failed_box)
        failed_layout.addWidget(self.failed)
        failed_layout.addWidget(self.retry_button, 0, Qt.AlignRight)
        self.failed_box.hide()

        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.addWidget(self.imports)
        self.splitter.addWidget(self.library_box)
        self.splitter.addWidget(self.failed_box)
        self.splitter.setSizes([220, 420, 140])
        self.imports.importProgress.connect(self._room_for_imports)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.retranslate()
        self._set_enabled()

    # --- texts -------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.add_files_button.setText(self.tr("Add files…"))
        self.add_files_button.setToolTip(self.tr("Add documents (Ctrl+O)"))
        self.add_folder_button.setText(self.tr("Add folder…"))
        self.into_label.setText(self.tr("into collection:"))
        self.link_button.setText(self.tr("Link a folder…"))
        self.link_button.setToolTip(self.tr(
            "Keep this collection in step with a folder: new, changed and removed files are "
            "picked up while Enclave runs"))
        self.library_box.setTitle(self.tr("Library"))
        self.filter.setPlaceholderText(self.tr("Filter by name, collection or date"))
        self.model.setHorizontalHeaderLabels([
            self.tr("Name"), self.tr("Collection"), self.tr("Pages"), self.tr("Chunks"),
            self.tr("Size"), self.tr("Added")])
        self.reindex_button.setText(self.tr("Re-index"))
        self.delete_button.setText(self.tr("Delete"))
        self.reveal_button.setText(self.tr("Show in folder"))
        self.failed_box.setTitle(self.tr("Files that could not be imported"))
        self.failed.setHorizontalHeaderLabels([self.tr("File"), self.tr("Reason")])
        self.retry_button.setText(self.tr("Retry all"))
        for row in range(self.failed.rowCount()):  # each reason in the window's language
            item = self.failed.item(row, 1)
            if item is not None:
                item.setText(engine_texts.shown(self._failure_reasons[row]))

    # --- service ---------------------------------------------------------------------

    def set_service(self, service: EnclaveService | None) -> None:
        self.service = service
        self.imports.set_service(service)
        self._set_enabled()
        if service is None:
            return
        self._opening = True  # the first listing syncs linked folders (changed while closed)
        self.reload()
        self._run(lambda _: service.library.resume())  # what an interrupted import left

    def _run(self, fn, on_result=None, **kwargs) -> None:
        self.tasks.run(fn, on_result=on_result, on_error=self.errorRaised.emit, **kwargs)

    def _room_for_imports(self, _done: int, _total: int, running: bool) -> None:
        """While files are imported, their list gets most of the tab."""
        sizes = self.splitter.sizes()
        if running and sizes[0] < sum(sizes[:2]) * 0.6:
            self.splitter.setSizes([int(sum(sizes[:2]) * 0.6), int(sum(sizes[:2]) * 0.4),
                                    sizes[2]])

    def _set_enabled(self) -> None:
        ready = self.service is not None
        selected = bool(self.table.selectionModel().selectedRows())
        for widget in (self.add_files_button, self.add_folder_button, self.link_button,
                       self.collection_box):
            widget.setEnabled(ready)
        for widget in (self.reindex_button, self.delete_button, self.reveal_button):
            widget.setEnabled(ready and selected)

    def reload(self) -> None:
        service = self.service
        if service is None:
            return
        def load(_):
            collections = service.library.collections()
            linked = [Path(c.folder) for c in collections if c.folder]
            return (collections, service.library.documents(), service.library.failures(),
                    folders_below(linked))

        self._run(load, self._show_library)

    def _show_library(self, found) -> None:
        collections, documents, failures, watched = found
        self._show_collections([c.name for c in collections])
        self._show_documents(documents)
        self._show_failures(failures)
        self._watch(watched)
        if self._opening:
            self._opening = False
            if watched:
                self.sync_folders()

    def _show_collections(self, names: list[str]) -> None:
        current = self.collection_box.currentText() or DEFAULT_COLLECTION
        self.collection_box.clear()
        self.collection_box.addItems(sorted(set(names) | {DEFAULT_COLLECTION}))
        self.collection_box.setCurrentText(current)

    def _show_documents(self, documents: list[Document]) -> None:
        self.model.removeRows(0, self.model.rowCount())
        for document in documents:
            added = time.strftime("%Y-%m-%d %H:%M", time.localtime(document.ingested_at))
            cells = [(document.name, document.name.lower()),
                     (document.collection, document.collection.lower()),
                     (str(document.pages or ""), document.pages or 0),
                     (str(document.chunks), document.chunks),
                     (human_size(document.size), document.size),
                     (added, document.ingested_at)]
            row = []
            for text, key in cells:
                item = QStandardItem(text)
                item.setData(key, Qt.UserRole)
                row.append(item)
            row[0].setData(document.id, Qt.UserRole + 1)
            row[0].setData(document.path, Qt.UserRole + 2)
            row[0].setToolTip(document.path)
            for item in row[2:5]:
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.model.appendRow(row)
        self._set_enabled()

    def _show_failures(self, failures: list[Failure]) -> None:
        self._failure_reasons = [failure.reason for failure in failures]
        self.failed.setRowCount(len(failures))
        for row, failure in enumerate(failures):
            name = QTableWidgetItem(Path(failure.path).name)
            name.setToolTip(failure.path)
            self.failed.setItem(row, 0, name)
            self.failed.setItem(row, 1, QTableWidgetItem(engine_texts.shown(failure.reason)))
        self.failed_box.setVisible(bool(failures))

    # --- adding ------------------------------------------------------------------------

    def target_collection(self) -> str:
        return self.collection_box.currentText().strip() or DEFAULT_COLLECTION

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Add documents"), "",
                                                self.tr("Documents") + " (*.pdf *.docx *.txt *.md *.markdown *.html *.htm "
                                                "*.png *.jpg *.jpeg *.tif *.tiff)")
        if files:
            self.add_paths([Path(f) for f in files])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add a folder"))
        if folder:
            self.add_paths([Path(folder)])

    def add_paths(self, paths: list[Path]) -> None:
        """Import files and folders (dropped or chosen) into the selected collection."""
        service, collection = self.service, self.target_collection()
        if service is None or not paths:
            return
        self._run(lambda _: service.library.enqueue(paths, collection), self._queued)

    def _queued(self, result) -> None:
        files, refused = result
        self.imports.show_queued(files)
        for path, reason in refused:
            self.imports.show_refused(path, reason)

    def choose_linked_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder to keep in sync"))
        if folder:
            self.link_folder(Path(folder))

    def link_folder(self, folder: Path) -> None:
        service, collection = self.service, self.target_collection()
        if service is None:
            return
        self._run(lambda _: service.library.link_collection(collection, folder),
                  lambda _: (self.reload(), self.sync_folders()))

    def _watch(self, wanted: set[str]) -> None:
        """Watch exactly these folders for changes."""
        current = set(self.watcher.directories())
        if current - wanted:
            self.watcher.removePaths(sorted(current - wanted))
        if wanted - current:
            self.watcher.addPaths(sorted(wanted - current))

    def sync_folders(self) -> None:
        """Bring linked collections in line with their folders (new and changed files are
        queued; documents whose file is gone are deleted)."""
        service = self.service
        if service is None:
            return
        self._run(lambda _: service.library.sync(), self._synced)

    def _synced(self, deleted: dict[str, list[str]]) -> None:
        if any(deleted.values()):
            self.reload()
            self.libraryChanged.emit()

    @property
    def running(self) -> bool:
        """Whether an import is going on (whoever started it)."""
        return self.imports.running

    def row_state(self, name: str) -> str | None:
        """The state shown in the import list for a file (by name)."""
        return self.imports.row_state(name)

    def cancel_import(self) -> None:
        self.imports.cancel_import()

    # --- the library -----------------------------------------------------------------

    def _selected(self) -> list[tuple[int, str, str]]:
        rows = []
        for index in self.table.selectionModel().selectedRows():
            item = self.model.itemFromIndex(self.proxy.mapToSource(index))
            rows.append((item.data(Qt.UserRole + 1), item.text(), item.data(Qt.UserRole + 2)))
        return rows

    def delete_selected(self) -> None:
        selected, service = self._selected(), self.service
        if not selected or service is None:
            return
        names = ", ".join(name for _, name, _ in selected[:5]) + ("…" if len(selected) > 5 else "")
        answer = QMessageBox.question(
            self, self.tr("Delete documents"),
            self.tr("Remove {0} document(s) from the library ({1})? The files on disk are "
                    "not touched.").format(len(selected), names))
        if answer != QMessageBox.Yes:
            return
        ids = [document_id for document_id, _, _ in selected]

        def work(_):
            for document_id in ids:
                service.library.delete_document(document_id)

        self._run(work, lambda _: (self.reload(), self.libraryChanged.emit()))

    def reindex_selected(self) -> None:
        selected, service = self._selected(), self.service
        if selected and service is not None:
            ids = [document_id for document_id, _, _ in selected]
            self._run(lambda _: service.library.reindex(ids), self.imports.show_queued)


    def reveal_selected(self) -> None:
        for _, _, path in self._selected()[:1]:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))

    def retry_failed(self) -> None:
        service = self.service
        if service is not None:
            self._run(lambda _: service.library.retry_failed(),
                      lambda count: count and self.imports.refresh_running())
