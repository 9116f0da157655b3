"""One writer per library: while a real second process holds the library, this one opens it
read-only, reads everything, writes nothing (the index file included) and is refused
every change with the holder's name; once the holder is killed with SIGKILL, the library
opens for writing again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import BackupPlan, CostRates, EnclaveService, LibraryInUseError
from engine.ops.audit import AuditEntry
from engine.retrieval.vector_index import INDEX_FILE
from engine.store.vault import SCHEMA_VERSION, VAULT_FILE, Vault
from engine.store.writer_lock import LOCK_FILE
from tests.conftest import PASSPHRASE

ROOT = Path(__file__).parents[2]
HOLDER = """
import sys, time
from pathlib import Path
from engine import EnclaveService, EngineConfig

service = EnclaveService.open(EngineConfig(data_dir=Path(sys.argv[1]), kdf_log2_n=12),
                              lambda new: sys.argv[2], prefer_keyring=False,
                              program=sys.argv[3])
print("holding", flush=True)
time.sleep(600)
"""


def hold(data_dir: Path, program: str = "enclave ingest") -> subprocess.Popen:
    """Another process that opens the library for writing and keeps it open."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir), PASSPHRASE, program],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    line = process.stdout.readline()
    assert line.strip() == "holding", process.stderr.read()
    return process


@pytest.fixture
def holders():
    started: list[subprocess.Popen] = []
    yield lambda *args: started.append(hold(*args)) or started[-1]
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _open(config, embedder, generator, access="write", program=None) -> EnclaveService:
    return EnclaveService.open(config, lambda new: PASSPHRASE, prefer_keyring=False,
                               embedder=embedder, generator=generator, access=access,
                               program=program)


def _files(data_dir: Path) -> dict[str, tuple[bytes, int]]:
    """The library's own files (the WAL's shared-memory file changes with every reader)."""
    return {name: ((data_dir / name).read_bytes(), (data_dir / name).stat().st_mtime_ns)
            for name in (VAULT_FILE, INDEX_FILE, "key.json")}


def test_a_second_process_reads_but_changes_nothing_and_is_told_who_writes(
        config, corpus, embedder, generator, holders, tmp_path):
    service = _open(config, embedder, generator)
    service.library.ingest([corpus])
    service.close()
    holder = holders(config.data_dir)
    who = f"enclave ingest (pid {holder.pid})"

    with pytest.raises(LibraryInUseError, match=re.escape(f"open for writing by {who}")):
        _open(config, embedder, generator)  # for writing: refused at once

    before = _files(config.data_dir)
    reader = _open(config, embedder, generator, access="read")
    try:
        assert reader.read_only and reader.writer.pid == holder.pid
        status = reader.health.status()
        assert status["documents"] == 6 and status["indexed_vectors"] == status["chunks"]
        assert status["access"] == f"read-only ({who} was writing it)"
        assert reader.answers.search("relief valve pressure", k=1)[0].document == "pumps.pdf"
        answer = reader.answers.ask("At what pressure does the relief valve open?").collect()
        assert answer.sources and "12.5" in answer.sources[0].hit.text
        assert reader.library.documents() and reader.access.verify_audit() == []
        made = reader.backups.backup(tmp_path / "usb", "test")  # a consistent export: a read
        assert made.manifest.counts["documents"] == 6 and reader.backups.verify(made.folder)
        reader.health.sample()  # figures of a reading process are not kept

        changes = {
            "create a collection": lambda: reader.library.create_collection("new"),
            "delete a document": lambda: reader.library.delete_documents("pumps.pdf"),
            "import": lambda: reader.library.ingest([corpus / "notes.txt"]),
            "resume the queue": reader.library.resume,
            "retry failed files": lambda: reader.library.retry_failed(),
            "start a conversation": lambda: reader.conversations.create(),
            "create an API key": lambda: reader.access.create_key("ops", "read-only"),
            "audit a request": lambda: reader.access.record(AuditEntry(
                None, "127.0.0.1", "GET", "/v1/models", 200, 1.0)),
            "save the backup plan": lambda: reader.backups.save_plan(
                BackupPlan(True, "02:00", str(tmp_path))),
            "save cost rates": lambda: reader.health.save_rates(CostRates()),
        }
        for what, change in changes.items():
            with pytest.raises(LibraryInUseError) as refused:
                change()
            message = str(refused.value)
            assert who in message and "read-only" in message, what
            assert refused.value.holder.pid == holder.pid
        assert reader.health.status()["documents"] == 6
        assert reader.conversations.list() == [] and reader.access.keys() == []
    finally:
        reader.close()
    assert _files(config.data_dir) == before  # not a byte, not a timestamp

    holder.send_signal(signal.SIGKILL)
    holder.wait()
    writer = _open(config, embedder, generator)  # kill -9 left nothing locked
    try:
        assert not writer.read_only
        writer.library.create_collection("new")
        assert writer.health.cost().rates  # nothing of the reader's answer was kept
        assert writer._vault.scalar("SELECT count(*) FROM answer_costs") == 0
        assert writer._vault.scalar("SELECT count(*) FROM metric_minutes") == 0
    finally:
        writer.close()
    assert (config.data_dir / LOCK_FILE).exists()  # stays; only the OS lock on it matters


def test_a_reader_brings_a_stale_index_up_to_date_in_memory_and_never_saves_it(
        config, corpus, embedder, generator, holders):
    service = _open(config, embedder, generator)
    service.library.ingest([corpus / "notes.txt", corpus / "guide.md"])
    stale = (config.data_dir / INDEX_FILE).read_bytes()
    for document in service.library.documents():
        service.library.delete_document(document.id)
    service.library.ingest([corpus])  # SQLite gives the deleted chunks' ids again
    service.close()
    holder = holders(config.data_dir, "enclave serve")
    # as while the holder ingests: its vault is ahead of the index it saved last
    (config.data_dir / INDEX_FILE).write_bytes(stale)
    before = _files(config.data_dir)

    reader = _open(config, embedder, generator, access="read")
    try:
        assert "generation" in reader.health.index_repair
        assert "in memory only" in reader.health.index_repair
        assert reader.answers.search("relief valve pressure", k=1)[0].document == "pumps.pdf"
        rows = reader._vault.rows("SELECT id, vector FROM chunks ORDER BY id")
        index = reader.library._index  # engine internals: each vector is the vault's
        assert len(index) == len(rows)
        held = index.vectors([r[0] for r in rows])
        stored = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        stored /= np.linalg.norm(stored, axis=1, keepdims=True)
        assert np.abs(held - stored).max() < 1e-4
        with pytest.raises(LibraryInUseError, match=rf"enclave serve \(pid {holder.pid}\).*"
                                                    "LAN API"):
            reader.library.delete_documents("pumps.pdf")
    finally:
        reader.close()
    assert _files(config.data_dir) == before


def test_a_reader_takes_no_lock_so_writers_open_beside_it(config, corpus, embedder, generator):
    service = _open(config, embedder, generator)
    service.library.ingest([corpus])
    service.close()
    (config.data_dir / INDEX_FILE).unlink()  # e.g. a crash before the first save

    reader = _open(config, embedder, generator, access="read", program="enclave status")
    try:
        assert reader.read_only and reader.writer is None
        assert reader.health.index_repair.startswith("no index file; brought up to date in "
                                                     "memory only")
        assert not (config.data_dir / INDEX_FILE).exists()  # left to the next writer
        assert reader.health.status()["access"] == "read-only (no other program was writing it)"
        writer = _open(config, embedder, generator)  # while the reader is open
        assert writer.health.index_repair == "no index file"  # the writer repairs it
        writer.library.create_collection("new")
        writer.close()
        assert [c.name for c in reader.library.collections()] == ["default", "new"]
        with pytest.raises(LibraryInUseError, match="opened read-only here"):
            reader.library.create_collection("other")
    finally:
        reader.close()


def test_a_reader_never_migrates_a_library_another_program_holds(
        config, embedder, generator, holders):
    import sqlcipher3

    _open(config, embedder, generator).close()
    holder = holders(config.data_dir)
    vault = Vault.open(config.data_dir, lambda new: PASSPHRASE, access="read")
    raw_key = vault.key_for_backups()
    vault.close()
    conn = sqlcipher3.connect(str(config.data_dir / VAULT_FILE))
    conn.execute(f"PRAGMA key = \"x'{raw_key.hex()}'\"")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")  # as an older Enclave left it
    conn.close()
    with pytest.raises(LibraryInUseError, match=rf"schema {SCHEMA_VERSION - 1}.*"
                                                rf"pid {holder.pid}"):
        _open(config, embedder, generator, access="read")
    conn = sqlcipher3.connect(str(config.data_dir / VAULT_FILE))
    conn.execute(f"PRAGMA key = \"x'{raw_key.hex()}'\"")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1
    conn.close()


def test_restore_refuses_to_replace_a_library_another_program_has_open(
        config, corpus, embedder, generator, holders, tmp_path):
    from engine import restore_library

    service = _open(config, embedder, generator)
    service.library.ingest([corpus / "notes.txt"])
    made = service.backups.backup(tmp_path / "usb", "test")
    service.close()
    holder = holders(config.data_dir, "the Enclave desktop app")
    with pytest.raises(LibraryInUseError, match=rf"desktop app \(pid {holder.pid}\).*"
                                                "close the app"):
        restore_library(made.folder, config.data_dir, lambda new: PASSPHRASE, kdf_log2_n=12)
    assert not list(tmp_path.glob("data.before-restore-*"))
