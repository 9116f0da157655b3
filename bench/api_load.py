"""Load on the LAN API over loopback: QPS and latency percentiles of /v1/search at 1, 8,
32 and 64 concurrent clients on an index of over 100,000 chunks, and of /v1/query with
the default model.

The library: R-intro, R-data and R-lang ingested for real, then copied (documents and
chunks, each copy's vectors moved by a little noise so that no two are equal) until it
holds 100,000+ chunks; the HNSW index is built from those vectors when the service
opens. It is kept in bench/.cache/ for later runs. The server is `enclave serve` in its
own process; the clients are httpx on asyncio in this one. Baselines in the same run:
GET /health at the same concurrency (the HTTP stack alone) and the engine's search
called in-process (no HTTP), with its stages. Caches are off: the questions repeat.
Each level runs for LEVEL_SECONDS (bounded count and time).

    .venv/bin/python bench/api_load.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import PASSPHRASE, R_MANUALS, open_service, write_results  # noqa: E402

CACHE = Path(__file__).parent / ".cache" / "api-load-100k"
TARGET_CHUNKS = 100_000
LEVELS = (1, 8, 32, 64)
LEVEL_SECONDS = 15.0
MAX_REQUESTS = 5000
QUERY_REQUESTS = 8
QUERIES = [json.loads(line)["question"] for line in
           (Path(__file__).parent / "questions.jsonl").read_text().splitlines() if line.strip()]


def build_library(data_dir: Path) -> int:
    """The 100k-chunk library; returns its chunk count."""
    from engine.retrieval import textsearch
    from engine.store.catalogue import bump_generation

    service = open_service(data_dir)
    try:
        chunks = service.vault.scalar("SELECT count(*) FROM chunks")
        if chunks >= TARGET_CHUNKS:
            return chunks
        service.ingest([R_MANUALS / n for n in ("R-intro.pdf", "R-data.pdf", "R-lang.pdf")])
        documents = service.vault.rows("SELECT id, collection_id, path, name, kind, sha256, size, "
                                       "mtime, pages, page_offsets, text, embedding_model, "
                                       "ingested_at FROM documents")
        base = service.vault.rows("SELECT document_id, ordinal, text, heading, page_start, "
                                  "page_end, char_start, char_end, tokens, vector FROM chunks")
        rng = np.random.default_rng(7)
        copy = 0
        while service.vault.scalar("SELECT count(*) FROM chunks") < TARGET_CHUNKS:
            copy += 1
            with service.vault.transaction() as conn:
                new_ids = {}
                for doc in documents:
                    new_ids[doc[0]] = conn.execute(
                        "INSERT INTO documents(collection_id, path, name, kind, sha256, size, mtime,"
                        " pages, page_offsets, text, embedding_model, ingested_at) "
                        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                        (doc[1], f"{doc[2]}#copy{copy}", f"{doc[3]} (copy {copy})", *doc[4:])).lastrowid
                for row in base:
                    vector = np.frombuffer(row[9], dtype=np.float32)
                    vector = vector + rng.normal(0, 0.02, vector.shape).astype(np.float32)
                    vector /= np.linalg.norm(vector)
                    chunk_id = conn.execute(
                        "INSERT INTO chunks(document_id, ordinal, text, heading, page_start, "
                        "page_end, char_start, char_end, tokens, vector) VALUES(?,?,?,?,?,?,?,?,?,?)",
                        (new_ids[row[0]], *row[1:9], vector.tobytes())).lastrowid
                    conn.execute("INSERT INTO chunks_fts(rowid, terms) VALUES(?, ?)",
                                 (chunk_id, textsearch.index_terms(row[2])))
                bump_generation(conn)
        return service.vault.scalar("SELECT count(*) FROM chunks")
    finally:
        service.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def load(url: str, key: str, path: str, concurrency: int, seconds: float,
               body=None, max_requests: int = MAX_REQUESTS) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"},
                                 limits=limits, timeout=120) as client:
        async def worker(n: int) -> None:
            nonlocal errors
            i = n
            while time.monotonic() < deadline and len(latencies) + errors < max_requests:
                started = time.perf_counter()
                if body is None:
                    response = await client.get(path)
                else:
                    response = await client.post(path, json=body(i))
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1
                i += concurrency

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.monotonic() - started
    return summary(latencies, errors, elapsed, concurrency)


def summary(latencies: list[float], errors: int, elapsed: float, concurrency: int) -> dict:
    ordered = sorted(latencies) or [float("nan")]

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    return {"concurrency": concurrency, "requests": len(latencies), "errors": errors,
            "seconds": round(elapsed, 1), "qps": round(len(latencies) / elapsed, 1),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99)}


def main() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    data_dir = CACHE / "data"
    t = time.monotonic()
    chunks = build_library(data_dir)
    print(f"library: {chunks} chunks ({time.monotonic() - t:.0f} s to build or check)")

    # builds the index if needed; in-process baseline. No cache: the 22 questions repeat,
    # and cached query vectors would hide the embedding a real workload pays.
    service = open_service(data_dir, query_cache_ttl_s=0, answer_cache_ttl_s=0)
    try:
        service.search("warm up", 5)

        def median_ms(call) -> float:
            times = []
            for i in range(200):
                started = time.perf_counter()
                call(QUERIES[i % len(QUERIES)])
                times.append(time.perf_counter() - started)
            return round(statistics.median(times) * 1000, 2)

        vector = service.embedder.embed_query(QUERIES[0])
        stages = {"search": median_ms(lambda q: service.search(q, 5)),
                  "embed_query": median_ms(service.embedder.embed_query),
                  "bm25": median_ms(lambda q: service.retriever.bm25(q, 50, ("", ()))),
                  "hnsw": median_ms(lambda q: service.index.search(vector, 50, None))}
        print(f"in-process medians, ms: {stages}")
        key = service.api_keys.create(f"bench-{int(time.time())}", "read-only")[1]
        vectors = len(service.index)
    finally:
        service.close()

    port = free_port()
    env = {**os.environ, "ENCLAVE_PASSPHRASE": PASSPHRASE, "ENCLAVE_KEY_SOURCE": "passphrase",
           "ENCLAVE_API_REQUESTS_PER_MINUTE": "100000", "ENCLAVE_API_QUEUE_LENGTH": "64",
           "ENCLAVE_API_CONCURRENT_GENERATIONS": "64", "HF_HUB_OFFLINE": "1",
           "ENCLAVE_QUERY_CACHE_TTL_S": "0", "ENCLAVE_ANSWER_CACHE_TTL_S": "0"}
    server = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data_dir), "serve",
                               "--port", str(port)], env=env, stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parent.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        server.stdout.readline()
        import httpx

        for _ in range(600):  # wait until the models are loaded
            try:
                ready = httpx.get(f"{url}/ready", headers={"Authorization": f"Bearer {key}"})
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        rng = random.Random(1)

        def search_body(i: int) -> dict:
            return {"query": QUERIES[rng.randrange(len(QUERIES))], "k": 5}

        results = {"search": [], "health": [], "query": []}
        for level in LEVELS:
            asyncio.run(load(url, key, "/v1/search", level, 2, search_body))  # warm
            results["search"].append(asyncio.run(
                load(url, key, "/v1/search", level, LEVEL_SECONDS, search_body)))
            results["health"].append(asyncio.run(load(url, key, "/health", level, 5)))
            print("search", results["search"][-1], "\nhealth", results["health"][-1])
        for level in (1, 4):
            def query_body(i: int) -> dict:
                return {"question": QUERIES[i % len(QUERIES)]}
            started = time.monotonic()
            result = asyncio.run(load(url, key, "/v1/query", level, 600, query_body,
                                      QUERY_REQUESTS))
            results["query"].append(result)
            print("query", result, f"{time.monotonic() - started:.0f} s")
    finally:
        server.terminate()
        server.wait(30)
    write_results("api_load", {
        "chunks": chunks, "index_vectors": vectors,
        "in_process_median_ms": stages,
        "level_seconds": LEVEL_SECONDS, **results})


if __name__ == "__main__":
    main()
