"""Whether micro-batching would pay: embedding the queries of concurrent searches in one
forward pass, against one at a time as searches do now (issue 14, target 4).

Through the facade (`service.answers.embed`): for groups of 2, 4, 8 and 16 questions of
bench/questions.jsonl, the time to embed each alone (as `embed_query` does: one thread)
against the group in one call (a batch: all cores, padded to its longest question), the
median of ROUNDS alternating rounds; and how far a question's vector in a batch is from
its vector alone (the int8 graph quantizes each batch's activations with that batch's
own range, so a batch moves every vector a little: a micro-batched search would not
return exactly what the same search alone returns).

    .venv/bin/python bench/query_batching.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.common import open_service, write_results  # noqa: E402

ROUNDS = 40
GROUPS = (2, 4, 8, 16)
QUESTIONS = [json.loads(line)["question"] for line in
             (Path(__file__).parent / "questions.jsonl").read_text().splitlines()
             if line.strip()]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        service = open_service(Path(folder) / "data")
        try:
            embed = service.answers.embed
            embed(QUESTIONS[:4])  # the model loaded, both sessions warm
            rows = []
            for size in GROUPS:
                alone, together, moved = [], [], []
                for r in range(ROUNDS):
                    group = [QUESTIONS[(r * size + i) % len(QUESTIONS)] for i in range(size)]
                    runs = [("alone", lambda: [embed([q])[0] for q in group]),
                            ("together", lambda: embed(group))]
                    vectors = {}
                    for name, run in runs if r % 2 == 0 else runs[::-1]:
                        started = time.perf_counter()
                        vectors[name] = np.asarray(run(), dtype=np.float32)
                        (alone if name == "alone" else together).append(
                            time.perf_counter() - started)
                    moved.append(float(np.abs(vectors["alone"] - vectors["together"]).max()))
                rows.append({"queries": size,
                             "alone_ms": round(statistics.median(alone) * 1000, 2),
                             "batch_ms": round(statistics.median(together) * 1000, 2),
                             "batch_over_alone": round(statistics.median(together)
                                                       / statistics.median(alone), 2),
                             "largest_change_in_a_vector": round(max(moved), 4)})
                print(rows[-1])
        finally:
            service.close()
    write_results("query_batching", {"rounds": ROUNDS, "groups": rows})


if __name__ == "__main__":
    main()
