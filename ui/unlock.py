"""First-run setup and the passphrase prompt.

`SetupDialog` asks where the library lives and how its key is kept (the OS keyring
where there is one, else a passphrase, typed twice), and checks that the bundled models
are there. `PassphraseDialog` asks for the passphrase of an existing library and says
so, and asks again, when it is wrong. Both only collect input: the main window opens
the vault with it on a worker thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout, QWidget)

from engine import MIN_PASSPHRASE_LENGTH

from .i18n import Retranslating
from .theme import ERROR_STYLE


class SetupDialog(Retranslating, QDialog):
    """Emits `chosen(data_dir, key_source, passphrase or None)`."""

    chosen = Signal(Path, str, object)

    def __init__(self, data_dir: Path, keyring_available: bool, prefer_passphrase: bool = False,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.keyring_available = keyring_available
        self.setMinimumWidth(560)
        self.welcome = QLabel()
        self.welcome.setWordWrap(True)
        self.data_dir = QLineEdit(str(data_dir))
        self.browse = QPushButton()
        self.browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_dir, 1)
        folder_row.addWidget(self.browse)
        self.use_keyring = QRadioButton()
        self.use_passphrase = QRadioButton()
        self.use_keyring.setEnabled(keyring_available)
        use_keyring = keyring_available and not prefer_passphrase
        (self.use_keyring if use_keyring else self.use_passphrase).setChecked(True)
        self.use_passphrase.toggled.connect(self._update)
        self.passphrase = QLineEdit(echoMode=QLineEdit.Password)
        self.confirm = QLineEdit(echoMode=QLineEdit.Password)
        self.passphrase_note = QLabel()
        self.passphrase_note.setWordWrap(True)
        self.models = QLabel()
        self.models.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout()
        self.folder_label, self.key_label = QLabel(), QLabel()
        self.passphrase_label, self.confirm_label, self.models_label = QLabel(), QLabel(), QLabel()
        self.form.addRow(self.folder_label, folder_row)
        keys = QVBoxLayout()
        keys.addWidget(self.use_keyring)
        keys.addWidget(self.use_passphrase)
        self.form.addRow(self.key_label, keys)
        self.form.addRow(self.passphrase_label, self.passphrase)
        self.form.addRow(self.confirm_label, self.confirm)
        self.form.addRow("", self.passphrase_note)
        self.form.addRow(self.models_label, self.models)
        layout = QVBoxLayout(self)
        layout.addWidget(self.welcome)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._model_report: list[tuple[str, str | None]] | None = None
        self.retranslate()
        self._update()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Welcome to Enclave"))
        self.welcome.setText(self.tr(
            "Enclave keeps your documents in an encrypted library on this computer and answers "
            "questions about them. Nothing leaves this machine. Choose where the library lives "
            "and how it is locked."))
        self.folder_label.setText(self.tr("Library folder"))
        self.browse.setText(self.tr("Choose…"))
        self.key_label.setText(self.tr("Lock"))
        self.use_keyring.setText(self.tr("Keep the key in the system keyring (recommended)")
                                 if self.keyring_available else
                                 self.tr("System keyring (not available on this computer)"))
        self.use_passphrase.setText(self.tr("Ask for a passphrase when Enclave starts"))
        self.passphrase_label.setText(self.tr("Passphrase"))
        self.confirm_label.setText(self.tr("Passphrase again"))
        self.passphrase_note.setText(self.tr(
            "At least {0} characters. Write it down somewhere safe: without it the library "
            "cannot be opened, by anyone.").format(MIN_PASSPHRASE_LENGTH))
        self.models_label.setText(self.tr("Models"))
        self.buttons.button(QDialogButtonBox.Ok).setText(self.tr("Create library"))
        self.show_models(self._model_report)

    def show_models(self, report: list[tuple[str, str | None]] | None) -> None:
        self._model_report = report
        if report is None:
            self.models.setText(self.tr("Checking the bundled models…"))
            return
        lines = [("✔ " + self.tr("{0} is ready").format(name)) if problem is None
                 else ("✘ " + problem) for name, problem in report]
        self.models.setText("\n".join(lines))

    def _update(self) -> None:
        on = self.use_passphrase.isChecked()
        for widget in (self.passphrase, self.confirm, self.passphrase_note,
                       self.passphrase_label, self.confirm_label):
            widget.setVisible(on)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Library folder"), self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)

    def _submit(self) -> None:
        folder = self.data_dir.text().strip()
        if not folder:
            self.error.setText(self.tr("Choose a folder for the library."))
            return
        if self.use_passphrase.isChecked():
            phrase = self.passphrase.text()
            if len(phrase) < MIN_PASSPHRASE_LENGTH:
                self.error.setText(self.tr("The passphrase must have at least {0} characters.")
                                   .format(MIN_PASSPHRASE_LENGTH))
                return
            if phrase != self.confirm.text():
                self.error.setText(self.tr("The two passphrases differ."))
                return
            self.chosen.emit(Path(folder).expanduser(), "passphrase", phrase)
        else:
            self.chosen.emit(Path(folder).expanduser(), "keyring", None)
        self.error.clear()
        self.accept()


class PassphraseDialog(Retranslating, QDialog):
    """Emits `submitted(passphrase)`; stays open until `succeeded` or a new attempt."""

    submitted = Signal(str)

    def __init__(self, data_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.data_dir = data_dir
        self.setMinimumWidth(460)
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.passphrase = QLineEdit(echoMode=QLineEdit.Password)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.passphrase)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Unlock Enclave"))
        self.prompt.setText(self.tr("Enter the passphrase of the library in {0}.").format(self.data_dir))
        self.buttons.button(QDialogButtonBox.Ok).setText(self.tr("Unlock"))

    def _submit(self) -> None:
        if not self.passphrase.text():
            self.error.setText(self.tr("Enter the passphrase."))
            return
        self.error.setText(self.tr("Unlocking…"))
        self.buttons.setEnabled(False)
        self.submitted.emit(self.passphrase.text())

    def failed(self, message: str) -> None:
        """The attempt did not open the library: say why and ask again."""
        self.error.setText(message)
        self.buttons.setEnabled(True)
        self.passphrase.selectAll()
        self.passphrase.setFocus()
