"""Starts the Qt application around the app's DesktopBackend and shows the window."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from .about import ICON
from .main_window import MainWindow


def run(backend, argv: list[str], smoke: tuple[str | None, float] | None = None) -> int:
    """Show the window and run until it closes. `smoke` (passphrase, launch time) drives
    start-up without a person and quits once it is ready (see ui/smoke.py)."""
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Enclave")
    app.setOrganizationName("Enclave")
    app.setWindowIcon(QIcon(str(ICON)))
    app.setDesktopFileName("enclave")  # the installed .desktop entry (Wayland's window icon)
    window = MainWindow(backend, app)
    if smoke is not None:
        from .smoke import SmokeRun

        window.smoke = SmokeRun(app, window, *smoke)
    window.show()
    QTimer.singleShot(0, window.start)
    return app.exec()
