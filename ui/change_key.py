"""Changing the library's key from the desktop (Settings → Backups).

For a library locked with a passphrase, `ChangeKeyDialog` asks for the current passphrase
and the new one twice; for one whose key is in the keyring, it asks for a confirmation
(the new key is a random one, put in the keyring). The change runs on a worker through
the open service (`service.vault_key.change`): the vault and its index are re-encrypted
and backups from then on use the new key. A refusal (a wrong current passphrase, an
import running, another program reading the library) is said in the dialog and changes
nothing; once done, `changed` carries the new recovery key, to be written down.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QWidget

from engine import EnclaveService, KeyChanged, UserError, WrongKeyError

from .unlock import CheckedDialog, NewPassphraseFields
from .worker import Tasks


class ChangeKeyDialog(CheckedDialog):
    """Emits `changed(KeyChanged)` once the key was changed, `errorRaised(exc)` on a bug."""

    changed = Signal(KeyChanged)
    errorRaised = Signal(object)

    def __init__(self, service: EnclaveService, method: str, tasks: Tasks,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.service, self.tasks = service, tasks
        self.setMinimumWidth(560)
        self.new_passphrase: NewPassphraseFields | None = None
        if method == "passphrase":
            self.current, self.current_label = QLineEdit(echoMode=QLineEdit.Password), QLabel()
            self.form.addRow(self.current_label, self.current)
            self.new_passphrase = NewPassphraseFields(self.form, self)
        self.retranslate()

    def retranslate(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.Ok)
        if self.new_passphrase is None:
            self.setWindowTitle(self.tr("Change the key"))
            self.prompt.setText(self.tr(
                "The library gets a new random key, kept in this computer's keyring; the "
                "current one is removed from it. The library and its index are re-encrypted "
                "under the new key, and backups from now on use it.\n\nBackups made before "
                "keep the current key: keep the current recovery key with them, or make a "
                "fresh backup and retire them."))
            ok.setText(self.tr("Change key"))
            return
        self.setWindowTitle(self.tr("Change the passphrase"))
        self.prompt.setText(self.tr(
            "The library and its index are re-encrypted under the new passphrase, and backups "
            "from now on use it.\n\nBackups made before keep the current passphrase: keep it "
            "with them, or make a fresh backup and retire them."))
        self.current_label.setText(self.tr("Current passphrase"))
        self.new_passphrase.retranslate()
        self.new_passphrase.passphrase_label.setText(self.tr("New passphrase"))
        self.new_passphrase.confirm_label.setText(self.tr("New passphrase again"))
        ok.setText(self.tr("Change passphrase"))

    def _submit(self) -> None:
        current = new = None
        if self.new_passphrase is not None:
            current, new = self.current.text(), self.new_passphrase.passphrase.text()
            problem = (self.tr("Enter the current passphrase.") if not current
                       else self.new_passphrase.problem())
            if problem:
                self.error.setText(problem)
                return
        service = self.service
        self.wait(self.tr("Re-encrypting the library…"))
        self.tasks.run(lambda _: service.vault_key.change(new, current),
                       on_result=self._changed, on_error=self._failed)

    def _changed(self, changed: KeyChanged) -> None:
        self.accept()
        self.changed.emit(changed)

    def _failed(self, exc: BaseException) -> None:
        """A refusal is said here, to try again; a bug goes to the window (and the log)."""
        if not isinstance(exc, UserError):
            self.done(QDialog.Rejected)
            self.errorRaised.emit(exc)
            return
        self.failed(str(exc))
        if isinstance(exc, WrongKeyError):  # the current passphrase
            self.current.selectAll()
            self.current.setFocus()
