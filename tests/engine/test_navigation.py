"""Navigation chunks (tables of contents, indexes, dot-leader lists): recognised at ingest
and in libraries made before, ranked after every content chunk a search finds."""

from __future__ import annotations

import re

import pytest

from engine.ingest import parsers
from engine.ingest.navigation import classify_unmarked, is_navigation
from tests.conftest import R_INTRO, make_pdf

TOC = """Contents
1 Getting started . . . . . . . . . . . . . . . . . . . . . . . . 2
1.1 Installing the pump controller . . . . . . . . . . . . . . 2
1.2 Reading data files from the controller . . . . . . . . . 3
2 Maintenance . . . . . . . . . . . . . . . . . . . . . . . . . . . 4
2.1 Greasing the bearings . . . . . . . . . . . . . . . . . . . . 4
2.2 Replacing the seals . . . . . . . . . . . . . . . . . . . . . . 5"""
INDEX = """Index
bearings, 4, 5
controller, 2, 3
data files, 3
grease, 4
seals, 5"""
BODY = [
    "Reading data files. The controller writes its readings to a CSV file every hour; "
    "copy the file to a USB stick from the service menu and open it in a spreadsheet.",
    "Greasing the bearings. Each bearing takes 30 grams of lithium grease every quarter.\n"
    "Pump   Bearings   Grams\nP-101   2   60\nP-102   4   120\nP-103   2   60",
    "Replacing the seals. Stop the pump, close valves V1 and V2, then run:\n"
    "  ctl stop P-101\n  ctl seal --replace 1\n  ctl start P-101\n"
    "Check the pressure after 5, 10 and 15 minutes.",
]


def test_tables_of_contents_and_indexes_are_recognised_and_body_text_is_not():
    assert is_navigation(TOC) and is_navigation(INDEX)
    assert is_navigation("tapply, 42, 51\nt.test, 40\ntable, 22, 27\ntan, 9")
    assert is_navigation("Introduction\t1\nGetting started\t3\nReading data\t12\nPlots\t20")
    for text in BODY + [
        "Year Sales Units\n2019 1200 34\n2020 1350 40\n2021 1410 42",  # a table of numbers
        "Alabama 52\nAlaska 3\nArizona 15\nArkansas 75",  # labelled figures
        "> x <- c(1, 2, 3)\n> mean(x)\n[1] 2\n> a <- 1\n> b <- 2",  # a code listing
        "- apples\n- pears\n- plums",  # a short list
        "12, 15, 18\n20, 22, 25\n3, 1, 4",  # integers in rows
    ]:
        assert not is_navigation(text), text


@pytest.mark.slow
def test_the_r_manual_contents_and_index_pages_are_navigation_and_its_body_is_not(service):
    chunks = service._worker._ingestor.chunker.chunk(parsers.parse(R_INTRO, parsers.ReadLimits()))
    contents_and_index = [c for c in chunks if c.page_start in {3, 4, 5, 6, 108, 109, 110,
                                                                111, 112}]
    with_leaders = [c for c in contents_and_index if ". . . ." in c.text]
    assert len(with_leaders) > 100 and all(is_navigation(c.text) for c in with_leaders)
    # body pages hold code listings, tables of numbers and short lists
    body = [c for c in chunks if 7 <= c.page_start <= 107
            and not re.fullmatch(r"\s*\d+\s*", c.text)]  # a page number alone is navigation
    assert len(body) > 400
    assert [c.text[:80] for c in body if is_navigation(c.text)] == []


@pytest.fixture
def manual(tmp_path):
    """A PDF with a table of contents, three body pages and an index."""
    return make_pdf(tmp_path / "controller.pdf", [TOC, *BODY, INDEX])


def _navigation_pages(service) -> set[int]:
    return {r[0] for r in service._vault.rows("SELECT page_start FROM chunks WHERE navigation")}


def test_ingest_marks_navigation_chunks_and_older_libraries_are_classified_at_open(
        open_service, service, manual, config):
    service.library.ingest([manual])
    assert _navigation_pages(service) == {1, 5}
    # a library made before the column existed
    with service._vault.transaction() as conn:
        conn.execute("UPDATE chunks SET navigation = NULL")
    assert classify_unmarked(service._vault) == service._vault.scalar("SELECT count(*) FROM chunks")
    assert _navigation_pages(service) == {1, 5}
    with service._vault.transaction() as conn:
        conn.execute("UPDATE chunks SET navigation = NULL")
    service.close()
    reopened = open_service(config)
    assert reopened._vault.scalar("SELECT count(*) FROM chunks WHERE navigation IS NULL") == 0
    assert _navigation_pages(reopened) == {1, 5}
    assert classify_unmarked(reopened._vault) == 0


def test_navigation_chunks_come_after_content_and_only_fill_in(service, manual, tmp_path):
    service.library.ingest([manual])
    # the contents page repeats the question's words; the answer is on page 2
    hits = service.answers.search("Reading data files from the controller", k=3)
    assert hits[0].page == 2 and not any(h.navigation for h in hits)
    assert {h.page for h in hits} == {2, 3, 4}  # every content chunk
    everything = service.answers.search("Reading data files from the controller", k=20)
    assert [h.navigation for h in everything] == [False] * 3 + [True] * 2  # then they fill in
    # when nothing but navigation is there to find, it is found
    make_pdf(tmp_path / "index-only.pdf", [INDEX])
    service.library.ingest([tmp_path / "index-only.pdf"])
    document = next(d for d in service.library.documents() if d.name == "index-only.pdf")
    only = service.answers.search("grease bearings", k=2, document_ids=[document.id])
    assert only and all(h.navigation for h in only)
