"""Upload jobs of the LAN API: files received over HTTP, ingested one job at a time.

Uploaded files are written to a private folder inside the data directory only for as
long as their ingest takes, then removed: the vault keeps the text, encrypted, and
nothing readable stays on disk. They are ingested from one folder per collection, so a
file uploaded again under the same name updates its document (or is skipped when
unchanged) instead of adding a second one. A job's progress and per-file results are kept in
memory for the clients polling `GET /v1/jobs/{id}`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from engine.records import IngestProgress
from engine.service import EnclaveService


class Jobs:
    def __init__(self, service: EnclaveService, keep: int = 200):
        self.service = service
        self.folder = service.config.data_dir / "uploads"
        self._jobs: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-job")
        self._keep = keep

    def staging_dir(self) -> Path:
        """A new private folder for one job's files."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        path = self.folder / uuid.uuid4().hex
        path.mkdir(mode=0o700)
        return path

    def submit(self, folder: Path, names: list[str], collection: str) -> dict:
        job_id = folder.name
        job = {"id": job_id, "state": "queued", "collection": collection, "created_at": time.time(),
               "files_done": 0, "files_total": len(names),
               "files": {name: {"name": name, "state": "queued"} for name in names}}
        with self._lock:
            self._jobs[job_id] = job
            for old in list(self._jobs)[:-self._keep]:
                del self._jobs[old]
        self._executor.submit(self._run, job, folder)
        return self.get(job_id)

    def get(self, job_id: str) -> dict | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else {**job, "files": list(job["files"].values())}

    def _run(self, job: dict, folder: Path) -> None:
        def progress(p: IngestProgress) -> None:
            with self._lock:
                job["files_done"] = p.files_done
                if p.path:
                    entry = job["files"].get(Path(p.path).name)
                    if entry is not None:
                        entry["state"] = p.stage
                        if p.reason:
                            entry["reason"] = p.reason

        job["state"] = "running"
        # One place per collection, so that a file uploaded again under the same name
        # replaces its earlier version (jobs run one at a time: no two share it).
        place = self.folder / "in" / hashlib.sha256(job["collection"].encode()).hexdigest()[:16]
        place.mkdir(mode=0o700, parents=True, exist_ok=True)
        files = []
        try:
            for name in job["files"]:
                os.replace(folder / name, place / name)
                files.append(place / name)
            report = self.service.ingest(files, job["collection"], progress)
            with self._lock:
                for path, reason in report.failed:
                    job["files"][Path(path).name].update(state="failed", reason=reason)
                job.update(state="done", chunks=report.chunks,
                           document_ids=[d.id for d in self.service.documents(job["collection"])
                                         if d.path in {str(f) for f in files}])
        except Exception as exc:  # reported to the client polling the job
            with self._lock:
                job.update(state="failed", error=str(exc))
        finally:
            for path in files:
                path.unlink(missing_ok=True)
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
