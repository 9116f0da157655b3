"""The LAN API box of the settings tab: serving on/off with its address and status, the
API keys (create, shown once, for all collections or some, with personal data masked or
not; revoke), and the audit log (view, verify, export CSV).

Serving on/off, where from and the port are settings, applied with the others (the
settings tab's Apply, then `follow`); keys are made and revoked at once. The server itself
is the app's (`backend.start_api`); this panel only asks for it, on a worker thread, and
shows what it says.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDialog, QFileDialog,
                               QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QPushButton, QSpinBox,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from engine import EnclaveService

from .i18n import Retranslating
from .theme import ERROR_STYLE, WARNING_STYLE
from .worker import Tasks


class AuditDialog(QDialog):
    """The newest entries of the audit log, its verification and a CSV export."""

    def __init__(self, tasks: Tasks, service: EnclaveService, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks, self.service = tasks, service
        self.resize(900, 500)
        self.table = QTableWidget(0, 7)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.Stretch)
        self.result = QLabel()
        self.verify_button = QPushButton()
        self.verify_button.clicked.connect(self.verify)
        self.export_button = QPushButton()
        self.export_button.clicked.connect(self.export)
        row = QHBoxLayout()
        row.addWidget(self.result, 1)
        row.addWidget(self.verify_button)
        row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        self.retranslate()
        tasks.run(lambda _: service.access.audit_entries(limit=500), on_result=self._show)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("API audit log"))
        self.table.setHorizontalHeaderLabels([self.tr("Time"), self.tr("Key"), self.tr("Client"),
                                              self.tr("Request"), self.tr("Status"),
                                              self.tr("ms"), self.tr("Documents")])
        self.verify_button.setText(self.tr("Verify"))
        self.export_button.setText(self.tr("Export CSV…"))

    def _show(self, entries: list[dict]) -> None:
        self.table.setRowCount(len(entries))
        for r, e in enumerate(entries):
            cells = [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e["at"])), e["key_name"] or "—",
                     e["client"], f"{e['method']} {e['route']}", str(e["status"]),
                     f"{e['latency_ms']:.0f}", e["documents"].strip("[]")]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def verify(self) -> None:
        self.tasks.run(lambda _: self.service.access.verify_audit(), on_result=self._verified)

    def _verified(self, problems: list[str]) -> None:
        self.result.setStyleSheet(ERROR_STYLE if problems else "")
        self.result.setText("\n".join(problems) if problems else
                            self.tr("Intact: no entry was changed or deleted."))

    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export the audit log"),
                                              "enclave-audit.csv", "CSV (*.csv)")
        if path:
            def write(_):
                with Path(path).open("w", newline="", encoding="utf-8") as f:
                    return self.service.access.export_audit(f)
            self.tasks.run(write, on_result=lambda n: self.result.setText(
                self.tr("Exported {0} entries.").format(n)))


class ApiPanel(Retranslating, QGroupBox):
    errorRaised = Signal(object)

    def __init__(self, backend, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.backend, self.tasks = backend, tasks
        self.service: EnclaveService | None = None
        self.server = None
        self.enabled = QCheckBox()
        self._serving: tuple[str, int] | None = None  # where the running server listens
        self.scope = QComboBox()
        self.scope.addItem("", "127.0.0.1")
        self.scope.addItem("", "0.0.0.0")
        self.port = QSpinBox(minimum=1024, maximum=65535)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.scope.currentIndexChanged.connect(self._update_warning)

        self.keys = QTableWidget(0, 6)
        self.keys.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.keys.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.keys.verticalHeader().hide()
        self.keys.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.keys.setMaximumHeight(150)
        self.key_name = QLineEdit()
        self.key_scope = QComboBox()
        self.key_scope.addItem("", "read-only")
        self.key_scope.addItem("", "read-write")
        # the collections a new key may use: all of them, or those checked in the list
        self.key_all_collections = QCheckBox()
        self.key_all_collections.setChecked(True)
        self.key_all_collections.toggled.connect(lambda _: self._update_collections_enabled())
        self.key_collections = QListWidget()
        self.key_collections.setMaximumHeight(90)
        self.key_collections.setEnabled(False)
        self.key_mask = QCheckBox()
        self._keys_shown: list = []
        self.create_button = QPushButton()
        self.create_button.clicked.connect(self.create_key)
        self.revoke_button = QPushButton()
        self.revoke_button.clicked.connect(self.revoke_key)
        self.new_key = QLineEdit()
        self.new_key.setReadOnly(True)
        self.new_key.hide()
        self.copy_key = QPushButton()
        self.copy_key.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.new_key.text()))
        self.copy_key.hide()
        self.new_key_note = QLabel()
        self.new_key_note.setStyleSheet(WARNING_STYLE)
        self.new_key_note.hide()
        self.key_error = QLabel()
        self.key_error.setStyleSheet(ERROR_STYLE)
        self.audit_button = QPushButton()
        self.audit_button.clicked.connect(self.show_audit)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        self.serve_label, self.scope_label, self.port_label = QLabel(), QLabel(), QLabel()
        form.addRow(self.serve_label, self.enabled)
        form.addRow(self.scope_label, self.scope)
        form.addRow(self.port_label, self.port)
        create_row = QHBoxLayout()
        create_row.addWidget(self.key_name, 1)
        create_row.addWidget(self.key_scope)
        create_row.addWidget(self.create_button)
        create_row.addWidget(self.revoke_button)
        reach_row = QHBoxLayout()
        self.key_collections_label = QLabel()
        reach_row.addWidget(self.key_collections_label, 0, Qt.AlignTop)
        reach_column = QVBoxLayout()
        reach_column.addWidget(self.key_all_collections)
        reach_column.addWidget(self.key_collections)
        reach_row.addLayout(reach_column, 1)
        reach_row.addWidget(self.key_mask, 0, Qt.AlignTop)
        key_row = QHBoxLayout()
        key_row.addWidget(self.new_key, 1)
        key_row.addWidget(self.copy_key)
        self.keys_label = QLabel()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addWidget(self.status)
        layout.addWidget(self.keys_label)
        layout.addWidget(self.keys)
        layout.addLayout(create_row)
        layout.addLayout(reach_row)
        layout.addLayout(key_row)
        layout.addWidget(self.new_key_note)
        layout.addWidget(self.key_error)
        layout.addWidget(self.audit_button, 0, Qt.AlignLeft)
        self.load(backend.settings)
        self.retranslate()
        self._set_enabled()

    def retranslate(self) -> None:
        self.setTitle(self.tr("LAN API"))
        self.serve_label.setText(self.tr("Serve the API"))
        self.enabled.setText(self.tr("On (other programs can search and ask with an API key)"))
        self.scope_label.setText(self.tr("Reachable from"))
        self.scope.setItemText(0, self.tr("This computer only"))
        self.scope.setItemText(1, self.tr("The local network"))
        self.port_label.setText(self.tr("Port"))
        self.keys_label.setText(self.tr("API keys"))
        self.keys.setHorizontalHeaderLabels([self.tr("Name"), self.tr("Scope"),
                                             self.tr("Created"), self.tr("State"),
                                             self.tr("Collections"), self.tr("Personal data")])
        self.key_name.setPlaceholderText(self.tr("Name of a new key, e.g. reporting-server"))
        self.key_scope.setItemText(0, self.tr("Read-only (search, ask)"))
        self.key_scope.setItemText(1, self.tr("Read-write (also upload, delete)"))
        self.key_collections_label.setText(self.tr("The new key may use"))
        self.key_all_collections.setText(self.tr("All collections"))
        self.key_collections.setToolTip(self.tr("Only the checked collections: the key "
                                                "cannot search, read or change the others."))
        self.key_mask.setText(self.tr("Mask personal data"))
        self.key_mask.setToolTip(self.tr("E-mail addresses, phone, card and ID numbers are "
                                         "masked in what the key gets: search results, "
                                         "answers, sources, chats and conversations."))
        self.create_button.setText(self.tr("Create key"))
        self.revoke_button.setText(self.tr("Revoke"))
        self.copy_key.setText(self.tr("Copy"))
        self.new_key_note.setText(self.tr("Copy this key now: it is not stored and will not be "
                                          "shown again."))
        self.audit_button.setText(self.tr("Audit log…"))
        self._update_warning()
        self._show_status()
        self._show_keys(self._keys_shown)

    def set_service(self, service: EnclaveService | None) -> None:
        self.service = service
        self._set_enabled()
        if service is None:
            return
        self.reload_keys()
        if self.server is not None or self.backend.settings.api_enabled:
            self._start()  # a new service (settings changed) is served in place of the old

    def _set_enabled(self) -> None:
        ready = self.service is not None
        for widget in (self.create_button, self.revoke_button, self.audit_button,
                       self.key_name, self.key_all_collections, self.key_mask):
            widget.setEnabled(ready)
        self._update_collections_enabled()

    def _update_warning(self) -> None:
        lan = self.scope.currentData() == "0.0.0.0"
        self.warning.setText(self.tr("Any machine on the network that has a key can reach the "
                                     "library. Traffic is not encrypted unless a certificate "
                                     "is set (see README).") if lan else "")
        self.warning.setVisible(lan)

    # --- serving -----------------------------------------------------------------------

    def load(self, settings) -> None:
        """Show the saved settings (dropping edits not applied)."""
        self.enabled.setChecked(settings.api_enabled)
        self.scope.setCurrentIndex(0 if settings.api_host in ("127.0.0.1", "localhost") else 1)
        self.port.setValue(settings.api_port)

    def values(self) -> dict:
        """The settings as shown."""
        return {"api_enabled": self.enabled.isChecked(), "api_host": self.scope.currentData(),
                "api_port": self.port.value()}

    def follow(self, settings) -> None:
        """Serve as the settings just applied say: start, stop, or start again elsewhere."""
        wanted = (settings.api_host, settings.api_port) if settings.api_enabled else None
        if wanted == self._serving or self.service is None:
            return
        if wanted is not None:
            self._start()  # the app stops a server already running first
            return
        backend = self.backend
        self.tasks.run(lambda _: backend.stop_api(), on_finished=self._stopped)

    def _start(self) -> None:
        service, backend = self.service, self.backend
        if service is None:
            return
        self.status.setText(self.tr("Starting…"))
        where = (backend.settings.api_host, backend.settings.api_port)
        self.tasks.run(lambda _: backend.start_api(service),
                       on_result=lambda server: self._started(server, where),
                       on_error=self._failed)

    def _started(self, server, where: tuple[str, int]) -> None:
        self.server, self._serving = server, where
        self._show_status()

    def _failed(self, exc: BaseException) -> None:
        self.server = self._serving = None
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(str(exc))

    def _stopped(self) -> None:
        self.server = self._serving = None
        self._show_status()

    def _show_status(self) -> None:
        self.status.setStyleSheet("")
        if self.server is None:
            self.status.setText(self.tr("Stopped."))
        else:
            where = (self.tr("on the local network") if self.server.on_lan
                     else self.tr("on this computer only"))
            self.status.setText(self.tr("Running {0} at {1} — documentation at {1}/docs")
                                .format(where, self.server.url))

    # --- keys ----------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.reload_collections()  # made or deleted in the Documents tab meanwhile

    def reload_keys(self) -> None:
        service = self.service
        if service is not None:
            self.tasks.run(lambda _: service.access.keys(), on_result=self._show_keys)
        self.reload_collections()

    def reload_collections(self) -> None:
        service = self.service
        if service is not None:
            self.tasks.run(lambda _: [c.name for c in service.library.collections()],
                           on_result=self._show_collections)

    def _show_collections(self, names: list[str]) -> None:
        checked = set(self.checked_collections())
        self.key_collections.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in checked else Qt.Unchecked)
            self.key_collections.addItem(item)

    def checked_collections(self) -> list[str]:
        items = (self.key_collections.item(i) for i in range(self.key_collections.count()))
        return [item.text() for item in items if item.checkState() == Qt.Checked]

    def _update_collections_enabled(self) -> None:
        self.key_collections.setEnabled(self.service is not None
                                        and not self.key_all_collections.isChecked())

    def _show_keys(self, keys) -> None:
        self._keys_shown = keys
        self.keys.setRowCount(len(keys))
        for r, key in enumerate(keys):
            scope = {"read-only": self.tr("read-only"),
                     "read-write": self.tr("read-write")}.get(key.scope, key.scope)
            cells = [key.name, scope, time.strftime("%Y-%m-%d", time.localtime(key.created_at)),
                     self.tr("active") if key.active else self.tr("revoked"),
                     self.tr("All") if key.collections is None else ", ".join(key.collections),
                     self.tr("Masked") if key.mask_personal_data else self.tr("Shown")]
            for c, text in enumerate(cells):
                self.keys.setItem(r, c, QTableWidgetItem(text))

    def create_key(self) -> None:
        service, name, scope = self.service, self.key_name.text().strip(), self.key_scope.currentData()
        if service is None:
            return
        collections = None if self.key_all_collections.isChecked() else self.checked_collections()
        if collections == []:
            self.key_error.setText(self.tr("Check the collections the key may use, or "
                                           "All collections."))
            return
        mask = self.key_mask.isChecked()
        self.key_error.clear()
        self.tasks.run(lambda _: service.access.create_key(name, scope, collections, mask)[1],
                       on_result=self._created, on_error=lambda exc: self.key_error.setText(str(exc)))

    def _created(self, key: str) -> None:
        self.key_name.clear()
        self.new_key.setText(key)
        for widget in (self.new_key, self.copy_key, self.new_key_note):
            widget.show()
        self.reload_keys()

    def revoke_key(self) -> None:
        rows = self.keys.selectionModel().selectedRows()
        service = self.service
        if not rows or service is None:
            return
        name = self.keys.item(rows[0].row(), 0).text()
        self.tasks.run(lambda _: service.access.revoke_key(name), on_result=lambda _: self.reload_keys(),
                       on_error=lambda exc: self.key_error.setText(str(exc)))

    def show_audit(self) -> None:
        if self.service is not None:
            self.audit_dialog = AuditDialog(self.tasks, self.service, self)
            self.audit_dialog.show()
