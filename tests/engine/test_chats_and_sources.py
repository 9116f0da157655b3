"""Chat history in the vault, opening cited passages, re-indexing and re-embedding."""

from __future__ import annotations

import dataclasses

import pytest

from engine.answers.chats import ChatStore
from engine.errors import NotFoundError, UserError
from engine.records import IngestProgress
from engine.models import embedding_model_dir


def test_chats_survive_a_restart_and_can_be_searched_renamed_and_deleted(open_service, config):
    service = open_service()
    chats = ChatStore(service._vault)  # the store itself (the facade has no add_message)
    chat = chats.create()
    assert chat.title == ""
    chats.add_message(chat.id, "user", "When is the relief valve tested?")
    chats.add_message(chat.id, "assistant", "Annually [1].", sources=[
        {"n": 1, "document_id": 7, "page": 2, "char_start": 10, "char_end": 90}])
    other = chats.create("Badges")
    service.close()

    service = open_service()
    chats = ChatStore(service._vault)
    assert [c.title for c in chats.chats()] == ["Badges", "When is the relief valve tested?"]
    messages = chats.messages(chat.id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].sources[0]["page"] == 2
    assert [c.id for c in chats.chats("annually")] == [chat.id]
    assert chats.chats("100%_") == []  # LIKE wildcards are taken literally
    assert chats.rename(other.id, "  Visitor   badges ").title == "Visitor badges"
    with pytest.raises(UserError):
        chats.rename(other.id, "   ")
    chats.delete(chat.id)
    assert service._vault.scalar("SELECT count(*) FROM messages") == 0
    with pytest.raises(NotFoundError):
        chats.add_message(chat.id, "user", "still there?")


def test_a_cited_pdf_passage_opens_at_its_page_with_its_words_highlighted(service, corpus):
    service.library.ingest([corpus])
    hit = service.answers.search("relief valve pressure", k=1)[0]
    assert hit.document == "pumps.pdf" and hit.page == 2
    passage = service.answers.passage(hit.document_id, hit.char_start, hit.char_end)
    assert passage.page == 2 and passage.pages == 3 and passage.file_available
    assert passage.text[passage.start:passage.end] == hit.text
    page = service.answers.render_page(hit.document_id, passage.page, hit.text)
    assert page.png.startswith(b"\x89PNG") and page.pages == 3
    assert page.highlights >= 2  # the passage wraps over several lines
    assert service.answers.render_page(hit.document_id, 1, hit.text).highlights == 0
    with pytest.raises(NotFoundError):
        service.answers.render_page(hit.document_id, 9)


def test_a_text_passage_and_a_missing_file(service, corpus):
    service.library.ingest([corpus])
    hit = service.answers.search("vegetarian lasagne", k=1)[0]
    passage = service.answers.passage(hit.document_id, hit.char_start, hit.char_end)
    assert passage.page is None and "lasagne" in passage.text[passage.start:passage.end]
    with pytest.raises(UserError):
        service.answers.render_page(hit.document_id, 1)
    pdf = next(d for d in service.library.documents() if d.name == "pumps.pdf")
    (corpus / "pumps.pdf").unlink()
    assert not service.answers.passage(pdf.id, 0, 10).file_available
    with pytest.raises(NotFoundError):
        service.answers.render_page(pdf.id, 1)
    with pytest.raises(NotFoundError):
        service.answers.passage(10_000, 0, 1)


def test_reindex_reads_an_unchanged_file_again_and_keeps_it_if_the_file_is_gone(service, corpus):
    service.library.ingest([corpus])
    docs = {d.name: d for d in service.library.documents()}
    service.library.reindex([docs["notes.txt"].id, docs["guide.md"].id], start=False)
    (corpus / "guide.md").unlink()
    report = service.library.run_queue()
    assert [p.endswith("notes.txt") for p in report.ingested] == [True]
    assert report.failed and report.failed[0][0].endswith("guide.md")
    assert {d.name for d in service.library.documents()} == set(docs)  # the old guide.md stays
    assert service.answers.search("Harlow vault tapes", k=1)[0].document == "guide.md"


def test_progress_reports_each_files_outcome(service, corpus, tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    events = []
    service.library.subscribe(events.append)
    files, refused = service.library.enqueue([corpus, bad])
    assert len(files) == 7 and not refused
    assert service.library.wait_idle(300)
    events = [e for e in events if isinstance(e, IngestProgress)]
    outcomes = {e.current_file: e.stage for e in events if e.stage in ("indexed", "failed")}
    assert outcomes["bad.pdf"] == "failed" and outcomes["pumps.pdf"] == "indexed"
    assert any(e.stage == "embedding" and e.file_chunks_total for e in events)
    assert next(e.reason for e in events if e.stage == "failed")


def test_reembed_switches_the_library_to_another_model(open_service, config, corpus):
    service = open_service()
    service.library.ingest([corpus])
    chunks = service._vault.scalar("SELECT count(*) FROM chunks")
    steps = []
    other = str(embedding_model_dir(config.embedding_model))  # the same weights, by path
    assert service.library.reembed(other, lambda done, total: steps.append((done, total))) == chunks
    assert steps[-1] == (chunks, chunks)
    service.close()
    with pytest.raises(UserError, match="embedded with"):
        open_service()
    service = open_service(dataclasses.replace(config, embedding_model=other))
    assert service.health.index_repair  # rebuilt for the new model's vectors
    assert service.answers.search("relief valve pressure", k=1)[0].document == "pumps.pdf"
