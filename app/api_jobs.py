"""Upload jobs of the LAN API: files received over HTTP, handed to the library's ingest queue.

The engine's one ingest worker does the work (the same one the desktop's imports use, so
no file is ingested twice); a job only follows its files' events. Uploaded files wait in
a private folder inside the data directory until the worker is done with them (stored,
unchanged, failed or dropped by a cancel), then are removed: the vault keeps the text,
encrypted. A file still queued when the server stops stays for the next start, which
finishes it; copies no longer queued are removed then. Files wait in one folder per
collection, so a file uploaded again under the same name updates its document (or is
skipped when unchanged) instead of adding a second one. A job's progress and per-file
results are kept in memory for the clients polling `GET /v1/jobs/{id}`.
"""

from __future__ import annotations

import hashlib
import os
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
        self._forget_orphans()
        self._unsubscribe = service.library.subscribe(self._hear)
        if service.library.pending():  # uploads an earlier server accepted, and the rest
            service.library.resume()

    def _forget_orphans(self) -> None:
        """Remove what an earlier server left: request folders, and uploaded copies that are
        no longer queued (their jobs went with that server). Queued ones are done later."""
        if not self.folder.is_dir():
            return
        queued = {str(p) for p in self.service.library.queued()}
        for entry in self.folder.iterdir():
            if entry.name != "in":
                shutil.rmtree(entry, ignore_errors=True)
        for path in (self.folder / "in").glob("*/*"):
            if str(path) not in queued:
                path.unlink(missing_ok=True)

    def _place(self, collection: str) -> Path:
        """The folder a collection's uploads wait in (one per collection, so that a file
        uploaded again under its name updates its document)."""
        return self._inbox / hashlib.sha256(collection.encode()).hexdigest()[:16]

    def staging_dir(self) -> Path:
        """A new private folder for one request's files."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        path = self.folder / uuid.uuid4().hex
        path.mkdir(mode=0o700)
        return path

    def submit(self, folder: Path, names: list[str], collection: str) -> dict:
        """Queue a staged upload for ingest; returns the job as clients see it. A file whose
        earlier upload under the same name is still waiting is refused (AlreadyExistsError):
        replacing it would lose that upload."""
        job_id = folder.name
        job = {"id": job_id, "state": "queued", "collection": collection, "created_at": time.time(),
               "files_done": 0, "files_total": len(names),
               "files": {name: {"name": name, "state": "queued"} for name in names}}
        place = self._place(collection)
        try:
            with self._lock:
                busy = [name for name in names if str(place / name) in self._waiting]
                if busy:
                    raise AlreadyExistsError(
                        f"An earlier upload of {', '.join(busy)} to '{collection}' is still "
                        "being imported: send it again once that job is done.")
                place.mkdir(mode=0o700, parents=True, exist_ok=True)
                files = []
                for name in names:
                    os.replace(folder / name, place / name)
                    files.append(place / name)
                    self._waiting.setdefault(str(place / name), []).append(job)
                self._jobs[job_id] = job
                for old in list(self._jobs)[:-self._keep]:
                    del self._jobs[old]
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        try:
            _, refused = self.service.library.enqueue(files, collection)
        except Exception as exc:  # reported to the client polling the job
            refused = [(path, str(exc)) for path in files]
        for path, reason in refused:  # never queued: no event will come for them
            self._hear(IngestProgress(0, 0, 0, path.name, "failed", 0.0, str(path), reason))
        return self.get(job_id)

    def get(self, job_id: str) -> dict | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else {**job, "files": list(job["files"].values())}

    def _hear(self, event: IngestProgress | IngestReport) -> None:
        """An ingest event (on the worker's thread): update the jobs waiting for its file."""
        if isinstance(event, IngestReport) or event.path is None:
            return
        # only what waits in our own folder is ours to remove, never a file a person added
        ours = self._inbox in Path(event.path).parents
        if not ours:
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
                    entry["reason"] = event.reason
                if job["state"] == "queued":
                    job["state"] = "running"
                if event.final:
                    job["files_done"] += 1
                    if job["files_done"] == job["files_total"]:
                        finished.append(job)
        if event.final:  # an uploaded copy, in our own folder: the vault has its text now
            Path(event.path).unlink(missing_ok=True)
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
