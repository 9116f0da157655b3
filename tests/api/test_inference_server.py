"""Answers from the site's own inference server: llama-cpp-python's `llama_cpp.server`
serving the bundled SmolLM2 GGUF as a real process on loopback, with an API key.

Through the engine, the LAN API and the command line: answers stream from it, cite their source and pass
the sentence checks; plain chat goes to it token by token; /ready says which generator is
in use; the settings check names a wrong address, key or model; a server that hangs
(SIGSTOP) times out into a quotation that says why; a killed server is stood in for by
the local model when that is allowed, else the answer is a quotation with the reason.
One server for the module; the last test kills it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import auth
from tests.api.test_cli_api import free_port

SERVER_KEY = "site-gpu-key-5d41402abc4b2a76"
MODEL = "smollm2"
QUESTION = "At what pressure does the relief valve open?"


@dataclass
class InferenceServer:
    url: str
    process: subprocess.Popen
    log: Path

    def chats_served(self) -> int:
        """Chat completions the server has answered (its access log)."""
        return self.log.read_text().count('"POST /v1/chat/completions HTTP/1.1" 200')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from engine.models import generation_model_file

    folder = tmp_path_factory.mktemp("inference-server")
    model = generation_model_file("smollm2-135m-instruct", folder)
    port = free_port()
    log = folder / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias",
         MODEL, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
         "--api_key", SERVER_KEY], stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"the server ended: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"{url}/models", headers=auth(SERVER_KEY)).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start in 2 minutes"
            time.sleep(0.5)
        yield InferenceServer(url, process, log)
    finally:
        process.kill()
        process.wait()


def _remote(config, url: str, **changes):
    """The test's configuration with answers from `url` (60 s for each piece: this machine
    is shared), no fallback unless changed."""
    return dataclasses.replace(config, **{
        "inference_server_url": url, "inference_server_model": MODEL,
        "inference_server_key": SERVER_KEY, "inference_server_timeout_s": 60.0,
        "inference_server_fallback": False, "temperature": 0.0, **changes})


def test_answers_stream_from_the_server_cite_their_source_and_are_checked(
        server, config, open_service, corpus, caplog):
    service = open_service(_remote(config, server.url))
    service.library.ingest([corpus])
    caplog.set_level(logging.DEBUG)
    served = server.chats_served()

    stream = service.answers.ask(QUESTION)
    pieces = list(stream)
    answer = stream.answer
    # written by the server, every sentence supported by a source (else it is a quotation)
    assert server.chats_served() == served + 1
    assert answer.kind == "answer" and not answer.fallback, answer
    assert "12.5 bar" in answer.text and "".join(pieces).strip() == answer.text
    assert [(s.hit.document, s.hit.page) for s in answer.cited_sources] == [("pumps.pdf", 2)]

    chat = service.answers.chat([{"role": "user", "content": "Name three colours."}], 24)
    tokens = list(chat)
    assert len(tokens) > 3 and chat.answer.text  # token by token, as the server sends them
    assert server.chats_served() == served + 2
    assert SERVER_KEY not in caplog.text


def test_the_api_answers_from_the_server_and_ready_says_so(server, config, open_service,
                                                           corpus):
    from app.server import ApiServer
    from app.settings import load_settings

    service = open_service(_remote(config, server.url))
    service.library.ingest([corpus])
    key = service.access.create_key("reader", "read-only")[1]
    assert service.warm_up() == ""
    api = ApiServer(service, load_settings(), "127.0.0.1", 0)
    api.start()
    try:
        with httpx.Client(base_url=api.url, headers=auth(key), timeout=120) as http:
            ready = http.get("/ready").json()
            assert ready["ready"] and ready["generator"] == "inference server"
            assert ready["inference_server"] == server.url
            assert ready["generation_model"] == MODEL and ready["fallback_model"] == ""
            served = server.chats_served()
            with http.stream("POST", "/v1/chat/completions", json={
                    "rag": False, "stream": True, "max_tokens": 16,
                    "messages": [{"role": "user", "content": "Say hello."}]}) as reply:
                events = [line for line in reply.iter_lines() if line.startswith("data: {")]
            assert reply.status_code == 200 and len(events) > 3
            assert server.chats_served() == served + 1
            answer = http.post("/v1/query", json={"question": QUESTION}).json()
            assert answer["kind"] == "answer" and "12.5 bar" in answer["answer"]
            assert server.chats_served() == served + 2
    finally:
        api.stop()


def test_the_command_line_answers_from_the_server_the_environment_names(
        server, config, open_service, corpus, monkeypatch):
    from tests.test_cli import enclave

    library = open_service(config)
    library.library.ingest([corpus])
    library.close()
    for name, value in {"URL": server.url, "MODEL": MODEL, "KEY": SERVER_KEY}.items():
        monkeypatch.setenv(f"ENCLAVE_INFERENCE_SERVER_{name}", value)
    monkeypatch.setenv("ENCLAVE_TEMPERATURE", "0")
    served = server.chats_served()
    result = enclave(config.data_dir, "ask", "--json", QUESTION)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["kind"] == "answer" and "12.5 bar" in answer["answer"], answer
    assert not answer["fallback"] and server.chats_served() == served + 1
    assert SERVER_KEY not in result.stdout + result.stderr


def test_the_settings_check_says_what_is_wrong(server):
    from engine import ModelUnavailableError, check_inference_server

    assert check_inference_server(server.url.removesuffix("/v1"), MODEL, SERVER_KEY) == [MODEL]
    assert check_inference_server(server.url, "", SERVER_KEY) == [MODEL]
    problems = {
        "key": (server.url, MODEL, "not-the-key"),
        "model": (server.url, "llama-70b", SERVER_KEY),
        "address": (f"http://127.0.0.1:{free_port()}/v1", MODEL, SERVER_KEY),
        "path": (server.url + "/engines", MODEL, SERVER_KEY),
    }
    said = {}
    for problem, (url, model, key) in problems.items():
        with pytest.raises(ModelUnavailableError) as raised:
            check_inference_server(url, model, key, timeout_s=5)
        said[problem] = str(raised.value)
        assert SERVER_KEY not in said[problem] and "not-the-key" not in said[problem]
    assert "refused the API key (HTTP 401" in said["key"]
    assert "does not serve 'llama-70b' (it serves: smollm2)" in said["model"]
    assert "cannot be reached" in said["address"]
    assert "not found" in said["path"]


def test_a_server_that_hangs_times_out_into_a_quotation(server, config, open_service, corpus):
    from engine import ModelUnavailableError

    service = open_service(_remote(config, server.url, inference_server_timeout_s=2.0))
    service.library.ingest([corpus])
    server.process.send_signal(signal.SIGSTOP)  # connections are accepted, nothing answers
    try:
        started = time.monotonic()
        answer = service.answers.ask(QUESTION).collect()
        waited = time.monotonic() - started
        assert answer.kind == "quote" and "12.5 bar" in answer.text
        assert answer.reason == "the language model is unavailable"
        assert f"The inference server at {server.url} did not answer within 2 s" in \
            answer.fallback
        assert waited < 30, "the 2 s timeout was not honoured"
        with pytest.raises(ModelUnavailableError, match="did not answer within 2 s"):
            service.answers.chat([{"role": "user", "content": "Hello"}]).collect()
    finally:
        server.process.send_signal(signal.SIGCONT)


def test_a_killed_server_falls_back_to_the_local_model_or_a_quotation(
        server, config, open_service, corpus, generator):
    from engine import ModelUnavailableError

    server.process.kill()
    server.process.wait()
    standing_in = open_service(_remote(config, server.url, inference_server_fallback=True))
    standing_in.library.ingest([corpus])
    problem = standing_in.warm_up()
    assert "cannot be reached" in problem and "The local model answers" in problem
    ready = standing_in.health.readiness()
    assert ready["generation_model_loaded"] and ready["fallback_model"] == config.generation_model

    answer = standing_in.answers.ask(QUESTION).collect()
    assert answer.fallback_model == generator.name  # the local model wrote it, and says why
    assert "cannot be reached" in answer.fallback and "local model answered" in answer.fallback
    assert answer.reason != "the language model is unavailable" and "12.5 bar" in answer.text
    chat = standing_in.answers.chat([{"role": "user", "content": "Hello"}], 8).collect()
    assert chat.fallback_model == generator.name and chat.text

    quoting = open_service(_remote(config, server.url, data_dir=config.data_dir.parent / "other"))
    quoting.library.ingest([corpus])
    started = time.monotonic()
    answer = quoting.answers.ask(QUESTION).collect()
    assert time.monotonic() - started < 30
    assert answer.kind == "quote" and "12.5 bar" in answer.text and not answer.fallback_model
    assert "cannot be reached" in answer.fallback
    with pytest.raises(ModelUnavailableError, match="cannot be reached"):
        quoting.answers.chat([{"role": "user", "content": "Hello"}]).collect()
