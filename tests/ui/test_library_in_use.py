"""The desktop app opening a library another process writes: a dialog names that process
and what to do (no traceback), and "Try again" opens the library once it has ended."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from tests.conftest import PASSPHRASE
from tests.engine.test_writer_lock import hold

pytestmark = pytest.mark.gui


def test_the_window_says_who_holds_the_library_and_opens_it_once_free(
        qtbot, open_window, backend_factory):
    backend = backend_factory()
    holder = hold(Path(os.environ["ENCLAVE_DATA_DIR"]))  # makes the library and keeps it
    try:
        window = open_window(backend)
        dialog = window.passphrase_dialog
        dialog.passphrase.setText(PASSPHRASE)
        dialog.buttons.button(QDialogButtonBox.Ok).click()
        qtbot.waitUntil(lambda: window.in_use_dialog is not None, timeout=30_000)
        box = window.in_use_dialog
        assert box.isVisible() and not dialog.isVisible()
        assert box.windowTitle() == "The library is in use"
        who = f"enclave ingest (pid {holder.pid})"
        assert who in box.informativeText() and "Try again once it has finished" in \
            box.informativeText()
        assert who in window.banner.label.text() and "Traceback" not in window.banner.label.text()
        assert window.state == "failed" and window.service is None
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    box.button(QMessageBox.Retry).click()  # the same passphrase, not asked again
    qtbot.waitUntil(lambda: window.state == "ready", timeout=60_000)
    assert window.in_use_dialog is None and not window.banner.isVisible()
    assert not window.service.read_only
