"""`enclave-desktop --smoke`: the real start-up without a person, as the package test runs
it (a fresh process, offscreen), and its clear failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.gui


def desktop_smoke(tmp_path, passphrase: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ENCLAVE_DATA_DIR": str(tmp_path / "data")}
    env.pop("ENCLAVE_PASSPHRASE", None)
    if passphrase is not None:
        env["ENCLAVE_PASSPHRASE"] = passphrase
    return subprocess.run([sys.executable, "-c", "import sys; from app.desktop import main; "
                           "sys.exit(main(['enclave-desktop', '--smoke']))"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_smoke_start_reaches_ready_and_reports_its_times(tmp_path):
    (tmp_path / "note.txt").write_text("The spare seal kit is kept in cabinet 14.")
    made = subprocess.run([sys.executable, "-m", "app", "ingest", str(tmp_path / "note.txt")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "ENCLAVE_DATA_DIR": str(tmp_path / "data"),
                               "ENCLAVE_PASSPHRASE": PASSPHRASE})
    assert made.returncode == 0, made.stderr
    started = desktop_smoke(tmp_path, PASSPHRASE)
    assert started.returncode == 0, started.stderr
    marks = json.loads(started.stdout.strip().splitlines()[-1])
    assert 0 < marks["window_s"] <= marks["ready_s"] < 300

    wrong = desktop_smoke(tmp_path, "not the passphrase")
    assert wrong.returncode == 1 and "ENCLAVE_PASSPHRASE" in wrong.stderr


def test_smoke_start_without_a_library_says_so(tmp_path):
    result = desktop_smoke(tmp_path, PASSPHRASE)
    assert result.returncode == 1 and "no library here yet" in result.stderr
