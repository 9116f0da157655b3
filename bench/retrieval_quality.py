"""Retrieval quality on ../shared/datasets/dbpedia-5k: BM25, dense and fused rankings.

Each corpus entry is written as a text file ("title" then the text) and ingested through
the real pipeline; then the 40 judged queries run through the real retriever with each
fusion. Reported per fusion: nDCG@10 by the standard formula (ideal DCG over all judged
documents, linear gains as pytrec_eval), nDCG@10 by the leaderboard's formula (ideal DCG
over the retrieved list) and recall@10. A second, small set checks the same fusions on
technical questions: the answerable questions of questions.jsonl against R-intro.pdf,
scored by whether the page that answers is among the top 5 (hit@5) and by its
reciprocal rank. Writes bench/results/retrieval_quality.json.

    .venv/bin/python bench/retrieval_quality.py [--dataset DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.common import R_MANUALS, open_service, write_results  # noqa: E402

DATASET = Path(__file__).parents[2] / "shared" / "datasets" / "dbpedia-5k"
WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9)
FUSIONS = {"bm25": ("bm25", 0.0), "dense": ("dense", 1.0), "rrf": ("rrf", 0.0),
           **{f"weighted-{w}": ("weighted", w) for w in WEIGHTS}}
QUESTIONS = Path(__file__).parent / "questions.jsonl"


def dcg(gains: list[float]) -> float:
    return sum(g / math.log2(rank + 2) for rank, g in enumerate(gains))


def score_query(ranked: list[str], judged: dict[str, int]) -> dict[str, float]:
    gains = [judged.get(doc, 0) for doc in ranked[:10]]
    ideal_all = dcg(sorted(judged.values(), reverse=True)[:10])
    ideal_retrieved = dcg(sorted(gains, reverse=True))
    relevant = {doc for doc, rel in judged.items() if rel > 0}
    return {
        "ndcg10": dcg(gains) / ideal_all if ideal_all else 0.0,
        "ndcg10_leaderboard": dcg(gains) / ideal_retrieved if ideal_retrieved else 0.0,
        "recall10": len(relevant & set(ranked[:10])) / len(relevant) if relevant else 0.0,
    }


def load(dataset: Path):
    corpus = [json.loads(line) for line in (dataset / "corpus.jsonl").open()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (dataset / "queries.jsonl").open())}
    judgements: dict[str, dict[str, int]] = defaultdict(dict)
    with (dataset / "qrels" / "test.tsv").open() as f:
        for row in csv.DictReader(f, delimiter="\t"):
            judgements[row["query-id"]][row["corpus-id"]] = int(row["score"])
    return corpus, queries, judgements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    args = parser.parse_args()
    corpus, queries, judgements = load(args.dataset)
    from engine.retriever import HybridRetriever

    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        file_to_id = {}
        for number, entry in enumerate(corpus):
            name = f"{number:05d}-{re.sub(r'[^A-Za-z0-9]+', '_', entry['title'])[:60]}.txt"
            (folder / name).write_text(f"{entry['title']}\n\n{entry['text']}")
            file_to_id[name] = entry["_id"]
        service = open_service(Path(tmp) / "data")
        started = time.monotonic()
        report = service.ingest([folder])
        print(f"ingested {len(report.ingested)} documents, {report.chunks} chunks "
              f"in {time.monotonic() - started:.0f}s; {len(report.failed)} failed")

        results = {}
        judged = [q for q in judgements if q in queries]
        for label, (fusion, weight) in FUSIONS.items():
            retriever = HybridRetriever(service.vault, service.index, service.embedder,
                                        service.config.retrieval_candidates, weight, fusion)
            per_query = []
            for query_id in judged:
                hits = retriever.search(queries[query_id], k=30)
                ranked = list(dict.fromkeys(file_to_id[h.document] for h in hits))
                per_query.append(score_query(ranked, judgements[query_id]))
            results[label] = {metric: round(sum(q[metric] for q in per_query) / len(per_query), 4)
                              for metric in per_query[0]}
        service.close()

    technical = r_manual_pages()
    print(f"\n{'ranking':<16}{'nDCG@10':>9}{'nDCG@10 (leaderboard)':>23}{'recall@10':>11}"
          f"{'R-intro hit@5':>15}{'R-intro MRR':>13}")
    for label, r in results.items():
        t = technical[label]
        print(f"{label:<16}{r['ndcg10']:>9.3f}{r['ndcg10_leaderboard']:>23.3f}{r['recall10']:>11.3f}"
              f"{t['hit5']:>15.3f}{t['mrr']:>13.3f}")
    write_results("retrieval_quality", {"dataset": args.dataset.name, "queries": len(judged),
                                        "chunks": report.chunks, "results": results,
                                        "r_intro_questions": technical})


def r_manual_pages() -> dict[str, dict[str, float]]:
    """hit@5 and MRR of the answering page for the R-intro questions, per fusion."""
    from engine.retriever import HybridRetriever

    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    items = [item for item in items if not item.get("unanswerable")]
    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        service = open_service(Path(tmp))
        service.ingest([R_MANUALS / "R-intro.pdf"])
        results = {}
        for label, (fusion, weight) in FUSIONS.items():
            retriever = HybridRetriever(service.vault, service.index, service.embedder,
                                        service.config.retrieval_candidates, weight, fusion)
            ranks = []
            for item in items:
                pages = [h.page for h in retriever.search(item["question"], k=10)]
                ranks.append(next((r for r, page in enumerate(pages, 1)
                                   if page in item["pages"]), None))
            results[label] = {
                "hit5": round(sum(1 for r in ranks if r and r <= 5) / len(ranks), 3),
                "mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 3)}
        service.close()
    return results


if __name__ == "__main__":
    main()
