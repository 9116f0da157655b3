"""Ingest end to end with the real vault and embedding model: every kind, bad files,
changes, deletes, collections, linked folders, cancel, a killed process, a damaged index."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.errors import NotFoundError, UserError
from engine.ingest.pipeline import CancelToken
from engine.retrieval.vector_index import INDEX_FILE
from tests.conftest import PASSPHRASE

FACTS = {  # question -> (document that answers it, page)
    "How often is the primary cooling pump inspected?": ("pumps.pdf", 1),
    "At what pressure does the relief valve open?": ("pumps.pdf", 2),
    "What colour badge do visitors wear?": ("policy.docx", None),
    "When does the weather station upload its readings?": ("notes.txt", None),
    "Where are the backup tapes kept?": ("guide.md", None),
    "What does the canteen serve on Wednesday?": ("page.html", None),
    "冷却塔的风机多久更换润滑油？": ("设备.txt", None),
    "变压器室温度": ("设备.txt", None),
}


def _consistent(service):
    """Vault rows, full-text rows and index vectors all agree."""
    chunk_ids = {r[0] for r in service._vault.rows("SELECT id FROM chunks")}
    fts_ids = {r[0] for r in service._vault.rows("SELECT rowid FROM chunks_fts")}
    assert chunk_ids == fts_ids
    index = service.library._index  # engine internals
    assert len(index) == len(chunk_ids) and all(i in index for i in chunk_ids)
    orphans = service._vault.scalar(
        "SELECT count(*) FROM documents d WHERE NOT EXISTS "
        "(SELECT 1 FROM chunks c WHERE c.document_id = d.id)")
    assert orphans == 0


def test_every_kind_is_ingested_and_found(service, corpus):
    report = service.library.ingest([corpus])
    assert sorted(Path(p).name for p in report.ingested) == sorted(
        ["pumps.pdf", "policy.docx", "notes.txt", "guide.md", "page.html", "设备.txt"])
    assert report.failed == [] and report.pages == 3 and report.chunks >= 6
    assert set(report.timings) >= {"parse", "embed", "store", "index"}
    for question, (document, page) in FACTS.items():
        top = service.answers.search(question, k=1)[0]
        assert (top.document, top.page) == (document, page), question
        assert top.text in service._vault.scalar(
            "SELECT text FROM documents WHERE id = ?", (top.document_id,))
    _consistent(service)


def test_unchanged_files_are_skipped_and_changed_files_replaced(service, corpus):
    service.library.ingest([corpus])
    again = service.library.ingest([corpus])
    assert again.ingested == [] and len(again.skipped) == 6

    (corpus / "notes.txt").write_text("Field notes.\n\nThe anemometer was replaced in May.\n")
    changed = service.library.ingest([corpus])
    assert [Path(p).name for p in changed.ingested] == ["notes.txt"]
    assert len(service.library.documents()) == 6
    hit = service.answers.search("When was the anemometer replaced?", k=1)[0]
    assert hit.document == "notes.txt" and "May" in hit.text
    old = service.answers.search("weather station uploads readings at midnight", k=10)
    assert all("midnight" not in h.text for h in old)
    _consistent(service)


def test_a_changed_file_embeds_only_its_changed_chunks(service, tmp_path, monkeypatch):
    paragraphs = [f"Section {i}. Valve {i} is checked every {i + 2} weeks by the night shift "
                  f"and its pressure is logged in book {i}." * 4 for i in range(6)]
    path = tmp_path / "log.txt"
    path.write_text("\n\n".join(paragraphs))
    first = service.library.ingest([path])
    assert first.chunks >= 3

    encoded = []
    real_encode = service._embedder.encode
    monkeypatch.setattr(service._embedder, "encode",
                        lambda texts: encoded.extend(texts) or real_encode(texts))
    paragraphs[-1] = "Section 5. The last valve was removed in June."
    path.write_text("\n\n".join(paragraphs))
    second = service.library.ingest([path])
    assert second.ingested == [str(path)]
    assert 1 <= len(encoded) < second.chunks  # the unchanged chunks came from the cache
    assert service.answers.search("When was the last valve removed?", k=1)[0].text.endswith("June.")


def test_bad_files_are_reported_and_the_batch_goes_on(service, corpus, tmp_path):
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    (corpus / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff")  # an image (read with OCR): damaged
    (corpus / ".hidden.txt").write_text("hidden notes")
    stray = tmp_path / "archive.zip"
    stray.write_bytes(b"PK")
    report = service.library.ingest([corpus, stray, tmp_path / "missing.pdf"])
    assert len(report.ingested) == 6
    reasons = {Path(p).name: reason for p, reason in report.failed}
    assert reasons.keys() == {"empty.txt", "broken.pdf", "locked.docx", "photo.jpg",
                              "archive.zip", "missing.pdf"}
    assert "empty" in reasons["empty.txt"] and "password" in reasons["locked.docx"]
    assert "unsupported" in reasons["archive.zip"] and "no such" in reasons["missing.pdf"]
    assert {Path(f.path).name for f in service.library.failures()} == {
        "empty.txt", "broken.pdf", "locked.docx", "photo.jpg"}
    _consistent(service)

    (corpus / "empty.txt").write_text("The spare keys are in the red cabinet.")
    service.library.retry_failed(start=False)
    retried = service.library.run_queue()
    assert [Path(p).name for p in retried.ingested] == ["empty.txt"]
    assert {Path(f.path).name for f in service.library.failures()} == {
        "broken.pdf", "locked.docx", "photo.jpg"}
    assert service.answers.search("where are the spare keys", k=1)[0].document == "empty.txt"


def test_delete_removes_chunks_vectors_and_full_text(service, corpus):
    service.library.ingest([corpus])
    before = service._vault.scalar("SELECT count(*) FROM chunks")
    deleted = service.library.delete_documents("policy.docx")
    assert [d.name for d in deleted] == ["policy.docx"]
    assert service._vault.scalar("SELECT count(*) FROM chunks") < before
    assert all(h.document != "policy.docx" for h in service.answers.search("visitor blue badge", k=10))
    _consistent(service)
    with pytest.raises(NotFoundError):
        service.library.delete_documents("policy.docx")


def test_collections_scope_search(service, corpus, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "pumps2.txt").write_text("The backup cooling pump P-102 is inspected every 900 hours.")
    service.library.ingest([corpus], collection="plant")
    service.library.ingest([other], collection="spares")
    assert {c.name: c.documents for c in service.library.collections()} == {"plant": 6, "spares": 1}
    question = "How often is the cooling pump inspected?"
    assert {h.document for h in service.answers.search(question, k=10, collection="spares")} == {
        "pumps2.txt"}
    assert "pumps2.txt" not in {h.document for h in service.answers.search(question, collection="plant")}
    with pytest.raises(NotFoundError):
        service.answers.search(question, collection="nope")
    service.library.delete_collection("spares")
    assert [c.name for c in service.library.collections()] == ["plant"]
    _consistent(service)


def test_linked_folder_sync_adds_updates_and_deletes(service, corpus):
    service.library.link_collection("docs", corpus)
    assert service.library.sync("docs", start=False) == {"docs": []}
    first = service.library.run_queue()
    assert len(first.ingested) == 6
    (corpus / "guide.md").unlink()
    (corpus / "notes.txt").write_text("The generator is tested on the first Monday.")
    (corpus / "new.md").write_text("# New\n\nThe fire drill is in March.")
    deleted = service.library.sync(start=False)["docs"]
    second = service.library.run_queue()
    assert sorted(Path(p).name for p in second.ingested) == ["new.md", "notes.txt"]
    assert [Path(p).name for p in deleted] == ["guide.md"]
    assert sorted(d.name for d in service.library.documents("docs")) == sorted(
        ["pumps.pdf", "policy.docx", "notes.txt", "page.html", "设备.txt", "new.md"])
    _consistent(service)
    service.library.create_collection("plain")
    with pytest.raises(UserError, match="not linked"):
        service.library.sync("plain")


def test_cancel_stops_the_run_and_the_next_run_resumes(service, corpus):
    token = CancelToken()

    def progress(p):
        if p.files_done == 1:  # the first group is stored
            token.cancel()

    report = service.library.ingest([corpus], progress=progress, cancel=token)
    stored = {d.path for d in service.library.documents()}
    assert stored == set(report.ingested) and stored
    assert service.library.pending() == 6 - len(stored)
    assert report.cancelled == (len(stored) < 6)  # unless that group held every file
    _consistent(service)
    resumed = service.library.ingest([])
    assert len(resumed.ingested) == 6 - len(stored) and service.library.pending() == 0
    assert len(service.library.documents()) == 6


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from engine.config import EngineConfig
    from engine.service import EnclaveService

    config = EngineConfig(data_dir=Path(sys.argv[1]), kdf_log2_n=12)
    service = EnclaveService.open(config, lambda new: sys.argv[3], prefer_keyring=False)

    def progress(p):
        # die like a power cut: once the first files are stored
        if p.files_done == 1:
            os.kill(os.getpid(), signal.SIGKILL)

    service.library.ingest([Path(sys.argv[2])], progress=progress)
""")


def test_a_killed_ingest_resumes_where_it_stopped(open_service, config, corpus):
    result = subprocess.run(
        [sys.executable, "-c", KILLER, str(config.data_dir), str(corpus), PASSPHRASE],
        cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == -9, result.stderr
    service = open_service()
    assert service.health.index_repair  # the index file was not saved before the kill
    stored = {d.path for d in service.library.documents()}
    queued = set(map(str, service.library.queued()))
    assert stored and not stored & queued  # each file stored or queued, never both
    assert stored | queued == {str(p.resolve()) for p in corpus.iterdir()}
    _consistent(service)
    resumed = service.library.ingest([])
    assert set(resumed.ingested) == queued and len(service.library.documents()) == 6
    _consistent(service)


def test_damaged_or_stale_index_is_rebuilt_not_served(open_service, corpus, config):
    service = open_service()
    service.library.ingest([corpus])
    stale = (config.data_dir / INDEX_FILE).read_bytes()
    service.library.delete_documents("pumps.pdf")
    service.close()

    (config.data_dir / INDEX_FILE).write_bytes(stale)  # an index older than the vault
    service = open_service()
    assert "generation" in service.health.index_repair
    assert all(h.document != "pumps.pdf" for h in service.answers.search("cooling pump", k=10))
    _consistent(service)
    service.close()

    path = config.data_dir / INDEX_FILE
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))
    service = open_service()
    assert service.health.index_repair and "could not be decrypted" in service.health.index_repair
    _consistent(service)
    service.close()

    path.unlink()
    service = open_service()
    assert service.health.index_repair == "no index file"
    assert service.answers.search("visitor badge", k=1)[0].document == "policy.docx"


def test_bad_queries_are_refused(service):
    with pytest.raises(UserError):
        service.answers.search("   ")
    with pytest.raises(UserError):
        service.answers.search("pump", k=0)
    assert service.answers.search("pump") == []  # empty library: nothing, no error


def test_a_name_that_is_not_utf8_or_a_symlink_loop_is_refused_and_the_rest_ingested(
        service, tmp_path):
    import os

    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("The spare fuses are in drawer 4.")
    fd = os.open(os.fsencode(folder) + b"/bad\xff.txt", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"A file whose name is Latin-1.")
    os.close(fd)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    report = service.library.ingest([folder, loop])
    assert [Path(p).name for p in report.ingested] == ["good.txt"]
    reasons = {Path(p).name: reason for p, reason in report.failed}
    assert "UTF-8" in reasons["bad\ufffd.txt"] and "cannot be read" in reasons["loop"]
    str(report.failed).encode("utf-8")  # printable: no lone surrogate reaches the CLI


def test_saves_of_the_index_at_once_neither_fail_nor_go_back_in_time(tmp_path):
    """Regression: every save wrote one fixed temporary file outside the lock, so an import
    and a deletion saving at once failed with FileNotFoundError (500 on DELETE)."""
    import threading

    import numpy as np

    from engine.retrieval.vector_index import VectorIndex

    index = VectorIndex(tmp_path / "index.hnsw.enc", b"k" * 32, 8)
    errors = []

    def work(worker: int) -> None:
        try:
            for n in range(25):
                chunk_id = worker * 1000 + n
                index.add([chunk_id], np.random.default_rng(chunk_id).random((1, 8),
                                                                             dtype=np.float32))
                index.save(chunk_id)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.hnsw.enc"]  # no temporary left
    saved = VectorIndex(tmp_path / "index.hnsw.enc", b"k" * 32, 8)
    assert saved._load(None) is None  # the file is there: the vault is not asked
    assert len(saved) == 150 and saved.generation == 6024


def test_a_query_of_a_megabyte_is_searched(service, corpus):
    """Regression: 130,000 distinct made-up words went into one FTS5 query (22 s), and their
    frequency lookup into one SQL statement. Words the library does not hold are left out."""
    import random
    import string

    service.library.ingest([corpus])
    rng = random.Random(1)
    noise = " ".join("".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(130_000))
    hits = service.answers.search(noise + " relief valve pressure", k=3)
    assert hits and hits[0].document == "pumps.pdf"
