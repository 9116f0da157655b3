"""A large library in seconds: a few real documents ingested, then copied inside the vault.

This is the one place in bench/ that writes into a vault directly. Embedding 100,000
chunks for real would take about an hour on a laptop; copying the documents and chunks
of a small library row by row (each copy's vectors moved by a little noise, so that no
two are equal; its full-text terms and navigation marks as ingest stored them) takes
seconds, and the vector index is rebuilt from those vectors when a service next opens
the library. Everything else in bench/ and scripts/ uses the engine as the front ends
do, through the package `engine` and the service's facade objects; the import-linter
contract that keeps them to that lists this module as its single exception.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.common import PASSPHRASE, open_service
from engine import EngineConfig
from engine.store.catalogue import bump_generation
from engine.store.vault import Vault

COPY_MARK = "#copy"
DOCUMENT_COLUMNS = ("collection_id, path, name, kind, sha256, size, mtime, pages, page_offsets, "
                    "text, embedding_model, ingested_at")
CHUNK_COLUMNS = ("document_id, ordinal, text, heading, page_start, page_end, char_start, "
                 "char_end, tokens, vector, navigation")


def build(data_dir: Path, sources: list[Path], target_chunks: int, seed: int = 7) -> int:
    """The library in `data_dir`: `sources` ingested through the service, then copied
    until it holds `target_chunks` chunks or more. Returns its chunk count; a library that
    is already that large is left as it is."""
    service = open_service(data_dir)
    try:
        chunks = service.health.status()["chunks"]
        if chunks >= target_chunks:
            return chunks
        service.library.ingest(sources)  # unchanged files are skipped
    finally:
        service.close()
    vault = Vault.open(data_dir, lambda new: PASSPHRASE, EngineConfig(data_dir).kdf_log2_n,
                       "passphrase")
    try:
        return _copy_until(vault, target_chunks, np.random.default_rng(seed))
    finally:
        vault.close()


def _copy_until(vault: Vault, target_chunks: int, rng: np.random.Generator) -> int:
    """Copy the ingested (not copied) documents with their chunks, one whole copy per
    transaction, until the vault holds `target_chunks` chunks; returns the count."""
    originals = vault.rows(f"SELECT id, {DOCUMENT_COLUMNS} FROM documents "
                           f"WHERE instr(path, '{COPY_MARK}') = 0")
    if not originals:
        raise SystemExit("synthetic library: nothing was ingested to copy")
    marks = ",".join("?" * len(originals))
    base = vault.rows(
        f"SELECT {', '.join('c.' + c.strip() for c in CHUNK_COLUMNS.split(','))}, f.terms "
        f"FROM chunks c JOIN chunks_fts f ON f.rowid = c.id WHERE c.document_id IN ({marks})",
        tuple(doc[0] for doc in originals))
    copy = vault.scalar(f"SELECT count(*) FROM documents WHERE instr(path, '{COPY_MARK}') > 0"
                        ) // len(originals)  # whole copies made by an earlier run
    chunks = vault.scalar("SELECT count(*) FROM chunks")
    while chunks < target_chunks:
        copy += 1
        with vault.transaction() as conn:
            new_ids = {}
            for doc in originals:
                new_ids[doc[0]] = conn.execute(
                    f"INSERT INTO documents({DOCUMENT_COLUMNS}) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc[1], f"{doc[2]}{COPY_MARK}{copy}", f"{doc[3]} (copy {copy})",
                     *doc[4:])).lastrowid
            for row in base:
                vector = np.frombuffer(row[9], dtype=np.float32)
                vector = vector + rng.normal(0, 0.02, vector.shape).astype(np.float32)
                vector /= np.linalg.norm(vector)
                chunk_id = conn.execute(
                    f"INSERT INTO chunks({CHUNK_COLUMNS}) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                    (new_ids[row[0]], *row[1:9], vector.tobytes(), row[10])).lastrowid
                conn.execute("INSERT INTO chunks_fts(rowid, terms) VALUES(?, ?)",
                             (chunk_id, row[11]))
            bump_generation(conn)  # the index no longer matches: rebuilt at the next open
        chunks += len(base)
    return vault.scalar("SELECT count(*) FROM chunks")
