"""User input that once made the API answer 500 gets a clear 4xx, in the API's error shape."""

from __future__ import annotations

import json
import time

import httpx

from tests.api.conftest import auth


def test_ids_past_what_the_vault_holds_are_refused_not_crashed_on(api, keys):
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=60) as http:
        huge = 10**20
        for response in (
                http.post("/v1/search", json={"query": "pump", "document_ids": [huge]}),
                http.delete(f"/v1/documents/{huge}"),
                http.get(f"/v1/conversations/{huge}"),
                http.post("/v1/chat/completions", json={
                    "conversation_id": huge, "messages": [{"role": "user", "content": "Hi"}]})):
            assert response.status_code == 422, response.text
            assert response.json()["error"]["type"] == "invalid_request_error"


def test_upload_names_with_a_nul_byte_or_over_255_bytes_are_refused(api, keys, service):
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=60) as http:
        for name in ("x" * 252 + ".txt", "é" * 130 + ".txt"):
            response = http.post("/v1/documents", files=[("files", (name, b"text", "text/plain"))])
            assert response.status_code == 422 and "255" in response.json()["error"]["message"]
    boundary = "enclave-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"a\x00b.txt\"\r\nContent-Type: text/plain\r\n\r\ntext\r\n"
            f"--{boundary}--\r\n").encode()
    response = httpx.post(f"{api.url}/v1/documents", content=body, timeout=60, headers={
        **auth(keys["writer"]), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 422, response.text
    assert not [p for p in (service.config.data_dir / "uploads").rglob("*") if p.is_file()]


def test_a_lone_surrogate_in_a_message_is_422(api, keys):
    body = '{"messages": [{"role": "user", "content": "\\ud800"}], "rag": false}'
    response = httpx.post(f"{api.url}/v1/chat/completions", content=body, timeout=60,
                          headers={**auth(keys["reader"]), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text


def test_text_longer_than_the_models_context_is_a_clear_400_also_when_streamed(
        api, keys, service):
    words = " ".join(["pump"] * 20_000)
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"]), timeout=120) as http:
        plain = http.post("/v1/chat/completions", json={
            "rag": False, "messages": [{"role": "user", "content": words}]})
        assert plain.status_code == 400 and "too long" in plain.json()["error"]["message"]
        with http.stream("POST", "/v1/chat/completions", json={
                "rag": False, "stream": True,
                "messages": [{"role": "user", "content": words}]}) as streamed:
            lines = [line[6:] for line in streamed.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "[DONE]"
        assert "too long" in json.loads(lines[-2])["error"]["message"]


def test_unknown_routes_and_wrong_methods_answer_in_the_apis_error_shape(api, keys):
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"]), timeout=60) as http:
        missing = http.get("/v1/nothing-here")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"
        wrong = http.put("/v1/search", json={})
        assert wrong.status_code == 405 and "error" in wrong.json()


def test_a_request_that_fails_inside_is_answered_counted_and_audited(api, keys, service,
                                                                    monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(service.answers, "search", broken)
    with httpx.Client(base_url=api.url, headers=auth(keys["reader"]), timeout=60) as http:
        failed = http.post("/v1/search", json={"query": "pump"})
        assert failed.status_code == 500 and failed.json()["error"]["type"] == "server_error"
        assert "a bug" not in failed.text  # the details stay in the log
        metrics = http.get("/metrics").text
    assert 'route="/v1/search",status="500"' in metrics
    entries = []
    for _ in range(100):  # written once the response has gone
        entries = [e for e in service.access.audit_entries() if e["route"] == "/v1/search"]
        if entries:
            break
        time.sleep(0.05)
    assert entries and entries[0]["status"] == 500
    assert service.access.verify_audit() == []


def _chunks(megabytes: int):
    block = b'{"query": "' + b"x" * (2**20 - 11)
    for _ in range(megabytes):
        yield block


def _grown_mb(before: int) -> float:
    import psutil

    return (psutil.Process().memory_info().rss - before) / 2**20


def test_a_chunked_body_is_not_read_without_a_key_nor_past_the_limit_with_one(start_api, keys):
    """Regression: the upload limit read only Content-Length, and the body was parsed before
    the key was checked: 300 MB of chunked JSON without a key took a gigabyte of memory.
    (The server runs in this process: its memory is this process's.)"""
    import psutil

    api = start_api(api_max_upload_mb=4)
    before = psutil.Process().memory_info().rss
    with httpx.Client(base_url=api.url, timeout=120) as http:
        try:
            refused = http.post("/v1/search", content=_chunks(200),
                                headers={"Content-Type": "application/json"})
            assert refused.status_code == 401 and refused.json()["error"]["type"] == \
                "authentication_error"
        except httpx.TransportError:
            pass  # the server answered and closed before the client had sent it all
        assert _grown_mb(before) < 100
        try:
            too_big = http.post("/v1/search", content=_chunks(200), headers={
                **auth(keys["reader"]), "Content-Type": "application/json"})
            assert too_big.status_code == 413 and "4 MiB" in too_big.json()["error"]["message"]
        except httpx.TransportError:
            pass
        assert _grown_mb(before) < 100
        assert http.get("/v1/models", headers=auth(keys["reader"])).status_code == 200


def test_every_error_answer_is_declared_in_the_schema_in_the_shape_it_has(api, keys):
    """Regression: the OpenAPI schema declared only 200 and FastAPI's 422 of
    {"detail": [...]}, while every error answers {"error": {"message", "type"}}; 401, 404,
    409 and 400 were not declared at all, /metrics was said to be JSON and the key was a
    header parameter, not a security scheme (the fuzz test, test_fuzz.py, found them)."""
    schema = httpx.get(f"{api.url}/openapi.json", timeout=60).json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert schema["components"]["securitySchemes"] == {
        "HTTPBearer": {"type": "http", "scheme": "bearer",
                       "description": "An API key: `enclave keys create NAME`."}}
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            declared = operation["responses"]
            for status, response in declared.items():
                if status.startswith("4"):
                    assert response["content"] == {"application/json": {"schema": error}}, \
                        (method, path, status)
            if path != "/health":
                assert operation["security"] == [{"HTTPBearer": []}]
                assert {"401", "413", "422", "429"} <= set(declared), (method, path)
                assert not [p for p in operation.get("parameters", [])
                            if p["name"].lower() == "authorization"]
    assert list(schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == \
        ["text/plain"]
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=60) as http:
        assert http.post("/v1/collections", json={"name": "plant"}).status_code == 201
        answers = {("post", "/v1/collections"): http.post("/v1/collections",
                                                          json={"name": "plant"}),
                   ("delete", "/v1/collections/{name}"): http.delete("/v1/collections/nope"),
                   ("post", "/v1/embeddings"): http.post("/v1/embeddings", json={"input": " "}),
                   ("post", "/v1/search"): http.post("/v1/search", json={"k": 5}),
                   ("get", "/v1/documents"): http.get("/v1/documents?collection=nope")}
        answers[("get", "/v1/models")] = httpx.get(f"{api.url}/v1/models", timeout=60)
    for (method, path), response in answers.items():
        assert str(response.status_code) in schema["paths"][path][method]["responses"], \
            (method, path, response.status_code)
        assert set(response.json()) == {"error"} and set(response.json()["error"]) - {
            "code"} == {"message", "type"}  # and the engine message's code, when it has one


def test_a_wrong_method_names_every_method_of_its_path_in_allow(api, keys):
    """Regression: a 405 named only the methods of the first route of its path (`Allow:
    GET` for /v1/collections, which takes POST too): Starlette stops at the first route
    whose path matches (the fuzz test found it)."""
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=60) as http:
        for method, path, allowed in (("OPTIONS", "/v1/collections", "GET, POST"),
                                      ("PUT", "/v1/conversations/1", "GET, DELETE"),
                                      ("GET", "/v1/search", "POST"),
                                      ("PATCH", "/v1/documents", "GET, POST")):
            response = http.request(method, path)
            assert response.status_code == 405 and response.headers["allow"] == allowed
            assert response.json()["error"]["type"] == "invalid_request_error"
