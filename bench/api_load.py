"""Load on the LAN API over loopback: QPS and latency percentiles of /v1/search at 1, 8,
32 and 64 concurrent clients on an index of over 100,000 chunks, and of /v1/query with
the default model.

The library: R-intro, R-data and R-lang ingested for real, then copied (documents and
chunks, each copy's vectors moved by a little noise so that no two are equal) until it
holds 100,000+ chunks (bench/synthetic_library.py); the HNSW index is built from those
vectors when the service opens. It is kept in bench/.cache/ for later runs. The server
is `enclave serve` in its own process; the clients are httpx on asyncio in this one.
Baselines in the same run: GET /health at the same concurrency (the HTTP stack alone)
and the engine's search called in-process (no HTTP, `service.answers.search`), with the
stages it reports (the query's embedding) and searches with one side only (fusion
"dense", fusion "bm25"). Caches are off: the questions repeat. Each level runs for
LEVEL_SECONDS (bounded count and time).

Then `enclave serve --workers N` at 1, 2 and 4 workers (searches in N processes of their
own) at 32 clients, each with /health beside it and the resident memory of the server
and its workers together. `--workers-only` runs only that part and keeps the rest of
the last results.

    .venv/bin/python bench/api_load.py [--workers-only]
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import synthetic_library  # noqa: E402
from bench.common import (PASSPHRASE, R_MANUALS, RESULTS, open_service,  # noqa: E402
                          write_results)

CACHE = Path(__file__).parent / ".cache" / "api-load-100k"
TARGET_CHUNKS = 100_000
LEVELS = (1, 8, 32, 64)
LEVEL_SECONDS = 15.0
MAX_REQUESTS = 5000
WORKER_COUNTS = (1, 2, 4)
WORKERS_CLIENTS = 32
QUERY_REQUESTS = 8
STAGES_NOTE = (
    "Through the public service only: search (k=5) and the one stage its timings report, "
    "embed_query; after_embed is the rest (HNSW, full-text search and ranking). bm25 and "
    "hnsw alone (measured before) are no longer reachable; instead dense_only_after_embed "
    "and bm25_only_after_embed are the rest of a search with fusion 'dense' (HNSW, no "
    "full-text search) and 'bm25' (full-text search, no HNSW), each still reading and "
    "ranking its candidates.")
QUERIES = [json.loads(line)["question"] for line in
           (Path(__file__).parent / "questions.jsonl").read_text().splitlines() if line.strip()]


def build_library(data_dir: Path) -> int:
    """The 100k-chunk library; returns its chunk count."""
    return synthetic_library.build(
        data_dir, [R_MANUALS / n for n in ("R-intro.pdf", "R-data.pdf", "R-lang.pdf")],
        TARGET_CHUNKS)


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


def timed_searches(service, runs: int = 200) -> dict[str, float]:
    """Medians in ms of `runs` in-process searches (k=5): "total", "embed_query" (the
    stage the search reports) and "after_embed" (the rest: HNSW, full text, ranking)."""
    times: dict[str, list[float]] = {"total": [], "embed_query": [], "after_embed": []}
    for i in range(runs):
        timings: dict[str, float] = {}
        started = time.perf_counter()
        service.answers.search(QUERIES[i % len(QUERIES)], 5, timings=timings)
        total = time.perf_counter() - started
        times["total"].append(total)
        times["embed_query"].append(timings["embed_query"])
        times["after_embed"].append(total - timings["embed_query"])
    return {name: round(statistics.median(values) * 1000, 2)
            for name, values in times.items()}


def resident_mb(pid: int) -> int:
    """Resident memory of a process and its children (the search workers), in MB."""
    import psutil

    process = psutil.Process(pid)
    return round(sum(p.memory_info().rss for p in [process, *process.children(True)]) / 1e6)


@contextlib.contextmanager
def serving(data_dir: Path, key: str, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen]]:
    """`enclave serve --workers N` on a free port, once ready (models and workers)."""
    import httpx

    port = free_port()
    env = {**os.environ, "ENCLAVE_PASSPHRASE": PASSPHRASE, "ENCLAVE_KEY_SOURCE": "passphrase",
           "ENCLAVE_API_REQUESTS_PER_MINUTE": "100000", "ENCLAVE_API_QUEUE_LENGTH": "64",
           "ENCLAVE_API_CONCURRENT_GENERATIONS": "64", "HF_HUB_OFFLINE": "1",
           "ENCLAVE_QUERY_CACHE_TTL_S": "0", "ENCLAVE_ANSWER_CACHE_TTL_S": "0"}
    server = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data_dir), "serve",
                               "--port", str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parent.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        server.stdout.readline()
        for _ in range(1200):  # until the models are loaded and the workers take searches
            try:
                ready = httpx.get(f"{url}/ready", headers={"Authorization": f"Bearer {key}"})
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        yield url, server
    finally:
        server.terminate()
        server.wait(30)


def main(workers_only: bool) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    data_dir = CACHE / "data"
    t = time.monotonic()
    chunks = build_library(data_dir)
    print(f"library: {chunks} chunks ({time.monotonic() - t:.0f} s to build or check)")

    # builds the index if needed; in-process baseline. No cache: the 22 questions repeat,
    # and cached query vectors would hide the embedding a real workload pays.
    service = open_service(data_dir, query_cache_ttl_s=0, answer_cache_ttl_s=0)
    try:
        service.answers.search("warm up", 5)
        if not workers_only:
            medians = timed_searches(service)
            stages = {"search": medians["total"], "embed_query": medians["embed_query"],
                      "after_embed": medians["after_embed"]}
            for fusion in ("dense", "bm25"):  # one side only: the other's stage left out
                service = service.reconfigured(dataclasses.replace(service.config,
                                                                   fusion=fusion))
                stages[f"{fusion}_only_after_embed"] = timed_searches(service)["after_embed"]
            print(f"in-process medians, ms: {stages}")
        key = service.access.create_key(f"bench-{int(time.time())}", "read-only")[1]
        vectors = service.health.readiness()["index_vectors"]
    finally:
        service.close()

    results: dict[str, list] = {"search": [], "health": [], "query": [], "workers": []}
    rng = random.Random(1)

    def search_body(i: int) -> dict:
        return {"query": QUERIES[rng.randrange(len(QUERIES))], "k": 5}

    with serving(data_dir, key) if not workers_only else contextlib.nullcontext(
            (None, None)) as (url, _server):
        for level in LEVELS if not workers_only else ():
            asyncio.run(load(url, key, "/v1/search", level, 2, search_body))  # warm
            results["search"].append(asyncio.run(
                load(url, key, "/v1/search", level, LEVEL_SECONDS, search_body)))
            results["health"].append(asyncio.run(load(url, key, "/health", level, 5)))
            print("search", results["search"][-1], "\nhealth", results["health"][-1])
        for level in (1, 4) if not workers_only else ():
            def query_body(i: int) -> dict:
                return {"question": QUERIES[i % len(QUERIES)]}
            started = time.monotonic()
            result = asyncio.run(load(url, key, "/v1/query", level, 600, query_body,
                                      QUERY_REQUESTS))
            results["query"].append(result)
            print("query", result, f"{time.monotonic() - started:.0f} s")
    for workers in WORKER_COUNTS:  # `enclave serve --workers N`, at WORKERS_CLIENTS
        with serving(data_dir, key, workers) as (url, server):
            asyncio.run(load(url, key, "/v1/search", WORKERS_CLIENTS, 2, search_body))
            search = asyncio.run(load(url, key, "/v1/search", WORKERS_CLIENTS, LEVEL_SECONDS,
                                      search_body))
            health = asyncio.run(load(url, key, "/health", WORKERS_CLIENTS, 5))
            results["workers"].append({"workers": workers, "search": search, "health": health,
                                       "resident_mb": resident_mb(server.pid)})
            print("workers", results["workers"][-1])
    if workers_only:  # the rest as the last full run left it
        kept = json.loads((RESULTS / "api_load.json").read_text())
        kept.pop("machine")
        write_results("api_load", {**kept, "workers": results["workers"]})
        return
    write_results("api_load", {
        "chunks": chunks, "index_vectors": vectors,
        "in_process_median_ms": stages, "in_process_note": STAGES_NOTE,
        "level_seconds": LEVEL_SECONDS, **results})


if __name__ == "__main__":
    main(workers_only="--workers-only" in sys.argv[1:])
