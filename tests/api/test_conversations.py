"""/v1/conversations and `conversation_id` on chat completions: conversations kept in the
library, as the desktop keeps them."""

from __future__ import annotations

import httpx

from tests.api.conftest import auth


def test_a_conversation_is_started_asked_in_read_back_and_deleted(api, keys, service, corpus):
    service.library.ingest([corpus])
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=120) as http:
        created = http.post("/v1/conversations", json={"collection": None})
        assert created.status_code == 201 and created.json()["title"] == ""
        conversation = created.json()["id"]
        asked = http.post(f"/v1/conversations/{conversation}/messages",
                          json={"question": "Which badge do visitors wear?"})
        assert asked.status_code == 200
        body = asked.json()
        assert body["conversation_id"] == conversation and body["sources"]
        assert body["message"]["role"] == "assistant" and body["message"]["kind"] == body["kind"]
        listed = http.get("/v1/conversations", params={"search": "badge"}).json()
        assert [c["id"] for c in listed["conversations"]] == [conversation]
        kept = http.get(f"/v1/conversations/{conversation}").json()
        assert kept["title"] == "Which badge do visitors wear?"
        assert [m["text"] for m in kept["messages"]][0] == "Which badge do visitors wear?"
        assert kept["messages"][1]["sources"][0]["document"]
        assert http.delete(f"/v1/conversations/{conversation}").json() == {"deleted": conversation}
        assert http.get(f"/v1/conversations/{conversation}").status_code == 404
    assert service.conversations.list() == []  # the same conversations the desktop lists


def test_bad_conversation_requests_get_clear_errors_and_change_nothing(api, keys, service):
    with httpx.Client(base_url=api.url, timeout=60) as http:
        missing = http.post("/v1/conversations/999/messages", json={"question": "Hello?"},
                            headers=auth(keys["writer"]))
        assert missing.status_code == 404 and "error" in missing.json()
        empty = http.post("/v1/conversations", json={}, headers=auth(keys["writer"]))
        conversation = empty.json()["id"]
        blank = http.post(f"/v1/conversations/{conversation}/messages", json={"question": ""},
                          headers=auth(keys["writer"]))
        assert blank.status_code == 422
        plain = http.post("/v1/chat/completions", headers=auth(keys["reader"]), json={
            "rag": False, "conversation_id": conversation,
            "messages": [{"role": "user", "content": "Hello"}]})
        assert plain.status_code == 400 and "conversation" in plain.json()["error"]["message"]
        unknown = http.post("/v1/chat/completions", headers=auth(keys["reader"]), json={
            "conversation_id": 12345, "messages": [{"role": "user", "content": "Hello"}]})
        assert unknown.status_code == 404
        streamed = http.post("/v1/chat/completions", headers=auth(keys["reader"]), json={
            "conversation_id": 12345, "stream": True,
            "messages": [{"role": "user", "content": "Hello"}]})
        assert streamed.status_code == 404  # said before the stream starts, not inside it
        nowhere = http.post("/v1/conversations", json={"collection": "no such collection"},
                            headers=auth(keys["reader"]))
        assert nowhere.status_code == 404
        wrong = http.post("/v1/chat/completions", headers=auth(keys["reader"]), json={
            "conversation_id": "old", "messages": [{"role": "user", "content": "Hello"}]})
        assert wrong.status_code == 422
        refused = http.delete(f"/v1/conversations/{conversation}", headers=auth(keys["reader"]))
        assert refused.status_code == 403
        assert http.get("/v1/conversations", headers=auth(keys["reader"])).status_code == 200
    assert service.conversations.messages(conversation) == []  # nothing was written
