"""EnclaveService: the one facade that the CLI, the desktop app and the LAN API call.

It opens the vault, checks the vector index against it, and wires the pipeline parts
together. Models load lazily: opening a vault, listing documents or a BM25-only path
never imports torch or llama.cpp.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np

from . import models
from . import backup_plan, backups, cost, sources
from .answers import Answer, Answerer, AnswerStream, Gate, distinct_pages
from .apikeys import ApiKeys
from .audit import AuditLog
from .chats import ChatStore
from .cache import TTLCache, normalize_question
from .chunker import Chunker, embedding_text
from .config import EngineConfig
from .embedder import Embedder
from .errors import Cancelled, NotFoundError, UserError
from .generator import Generator
from .ingest import CancelToken, Ingestor, ProgressCallback, expand
from .keys import PassphraseProvider
from .library import DEFAULT_COLLECTION, Library, bump_generation
from .monitoring import Monitor
from .navigation import classify_unmarked
from .records import Collection, Document, Failure, IngestReport, SearchHit
from .retriever import HybridRetriever
from .vault import Vault
from .vector_index import INDEX_FILE, VectorIndex

log = logging.getLogger(__name__)


class EnclaveService:
    def __init__(self, config: EngineConfig, vault: Vault, embedder: Embedder | None = None,
                 generator: Generator | None = None):
        """Wire the engine around an open vault; loaded models may be handed in to share."""
        self.config = config
        self.vault = vault
        self.library = Library(vault)
        self.chats = ChatStore(vault)
        self.api_keys = ApiKeys(vault)
        self.audit = AuditLog(vault)
        model_dir = models.embedding_model_dir(config.embedding_model)
        self.embedder = embedder or Embedder(model_dir, config.embedding_model,
                                             config.embed_batch_size)
        self._generator = generator
        self.chunker = Chunker(model_dir / "tokenizer.json", config.chunk_tokens,
                               config.chunk_overlap_tokens)
        self._check_embedding_model()
        dimension = json.loads((model_dir / "1_Pooling" / "config.json").read_text())[
            "word_embedding_dimension"]
        self.index = VectorIndex(config.data_dir / INDEX_FILE, vault.derived_key("hnsw-index"),
                                 dimension)
        self.index_repair = self.index.open(vault)
        classify_unmarked(vault)  # chunks stored before navigation chunks were recognised
        if self.index_repair:
            log.warning("vector index rebuilt from the vault: %s", self.index_repair)
        self.retriever = HybridRetriever(vault, self.index, self.embedder,
                                         config.retrieval_candidates, config.dense_weight,
                                         config.fusion, config.term_weight)
        self.ingestor = Ingestor(vault, self.library, self.chunker, self.embedder, self.index,
                                 config)
        self._answerer: Answerer | None = None
        if self.embedder.query_cache is None:
            self.embedder.query_cache = TTLCache(config.query_cache_entries,
                                                 config.query_cache_ttl_s)
        self.answer_cache = TTLCache(config.answer_cache_entries, config.answer_cache_ttl_s)
        self.monitor = Monitor(vault)

    @classmethod
    def open(cls, config: EngineConfig, passphrase: PassphraseProvider,
             prefer_keyring: bool = True, embedder: Embedder | None = None,
             generator: Generator | None = None) -> "EnclaveService":
        """Open (or create) the vault in `config.data_dir`; WrongKeyError if the key is wrong.

        Models already loaded (by another service, or a test session) may be handed in.
        """
        vault = Vault.open(config.data_dir, passphrase, config.kdf_log2_n,
                           "keyring" if prefer_keyring else "passphrase")
        try:
            return cls(config, vault, embedder, generator)
        except BaseException:
            vault.close()
            raise

    def reconfigured(self, config: EngineConfig) -> "EnclaveService":
        """A service over this same open vault with other settings (models, generation).

        The data directory must stay the same. Use only the returned service afterwards.
        """
        if config.data_dir != self.config.data_dir:
            raise UserError("The data directory changes only when Enclave starts again.")
        if self._answerer is not None and self._generator is None:
            self._answerer.generator.close()
        same_embedder = config.embedding_model == self.config.embedding_model
        return EnclaveService(config, self.vault, self.embedder if same_embedder else None,
                              self._generator)

    def warm_up(self) -> None:
        """Load both models now, so that the first question does not wait for them."""
        self.embedder.embed_query("warm up")
        self.answerer.generator.llama  # noqa: B018 - the property loads the model

    # --- backups -----------------------------------------------------------------------

    def backup(self, destination: Path, app_version: str,
               extra_files: dict[str, Path] | None = None) -> Path:
        """Write a verified backup of the data directory inside `destination`."""
        folder = backups.create_backup(self.vault, self.config.data_dir, destination,
                                       app_version, extra_files)
        self.verify_backup(folder)
        return folder

    def run_scheduled_backup(self, app_version: str, extra_files: dict[str, Path] | None = None
                             ) -> backup_plan.BackupResult:
        """Back up to the plan's destination, verify, prune, and record the result."""
        plan = backup_plan.load_plan(self.vault)
        try:
            if not plan.destination:
                raise UserError("No backup folder is set.")
            destination = Path(plan.destination).expanduser()
            if not destination.is_dir():
                raise UserError(f"The backup folder {destination} is not there "
                                "(is the drive connected?).")
            folder = self.backup(destination, app_version, extra_files)
            backups.prune(destination, plan.keep_daily, plan.keep_weekly, plan.keep_monthly)
            result = backup_plan.BackupResult(time.time(), True, str(folder))
        except Exception as exc:  # recorded, shown as an alert; the app goes on
            log.exception("backup failed")
            result = backup_plan.BackupResult(time.time(), False, error=str(exc))
        backup_plan.record_result(self.vault, result)
        return result

    def verify_backup(self, folder: Path) -> backups.Manifest:
        """Verify a backup of this library (with this library's key)."""
        return backups.verify_backup(folder, self.vault.key_for_backups())

    def close(self) -> None:
        """Close the vault, and free the generation model unless it was handed in."""
        if self._answerer is not None and self._generator is None:
            self._answerer.generator.close()
        self.vault.close()

    def _check_embedding_model(self) -> None:
        recorded = self.vault.get_meta("embedding_model")
        if recorded is None:
            with self.vault.transaction() as conn:
                self.vault.set_meta(conn, "embedding_model", self.config.embedding_model)
        elif recorded != self.config.embedding_model:
            raise UserError(
                f"This library was embedded with '{recorded}', not "
                f"'{self.config.embedding_model}': choose that model again to open it.")

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            generator = self._generator or Generator(
                models.generation_model_file(self.config.generation_model,
                                             self.config.data_dir / "models"),
                self.config.context_tokens, self.config.threads, self.config.temperature)
            config = self.config
            gate = Gate(config.relevance_gate, config.min_relevance, config.min_density,
                        config.min_sentence_score)
            self._answerer = Answerer(generator, self.embedder, config.max_answer_tokens, gate,
                                      config.sources_per_answer, config.answer_check,
                                      config.sources_in_prompt)
        return self._answerer

    # --- ingest ------------------------------------------------------------------------

    def ingest(self, paths: list[Path], collection: str = DEFAULT_COLLECTION,
               progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> IngestReport:
        """Ingest files and folders into a collection (created if needed).

        Files left over from an interrupted run are finished first.
        """
        files, refused = self.queue_files(paths, collection)
        report = self.run_queue(progress, cancel)
        report.failed[:0] = [(str(path), reason) for path, reason in refused]
        return report

    def queue_files(self, paths: list[Path], collection: str = DEFAULT_COLLECTION
                    ) -> tuple[list[Path], list[tuple[Path, str]]]:
        """First half of `ingest`: put files (folders expanded) in the queue; return them
        and the paths refused with a reason. `run_queue` does the work."""
        files, refused = expand(paths)
        collection_id = self.library.collection_id(collection, create=True)
        self.ingestor.enqueue(files, collection_id)
        return files, refused

    def run_queue(self, progress: ProgressCallback | None = None,
                  cancel: CancelToken | None = None) -> IngestReport:
        """Ingest everything queued, reporting each file's stage and outcome."""
        return self.ingestor.run(progress, cancel)

    def pending(self) -> int:
        return self.ingestor.pending()

    def drop_pending(self) -> int:
        """Forget the files still waiting in the queue (after a cancelled import)."""
        with self.vault.transaction() as conn:
            return conn.execute("DELETE FROM ingest_queue").rowcount

    def queue_reindex(self, document_ids: list[int]) -> list[Path]:
        """Queue documents to be read again from their files, whether changed or not; the
        old version stays until the new one is stored (a missing file fails, keeping it)."""
        queued = []
        with self.vault.transaction() as conn:
            for document_id in document_ids:
                row = conn.execute("SELECT path, collection_id FROM documents WHERE id = ?",
                                   (document_id,)).fetchone()
                if row is None:
                    raise NotFoundError(f"There is no document {document_id}.")
                conn.execute("UPDATE documents SET sha256 = '' WHERE id = ?", (document_id,))
                conn.execute("INSERT OR IGNORE INTO ingest_queue(path, collection_id) "
                             "VALUES(?, ?)", row)
                queued.append(Path(row[0]))
        return queued

    def retry_failed(self, progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None) -> IngestReport:
        rows = self.vault.rows("SELECT path, collection_id FROM ingest_failures")
        for path, collection_id in rows:
            self.ingestor.enqueue([Path(path)], collection_id)
        return self.ingestor.run(progress, cancel)

    def sync(self, collection: str | None = None, progress: ProgressCallback | None = None,
             cancel: CancelToken | None = None) -> dict[str, IngestReport]:
        """Bring linked collections in line with their folders: add, update, delete."""
        linked = self.library.linked_collections()
        if collection is not None:
            linked = [(name, folder) for name, folder in linked if name == collection]
            if not linked:
                self.library.collection_id(collection)  # NotFoundError if it does not exist
                raise UserError(f"The collection '{collection}' is not linked to a folder.")
        reports = {}
        for name, folder in linked:
            if not folder.is_dir():
                raise NotFoundError(f"The folder {folder} linked to '{name}' is not there.")
            collection_id = self.library.collection_id(name)
            files, _ = expand([folder])
            present = {str(f) for f in files}
            deleted = []
            for path, (document_id, _) in self.library.document_paths(collection_id).items():
                if path not in present:
                    self._drop(self.library.delete_document(document_id))
                    deleted.append(path)
            self.ingestor.enqueue(files, collection_id)
            report = self.ingestor.run(progress, cancel)
            report.deleted = deleted
            reports[name] = report
        return reports

    def reembed(self, model: str, progress: Callable[[int, int], None] | None = None,
                cancel: CancelToken | None = None) -> int:
        """Embed every chunk again with another embedding model and make it the library's.

        The new vectors replace the old ones in one transaction at the end, so a cancelled
        or failed run changes nothing. Reopen the service with the new model afterwards
        (the index is rebuilt then). Returns the number of chunks embedded.
        """
        embedder = Embedder(models.embedding_model_dir(model), model, self.config.embed_batch_size)
        rows = self.vault.rows("SELECT id, text, heading FROM chunks ORDER BY id")
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

        for start in range(0, len(texts), 256):  # cached vectors need no batch: catch up
            vectors.extend(embedder.embed_documents(self.vault, texts[start:start + 256], step))
            done = min(start + 256, len(texts))
        with self.vault.transaction() as conn:
            conn.executemany("UPDATE chunks SET vector = ? WHERE id = ?",
                             [(v.tobytes(), row[0]) for v, row in zip(vectors, rows)])
            conn.execute("UPDATE documents SET embedding_model = ?", (model,))
            self.vault.set_meta(conn, "embedding_model", model)
            bump_generation(conn)
        return len(rows)

    # --- search and answers ------------------------------------------------------------

    def _scope(self, collection: str | None) -> list[int] | None:
        return None if collection is None else [self.library.collection_id(collection)]

    def search(self, query: str, k: int = 5, collection: str | None = None,
               document_ids: list[int] | None = None) -> list[SearchHit]:
        if not query.strip():
            raise UserError("The query is empty.")
        if not 1 <= k <= 100:
            raise UserError("k must be between 1 and 100.")
        started, timings = time.perf_counter(), {}
        hits = self.retriever.search(query, k, self._scope(collection), document_ids, timings)
        self.monitor.observe("embed_query_seconds", timings["embed_query"])
        self.monitor.observe("retrieve_seconds", time.perf_counter() - started)
        return hits

    def ask(self, question: str, collection: str | None = None,
            document_ids: list[int] | None = None) -> AnswerStream:
        """Answer from the documents; iterate the stream for text, then read `.answer`."""
        if not question.strip():
            raise UserError("The question is empty.")
        key = (normalize_question(question), collection, tuple(document_ids or ()),
               self.config.generation_model, self.config.temperature,
               self.config.max_answer_tokens, self.vault.get_meta("index_generation", "0"))
        cached: Answer | None = self.answer_cache.get(key)
        self.monitor.count("cache_hit" if cached is not None else "cache_miss")
        if cached is not None:
            answer = dataclasses.replace(cached, question=question, timings={"cache": 1.0})
            self.monitor.count("answers")
            return AnswerStream(iter([answer.text]), lambda text: answer)
        started, cpu_started = time.monotonic(), time.process_time()
        # more than are used: a second chunk of a page already there gives way to another page
        hits = distinct_pages(self.search(question, 2 * self.config.sources_per_answer,
                                          collection, document_ids))
        hits = sources.whole_sentences(self.vault, hits[: self.config.sources_per_answer])
        density = self.retriever.density(question, self.config.density_neighbours,
                                         self._scope(collection), document_ids)
        stream = self.answerer.answer(question, hits, density,
                                      {"retrieve": time.monotonic() - started})

        def done(answer: Answer) -> None:
            self._account(answer, collection, time.process_time() - cpu_started)
            if not stream.cancelled:  # a stopped answer is not the answer
                self.answer_cache.put(key, answer)

        stream.on_done(done)
        return stream

    def _account(self, answer: Answer, collection: str | None, cpu_s: float) -> None:
        """Health figures and cost of one answer made by the model."""
        timings = answer.timings
        self.monitor.count("answers")
        self.monitor.observe("answer_seconds", timings.get("retrieve", 0) + timings.get("generate", 0))
        for stage in ("first_token", "generate"):
            if stage in timings:
                self.monitor.observe(f"{stage}_seconds", timings[stage])
        if "generate" not in timings:
            return  # refused before the model ran: nothing generated
        prompt = self.count_tokens(answer.question) + sum(
            self.count_tokens(s.hit.text) for s in answer.sources)
        completion = self.count_tokens(answer.text)
        writing = timings.get("generate", 0) - timings.get("first_token", 0)
        if completion and writing > 0:
            self.monitor.gauge("tokens_per_second", completion / writing)
        cost.record(self.vault, cpu_s, prompt, completion, collection)

    def cache_stats(self) -> dict[str, dict]:
        return {"answers": self.answer_cache.stats(),
                "query_embeddings": self.embedder.query_cache.stats()}

    def passage(self, document_id: int, start: int, end: int) -> sources.Passage:
        """A cited passage within its document's text, to show it highlighted."""
        return sources.passage(self.vault, document_id, start, end)

    def render_page(self, document_id: int, page: int, highlight: str = "",
                    zoom: float = 1.5) -> sources.RenderedPage:
        """A page of a PDF document as PNG, with a passage's words highlighted."""
        found = self.vault.rows("SELECT path, kind FROM documents WHERE id = ?", (document_id,))
        if not found:
            raise NotFoundError("That document is no longer in the library.")
        path, kind = found[0]
        if kind != "pdf":
            raise UserError(f"{Path(path).name} is not a PDF: it has no pages to draw.")
        return sources.render_page(path, page, highlight, zoom)

    def chat(self, messages: list[dict], max_tokens: int | None = None) -> AnswerStream:
        """Plain chat with the model, no documents: `messages` as in OpenAI's API."""
        roles = {"system", "user", "assistant"}
        if not messages or any(m.get("role") not in roles or not isinstance(m.get("content"), str)
                               for m in messages):
            raise UserError("Messages need a role (system, user or assistant) and text content.")
        generator = self.answerer.generator
        stream: AnswerStream
        pieces = generator.stream_chat(messages, max_tokens or self.config.max_answer_tokens,
                                       should_stop=lambda: stream.cancelled)
        question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        stream = AnswerStream(pieces, lambda text: Answer(question, text.strip(), []))
        return stream

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embeddings of texts with the library's model (normalised, as the index uses)."""
        if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
            raise UserError("Give one or more non-empty texts to embed.")
        if len(texts) > 256:
            raise UserError("At most 256 texts per request.")
        return self.embedder.encode(texts).tolist()

    def count_tokens(self, text: str) -> int:
        return self.answerer.generator.count_tokens(text) if text else 0

    def readiness(self) -> dict:
        """Whether the models are loaded and the index matches the vault."""
        chunks = self.vault.scalar("SELECT count(*) FROM chunks")
        return {"vault": True, "embedding_model_loaded": self.embedder.loaded,
                "generation_model_loaded": self._answerer is not None
                and self._answerer.generator.loaded,
                "index_vectors": len(self.index), "chunks": chunks,
                "index_consistent": len(self.index) == chunks}

    # --- library -----------------------------------------------------------------------

    def collections(self) -> list[Collection]:
        return self.library.collections()

    def create_collection(self, name: str) -> None:
        self.library.create_collection(name)

    def delete_collection(self, name: str) -> None:
        self._drop(self.library.delete_collection(name))

    def link_collection(self, name: str, folder: Path) -> None:
        self.library.link_collection(name, folder.expanduser())

    def documents(self, collection: str | None = None) -> list[Document]:
        return self.library.documents(collection)

    def delete_documents(self, ref: str, collection: str | None = None) -> list[Document]:
        """Delete the documents matching an id, a file name or a path."""
        found = self.library.find_documents(ref, collection)
        if not found:
            raise NotFoundError(f"No document matches '{ref}'.")
        for document in found:
            self._drop(self.library.delete_document(document.id))
        return found

    def delete_document(self, document_id: int) -> None:
        self._drop(self.library.delete_document(document_id))

    def failures(self) -> list[Failure]:
        return self.library.failures()

    def _drop(self, chunk_ids: list[int]) -> None:
        self.index.remove(chunk_ids)
        self.index.save(int(self.vault.get_meta("index_generation", "0")))

    def status(self) -> dict:
        return {
            "data_dir": str(self.config.data_dir),
            "schema": self.vault.scalar("PRAGMA user_version"),
            "collections": len(self.collections()),
            "documents": self.vault.scalar("SELECT count(*) FROM documents"),
            "chunks": self.vault.scalar("SELECT count(*) FROM chunks"),
            "indexed_vectors": len(self.index),
            "pending_files": self.pending(),
            "failed_files": len(self.failures()),
            "index_repaired": self.index_repair,
            "embedding_model": self.config.embedding_model,
            "generation_model": self.config.generation_model,
        }
