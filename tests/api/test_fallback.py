"""Without its language model (missing file), the API still answers from the documents:
RAG answers are quotations that say why, plain chat says the model is unavailable (503)."""

from __future__ import annotations

import dataclasses

import httpx

from tests.api.conftest import auth
from tests.conftest import PASSPHRASE


def test_without_its_model_the_api_quotes_the_passages(config, embedder, corpus, tmp_path):
    from app.server import ApiServer
    from app.settings import load_settings
    from engine import EnclaveService

    config = dataclasses.replace(config, generation_model=str(tmp_path / "gone.gguf"))
    service = EnclaveService.open(config, lambda new: PASSPHRASE, prefer_keyring=False,
                                  embedder=embedder)
    server = None
    try:
        service.library.ingest([corpus])
        key = service.access.create_key("reader", "read-only")[1]
        server = ApiServer(service, load_settings(), "127.0.0.1", 0)
        server.start()
        question = "At what pressure does the relief valve open?"
        with httpx.Client(base_url=server.url, headers=auth(key), timeout=60) as http:
            answer = http.post("/v1/query", json={"question": question}).json()
            assert answer["kind"] == "quote" and "12.5 bar" in answer["answer"]
            assert "gone.gguf" in answer["fallback"] and answer["sources"]
            rag = http.post("/v1/chat/completions", json={
                "messages": [{"role": "user", "content": question}]})
            assert rag.status_code == 200
            assert "12.5 bar" in rag.json()["choices"][0]["message"]["content"]
            plain = http.post("/v1/chat/completions", json={
                "rag": False, "messages": [{"role": "user", "content": "Hello"}]})
            assert plain.status_code == 503
            assert plain.json()["error"]["type"] == "model_unavailable"
            assert "gone.gguf" in plain.json()["error"]["message"]
    finally:
        if server is not None:
            server.stop()
        service.close()
