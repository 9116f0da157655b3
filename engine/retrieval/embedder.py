"""Sentence embeddings with a local sentence-transformers model, batched and cached.

The bundled model runs by default as an int8 ONNX graph (`onnx_encoder`), made from it
on first use; any model can run in fp32 with sentence-transformers. The model loads on
first use (importing torch takes seconds, so nothing imports it before it is needed). Vectors are L2-normalised float32, so a dot product is the cosine
similarity. Document embeddings are cached in the vault keyed by (model, sha256 of the
text): re-ingesting a changed file only embeds the chunks that changed, and an
interrupted ingest does not embed twice what it had finished.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from .. import models
from ..config import EngineConfig
from .cache import TTLCache
from ..errors import ModelUnavailableError
from .onnx_encoder import OnnxEncoder, export, graph_name
from ..store.vault import Vault


class Embedder:
    def __init__(self, model_dir: Path, model_id: str, batch_size: int = 32,
                 int8_graph_dir: Path | None = None):
        """`model_id` names the vectors (in the vault's cache and records); with
        `int8_graph_dir` the model runs as an int8 ONNX graph kept there (exported on
        first use), else with sentence-transformers in fp32."""
        self.model_dir = model_dir
        self.model_id = model_id
        self.batch_size = batch_size
        self.int8_graph_dir = int8_graph_dir
        self._model = None
        self._load_lock = threading.Lock()
        self.query_cache: TTLCache | None = None
        """Set by the service (its size and lifetime are settings)."""

    @classmethod
    def named(cls, name: str, batch_size: int, cache_dir: Path) -> "Embedder":
        """The embedder for a bundled model name or a sentence-transformers folder."""
        return cls(models.embedding_model_dir(name), name, batch_size,
                   cache_dir if models.runs_int8(name) else None)

    @classmethod
    def configured(cls, config: EngineConfig) -> "Embedder":
        """The embedder `config` names, with its query cache."""
        embedder = cls.named(config.embedding_model, config.embed_batch_size,
                             config.model_cache_dir or config.data_dir / "models")
        embedder.query_cache = TTLCache(config.query_cache_entries, config.query_cache_ttl_s)
        return embedder

    @property
    def model(self):
        with self._load_lock:
            if self._model is None and self.int8_graph_dir is not None:
                name = graph_name(self.model_dir)
                shipped = models.converted_in_bundle()
                graph = self.int8_graph_dir / name
                try:
                    if shipped and (shipped / name).exists():
                        graph = shipped / name
                    elif not graph.exists():
                        export(self.model_dir, graph)
                    self._model = OnnxEncoder(graph, self.model_dir)
                except (ImportError, OSError, RuntimeError, ValueError) as exc:
                    raise ModelUnavailableError(
                        f"The embedding model could not be converted to int8 in {graph.parent} "
                        f"({exc}): choose all-MiniLM-L6-v2 (fp32) in Settings, or free the "
                        "folder.") from exc
            elif self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # no "Loading weights" bar

                self._model = SentenceTransformer(
                    str(self.model_dir), device="cpu", local_files_only=True
                )
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def dimension(self) -> int:
        if self.int8_graph_dir is not None:
            return self.model.dimension
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed without the cache (queries, benchmarks)."""
        if self.int8_graph_dir is not None:
            return self.model.encode(texts, self.batch_size)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector, from the query cache when it was embedded before."""
        cached = self.query_cache.get(text) if self.query_cache else None
        if cached is not None:
            return cached
        vector = self.encode([text])[0]
        if self.query_cache:
            self.query_cache.put(text, vector)
        return vector

    def embed_documents(
        self, vault: Vault, texts: list[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed chunk texts, taking what it can from the vault's cache and filling it;
        `on_batch(n)` is told of each `n` texts done (first those found in the cache)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        shas = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        cached: dict[str, bytes] = {}
        for start in range(0, len(shas), 500):
            part = shas[start : start + 500]
            marks = ",".join("?" * len(part))
            cached.update(vault.rows(
                f"SELECT text_sha, vector FROM embedding_cache WHERE model = ? AND text_sha IN ({marks})",
                (self.model_id, *part),
            ))
        # batches of similar length waste less work on padding
        missing = sorted((i for i, sha in enumerate(shas) if sha not in cached),
                         key=lambda i: len(texts[i]))
        if on_batch and len(missing) < len(texts):
            on_batch(len(texts) - len(missing))  # those from the cache
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            vectors = self.encode([texts[i] for i in batch])
            with vault.transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO embedding_cache(model, text_sha, vector) VALUES(?,?,?)",
                    [(self.model_id, shas[i], v.tobytes()) for i, v in zip(batch, vectors)],
                )
            for i, vector in zip(batch, vectors):
                cached[shas[i]] = vector.tobytes()
            if on_batch:
                on_batch(len(batch))
        return np.stack([np.frombuffer(cached[sha], dtype=np.float32) for sha in shas])
