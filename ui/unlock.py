"""First-run setup and the prompts for a passphrase.

`SetupDialog` asks where the library lives and how its key is kept (the OS keyring
where there is one, else a passphrase, typed twice: `NewPassphraseFields`, also used to
change the passphrase), and checks that the bundled models are there. `PassphraseDialog`
asks for the passphrase of an existing library, `OlderKeyDialog` for the passphrase or
recovery key of a backup made before the key was changed; both say so, and ask again,
when it is wrong. They only collect input: the main window opens the vault, or verifies
the backup, with it on a worker thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout, QWidget)

from engine import MIN_PASSPHRASE_LENGTH

from .i18n import Retranslating
from .theme import ERROR_STYLE


class NewPassphraseFields(QObject):
    """A new passphrase typed twice, with its rule (at least MIN_PASSPHRASE_LENGTH
    characters): three rows added to a form, and the check of what was typed. The dialog
    that holds them calls `retranslate` from its own."""

    def __init__(self, form: QFormLayout, parent: QWidget):
        super().__init__(parent)
        self.passphrase = QLineEdit(echoMode=QLineEdit.Password)
        self.confirm = QLineEdit(echoMode=QLineEdit.Password)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.passphrase_label, self.confirm_label = QLabel(), QLabel()
        form.addRow(self.passphrase_label, self.passphrase)
        form.addRow(self.confirm_label, self.confirm)
        form.addRow("", self.note)

    def retranslate(self) -> None:
        self.passphrase_label.setText(self.tr("Passphrase"))
        self.confirm_label.setText(self.tr("Passphrase again"))
        self.note.setText(self.tr(
            "At least {0} characters. Write it down somewhere safe: without it the library "
            "cannot be opened, by anyone.").format(MIN_PASSPHRASE_LENGTH))

    def set_visible(self, visible: bool) -> None:
        for widget in (self.passphrase, self.confirm, self.note, self.passphrase_label,
                       self.confirm_label):
            widget.setVisible(visible)

    def problem(self) -> str | None:
        """Why what was typed cannot be the new passphrase (None: it can)."""
        if len(self.passphrase.text()) < MIN_PASSPHRASE_LENGTH:
            return self.tr("The passphrase must have at least {0} characters.").format(
                MIN_PASSPHRASE_LENGTH)
        if self.passphrase.text() != self.confirm.text():
            return self.tr("The two passphrases differ.")
        return None


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
        self.models = QLabel()
        self.models.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout()
        self.folder_label, self.key_label, self.models_label = QLabel(), QLabel(), QLabel()
        self.form.addRow(self.folder_label, folder_row)
        keys = QVBoxLayout()
        keys.addWidget(self.use_keyring)
        keys.addWidget(self.use_passphrase)
        self.form.addRow(self.key_label, keys)
        self.new_passphrase = NewPassphraseFields(self.form, self)
        self.passphrase, self.confirm = self.new_passphrase.passphrase, self.new_passphrase.confirm
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
        self.new_passphrase.retranslate()
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
        self.new_passphrase.set_visible(self.use_passphrase.isChecked())

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
            problem = self.new_passphrase.problem()
            if problem:
                self.error.setText(problem)
                return
            self.chosen.emit(Path(folder).expanduser(), "passphrase", self.passphrase.text())
        else:
            self.chosen.emit(Path(folder).expanduser(), "keyring", None)
        self.error.clear()
        self.accept()


class CheckedDialog(Retranslating, QDialog):
    """A dialog whose OK hands what was typed over to be checked on a worker: it then
    waits, its buttons off (`wait`), until its owner closes it or `failed(message)` says
    why and lets the person try again. A subclass puts its fields in `form`, sets
    `prompt` and the OK button's text in `retranslate`, and checks what was typed in
    `_submit`."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(460)
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addSpacing(6)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _submit(self) -> None:
        raise NotImplementedError

    def wait(self, doing: str) -> None:
        """Say what is being done with what was typed, and take no other answer meanwhile."""
        self.error.setStyleSheet("")  # not an error (yet)
        self.error.setText(doing)
        self.buttons.setEnabled(False)

    def failed(self, message: str) -> None:
        """What was typed did not do: say why and ask again."""
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setText(message)
        self.buttons.setEnabled(True)

    def reject(self) -> None:
        if self.buttons.isEnabled():  # not while what was typed is being checked
            super().reject()


class SecretPrompt(CheckedDialog):
    """Asks for one secret: emits `submitted(text)`, then waits. A subclass also sets, in
    `retranslate` (called at the end of its `__init__`), `empty` (said when nothing was
    typed) and `busy` (while it is checked)."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.passphrase = QLineEdit(echoMode=QLineEdit.Password)
        self.form.addRow(self.passphrase)
        self.empty = self.busy = ""

    def _submit(self) -> None:
        if not self.passphrase.text():
            self.error.setText(self.empty)
            return
        self.wait(self.busy)
        self.submitted.emit(self.passphrase.text())

    def failed(self, message: str) -> None:
        super().failed(message)
        self.passphrase.selectAll()
        self.passphrase.setFocus()


class PassphraseDialog(SecretPrompt):
    """The passphrase of the library to open."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.data_dir = data_dir
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Unlock Enclave"))
        self.prompt.setText(self.tr("Enter the passphrase of the library in {0}.").format(self.data_dir))
        self.buttons.button(QDialogButtonBox.Ok).setText(self.tr("Unlock"))
        self.empty, self.busy = self.tr("Enter the passphrase."), self.tr("Unlocking…")


class OlderKeyDialog(SecretPrompt):
    """The passphrase or recovery key of a backup made before the library's key was
    changed; `message` is the engine's, which says when."""

    def __init__(self, message: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.message = message
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Restore a backup"))
        self.prompt.setText(self.message + "\n\n" + self.tr(
            "The passphrase or the recovery key of that time:"))
        self.buttons.button(QDialogButtonBox.Ok).setText(self.tr("Verify and restore"))
        self.empty = self.tr("Enter the passphrase or the recovery key.")
        self.busy = self.tr("Verifying the backup…")
