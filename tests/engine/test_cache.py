"""Answer and query-embedding caches: hits on a repeated question, a miss right after the
library changes, nothing cached from a stopped answer, expiry."""

from __future__ import annotations

import time

from engine.retrieval.cache import TTLCache, normalize_question


def test_a_repeated_question_is_a_hit_until_the_library_changes(service, corpus, tmp_path):
    service.library.ingest([corpus])
    first = service.answers.ask("At what pressure does the relief valve open?").collect()
    started = time.monotonic()
    again = service.answers.ask("  at what pressure does the RELIEF valve open ").collect()
    assert time.monotonic() - started < 0.5
    assert again.text == first.text and again.timings == {"cache": 1.0}
    assert [s.hit.document for s in again.sources] == [s.hit.document for s in first.sources]
    assert service.answers.cache_stats()["answers"]["hits"] == 1
    (tmp_path / "new.txt").write_text("The relief valve was replaced in May.\n")
    service.library.ingest([tmp_path / "new.txt"])
    service.answers.ask("At what pressure does the relief valve open?").collect()
    stats = service.answers.cache_stats()["answers"]
    assert stats["hits"] == 1 and stats["misses"] == 2
    assert service.answers.cache_stats()["query_embeddings"]["hits"] >= 1


def test_a_stopped_answer_is_not_cached(service, corpus):
    service.library.ingest([corpus])
    stream = service.answers.ask("How often is pump P-101 inspected?")
    pieces = iter(stream)
    next(pieces)
    stream.cancel()
    list(pieces)
    service.answers.ask("How often is pump P-101 inspected?").collect()
    assert service.answers.cache_stats()["answers"]["hits"] == 0


def test_entries_expire_and_the_oldest_go_first():
    cache = TTLCache(max_entries=2, ttl_s=0.2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("c") == 3
    time.sleep(0.25)
    assert cache.get("c") is None
    assert normalize_question(" Where is  it?? ") == normalize_question("where is it")
