"""The ingest pipeline: files -> parse -> chunk -> embed -> one vault transaction -> index.

Files to ingest are first written to the vault's `ingest_queue` (an upload with its bytes,
which therefore never lie on disk unencrypted), and each leaves the queue in the same
transaction that stores its document (or records its failure). A run
that is interrupted (crash, power loss, cancel) therefore leaves exactly the files it had
not finished in the queue, and the next run takes them up first; the embedding cache
spares it the work already done on a half-finished file. A document is stored whole or
not at all; a bad file is recorded with its reason and the batch goes on.

The stages overlap: a read-ahead thread (`readahead`) hashes, parses (in the reader
process) and chunks the next files while the files read before are embedded and stored.
Those go in groups of consecutive files: one embedding call, one transaction and one
index update for up to `GROUP_BATCHES` batches of chunks, so that thousands of small
files cost little more than embedding their text. A file skipped while it waits in a
group is left out of its transaction; a cancel stops at the next embedding batch, and
the files not stored stay queued.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import defaultdict
from pathlib import Path
from stat import S_ISREG
from typing import Callable

import numpy as np
import sqlcipher3

from . import parsers
from ..retrieval import textsearch
from .chunker import Chunker
from ..config import EngineConfig
from ..retrieval.embedder import Embedder
from ..errors import Cancelled, DocumentError, OverBudgetError
from ..texts import Said, said_columns
from ..store.catalogue import Catalogue, bump_generation
from .navigation import is_navigation
from .reader import ReaderProcess
from .readahead import Entry, ReadAhead, ReadFile
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
                refused.append((path, Said("file_missing")))
                continue
            elif parsers.kind_of(path) is None:
                refused.append((path, Said("file_unsupported_type",
                                           suffix=path.suffix or path.name)))
                continue
            else:
                found = [path]
        except (OSError, RuntimeError) as exc:  # a symlink loop, a folder that cannot be read
            refused.append((given, Said("file_unreadable_path",
                                        detail=str(getattr(exc, "strerror", None) or exc))))
            continue
        for file in found:
            if _utf8(str(file)):
                files.append(file)
            else:
                shown = Path(os.fsencode(file).decode("utf-8", "replace"))  # printable
                refused.append((shown, Said("file_name_not_utf8")))
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


GROUP_BATCHES = 16
"""Files are embedded and stored in groups of up to this many embedding batches of chunks
(a bigger file alone): one embedding call, one transaction and one index update each."""


class Ingestor:
    def __init__(self, vault: Vault, catalogue: Catalogue, chunker: Chunker, embedder: Embedder,
                 index: VectorIndex, config: EngineConfig):
        self.vault, self.catalogue, self.chunker = vault, catalogue, chunker
        self.embedder, self.index, self.config = embedder, index, config
        limits = parsers.ReadLimits(config.max_file_bytes, config.max_unpacked_bytes,
                                    config.max_file_parts, config.max_file_blocks,
                                    config.mask_personal_data_at_ingest, config.ocr,
                                    config.max_ocr_pages)
        self.reader = ReaderProcess(limits, config.read_timeout_s, config.read_memory_mb)
        self._begun: dict[int, Path] = {}  # the queue entries the run has begun, not finished
        self._skipped: set[int] = set()  # those of them taken out of the queue meanwhile
        self._skip_lock = threading.Lock()

    def skip(self, path: str) -> tuple[bool, bool]:
        """Take a file out of the queue: whether it was queued, and whether the run had
        begun it (it then stops at its next step and the run tells of it; the run goes on)."""
        with self._skip_lock:
            with self.vault.transaction() as conn:
                ids = {row[0] for row in conn.execute(
                    "SELECT id FROM ingest_queue WHERE path = ?", (path,))}
                conn.execute("DELETE FROM ingest_queue WHERE path = ?", (path,))
            begun = ids & self._begun.keys()
            self._skipped |= begun
        return bool(ids), bool(begun)

    def close(self) -> None:
        """Stop the reader process (the library is closing)."""
        self.reader.close()

    def run(self, progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None) -> IngestReport:
        """Work through the whole queue (this run's files and any left from before): files
        are read ahead on a thread of their own while the ones read before are embedded and
        stored, a group at a time. Progress is told from both threads."""
        queue = self.vault.rows("SELECT id, path, collection_id FROM ingest_queue ORDER BY id")
        report = IngestReport()
        timings: dict[str, float] = defaultdict(float)
        started = last_save = time.monotonic()
        done = chunks_done = 0

        def cancelled() -> bool:
            return bool(cancel and cancel.cancelled)

        def tell(path: Path, stage: str, reason: str | None = None,
                 file_chunks: tuple[int, int] = (0, 0), ocr_pages: tuple[int, int] = (0, 0)
                 ) -> None:
            if progress:
                progress(IngestProgress(done, len(queue), chunks_done, path.name, stage,
                                        time.monotonic() - started, str(path), reason,
                                        *file_chunks, *ocr_pages))

        group_chunks = GROUP_BATCHES * self.embedder.batch_size
        reading = ReadAhead(queue, lambda entry, stopped: self._read(
            entry, tell, timings, lambda: stopped() or cancelled()), group_chunks)
        try:
            while not cancelled():
                group = reading.group(group_chunks)
                if not group or cancelled():
                    break
                for file, outcome, pages in self._embed_and_store(group, tell, timings,
                                                                 cancelled):
                    with self._skip_lock:
                        del self._begun[file.queue_id]
                        self._skipped.discard(file.queue_id)
                    if outcome == "failed":
                        report.failed.append((str(file.path), file.reason))
                    elif outcome == "skipped":
                        report.skipped.append(str(file.path))
                    elif outcome == "indexed":
                        report.ingested.append(str(file.path))
                        report.chunks += len(file.chunks)
                        report.pages += pages
                        chunks_done += len(file.chunks)
                    done += 1
                    tell(file.path, outcome, file.reason if outcome == "failed" else None)
                if time.monotonic() - last_save > self.config.index_save_interval_s:
                    self._save_index(timings)
                    last_save = time.monotonic()
        except Cancelled:  # by the run's token, while a group was embedded: it stays queued
            pass
        finally:
            reading.stop()
            with self._skip_lock:
                unfinished = [(path, queue_id in self._skipped)
                              for queue_id, path in self._begun.items()]
                self._begun.clear()
                self._skipped.clear()
            for path, skipped in unfinished:  # still queued, unless skipped meanwhile
                tell(path, "cancelled" if skipped else "interrupted")
        report.cancelled = cancelled() and (bool(unfinished) or not reading.finished)
        if queue:
            self._save_index(timings)
        report.timings = dict(timings)
        return report

    def _save_index(self, timings: dict[str, float]) -> None:
        t = time.monotonic()
        self.index.save(int(self.vault.get_meta("index_generation", "0")))
        timings["index"] += time.monotonic() - t

    def _read(self, entry: Entry, tell: Callable[..., None], timings: dict[str, float],
              stopped: Callable[[], bool]) -> ReadFile | None:
        """Read one queue entry (on the read-ahead thread): None if it was skipped while it
        waited; raises Cancelled once `stopped` says so, and what is not the file's fault
        (a full disk)."""
        if stopped():
            raise Cancelled()
        queue_id, path_text, collection_id = entry
        path = Path(path_text)
        with self._skip_lock:  # the entry as it is now: its bytes, if it is an upload
            found = self.vault.rows("SELECT content FROM ingest_queue WHERE id = ?", (queue_id,))
            if not found:
                return None  # skipped while it waited (whoever skipped it told so)
            self._begun[queue_id] = path
        content = None if found[0][0] is None else bytes(found[0][0])
        file = ReadFile(queue_id, path, collection_id)
        tell(path, "parsing")
        t = time.monotonic()
        try:
            self._parse(file, content, lambda: stopped() or queue_id in self._skipped,
                        lambda done, total: tell(path, "recognising", ocr_pages=(done, total)))
        except Cancelled:
            if queue_id not in self._skipped:
                raise
            file.outcome = "cancelled"
        except DocumentError as exc:
            file.outcome, file.reason = "failed", exc.reason
        except Exception as exc:
            if disk_full(exc):  # not this file's fault: the run stops, the file stays queued
                raise
            file.outcome = "failed"
            if isinstance(exc, OSError):
                file.reason = Said("file_cannot_read", detail=str(exc.strerror or exc))
            else:  # a bug must not abort the batch either
                log.exception("ingest of %s failed", path)
                file.reason = Said("file_internal_error", detail=f"{type(exc).__name__}: {exc}")
        timings["parse"] += time.monotonic() - t
        return file

    def _parse(self, file: ReadFile, content: bytes | None, stopped: Callable[[], bool],
               ocr_progress: parsers.Progress) -> None:
        """Fill in `file` (or `content`, an upload's bytes: no file on disk): its hash, and
        its text and chunks, or "unchanged". Raises DocumentError if it is bad."""
        if content is not None:
            file.size, file.mtime = len(content), time.time()
            parsers.check_size(file.size, self.reader.limits)
            file.sha = hashlib.sha256(content).hexdigest()
        else:
            stat = file.path.stat()
            if not S_ISREG(stat.st_mode):  # a pipe or a device would never end
                raise DocumentError.said("file_not_regular")
            file.size, file.mtime = stat.st_size, stat.st_mtime
            parsers.check_size(file.size, self.reader.limits)  # before hashing it
            file.sha = file_sha256(file.path)
        existing = self.catalogue.document_at(file.collection_id, str(file.path))
        if existing and existing[1] == file.sha:
            file.outcome = "unchanged"
            return
        file.parsed = self.reader.read(file.path, content, cancelled=stopped,
                                       progress=ocr_progress)
        file.chunks = self.chunker.chunk(file.parsed)
        if len(file.chunks) > self.config.max_file_chunks:
            raise OverBudgetError.said("file_too_many_passages",
                                       passages=f"{len(file.chunks):,}",
                                       limit=f"{self.config.max_file_chunks:,}")

    def _embed_and_store(self, group: list[ReadFile], tell: Callable[..., None],
                         timings: dict[str, float], cancelled: Callable[[], bool]
                         ) -> list[tuple[ReadFile, str, int]]:
        """Embed the group's new chunks in one call and store it in one transaction, then
        add it to the index; each file with its outcome ("indexed", "skipped" when it was
        unchanged, "failed", "cancelled" when it was skipped meanwhile) and its pages.
        Raises Cancelled once `cancelled` says so (the group stays queued). Should storing
        the group fail, each file is done on its own, and only the file at fault fails."""
        try:
            vectors = self._embed(group, tell, timings, cancelled)
            outcomes, old_chunks, new_chunks, new_vectors = self._commit(group, vectors, timings)
        except Cancelled:
            raise
        except Exception as exc:
            if disk_full(exc):
                raise
            if len(group) > 1:  # the embedding cache spares the files embedded already
                return [outcome for file in group
                        for outcome in self._embed_and_store([file], tell, timings, cancelled)]
            if group[0].outcome == "failed":  # even its failure cannot be recorded
                raise
            log.exception("ingest of %s failed", group[0].path)  # a bug must not stop the run
            group[0].outcome = "failed"
            group[0].reason = Said("file_internal_error", detail=f"{type(exc).__name__}: {exc}")
            return self._embed_and_store(group, tell, timings, cancelled)
        t = time.monotonic()
        self.index.remove(old_chunks)
        if new_chunks:
            self.index.add(new_chunks, np.concatenate(new_vectors))
        timings["index"] += time.monotonic() - t
        return outcomes

    def _embed(self, group: list[ReadFile], tell: Callable[..., None],
               timings: dict[str, float], cancelled: Callable[[], bool]
               ) -> dict[int, np.ndarray]:
        """The vectors of the group's files to store (by `id` of the file); none for a
        file skipped meanwhile. Raises Cancelled once `cancelled` says so."""
        new = [f for f in group if f.outcome == "read" and f.queue_id not in self._skipped]
        if not new:
            return {}
        texts = [chunk.embedding_text() for f in new for chunk in f.chunks]
        for file in new:
            tell(file.path, "embedding", file_chunks=(0, len(file.chunks)))
        biggest = max(new, key=lambda f: len(f.chunks))
        embedded = 0

        def step(batch: int) -> None:
            nonlocal embedded
            embedded += batch
            if len(biggest.chunks) > self.embedder.batch_size:  # its progress: the group's
                size = len(biggest.chunks)
                tell(biggest.path, "embedding", file_chunks=(size * embedded // len(texts), size))
            if embedded < len(texts) and cancelled():  # a group embedded whole is stored
                raise Cancelled()
            if embedded < len(texts) and all(f.queue_id in self._skipped for f in new):
                raise _AllSkipped()

        t = time.monotonic()
        try:
            vectors = self.embedder.embed_documents(self.vault, texts, step)
        except _AllSkipped:  # their queue entries are gone: the transaction leaves them out
            return {}
        finally:
            timings["embed"] += time.monotonic() - t
        for file in new:
            tell(file.path, "storing")
        ends = np.cumsum([len(f.chunks) for f in new])[:-1]
        return dict(zip(map(id, new), np.split(vectors, ends)))

    def _commit(self, group: list[ReadFile], vectors: dict[int, np.ndarray],
                timings: dict[str, float]
                ) -> tuple[list[tuple[ReadFile, str, int]], list[int], list[int], list[np.ndarray]]:
        """One transaction: each file leaves the queue with its document stored, its
        failure recorded, or as unchanged; a file no longer queued (skipped meanwhile) is
        left out. The outcomes, the chunk ids the index must drop and add, and the vectors
        to add."""
        t = time.monotonic()
        outcomes: list[tuple[ReadFile, str, int]] = []
        old_chunks: list[int] = []
        new_chunks: list[int] = []
        new_vectors: list[np.ndarray] = []
        with self.vault.transaction() as conn:
            for file in group:
                if file.outcome == "cancelled" or not conn.execute(
                        "DELETE FROM ingest_queue WHERE id = ?", (file.queue_id,)).rowcount:
                    outcomes.append((file, "cancelled", 0))
                    continue
                if file.outcome == "failed":
                    conn.execute(
                        "INSERT OR REPLACE INTO ingest_failures(path, collection_id, reason, "
                        "failed_at, reason_code, reason_values) VALUES(?, ?, ?, ?, ?, ?)",
                        (str(file.path), file.collection_id, str(file.reason), time.time(),
                         *said_columns(file.reason)))
                    outcomes.append((file, "failed", 0))
                    continue
                conn.execute("DELETE FROM ingest_failures WHERE path = ? AND collection_id = ?",
                             (str(file.path), file.collection_id))
                if file.outcome == "unchanged":
                    outcomes.append((file, "skipped", 0))
                    continue
                old_chunks += self._insert_document(conn, file, vectors[id(file)], new_chunks)
                new_vectors.append(vectors[id(file)])
                outcomes.append((file, "indexed", file.parsed.pages or 0))
            if new_chunks:
                bump_generation(conn)
        timings["store"] += time.monotonic() - t
        return outcomes, old_chunks, new_chunks, new_vectors

    def _insert_document(self, conn: sqlcipher3.Connection, file: ReadFile,
                         vectors: np.ndarray, chunk_ids: list[int]) -> list[int]:
        """Store `file`'s document and chunks in place of its earlier version, adding the
        new chunks' ids to `chunk_ids`; the ids of the earlier version's chunks."""
        existing = self.catalogue.document_at(file.collection_id, str(file.path))
        old_chunks = []
        if existing:
            old_chunks = [r[0] for r in conn.execute(
                "SELECT id FROM chunks WHERE document_id = ?", (existing[0],))]
            conn.execute("DELETE FROM documents WHERE id = ?", (existing[0],))
        parsed = file.parsed
        document_id = conn.execute(
            "INSERT INTO documents(collection_id, path, name, kind, sha256, size, mtime, "
            "pages, page_offsets, text, embedding_model, ingested_at, ocr_lines) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (file.collection_id, str(file.path), file.path.name, parsed.kind, file.sha,
             file.size, file.mtime, parsed.pages, ",".join(map(str, parsed.page_offsets)),
             parsed.text, self.embedder.model_id, time.time(),
             json.dumps(parsed.ocr_lines, separators=(",", ":")) if parsed.ocr_lines else None),
        ).lastrowid
        for ordinal, (chunk, vector) in enumerate(zip(file.chunks, vectors)):
            chunk_id = conn.execute(
                "INSERT INTO chunks(document_id, ordinal, text, heading, page_start, "
                "page_end, char_start, char_end, tokens, vector, navigation) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                (document_id, ordinal, chunk.text, chunk.heading, chunk.page_start,
                 chunk.page_end, chunk.char_start, chunk.char_end, chunk.tokens,
                 vector.tobytes(), int(is_navigation(chunk.text))),
            ).lastrowid
            conn.execute("INSERT INTO chunks_fts(rowid, terms) VALUES(?, ?)",
                         (chunk_id, textsearch.index_terms(chunk.embedding_text())))
            chunk_ids.append(chunk_id)
        return old_chunks


class _AllSkipped(Exception):
    """Every file of a group being embedded was taken out of the queue."""
