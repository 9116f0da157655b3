"""`service.library` on a real vault with the real embedding model: collections,
documents, failures, and the one ingest worker (events to subscribers, two threads
enqueueing at once, cancel, a service closed with files queued, re-index and retry)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from engine.errors import AlreadyExistsError, NotFoundError, UserError
from engine.ingest.pipeline import CancelToken
from engine.records import IngestProgress, IngestReport
from tests.conftest import make_pdf

WAIT = 180  # seconds: generous for a slow, shared machine; a hang still fails


def _note(folder: Path, name: str, fact: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if name.endswith(".md"):
        path.write_text(f"# {name}\n\n{fact}\n")
    else:
        path.write_text(f"Notes.\n\n{fact}\n")
    return path.resolve()


def _notes(folder: Path, count: int, prefix: str = "note") -> list[Path]:
    return [_note(folder, f"{prefix}{n}.txt",
                  f"Item {prefix}-{n}: the storeroom shelf {n} holds {n * 7} spare fuses "
                  f"checked by crew {n}.") for n in range(count)]


def _at_once(calls) -> list[BaseException]:
    """Run the calls on threads released together; the errors they raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        barrier.wait()
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    return errors


def _consistent(service) -> int:
    """Vault rows, full-text rows and index vectors agree (engine internals); returns the
    number of chunks."""
    vault, index = service._vault, service.library._index
    chunk_ids = {r[0] for r in vault.rows("SELECT id FROM chunks")}
    assert chunk_ids == {r[0] for r in vault.rows("SELECT rowid FROM chunks_fts")}
    assert len(index) == len(chunk_ids) and all(i in index for i in chunk_ids)
    assert sum(d.chunks for d in service.library.documents()) == len(chunk_ids)
    return len(chunk_ids)


class Recorder:
    """A subscriber that keeps every event (called on the worker's threads)."""

    def __init__(self):
        self.events: list = []
        self._lock = threading.Lock()

    def __call__(self, event) -> None:
        with self._lock:
            self.events.append(event)

    @property
    def reports(self) -> list[IngestReport]:
        return [e for e in self.events if isinstance(e, IngestReport)]

    @property
    def progress(self) -> list[IngestProgress]:
        return [e for e in self.events if isinstance(e, IngestProgress)]

    def outcomes(self, stage: str) -> Counter:
        return Counter(e.path for e in self.progress if e.stage == stage)


class Hold:
    """A subscriber that holds the worker at the first file's first step until released,
    so that a test can act while a run is going."""

    def __init__(self):
        self.started, self.go = threading.Event(), threading.Event()

    def __call__(self, event) -> None:
        if isinstance(event, IngestProgress) and not self.started.is_set():
            self.started.set()
            assert self.go.wait(WAIT)


# --- collections and documents -------------------------------------------------------


def test_collections_are_created_refused_listed_and_deleted_with_their_documents(
        service, tmp_path):
    library = service.library
    library.create_collection("plant")
    with pytest.raises(AlreadyExistsError):
        library.create_collection("plant")
    with pytest.raises(AlreadyExistsError):
        library.create_collection("  plant ")  # the name is trimmed first
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(UserError, match="1 to 100"):
            library.create_collection(bad)
    assert [c.name for c in library.collections()] == ["plant"]

    plant = library.ingest(_notes(tmp_path / "p", 2), collection="plant")
    spares = library.ingest(_notes(tmp_path / "s", 3, "spare"), collection="spares")
    assert len(plant.ingested) == 2 and len(spares.ingested) == 3
    assert {c.name: c.documents for c in library.collections()} == {"plant": 2, "spares": 3}
    assert {d.name for d in library.documents("spares")} == {"spare0.txt", "spare1.txt",
                                                             "spare2.txt"}
    assert len(library.documents()) == 5
    with pytest.raises(NotFoundError):
        library.documents("nope")
    before = _consistent(service)

    library.delete_collection("spares")
    assert [c.name for c in library.collections()] == ["plant"]
    assert {d.collection for d in library.documents()} == {"plant"}
    assert _consistent(service) < before
    with pytest.raises(NotFoundError):
        library.delete_collection("spares")
    hits = service.answers.search("spare fuses on the storeroom shelf", k=10)
    assert hits and {h.document for h in hits} <= {"note0.txt", "note1.txt"}


def test_a_linked_collection_syncs_with_its_folder(service, tmp_path):
    library = service.library
    folder = tmp_path / "linked"
    files = _notes(folder, 3)
    with pytest.raises(NotFoundError):
        library.link_collection("docs", tmp_path / "no-such-folder")
    with pytest.raises(NotFoundError):
        library.link_collection("docs", files[0])  # a file is not a folder
    assert library.collections() == []

    library.link_collection("docs", folder)
    assert [(c.name, c.folder) for c in library.collections()] == [("docs", str(folder.resolve()))]
    assert library.sync("docs") == {"docs": []}
    assert library.wait_idle(WAIT)
    assert sorted(d.path for d in library.documents("docs")) == sorted(map(str, files))

    files[1].unlink()
    added = _note(folder, "added.md", "The fire drill is held in March.")
    assert library.sync() == {"docs": [str(files[1])]}  # deleted at once
    assert library.wait_idle(WAIT)
    assert sorted(d.name for d in library.documents("docs")) == ["added.md", "note0.txt",
                                                                 "note2.txt"]
    assert str(added) in {d.path for d in library.documents()}
    _consistent(service)

    library.create_collection("plain")
    with pytest.raises(UserError, match="not linked"):
        library.sync("plain")
    with pytest.raises(NotFoundError):
        library.sync("nope")


def test_delete_documents_by_id_name_or_path(service, tmp_path):
    library = service.library
    a = _notes(tmp_path / "a", 3)
    b = _notes(tmp_path / "b", 2)  # the same file names, in another collection
    library.ingest(a, collection="alpha")
    library.ingest(b, collection="beta")
    docs = library.documents()
    assert len(docs) == 5

    by_id = next(d for d in docs if d.path == str(a[2]))
    assert library.delete_documents(str(by_id.id)) == [by_id]
    by_path = library.delete_documents(str(b[1]))
    assert [d.path for d in by_path] == [str(b[1])]
    scoped = library.delete_documents("note0.txt", collection="beta")
    assert [(d.collection, d.name) for d in scoped] == [("beta", "note0.txt")]
    assert {(d.collection, d.name) for d in library.documents()} == {
        ("alpha", "note0.txt"), ("alpha", "note1.txt")}
    remaining = library.delete_documents("note1.txt")  # no collection given: any collection
    assert [d.path for d in remaining] == [str(a[1])]
    _consistent(service)

    for missing in ("note2.txt", str(by_id.id), str(tmp_path / "nowhere.txt"), "9999"):
        with pytest.raises(NotFoundError):
            library.delete_documents(missing)
    with pytest.raises(NotFoundError):
        library.delete_documents("note0.txt", collection="beta")
    assert [d.path for d in library.documents()] == [str(a[0])]  # nothing else lost
    library.delete_document(library.documents()[0].id)
    assert library.documents() == []
    with pytest.raises(NotFoundError):
        library.delete_document(by_id.id)
    assert _consistent(service) == 0


# --- ingest ------------------------------------------------------------------------------


def test_ingest_reads_text_markdown_and_pdf_and_reports(service, tmp_path):
    folder = tmp_path / "docs"
    text = _note(folder, "notes.txt", "The weather station uploads its readings at midnight.")
    markdown = _note(folder, "guide.md", "The archive server copies the finance share to tape "
                     "every Friday.")
    pdf = make_pdf(folder / "pumps.pdf", [
        "The primary cooling pump P-101 is inspected every 450 operating hours.",
        "The relief valve on line 7 opens at a pressure of 12.5 bar."], heading="Manual")
    report = service.library.ingest([folder])
    assert sorted(report.ingested) == sorted(map(str, (text, markdown, pdf.resolve())))
    assert report.failed == [] and report.skipped == [] and not report.cancelled
    assert report.pages == 2 and report.chunks >= 3
    assert set(report.timings) >= {"parse", "embed", "store", "index"}
    kinds = {d.name: (d.kind, d.pages, d.collection) for d in service.library.documents()}
    assert kinds["pumps.pdf"][1:] == (2, "default") and kinds["notes.txt"][1] is None
    assert _consistent(service) == report.chunks
    top = service.answers.search("At what pressure does the relief valve open?", k=1)[0]
    assert (top.document, top.page) == ("pumps.pdf", 2)

    again = service.library.ingest([folder])
    assert again.ingested == [] and sorted(again.skipped) == sorted(report.ingested)
    assert service.library.pending() == 0 and not service.library.importing


def test_subscribers_hear_each_step_and_a_report_at_the_end_of_the_run(service, tmp_path):
    library = service.library
    files = _notes(tmp_path / "docs", 3)
    bad = tmp_path / "docs" / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7 truncated")
    heard, later = Recorder(), Recorder()
    unsubscribe = library.subscribe(heard)
    library.subscribe(lambda event: 1 / 0)  # a broken subscriber stops nobody
    library.subscribe(later)

    queued, refused = library.enqueue([tmp_path / "docs"])
    assert sorted(queued) == sorted([*files, bad.resolve()]) and refused == []
    assert library.wait_idle(WAIT) and library.pending() == 0

    assert [type(e) for e in heard.events][-1] is IngestReport
    assert len(heard.reports) == 1
    report = heard.reports[0]
    assert sorted(report.ingested) == sorted(map(str, files))
    assert [p for p, _ in report.failed] == [str(bad.resolve())]
    assert heard.outcomes("indexed") == Counter(map(str, files))
    assert heard.outcomes("failed") == Counter([str(bad.resolve())])
    failed = next(e for e in heard.progress if e.stage == "failed")
    assert failed.reason and failed.final and failed.current_file == "broken.pdf"
    for path in map(str, files):  # each file's steps, in order
        stages = [e.stage for e in heard.progress if e.path == path]
        assert stages[0] == "parsing" and stages[-1] == "indexed"
        assert "embedding" in stages and stages.index("storing") > stages.index("embedding")
    assert any(e.file_chunks_total for e in heard.progress if e.stage == "embedding")
    assert heard.progress[-1].files_done == heard.progress[-1].files_total == 4
    assert later.events == heard.events

    unsubscribe()
    library.ingest([_note(tmp_path, "more.txt", "The canteen opens at seven.")])
    assert len(heard.reports) == 1 and len(later.reports) == 2


def test_enqueue_from_two_threads_at_once_ingests_each_file_exactly_once(service, tmp_path):
    library = service.library
    files = _notes(tmp_path / "docs", 8)
    parts = [files[:5], files[3:]]  # three files are enqueued by both threads
    heard = Recorder()
    library.subscribe(heard)
    library.create_collection("shared")
    def enqueue(part):
        for path in part:  # one file at a time, interleaving with the other thread
            library.enqueue([path], "shared")

    errors = _at_once([lambda part=part: enqueue(part) for part in parts])
    assert errors == []
    assert library.wait_idle(WAIT) and library.pending() == 0

    documents = library.documents("shared")
    assert Counter(d.path for d in documents) == Counter(map(str, files))
    assert heard.outcomes("indexed") == Counter(map(str, files))
    assert not heard.outcomes("failed")
    assert _consistent(service) == sum(r.chunks for r in heard.reports) >= len(files)
    assert library.failures() == []


def test_two_threads_enqueue_into_a_collection_that_does_not_exist_yet(
        service, tmp_path, monkeypatch):
    """Both create it on the fly: neither may be refused because the other was first.

    Creating a collection is made slow (engine internals) to widen the window between
    looking the name up and inserting it; without that the race shows in some runs only."""
    library = service.library
    files = _notes(tmp_path / "docs", 4)
    catalogue = library._catalogue
    real_create = catalogue.create_collection

    def slow_create(name, folder=None):
        time.sleep(0.05)
        return real_create(name, folder)

    monkeypatch.setattr(catalogue, "create_collection", slow_create)
    rounds = 3
    for round_ in range(rounds):
        errors = _at_once([lambda path=path, name=f"new-{round_}": library.enqueue([path], name)
                           for path in files])
        assert errors == [], f"round {round_}: {errors!r}"
    assert library.wait_idle(WAIT)
    assert {c.name: c.documents for c in library.collections()} == {
        f"new-{n}": 4 for n in range(rounds)}


def test_two_blocking_ingests_at_once_each_return_once_their_files_are_done(
        service, tmp_path, monkeypatch):
    """An `ingest` that starts while another run is ending must not take that run's report
    for its own: it returns only when its files are done."""
    library = service.library
    first, second = _notes(tmp_path / "a", 2, "a"), _notes(tmp_path / "b", 2, "b")
    hold = Hold()
    library.subscribe(hold)
    library.enqueue(first)  # a run in progress (held at its first step)
    assert hold.started.wait(WAIT)

    catalogue = library._catalogue  # engine internals: the commit into the queue
    real_enqueue, waiting = catalogue.enqueue, threading.Event()

    def late_enqueue(files, collection_id):
        """Commit only once the run in progress has told its end (after `ingest` subscribed)."""
        run_over = threading.Event()
        stop = library.subscribe(lambda e: isinstance(e, IngestReport) and run_over.set())
        waiting.set()
        assert run_over.wait(WAIT)
        stop()
        return real_enqueue(files, collection_id)

    monkeypatch.setattr(catalogue, "enqueue", late_enqueue)
    result: list[IngestReport] = []
    thread = threading.Thread(target=lambda: result.append(library.ingest(second)))
    thread.start()
    assert waiting.wait(WAIT)
    hold.go.set()
    thread.join(WAIT)
    assert result, "ingest did not return"
    assert set(map(str, second)) <= set(result[0].ingested), result[0]
    assert library.pending() == 0
    assert {d.path for d in library.documents()} == set(map(str, first + second))


def test_cancel_drops_the_waiting_files_each_with_a_cancelled_event(service, tmp_path):
    library = service.library
    files = _notes(tmp_path / "docs", 5)
    hold, heard = Hold(), Recorder()
    library.subscribe(hold)
    library.subscribe(heard)
    library.cancel()  # nothing running: nothing to cancel, nothing breaks

    library.enqueue(files)
    assert hold.started.wait(WAIT) and library.importing
    assert library.pending() == 5
    library.cancel()
    hold.go.set()
    assert library.wait_idle(WAIT)

    assert library.pending() == 0 and library.documents() == []
    assert library.failures() == []  # cancelled is not failed
    assert not heard.outcomes("indexed")
    assert set(heard.outcomes("cancelled")) == set(map(str, files))
    for path in map(str, files[1:]):  # the files that were waiting: one event each
        assert heard.outcomes("cancelled")[path] == 1
    assert len(heard.reports) == 1 and heard.reports[0].cancelled
    assert heard.reports[0].ingested == []
    _consistent(service)

    # the next files are not cancelled by the last cancel
    report = library.ingest(files[:2])
    assert sorted(report.ingested) == sorted(map(str, files[:2])) and not report.cancelled


def test_a_closed_service_keeps_its_queue_and_a_new_one_resumes_it(open_service, tmp_path):
    service = open_service()
    files = _notes(tmp_path / "docs", 5)
    hold, heard = Hold(), Recorder()
    service.library.subscribe(hold)
    service.library.subscribe(heard)
    service.library.enqueue(files)
    assert hold.started.wait(WAIT)

    closer = threading.Thread(target=service.close)
    closer.start()
    deadline = time.monotonic() + 30
    while not service._worker._closing and time.monotonic() < deadline:  # stop() has begun
        time.sleep(0.01)
    hold.go.set()
    closer.join(WAIT)
    assert not closer.is_alive()
    assert not heard.outcomes("indexed") and not heard.outcomes("failed")
    service.close()  # twice: nothing

    again = open_service()
    assert again.library.pending() == 5
    assert again.library.documents() == [] and not again.library.importing
    resumed = Recorder()
    again.library.subscribe(resumed)
    again.library.resume()
    assert again.library.wait_idle(WAIT) and again.library.pending() == 0
    assert sorted(d.path for d in again.library.documents()) == sorted(map(str, files))
    assert sorted(p for r in resumed.reports for p in r.ingested) == sorted(map(str, files))
    _consistent(again)


def test_resume_with_an_empty_queue_does_nothing(service):
    heard = Recorder()
    service.library.subscribe(heard)
    assert service.library.pending() == 0
    service.library.resume()
    assert service.library.wait_idle(WAIT)
    # nothing to tell but, at most, an empty report
    assert heard.progress == [] and not service.library.importing
    assert all(r == IngestReport() for r in heard.reports)
    assert service.library.ingest([]) == IngestReport()


def test_reindex_goes_through_the_worker_and_keeps_a_document_whose_file_is_gone(
        service, tmp_path):
    library = service.library
    files = _notes(tmp_path / "docs", 3)
    library.ingest(files)
    before = {d.path: d for d in library.documents()}
    heard = Recorder()
    library.subscribe(heard)

    assert library.reindex([before[str(files[0])].id]) == [files[0]]
    assert library.wait_idle(WAIT)
    assert heard.outcomes("indexed") == Counter([str(files[0])])  # read again, though unchanged
    after = {d.path: d for d in library.documents()}
    assert after.keys() == before.keys()
    assert after[str(files[0])].ingested_at > before[str(files[0])].ingested_at
    assert after[str(files[1])] == before[str(files[1])]

    files[1].unlink()
    library.reindex([before[str(files[1])].id])
    assert library.wait_idle(WAIT)
    assert heard.outcomes("failed") == Counter([str(files[1])])
    assert str(files[1]) in {d.path for d in library.documents()}  # the old version stays
    assert [f.path for f in library.failures()] == [str(files[1])]

    with pytest.raises(NotFoundError):
        library.reindex([before[str(files[2])].id, 99_999])
    assert library.pending() == 0  # nothing of the refused call was queued
    assert library.wait_idle(WAIT)
    assert len([r for r in heard.reports if r != IngestReport()]) == 2
    _consistent(service)


def test_retry_failed_goes_through_the_worker(service, tmp_path):
    library = service.library
    empty = tmp_path / "docs" / "empty.txt"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    good = _note(tmp_path / "docs", "good.txt", "The spare keys hang in the red cabinet.")
    report = library.ingest([empty, good], collection="keys")
    assert report.ingested == [str(good)]
    assert [p for p, _ in report.failed] == [str(empty.resolve())]
    failures = library.failures()
    assert [(f.path, f.collection) for f in failures] == [(str(empty.resolve()), "keys")]
    assert "empty" in failures[0].reason

    heard = Recorder()
    library.subscribe(heard)
    empty.write_text("The spare fuses are kept in the blue drawer.")
    assert library.retry_failed() == 1
    assert library.wait_idle(WAIT)
    assert heard.outcomes("indexed") == Counter([str(empty.resolve())])
    assert library.failures() == []
    assert {d.name for d in library.documents("keys")} == {"empty.txt", "good.txt"}
    assert library.retry_failed() == 0
    assert library.wait_idle(WAIT)
    assert len([r for r in heard.reports if r != IngestReport()]) == 1  # no run of its own


def test_bad_input_is_refused_clearly_and_loses_nothing(service, tmp_path):
    library = service.library
    kept = library.ingest([_note(tmp_path, "kept.txt", "The boiler is serviced in May.")])
    assert len(kept.ingested) == 1
    documents, collections = library.documents(), library.collections()

    missing, archive = tmp_path / "missing.pdf", tmp_path / "archive.zip"
    archive.write_bytes(b"PK\x03\x04")
    queued, refused = library.enqueue([missing, archive])
    assert queued == []
    reasons = {path.name: reason for path, reason in refused}
    assert "no such file" in reasons["missing.pdf"]
    assert "unsupported" in reasons["archive.zip"] and ".zip" in reasons["archive.zip"]
    assert library.wait_idle(WAIT) and library.pending() == 0

    fresh = _note(tmp_path, "fresh.txt", "The lift is inspected every June.")
    report = library.ingest([missing, archive, fresh])
    assert report.ingested == [str(fresh)]
    assert {Path(p).name for p, _ in report.failed} == {"missing.pdf", "archive.zip"}
    assert library.failures() == []  # refused before the queue: not recorded as failures

    for name in ("", "   "):
        with pytest.raises(UserError, match="collection name"):
            library.enqueue([_note(tmp_path, "late.txt", "Late.")], collection=name)
        with pytest.raises(UserError, match="collection name"):
            library.ingest([_note(tmp_path, "late.txt", "Late.")], collection=name)
    assert library.pending() == 0 and library.wait_idle(WAIT)
    assert [c.name for c in library.collections()] == [c.name for c in collections] == [
        "default"]
    assert {d.path for d in library.documents()} == {d.path for d in documents} | {str(fresh)}
    assert all(d in library.documents() for d in documents)
    _consistent(service)


# --- the worker when things go wrong (found in review) -------------------------------------

def test_a_resume_during_a_run_stopped_but_kept_queued_is_not_lost(service, tmp_path):
    """A run stopped with its files kept (an interruption) must not leave its cancel to the
    next run: a resume asked meanwhile works through the whole queue."""
    library = service.library
    files = _notes(tmp_path / "docs", 6)
    hold = Hold()
    library.subscribe(hold)
    library.enqueue(files, start=False)
    token = CancelToken()
    token.cancel()
    stopped = threading.Thread(target=library.run_queue, kwargs={"cancel": token})
    stopped.start()
    assert hold.started.wait(WAIT)
    library.resume()  # asked while the stopped run is still going
    hold.go.set()
    stopped.join(WAIT)
    assert library.wait_idle(WAIT)
    assert library.pending() == 0 and len(library.documents()) == 6


def test_a_failing_run_is_reported_as_an_error_and_the_worker_lives_on(service, tmp_path,
                                                                       monkeypatch):
    library = service.library
    ingestor = service._worker._ingestor  # engine internals: make the pipeline break once
    real_run = ingestor.run

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingestor, "run", broken)
    report = library.ingest(_notes(tmp_path / "docs", 2))
    assert report.error and "No space left" in report.error and not report.cancelled
    assert library.pending() == 2 and not library.importing  # kept for the next run
    monkeypatch.setattr(ingestor, "run", real_run)
    assert len(library.run_queue().ingested) == 2


def test_a_reconfiguration_that_fails_leaves_the_library_importing(service, tmp_path):
    import dataclasses

    with pytest.raises(UserError):
        service.reconfigured(dataclasses.replace(service.config,
                                                 embedding_model="no-such-model"))
    assert len(service.library.ingest(_notes(tmp_path / "docs", 2)).ingested) == 2


def test_a_closed_library_refuses_to_import(open_service, tmp_path):
    service = open_service()
    library = service.library
    service.close()
    with pytest.raises(UserError, match="closed"):
        library.resume()


def test_a_waiting_file_can_be_skipped_by_name(service, tmp_path):
    files = _notes(tmp_path / "docs", 3)
    service.library.enqueue(files, start=False)
    assert service.library.skip(files[1].name) == [files[1]]
    assert service.library.queued() == [files[0], files[2]]
    report = service.library.run_queue()
    assert sorted(report.ingested) == sorted(map(str, [files[0], files[2]]))
    with pytest.raises(NotFoundError, match="waiting"):
        service.library.skip(files[1].name)


def test_the_file_being_read_can_be_skipped_and_the_import_goes_on(service, tmp_path):
    files = _notes(tmp_path / "docs", 2)
    final: dict[str, str] = {}

    def listen(event):
        if getattr(event, "path", None) == str(files[0]) and event.stage == "parsing":
            service.library.skip(str(files[0]))  # while the worker is at it
        if getattr(event, "final", False):
            final[Path(event.path).name] = event.stage

    service.library.subscribe(listen)
    report = service.library.ingest(files)
    assert report.ingested == [str(files[1])] and not report.cancelled
    assert final == {files[0].name: "cancelled", files[1].name: "indexed"}
    assert [d.name for d in service.library.documents()] == [files[1].name]
    assert service.library.pending() == 0
