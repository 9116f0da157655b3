"""Answer quality of the bundled generation models on our own question set.

Ingests R-intro.pdf (Debian's r-doc-pdf), then asks every question in questions.jsonl
with each model through the same retrieval and prompt. For answerable questions it
counts a correct answer (an expected phrase appears), a grounded citation (a cited
source is the expected page, +-1) and false refusals; for unanswerable ones, refusals.
Writes bench/results/answer_quality.json.

    .venv/bin/python bench/answer_quality.py [--models smollm2-135m-instruct gemma3-270m]
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


def judge(item: dict, answer) -> dict:
    text = answer.text.lower()
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    cited_pages = {(answer.sources[n - 1].hit.document, answer.sources[n - 1].hit.page)
                   for n in cited if n <= len(answer.sources)}
    if item.get("unanswerable"):
        return {"refused_correctly": answer.refused}
    return {
        "correct": not answer.refused and any(e.lower() in text for e in item["expect"]),
        "grounded": any(doc == item["document"] and page is not None
                        and min(abs(page - p) for p in item["pages"]) <= 1
                        for doc, page in cited_pages),
        "false_refusal": answer.refused,
    }


def run_model(data_dir: Path, model: str, questions: list[dict]) -> dict:
    service = open_service(data_dir, generation_model=model)
    rows = []
    try:
        for item in questions:
            best = max((h.dense_similarity for h in service.search(item["question"], 4)),
                       default=0.0)
            started = time.monotonic()
            answer = service.ask(item["question"]).collect()
            rows.append({"question": item["question"], "answer": answer.text,
                         "best_similarity": best,
                         "refused": answer.refused, "seconds": time.monotonic() - started,
                         "first_token_s": answer.timings.get("first_token"),
                         **judge(item, answer)})
            print(f"  {rows[-1]['seconds']:5.1f}s  {item['question'][:50]:<50} -> "
                  f"{answer.text[:70]!r}", flush=True)
    finally:
        service.close()
    answerable = [r for r in rows if "correct" in r]
    unanswerable = [r for r in rows if "refused_correctly" in r]
    generated = [r for r in rows if r["first_token_s"] is not None]
    return {
        "model": model,
        "correct": sum(r["correct"] for r in answerable) / len(answerable),
        "grounded_citation": sum(r["grounded"] for r in answerable) / len(answerable),
        "false_refusal": sum(r["false_refusal"] for r in answerable) / len(answerable),
        "refused_unanswerable": sum(r["refused_correctly"] for r in unanswerable) / len(unanswerable),
        "median_first_token_s": statistics.median(r["first_token_s"] for r in generated)
        if generated else None,
        "median_answer_s": statistics.median(r["seconds"] for r in generated) if generated else None,
        "answers": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["smollm2-135m-instruct", "gemma3-270m"])
    args = parser.parse_args()
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        data_dir = Path(tmp)
        service = open_service(data_dir)
        report = service.ingest([R_MANUALS / "R-intro.pdf"])
        service.close()
        print(f"ingested {report.pages} pages, {report.chunks} chunks")
        results = []
        for model in args.models:
            print(model)
            results.append(run_model(data_dir, model, questions))
    print(f"\n{'model':<24}{'correct':>9}{'grounded':>10}{'false refusal':>15}"
          f"{'refused unanswerable':>22}{'first token':>13}{'answer':>9}")
    for r in results:
        print(f"{r['model']:<24}{r['correct']:>9.0%}{r['grounded_citation']:>10.0%}"
              f"{r['false_refusal']:>15.0%}{r['refused_unanswerable']:>22.0%}"
              f"{r['median_first_token_s'] or 0:>12.2f}s{r['median_answer_s'] or 0:>8.2f}s")
    write_results("answer_quality", {"questions": len(questions), "results": results})


if __name__ == "__main__":
    main()
