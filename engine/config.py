"""Engine configuration: one immutable value object handed to the engine by `app/`.

The engine never reads environment variables or settings files itself; `app.settings`
builds an `EngineConfig` from them and passes it in.
"""

from dataclasses import dataclass, field
from pathlib import Path

BUNDLED_EMBEDDING_MODEL = "all-MiniLM-L6-v2-int8"
"""The default: the bundled all-MiniLM-L6-v2 run by ONNX Runtime with int8 weights."""
BUNDLED_EMBEDDING_MODELS = (BUNDLED_EMBEDDING_MODEL, "all-MiniLM-L6-v2")
"""The bundled embedding model, run two ways: int8 (about twice as fast, the same rankings
to within a few hundredths of nDCG) and sentence-transformers in fp32 (libraries made
before int8 was the default keep it until they are embedded again)."""
BUNDLED_GENERATION_MODELS = ("smollm2-135m-instruct", "gemma3-270m")


@dataclass(frozen=True)
class EngineConfig:
    """Every tunable the engine uses, with the defaults that the benchmarks chose."""

    data_dir: Path
    embedding_model: str = BUNDLED_EMBEDDING_MODEL
    """One of BUNDLED_EMBEDDING_MODELS, or the path of a sentence-transformers folder."""
    model_cache_dir: Path | None = None
    """Where models converted on this machine are kept (the int8 graph of the embedding
    model, made on first use); None: the data directory's models folder."""
    generation_model: str = "smollm2-135m-instruct"
    """One of BUNDLED_GENERATION_MODELS, or the path of a GGUF file."""

    chunk_tokens: int = 200
    """Target chunk size in embedding-model tokens (all-MiniLM-L6-v2 reads 256)."""
    chunk_overlap_tokens: int = 40
    max_file_bytes: int = 200 * 1024 * 1024
    max_unpacked_bytes: int = 256 * 1024 * 1024
    """A Word file's parts once decompressed."""
    max_file_parts: int = 10_000
    """Files inside a Word file's zip."""
    max_file_blocks: int = 100_000
    """Paragraphs, headings and tables in one file (the R reference manual has 45,000)."""
    max_file_chunks: int = 30_000
    """Passages one file may make (the R reference manual makes 8,800)."""
    read_timeout_s: float = 180.0
    """How long reading one file may take (the 3,800-page R reference manual: 5 s)."""
    read_memory_mb: int = 1024
    """Memory the reader process may take for one file, beyond its own at start."""
    ocr: bool = True
    """Pages that are pictures (scanned PDFs, scanned pages in other PDFs, PNG/JPEG/TIFF
    files) are read with OCR (engine/ingest/ocr.py: a few seconds a page); False: a
    scanned PDF and an image are refused, saying OCR is off."""
    max_ocr_pages: int = 1000
    """Pages of one file OCR may read; a file with more is refused (split it)."""
    mask_personal_data_at_ingest: bool = False
    """E-mail addresses, phone, card and ID numbers in documents are replaced ([email], …)
    as they are read, so that the vault never holds them. Files already in the library keep
    their text until they change or are re-indexed (an unchanged file is not read again)."""
    embed_batch_size: int = 32
    index_save_interval_s: float = 30.0

    retrieval_candidates: int = 50
    """How many hits each of BM25, HNSW and the exact-phrase search contributes before
    the candidates are reranked."""
    bm25_postings: int | None = 5000
    """How many chunks the full-text side may score, at most, counted over its terms'
    lists (None: no bound; the rarest term is always searched). FTS5 scores every chunk
    that holds a term: in a library of 100,000 chunks a question of common words made it
    score 25,000 (17 ms). The terms left out are the commonest, which weigh least in
    BM25; they still count in the ranking of every candidate. bench/search_scale.py
    measures both."""
    fusion: str = "evidence"
    """How the candidates are ranked (engine.retriever): "evidence" (exact phrases and
    identifiers first, then cosine + `term_weight` * the IDF-weighted share of the
    query's terms a chunk holds); "weighted" (the former default, `dense_weight`),
    "rrf", "dense" or "bm25" alone, for comparison. bench/retrieval_quality.py, evidence
    against dense alone / BM25 alone / weighted 0.9: dbpedia-5k nDCG@10 0.509 / 0.511 /
    0.338 / 0.496 (evidence vs dense is within the 40 queries' noise: 95% bootstrap
    interval of the difference about +-0.03); a made-up marker ("ZQX-4471 details and
    description") finds its entry first 20/20 / 0/20 / 20/20 / 1/20, with another topic's
    words 20/20 / 0/20 / 15/20 / 0/20; R manuals (79 questions) hit@5 0.962 / 0.924 /
    0.772 / 0.911, MRR 0.818 / 0.749 / 0.675 / 0.801 (test split: 0.923 / 0.885 / 0.769
    / 0.885 and 0.770 / 0.689 / 0.673 / 0.759)."""
    term_weight: float = 0.25
    """What holding all of the query's terms adds to a chunk's cosine in the "evidence"
    fusion. Chosen on the R manuals' dev split and dbpedia: 0.1 / 0.2 / 0.25 / 0.3 / 0.4
    give dev MRR 0.813 / 0.822 / 0.842 / 0.839 / 0.828 and dbpedia nDCG@10 0.508 / 0.506
    / 0.509 / 0.502 / 0.496; 0 keeps only the exact phrases first (dev MRR 0.778)."""
    dense_weight: float = 0.9
    """Weight of the dense score in the "weighted" fusion (BM25 scaled by the best BM25
    of the query gets the rest); no longer the default."""
    relevance_gate: str = "calibrated"
    """"calibrated": answer only when the library is dense around the question
    (`min_density`) and a source sentence answers it well (`min_sentence_score`);
    "cosine": when the best source's cosine reaches `min_relevance` (the gate before,
    kept for comparison). Thresholds chosen on the dev half of bench/questions.jsonl."""
    min_relevance: float = 0.35
    min_density: float = 0.29
    """Mean cosine of the question's `density_neighbours` nearest chunks (fewer in a
    small library: one per 40 chunks)."""
    density_neighbours: int = 5
    min_sentence_score: float = 0.5
    """Score the sources' best sentence must reach (cosine + 0.5 * rarity-weighted share
    of the question's words)."""
    answer_check: str = "quote"
    """What becomes of a generated answer its sources do not support: "quote" (the
    sources' best sentences instead), "refuse", or "off" (shown unchecked; comparison only)."""
    followup_rewrite: str = "terms"
    """How a follow-up question that needs its conversation ("What pressure does it open
    at?") is made standalone before it is searched and answered (engine/answers/
    followups.py): "terms" (the previous question's key terms carried into it), "model"
    (the language model rewrites it from the recent turns), or "off" (asked alone, as
    before). bench/followups.py, 44 follow-ups over the R manuals: hit@5 82% alone, 98%
    with terms, 98% with SmolLM2's rewrite (its own used for 5 of 43, 0.84 s each), 100%
    rewritten by hand; correct or correctly quoted 34% / 57% / 55% / 59%."""

    context_tokens: int = 2048
    max_answer_tokens: int = 256
    temperature: float = 0.1
    threads: int | None = None
    sources_per_answer: int = 4
    """Sources an answer is checked against, quoted from and shown with (one per page)."""
    sources_in_prompt: int = 2
    """How many of them the model reads: reading the prompt is most of the time to the
    first token (4 sources: 3.9 s, 2: about 2 s, bench/answer_quality.py), and most
    answers the bundled models write are replaced by a quotation anyway."""
    source_excerpt_tokens: int = 0
    """With a number (96 was measured), the local model reads of each source only the
    sentences that bear most on the question (with the sentence after each), up to this
    many tokens; 0: whole sources. Reading the prompt is most of the time to the first
    token: 96 took it from 1.87 to 1.09 s (engine/answers/prompt.py,
    bench/answer_speed.py) with answer_quality within noise (correct or quoted 45 -> 44
    of 79, confidently wrong 3 -> 2, one run each). Off by default until more runs
    agree: with it, the model answered the test corpus's "Which badge do visitors
    wear?" with the other sentence of the same source ("Visitor badges are returned to
    the security desk..."), with greedy decoding every time. The checks and quotations
    use the whole sources either way."""

    inference_server_url: str = ""
    """An OpenAI-compatible server on the site's network (vLLM, llama.cpp's server, Ollama,
    TGI) that writes the answers and plain chats instead of the local model, e.g.
    http://gpu-box:8000/v1; "": the local model. `context_tokens` is then its model's."""
    inference_server_model: str = ""
    """The model name the server serves; "": the first one it lists."""
    inference_server_key: str = field(default="", repr=False)
    """The server's API key; "": the one kept in the library (or none)."""
    inference_server_timeout_s: float = 30.0
    """How long to wait for the server to connect and for each piece of an answer."""
    inference_server_fallback: bool = True
    """When the server cannot be reached or does not answer in time, the local model
    answers; False: the answer is a quotation of the passages, saying why."""

    answer_cache_entries: int = 256
    answer_cache_ttl_s: float = 3600.0
    query_cache_entries: int = 2048
    query_cache_ttl_s: float = 86400.0

    kdf_log2_n: int = 16
    """scrypt cost for passphrase-derived keys (2**16 * 128 * 8 bytes = 64 MiB)."""
