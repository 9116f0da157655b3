"""Plain value objects that cross the engine's boundary (to the CLI, the UI, the API)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Collection:
    id: int
    name: str
    folder: str | None
    documents: int
    created_at: float


@dataclass(frozen=True)
class Document:
    id: int
    collection: str
    path: str
    name: str
    kind: str
    pages: int | None
    chunks: int
    size: int
    ingested_at: float


@dataclass(frozen=True)
class SearchHit:
    """One retrieved chunk; `page` is 1-based (None for formats without pages)."""

    chunk_id: int
    document_id: int
    document: str
    path: str
    page: int | None
    score: float
    text: str
    char_start: int
    char_end: int
    dense_similarity: float | None = None
    navigation: bool = False
    """A table of contents, an index or a dot-leader list (engine.navigation)."""

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Failure:
    path: str
    collection: str
    reason: str
    """Why, in English; a `texts.Said` (with its code and values) when it has a code."""
    failed_at: float


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    ingested: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    chunks: int = 0
    pages: int = 0
    cancelled: bool = False
    error: str | None = None
    """Why the run broke off (the vault or the index failed), when it did."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent in parse, embed, store and index."""


@dataclass(frozen=True)
class IngestProgress:
    """A snapshot handed to the progress callback after every step."""

    files_done: int
    files_total: int
    chunks_done: int
    current_file: str | None
    stage: str
    """"parsing", "recognising" (OCR of pages that are pictures), "embedding", "storing",
    then the outcome: "indexed", "skipped", "failed" or
    "cancelled" (dropped from the queue); "interrupted": stopped, still queued."""
    elapsed_s: float
    path: str | None = None
    """The file this event is about (its full path)."""
    reason: str | None = None
    """Why the file failed, when `stage` is "failed" (a `texts.Said`, with its code and
    values, when it has a code)."""
    file_chunks_done: int = 0
    file_chunks_total: int = 0
    """Embedding progress inside the current file."""
    ocr_pages_done: int = 0
    ocr_pages_total: int = 0
    """While `stage` is "recognising": the file's pages read with OCR so far, and in all."""

    @property
    def final(self) -> bool:
        """Whether the file is done with: stored, unchanged, failed or cancelled."""
        return self.stage in ("indexed", "skipped", "failed", "cancelled")

    @property
    def eta_s(self) -> float | None:
        if not self.files_done or self.files_done >= self.files_total:
            return None
        return self.elapsed_s / self.files_done * (self.files_total - self.files_done)
