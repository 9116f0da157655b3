"""`within`, the collections a caller may reach (an API key scoped to collections), through
the facade on a real library: search, answers (cached ones too), the relevance gate,
conversations and listings stay inside it."""

from __future__ import annotations

import pytest

from engine import NotAllowedError, NotFoundError

FACT = "Parental leave at the Harlow site is 26 weeks on full pay."
WITHIN = ("maintenance",)


@pytest.fixture
def library(service, tmp_path):
    for name, text in (("maintenance", "The cooling pump P-101 is inspected every 450 "
                                       "operating hours by a certified technician."),
                       ("hr", FACT)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.txt").write_text(text + "\n")
        service.library.ingest([folder], name)
    return service


def test_search_answers_and_the_gate_stay_within(library):
    service = library
    question = "How long is parental leave at the Harlow site?"
    hr = service.library.documents("hr")[0].id
    assert service.answers.search(question, 1)[0].document == "hr.txt"
    assert {h.document for h in service.answers.search(question, 10, within=WITHIN)} == {
        "maintenance.txt"}
    assert service.answers.search(question, 10, document_ids=[hr], within=WITHIN) == []
    with pytest.raises(NotAllowedError, match="'maintenance'"):
        service.answers.search(question, collection="hr", within=WITHIN)
    with pytest.raises(NotAllowedError):  # whether it exists or not
        service.answers.search(question, collection="nowhere", within=WITHIN)
    # an answer made for the whole library is cached: a scoped caller does not get it
    whole = service.answers.ask(question).collect()
    assert any(s.hit.document == "hr.txt" for s in whole.sources)
    scoped = service.answers.ask(question, within=WITHIN).collect()
    assert all(s.hit.document == "maintenance.txt" for s in scoped.sources)
    assert "26" not in scoped.text
    with pytest.raises(NotAllowedError):  # refused before the cache is looked at
        service.answers.ask(question, "hr", within=WITHIN)
    with pytest.raises(NotAllowedError):
        service.answers.relevance(question, "hr", within=WITHIN)
    service.answers.relevance(question, within=WITHIN)  # the gate's signals, in the same scope
    # a collection of the key's since deleted: nothing to search there, not an error
    assert service.answers.search(question, within=("gone",)) == []


def test_conversations_and_listings_stay_within(library):
    service = library
    mine = service.conversations.create(within=WITHIN)  # the one collection it has
    assert mine.collection == "maintenance"
    theirs = service.conversations.create("hr")
    everything = service.conversations.create()
    assert [c.id for c in service.conversations.list(within=WITHIN)] == [mine.id]
    for other in (theirs.id, everything.id):
        with pytest.raises(NotFoundError):
            service.conversations.messages(other, within=WITHIN)
        with pytest.raises(NotFoundError):
            service.conversations.ask("Anything?", other, within=WITHIN)
        with pytest.raises(NotFoundError):
            service.conversations.delete(other, within=WITHIN)
    with pytest.raises(NotAllowedError):
        service.conversations.create("hr", within=WITHIN)
    with pytest.raises(NotAllowedError, match="name one"):
        service.conversations.create(within=("hr", "maintenance"))
    assert len(service.conversations.list()) == 3 and not service.conversations.messages(
        everything.id)
    assert [c.name for c in service.library.collections(WITHIN)] == ["maintenance"]
    assert [d.name for d in service.library.documents(within=WITHIN)] == ["maintenance.txt"]
    hr = service.library.documents("hr")[0].id
    with pytest.raises(NotFoundError, match=f"no document with id {hr}"):
        service.library.delete_document(hr, WITHIN)
    for refused in (lambda: service.library.documents("hr", WITHIN),
                    lambda: service.library.create_collection("new", WITHIN),
                    lambda: service.library.delete_collection("hr", WITHIN),
                    lambda: service.access.check_collection("hr", WITHIN)):
        with pytest.raises(NotAllowedError):
            refused()
    assert [d.id for d in service.library.documents("hr")] == [hr]
    assert service.access.may_use("maintenance", WITHIN) and not service.access.may_use(
        None, WITHIN) and service.access.may_use(None, None)
