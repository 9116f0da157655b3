"""Answer quality on our own question set over the R manuals, for the default
configuration and for each of its parts switched off.

Ingests R-intro.pdf and R-data.pdf (Debian's r-doc-pdf), then asks every question of
questions.jsonl (answerable ones with the phrase a right answer contains and the page
that holds it; off-topic ones) through `service.answers.ask`. Per configuration:

- hit@k: the answering page (+-1) is among the sources the answer was given;
- correct: an answer (kind "answer") containing an expected phrase;
- correctly quoted: a quotation (kind "quote") containing one;
- confidently wrong: an answer (not a quote, not a refusal) without one;
- quoted, false refusals (answerable questions refused), off-topic refused, and the
  gate's precision and recall for refusing off-topic questions;
- median time to the first text shown (after its sentence was checked), to the model's
  first token (what unchecked streaming would show), and to the whole answer.

Figures are given for all questions and for the "dev" and "test" splits apart (the
gate's thresholds were chosen on dev). Writes bench/results/answer_quality.json.

    .venv/bin/python bench/answer_quality.py [--configs default no-check ...] [--model M]
    .venv/bin/python bench/answer_quality.py --signals   # gate signals only, no model
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.common import R_MANUALS, open_service, write_results  # noqa: E402

QUESTIONS = Path(__file__).parent / "questions.jsonl"
DOCUMENTS = ("R-intro.pdf", "R-data.pdf")
# Each part of the default switched off in turn (EngineConfig fields).
CONFIGS: dict[str, dict] = {
    "default": {},
    "no-check": {"answer_check": "off"},
    "check-refuses": {"answer_check": "refuse"},
    "cosine-gate": {"relevance_gate": "cosine"},
    "old-fusion": {"fusion": "weighted"},
}


def load_questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]


def expected_in(item: dict, text: str) -> bool:
    flat = " ".join(text.split()).lower()
    return any(" ".join(e.split()).lower() in flat for e in item["expect"])


def judge(item: dict, answer) -> dict:
    row = {"kind": answer.kind, "offtopic": bool(item.get("unanswerable"))}
    if row["offtopic"]:
        return row
    pages = [(s.hit.document, s.hit.page) for s in answer.sources]
    found = expected_in(item, answer.text)
    return {**row,
            "hit": any(doc == item["document"] and page is not None
                       and min(abs(page - p) for p in item["pages"]) <= 1
                       for doc, page in pages),
            "correct": answer.kind == "answer" and found,
            "quoted_correct": answer.kind == "quote" and found,
            "confidently_wrong": answer.kind == "answer" and not found}


def summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if not r["offtopic"]]
    offtopic = [r for r in rows if r["offtopic"]]
    refused = [r for r in rows if r["kind"] == "refusal"]

    def share(items, key) -> float:
        return round(sum(bool(r.get(key)) for r in items) / len(items), 3) if items else 0.0

    first = [r["first_token_s"] for r in rows if r.get("first_token_s") is not None]
    model_first = [r["model_first_token_s"] for r in rows if r.get("model_first_token_s")]
    whole = [r["seconds"] for r in rows if r.get("first_token_s") is not None]
    return {
        "answerable": len(answerable), "offtopic": len(offtopic),
        "hit_at_k": share(answerable, "hit"),
        "correct": share(answerable, "correct"),
        "quoted": round(sum(r["kind"] == "quote" for r in answerable) / len(answerable), 3)
        if answerable else 0.0,
        "correct_or_correctly_quoted": round(sum(r["correct"] or r["quoted_correct"]
                                                 for r in answerable) / len(answerable), 3)
        if answerable else 0.0,
        "confidently_wrong": share(answerable, "confidently_wrong"),
        "false_refusal": round(sum(r["kind"] == "refusal" for r in answerable)
                               / len(answerable), 3) if answerable else 0.0,
        "offtopic_refused": round(sum(r["kind"] == "refusal" for r in offtopic)
                                  / len(offtopic), 3) if offtopic else 0.0,
        "gate_precision": round(sum(r["offtopic"] for r in refused) / len(refused), 3)
        if refused else None,
        "median_first_token_s": round(statistics.median(first), 2) if first else None,
        "median_answer_s": round(statistics.median(whole), 2) if whole else None,
        "median_model_first_token_s": round(statistics.median(model_first), 2)
        if model_first else None,
    }


def run_config(data_dir: Path, name: str, overrides: dict, questions: list[dict]) -> dict:
    service = open_service(data_dir, answer_cache_entries=0, **overrides)
    rows = []
    try:
        for item in questions:
            started = time.monotonic()
            answer = service.answers.ask(item["question"]).collect()
            row = {"question": item["question"], "split": item.get("split", "dev"),
                   "answer": answer.text, "reason": answer.reason,
                   "seconds": round(time.monotonic() - started, 3),
                   "first_token_s": answer.timings.get("first_token"),
                   "model_first_token_s": answer.timings.get("model_first_token"),
                   **judge(item, answer)}
            rows.append(row)
            mark = ("ok" if row.get("correct") or row.get("quoted_correct") else
                    "WRONG" if row.get("confidently_wrong") else "")
            print(f"  {row['seconds']:5.1f}s {answer.kind:<8}{mark:<6}{item['question'][:48]:<48}"
                  f" -> {' '.join(answer.text.split())[:70]!r}", flush=True)
    finally:
        service.close()
    splits = sorted({r["split"] for r in rows})
    return {"config": name, "overrides": overrides, **summarise(rows),
            "by_split": {s: summarise([r for r in rows if r["split"] == s]) for s in splits},
            "answers": rows}


def gate_signals(data_dir: Path, questions: list[dict]) -> None:
    """Print the relevance gate's signals per question (to choose its thresholds): those
    the gate weighs, over the sources an answer would be given (no model runs). All
    signals are null when nothing was found."""
    service = open_service(data_dir)
    try:
        for item in questions:
            r = service.answers.relevance(item["question"])
            print(json.dumps({"offtopic": bool(item.get("unanswerable")),
                              "split": item.get("split"),
                              "cosine": r and r.best_cosine, "coverage": r and r.coverage,
                              "sentence": r and r.best_sentence, "density": r and r.density,
                              "question": item["question"]}, ensure_ascii=False))
    finally:
        service.close()


def ingest_manuals(data_dir: Path) -> None:
    """The R manuals the questions are about, in the library in `data_dir` (files already
    there and unchanged are skipped)."""
    service = open_service(data_dir)
    report = service.library.ingest([R_MANUALS / name for name in DOCUMENTS])
    service.close()
    print(f"ingested {report.pages} pages, {report.chunks} chunks", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--model", default="smollm2-135m-instruct",
                        help="generation model (bundled name or GGUF path)")
    parser.add_argument("--limit", type=int, help="ask only the first N questions")
    parser.add_argument("--signals", action="store_true", help="print the gate's signals only")
    parser.add_argument("--library", type=Path,
                        help="keep the ingested manuals in this folder and reuse them")
    args = parser.parse_args()
    questions = load_questions()[: args.limit]
    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        data_dir = args.library or Path(tmp)
        ingest_manuals(data_dir)
        if args.signals:
            gate_signals(data_dir, questions)
            return
        results = []
        for name in args.configs:
            print(name)
            results.append(run_config(data_dir, name, {"generation_model": args.model,
                                                       **CONFIGS[name]}, questions))
    columns = ("hit_at_k", "correct", "quoted", "correct_or_correctly_quoted",
               "confidently_wrong", "false_refusal", "offtopic_refused")
    print(f"\n{'configuration':<15}" + "".join(f"{re.sub('_', ' ', c)[:14]:>15}" for c in columns)
          + f"{'first token':>13}{'answer':>9}")
    for r in results:
        print(f"{r['config']:<15}" + "".join(f"{r[c]:>15.0%}" for c in columns)
              + f"{r['median_first_token_s'] or 0:>12.2f}s{r['median_answer_s'] or 0:>8.2f}s")
    write_results("answer_quality", {"model": args.model, "documents": list(DOCUMENTS),
                                     "questions": len(questions), "results": results})


if __name__ == "__main__":
    main()
