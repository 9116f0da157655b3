"""Changing the library's key from the desktop (Settings → Backups → Change passphrase… /
Change key…), and restoring from the desktop a backup made before the key was changed,
with the passphrase of that time: the real window over a real vault."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from tests.conftest import PASSPHRASE
from tests.ui.conftest import set_up_library

pytestmark = pytest.mark.gui

NEW_PASSPHRASE = "a new and longer passphrase"


def key_dialog(qtbot, window):
    """Open the change-of-key dialog from the Backups box, as a person does."""
    window.tabs.setCurrentWidget(window.settings)
    panel = window.settings.backups
    qtbot.waitUntil(panel.isEnabled, timeout=10_000)  # once the plan and the key's kind are read
    panel.key_button.click()
    dialog = panel.change_key_dialog
    assert dialog.isVisible()
    return dialog


def submit(qtbot, dialog, current: str, new: str, again: str | None = None) -> None:
    dialog.current.setText(current)
    dialog.new_passphrase.passphrase.setText(new)
    dialog.new_passphrase.confirm.setText(new if again is None else again)
    dialog.buttons.button(QDialogButtonBox.Ok).click()


def unlock(qtbot, window, passphrase: str) -> None:
    qtbot.waitUntil(lambda: window.passphrase_dialog is not None
                    and window.passphrase_dialog.isVisible(), timeout=30_000)
    dialog = window.passphrase_dialog
    dialog.passphrase.setText(passphrase)
    dialog.buttons.button(QDialogButtonBox.Ok).click()


def test_the_passphrase_is_changed_from_the_app_and_only_the_new_one_opens_the_library(
        qtbot, open_window, backend_factory):
    from engine.store.vault import Vault

    window = open_window()
    set_up_library(qtbot, window)
    data_dir = Path(os.environ["ENCLAVE_DATA_DIR"])
    key_file = (data_dir / "key.json").read_bytes()
    old_recovery_key = window.service.backups.recovery_key()
    dialog = key_dialog(qtbot, window)
    assert window.settings.backups.key_button.text() == "Change passphrase…"
    assert dialog.windowTitle() == "Change the passphrase"

    # checked in the dialog: the rule of setup, and a current passphrase
    submit(qtbot, dialog, PASSPHRASE, "short")
    assert "at least 8" in dialog.error.text()
    submit(qtbot, dialog, PASSPHRASE, NEW_PASSPHRASE, NEW_PASSPHRASE + "!")
    assert "differ" in dialog.error.text()
    submit(qtbot, dialog, "", NEW_PASSPHRASE)
    assert "current passphrase" in dialog.error.text()
    # refused by the engine, nothing changed: a wrong current passphrase; another program
    # reading the library
    submit(qtbot, dialog, "not the passphrase", NEW_PASSPHRASE)
    qtbot.waitUntil(lambda: "not the library's current passphrase" in dialog.error.text(),
                    timeout=30_000)
    assert dialog.isVisible() and dialog.buttons.isEnabled()
    reader = Vault.open(data_dir, lambda new: PASSPHRASE, 12, access="read")
    try:
        submit(qtbot, dialog, PASSPHRASE, NEW_PASSPHRASE)
        qtbot.waitUntil(lambda: "reading the library now" in dialog.error.text(), timeout=30_000)
    finally:
        reader.close()
    assert (data_dir / "key.json").read_bytes() == key_file
    assert window.service.backups.recovery_key() == old_recovery_key

    submit(qtbot, dialog, PASSPHRASE, NEW_PASSPHRASE)
    panel = window.settings.backups
    qtbot.waitUntil(lambda: getattr(panel, "recovery_box", None) is not None
                    and panel.recovery_box.isVisible(), timeout=60_000)
    new_recovery_key = window.service.backups.recovery_key()
    assert new_recovery_key != old_recovery_key and not dialog.isVisible()
    text = panel.recovery_box.text()
    assert new_recovery_key in text and "key was changed on" in text
    assert "old passphrase or the old recovery key" in text
    panel.recovery_box.accept()
    window.close()

    window = open_window(backend_factory())
    unlock(qtbot, window, PASSPHRASE)
    qtbot.waitUntil(lambda: "Wrong passphrase" in window.passphrase_dialog.error.text(),
                    timeout=30_000)
    unlock(qtbot, window, NEW_PASSPHRASE)
    qtbot.waitUntil(lambda: window.state == "ready", timeout=60_000)
    assert window.service.backups.recovery_key() == new_recovery_key


def test_a_keyring_library_gets_a_new_key_after_a_confirmation(
        qtbot, open_window, monkeypatch):
    import keyring

    from tests.engine.test_vault import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())
    monkeypatch.delenv("ENCLAVE_KEY_SOURCE")
    window = open_window()
    window.setup_dialog.buttons.button(QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: window.state == "ready", timeout=30_000)
    panel = window.settings.backups
    panel.recovery_box.accept()  # shown once the library is made
    old_recovery_key = window.service.backups.recovery_key()
    dialog = key_dialog(qtbot, window)
    assert panel.key_button.text() == "Change key…" and dialog.new_passphrase is None
    assert "new random key" in dialog.prompt.text()
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: panel.recovery_box.isVisible(), timeout=60_000)
    assert window.service.backups.recovery_key() != old_recovery_key
    assert window.service.backups.recovery_key() in panel.recovery_box.text()


def test_an_older_backup_is_restored_from_the_app_with_the_passphrase_of_its_time(
        qtbot, open_window, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    service = window.service
    service.library.create_collection("before-the-change")
    folder = service.backups.backup(tmp_path / "usb", "test").folder
    service.vault_key.change(NEW_PASSPHRASE)
    service.library.create_collection("after-the-change")

    window.restore(folder)
    qtbot.waitUntil(lambda: window.older_key_dialog is not None
                    and window.older_key_dialog.isVisible(), timeout=30_000)
    dialog = window.older_key_dialog
    assert "made before the key was changed on" in dialog.prompt.text()
    dialog.passphrase.setText(NEW_PASSPHRASE)  # today's: not the one of that time
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: "Wrong passphrase or recovery key" in dialog.error.text(),
                    timeout=30_000)
    assert dialog.isVisible() and window.service is service  # the library stays as it was
    assert "after-the-change" in [c.name for c in service.library.collections()]

    dialog.passphrase.setText(PASSPHRASE)
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    unlock(qtbot, window, NEW_PASSPHRASE)  # the restored library is under the older key
    qtbot.waitUntil(lambda: "Wrong passphrase" in window.passphrase_dialog.error.text(),
                    timeout=30_000)
    banner = window.banner.label.text()
    assert "restored" in banner and "key of that time" in banner and not dialog.isVisible()
    unlock(qtbot, window, PASSPHRASE)
    qtbot.waitUntil(lambda: window.state == "ready", timeout=60_000)
    names = [c.name for c in window.service.library.collections()]
    assert "before-the-change" in names and "after-the-change" not in names
