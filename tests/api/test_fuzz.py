"""The LAN API fuzzed from its own OpenAPI schema with schemathesis, against a real server
(uvicorn on a loopback port, around a real library holding the sample corpus and the
real bundled models): no request gets a 5xx, and every answer is what the schema says
(a declared status, the declared content type and headers, a body that matches the
declared schema, a 405 that names the methods allowed).

schemathesis' own command line (`st run`) does the fuzzing, in a process of its own,
reading the schema from the server: a new route is fuzzed without changing this file.
Every request carries a read-write key, so that it gets past authentication;
`test_every_route_refuses_a_missing_or_bad_key` sends each route without a key and with
bad ones. Per route: the schema's examples, the coverage phase (the boundary values and
the invalid values of every field, the missing ones, the wrong types, the methods not
allowed) and up to `ENCLAVE_FUZZ_EXAMPLES` generated requests, valid and invalid (25 by
default; `make fuzz` runs 300 and a stateful phase: see the README), from a fixed seed.

What is held back, and why:
- Generation is capped, not skipped: answers from the documents are at most 32 tokens
  (the library's `max_answer_tokens`), and a plain chat is given at most 32 tokens
  whatever valid `max_tokens` it asked for (the request itself is sent and validated as
  generated). A valid 4096 would run the model for seconds per example.
- The routes that run the model (/v1/chat/completions, /v1/query and
  /v1/conversations/{id}/messages) get a third of the generated requests, at least 5.
- The per-key rate limit is raised for this server: at 600 a minute most of the run would
  be answered 429 (declared, so not a failure, but nothing behind it would be exercised).
  The limit has its own tests (test_api.py, test_guard.py).
- Checks left out: `positive_data_acceptance` (a schema-valid request answered 400 or
  422 fails it, and some rules are not expressible in the schema: a question of white
  space only, two uploaded files with one name; ids near 2**63 also fail it, as the
  generator rounds them past the declared maximum), `negative_data_rejection` (multipart
  fields are text on the wire: "a number where a string is declared" is a valid
  collection name there), `max_response_time` (the model's answers take seconds on a
  slow machine) and those of the stateful phase (`use_after_free`,
  `ensure_resource_availability`: `make fuzz` runs that phase, over the links schemathesis
  infers from the declared answers). What they found when this test was written was
  looked at: no server error, no answer in a shape other than the declared one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import auth

EXAMPLES = int(os.environ.get("ENCLAVE_FUZZ_EXAMPLES", "25"))
LONG_RUN = "ENCLAVE_FUZZ_EXAMPLES" in os.environ  # `make fuzz`: stateful too, output live
MAX_TOKENS = 32
SEED = 20261130
GENERATING = r"^/v1/(chat/completions|query|conversations/\{conversation_id\}/messages)$"
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance",
          "unsupported_method", "allow_header_conformance")
STATEFUL_CHECKS = ("use_after_free", "ensure_resource_availability")


@pytest.fixture
def config(tmp_path):
    """The library's configuration, with answers capped (see the module's docstring)."""
    from engine.config import EngineConfig

    return EngineConfig(data_dir=tmp_path / "data", kdf_log2_n=12, max_answer_tokens=MAX_TOKENS)


@pytest.fixture
def fuzzed_api(start_api, service, corpus, monkeypatch):
    service.library.ingest([corpus])
    service.warm_up()  # as `enclave serve` does: /ready answers 200, not 503
    chat = service.answers.chat
    monkeypatch.setattr(service.answers, "chat", lambda messages, max_tokens=None: chat(
        messages, min(max_tokens or MAX_TOKENS, MAX_TOKENS)))
    return start_api(api_requests_per_minute=100_000)


def _fuzz_config(folder: Path) -> Path:
    """schemathesis.toml for this run."""
    checks = CHECKS + (STATEFUL_CHECKS if LONG_RUN else ())
    lines = [
        f"seed = {SEED}",
        # the model's routes take a second or more a request: not the generator's fault
        'suppress-health-check = ["too_slow"]',
        "request-timeout = 120",
        "[cache]", "enabled = false",  # each run alike, nothing kept between them
        "[generation]", f"max-examples = {EXAMPLES}", 'mode = "all"', 'database = "none"',
        "[phases.examples]", "enabled = true",
        "[phases.coverage]", "enabled = true",
        "[phases.fuzzing]", "enabled = true",
        "[phases.stateful]", f"enabled = {str(LONG_RUN).lower()}",
        "[checks]", "enabled = false",
        *[f"{name}.enabled = true" for name in checks],
        "[[operations]]", f"include-path-regex = '{GENERATING}'",
        f"generation.max-examples = {max(5, EXAMPLES // 3)}",
    ]
    path = folder / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_no_request_gets_a_server_error_and_every_answer_matches_the_schema(
        fuzzed_api, keys, tmp_path, capsys):
    work = tmp_path / "schemathesis"  # where it may write (.hypothesis/, reports)
    work.mkdir()
    command = [str(Path(sys.executable).with_name("st")),
               "--config-file", str(_fuzz_config(work)),
               "run", f"{fuzzed_api.url}/openapi.json", "--workers", "1", "--no-color",
               "--continue-on-failure",
               "--header", f"Authorization: Bearer {keys['writer']}"]
    environment = {**os.environ, "COLUMNS": "100"}
    if LONG_RUN:  # its figures, live
        with capsys.disabled():
            done = subprocess.run(command, cwd=work, env=environment, timeout=3 * 3600)
        assert done.returncode == 0, "schemathesis found failures: see above"
        return
    done = subprocess.run(command, cwd=work, env=environment, timeout=800,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    cases = done.stdout[done.stdout.rfind("Test cases:"):].split("\n")[1].strip()
    took = done.stdout.rstrip().rsplit(" in ", 1)[-1].strip("= ")
    with capsys.disabled():  # the figures, in `make test`'s output too
        print(f"\nAPI fuzz (schemathesis, {EXAMPLES} generated requests a route): {cases} "
              f"in {took}")


def test_every_route_refuses_a_missing_or_bad_key(fuzzed_api):
    """Each route of the schema but /health, without a key and with bad ones: 401 in the
    API's error shape, with WWW-Authenticate, as the schema declares."""
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{fuzzed_api.url}/openapi.json")
    routes = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/health":
            continue
        routes += 1
        parameters = {name: value for name, value in (
            ("conversation_id", 1), ("document_id", 1), ("job_id", "x"), ("name", "x"))
            if "{" + name + "}" in operation.path}
        for headers in ({}, auth("enc_00000000_" + "0" * 64), {"Authorization": "Basic eDp4"}):
            response = httpx.request(operation.method.upper(),
                                     fuzzed_api.url + operation.path.format(**parameters),
                                     headers=headers, json={}, timeout=60)
            assert response.status_code == 401, (operation.label, response.text)
            assert response.json()["error"]["type"] == "authentication_error"
            assert response.headers["www-authenticate"] == "Bearer"
            operation.Case(path_parameters=parameters).validate_response(response)
    assert routes >= 19
