"""The ingest pipeline: files -> parse -> chunk -> embed -> one vault transaction -> index.

Files to ingest are first written to the vault's `ingest_queue` (an upload with its bytes,
which therefore never lie on disk unencrypted), and each leaves the queue in the same
transaction that stores its document (or records its failure). A run
that is interrupted (crash, power loss, cancel) therefore leaves exactly the files it had
not finished in the queue, and the next run takes them up first; the embedding cache
spares it the work already done on a half-finished file. A document is stored whole or
not at all; a bad file is recorded with its reason and the batch goes on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import defaultdict
from pathlib import Path
from stat import S_ISREG
from typing import Callable

from . import parsers
from ..retrieval import textsearch
from .chunker import Chunker
from ..config import EngineConfig
from ..retrieval.embedder import Embedder
from ..errors import Cancelled, DocumentError, OverBudgetError
from ..store.catalogue import Catalogue, bump_generation
from .navigation import is_navigation
from .reader import ReaderProcess
from ..records import IngestProgress, IngestReport
from ..store.diskspace import disk_full
from ..store.vault import Vault
from ..retrieval.vector_index import VectorIndex

log = logging.getLogger(__name__)

ProgressCallback = Callable[[IngestProgress], None]


class CancelToken:
    """Set from any thread; the pipeline stops at the next file or batch boundary."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def expand(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to ingest from files and folders (recursively), and the paths refused.

    Inside a folder, hidden files and types Enclave does not read are passed over; a file
    named explicitly with such a type is refused with a reason. A path that cannot be
    resolved (a symlink loop) or whose name is not valid UTF-8 is refused with its reason,
    and the rest of the batch goes on.
    """
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    for given in paths:
        try:
            path = given.expanduser().resolve()
            if path.is_dir():
                found = sorted(
                    p for p in path.rglob("*")
                    if p.is_file() and parsers.kind_of(p)
                    and not any(part.startswith(".") for part in p.relative_to(path).parts))
            elif not path.exists():
                refused.append((path, "no such file or folder"))
                continue
            elif parsers.kind_of(path) is None:
                refused.append((path, f"unsupported file type '{path.suffix or path.name}'"))
                continue
            else:
                found = [path]
        except (OSError, RuntimeError) as exc:  # a symlink loop, a folder that cannot be read
            refused.append((given, f"cannot be read ({getattr(exc, 'strerror', None) or exc})"))
            continue
        for file in found:
            if _utf8(str(file)):
                files.append(file)
            else:
                shown = Path(os.fsencode(file).decode("utf-8", "replace"))  # printable
                refused.append((shown, "its name is not valid UTF-8: rename the file"))
    return files, refused


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        return False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Ingestor:
    def __init__(self, vault: Vault, catalogue: Catalogue, chunker: Chunker, embedder: Embedder,
                 index: VectorIndex, config: EngineConfig):
        self.vault, self.catalogue, self.chunker = vault, catalogue, chunker
        self.embedder, self.index, self.config = embedder, index, config
        limits = parsers.ReadLimits(config.max_file_bytes, config.max_unpacked_bytes,
                                    config.max_file_parts, config.max_file_blocks,
                                    config.mask_personal_data_at_ingest)
        self.reader = ReaderProcess(limits, config.read_timeout_s, config.read_memory_mb)
        self._current: int | None = None  # the queue entry being ingested now
        self._skip_current = threading.Event()
        self._skip_lock = threading.Lock()

    def skip(self, path: str) -> tuple[bool, bool]:
        """Take a file out of the queue: whether it was queued, and whether it was the one
        being ingested now (which then stops at its next step; the run goes on)."""
        with self._skip_lock:
            with self.vault.transaction() as conn:
                ids = {row[0] for row in conn.execute(
                    "SELECT id FROM ingest_queue WHERE path = ?", (path,))}
                conn.execute("DELETE FROM ingest_queue WHERE path = ?", (path,))
            now = self._current in ids
            if now:
                self._skip_current.set()
        return bool(ids), now

    def close(self) -> None:
        """Stop the reader process (the library is closing)."""
        self.reader.close()

    def run(self, progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None) -> IngestReport:
        """Work through the whole queue (this run's files and any left from before)."""
        queue = self.vault.rows("SELECT id, path, collection_id FROM ingest_queue ORDER BY id")
        report = IngestReport()
        timings: dict[str, float] = defaultdict(float)
        started = last_save = time.monotonic()
        chunks_done = 0

        def tell(done: int, path: Path, stage: str, reason: str | None = None,
                 file_chunks: tuple[int, int] = (0, 0)) -> None:
            if progress:
                progress(IngestProgress(done, len(queue), chunks_done, path.name, stage,
                                        time.monotonic() - started, str(path), reason,
                                        *file_chunks))

        for done, (queue_id, path_text, collection_id) in enumerate(queue):
            if cancel and cancel.cancelled:
                report.cancelled = True
                break
            path = Path(path_text)
            with self._skip_lock:  # the entry as it is now: its bytes, if it is an upload
                found = self.vault.rows("SELECT content FROM ingest_queue WHERE id = ?",
                                        (queue_id,))
                if not found:
                    continue  # skipped while it waited (whoever skipped it told so)
                self._current = queue_id
                self._skip_current.clear()
            content = None if found[0][0] is None else bytes(found[0][0])
            reason = None
            try:
                stored = self._ingest_file(
                    queue_id, path, collection_id, content, timings,
                    lambda stage, chunks=(0, 0): tell(done, path, stage, file_chunks=chunks),
                    lambda: bool(cancel and cancel.cancelled) or self._skip_current.is_set())
            except Cancelled:
                if self._skip_current.is_set():  # skipped while being read: on to the next
                    tell(done + 1, path, "cancelled")
                    continue
                report.cancelled = True  # the file stays queued: dropped, or taken up later
                tell(done, path, "interrupted")
                break
            except DocumentError as exc:
                reason = exc.reason
            except Exception as exc:
                if disk_full(exc):  # not this file's fault: the run stops, the file stays queued
                    raise
                if isinstance(exc, OSError):
                    reason = f"cannot read the file ({exc.strerror or exc})"
                else:  # a bug must not abort the batch either
                    log.exception("ingest of %s failed", path)
                    reason = f"internal error: {type(exc).__name__}: {exc}"
            finally:
                self._current = None
            if reason is not None:
                self._record_failure(queue_id, path, collection_id, reason)
                report.failed.append((str(path), reason))
                outcome = "failed"
            elif stored is None:
                report.skipped.append(str(path))
                outcome = "skipped"
            else:
                report.ingested.append(str(path))
                report.chunks += stored[0]
                report.pages += stored[1]
                chunks_done += stored[0]
                outcome = "indexed"
            if time.monotonic() - last_save > self.config.index_save_interval_s:
                self._save_index(timings)
                last_save = time.monotonic()
            tell(done + 1, path, outcome, reason)
        if queue:
            self._save_index(timings)
        report.timings = dict(timings)
        return report

    def _save_index(self, timings: dict[str, float]) -> None:
        t = time.monotonic()
        self.index.save(int(self.vault.get_meta("index_generation", "0")))
        timings["index"] += time.monotonic() - t

    def _ingest_file(self, queue_id: int, path: Path, collection_id: int,
                     content: bytes | None, timings: dict[str, float],
                     stage: Callable[..., None],
                     stopped: Callable[[], bool]) -> tuple[int, int] | None:
        """Store one file (or `content`, an upload's bytes: no file on disk); None if it was
        unchanged. Raises DocumentError if it is bad, and Cancelled at the next step once
        `stopped` says so."""
        stage("parsing")
        t = time.monotonic()
        if content is not None:
            size, mtime = len(content), time.time()
            parsers.check_size(size, self.reader.limits)
            sha = hashlib.sha256(content).hexdigest()
        else:
            stat = path.stat()
            if not S_ISREG(stat.st_mode):  # a pipe or a device would never end
                raise DocumentError("not a regular file")
            size, mtime = stat.st_size, stat.st_mtime
            parsers.check_size(size, self.reader.limits)  # before hashing it
            sha = file_sha256(path)
        existing = self.catalogue.document_paths(collection_id).get(str(path))
        if existing and existing[1] == sha:
            with self.vault.transaction() as conn:
                conn.execute("DELETE FROM ingest_queue WHERE id = ?", (queue_id,))
                conn.execute("DELETE FROM ingest_failures WHERE path = ? AND collection_id = ?",
                             (str(path), collection_id))
            return None
        parsed = self.reader.read(path, content, cancelled=stopped)
        chunks = self.chunker.chunk(parsed)
        if len(chunks) > self.config.max_file_chunks:
            raise OverBudgetError(f"it makes {len(chunks):,} passages, over the "
                                  f"{self.config.max_file_chunks:,} a file may: split the file")
        timings["parse"] += time.monotonic() - t

        t = time.monotonic()
        texts = [c.embedding_text() for c in chunks]

        embedded = 0
        stage("embedding", (0, len(texts)))

        def check_cancel(batch: int) -> None:
            nonlocal embedded
            embedded += batch
            stage("embedding", (embedded, len(texts)))
            if stopped():
                raise Cancelled()

        vectors = self.embedder.embed_documents(self.vault, texts, check_cancel)
        timings["embed"] += time.monotonic() - t

        stage("storing")
        t = time.monotonic()
        with self.vault.transaction() as conn:
            old_chunks = []
            if existing:
                old_chunks = [r[0] for r in conn.execute(
                    "SELECT id FROM chunks WHERE document_id = ?", (existing[0],))]
                conn.execute("DELETE FROM documents WHERE id = ?", (existing[0],))
            document_id = conn.execute(
                "INSERT INTO documents(collection_id, path, name, kind, sha256, size, mtime, "
                "pages, page_offsets, text, embedding_model, ingested_at) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                (collection_id, str(path), path.name, parsed.kind, sha, size, mtime,
                 parsed.pages, ",".join(map(str, parsed.page_offsets)),
                 parsed.text, self.embedder.model_id, time.time()),
            ).lastrowid
            chunk_ids = []
            for ordinal, (chunk, vector, text) in enumerate(zip(chunks, vectors, texts)):
                chunk_id = conn.execute(
                    "INSERT INTO chunks(document_id, ordinal, text, heading, page_start, "
                    "page_end, char_start, char_end, tokens, vector, navigation) "
                    "VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                    (document_id, ordinal, chunk.text, chunk.heading, chunk.page_start,
                     chunk.page_end, chunk.char_start, chunk.char_end, chunk.tokens,
                     vector.tobytes(), int(is_navigation(chunk.text))),
                ).lastrowid
                conn.execute("INSERT INTO chunks_fts(rowid, terms) VALUES(?, ?)",
                             (chunk_id, textsearch.index_terms(text)))
                chunk_ids.append(chunk_id)
            conn.execute("DELETE FROM ingest_queue WHERE id = ?", (queue_id,))
            conn.execute("DELETE FROM ingest_failures WHERE path = ? AND collection_id = ?",
                         (str(path), collection_id))
            bump_generation(conn)
        timings["store"] += time.monotonic() - t

        t = time.monotonic()
        self.index.remove(old_chunks)
        self.index.add(chunk_ids, vectors)
        timings["index"] += time.monotonic() - t
        return len(chunk_ids), parsed.pages or 0

    def _record_failure(self, queue_id: int, path: Path, collection_id: int, reason: str) -> None:
        with self.vault.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO ingest_failures(path, collection_id, reason, failed_at) "
                "VALUES(?, ?, ?, ?)", (str(path), collection_id, reason, time.time()))
            conn.execute("DELETE FROM ingest_queue WHERE id = ?", (queue_id,))
