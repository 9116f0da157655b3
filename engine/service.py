"""EnclaveService: the one door into the engine, for the CLI, the desktop app and the LAN API.

It opens the vault, checks the vector index against it, wires the pipeline's parts
(private to it) and offers what a person does with a library as a few facade objects:

- `library`: collections, documents and the ingest queue with its one worker;
- `answers`: search, answers, plain chat, embeddings, cited passages and pages;
- `conversations`: kept conversations, asked in from the desktop or the API;
- `backups`: verified backups, their plan, and restore;
- `access`: the LAN API's keys and the audit log;
- `vault_key`: how the library is locked, and changing its key;
- `health`: totals, readiness, chart series, alerts and cost.

Models load lazily: opening a vault, listing documents or a BM25-only path never imports
torch or llama.cpp. With an inference server configured, answers and chats come from it
(`answers/remote.py`), and the local model is loaded only when it stands in for the server.

One program at a time writes a library (`store/writer_lock.py`). `open(access="write")`
refuses with LibraryInUseError while another holds it; `access="read"` opens read-only
then: no upkeep (migrations, index repair), no ingest worker, and every change through
the facade raises LibraryInUseError naming the program that writes.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace

from . import models
from .answers.answerer import Answerer, Gate
from .answers.chats import ChatStore
from .answers.generator import Generator
from .answers.remote import SERVER_KEY_META, RemoteGenerator
from .config import EngineConfig
from .errors import ModelUnavailableError, UserError
from .facade.access import AccessService
from .facade.answers import AnswerService
from .facade.backups import BackupService
from .facade.conversations import ConversationService
from .facade.health import HealthService
from .facade.library import LibraryService
from .facade.vault_key import VaultKeyService
from .ingest.chunker import Chunker
from .ingest.navigation import classify_unmarked
from .ingest.pipeline import Ingestor
from .ingest.worker import IngestWorker
from .ops.apikeys import ApiKeys
from .ops.audit import AuditLog
from .ops.monitoring import Monitor
from .retrieval.cache import TTLCache
from .retrieval.embedder import Embedder
from .retrieval.retriever import HybridRetriever
from .retrieval.search_workers import SearchWorkers
from .retrieval.vector_index import INDEX_FILE, VectorIndex
from .store.catalogue import Catalogue
from .store.keys import PassphraseProvider
from .store.vault import Vault
from .store.writer_lock import Holder

log = logging.getLogger(__name__)


class _Worker(IngestWorker):
    """The library's ingest worker, which works only where the library is writable."""

    def __init__(self, vault: Vault, ingestor: Ingestor):
        super().__init__(vault, ingestor)
        self._library = vault

    def resume(self) -> None:
        self._library.require_writable()
        super().resume()


def _kept_embedding_model(config: EngineConfig, vault: Vault) -> EngineConfig:
    """A library keeps the way its bundled embedding model runs: one embedded in fp32
    (before int8 was the default) opens in fp32 until it is embedded again in int8."""
    recorded = vault.get_meta("embedding_model")
    if recorded and recorded != config.embedding_model and models.same_weights(
            recorded, config.embedding_model):
        log.info("this library keeps its embedding model %s (not %s): embed it again to "
                 "change", recorded, config.embedding_model)
        return replace(config, embedding_model=recorded)
    return config


class EnclaveService:
    def __init__(self, config: EngineConfig, vault: Vault, embedder: Embedder | None = None,
                 generator: Generator | None = None):
        """Wire the engine around an open vault; loaded models may be handed in to share."""
        config = self.config = _kept_embedding_model(config, vault)
        self._vault = vault
        self._closed = False
        model_dir = models.embedding_model_dir(config.embedding_model)
        model_cache_dir = config.model_cache_dir or config.data_dir / "models"
        self._embedder = embedder or Embedder.configured(config)
        if self._embedder.query_cache is None:  # handed in without one
            self._embedder.query_cache = TTLCache(config.query_cache_entries,
                                                  config.query_cache_ttl_s)
        self._generator = generator
        self._answerer: Answerer | None = None
        self._answerer_lock = threading.Lock()
        self._check_embedding_model()
        dimension = json.loads((model_dir / "1_Pooling" / "config.json").read_text())[
            "word_embedding_dimension"]
        index = VectorIndex(config.data_dir / INDEX_FILE, vault.derived_key("hnsw-index"),
                            dimension)
        index_repair = index.open(vault)
        if vault.writable:  # else the program that writes does it
            classify_unmarked(vault)  # chunks stored before navigation chunks were recognised
        if index_repair and vault.writable:
            log.warning("vector index rebuilt from the vault: %s", index_repair)
        elif index_repair:  # another program writes: the index it saved lags a little
            log.info("vector index: %s", index_repair)
        catalogue = Catalogue(vault)
        chunker = Chunker(model_dir / "tokenizer.json", config.chunk_tokens,
                          config.chunk_overlap_tokens)
        self._worker = _Worker(vault, Ingestor(vault, catalogue, chunker, self._embedder,
                                               index, config))
        retriever = HybridRetriever.configured(config, vault, index, self._embedder)
        monitor = Monitor(vault)

        self.library = LibraryService(vault, catalogue, index, self._worker, lambda name: (
            Embedder.named(name, config.embed_batch_size, model_cache_dir)))
        self.answers = AnswerService(config, vault, catalogue, self._embedder, retriever,
                                     monitor, self._load_answerer)
        self._retriever = retriever
        self._search_workers: SearchWorkers | None = None
        self.conversations = ConversationService(ChatStore(vault), self.answers)
        self.backups = BackupService(vault, config.data_dir, self.close)
        self.access = AccessService(ApiKeys(vault), AuditLog(vault), catalogue)
        self.vault_key = VaultKeyService(vault, config.data_dir, index,
                                         lambda: self._worker.running, config.kdf_log2_n)
        self.health = HealthService(config, vault, index, monitor, self._models_loaded,
                                    catalogue.pending, index_repair, self._server_model)

    @classmethod
    def open(cls, config: EngineConfig, passphrase: PassphraseProvider,
             prefer_keyring: bool = True, embedder: Embedder | None = None,
             generator: Generator | None = None, access: str = "write",
             program: str | None = None) -> "EnclaveService":
        """Open (or create) the vault in `config.data_dir`; WrongKeyError if the key is wrong.

        `access="write"` holds the library's writer lock until `close` (`program`, e.g.
        "enclave serve", tells others who holds it) and raises LibraryInUseError at once
        if another program holds it. `access="read"` is for what only reads: with no
        other program writing, it does the opening's upkeep (migrations, index repair) and
        then lets go of the lock; otherwise it opens read-only. Either way the service
        changes nothing (`read_only` is True). Models already loaded (by another service,
        or a test session) may be handed in.
        """
        vault = Vault.open(config.data_dir, passphrase, config.kdf_log2_n,
                           "keyring" if prefer_keyring else "passphrase", access, program)
        try:
            service = cls(config, vault, embedder, generator)
        except BaseException:
            vault.close()
            raise
        if access == "read":
            vault.release_writer()
        return service

    @property
    def read_only(self) -> bool:
        """Whether every change is refused here (opened for reading, or another program
        writes the library)."""
        return not self._vault.writable

    @property
    def writer(self) -> Holder | None:
        """The program that was writing the library when it was opened read-only here."""
        return self._vault.writer

    def reconfigured(self, config: EngineConfig) -> "EnclaveService":
        """A service over this same open vault with other settings (models, generation).

        The data directory must stay the same. Use only the returned service afterwards;
        an import in progress stops (its files stay queued for the new service).
        """
        if config.data_dir != self.config.data_dir:
            raise UserError("The data directory changes only when Enclave starts again.")
        config = _kept_embedding_model(config, self._vault)
        same_embedder = config.embedding_model == self.config.embedding_model
        new = EnclaveService(config, self._vault, self._embedder if same_embedder else None,
                             self._generator)  # if this fails, this service goes on as it was
        self._worker.stop()
        self._close_generators()
        if self._search_workers is not None:  # they search with this service's settings
            self._search_workers.close()
        return new

    def warm_up(self) -> str:
        """Load both models now, so that the first question does not wait for them. Returns
        why the language model could not be loaded ("" once it is): the library stays
        searchable without it, and answers quote the passages meanwhile."""
        self._embedder.embed_query("warm up")
        answerer = self._load_answerer()
        try:
            answerer.generator.load()
        except ModelUnavailableError as exc:
            if answerer.fallback is None:
                log.warning("answers will be quotations: %s", exc)
                return str(exc)
            try:
                answerer.fallback.load()
            except ModelUnavailableError as local:
                log.warning("answers will be quotations: %s; the local model: %s", exc, local)
                return f"{exc} The local model cannot answer either: {local}"
            log.warning("the local model answers meanwhile: %s", exc)
            return f"{exc} The local model answers until it does."
        return ""

    def search_in_workers(self, count: int, wait: float = 0.0) -> None:
        """Run searches in `count` processes of their own from now on, until `close`
        (`retrieval/search_workers.py`); searches run here until they have started, or
        `wait` seconds at most. Only where this program writes the library: the workers
        follow its changes."""
        self._vault.require_writable()
        if not 1 <= count <= 64:
            raise UserError("The number of search workers must be between 1 and 64.")
        if self._search_workers is not None:
            raise UserError("Searches already run in workers.")
        self._search_workers = SearchWorkers(self._retriever, self.config,
                                             self._vault.reader(), count)
        self.answers.search_in(self._search_workers)
        if wait:
            self._search_workers.wait_ready(wait)

    @property
    def search_workers(self) -> tuple[int, int]:
        """How many search worker processes take searches now (0: searches run here), and
        how many were started."""
        workers = self._search_workers
        return (workers.ready, workers.count) if workers else (0, 0)

    def close(self) -> None:
        """Stop the ingest worker (the queue stays) and any search workers, free the
        generation model unless it was handed in, and close the vault. Closing twice does
        nothing."""
        if self._closed:
            return
        self._closed = True
        if self._search_workers is not None:
            self.answers.search_in(self._retriever)
            self._search_workers.close()
        self._worker.stop()
        self._close_generators()
        self._vault.close()

    def _close_generators(self) -> None:
        """Free the models and connections made here (not a generator handed in)."""
        if self._answerer is not None:
            for generator in {self._answerer.generator, self._answerer.fallback}:
                if generator is not None and generator is not self._generator:
                    generator.close()

    def _check_embedding_model(self) -> None:
        recorded = self._vault.get_meta("embedding_model")
        if recorded is None:
            if not self._vault.writable:
                return  # a new library: the program that writes it records its model
            with self._vault.transaction() as conn:
                self._vault.set_meta(conn, "embedding_model", self.config.embedding_model)
        elif recorded != self.config.embedding_model:
            raise UserError(
                f"This library was embedded with '{recorded}', not "
                f"'{self.config.embedding_model}': choose that model again to open it.")

    def _load_answerer(self) -> Answerer:
        with self._answerer_lock:
            if self._answerer is None:
                config = self.config
                local = self._generator or self._new_generator()
                remote = self._new_remote_generator()
                gate = Gate(config.relevance_gate, config.min_relevance, config.min_density,
                            config.min_sentence_score)
                self._answerer = Answerer(
                    remote or local, self._embedder, config.max_answer_tokens, gate,
                    config.sources_per_answer, config.answer_check, config.sources_in_prompt,
                    fallback=local if remote and config.inference_server_fallback else None,
                    excerpt_tokens=config.source_excerpt_tokens)
            return self._answerer

    def _new_remote_generator(self) -> RemoteGenerator | None:
        """The configured inference server's generator (None: none is configured), with
        the key the configuration gives, else the one kept in the library."""
        config = self.config
        if not config.inference_server_url:
            return None
        return RemoteGenerator(
            config.inference_server_url, config.inference_server_model,
            config.inference_server_key or self._vault.get_meta(SERVER_KEY_META, ""),
            config.inference_server_timeout_s, config.context_tokens, config.temperature)

    def _new_generator(self) -> Generator:
        """The configured model's generator; with no file, one that says why on use (the
        library stays searchable, and answers are quotations meanwhile)."""
        config = self.config
        try:
            path, missing = models.generation_model_file(config.generation_model,
                                                         config.data_dir / "models"), ""
        except ModelUnavailableError as exc:
            path, missing = None, str(exc)
        return Generator(path, config.context_tokens, config.threads, config.temperature,
                         missing)

    def _server_model(self) -> str:
        """The model the inference server serves, once it has said ("" before, or none)."""
        generator = self._answerer.generator if self._answerer is not None else None
        return generator.model if isinstance(generator, RemoteGenerator) else ""

    def _models_loaded(self) -> dict[str, bool]:
        """Whether each model can answer now: for an inference server, whether it answered
        when last asked (or the local model standing in for it is loaded)."""
        answerer = self._answerer
        return {"embedding_model_loaded": self._embedder.loaded,
                "generation_model_loaded": answerer is not None and (
                    answerer.generator.loaded
                    or answerer.fallback is not None and answerer.fallback.loaded)}
