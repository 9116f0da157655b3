"""Embedding speed and quality: the bundled model as the int8 ONNX graph (the default)
against the same model in fp32 with sentence-transformers (the baseline), in one run.

Both run through the library's own facade (`service.answers.embed`) on the same texts,
on this machine's cores. Reported:
- throughput: passages per second embedding dbpedia-5k entries (ROUNDS alternating
  rounds of PASSAGES texts each, median), and the ratio int8 ÷ fp32;
- query latency: one short question at a time (median of QUERIES), as a search pays it;
- quality: nDCG@10 (standard formula, as bench/retrieval_quality.py) and recall@10 of
  dense retrieval alone (exact dot products, no index) over all 5,000 entries for the 40
  judged queries, for each; and how often both rank the same entry first.
Writes bench/results/embedding_speed.json.

    .venv/bin/python bench/embedding_speed.py [--dataset DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.common import open_service, write_results  # noqa: E402
from bench.retrieval_quality import load, score_query  # noqa: E402

MODELS = {"int8": "all-MiniLM-L6-v2-int8", "fp32": "all-MiniLM-L6-v2"}
ROUNDS, PASSAGES, QUERIES = 3, 1000, 100
DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dbpedia-5k"


def embed(service, texts: list[str]) -> np.ndarray:
    return np.concatenate([np.asarray(service.answers.embed(texts[i:i + 256]), np.float32)
                           for i in range(0, len(texts), 256)])  # the most one call takes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    args = parser.parse_args()
    corpus, queries, judgements = load(args.dataset)
    texts = [f"{entry['title']}. {entry['text']}" for entry in corpus]
    questions = [queries[q] for q in sorted(judgements)]

    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        services = {name: open_service(Path(tmp) / name, embedding_model=model)
                    for name, model in MODELS.items()}
        for service in services.values():
            service.answers.embed(["warm up"])
        seconds: dict[str, list[float]] = {name: [] for name in MODELS}
        for round_ in range(ROUNDS):  # alternating, so that noise falls on both
            batch = texts[round_ * PASSAGES:(round_ + 1) * PASSAGES]
            for name, service in services.items():
                started = time.perf_counter()
                embed(service, batch)
                seconds[name].append(time.perf_counter() - started)
        latency: dict[str, list[float]] = {name: [] for name in MODELS}
        for question in (questions * 3)[:QUERIES]:
            for name, service in services.items():
                started = time.perf_counter()
                service.answers.embed([question])
                latency[name].append(time.perf_counter() - started)

        results: dict = {"passages_per_round": PASSAGES, "rounds": ROUNDS, "models": MODELS}
        firsts = {}
        for name, service in services.items():
            documents, asked = embed(service, texts), embed(service, questions)
            ranked = np.argsort(-(asked @ documents.T), axis=1)[:, :10]
            firsts[name] = ranked[:, 0]
            scores = [score_query([corpus[i]["_id"] for i in row], judgements[q])
                      for row, q in zip(ranked, sorted(judgements))]
            results[name] = {
                "passages_per_s": round(PASSAGES / statistics.median(seconds[name]), 1),
                "round_s": [round(s, 2) for s in seconds[name]],
                "query_ms_p50": round(statistics.median(latency[name]) * 1000, 2),
                "ndcg10": round(statistics.mean(s["ndcg10"] for s in scores), 4),
                "recall10": round(statistics.mean(s["recall10"] for s in scores), 4),
            }
            service.close()
    results["speedup"] = round(results["int8"]["passages_per_s"]
                               / results["fp32"]["passages_per_s"], 2)
    results["query_speedup"] = round(results["fp32"]["query_ms_p50"]
                                     / results["int8"]["query_ms_p50"], 2)
    results["ndcg10_difference"] = round(results["int8"]["ndcg10"] - results["fp32"]["ndcg10"], 4)
    results["same_first_hit"] = round(float(np.mean(firsts["int8"] == firsts["fp32"])), 3)
    write_results("embedding_speed", results)
    for name in MODELS:
        r = results[name]
        print(f"{name}: {r['passages_per_s']:>7.1f} passages/s  query {r['query_ms_p50']:>6.2f} ms"
              f"  nDCG@10 {r['ndcg10']:.4f}  recall@10 {r['recall10']:.4f}")
    print(f"int8 ÷ fp32: {results['speedup']}x passages, {results['query_speedup']}x queries; "
          f"nDCG@10 {results['ndcg10_difference']:+.4f}; same first hit "
          f"{results['same_first_hit']:.0%}")


if __name__ == "__main__":
    main()
