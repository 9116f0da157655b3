"""`enclave-desktop --smoke`: the real start-up, driven without a person, then quit.

The package test (and anyone checking an installation) runs the window offscreen on an
existing library: the passphrase comes from ENCLAVE_PASSPHRASE instead of the prompt.
When the models are loaded ("Ready") it prints the seconds from process launch to the
window's first paint and to Ready as one JSON line and exits 0; a failed start, a library
that does not exist yet, a wrong passphrase or no Ready within the time limit exit 1
with the reason.
"""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox


class SmokeRun(QObject):
    def __init__(self, app: QApplication, window, passphrase: str | None, launched_at: float,
                 limit_s: float = 300):
        super().__init__(window)
        self.app, self.window, self.passphrase = app, window, passphrase
        self.launched_at = launched_at
        self.marks: dict[str, float] = {}
        self._tried_passphrase = False
        window.installEventFilter(self)
        window.stateChanged.connect(self._state_changed)
        QTimer.singleShot(int(limit_s * 1000), lambda: self._fail(
            f"not ready after {limit_s:.0f} s (state: {window.state})"))

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Paint and "window_s" not in self.marks:
            self.marks["window_s"] = round(time.time() - self.launched_at, 3)
        return False

    def _state_changed(self, state: str) -> None:
        if state == "locked":
            QTimer.singleShot(0, self._unlock)  # the dialog is made right after the state
        elif state == "ready":
            self.marks["ready_s"] = round(time.time() - self.launched_at, 3)
            self.marks.setdefault("window_s", self.marks["ready_s"])
            print(json.dumps(self.marks), flush=True)
            self.app.exit(0)
        elif state == "failed":
            self._fail(self.window.banner.label.text() or "the library could not be opened")

    def _unlock(self) -> None:
        dialog = self.window.passphrase_dialog
        if self.window.setup_dialog is not None:
            self._fail("no library here yet: --smoke opens an existing one")
        elif dialog is None:
            return
        elif self._tried_passphrase:
            self._fail("the passphrase in ENCLAVE_PASSPHRASE does not unlock the library")
        elif not self.passphrase:
            self._fail("the library is locked: set ENCLAVE_PASSPHRASE to its passphrase")
        else:
            self._tried_passphrase = True
            dialog.passphrase.setText(self.passphrase)
            dialog.buttons.button(QDialogButtonBox.Ok).click()  # as a person unlocks

    def _fail(self, reason: str) -> None:
        print(f"enclave-desktop --smoke: {reason}", file=sys.stderr, flush=True)
        self.app.exit(1)
