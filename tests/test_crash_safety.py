"""Crash safety, as an administrator meets it: real `enclave` processes on a real vault,
killed with SIGKILL in the middle of their work, a data directory on a full disk, and the
whole flow inside a network namespace with no interface but loopback.

After each kill or full disk: the library opens (`enclave status`), SQLite's
`PRAGMA integrity_check` passes, the vector index holds a vector for every chunk, what was
left (queued files, accepted uploads) is finished by the next run, and no plaintext of the
documents is left anywhere in the data directory. A restore is killed exactly where it
hurts most (between moving the library aside and moving the backup in, and right after),
by a process that kills itself there; a restore that fails in process is covered by
tests/engine/test_backups.py.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import PASSPHRASE
from tests.test_cli import enclave

ROOT = Path(__file__).parents[1]
SECRET = "The zebra-striped calibration kettle hums at dawn"
"""A sentence in every generated document: it must never be found in the clear on disk."""
WORDS = ("valve pump turbine gauge filter bearing rotor flange gasket seal shaft motor relay "
         "sensor cable").split()
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _corpus(folder: Path, count: int, prefix: str = "doc") -> Path:
    """`count` small text files (two chunks or so each), each with SECRET in it."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(count)
    for i in range(count):
        paragraphs = [f"{SECRET}, says {prefix} number {i}."] + [
            " ".join(rng.choice(WORDS) for _ in range(50)) + "." for _ in range(3)]
        (folder / f"{prefix}{i:02}.txt").write_text("\n\n".join(paragraphs))
    return folder


def _env() -> dict:
    return {**os.environ, "ENCLAVE_PASSPHRASE": PASSPHRASE, "HF_HUB_OFFLINE": "1"}


def _start(data: Path, *args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data), *args],
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=log.open("w"), text=True)


def _kill_9(proc: subprocess.Popen) -> None:
    """SIGKILL the process alone (not its group); its helpers (the spawned reader) must
    then end by themselves."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    _gone, alive = psutil.wait_procs(children, timeout=20)
    for child in alive:
        child.kill()
    assert not alive, f"helpers outlived the killed process: {alive}"


def _documents_now(data: Path) -> int:
    """Documents in the vault, read from this process while another may write it."""
    from engine.store.vault import Vault, library_exists

    if not library_exists(data):  # the ingest is still making it
        return 0
    vault = Vault.open(data, lambda new: PASSPHRASE, prefer="passphrase", access="read")
    try:
        return vault.scalar("SELECT count(*) FROM documents")
    finally:
        vault.close()


def _wait_for(what, seconds: float, step: float = 0.2, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended (status {proc.returncode}) first")
        time.sleep(step)
    raise AssertionError(f"not within {seconds} s")


def _no_plaintext(*folders: Path) -> None:
    needle = SECRET.encode()
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert needle not in path.read_bytes(), f"plaintext in {path}"


def _check_library(data: Path) -> dict:
    """The library opens, its vault passes integrity_check, its index holds a vector per
    chunk, and nothing in the data directory is in the clear; returns `enclave status`."""
    from engine.store.vault import Vault

    result = enclave(data, "status")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    status = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert status["chunks"] == status["indexed_vectors"], status  # repaired or not: it agrees
    vault = Vault.open(data, lambda new: PASSPHRASE, prefer="passphrase", access="read")
    try:
        assert vault.rows("PRAGMA integrity_check") == [("ok",)]
        assert vault.rows("PRAGMA foreign_key_check") == []
    finally:
        vault.close()
    _no_plaintext(data)
    return status


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A small library made by `enclave ingest` (4 files); tests work on copies of it."""
    root = tmp_path_factory.mktemp("crash")
    data = root / "data"
    result = enclave(data, "ingest", str(_corpus(root / "corpus", 4)))
    assert result.returncode == 0 and "4 ingested" in result.stdout, result.stderr
    return data


def _copy(library: Path, to: Path) -> Path:
    shutil.copytree(library, to)
    return to


def test_kill_9_during_ingest_then_the_next_ingest_finishes_the_rest(tmp_path):
    count = 40  # enough that the kill comes mid-run (6 were sometimes all stored first)
    from engine.store.writer_lock import holder

    corpus = _corpus(tmp_path / "corpus", count)
    data = tmp_path / "data"
    ingest = _start(data, "ingest", str(corpus), log=tmp_path / "ingest.err")
    try:
        # once it holds the library, read beside it until the first files are stored
        _wait_for(lambda: (holder(data) or None) and holder(data).pid == ingest.pid, 60,
                  proc=ingest)
        _wait_for(lambda: _documents_now(data) >= 1, 180, step=1.0, proc=ingest)
    finally:
        _kill_9(ingest)

    status = _check_library(data)
    assert 1 <= int(status["documents"]) < count, status  # killed mid-run
    assert int(status["pending_files"]) == count - int(status["documents"]), status
    assert status["failed_files"] == "0"

    resumed = enclave(data, "ingest")
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming {status['pending_files']} file(s)" in resumed.stderr
    status = _check_library(data)
    assert (status["documents"], status["pending_files"], status["failed_files"]) == (
        str(count), "0", "0"), status
    names = enclave(data, "docs", "list").stdout
    assert sorted(re.findall(r"doc\d\d\.txt", names)) == [f"doc{i:02}.txt" for i in range(count)]


def test_kill_9_during_backup_leaves_the_library_whole_and_the_next_backup_works(
        library, tmp_path):
    data = _copy(library, tmp_path / "data")
    usb = tmp_path / "usb"
    usb.mkdir()
    for _attempt in range(5):  # kill it once its partial folder is there, before it is done
        backup = _start(data, "backup", "--to", str(usb), log=tmp_path / "backup.err")
        try:
            _wait_for(lambda: any(usb.glob(".enclave-backup-*.partial")) or
                      any(usb.glob("enclave-backup-*")), 60, step=0.002)
        finally:
            _kill_9(backup)
        if not any(usb.glob("enclave-backup-*")):
            break
        shutil.rmtree(usb)
        usb.mkdir()
    assert not any(usb.glob("enclave-backup-*")), "every backup finished before the kill"
    assert any(usb.glob(".enclave-backup-*.partial"))
    _no_plaintext(usb)  # what a killed backup leaves is encrypted too

    status = _check_library(data)
    assert status["documents"] == "4" and status["index_repaired"] == "None", status
    again = enclave(data, "backup", "--to", str(usb))
    assert again.returncode == 0 and "Backed up and verified" in again.stdout, again.stderr
    assert "(4 documents" in again.stdout
    listed = enclave(data, "backups", "list", "--in", str(usb))
    assert listed.returncode == 0 and "4 documents" in listed.stdout, listed.stderr
    _no_plaintext(usb)


KILLED_RESTORE = """
import os, signal, sys
from pathlib import Path
from engine.store import backups

moment, real_replace, real_connect = sys.argv.pop(1), os.replace, backups.Vault._connect

def replace(source, target):  # the backup moving in: the library is aside, none is in place
    if moment == "library-aside" and Path(source).name.endswith(".restoring"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(source, target)

def connect(*args):  # the backup is in place, not yet opened, the journal still there
    if moment == "backup-in":
        os.kill(os.getpid(), signal.SIGKILL)
    return real_connect(*args)

os.replace, backups.Vault._connect = replace, connect
from app.cli import main
raise SystemExit(main())
"""


@pytest.mark.parametrize("moment, documents", [("library-aside", "5"), ("backup-in", "4")])
def test_kill_9_during_restore_leaves_the_library_or_the_backup_never_none(
        library, tmp_path, moment, documents):
    """Killed with the library moved aside and nothing in its place, the next opening puts
    it back (5 documents, as it was); killed once the backup is in place, the restored
    library (4, as backed up) stays and the previous one is kept aside."""
    data = _copy(library, tmp_path / "data")
    usb = tmp_path / "usb"
    made = enclave(data, "backup", "--to", str(usb))
    assert made.returncode == 0, made.stderr
    backup = next(usb.glob("enclave-backup-*"))
    added = enclave(data, "ingest", str(_corpus(tmp_path / "more", 1, prefix="extra")))
    assert added.returncode == 0 and "1 ingested" in added.stdout, added.stderr
    killed = subprocess.run([sys.executable, "-c", KILLED_RESTORE, moment, "--data-dir",
                             str(data), "restore", str(backup)], cwd=ROOT, env=_env(),
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (data / "vault.db").exists() == (moment == "backup-in")
    assert (tmp_path / ".data.restore-journal").exists()

    status = _check_library(data)
    assert status["documents"] == documents, status
    assert not (tmp_path / ".data.restore-journal").exists()
    assert not (tmp_path / ".data.restoring").exists()
    assert len(list(tmp_path.glob("data.before-restore-*"))) == (moment == "backup-in")
    again = enclave(data, "restore", str(backup))
    assert again.returncode == 0, again.stderr
    assert _check_library(data)["documents"] == "4"


def _serve(data: Path, log: Path) -> tuple[subprocess.Popen, str]:
    serve = _start(data, "serve", "--port", "0", log=log)
    line = serve.stdout.readline()
    assert line.startswith("Enclave API on http://127.0.0.1:"), line + log.read_text()
    url = line.split()[3]

    def answers():  # the line comes before the server is ready
        try:
            return httpx.get(url + "/health", timeout=5).status_code == 200
        except httpx.TransportError:
            return False
    _wait_for(answers, 60, proc=serve)
    return serve, url


def test_kill_9_during_an_upload_job_the_restarted_server_ingests_it(library, tmp_path):
    data = _copy(library, tmp_path / "data")
    created = enclave(data, "keys", "create", "uploader", "--scope", "read-write")
    assert created.returncode == 0, created.stderr
    auth = {"Authorization": f"Bearer {created.stdout.splitlines()[0].strip()}"}
    uploads = _corpus(tmp_path / "uploads", 3, prefix="upload")
    names = sorted(p.name for p in uploads.iterdir())

    serve, url = _serve(data, tmp_path / "serve1.err")
    try:
        with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
            answer = http.post("/v1/documents", files=[
                ("files", (p.name, p.read_bytes(), "text/plain"))
                for p in sorted(uploads.iterdir())])
            assert answer.status_code == 202, answer.text
            job = http.get(f"/v1/jobs/{answer.json()['id']}").json()
            assert job["state"] in ("queued", "running"), job  # not done: kill it now
    finally:
        _kill_9(serve)

    status = _check_library(data)  # the accepted uploads wait, encrypted, in the vault
    assert int(status["pending_files"]) + int(status["documents"]) == 4 + 3, status

    serve, url = _serve(data, tmp_path / "serve2.err")
    try:
        with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
            def listed():
                documents = http.get("/v1/documents").json()["documents"]
                return set(names) <= {d["name"] for d in documents}
            _wait_for(listed, 180, step=0.5, proc=serve)
            hits = http.post("/v1/search", json={"query": "calibration kettle upload number 2",
                                                 "k": 10})
            assert hits.status_code == 200, hits.text
            assert any(h["document"].startswith("upload") for h in hits.json()["hits"]), hits.text
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            _kill_9(serve)
    status = _check_library(data)
    assert (status["documents"], status["pending_files"], status["failed_files"]) == (
        "7", "0", "0"), status
    assert "Traceback" not in (tmp_path / "serve2.err").read_text()


def _no_traceback(result) -> str:
    said = result.stdout + result.stderr
    assert "Traceback" not in said, said
    return said


@pytest.mark.skipif(not IS_ROOT or not shutil.which("mount"),
                    reason="mounting a small tmpfs needs root")
def test_a_full_disk_fails_ingest_and_backup_in_one_line_and_harms_nothing(library, tmp_path):
    disk = Path(tempfile.mkdtemp(prefix="enclave-full-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        shutil.rmtree(disk, ignore_errors=True)
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        data = _copy(library, disk / "data")
        usb = disk / "usb"
        more = _corpus(tmp_path / "more", 2, prefix="more")
        filler = disk / "filler"
        free = shutil.disk_usage(disk).free
        with filler.open("wb") as f:  # all but 64 KiB
            f.truncate(0)
            block = b"\0" * (1 << 20)
            left = free - (64 << 10)
            while left > 0:
                left -= f.write(block[:min(len(block), left)])
        assert shutil.disk_usage(disk).free < (256 << 10)

        ingest = enclave(data, "ingest", str(more))
        said = _no_traceback(ingest)
        assert ingest.returncode in (1, 2), said
        assert "the disk is full" in said, said
        backup = enclave(data, "backup", "--to", str(usb))
        said = _no_traceback(backup)
        assert backup.returncode in (1, 2), said
        assert backup.stderr.startswith("enclave: error: the disk is full"), said
        assert len(backup.stderr.strip().splitlines()) == 1, said
        assert not list(usb.glob(".*partial")) and not list(usb.glob("enclave-backup-*"))

        filler.unlink()
        status = _check_library(data)
        assert status["documents"] == "4", status
        resumed = enclave(data, "ingest")
        assert resumed.returncode == 0 and "Done: 2 ingested" in resumed.stdout, (
            resumed.stdout + resumed.stderr)
        status = _check_library(data)
        assert (status["documents"], status["pending_files"], status["failed_files"]) == (
            "6", "0", "0"), status
        backup = enclave(data, "backup", "--to", str(usb))
        assert backup.returncode == 0 and "(6 documents" in backup.stdout, backup.stderr
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(disk, ignore_errors=True)


NETNS_SCRIPT = r"""
set -e
if command -v ip >/dev/null; then ip link set lo up; fi
"$PY" -c 'import socket; print("interfaces:", sorted(n for _, n in socket.if_nameindex()))'
"$PY" -m app --data-dir "$DATA" ingest "$CORPUS"
"$PY" -m app --data-dir "$DATA" ask --json "At what pressure does the relief valve open?"
"$PY" -m app --data-dir "$DATA" backup --to "$USB"
if command -v ip >/dev/null; then
  "$PY" -m app --data-dir "$DATA" serve --port 8765 > "$SERVE_LOG" 2>&1 &
  pid=$!
  "$PY" - <<'EOF'
import time, urllib.request
deadline = time.monotonic() + 120
while True:
    try:
        with urllib.request.urlopen("http://127.0.0.1:8765/health", timeout=5) as r:
            print("health:", r.status, r.read().decode())
            break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.3)
EOF
  kill -INT $pid
  wait $pid || true
else
  echo "serve skipped: no ip command to bring up loopback"
fi
"""


@pytest.mark.skipif(not IS_ROOT or not shutil.which("unshare"),
                    reason="a network namespace needs root and unshare")
def test_the_whole_flow_works_in_a_network_namespace_without_interfaces(tmp_path):
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare --net is not allowed here: {probe.stderr.strip()}")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "valves.txt").write_text(
        "Safety valves.\n\nThe relief valve on line 7 opens at a pressure of 12.5 bar and "
        "must be tested annually during the spring shutdown.\n")
    (corpus / "canteen.txt").write_text(
        "Canteen.\n\nThe canteen serves vegetarian lasagne every Wednesday.\n")
    script = tmp_path / "flow.sh"
    script.write_text(NETNS_SCRIPT)
    env = {**_env(), "PY": sys.executable, "DATA": str(tmp_path / "data"),
           "CORPUS": str(corpus), "USB": str(tmp_path / "usb"),
           "SERVE_LOG": str(tmp_path / "serve.log")}
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(name, None)
    result = subprocess.run(["unshare", "--net", "sh", str(script)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    said = result.stdout + result.stderr
    assert result.returncode == 0, said + (tmp_path / "serve.log").read_text()
    assert "Traceback" not in said, said
    assert re.search(r"interfaces: \[('lo')?\]", said), said  # nothing but loopback
    assert "Done: 2 ingested" in said
    import json

    answer = json.loads(next(line for line in result.stdout.splitlines()
                             if line.startswith('{"question"')))
    assert answer["kind"] in ("answer", "quote") and "12.5" in answer["answer"], answer
    assert "Backed up and verified" in said
    if shutil.which("ip"):
        assert re.search(r"health: 200 .*", said), said


def test_a_full_disk_is_told_apart_from_a_bug():
    """What the CLI and the ingest worker tell in one line instead of a traceback."""
    import errno

    import sqlcipher3

    from engine.store.diskspace import disk_full

    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert disk_full(sqlcipher3.dbapi2.OperationalError("database or disk is full"))
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise RuntimeError("writing the index failed") from exc
    except RuntimeError as chained:
        assert disk_full(chained)
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not disk_full(sqlcipher3.dbapi2.OperationalError("database is locked"))
    assert not disk_full(ValueError("database or disk is full"))
