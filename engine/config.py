"""Engine configuration: one immutable value object handed to the engine by `app/`.

The engine never reads environment variables or settings files itself; `app.settings`
builds an `EngineConfig` from them and passes it in.
"""

from dataclasses import dataclass
from pathlib import Path

BUNDLED_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
BUNDLED_GENERATION_MODELS = ("smollm2-135m-instruct", "gemma3-270m")


@dataclass(frozen=True)
class EngineConfig:
    """Every tunable the engine uses, with the defaults that the benchmarks chose."""

    data_dir: Path
    embedding_model: str = BUNDLED_EMBEDDING_MODEL
    """The bundled model's name, or the path of a sentence-transformers folder."""
    generation_model: str = "smollm2-135m-instruct"
    """One of BUNDLED_GENERATION_MODELS, or the path of a GGUF file."""

    chunk_tokens: int = 200
    """Target chunk size in embedding-model tokens (all-MiniLM-L6-v2 reads 256)."""
    chunk_overlap_tokens: int = 40
    max_file_bytes: int = 200 * 1024 * 1024
    embed_batch_size: int = 32
    index_save_interval_s: float = 30.0

    retrieval_candidates: int = 50
    """How many hits each of BM25 and HNSW contributes before fusion."""
    dense_weight: float = 0.9
    """Weight of the dense score in the fused score (BM25 gets the rest): the best
    compromise in bench/retrieval_quality.py between entity search (dense alone is best)
    and technical questions (BM25's exact terms help)."""
    min_relevance: float = 0.35
    """Below this cosine similarity of the best source, `ask` says it does not know
    (bench/answer_quality.py: answerable questions scored 0.38 and up, off-topic ones
    up to 0.36)."""

    context_tokens: int = 2048
    max_answer_tokens: int = 256
    temperature: float = 0.1
    threads: int | None = None
    sources_per_answer: int = 4

    answer_cache_entries: int = 256
    answer_cache_ttl_s: float = 3600.0
    query_cache_entries: int = 2048
    query_cache_ttl_s: float = 86400.0

    kdf_log2_n: int = 16
    """scrypt cost for passphrase-derived keys (2**16 * 128 * 8 bytes = 64 MiB)."""
