"""Starts the Qt application around the app's DesktopBackend and shows the window."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from .i18n import TRANSLATIONS
from .main_window import MainWindow


def run(backend, argv: list[str]) -> int:
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Enclave")
    app.setOrganizationName("Enclave")
    icon = TRANSLATIONS.parent / "enclave.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    window = MainWindow(backend, app)
    window.show()
    QTimer.singleShot(0, window.start)
    return app.exec()
