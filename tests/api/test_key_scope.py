"""API keys scoped to collections, and keys that get personal data masked, over real HTTP
on loopback around a real engine: a key for "maintenance" never reaches what only "hr"
holds, and a masking key gets "[email]" where another key gets the address."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import auth

HR_FACT = ("Parental leave at the Harlow site is 26 weeks on full pay, approved by the "
           "people director Quentin Marlowe.")
HR_WORDS = ("26 weeks", "full pay", "Quentin", "Marlowe", "Harlow")
"""What only the hr document says (none of it in the questions the tests ask)."""
DESK = "pump.desk@plant-example.com"


@pytest.fixture
def library(service, tmp_path):
    """Two collections: "maintenance" (pumps, with a desk's e-mail address) and "hr" (a fact
    found nowhere else); returns the hr document's id."""
    maintenance, hr = tmp_path / "maintenance", tmp_path / "hr"
    maintenance.mkdir()
    hr.mkdir()
    (maintenance / "pumps.txt").write_text(
        "Pump maintenance.\n\nThe cooling pump P-101 is inspected every 450 operating hours. "
        f"Report pump faults to the pump desk at {DESK} before the end of the shift.\n\n"
        "The relief valve on line 7 opens at 12.5 bar and is tested every spring.\n")
    (hr / "leave.txt").write_text(f"Leave policy.\n\n{HR_FACT}\n\nHolidays are booked in the "
                                  "staff portal two weeks ahead.\n")
    for folder in (maintenance, hr):
        report = service.library.ingest([folder], folder.name)
        assert len(report.ingested) == 1, report.failed
    return service.library.documents("hr")[0].id


def scoped(service, name="maintenance-team", scope="read-only", collections=("maintenance",),
           mask=False) -> str:
    return service.access.create_key(name, scope, list(collections) if collections else None,
                                     mask)[1]


def no_hr(payload) -> None:
    """Nothing of the hr document anywhere in a response (but the query it echoes)."""
    if isinstance(payload, dict):
        payload = {k: v for k, v in payload.items() if k not in ("query", "question")}
    text = json.dumps(payload) if not isinstance(payload, str) else payload
    assert "leave.txt" not in text and not any(w in text for w in HR_WORDS), text


def sse(response: httpx.Response) -> tuple[str, list[dict]]:
    """A streamed chat's text and its events, read to [DONE]."""
    events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]", events
    chunks = [json.loads(e) for e in events[:-1]]
    assert not any("error" in c for c in chunks), chunks
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    return text, chunks


def test_a_key_for_maintenance_never_finds_what_only_hr_holds(api, keys, service, library):
    hr_document = library
    question = "How long is parental leave, and who approves it?"
    with httpx.Client(base_url=api.url, headers=auth(scoped(service)), timeout=300) as http:
        for body in ({"query": question, "k": 10},
                     {"query": "Quentin Marlowe parental leave 26 weeks", "k": 10},
                     {"query": question, "document_ids": [hr_document]},
                     {"query": question, "collection": "maintenance",
                      "document_ids": [hr_document]}):
            found = http.post("/v1/search", json=body)
            assert found.status_code == 200, found.text
            no_hr(found.json())
            assert all(h["document"] == "pumps.txt" for h in found.json()["hits"])
        assert http.post("/v1/search", json={"query": question, "document_ids": [hr_document]}
                         ).json()["hits"] == []
        for body in ({"question": question}, {"question": question,
                                              "document_ids": [hr_document]}):
            answered = http.post("/v1/query", json=body)
            assert answered.status_code == 200, answered.text
            no_hr(answered.json())
        chat = {"messages": [{"role": "user", "content": question}]}
        completed = http.post("/v1/chat/completions", json=chat)
        assert completed.status_code == 200, completed.text
        no_hr(completed.json())
        with http.stream("POST", "/v1/chat/completions", json={**chat, "stream": True}) as s:
            assert s.status_code == 200
            text, chunks = sse(s)
        no_hr(text)
        no_hr(chunks)
        # a conversation: the key's one collection when it names none
        started = http.post("/v1/conversations", json={})
        assert started.status_code == 201 and started.json()["collection"] == "maintenance"
        asked = http.post(f"/v1/conversations/{started.json()['id']}/messages",
                          json={"question": question})
        assert asked.status_code == 200, asked.text
        no_hr(asked.json())
        kept = http.post("/v1/chat/completions", json={**chat, "conversation_id": "new"})
        assert kept.status_code == 200, kept.text
        no_hr(kept.json())
        assert service.conversations.get(kept.json()["conversation_id"]).collection == \
            "maintenance"
    # the same questions with a key for every collection do find it: the test can tell
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"]), timeout=300) as http:
        hits = http.post("/v1/search", json={"query": question, "k": 3}).json()["hits"]
        assert hits[0]["document"] == "leave.txt"
        hits = http.post("/v1/search", json={"query": question,
                                             "document_ids": [hr_document]}).json()["hits"]
        assert hits and {h["document"] for h in hits} == {"leave.txt"}


def test_naming_another_collection_is_403_before_anything_runs(api, service, library):
    question = "How long is parental leave?"
    key = scoped(service)
    with httpx.Client(base_url=api.url, headers=auth(key), timeout=120) as http:
        refusals = [
            http.post("/v1/search", json={"query": question, "collection": "hr"}),
            http.post("/v1/search", json={"query": question, "collection": "no such one"}),
            http.post("/v1/query", json={"question": question, "collection": "hr"}),
            http.post("/v1/chat/completions", json={
                "collection": "hr", "messages": [{"role": "user", "content": question}]}),
            http.post("/v1/chat/completions", json={
                "collection": "hr", "stream": True, "conversation_id": "new",
                "messages": [{"role": "user", "content": question}]}),
            http.post("/v1/conversations", json={"collection": "hr"}),
            http.get("/v1/documents", params={"collection": "hr"}),
        ]
        for refused in refusals:
            assert refused.status_code == 403, (refused.request.url, refused.text)
            error = refused.json()["error"]
            assert error["type"] == "permission_error" and "'maintenance'" in error["message"]
        # the whole library is not a scoped key's, nor a collection it was not given
        assert service.conversations.list() == []
    several = service.access.create_key("two", "read-only", ["maintenance", "hr"])[1]
    with httpx.Client(base_url=api.url, headers=auth(several), timeout=60) as http:
        unnamed = http.post("/v1/conversations", json={})
        assert unnamed.status_code == 403 and "name one" in unnamed.json()["error"]["message"]
        assert http.post("/v1/conversations", json={"collection": "hr"}).status_code == 201
        found = http.post("/v1/search", json={"query": question, "k": 10}).json()["hits"]
        assert {h["document"] for h in found} == {"leave.txt", "pumps.txt"}


def test_a_scoped_key_sees_and_continues_only_its_collections_conversations(
        api, keys, service, library):
    mine = service.conversations.create("maintenance", "Pumps")
    theirs = service.conversations.create("hr", "Leave")
    everything = service.conversations.create(None, "Everything")
    service.conversations.ask("How long is parental leave?", theirs.id).stream.collect()
    with httpx.Client(base_url=api.url, headers=auth(scoped(service, scope="read-write")),
                      timeout=300) as http:
        listed = http.get("/v1/conversations").json()["conversations"]
        assert [c["id"] for c in listed] == [mine.id]
        assert http.get("/v1/conversations", params={"search": "parental"}
                        ).json()["conversations"] == []
        for other in (theirs.id, everything.id):
            assert http.get(f"/v1/conversations/{other}").status_code == 404
            asked = http.post(f"/v1/conversations/{other}/messages",
                              json={"question": "And holidays?"})
            assert asked.status_code == 404
            chat = http.post("/v1/chat/completions", json={
                "conversation_id": other, "messages": [{"role": "user", "content": "Hi"}]})
            assert chat.status_code == 404
            assert http.delete(f"/v1/conversations/{other}").status_code == 404
        assert http.get(f"/v1/conversations/{mine.id}").status_code == 200
    assert len(service.conversations.messages(theirs.id)) == 2  # nothing added or deleted
    assert service.conversations.messages(everything.id) == []
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"]), timeout=60) as http:
        assert len(http.get("/v1/conversations").json()["conversations"]) == 3


def test_listings_and_changes_stay_within_the_keys_collections(api, keys, service, library):
    hr_document = library
    service.library.create_collection("finance")
    key = scoped(service, scope="read-write")
    with httpx.Client(base_url=api.url, headers=auth(key), timeout=120) as http:
        collections = http.get("/v1/collections").json()["collections"]
        assert [c["name"] for c in collections] == ["maintenance"]
        documents = http.get("/v1/documents").json()["documents"]
        assert [(d["collection"], d["name"]) for d in documents] == [("maintenance", "pumps.txt")]
        assert http.get("/v1/documents", params={"collection": "maintenance"}
                        ).json()["documents"] == documents
        # another collection's document is not there for this key: 404, as for an id that
        # does not exist (a 403 would tell that it does)
        deleted = http.delete(f"/v1/documents/{hr_document}")
        missing = http.delete("/v1/documents/999999")
        assert deleted.status_code == missing.status_code == 404
        assert deleted.json()["error"] == {**missing.json()["error"], "message":
                                           f"There is no document with id {hr_document}."}
        for refused in (http.post("/v1/collections", json={"name": "new"}),
                        http.delete("/v1/collections/hr"),
                        http.delete("/v1/collections/finance"),
                        http.post("/v1/documents", data={"collection": "hr"},
                                  files={"files": ("more.txt", b"More leave rules.")}),
                        http.post("/v1/documents",  # the default collection is not its own
                                  files={"files": ("more.txt", b"More leave rules.")})):
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["type"] == "permission_error"
    assert [d.id for d in service.library.documents("hr")] == [hr_document]
    names = {c.name for c in service.library.collections()}
    assert {"finance", "hr", "maintenance"} <= names and "new" not in names
    with httpx.Client(base_url=api.url, timeout=120) as http:
        job = http.post("/v1/documents", data={"collection": "hr"}, headers=auth(keys["writer"]),
                        files={"files": ("more.txt", b"Leave is booked in the portal.")})
        assert job.status_code == 202, job.text
        job_id = job.json()["id"]
        assert http.get(f"/v1/jobs/{job_id}", headers=auth(key)).status_code == 404
        assert http.get(f"/v1/jobs/{job_id}", headers=auth(keys["writer"])).status_code == 200


def test_a_masking_key_gets_personal_data_masked_where_another_gets_it(api, keys, service,
                                                                       library):
    question = "Where are pump faults reported?"
    masked = scoped(service, "masked", collections=None, mask=True)
    results = {}
    for name, key in (("masked", masked), ("plain", keys["reader"])):
        with httpx.Client(base_url=api.url, headers=auth(key), timeout=300) as http:
            search = http.post("/v1/search", json={"query": question, "k": 1}).json()
            query = http.post("/v1/query", json={"question": question,
                                                 "collection": "maintenance"}).json()
            with http.stream("POST", "/v1/chat/completions", json={
                    "collection": "maintenance", "stream": True,
                    "messages": [{"role": "user", "content": question}]}) as streamed:
                text, chunks = sse(streamed)
            conversation = http.post("/v1/conversations", json={"collection": "maintenance"}
                                     ).json()["id"]
            asked = http.post(f"/v1/conversations/{conversation}/messages",
                              json={"question": question}).json()
            read_back = http.get(f"/v1/conversations/{conversation}").json()
        results[name] = search, query, text, chunks, asked, read_back, conversation
    search, query, text, chunks, asked, read_back, conversation = results["masked"]
    assert "[email]" in search["hits"][0]["text"] and DESK not in json.dumps(search)
    assert "[email]" in query["sources"][0]["text"] and DESK not in json.dumps(query)
    assert DESK not in text and DESK not in json.dumps(chunks)
    assert "[email]" in chunks[-1]["sources"][0]["text"]
    assert DESK not in json.dumps(asked) and "[email]" in asked["message"]["sources"][0]["text"]
    assert DESK not in json.dumps(read_back)
    assert "[email]" in read_back["messages"][1]["sources"][0]["text"]
    # kept as made: a key that does not ask for masking reads the same conversation whole
    plain_view = httpx.get(f"{api.url}/v1/conversations/{conversation}",
                           headers=auth(keys["reader"])).json()
    assert DESK in plain_view["messages"][1]["sources"][0]["text"]
    search, query, text, chunks, asked, read_back, _ = results["plain"]
    assert DESK in search["hits"][0]["text"] and DESK in query["sources"][0]["text"]
    assert DESK in chunks[-1]["sources"][0]["text"]
    assert DESK in read_back["messages"][1]["sources"][0]["text"]


def test_a_masking_key_gets_plain_chats_masked_streamed_or_not(api, keys, service, monkeypatch):
    """What the model writes in a plain chat (rag: false) is masked too, even when an
    address arrives in pieces; the model is replaced by a script here, as what a small
    model writes cannot be foretold."""
    from engine import Answer, AnswerStream

    def scripted(messages, max_tokens=None):
        pieces = ["Write to ", "ann.lee", "@exam", "ple.com or call ", "+44 20 7946 ",
                  "0958", ". Done."]
        return AnswerStream(iter(pieces), lambda text: Answer("q", text, []),
                            whole_pieces=False)

    monkeypatch.setattr(service.answers, "chat", scripted)
    masked = scoped(service, "masked", collections=None, mask=True)
    body = {"rag": False, "messages": [{"role": "user", "content": "Who do I write to?"}]}
    for key, shown in ((masked, "Write to [email] or call [phone]. Done."),
                       (keys["reader"], "Write to ann.lee@example.com or call "
                                        "+44 20 7946 0958. Done.")):
        with httpx.Client(base_url=api.url, headers=auth(key), timeout=60) as http:
            whole = http.post("/v1/chat/completions", json=body).json()
            assert whole["choices"][0]["message"]["content"] == shown
            with http.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as s:
                text, _ = sse(s)
            assert text == shown


def test_the_readme_scoped_key_example_runs_as_written(api, service, library):
    """The README's scoped, masking key: its curl commands, run by the shell as a reader
    copies them (only the host and the key are this test's), answer as the README says."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("enclave keys create maintenance-team"):]
    create, *commands = re.findall(r"^(enclave keys create .*?|curl -s .*?')$",
                                   section[:section.index("```")], re.M | re.S)
    assert create.split()[3:] == ["maintenance-team", "--collection", "maintenance",
                                  "--mask-personal-data"]
    key = service.access.create_key("maintenance-team", "read-only", ["maintenance"], True)[1]
    port = api.url.rsplit(":", 1)[1]
    outputs = []
    for command in commands:
        done = subprocess.run(["bash", "-c", command.replace("localhost:8765",
                                                             f"127.0.0.1:{port}")],
                              capture_output=True, text=True, timeout=60,
                              env={"KEY": key, "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout))
    found, refused = outputs
    assert found["hits"] and all(h["document"] == "pumps.txt" for h in found["hits"])
    assert "[email]" in found["hits"][0]["text"] and DESK not in json.dumps(found)
    assert refused["error"]["type"] == "permission_error"


def test_a_masking_key_cannot_confirm_a_guessed_address_by_searching_for_it(api, keys,
                                                                           service, library):
    """Its query is searched with personal data masked: the address it guessed ranks the
    same passages as "[email]" would, whether the library holds that address or not."""
    masked = scoped(service, "masked", collections=None, mask=True)
    with httpx.Client(base_url=api.url, headers=auth(masked), timeout=60) as http:
        guessed = http.post("/v1/search", json={"query": f"faults {DESK}", "k": 3}).json()
        unknown = http.post("/v1/search", json={"query": "faults no.one@elsewhere.org",
                                                "k": 3}).json()
    assert guessed["query"] == unknown["query"] == "faults [email]"
    assert guessed["hits"] == unknown["hits"]
    plain = httpx.post(f"{api.url}/v1/search", headers=auth(keys["reader"]),
                       json={"query": f"faults {DESK}", "k": 3}).json()
    assert plain["query"] == f"faults {DESK}"


def test_the_library_figures_need_a_key_for_every_collection(api, keys, service, library):
    """/metrics and /ready count the whole library: a key scoped to collections is refused
    (it would learn how many documents the others hold)."""
    key = scoped(service)
    for route in ("/metrics", "/ready"):
        refused = httpx.get(api.url + route, headers=auth(key), timeout=60)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["type"] == "permission_error"
        assert "the library's figures need a key for all of them" in refused.text
        assert httpx.get(api.url + route, headers=auth(keys["reader"]),
                         timeout=60).status_code in (200, 503)
