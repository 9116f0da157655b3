"""How long from launch until the window is on screen, and until the models are loaded.

Each run is a fresh process started the way `make run` starts the app (the same
DesktopBackend and ui.application.run), on an existing passphrase library. A probe
installed before the app starts timestamps the window's first paint, types the
passphrase into the prompt, and waits for the status "ready". The baseline, measured in
the same session, is a bare process that shows an empty QMainWindow: the floor any
PySide6 window pays on this machine. Medians over RUNS launches; goal: window < 3 s.

    .venv/bin/python bench/window_startup.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import PASSPHRASE, desktop_environment, write_results  # noqa: E402

RUNS = 7

PROBE = r"""
import json, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
launched = float(sys.argv[1])
marks = {}
app = QApplication(sys.argv[:1])

def finish():
    print(json.dumps(marks)); sys.stdout.flush(); app.exit(0)

class Probe(QObject):
    def eventFilter(self, obj, event):
        if (event.type() == QEvent.Paint and isinstance(obj, QMainWindow)
                and "window" not in marks and obj.isVisible()):
            marks["window"] = time.time() - launched
            if MODE == "baseline":
                QTimer.singleShot(0, finish)
            else:
                QTimer.singleShot(0, lambda: unlock(obj))
        return False

def unlock(window):
    dialog = window.passphrase_dialog
    dialog.passphrase.setText(PASSPHRASE)
    dialog._submit()
    window.stateChanged.connect(lambda state: state == "ready" and (
        marks.__setitem__("ready", time.time() - launched), finish()))

probe = Probe()
app.installEventFilter(probe)
if MODE == "baseline":
    window = QMainWindow(); window.resize(1200, 800); window.show(); app.exec()
else:
    from app.desktop import DesktopBackend
    from ui.application import run
    run(DesktopBackend(), sys.argv[:1])
"""


def launch(mode: str, env: dict) -> dict:
    code = f"MODE = {mode!r}\nPASSPHRASE = {PASSPHRASE!r}\n" + PROBE
    out = subprocess.run([sys.executable, "-c", code, repr(time.time())], env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = desktop_environment(tmp)
        runs: dict[str, list[dict]] = {"baseline": [], "app": []}
        for _ in range(RUNS):  # interleaved, so that drift in machine load hits both alike
            runs["baseline"].append(launch("baseline", env))
            runs["app"].append(launch("app", env))
    window = statistics.median(r["window"] for r in runs["app"])
    baseline = statistics.median(r["window"] for r in runs["baseline"])
    ready = statistics.median(r["ready"] for r in runs["app"])
    results = {
        "runs": RUNS, "platform": env["QT_QPA_PLATFORM"],
        "window_shown_s": {"median": round(window, 3),
                           "max": round(max(r["window"] for r in runs["app"]), 3)},
        "bare_qt_window_s": {"median": round(baseline, 3)},
        "ratio_to_bare_window": round(window / baseline, 2),
        "models_ready_s": {"median": round(ready, 3)},
        "goal_window_under_3s": window < 3.0,
    }
    print(json.dumps(results, indent=1))
    write_results("window_startup", results)


if __name__ == "__main__":
    main()
