"""Search in-process as the library grows: latency percentiles and resident memory at
10,000 and 100,000 chunks (1,000,000 with --large), warm, one client, caches off.

Each library is bench/synthetic_library.py's: R-intro, R-data and R-lang ingested for
real, then copied (each copy's vectors moved by a little noise) until it holds the size;
so at 1M the text is the manuals' text repeated and the vectors are synthetic, near
copies of real ones. Libraries are kept in bench/.cache/ (the 100k one is
bench/api_load.py's).

Every one of bench/questions.jsonl's questions is searched (k=5) in rounds, each round
once with the full-text side bounded (`bm25_postings`, the default) and once unbounded
(the baseline: what search did before), alternating (and in turned order every other
round) so that the machine's drift and a cold start fall on both. Reported: p50 and p95 of the whole search, the median of its query embedding,
and the process's resident memory with the library open and searched (the default
settings, before the baseline's service is made).

    .venv/bin/python bench/search_scale.py [--large]
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import synthetic_library  # noqa: E402
from bench.api_load import CACHE as CACHE_100K  # noqa: E402
from bench.common import R_MANUALS, open_service, write_results  # noqa: E402

SIZES = (10_000, 100_000)
LARGE = 1_000_000
ROUNDS = 3
QUESTIONS = [json.loads(line)["question"] for line in
             (Path(__file__).parent / "questions.jsonl").read_text().splitlines()
             if line.strip()]
CONFIGS = {"bounded": {}, "unbounded": {"bm25_postings": None}}


def library(size: int) -> Path:
    data_dir = (CACHE_100K if size == 100_000 else
                Path(__file__).parent / ".cache" / f"search-{size // 1000}k") / "data"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    synthetic_library.build(
        data_dir, [R_MANUALS / n for n in ("R-intro.pdf", "R-data.pdf", "R-lang.pdf")], size)
    return data_dir


def resident_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2)}


def measure(size: int) -> dict:
    data_dir = library(size)
    service = open_service(data_dir, query_cache_ttl_s=0, answer_cache_ttl_s=0)
    chunks = service.health.status()["chunks"]
    totals: dict[str, list[float]] = {name: [] for name in CONFIGS}
    embeds: list[float] = []
    memory = None
    try:
        base = service.config
        for round_ in range(ROUNDS):  # the order turns each round: a cold start hits both
            for name, settings in (list(CONFIGS.items()) if round_ % 2 == 0
                                   else list(CONFIGS.items())[::-1]):
                config = dataclasses.replace(base, **settings)
                if config != service.config:
                    service = service.reconfigured(config)
                service.answers.search("warm up", 5)
                for question in QUESTIONS:
                    timings: dict[str, float] = {}
                    started = time.perf_counter()
                    service.answers.search(question, 5, timings=timings)
                    totals[name].append(time.perf_counter() - started)
                    embeds.append(timings["embed_query"])
                memory = memory or resident_mb()  # the default's, before any other
    finally:
        service.close()
    result = {"chunks": chunks, "searches_each": len(totals["bounded"]),
              "embed_query_median_ms": round(statistics.median(embeds) * 1000, 2),
              "resident_mb": round(memory)}
    for name, seconds in totals.items():
        result[name] = percentiles(seconds)
    result["p50_ratio"] = round(result["bounded"]["p50_ms"] / result["unbounded"]["p50_ms"], 2)
    return result


def main() -> None:
    if "--size" in sys.argv:  # one size, in a process of its own (its memory alone)
        print(json.dumps(measure(int(sys.argv[sys.argv.index("--size") + 1]))))
        return
    sizes = (*SIZES, LARGE) if "--large" in sys.argv else SIZES
    results = [json.loads(subprocess.run(
        [sys.executable, __file__, "--size", str(size)], check=True, capture_output=True,
        text=True).stdout.splitlines()[-1]) for size in sizes]
    write_results("search_scale", {
        "rounds": ROUNDS, "questions": len(QUESTIONS),
        "note": "k=5, caches off, one client, each size in a process of its own; bounded "
                "is the default (bm25_postings), unbounded the full-text side as before",
        "sizes": results})


if __name__ == "__main__":
    main()
