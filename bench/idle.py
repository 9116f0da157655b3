"""Memory and idle CPU: `enclave serve` on a library of 100,000+ chunks with both default
models loaded, and the desktop app, each left alone once ready.

The server runs on bench/api_load.py's library (built there if missing); once /ready says
both models are loaded, one search and one answer are made, then it is left alone for
IDLE_SECONDS: its CPU time over that span (user + system, all threads, from /proc) and
its resident memory at the end. The desktop app is started the way `make run` starts it
on a library of its own, unlocked, and measured the same way once its status is
"ready". The baseline, in the same run: a bare QMainWindow left alone as long.
Goals (issue 14): resident memory at most 1.5 GB, idle at most 1% of one core.

    .venv/bin/python bench/idle.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.api_load import CACHE, build_library, free_port  # noqa: E402
from bench.common import (PASSPHRASE, desktop_environment, open_service,  # noqa: E402
                          write_results)

IDLE_SECONDS = 60.0
ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def left_alone(pid: int) -> dict:
    """CPU use (% of one core) over IDLE_SECONDS, and resident memory after."""
    cpu, started = cpu_seconds(pid), time.monotonic()
    time.sleep(IDLE_SECONDS)
    used = cpu_seconds(pid) - cpu
    return {"idle_cpu_percent": round(100 * used / (time.monotonic() - started), 2),
            "resident_mb": round(resident_mb(pid))}


def server() -> dict:
    data_dir = CACHE / "data"
    chunks = build_library(data_dir)
    service = open_service(data_dir)
    try:
        key = service.access.create_key(f"idle-{int(time.time())}", "read-only")[1]
    finally:
        service.close()
    port = free_port()
    env = {**os.environ, "ENCLAVE_PASSPHRASE": PASSPHRASE, "ENCLAVE_KEY_SOURCE": "passphrase",
           "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data_dir),
                                "serve", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        process.stdout.readline()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          headers={"Authorization": f"Bearer {key}"}) as http:
            for _ in range(600):  # both models loaded
                if http.get("/ready").status_code == 200:
                    break
                time.sleep(0.5)
            http.post("/v1/search", json={"query": "How do I read a CSV file?"})
            http.post("/v1/query", json={"question": "How do I read a CSV file?"})
        return {"chunks": chunks, **left_alone(process.pid)}
    finally:
        process.terminate()
        process.wait(30)


DESKTOP = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
if MODE == "baseline":
    app = QApplication(sys.argv[:1])
    window = QMainWindow(); window.resize(1200, 800); window.show()
    QTimer.singleShot(0, lambda: print("ready", flush=True))
    app.exec()
else:
    from app.desktop import DesktopBackend
    from ui.application import run
    app = QApplication(sys.argv[:1])
    def unlock():
        shown = [w for w in app.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]
        if not shown:
            QTimer.singleShot(200, unlock)
            return
        window = shown[0]
        window.passphrase_dialog.passphrase.setText(PASSPHRASE)
        window.passphrase_dialog._submit()
        window.stateChanged.connect(lambda s: s == "ready" and print("ready", flush=True))
    QTimer.singleShot(200, unlock)
    run(DesktopBackend(), sys.argv[:1])
"""


def desktop(mode: str, env: dict) -> dict:
    code = f"MODE = {mode!r}\nPASSPHRASE = {PASSPHRASE!r}\n" + DESKTOP
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit(f"the {mode} window did not get ready")
        time.sleep(2)  # what follows "ready" (the first paint of the library view)
        return left_alone(process.pid)
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    results = {"idle_seconds": IDLE_SECONDS, "server": server()}
    print("server", results["server"])
    with tempfile.TemporaryDirectory() as tmp:
        env = desktop_environment(tmp)
        results["desktop"] = desktop("app", env)
        results["bare_qt_window"] = desktop("baseline", env)
    print(json.dumps(results, indent=1))
    write_results("idle", results)


if __name__ == "__main__":
    main()
