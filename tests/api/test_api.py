"""The LAN API over real HTTP on loopback: httpx, the openai package and curl."""

from __future__ import annotations

import json
import ssl
import subprocess
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import auth
from tests.conftest import make_pdf


def test_health_needs_no_key_and_everything_else_does(api, keys, service):
    with httpx.Client(base_url=api.url) as http:
        assert http.get("/health").json() == {"status": "ok"}
        missing = http.get("/v1/models")
        assert missing.status_code == 401 and "Bearer" in missing.json()["error"]["message"]
        assert http.get("/v1/models", headers=auth("enc_00000000_" + "0" * 64)).status_code == 401
        assert http.get("/v1/models", headers=auth(keys["reader"])).status_code == 200
        service.access.revoke_key("reader")
        revoked = http.get("/v1/models", headers=auth(keys["reader"]))
        assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]


def test_a_read_only_key_cannot_upload_or_delete(api, keys, tmp_path):
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"])) as http:
        refused = http.post("/v1/documents", files={"files": ("a.txt", b"hello there")})
        assert refused.status_code == 403 and "read-only" in refused.json()["error"]["message"]
        assert http.delete("/v1/documents/1").status_code == 403
        assert http.post("/v1/collections", json={"name": "x"}).status_code == 403


def test_upload_job_search_delete(api, keys, tmp_path, service):
    pdf = make_pdf(tmp_path / "pumps.pdf", ["Pump P-7 is inspected every 90 days.",
                                            "The relief valve opens at 12.5 bar."])
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=60) as http:
        job = http.post("/v1/documents", data={"collection": "plant"}, files=[
            ("files", ("pumps.pdf", pdf.read_bytes(), "application/pdf")),
            ("files", ("broken.pdf", b"not a pdf", "application/pdf"))])
        assert job.status_code == 202, job.text
        job_id = job.json()["id"]
        for _ in range(300):
            state = http.get(f"/v1/jobs/{job_id}").json()
            if state["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert state["state"] == "done", state
        files = {f["name"]: f for f in state["files"]}
        assert files["pumps.pdf"]["state"] == "indexed"
        assert files["broken.pdf"]["state"] == "failed" and files["broken.pdf"]["reason"]
        hits = http.post("/v1/search", json={"query": "relief valve pressure", "k": 3,
                                             "collection": "plant"}).json()["hits"]
        assert hits[0]["document"] == "pumps.pdf" and hits[0]["page"] == 2
        listed = http.get("/v1/documents", params={"collection": "plant"}).json()["documents"]
        assert [d["name"] for d in listed] == ["pumps.pdf"]
        uploads = service.config.data_dir / "uploads"
        assert not [p for p in uploads.rglob("*") if p.is_file()]  # nothing left on disk
        again = http.post("/v1/documents", data={"collection": "plant"}, files=[
            ("files", ("pumps.pdf", pdf.read_bytes(), "application/pdf"))]).json()
        for _ in range(300):
            if http.get(f"/v1/jobs/{again['id']}").json()["state"] == "done":
                break
            time.sleep(0.1)
        files = http.get(f"/v1/jobs/{again['id']}").json()["files"]
        assert files[0]["state"] == "skipped"  # the same file again: not a second document
        assert http.delete(f"/v1/documents/{listed[0]['id']}").json() == {"deleted": listed[0]["id"]}
        assert http.get("/v1/documents").json()["documents"] == []
        assert http.post("/v1/search", json={"query": "relief valve"}).json()["hits"] == []
        assert http.get("/v1/jobs/nope").status_code == 404


def test_too_large_upload_is_413_and_bad_requests_are_422(start_api, keys):
    api = start_api(api_max_upload_mb=1)
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"])) as http:
        big = http.post("/v1/documents", files={"files": ("big.txt", b"x" * (2 * 2**20))})
        assert big.status_code == 413 and "1 MiB" in big.json()["error"]["message"]
        bad = http.post("/v1/search", json={"k": 500})
        assert bad.status_code == 422
        message = bad.json()["error"]["message"]
        assert "query: Field required" in message and "k:" in message
        assert http.post("/v1/search", content=b"{oops", headers={
            "Content-Type": "application/json"}).status_code == 422
        assert http.delete("/v1/collections/none").status_code == 404


def test_rate_limit_answers_429_with_retry_after(start_api, keys):
    api = start_api(api_requests_per_minute=3)
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"])) as http:
        statuses = [http.get("/v1/collections").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = http.get("/v1/collections")
        assert int(limited.headers["Retry-After"]) >= 1
        other = http.get("/v1/collections", headers=auth(keys["writer"]))
        assert other.status_code == 200  # limits are per key


def test_openai_client_models_chat_embeddings(api, keys, service, corpus):
    from openai import OpenAI

    service.library.ingest([corpus])
    client = OpenAI(base_url=f"{api.url}/v1", api_key=keys["reader"], max_retries=0)
    assert service.config.generation_model in [m.id for m in client.models.list().data]
    completion = client.chat.completions.create(
        model="enclave", messages=[{"role": "user", "content": "At what pressure does the "
                                    "relief valve open?"}])
    assert "12.5" in completion.choices[0].message.content
    sources = completion.model_extra["sources"]
    assert sources[0]["document"] == "pumps.pdf" and completion.usage.completion_tokens > 0
    plain = client.chat.completions.create(
        model="enclave", extra_body={"rag": False}, max_tokens=20,
        messages=[{"role": "user", "content": "Say hello."}])
    assert plain.choices[0].message.content and plain.model_extra["sources"] == []
    streamed = client.chat.completions.create(
        model="enclave", stream=True,
        messages=[{"role": "user", "content": "Which badge do visitors wear?"}])
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert "blue" in text.lower()
    vectors = client.embeddings.create(model="x", input=["pump", "valve"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 384


def test_curl_streams_openai_chunks_ending_in_done(api, keys, service, corpus):
    service.library.ingest([corpus])
    body = json.dumps({"messages": [{"role": "user", "content": "How often is pump P-101 "
                                     "inspected?"}], "stream": True})
    out = subprocess.run(["curl", "-sN", "-H", f"Authorization: Bearer {keys['reader']}",
                          "-H", "Content-Type: application/json", "-d", body,
                          f"{api.url}/v1/chat/completions"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    events = [line[6:] for line in out.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    # text comes a checked sentence at a time; the last chunk says how it was made
    assert [c for c in chunks if c["choices"][0]["delta"].get("content")]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["sources"][0]["document"] == "pumps.pdf"
    assert chunks[-1]["kind"] in ("answer", "quote") and not chunks[-1]["refused"]
    assert "450" in "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)


def test_a_client_that_disconnects_frees_the_model(api, keys, service, corpus):
    service.library.ingest([corpus])
    body = {"messages": [{"role": "user", "content": "Describe the cooling plant."}],
            "stream": True}
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"]), timeout=60) as http:
        with http.stream("POST", "/v1/chat/completions", json=body) as response:
            next(response.iter_lines())
        started = time.monotonic()
        answer = http.post("/v1/query", json={"question": "Which badge do visitors wear?"})
        assert answer.status_code == 200 and time.monotonic() - started < 30  # the model is free
    for _ in range(50):  # the broken-off stream is logged once the server has noticed
        routes = sorted(e["route"] for e in service.access.audit_entries())
        if len(routes) == 2:
            break
        time.sleep(0.1)
    assert routes == ["/v1/chat/completions", "/v1/query"]


def test_query_ready_metrics_and_offline_docs(api, keys, service, corpus):
    service.library.ingest([corpus])
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"]), timeout=60) as http:
        answer = http.post("/v1/query", json={"question": "At what pressure does the relief "
                                              "valve open?"}).json()
        assert not answer["refused"] and answer["sources"] and "retrieve" in answer["timings"]
        assert answer["kind"] in ("answer", "quote") and "12.5" in answer["answer"]
        off_topic = http.post("/v1/query", json={"question": "Who won the 1966 World Cup?"}).json()
        assert off_topic["refused"] and off_topic["kind"] == "refusal"
        assert not any(s["cited"] for s in off_topic["sources"])  # the closest, to read
        service.warm_up()
        assert http.get("/ready").json()["ready"] is True
        text = http.get("/metrics").text
        families = {f.name: f for f in text_string_to_metric_families(text)}
        requests = families["enclave_requests"].samples
        assert any(s.labels["route"] == "/v1/query" and s.labels["status"] == "200" for s in requests)
        assert "enclave_stage_seconds" in families and "enclave_generation_queue_depth" in families
        lookups = {(s.labels["cache"], s.labels["result"]): s.value
                   for s in families["enclave_cache_lookups"].samples}
        assert lookups[("answers", "miss")] >= 2 and ("query_embeddings", "hit") in lookups
        docs = http.get("/docs")
        assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
        assert "cdn" not in docs.text.lower()
        assert http.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
        assert "/v1/chat/completions" in http.get("/openapi.json").json()["paths"]


def test_the_audit_log_records_requests_and_detects_tampering(api, keys, service, corpus):
    service.library.ingest([corpus])
    with httpx.Client(base_url=api.url, timeout=60) as http:
        http.post("/v1/search", json={"query": "relief valve"}, headers=auth(keys["reader"]))
        http.get("/v1/models")
        http.get("/v1/collections", headers=auth(keys["writer"]))
    deadline = time.monotonic() + 15  # an entry is written once its response has been sent
    while len(service.access.audit_entries()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    entries = service.access.audit_entries()
    assert [(e["key_name"], e["route"], e["status"]) for e in entries] == [
        ("reader", "/v1/search", 200), (None, "/v1/models", 401), ("writer", "/v1/collections", 200)]
    assert json.loads(entries[0]["documents"])  # the documents the search drew on
    stored = json.dumps(entries)
    assert keys["reader"] not in stored and "relief" not in stored
    assert service.access.verify_audit() == []  # tampering: tests/engine/test_access.py


def test_https_with_a_self_signed_certificate(service, tmp_path):
    from app.server import ApiServer, self_signed_certificate
    from app.settings import load_settings

    cert, key = self_signed_certificate(tmp_path / "tls", "127.0.0.1")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    server = ApiServer(service, load_settings(), "127.0.0.1", 0, (cert, key))
    server.start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(cert))
        assert httpx.get(f"{server.url}/health", verify=trusted).json() == {"status": "ok"}
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/health")  # not trusted without the certificate
    finally:
        server.stop()
