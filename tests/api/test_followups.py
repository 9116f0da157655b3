"""Follow-ups over the LAN API: the conversation is the `messages` history of
/v1/chat/completions (as OpenAI clients send it) or a kept conversation; what was searched
comes back as `searched_for`; messages that do not end with a question, or too many of
them, are clear errors."""

from __future__ import annotations

import httpx

from tests.api.conftest import auth
from tests.engine.test_followups import FOLLOW_UP, OPENING, write_plant_library


def test_a_follow_up_finds_its_source_only_through_the_messages_before_it(
        api, keys, service, tmp_path):
    from openai import OpenAI

    service.library.ingest([write_plant_library(tmp_path / "plant")])
    client = OpenAI(base_url=f"{api.url}/v1", api_key=keys["reader"], timeout=120)
    alone = client.chat.completions.create(
        model="enclave", messages=[{"role": "user", "content": FOLLOW_UP}])
    assert alone.model_extra["searched_for"] == FOLLOW_UP
    assert alone.model_extra["sources"][0]["document"] != "valves.txt"

    first = client.chat.completions.create(
        model="enclave", messages=[{"role": "user", "content": OPENING}])
    assert first.model_extra["searched_for"] == OPENING
    history = [{"role": "user", "content": OPENING},
               {"role": "assistant", "content": first.choices[0].message.content},
               {"role": "user", "content": FOLLOW_UP}]
    reply = client.chat.completions.create(model="enclave", messages=history)
    assert "relief valve" in reply.model_extra["searched_for"]
    assert reply.model_extra["searched_for"].startswith(FOLLOW_UP)
    assert reply.model_extra["sources"][0]["document"] == "valves.txt"
    assert "12.5" in reply.choices[0].message.content

    streamed = client.chat.completions.create(model="enclave", messages=history, stream=True)
    chunks = list(streamed)
    assert "12.5" in "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[-1].model_extra["searched_for"] == reply.model_extra["searched_for"]


def test_in_a_kept_conversation_the_follow_up_reads_the_turns_kept_there(
        api, keys, service, tmp_path):
    service.library.ingest([write_plant_library(tmp_path / "plant")])
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"]), timeout=120) as http:
        first = http.post("/v1/chat/completions", json={
            "conversation_id": "new", "messages": [{"role": "user", "content": OPENING}]}).json()
        conversation = first["conversation_id"]
        asked = http.post(f"/v1/conversations/{conversation}/messages",
                          json={"question": FOLLOW_UP}).json()  # as the desktop asks
        assert "relief valve" in asked["searched_for"] and "12.5" in asked["answer"]
        assert asked["sources"][0]["document"] == "valves.txt"
        kept = http.get(f"/v1/conversations/{conversation}").json()["messages"]
        assert [m["searched_for"] for m in kept] == ["", "", asked["searched_for"], ""]
    assert service.conversations.messages(conversation)[2].searched_for == asked["searched_for"]


def test_messages_that_do_not_end_with_a_question_are_clear_errors(api, keys, service,
                                                                    tmp_path):
    service.library.ingest([write_plant_library(tmp_path / "plant")])
    user = {"role": "user", "content": OPENING}
    assistant = {"role": "assistant", "content": "It opens at 12.5 bar [1]."}
    system = {"role": "system", "content": "Answer briefly."}
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"]), timeout=120) as http:
        for messages, says, code in (
                ([system], "no question", "messages_without_question"),
                ([user, assistant], "must be the user's question", "messages_end_with_other_role"),
                ([user, assistant, system, user], "System messages come first",
                 "messages_system_late")):
            for stream in (False, True):  # refused before a stream begins
                refused = http.post("/v1/chat/completions",
                                    json={"messages": messages, "stream": stream})
                assert refused.status_code == 400, refused.text
                error = refused.json()["error"]
                assert says in error["message"] and error["type"] == "invalid_request_error"
                assert error["code"] == code  # English words, and the code to translate by
        too_many = http.post("/v1/chat/completions",
                             json={"messages": [user, assistant] * 500 + [user]})
        assert too_many.status_code == 422 and "1000" in too_many.text

        # a long history (1.2 MB, far past the model's context): its recent turns are read,
        # the question and the sources are whole
        long_history = [{"role": role, "content": f"{role} turn {n}: " + "pump " * 400}
                        for n in range(299) for role in ("user", "assistant")]
        reply = http.post("/v1/chat/completions", json={
            "messages": long_history + [user, assistant, {"role": "user", "content": FOLLOW_UP}]})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["searched_for"] == "What pressure does it open at? (relief valve line 7)"
        assert body["sources"][0]["document"] == "valves.txt"
        assert "12.5" in body["choices"][0]["message"]["content"]
        # a plain chat is the model's own conversation: the messages are not searched
        plain = http.post("/v1/chat/completions", json={"rag": False, "messages": [user, assistant]})
        assert plain.status_code == 200 and "searched_for" not in plain.json()
    assert service.conversations.list() == []  # nothing was kept
