"""`service.conversations` on a real vault: conversations created, listed, searched,
renamed, moved to a collection and deleted, bad input refused; and questions asked in
them with the real models (the session's), the question and the answer stored with its
sources and kind, `again` replacing the last answer, an empty question writing nothing."""

from __future__ import annotations

import pytest

from engine.errors import NotFoundError, UserError

QUESTION = "At what pressure does the relief valve on line 7 open?"


def _library(service, tmp_path) -> None:
    folder = tmp_path / "plant"
    folder.mkdir()
    (folder / "valves.txt").write_text(
        "Safety valves.\n\nThe relief valve on line 7 opens at a pressure of 12.5 bar and must "
        "be tested annually during the spring shutdown.\n")
    (folder / "badges.txt").write_text(
        "Visitors.\n\nAll visitors to the laboratory wear a blue badge issued at the north "
        "gate.\n")
    report = service.library.ingest([folder], collection="plant")
    assert len(report.ingested) == 2


# --- without the model -----------------------------------------------------------------------


def test_conversations_are_created_listed_searched_renamed_and_deleted(open_service):
    service = open_service()
    talks = service.conversations
    assert talks.list() == []
    untitled = talks.create()
    assert (untitled.title, untitled.collection) == ("", None)
    with pytest.raises(NotFoundError):  # a conversation answers from a collection that is there
        talks.create("plant")
    service.library.create_collection("plant")
    named = talks.create("plant", "  Valve   questions ")
    assert (named.title, named.collection) == ("Valve questions", "plant")
    assert talks.get(named.id) == named
    assert [c.id for c in talks.list()] == [named.id, untitled.id]  # newest first

    # messages as the desktop chat writes them (the store below the facade)
    chats = talks._chats
    chats.add_message(untitled.id, "user", "When is the relief valve tested?")
    chats.add_message(untitled.id, "assistant", "Annually [1].", [{"n": 1, "document_id": 3}])
    service.close()

    service = open_service()  # kept in the vault
    talks = service.conversations
    assert [c.id for c in talks.list()] == [untitled.id, named.id]  # the last used first
    first = talks.get(untitled.id)
    assert first.title == "When is the relief valve tested?"  # named by its first question
    messages = talks.messages(untitled.id)
    assert [(m.role, m.text) for m in messages] == [
        ("user", "When is the relief valve tested?"), ("assistant", "Annually [1].")]
    assert messages[1].sources == [{"n": 1, "document_id": 3}] and messages[1].kind == "answer"
    assert talks.messages(named.id) == []

    assert [c.id for c in talks.list("annually")] == [untitled.id]  # message text
    assert [c.id for c in talks.list("VALVE QUEST")] == [named.id]  # title, any case
    assert {c.id for c in talks.list("valve")} == {untitled.id, named.id}
    assert talks.list("100%_") == [] and talks.list("nothing like it") == []
    assert len(talks.list("   ")) == 2

    renamed = talks.rename(named.id, " Relief\tvalves ")
    assert renamed.title == "Relief valves" and talks.get(named.id).title == "Relief valves"
    assert len(talks.rename(named.id, "x" * 500).title) == 200
    talks.set_collection(named.id, None)
    assert talks.get(named.id).collection is None
    talks.set_collection(named.id, "spares")
    assert talks.get(named.id).collection == "spares"

    talks.delete(untitled.id)
    assert [c.id for c in talks.list()] == [named.id]
    assert service._vault.scalar("SELECT count(*) FROM messages") == 0  # its messages too
    with pytest.raises(NotFoundError):
        talks.messages(untitled.id)


def test_bad_titles_and_unknown_conversations_are_refused(service):
    talks = service.conversations
    chat = talks.create(title="Kept")
    for blank in (" ", "\t\n"):
        with pytest.raises(UserError, match="title"):
            talks.create(title=blank)
        with pytest.raises(UserError, match="title"):
            talks.rename(chat.id, blank)
    with pytest.raises(UserError):
        talks.rename(chat.id, "")
    assert talks.list() == [chat]  # nothing made, nothing renamed

    missing = chat.id + 100
    for call in (lambda: talks.get(missing), lambda: talks.messages(missing),
                 lambda: talks.rename(missing, "New"),
                 lambda: talks.set_collection(missing, "plant"),
                 lambda: talks.ask("Where are the badges?", missing),
                 lambda: talks.ask("Where are the badges?", missing, again=True)):
        with pytest.raises(NotFoundError):
            call()
    assert talks.list() == [chat] and talks.messages(chat.id) == []


def test_a_question_that_cannot_be_asked_writes_nothing(service):
    talks = service.conversations
    chat = talks.create(title="Kept")
    chats = talks._chats
    chats.add_message(chat.id, "user", "Where are the badges issued?")
    answer = chats.add_message(chat.id, "assistant", "At the north gate [1].",
                               [{"n": 1, "document_id": 1}])
    before = talks.messages(chat.id)
    for empty in ("", "   ", "\n\t"):
        with pytest.raises(UserError, match="empty"):
            talks.ask(empty)  # a new conversation would be made for it
        with pytest.raises(UserError, match="empty"):
            talks.ask(empty, chat.id)
        with pytest.raises(UserError, match="empty"):
            talks.ask(empty, chat.id, again=True)  # must not drop the last answer
    with pytest.raises(NotFoundError):
        talks.ask("Where are the badges issued?", collection="no-such-collection")
    talks.set_collection(chat.id, "no-such-collection")
    with pytest.raises(NotFoundError):
        talks.ask("Where are the badges issued?", chat.id, again=True)
    assert [c.id for c in talks.list()] == [chat.id]
    assert talks.messages(chat.id) == before and before[-1] == answer


# --- with the model --------------------------------------------------------------------------


def test_an_answer_is_stored_with_its_sources_and_kind_and_again_replaces_it(
        service, tmp_path):
    _library(service, tmp_path)
    talks = service.conversations

    turn = talks.ask(QUESTION, collection="plant")  # a new conversation (the real model)
    assert turn.message is None  # written once the stream has been read
    pieces = list(turn.stream)
    answer = turn.stream.answer
    assert answer is not None and "".join(pieces).strip()
    assert answer.kind in ("answer", "quote", "refusal") and answer.sources
    assert any("12.5 bar" in s.hit.text for s in answer.sources)

    chat = talks.get(turn.conversation_id)
    assert (chat.title, chat.collection) == (QUESTION, "plant")
    user, assistant = talks.messages(chat.id)
    assert (user.role, user.text, user.sources) == ("user", QUESTION, [])
    assert assistant == turn.message
    assert (assistant.role, assistant.text, assistant.kind, assistant.refused) == (
        "assistant", answer.text, answer.kind, answer.refused)
    assert assistant.sources == [s.to_json() for s in answer.sources]
    assert {s["document"] for s in assistant.sources} <= {"valves.txt", "badges.txt"}
    stored = {d.id: d.name for d in service.library.documents()}
    assert all(stored[s["document_id"]] == s["document"] for s in assistant.sources)
    assert [c.id for c in talks.list("line 7 open")] == [chat.id]

    again = talks.ask(QUESTION, chat.id, again=True)
    again_answer = again.stream.collect()
    messages = talks.messages(chat.id)
    assert [m.role for m in messages] == ["user", "assistant"]  # replaced, not added
    assert messages[0] == user and messages[1].id != assistant.id
    assert messages[1] == again.message
    assert (messages[1].text, messages[1].kind) == (again_answer.text, again_answer.kind)
    assert messages[1].sources == [s.to_json() for s in again_answer.sources]

    # a question the library says nothing about, in the same conversation
    other = talks.ask("Which football club won the 1994 world cup final?", chat.id)
    other_answer = other.stream.collect()
    assert other.conversation_id == chat.id
    messages = talks.messages(chat.id)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2].text == "Which football club won the 1994 world cup final?"
    assert (messages[3].kind, messages[3].refused) == (other_answer.kind, other_answer.refused)
    assert talks.get(chat.id).title == QUESTION  # the first question still names it
