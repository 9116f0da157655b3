"""Follow-up questions with and without their conversation, over the R manuals.

Ingests R-intro.pdf and R-data.pdf (Debian's r-doc-pdf), then plays the conversations of
followups.jsonl: each opens with a question that stands alone, answered as the chat would
answer it; the questions after it are the follow-ups measured. Most need the conversation
("How do I use it to make predictions for new data?" after "How do I fit a linear
regression model?"); those marked "names its subject" do not, and must be left as they
are. Each follow-up is searched and answered:

- alone: as asked, without the conversation (what Enclave did before);
- terms: made standalone by carrying the previous question's key terms;
- model: rewritten by the answer model from the recent turns (SmolLM2, and Gemma 3 with
  --gemma, which then writes the answers too);
- by hand: the standalone question a person wrote for it (the ceiling of any rewrite).

Per way: hit@5 (the answering page, +-1, among the first 5 search results for what was
searched), correct (an answer, kind "answer", holding an expected phrase) and correct or
correctly quoted (a quotation holding one too), for the follow-ups that need the
conversation and for those that name their subject apart; how many of the latter were
left unchanged; and the median seconds the rewrite took. Answers are decoded greedily, so
that what differs between the ways is what was searched. Writes
bench/results/followups.json.

    .venv/bin/python bench/followups.py [--ways alone terms model by-hand] [--gemma]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.answer_quality import DOCUMENTS, expected_in, ingest_manuals  # noqa: E402
from bench.common import open_service, write_results  # noqa: E402

CONVERSATIONS = Path(__file__).parent / "followups.jsonl"
NAMES_ITS_SUBJECT = "names its subject"
WAYS: dict[str, dict] = {  # EngineConfig fields of each way
    "alone": {"followup_rewrite": "off"},
    "terms": {"followup_rewrite": "terms"},
    "model": {"followup_rewrite": "model"},
    "model-gemma3": {"followup_rewrite": "model", "generation_model": "gemma3-270m"},
    "by-hand": {"followup_rewrite": "off"},
}


def load_conversations() -> list[dict]:
    return [json.loads(line) for line in CONVERSATIONS.read_text().splitlines() if line.strip()]


def found(item: dict, pages: list[tuple[str, int | None]]) -> bool:
    return any(doc == item["document"] and page is not None
               and min(abs(page - p) for p in item["pages"]) <= 1 for doc, page in pages)


def earlier_answers(data_dir: Path, conversations: list[dict]) -> dict[str, str]:
    """The answer the chat gives to each question a follow-up comes after (asked as its
    standalone form written by hand, so that every way reads the same conversation)."""
    service = open_service(data_dir, temperature=0.0)
    answers = {}
    try:
        for conversation in conversations:
            for turn in conversation["turns"][:-1]:
                asked = turn.get("standalone", turn["question"])
                if asked not in answers:
                    answers[asked] = service.answers.ask(asked).collect().text
    finally:
        service.close()
    return answers


def play(data_dir: Path, way: str, conversations: list[dict], answers: dict[str, str]) -> dict:
    from engine import Turn

    # greedy decoding: what differs between the ways is what was searched, not the sampling
    service = open_service(data_dir, answer_cache_entries=0, temperature=0.0, **WAYS[way])
    rows = []
    try:
        for conversation in conversations:
            turns: list[Turn] = []
            for n, item in enumerate(conversation["turns"]):
                question = item["question"]
                started = time.monotonic()
                if way == "by-hand":
                    searched = item.get("standalone", question)
                else:
                    searched = service.answers.standalone_question(question, turns)
                rewrite_s = time.monotonic() - started
                if n > 0:
                    hits = service.answers.search(searched, 5)
                    answer = service.answers.ask(question, search_for=searched).collect()
                    row = {
                        "id": conversation["id"], "question": question, "searched_for": searched,
                        "kind": conversation.get("kind", "needs the conversation"),
                        "unchanged": searched == question,
                        "hit_at_5": found(item, [(h.document, h.page) for h in hits]),
                        "answer_kind": answer.kind, "answer": answer.text,
                        "correct": answer.kind == "answer" and expected_in(item, answer.text),
                        "correct_or_quoted": answer.kind in ("answer", "quote")
                        and expected_in(item, answer.text),
                        "rewrite_s": round(rewrite_s, 3)}
                    rows.append(row)
                    print(f"  {'hit ' if row['hit_at_5'] else 'miss'} "
                          f"{'ok ' if row['correct_or_quoted'] else '   '}{searched[:100]!r}",
                          flush=True)
                asked = item.get("standalone", question)
                turns.append(Turn(question, searched if searched != question else "",
                                  answers.get(asked, "")))
    finally:
        service.close()
    return {"way": way, "overrides": WAYS[way], **summary(rows), "follow_ups": rows}


def share(rows: list[dict], key: str) -> float | None:
    return round(sum(bool(r[key]) for r in rows) / len(rows), 3) if rows else None


def summary(rows: list[dict]) -> dict:
    needing = [r for r in rows if r["kind"] != NAMES_ITS_SUBJECT]
    naming = [r for r in rows if r["kind"] == NAMES_ITS_SUBJECT]
    return {
        "needs_the_conversation": {"n": len(needing), **{k: share(needing, k) for k in (
            "hit_at_5", "correct", "correct_or_quoted")}},
        "names_its_subject": {"n": len(naming), **{k: share(naming, k) for k in (
            "hit_at_5", "correct", "correct_or_quoted", "unchanged")}},
        "median_rewrite_s": round(statistics.median(r["rewrite_s"] for r in rows), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ways", nargs="+", default=["alone", "terms", "model", "by-hand"],
                        choices=list(WAYS))
    parser.add_argument("--gemma", action="store_true", help="also the model-gemma3 way")
    parser.add_argument("--library", type=Path,
                        help="keep the ingested manuals in this folder and reuse them")
    args = parser.parse_args()
    ways = args.ways + (["model-gemma3"] if args.gemma else [])
    conversations = load_conversations()
    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        data_dir = args.library or Path(tmp)
        ingest_manuals(data_dir)
        answers = earlier_answers(data_dir, conversations)
        results = []
        for way in ways:
            print(way)
            results.append(play(data_dir, way, conversations, answers))
    by_way = {r["way"]: r for r in results}
    for way in ("model", "model-gemma3"):
        if way in by_way and "terms" in by_way:  # where the model's own rewrite was used
            pairs = zip(by_way[way]["follow_ups"], by_way["terms"]["follow_ups"])
            own = [m["searched_for"] != t["searched_for"] for m, t in pairs if not t["unchanged"]]
            by_way[way]["model_rewrite_used"] = round(sum(own) / len(own), 3) if own else None
            print(f"{way}: the model's own rewrite used for {sum(own)} of {len(own)} follow-ups "
                  "(else the terms')")
    print(f"\n{'way':<14}{'hit@5':>8}{'correct':>9}{'or quoted':>11}"
          f"{'| named: hit@5':>15}{'unchanged':>11}{'rewrite':>9}")
    for r in results:
        need, named = r["needs_the_conversation"], r["names_its_subject"]
        print(f"{r['way']:<14}{need['hit_at_5']:>8.0%}{need['correct']:>9.0%}"
              f"{need['correct_or_quoted']:>11.0%}{named['hit_at_5']:>15.0%}"
              f"{named['unchanged']:>11.0%}{r['median_rewrite_s']:>8.2f}s")
    write_results("followups", {"documents": list(DOCUMENTS),
                                "conversations": len(conversations), "results": results})


if __name__ == "__main__":
    main()
