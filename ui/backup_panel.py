"""The Backups box of the settings tab: the daily plan (kept in the vault, applied with the
other settings: `pending_plan`, `save_plan`), Back up now, the last backup's time and
result, the recovery key to write down, changing the library's key (`change_key.py`), and
Restore….

The plan is checked and stored by the engine; the app's scheduler runs it. A failed or
missed backup is raised as an alert (`alert`), which the main window shows.
"""

from __future__ import annotations

import time
from html import escape
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QMessageBox, QPushButton, QSpinBox, QTimeEdit,
                               QVBoxLayout, QWidget)

from engine import BackupPlan, BackupResult, EnclaveService, KeyChanged

from . import engine_texts
from .change_key import ChangeKeyDialog
from .i18n import Retranslating
from .theme import ERROR_STYLE
from .worker import Tasks


class BackupPanel(Retranslating, QGroupBox):
    alert = Signal(str)
    errorRaised = Signal(object)
    restoreRequested = Signal(Path)
    loaded = Signal()
    """The saved plan is shown (edits can be compared with it from now on)."""
    _scheduledResult = Signal(object)  # emitted on the scheduler's thread, delivered here

    def __init__(self, backend, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.backend, self.tasks = backend, tasks
        self.service: EnclaveService | None = None
        self.enabled = QCheckBox()
        self.at = QTimeEdit()
        self.at.setDisplayFormat("HH:mm")
        self.destination = QLineEdit()
        self.browse = QPushButton()
        self.browse.clicked.connect(self._browse)
        self.keep = [QSpinBox(minimum=1, maximum=366), QSpinBox(minimum=0, maximum=520),
                     QSpinBox(minimum=0, maximum=1200)]
        self._plan: BackupPlan | None = None  # as saved
        self.now_button = QPushButton()
        self.now_button.clicked.connect(self.back_up_now)
        self.recovery_button = QPushButton()
        self.recovery_button.clicked.connect(self.show_recovery_key)
        self.key_button = QPushButton()
        self.key_button.clicked.connect(self.change_key)
        self.restore_button = QPushButton()
        self.restore_button.clicked.connect(self.choose_restore)
        self.last = QLabel()
        self.last.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        destination_row = QHBoxLayout()
        destination_row.addWidget(self.destination, 1)
        destination_row.addWidget(self.browse)
        keep_row = QHBoxLayout()
        self.keep_labels = [QLabel() for _ in self.keep]
        for label, box in zip(self.keep_labels, self.keep):
            keep_row.addWidget(box)
            keep_row.addWidget(label)
        keep_row.addStretch(1)
        self.labels = [QLabel() for _ in range(4)]
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        self.destination.setMinimumWidth(420)
        for label, field in zip(self.labels, (self.enabled, self.at, destination_row, keep_row)):
            form.addRow(label, field)
        buttons = QHBoxLayout()
        for button in (self.now_button, self.recovery_button,
                       self.key_button, self.restore_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.last)
        layout.addWidget(self.message)
        self._result: BackupResult | None = None
        self._key_method = "passphrase"
        self._scheduledResult.connect(self._backed_up)
        self.retranslate()
        self.setEnabled(False)

    def retranslate(self) -> None:
        self.setTitle(self.tr("Backups"))
        for label, text in zip(self.labels, (self.tr("Daily backup"), self.tr("At"),
                                             self.tr("Into folder"), self.tr("Keep"))):
            label.setText(text)
        self.enabled.setText(self.tr("On (the encrypted library is copied and verified)"))
        self.browse.setText(self.tr("Choose…"))
        for label, text in zip(self.keep_labels, (self.tr("daily"), self.tr("weekly"),
                                                  self.tr("monthly"))):
            label.setText(text)
        self.now_button.setText(self.tr("Back up now"))
        self.recovery_button.setText(self.tr("Recovery key…"))
        self.key_button.setText(self.tr("Change passphrase…") if self._key_method == "passphrase"
                                else self.tr("Change key…"))
        self.restore_button.setText(self.tr("Restore…"))
        self._show_result(self._result)

    def set_service(self, service: EnclaveService | None) -> None:
        self.service = service
        self.setEnabled(False)  # until the plan is shown: an edit made before would be lost
        if service is None:
            return
        backend = self.backend

        def load(_):
            backend.start_scheduler(service, self._scheduledResult.emit)
            return service.backups.plan(), service.backups.last_result(), service.vault_key.method

        self.tasks.run(load, on_result=self._loaded, on_error=self.errorRaised.emit)

    def _loaded(self, found) -> None:
        plan, result, self._key_method = found
        self.retranslate()
        self._plan = plan
        self.reset()
        self._show_result(result)
        self.setEnabled(True)
        self.loaded.emit()
        if result is not None and not result.ok:
            self.alert.emit(self.tr("The last backup failed: {0}").format(
                engine_texts.shown(result.reason)))

    def reset(self) -> None:
        """Show the saved plan (dropping edits not applied)."""
        plan = self._plan
        if plan is None:
            return
        self.enabled.setChecked(plan.enabled)
        self.at.setTime(QTime.fromString(plan.at, "HH:mm"))
        self.destination.setText(plan.destination)
        for box, value in zip(self.keep, (plan.keep_daily, plan.keep_weekly, plan.keep_monthly)):
            box.setValue(value)

    def _show_result(self, result: BackupResult | None) -> None:
        self._result = result
        self.last.setStyleSheet("" if result is None or result.ok else ERROR_STYLE)
        if result is None:
            self.last.setText(self.tr("No backup yet."))
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(result.at))
        self.last.setText(self.tr("Last backup {0}: verified, in {1}").format(when, result.path)
                          if result.ok else
                          self.tr("Last backup {0} FAILED: {1}").format(
                              when, engine_texts.shown(result.reason)))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder for backups"),
                                                  self.destination.text())
        if folder:
            self.destination.setText(folder)

    def plan(self) -> BackupPlan:
        return BackupPlan(self.enabled.isChecked(), self.at.time().toString("HH:mm"),
                                      self.destination.text().strip(),
                                      *(box.value() for box in self.keep))

    def pending_plan(self) -> BackupPlan | None:
        """The plan on screen when it differs from the saved one."""
        plan = self.plan()
        return plan if self._plan is not None and plan != self._plan else None

    def save_plan(self, on_saved: Callable[[], None], on_error: Callable[[BaseException], None]
                  ) -> None:
        """Keep the plan on screen (checked by the engine) and schedule it."""
        service, backend, plan = self.service, self.backend, self.plan()
        if service is None:
            return

        def work(_):
            saved = service.backups.save_plan(plan)
            backend.reschedule()
            return saved

        def saved(plan: BackupPlan) -> None:
            self._plan = plan
            self._say(self.tr("Backup plan saved."))
            on_saved()

        self.tasks.run(work, on_result=saved, on_error=on_error)

    def back_up_now(self) -> None:
        service, backend = self.service, self.backend
        if service is None:
            return
        self.now_button.setEnabled(False)
        self._say(self.tr("Backing up…"))
        self.tasks.run(lambda _: backend.backup_now(service), on_result=self._backed_up,
                       on_error=self.errorRaised.emit,
                       on_finished=lambda: self.now_button.setEnabled(True))

    def _backed_up(self, result: BackupResult) -> None:
        self._show_result(result)
        self._say("")
        if not result.ok:
            self.alert.emit(self.tr("The backup failed: {0}").format(
                engine_texts.shown(result.reason)))

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    def show_recovery_key(self, service: EnclaveService | None = None,
                          changed: KeyChanged | None = None) -> None:
        """Show the recovery key to write down: on request, right after a keyring library
        is made, and once the key was changed (`changed`: the new one, and what the change
        means for the backups made before)."""
        service = service or self.service
        if service is None:
            return
        text = self.tr(
            "Write this key down and keep it apart from the computer. It opens this library's "
            "backups on a replacement machine whose keyring does not hold the key:\n\n{0}")
        if changed is not None:
            text = self._key_changed(changed) + "\n\n" + text
        key = changed.recovery_key if changed else service.backups.recovery_key()
        # the key on one line, in a typeface that tells 0 from O and 1 from l
        text = escape(text).replace("\n", "<br>").replace(
            "{0}", f'<p style="white-space: pre; margin-top: 0"><tt>{key}</tt></p>')
        self.recovery_box = QMessageBox(QMessageBox.Information, self.tr("Recovery key"), text,
                                        QMessageBox.Ok, self)
        self.recovery_box.setTextFormat(Qt.RichText)
        self.recovery_box.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.recovery_box.open()

    def change_key(self) -> None:
        """Change the library's key (a passphrase library's passphrase), then show the new
        recovery key."""
        if self.service is None:
            return
        dialog = self.change_key_dialog = ChangeKeyDialog(self.service, self._key_method,
                                                          self.tasks, self)
        dialog.changed.connect(lambda changed: self.show_recovery_key(changed=changed))
        dialog.errorRaised.connect(self.errorRaised)
        dialog.open()

    def _key_changed(self, changed: KeyChanged) -> str:
        """What a change of key means, for the box that shows the new recovery key."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(changed.changed_at))
        lines = [self.tr(
            "The library's key was changed on {0}: the library and its index are re-encrypted, "
            "and backups from now on use the new key. Backups made before still need the old "
            "passphrase or the old recovery key: keep those with them.").format(when)]
        if changed.method == "passphrase":
            lines.append(self.tr(
                "Scripts that give the passphrase (ENCLAVE_PASSPHRASE, for a nightly `enclave "
                "backup` for instance) need the new one."))
        if changed.index_problem:
            lines.append(self.tr(
                "The index could not be rewritten now ({0}): it is rebuilt from the library "
                "when Enclave next starts.").format(changed.index_problem))
        return " ".join(lines)

    def choose_restore(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("The backup to restore"),
                                                  self.destination.text())
        if not folder:
            return
        answer = QMessageBox.question(self, self.tr("Restore a backup"), self.tr(
            "Replace the library with the backup {0}? The backup is verified first; the "
            "current library is kept aside, not deleted.").format(Path(folder).name))
        if answer == QMessageBox.Yes:
            self.restoreRequested.emit(Path(folder))
