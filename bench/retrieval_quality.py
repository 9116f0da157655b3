"""Retrieval quality: entity search (dbpedia-5k), technical questions (the R manuals) and
exact rare markers, for each way of ranking.

1. dbpedia-5k: each corpus entry is written as a text file ("title" then the text) and
   ingested through the real pipeline; the 40 judged queries run through the real
   retriever. Reported: nDCG@10 by the standard formula (ideal DCG over all judged
   documents, linear gains as pytrec_eval), nDCG@10 by the leaderboard's formula (ideal
   DCG over the retrieved list) and recall@10.
2. Exact rare markers: before ingest, MARKERS random dbpedia entries each get a made-up
   token ("ZQX-4471") after their first sentence; the query is the token and a few words
   the entry does not contain, either generic ("ZQX-4471 details and description") or
   of another topic ("ZQX-4471 early life and career"), which pulls the embedding to
   other entries. Reported: how often the marked entry comes first, for each.
3. R manuals: the answerable questions of questions.jsonl against the manuals they name
   (R-intro.pdf, R-data.pdf), scored by whether the page that answers is among the top 5
   (hit@5) and by its reciprocal rank (MRR), for all questions and per "split".

Rankings: each side alone ("dense", "bm25"), the former default (dense weight 0.9) and
the other weights, reciprocal rank fusion, the default ("evidence", see
EngineConfig.fusion), and the default with other term weights (0 leaves only the exact
phrases first). Each is the library's own search (`service.answers.search`) under other
settings: `service.reconfigured` with another EngineConfig, over the same open vault and
loaded embedder. ("evidence-nav-off", the default without navigation chunks moved last,
is no longer measured: that is not a setting of EngineConfig.)
Writes bench/results/retrieval_quality.json.

    .venv/bin/python bench/retrieval_quality.py [--dataset DIR] [--data-dir DIR]

--data-dir keeps the ingested vaults there and reuses them on the next run.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import json
import math
import random
import re
import string
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.common import R_MANUALS, open_service, write_results  # noqa: E402

DATASET = Path(__file__).parents[2] / "shared" / "datasets" / "dbpedia-5k"
QUESTIONS = Path(__file__).parent / "questions.jsonl"
WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9)
# label -> EngineConfig settings (the rest as the library was opened with)
RANKINGS: dict[str, dict] = {
    "dense": {"fusion": "dense"}, "bm25": {"fusion": "bm25"}, "rrf": {"fusion": "rrf"},
    **{f"weighted-{w}": {"fusion": "weighted", "dense_weight": w} for w in WEIGHTS},
    "evidence": {"fusion": "evidence"},
    # how much the default's one weight matters
    **{f"evidence-terms-{w}": {"fusion": "evidence", "term_weight": w}
       for w in (0.0, 0.1, 0.2, 0.3, 0.4)},
}
# measured before, no longer reachable through the engine's public surface
DROPPED = {"evidence-nav-off": "navigation chunks always rank last: navigation_last is not "
                               "an EngineConfig setting"}
MARKERS = 20
MARKER_SEED = 20260101
# A marker query is the token and a few words of context that its entry does not hold:
# generic words (the user's own phrasing) or the words of another topic, which pull the
# embedding towards other entries (the harder case).
GENERIC_CONTEXTS = (
    "details and description", "more information about it", "summary of the entry",
    "general overview and facts", "what is known about this", "background notes",
    "reference record details", "short description please", "facts and figures",
    "where is this mentioned", "notes and remarks", "full record",
)
TOPICAL_CONTEXTS = (
    "early life and career", "history of the town", "album and its track listing",
    "species found in the region", "football club season", "river flowing through the valley",
    "television series episode", "university founded in the city", "church built in the century",
    "election results of the party", "novel written by the author", "railway station opened",
)


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


def plant_markers(corpus: list[dict], count: int = MARKERS, seed: int = MARKER_SEED
                  ) -> dict[str, list[tuple[str, str]]]:
    """Put a made-up token into `count` random entries (in place); returns, for generic
    and for topical context, (entry id, query) pairs."""
    rng, contexts = random.Random(seed), random.Random(seed + 1)
    planted: dict[str, list[tuple[str, str]]] = {"generic": [], "topical": []}
    for index in rng.sample(range(len(corpus)), count):
        entry = corpus[index]
        token = "".join(rng.choices(string.ascii_uppercase, k=3)) + f"-{rng.randint(1000, 9999)}"
        words = set(re.findall(r"\w+", entry["text"].lower()))
        for kind, choices in (("generic", GENERIC_CONTEXTS), ("topical", TOPICAL_CONTEXTS)):
            context = contexts.choice([c for c in choices
                                       if not words & {w for w in c.split() if len(w) > 3}])
            planted[kind].append((entry["_id"], f"{token} {context}"))
        cut = entry["text"].find(". ") + 1 or len(entry["text"])
        entry["text"] = f"{entry['text'][:cut]} Reference {token}.{entry['text'][cut:]}"
    return planted


def rankings(service):
    """(label, service searching with that ranking) for each of RANKINGS. Each service is
    `reconfigured` from the one before, over the same open vault and loaded embedder (only
    the latest may be used); the last one is closed at the end."""
    base = service.config
    try:
        for label, settings in RANKINGS.items():
            service = service.reconfigured(dataclasses.replace(base, **settings))
            yield label, service
    finally:
        service.close()


def ingest_dbpedia(dataset: Path, data_dir: Path):
    """The corpus, with its markers, ingested in data_dir: (service, file name -> entry id,
    queries, judgements, markers)."""
    corpus, queries, judgements = load(dataset)
    markers = plant_markers(corpus)
    folder = data_dir / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    file_to_id = {}
    for number, entry in enumerate(corpus):
        name = f"{number:05d}-{re.sub(r'[^A-Za-z0-9]+', '_', entry['title'])[:60]}.txt"
        path = folder / name
        text = f"{entry['title']}\n\n{entry['text']}"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        file_to_id[name] = entry["_id"]
    service = open_service(data_dir / "vault")
    started = time.monotonic()
    report = service.library.ingest([folder])
    print(f"dbpedia: {len(report.ingested)} documents ingested, {len(report.skipped)} "
          f"unchanged, in {time.monotonic() - started:.0f}s; {len(report.failed)} failed")
    return service, file_to_id, queries, judgements, markers


def dbpedia(dataset: Path, data_dir: Path) -> dict:
    service, file_to_id, queries, judgements, markers = ingest_dbpedia(dataset, data_dir)
    judged = [q for q in judgements if q in queries]
    chunks = service.health.status()["chunks"]
    results = {}
    for label, ranked_service in rankings(service):
        search = ranked_service.answers.search
        per_query = []
        for query_id in judged:
            hits = search(queries[query_id], k=30)
            ranked = list(dict.fromkeys(file_to_id[h.document] for h in hits))
            per_query.append(score_query(ranked, judgements[query_id]))
        results[label] = {metric: round(sum(q[metric] for q in per_query) / len(per_query), 4)
                          for metric in per_query[0]}
        for kind, planted in markers.items():
            firsts = sum(file_to_id[hits[0].document] == entry_id if hits else False
                         for entry_id, query in planted
                         for hits in [search(query, k=1)])
            results[label][f"marker_first_{kind}"] = round(firsts / len(planted), 3)
    return {"queries": len(judged), "chunks": chunks,
            "marker_queries": {kind: [q for _, q in planted] for kind, planted in markers.items()},
            "results": results}


def ingest_r_manuals(items: list[dict], data_dir: Path):
    """The manuals the questions name, ingested in data_dir: (service, their names)."""
    documents = sorted({item.get("document", "R-intro.pdf") for item in items})
    service = open_service(data_dir)
    service.library.ingest([R_MANUALS / name for name in documents])
    return service, documents


def load_questions() -> list[dict]:
    """The answerable questions of questions.jsonl."""
    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [item for item in items if not item.get("unanswerable")]


def r_manuals(data_dir: Path) -> dict:
    """hit@5 and MRR of the answering page, per ranking, for all questions and per split."""
    items = load_questions()
    service, documents = ingest_r_manuals(items, data_dir)
    splits = sorted({item.get("split", "all") for item in items} | {"all"})
    results = {}
    for label, ranked_service in rankings(service):
        ranks = defaultdict(list)
        for item in items:
            hits = ranked_service.answers.search(item["question"], k=10)
            rank = next((r for r, h in enumerate(hits, 1)
                         if h.page in item["pages"]
                         and h.document == item.get("document", "R-intro.pdf")), None)
            for split in {"all", item.get("split", "all")}:
                ranks[split].append(rank)
        results[label] = {split: {
            "hit5": round(sum(1 for r in ranks[split] if r and r <= 5) / len(ranks[split]), 3),
            "mrr": round(sum(1 / r for r in ranks[split] if r) / len(ranks[split]), 3),
            "questions": len(ranks[split])} for split in splits}
    return {"documents": documents, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--data-dir", type=Path, help="keep the ingested vaults here")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        root = args.data_dir or Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="enclave-bench-")))
        entities = dbpedia(args.dataset, root / "dbpedia")
        technical = r_manuals(root / "r-manuals")
    splits = [s for s in next(iter(technical["results"].values())) if s != "all"]
    header = (f"{'ranking':<18}{'nDCG@10':>8}{'(leaderb.)':>11}{'R@10':>7}{'marker@1':>9}"
              f"{'(topical)':>10}")
    header += "".join(f"{'hit@5 ' + s:>12}{'MRR ' + s:>10}" for s in ["all", *splits])
    print("\n" + header)
    for label, r in entities["results"].items():
        line = (f"{label:<18}{r['ndcg10']:>8.3f}{r['ndcg10_leaderboard']:>11.3f}"
                f"{r['recall10']:>7.3f}{r['marker_first_generic']:>9.2f}"
                f"{r['marker_first_topical']:>10.2f}")
        for split in ["all", *splits]:
            t = technical["results"][label][split]
            line += f"{t['hit5']:>12.3f}{t['mrr']:>10.3f}"
        print(line)
    write_results("retrieval_quality", {"dataset": args.dataset.name, **entities,
                                        "r_manual_questions": technical,
                                        "rankings_not_measured": DROPPED})


if __name__ == "__main__":
    main()
