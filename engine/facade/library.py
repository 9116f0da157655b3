"""`service.library`: collections, documents, and getting files into them.

Every way in (dropped files, a linked folder, a retry, a re-index, an upload over the
API) puts files in the vault's queue and wakes the library's one ingest worker; front
ends subscribe to its events to show progress. `ingest` and `run_queue` are the blocking
forms the command line uses: queue (with `start=False`), then wake the worker, wait and
report.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import Cancelled, NotFoundError, UserError
from ..ingest.chunker import embedding_text
from ..ingest.parsers import kind_of
from ..ingest.pipeline import CancelToken, ProgressCallback, expand
from ..ingest.worker import IngestEvent, IngestWorker, Listener
from ..records import Collection, Document, Failure, IngestReport
from ..retrieval.embedder import Embedder
from ..retrieval.vector_index import VectorIndex
from ..store.catalogue import DEFAULT_COLLECTION, Catalogue, bump_generation
from ..store.vault import Vault
from ..texts import Said
from . import scope
from .scope import Within

class LibraryService:
    def __init__(self, vault: Vault, catalogue: Catalogue, index: VectorIndex,
                 worker: IngestWorker, embedder_for: Callable[[str], Embedder]):
        self._vault, self._catalogue, self._index = vault, catalogue, index
        self._worker, self._embedder_for = worker, embedder_for

    # --- collections and documents -------------------------------------------------------
    # `within`: the collections the caller may reach (an API key scoped to collections),
    # None: all. Naming another is NotAllowedError; another's document is not there for it.

    def collections(self, within: Within = None) -> list[Collection]:
        return [c for c in self._catalogue.collections() if scope.allowed(c.name, within)]

    def create_collection(self, name: str, within: Within = None) -> None:
        scope.check(name, within)
        self._catalogue.create_collection(name)

    def delete_collection(self, name: str, within: Within = None) -> None:
        scope.check(name, within)
        self._drop(self._catalogue.delete_collection(name))

    def link_collection(self, name: str, folder: Path) -> None:
        """Keep a collection in line with a folder (`sync` adds, updates and deletes)."""
        self._catalogue.link_collection(name, folder.expanduser())

    def documents(self, collection: str | None = None, within: Within = None) -> list[Document]:
        if collection is not None:
            scope.check(collection, within)
        return [d for d in self._catalogue.documents(collection)
                if scope.allowed(d.collection, within)]

    def delete_documents(self, ref: str, collection: str | None = None) -> list[Document]:
        """Delete the documents matching an id, a file name or a path."""
        found = self._catalogue.find_documents(ref, collection)
        if not found:
            raise NotFoundError(f"No document matches '{ref}'.")
        for document in found:
            self._drop(self._catalogue.delete_document(document.id))
        return found

    def delete_document(self, document_id: int, within: Within = None) -> None:
        if within is not None and not scope.allowed(self._vault.scalar(
                "SELECT c.name FROM documents d JOIN collections c ON c.id = d.collection_id "
                "WHERE d.id = ?", (document_id,)), within):
            raise NotFoundError(f"There is no document with id {document_id}.")  # not its to see
        self._drop(self._catalogue.delete_document(document_id))

    def failures(self) -> list[Failure]:
        return self._catalogue.failures()

    def _drop(self, chunk_ids: list[int]) -> None:
        self._index.remove(chunk_ids)
        self._index.save(int(self._vault.get_meta("index_generation", "0")))

    # --- the queue and its worker ------------------------------------------------------------

    def enqueue(self, paths: list[Path], collection: str = DEFAULT_COLLECTION,
                start: bool = True) -> tuple[list[Path], list[tuple[Path, str]]]:
        """Queue files (folders expanded) and wake the worker (unless `start` is False:
        `run_queue` starts it then); return the files, and the paths refused with a reason.
        Subscribe first to see their progress."""
        files, refused = expand(paths)
        collection_id = self._catalogue.collection_id(collection, create=True)
        self._catalogue.enqueue(files, collection_id)
        if start:
            self._worker.resume()
        return files, refused

    def enqueue_content(self, files: list[tuple[Path, bytes]],
                        collection: str = DEFAULT_COLLECTION, start: bool = True
                        ) -> tuple[list[Path], list[tuple[Path, str]]]:
        """Queue files received as bytes (uploads), each under the path its document will
        have (no file is there): the bytes wait in the vault, encrypted, until the worker
        has read them, and are gone with the queue entry. Returns the paths queued, and
        those refused with a reason (a type Enclave does not read)."""
        accepted = [(path, data) for path, data in files if kind_of(path)]
        refused = [(path, Said("file_unsupported_type", suffix=path.suffix or path.name))
                   for path, data in files if not kind_of(path)]
        if accepted:
            collection_id = self._catalogue.collection_id(collection, create=True)
            self._catalogue.enqueue_content(accepted, collection_id)
            if start:
                self._worker.resume()
        return [path for path, _ in accepted], refused

    def move_into_queue(self, path: Path) -> None:
        """Keep the bytes of a queued file in the vault with its queue entry, encrypted,
        so that the file can be removed before it is ingested (an upload that waited in
        the clear, from an older Enclave)."""
        self._catalogue.hold_content(path, path.read_bytes())

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every ingest event (`IngestProgress`, then `IngestReport` at the end of a run)
        on the worker's threads; returns the function that stops it."""
        return self._worker.subscribe(listener)

    def pending(self) -> int:
        """Files waiting in the queue (added, or left by an interrupted run)."""
        return self._catalogue.pending()

    def queued(self) -> list[Path]:
        """The files waiting in the queue, in the order they will be done."""
        return self._catalogue.queued()

    def skip(self, ref: str) -> list[Path]:
        """Take waiting files out of the queue by path or file name (the one being read now
        stops there; the import goes on); returns them. NotFoundError if none matches."""
        matches = [p for p in self._catalogue.queued() if ref in (str(p), p.name)]
        skipped = [p for p in dict.fromkeys(matches) if self._worker.skip(str(p))]
        if not skipped:
            raise NotFoundError(f"No file '{ref}' is waiting in the import queue.")
        return skipped

    def resume(self) -> None:
        """Take up what an interrupted run left in the queue."""
        self._worker.resume()

    def cancel(self) -> None:
        """Stop the import at the next file or batch boundary; the files waiting are dropped."""
        self._worker.cancel()

    @property
    def importing(self) -> bool:
        return self._worker.running

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the queue is worked through; True if it was within `timeout`."""
        return self._worker.wait_idle(timeout)

    def ingest(self, paths: list[Path], collection: str = DEFAULT_COLLECTION,
               progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> IngestReport:
        """Queue files and folders, wait until the worker has done them, and report
        (the command line's way; files left by an interrupted run are done too)."""
        _, refused = self.enqueue(paths, collection, start=False)
        report = self.run_queue(progress, cancel)
        report.failed[:0] = [(str(path), reason) for path, reason in refused]
        return report

    def run_queue(self, progress: ProgressCallback | None = None,
                  cancel: CancelToken | None = None) -> IngestReport:
        """Wake the worker and wait until the queue is empty; report what it did meanwhile.
        Setting `cancel` stops at the next boundary, leaving the rest queued (as an
        interruption does: the next run resumes it)."""
        report = IngestReport()
        done = threading.Event()

        def hear(event: IngestEvent) -> None:
            if done.is_set():
                return  # a later run, asked for by someone else: not ours to report or stop
            if isinstance(event, IngestReport):
                _merge(report, event)
                if event.cancelled or event.error or not self._catalogue.pending():
                    done.set()
                return
            if progress:
                progress(event)
            if cancel is not None and cancel.cancelled:  # at once, not at the next poll
                self._worker.cancel(drop_waiting=False)

        unsubscribe = self._worker.subscribe(hear)
        try:
            self._worker.resume()
            while not done.wait(0.2):
                if cancel is not None and cancel.cancelled and not done.is_set():
                    self._worker.cancel(drop_waiting=False)
                if self._worker.wait_idle(0) and not self._catalogue.pending():
                    break  # worked through (and reported) before we listened
        finally:
            unsubscribe()
        return report

    def reindex(self, document_ids: list[int], start: bool = True) -> list[Path]:
        """Read documents again from their files, changed or not; the old version stays until
        the new one is stored (a missing file fails, keeping it)."""
        queued = self._catalogue.queue_reindex(document_ids)
        if start:
            self._worker.resume()
        return queued

    def retry_failed(self, start: bool = True) -> int:
        """Queue the files that failed, to try them again; returns how many."""
        count = self._catalogue.queue_failures()
        if start:
            self._worker.resume()
        return count

    def sync(self, collection: str | None = None, start: bool = True) -> dict[str, list[str]]:
        """Bring linked collections in line with their folders: documents whose file is gone
        are deleted now (returned by collection), new and changed files are queued."""
        linked = self._catalogue.linked_collections()
        if collection is not None:
            linked = [(name, folder) for name, folder in linked if name == collection]
            if not linked:
                self._catalogue.collection_id(collection)  # NotFoundError if it does not exist
                raise UserError(f"The collection '{collection}' is not linked to a folder.")
        deleted: dict[str, list[str]] = {}
        for name, folder in linked:
            if not folder.is_dir():
                raise NotFoundError(f"The folder {folder} linked to '{name}' is not there.")
            collection_id = self._catalogue.collection_id(name)
            files, _ = expand([folder])
            present = {str(f) for f in files}
            deleted[name] = []
            for path, (document_id, _) in self._catalogue.document_paths(collection_id).items():
                if path not in present:
                    self._drop(self._catalogue.delete_document(document_id))
                    deleted[name].append(path)
            self._catalogue.enqueue(files, collection_id)
        if start:
            self._worker.resume()
        return deleted

    def reembed(self, model: str, progress: Callable[[int, int], None] | None = None,
                cancel: CancelToken | None = None) -> int:
        """Embed every chunk again with another embedding model and make it the library's.

        The new vectors replace the old ones in one transaction at the end, so a cancelled
        or failed run changes nothing. Reopen the service with the new model afterwards
        (the index is rebuilt then). Returns the number of chunks embedded.
        """
        embedder = self._embedder_for(model)
        rows = self._vault.rows("SELECT id, text, heading FROM chunks ORDER BY id")
        vectors: list[np.ndarray] = []
        texts = [embedding_text(text, heading) for _, text, heading in rows]
        done = 0

        def step(batch: int) -> None:
            nonlocal done
            done += batch
            if progress:
                progress(done, len(rows))
            if cancel and cancel.cancelled:
                raise Cancelled()

        for start in range(0, len(texts), 256):
            vectors.extend(embedder.embed_documents(self._vault, texts[start:start + 256], step))
        with self._vault.transaction() as conn:
            conn.executemany("UPDATE chunks SET vector = ? WHERE id = ?",
                             [(v.tobytes(), row[0]) for v, row in zip(vectors, rows)])
            conn.execute("UPDATE documents SET embedding_model = ?", (model,))
            self._vault.set_meta(conn, "embedding_model", model)
            bump_generation(conn)
        return len(rows)


def _merge(into: IngestReport, run: IngestReport) -> None:
    into.error = into.error or run.error
    into.ingested += run.ingested
    into.skipped += run.skipped
    into.failed += run.failed
    into.chunks += run.chunks
    into.pages += run.pages
    into.cancelled = into.cancelled or run.cancelled
    for stage, seconds in run.timings.items():
        into.timings[stage] = into.timings.get(stage, 0.0) + seconds

