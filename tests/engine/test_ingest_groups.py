"""Many small files go through the ingest pipeline in groups (read ahead, embedded in one
call, stored in one transaction): each file still gets its own document, chunks, vectors
and events; a file skipped inside a group is left out of it; a cancel inside a group
leaves exactly the files not stored in the queue. Real vault, real model, real reader."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np

from engine.ingest.chunker import Chunker
from engine.ingest.parsers import ReadLimits, parse
from engine.ingest.pipeline import CancelToken
from engine.models import embedding_model_dir
from engine.records import IngestProgress
from tests.conftest import make_pdf

WAIT = 120  # seconds


WORDS = ("invoice printer boiler ladder meeting vaccine harbour glacier violin tractor "
         "password salary orchard satellite bakery tunnel jacket referee cathedral "
         "thermostat ferry pharmacy canoe volcano archive helmet laptop wheat mortgage "
         "telescope parcel dentist carpet lantern quarry rabbit saddle tablet umbrella "
         "wardrobe").split()


def _notes(folder: Path, count: int) -> list[Path]:
    """One-paragraph notes, one chunk each, each with its own fact and its own words."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(count)
    paths = []
    for n in range(count):
        path = folder / f"n{n:03}.txt"
        path.write_text(f"Ticket {n}: the spare fuse box {n * 7} sits on shelf {n}, near "
                        f"the {' and the '.join(rng.sample(WORDS, 6))}.\n")
        paths.append(path.resolve())
    return paths


def _consistent(service) -> None:
    """Vault rows, full-text rows and index vectors agree (engine internals)."""
    vault, index = service._vault, service.library._index
    chunk_ids = {r[0] for r in vault.rows("SELECT id FROM chunks")}
    assert chunk_ids == {r[0] for r in vault.rows("SELECT rowid FROM chunks_fts")}
    assert len(index) == len(chunk_ids) and all(i in index for i in chunk_ids)


class Events:
    """Every progress event, heard from both of the pipeline's threads. Held once: the
    first "embedding" event waits until `read_ahead` files are being read, so that the
    next group surely holds many files."""

    def __init__(self, read_ahead: int):
        self.events: list[IngestProgress] = []
        self.read_ahead = read_ahead
        self._lock = threading.Lock()
        self._parsing = threading.Semaphore(0)
        self._held = False

    def __call__(self, event) -> None:
        if not isinstance(event, IngestProgress) or event.path is None:
            return
        with self._lock:
            self.events.append(event)
            hold = event.stage == "embedding" and not self._held
            self._held = self._held or hold
        if event.stage == "parsing":
            self._parsing.release()
        if hold:
            for _ in range(self.read_ahead):
                assert self._parsing.acquire(timeout=WAIT)

    def stages(self, path: Path) -> list[str]:
        with self._lock:
            return [e.stage for e in self.events if e.path == str(path)]

    def embedding_now(self) -> list[str]:
        """Files being embedded: an "embedding" event and no outcome yet."""
        with self._lock:
            embedding = dict.fromkeys(e.path for e in self.events if e.stage == "embedding")
            finished = {e.path for e in self.events if e.final or e.stage == "interrupted"}
        return [path for path in embedding if path not in finished]


def test_many_small_files_a_bad_one_and_a_big_one_are_each_stored_right(service, tmp_path):
    folder = tmp_path / "docs"
    notes = _notes(folder, 60)
    bad = folder / "n030.pdf"  # among the notes, in queue order
    bad.write_bytes(b"%PDF-1.7 truncated")
    big = make_pdf(folder / "n045.pdf", [
        " ".join(f"Section {p}.{i} of the big manual: the coolant loop valve V-{p * 40 + i} "
                 f"is serviced every {i + 3} weeks." for i in range(40)) for p in range(40)
    ]).resolve()
    heard = Events(read_ahead=20)

    report = service.library.ingest([folder], progress=heard)

    assert sorted(report.ingested) == sorted(map(str, [*notes, big]))
    assert [(p, bool(reason)) for p, reason in report.failed] == [(str(bad.resolve()), True)]
    assert not report.cancelled and report.pages == 40
    assert service.library.pending() == 0
    assert [f.path for f in service.library.failures()] == [str(bad.resolve())]

    # each document as the parser and the chunker make it, with its own vectors
    config = service.config
    chunker = Chunker(embedding_model_dir(config.embedding_model) / "tokenizer.json",
                      config.chunk_tokens, config.chunk_overlap_tokens)
    documents = {d.path: d for d in service.library.documents()}
    assert set(documents) == set(map(str, [*notes, big]))
    vault = service._vault  # engine internals: the stored chunks
    stored_texts: list[str] = []
    stored_vectors: list[np.ndarray] = []
    for path in [*notes, big]:
        parsed = parse(path, ReadLimits())
        expected = [c.embedding_text() for c in chunker.chunk(parsed)]
        document = documents[str(path)]
        assert (document.chunks, document.pages) == (len(expected), parsed.pages)
        rows = vault.rows("SELECT text, heading, vector FROM chunks WHERE document_id = ? "
                          "ORDER BY ordinal", (document.id,))
        texts = [text if not heading or text.startswith(heading) else f"{heading}\n{text}"
                 for text, heading, _ in rows]
        assert texts == expected
        stored_texts += texts
        stored_vectors += [np.frombuffer(v, dtype=np.float32) for _, _, v in rows]
    # each chunk has its own text's vector (int8 activations are quantized per batch, so a
    # text's vector moves a little with its batch), each note's nearest to its own text
    similarity = np.stack(stored_vectors) @ service._embedder.encode(stored_texts).T
    assert np.min(np.diag(similarity)) > 0.98
    notes_only = similarity[:len(notes), :len(notes)]
    assert np.all(np.argmax(notes_only, axis=1) == np.arange(len(notes)))

    for path in notes:  # each file's steps, in order
        stages = heard.stages(path)
        assert stages[0] == "parsing" and stages[-1] == "indexed", (path.name, stages)
        assert stages.index("storing") > stages.index("embedding")
    assert heard.stages(bad.resolve()) == ["parsing", "failed"]
    progress = [(e.file_chunks_done, e.file_chunks_total) for e in heard.events
                if e.path == str(big) and e.stage == "embedding"]
    total = documents[str(big)].chunks
    assert progress[0] == (0, total) and progress[-1] == (total, total)
    assert len(progress) > 3 and progress == sorted(progress)  # batch by batch
    assert heard.events[-1].files_done == heard.events[-1].files_total == 62

    top = service.answers.search("Where is the spare fuse box 231?", k=1)[0]
    assert top.document == "n033.txt"
    _consistent(service)


def test_a_file_skipped_while_its_group_is_embedded_is_left_out(service, tmp_path):
    library = service.library
    notes = _notes(tmp_path / "docs", 40)
    heard = Events(read_ahead=30)
    skipped: list[str] = []

    def skip_inside_a_group(event) -> None:
        if isinstance(event, IngestProgress) and event.stage == "storing" and not skipped:
            others = [p for p in heard.embedding_now() if p != event.path]
            if len(others) >= 2:  # the group being stored holds more files: skip one
                skipped.append(others[len(others) // 2])
                assert library.skip(skipped[0]) == [Path(skipped[0])]

    library.subscribe(heard)
    library.subscribe(skip_inside_a_group)
    report = library.ingest(notes)

    assert skipped, "no group of several files was stored"
    assert heard.stages(Path(skipped[0]))[-1] == "cancelled"
    assert heard.stages(Path(skipped[0])).count("cancelled") == 1
    assert "indexed" not in heard.stages(Path(skipped[0]))
    kept = [p for p in map(str, notes) if p != skipped[0]]
    assert sorted(report.ingested) == sorted(kept) and not report.cancelled
    assert sorted(d.path for d in library.documents()) == sorted(kept)
    assert library.pending() == 0 and library.failures() == []
    _consistent(service)


def test_a_cancel_inside_a_group_leaves_exactly_the_files_not_stored_queued(service, tmp_path,
                                                                         monkeypatch):
    library = service.library
    notes = _notes(tmp_path / "docs", 100)
    batch = service._embedder.batch_size
    heard = Events(read_ahead=2 * batch + 10)  # the second group: more than two batches
    token = CancelToken()

    def cancel_in_the_second_group(event) -> None:
        heard(event)
        if event.stage == "embedding" and event.files_done >= 1:
            token.cancel()

    report = library.ingest(notes, progress=cancel_in_the_second_group, cancel=token)

    stored = {d.path for d in library.documents()}
    assert report.cancelled and stored == set(report.ingested)
    assert 1 <= len(stored) < len(notes) - batch
    assert library.queued() == [p for p in notes if str(p) not in stored]  # in queue order
    interrupted = [p for p in map(str, notes) if heard.stages(Path(p))[-1:] == ["interrupted"]]
    embedding = [p for p in interrupted if "embedding" in heard.stages(Path(p))]
    assert len(embedding) > batch  # the group that was stopped: more than its first batch
    begun = {p for p in map(str, notes) if heard.stages(Path(p))}
    assert set(interrupted) == begun - stored  # those not read yet: no event, as before
    assert library.failures() == []
    _consistent(service)

    # the next run stores the rest; what was embedded before the cancel is not embedded again
    cached = service._vault.scalar("SELECT count(*) FROM embedding_cache")
    assert cached >= len(stored) + batch
    embedded: list[str] = []
    encode = service._embedder.encode
    monkeypatch.setattr(service._embedder, "encode",
                        lambda texts: embedded.extend(texts) or encode(texts))
    waiting = library.queued()
    resumed = library.run_queue()
    assert sorted(resumed.ingested) == sorted(map(str, waiting))
    assert {d.path for d in library.documents()} == set(map(str, notes))
    assert library.pending() == 0 and len(embedded) == len(notes) - cached
    _consistent(service)
