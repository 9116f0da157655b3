"""One writer per library, as a person meets it on the command line: `enclave serve` holds
the library; `enclave status`, `search` and `backup` run beside it without touching the
index file (even one behind the vault, as while an import runs), `enclave ingest` is
refused with who holds it and what to do; after `serve` is killed with SIGKILL, `enclave
ingest` works again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from engine.retrieval.vector_index import INDEX_FILE
from tests.conftest import PASSPHRASE, write_sample_corpus
from tests.test_cli import enclave

ROOT = Path(__file__).parents[1]


def test_serve_holds_the_library_readers_work_beside_it_writers_are_told(tmp_path):
    corpus = write_sample_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    assert enclave(data, "ingest", str(corpus / "notes.txt")).returncode == 0
    stale = (data / INDEX_FILE).read_bytes()
    result = enclave(data, "ingest", str(corpus / "pumps.pdf"))
    assert result.returncode == 0, result.stderr

    serve = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data), "serve", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "ENCLAVE_PASSPHRASE": PASSPHRASE, "HF_HUB_OFFLINE": "1"})
    try:
        assert serve.stdout.readline().startswith("Enclave API on"), serve.stderr.read()
        who = f"enclave serve (pid {serve.pid})"
        # as while serve imports: the vault is ahead of the index file it saved last
        (data / INDEX_FILE).write_bytes(stale)
        before = ((data / INDEX_FILE).read_bytes(), (data / INDEX_FILE).stat().st_mtime_ns)

        status = enclave(data, "status")
        assert status.returncode == 0, status.stderr
        assert f"access: read-only ({who} was writing it)" in status.stdout
        assert "brought up to date in memory only" in status.stdout
        found = enclave(data, "search", "relief valve pressure", "-k", "1")
        assert found.returncode == 0 and "pumps.pdf, p. 2" in found.stdout, found.stderr
        backup = enclave(data, "backup", "--to", str(tmp_path / "usb"))
        assert backup.returncode == 0 and "Backed up and verified" in backup.stdout, backup.stderr
        assert ((data / INDEX_FILE).read_bytes(),
                (data / INDEX_FILE).stat().st_mtime_ns) == before  # status rewrote nothing

        for command in (["ingest", str(corpus / "guide.md")], ["keys", "create", "ops"],
                        ["collections", "create", "new"]):
            refused = enclave(data, *command)
            assert refused.returncode == 2, refused.stderr
            assert refused.stderr.startswith(f"enclave: error: The library in {data} is open "
                                             f"for writing by {who}")
            assert "through its LAN API" in refused.stderr and "Traceback" not in refused.stderr
    finally:
        serve.send_signal(signal.SIGKILL)
        serve.wait()

    ingest = enclave(data, "ingest", str(corpus / "guide.md"))  # kill -9 left no lock behind
    assert ingest.returncode == 0 and "1 ingested" in ingest.stdout, ingest.stderr
    status = enclave(data, "status")
    assert "access: read-only (no other program was writing it)" in status.stdout
    assert "documents: 3" in status.stdout and "index_repaired: None" in status.stdout
