"""Searches in worker processes (`enclave serve --workers N`): the same hits as in the
process that writes, the library's changes followed, a dead worker failed over, and what
cannot work refused."""

from __future__ import annotations

import concurrent.futures
from dataclasses import replace

import pytest

from engine import LibraryInUseError, UserError
from tests.conftest import MODEL_CACHE_DIR, PASSPHRASE, make_pdf

QUERIES = ["relief valve pressure", "visitor badge colour", "when is the finance share "
           "copied to tape", "wind speed readings", "冷却塔 润滑油", "lasagne"]


def _found(hits) -> list[tuple]:
    return [(h.chunk_id, h.document, h.page, h.score) for h in hits]


@pytest.fixture
def workers_config(config):
    # the workers load the embedding model as the configuration says: from the converted
    # graph the tests share, not converted again into the test's data directory
    return replace(config, model_cache_dir=MODEL_CACHE_DIR)


def test_workers_find_what_this_process_finds_and_follow_the_library(
        open_service, workers_config, corpus, tmp_path):
    service = open_service(workers_config)
    service.library.ingest([corpus])
    service.library.create_collection("plant")
    here = {q: _found(service.answers.search(q, 3)) for q in QUERIES}
    scoped = _found(service.answers.search("relief valve", 3, collection="plant"))

    service.search_in_workers(2, wait=240)
    assert service.search_workers == (2, 2)
    for query in QUERIES:
        assert _found(service.answers.search(query, 3)) == here[query], query
    assert _found(service.answers.search("relief valve", 3, collection="plant")) == scoped == []
    timings: dict[str, float] = {}
    service.answers.search("relief valve", 3, timings=timings)
    assert timings["embed_query"] > 0  # measured in the worker, reported here

    # many at once: each search waits its turn at a worker and gets its own hits
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        found = list(pool.map(lambda q: (q, _found(service.answers.search(q, 3))),
                              QUERIES * 8))
    assert all(hits == here[query] for query, hits in found)

    # a document imported after the workers started is found by them
    make_pdf(tmp_path / "boiler.pdf", ["The boiler feed pump B-7 is rated for 85 cubic "
                                       "metres per hour at 16 bar."])
    service.library.ingest([tmp_path / "boiler.pdf"], collection="plant")
    hits = service.answers.search("boiler feed pump rating", 1, collection="plant")
    assert [h.document for h in hits] == ["boiler.pdf"]
    assert service.search_workers == (2, 2)  # found by a worker, not in this process

    # a deleted one is gone from them
    service.library.delete_documents("pumps.pdf")
    assert all(h.document != "pumps.pdf"
               for h in service.answers.search("relief valve pressure", 5))


def test_a_dead_worker_leaves_searches_to_the_others_then_to_this_process(
        open_service, workers_config, corpus):
    service = open_service(workers_config)
    service.library.ingest([corpus])
    expected = _found(service.answers.search("relief valve pressure", 3))
    service.search_in_workers(1, wait=240)
    assert service.search_workers == (1, 1)
    for worker in service._search_workers._workers:
        worker._process.kill()
        worker._process.join()
    assert _found(service.answers.search("relief valve pressure", 3)) == expected
    assert service.search_workers == (0, 1)
    assert _found(service.answers.search("relief valve pressure", 3)) == expected


def test_workers_are_refused_where_they_cannot_work(open_service, workers_config, corpus):
    from engine import EnclaveService

    service = open_service(workers_config)
    for count in (0, -1, 65):
        with pytest.raises(UserError, match="between 1 and 64"):
            service.search_in_workers(count)
    reader = EnclaveService.open(workers_config, lambda new: PASSPHRASE, prefer_keyring=False,
                                 access="read")
    try:  # another program writes: its changes would never reach the workers
        with pytest.raises(LibraryInUseError):
            reader.search_in_workers(1)
    finally:
        reader.close()
    assert service.search_workers == (0, 0)
