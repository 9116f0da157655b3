"""Chunking: exact offsets, token limits, page and heading breaks, overlap, Chinese; FTS terms."""

import pytest

from engine.retrieval import textsearch
from engine.ingest.chunker import Chunker
from engine.config import BUNDLED_EMBEDDING_MODEL
from engine.models import embedding_model_dir
from engine.ingest.parsers import ParsedDocument


@pytest.fixture(scope="module")
def chunker():
    return Chunker(embedding_model_dir(BUNDLED_EMBEDDING_MODEL) / "tokenizer.json", 60, 15)


def _count(chunker, text):
    return chunker._count([text])[0]


def _check_spans(doc, chunks, chunker):
    for chunk in chunks:
        assert doc.text[chunk.char_start:chunk.char_end] == chunk.text
        assert chunk.tokens <= chunker.chunk_tokens
        assert _count(chunker, chunk.text) <= chunker.chunk_tokens + 2


def test_long_text_is_cut_with_overlap_and_covers_everything(chunker):
    sentences = [f"Sentence number {i} tells about valve {i} and its pressure." for i in range(40)]
    doc = ParsedDocument("text")
    doc.add(" ".join(sentences))
    chunks = chunker.chunk(doc)
    assert len(chunks) > 3
    _check_spans(doc, chunks, chunker)
    for sentence in sentences:
        assert any(sentence in c.text for c in chunks)
    # consecutive chunks share a sentence (overlap) and move forward
    for before, after in zip(chunks, chunks[1:]):
        assert after.char_start < before.char_end < after.char_end


def test_headings_and_pages_start_new_chunks(chunker):
    doc = ParsedDocument("pdf", pages=2)
    doc.add("Pumps", "heading", 1)
    doc.add("The pump runs daily.", "paragraph", 1)
    doc.add("Valves", "heading", 1)
    doc.add("The valve opens at 12 bar.", "paragraph", 1)
    doc.add("It is tested yearly.", "paragraph", 2)
    chunks = chunker.chunk(doc)
    assert [(c.heading, c.page_start, c.text) for c in chunks] == [
        ("Pumps", 1, "Pumps\n\nThe pump runs daily."),
        ("Valves", 1, "Valves\n\nThe valve opens at 12 bar."),
        ("Valves", 2, "It is tested yearly."),
    ]
    assert chunks[2].embedding_text() == "Valves\nIt is tested yearly."
    _check_spans(doc, chunks, chunker)


def test_chinese_without_spaces_is_cut_within_limits(chunker):
    text = "冷却塔的风机每运行三百小时需要更换一次润滑油。" * 30
    doc = ParsedDocument("text")
    doc.add(text)
    chunks = chunker.chunk(doc)
    assert len(chunks) > 1
    _check_spans(doc, chunks, chunker)
    assert all(c.text.endswith("。") for c in chunks[:-1])


def test_a_sentence_longer_than_a_chunk_is_cut_at_tokens(chunker):
    doc = ParsedDocument("text")
    doc.add(" ".join(f"word{i}" for i in range(400)))
    chunks = chunker.chunk(doc)
    assert len(chunks) >= 5
    _check_spans(doc, chunks, chunker)
    assert chunks[-1].char_end == len(doc.text)


def test_cjk_terms_are_bigrams_and_queries_quote_terms():
    assert textsearch.index_terms("冷却塔 fan") .split() == ["冷却", "却塔", "fan"]
    assert textsearch.match_query('风机 "pump" OR NOT the') == '"风机" OR "pump"'
    assert textsearch.match_query('to be or not') == '"to" OR "be" OR "or" OR "not"'
    assert textsearch.match_query("?!  ") is None
