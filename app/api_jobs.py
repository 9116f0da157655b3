"""Upload jobs of the LAN API: files received over HTTP, handed to the library's ingest queue.

An accepted upload (202) is a promise: its bytes go from the request's memory into the
vault's ingest queue, encrypted, in one transaction, so they are never in a file and
survive a restart; the next server's worker takes them up. The engine's one ingest worker
does the work (the same one the desktop's imports use, so no file is ingested twice); a
job only follows its files' events. Each upload is queued under the path its document
will have: one folder name per collection inside the data directory (no file is ever
there), so a file uploaded again under the same name updates its document (or is skipped
when unchanged) instead of adding a second one. A job's progress and per-file results are
kept in memory for the clients polling `GET /v1/jobs/{id}`.

Servers before this one kept uploads as plain files in `uploads/`: at start those still
queued are moved into the vault, and the folder is removed.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
import uuid
from pathlib import Path

from engine import AlreadyExistsError, EnclaveService, IngestProgress, IngestReport


class Jobs:
    def __init__(self, service: EnclaveService, keep: int = 200):
        self.service = service
        self.folder = service.config.data_dir / "uploads"
        self._inbox = (self.folder / "in").resolve()  # as the queue names files: resolved
        self._jobs: dict[str, dict] = {}
        self._waiting: dict[str, list[dict]] = {}  # uploaded file -> the jobs that wait for it
        self._lock = threading.Lock()
        self._keep = keep
        self._adopt_plain_uploads()
        self._unsubscribe = service.library.subscribe(self._hear)
        if service.library.pending():  # uploads an earlier server accepted, and the rest
            service.library.resume()

    def _adopt_plain_uploads(self) -> None:
        """Move the uploads an older server left as files into the vault (those still
        queued; the rest were done), and remove the folder."""
        if not self.folder.is_dir():
            return
        queued = {str(p) for p in self.service.library.queued()}
        for path in (self.folder / "in").glob("*/*"):
            if str(path) in queued:
                self.service.library.move_into_queue(path)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _place(self, collection: str) -> Path:
        """Where a collection's uploads are named as being (one folder name per collection,
        so that a file uploaded again under its name updates its document)."""
        return self._inbox / hashlib.sha256(collection.encode()).hexdigest()[:16]

    def submit(self, files: list[tuple[str, bytes]], collection: str) -> dict:
        """Queue an upload's files (name, bytes) for ingest; returns the job as clients see
        it. A file whose earlier upload under the same name is still waiting is refused
        (AlreadyExistsError): replacing it would lose that upload."""
        job_id = uuid.uuid4().hex
        job = {"id": job_id, "state": "queued", "collection": collection, "created_at": time.time(),
               "files_done": 0, "files_total": len(files),
               "files": {name: {"name": name, "state": "queued"} for name, _ in files}}
        place = self._place(collection)
        named = [(place / name, data) for name, data in files]
        with self._lock:
            busy = [path.name for path, _ in named if str(path) in self._waiting]
            if busy:
                raise AlreadyExistsError(
                    f"An earlier upload of {', '.join(busy)} to '{collection}' is still "
                    "being imported: send it again once that job is done.")
            for path, _ in named:
                self._waiting.setdefault(str(path), []).append(job)
            self._jobs[job_id] = job
            for old in list(self._jobs)[:-self._keep]:
                del self._jobs[old]
        try:
            _, refused = self.service.library.enqueue_content(named, collection)
        except Exception as exc:  # reported to the client polling the job
            refused = [(path, str(exc)) for path, _ in named]
        for path, reason in refused:  # never queued: no event will come for them
            self._hear(IngestProgress(0, 0, 0, path.name, "failed", 0.0, str(path), reason))
        return self.get(job_id)

    def get(self, job_id: str) -> dict | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else {**job, "files": list(job["files"].values())}

    def _hear(self, event: IngestProgress | IngestReport) -> None:
        """An ingest event (on the worker's threads): update the jobs waiting for its file."""
        if isinstance(event, IngestReport) or event.path is None:
            return
        if self._inbox not in Path(event.path).parents:  # not an upload
            return
        with self._lock:
            jobs = self._waiting.get(event.path, [])  # none: accepted by an earlier server
            if event.final:
                self._waiting.pop(event.path, None)
            finished = []
            for job in jobs:
                entry = job["files"][Path(event.path).name]
                entry["state"] = event.stage
                if event.reason:
                    entry["reason"] = str(event.reason)
                    if getattr(event.reason, "code", ""):  # a texts.Said
                        entry["code"] = event.reason.code
                if job["state"] == "queued":
                    job["state"] = "running"
                if event.final:
                    job["files_done"] += 1
                    if job["files_done"] == job["files_total"]:
                        finished.append(job)
        for job in finished:
            self._finish(job)

    def _finish(self, job: dict) -> None:
        names = set(job["files"])
        place = self._place(job["collection"])
        try:
            documents = [d for d in self.service.library.documents(job["collection"])
                         if Path(d.path).parent == place and d.name in names]
        except Exception:  # the collection was deleted meanwhile
            documents = []
        ids, chunks = [d.id for d in documents], sum(d.chunks for d in documents)
        with self._lock:
            job.update(state="done", chunks=chunks, document_ids=ids)

    def close(self) -> None:
        """Stop following the queue (what is queued stays queued for the next start)."""
        self._unsubscribe()
