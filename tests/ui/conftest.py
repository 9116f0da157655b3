"""GUI fixtures: the real window, offscreen, over a real vault and the real models.

The backend is the app's own DesktopBackend; it only hands the session's loaded models
to the services it opens, so that each test does not load them again.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.conftest import PASSPHRASE  # noqa: E402


@pytest.fixture
def backend_factory(tmp_path, embedder, generator):
    from app.desktop import DesktopBackend
    from engine import EnclaveService

    class SharedModelsBackend(DesktopBackend):
        def open_service(self, passphrase):
            config = dataclasses.replace(self.settings.engine_config(), kdf_log2_n=12)
            return EnclaveService.open(
                config, lambda new: passphrase,
                prefer_keyring=self.settings.key_source == "keyring", embedder=embedder,
                generator=generator)

    def make() -> DesktopBackend:
        return SharedModelsBackend(tmp_path / "config" / "settings.json")

    return make


@pytest.fixture
def open_window(qtbot, qapp, backend_factory):
    """Start a window (as `make run` does) and close it after the test."""
    from ui.main_window import MainWindow

    windows = []

    def _open(backend=None, start=True):
        window = MainWindow(backend or backend_factory(), qapp)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        if start:
            window.start()
        return window

    yield _open
    for window in windows:
        window.close()
        window.tasks.wait()


def set_up_library(qtbot, window, passphrase: str = PASSPHRASE) -> None:
    """Go through the first-run dialog and wait until the library is open."""
    dialog = window.setup_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.passphrase.setText(passphrase)
    dialog.confirm.setText(passphrase)
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.state == "ready", timeout=60_000)


def ingest(qtbot, window, paths: list[Path]) -> None:
    """Put documents in the library directly (the drop test covers the window's way)."""
    window.service.library.ingest(paths)
    window.documents.reload()
    window.chat.library_changed()
    qtbot.waitUntil(lambda: bool(window.chat.documents_count), timeout=10_000)


def drop(window, paths: list[Path]) -> None:
    """Drop files on the window (or on any widget of it) the way a file manager does."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(window.rect().center(), Qt.CopyAction, data, Qt.LeftButton,
                            Qt.NoModifier)  # a QPoint here, a QPointF for the drop
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(window.rect().center()), Qt.CopyAction, data, Qt.LeftButton,
                       Qt.NoModifier)
    QApplication.sendEvent(window, event)


@pytest.fixture(autouse=True)
def no_language_left_behind(qapp):
    """A test that switched the window to Chinese leaves the next one in English: the
    translators it installed on the application go with it."""
    yield
    from PySide6.QtCore import QTranslator

    for translator in qapp.findChildren(QTranslator):
        qapp.removeTranslator(translator)
