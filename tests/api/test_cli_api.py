"""`enclave keys`, `enclave audit` and `enclave serve` from a fresh shell."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.test_cli import ROOT, enclave


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_keys_are_shown_once_listed_without_secret_and_revoked(tmp_path):
    data = tmp_path / "data"
    created = enclave(data, "keys", "create", "build-bot", "--scope", "read-write")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("enc_") and "cannot be shown again" in created.stderr
    listed = enclave(data, "keys", "list")
    assert "build-bot\tread-write" in listed.stdout and key[13:] not in listed.stdout
    duplicate = enclave(data, "keys", "create", "build-bot")
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    bad = enclave(data, "keys", "create", "has space")
    assert bad.returncode == 2 and "key name" in bad.stderr
    assert enclave(data, "keys", "revoke", "build-bot").returncode == 0
    assert "revoked" in enclave(data, "keys", "list").stdout
    missing = enclave(data, "keys", "revoke", "nobody")
    assert missing.returncode == 2 and "no key named" in missing.stderr
    raw = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    assert key.encode() not in raw and key[13:].encode() not in raw


def test_a_key_for_some_collections_with_personal_data_masked(tmp_path):
    data = tmp_path / "data"
    for name in ("maintenance", "hr", "finance"):
        assert enclave(data, "collections", "create", name).returncode == 0
    created = enclave(data, "keys", "create", "maintenance-team", "--collection", "maintenance",
                      "--collection", "finance", "--mask-personal-data")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("enc_")
    assert "for collections finance, maintenance, personal data masked" in created.stderr
    assert enclave(data, "keys", "create", "everyone").returncode == 0
    listed = enclave(data, "keys", "list").stdout.splitlines()
    assert listed[0].startswith("everyone\tread-only\t") and listed[0].endswith(
        "\tactive\tall collections\tunmasked")
    assert listed[1].startswith("maintenance-team\tread-only\t") and listed[1].endswith(
        "\tactive\tcollections finance, maintenance\tpersonal data masked")
    unknown = enclave(data, "keys", "create", "nowhere-team", "--collection", "nowhere")
    assert unknown.returncode == 2 and "no collection named 'nowhere'" in unknown.stderr
    assert "nowhere-team" not in enclave(data, "keys", "list").stdout


def test_serve_then_audit_verify_and_export(tmp_path):
    """`serve --port 0` takes a free port and its first line names it; the address is
    listening from that line on."""
    data = tmp_path / "data"
    key = enclave(data, "keys", "create", "reader").stdout.strip()
    env = {**os.environ, "ENCLAVE_PASSPHRASE": "correct horse battery", "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data), "serve",
                               "--port", "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        banner = server.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+) ", banner).group(1))
        assert port != 0 and "this machine only" in banner, banner
        with socket.socket() as taken:
            assert taken.connect_ex(("127.0.0.1", port)) == 0  # bound before the line
        busy = enclave(tmp_path / "other", "serve", "--port", str(port))
        assert busy.returncode == 2, busy.stderr
        assert f"could not listen on 127.0.0.1:{port}: Address already in use" in busy.stderr
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for _ in range(100):
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert http.get("/v1/collections", headers={"Authorization": f"Bearer {key}"}
                            ).status_code == 200
            assert http.get("/v1/collections").status_code == 401
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
    assert enclave(data, "audit", "verify").stdout.startswith("The audit log is intact: 2 entries")
    export = enclave(data, "audit", "export", str(tmp_path / "audit.csv"))
    assert export.returncode == 0
    lines = (tmp_path / "audit.csv").read_text().splitlines()
    assert lines[0].startswith("id,time_utc,key,client") and len(lines) == 3
    assert ",reader,127.0.0.1,GET,/v1/collections,200," in lines[1]


def test_serve_refuses_half_a_tls_pair(tmp_path):
    result = enclave(tmp_path / "data", "serve", "--tls-cert", str(tmp_path / "cert.pem"))
    assert result.returncode == 2 and "certificate and its private key" in result.stderr


def test_the_socket_serve_binds_sends_replies_at_once(service):
    """`enclave serve` binds its own socket (ApiServer.bind), and the connections accepted
    there inherit its options: without TCP_NODELAY, a reply written in two parts waited
    for the client's delayed ACK, 40 ms for each request after the first on a kept-alive
    connection (bench/api_load.py: /health at one client 22 instead of 800 per second)."""
    from app.server import ApiServer
    from app.settings import load_settings

    server = ApiServer(service, load_settings(), "127.0.0.1", 0)
    server.bind()
    try:
        assert server._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        server._socket.close()


def test_serve_with_search_workers_keeps_keys_limits_and_audit_right(tmp_path):
    """`serve --workers 2`: searches run in two processes of their own, which find what an
    upload adds; keys, the rate limit and the audit log stay the server's, and are right."""
    from tests.conftest import write_sample_corpus

    data, corpus = tmp_path / "data", write_sample_corpus(tmp_path / "corpus")
    assert enclave(data, "ingest", str(corpus / "pumps.pdf")).returncode == 0
    reader = enclave(data, "keys", "create", "reader").stdout.strip()
    writer = enclave(data, "keys", "create", "writer", "--scope", "read-write").stdout.strip()
    env = {**os.environ, "ENCLAVE_PASSPHRASE": "correct horse battery", "HF_HUB_OFFLINE": "1",
           "ENCLAVE_API_REQUESTS_PER_MINUTE": "40"}
    server = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data), "serve",
                               "--port", "0", "--workers", "2"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    made: list[tuple[str, str, int]] = []  # (key, route, status) of each request sent

    def call(http, method, path, key, **kwargs) -> httpx.Response:
        response = http.request(method, path, headers={"Authorization": f"Bearer {key}"},
                                **kwargs)
        made.append(({reader: "reader", writer: "writer"}.get(key, ""), path,
                     response.status_code))
        return response

    try:
        port = int(re.search(r":(\d+) ", server.stdout.readline()).group(1))
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for _ in range(600):
                state = call(http, "GET", "/ready", writer).json()
                if state["search_workers_ready"] == 2:
                    break
                time.sleep(0.2)
            assert state["search_workers"] == 2 and state["search_workers_ready"] == 2, state
            found = call(http, "POST", "/v1/search", reader, json={"query": "relief valve "
                                                                   "pressure", "k": 1})
            assert found.json()["hits"][0]["document"] == "pumps.pdf"
            assert call(http, "POST", "/v1/search", "enc_wrong", json={"query": "x"}
                        ).status_code == 401
            assert call(http, "POST", "/v1/documents", reader, files={
                "files": ("guide.md", (corpus / "guide.md").read_bytes())}).status_code == 403
            job = call(http, "POST", "/v1/documents", writer, files={
                "files": ("guide.md", (corpus / "guide.md").read_bytes())}).json()
            for _ in range(300):
                if call(http, "GET", f"/v1/jobs/{job['id']}", writer).json()["state"] == "done":
                    break
                time.sleep(0.2)
            hits = call(http, "POST", "/v1/search", reader, json={
                "query": "where are the backup tapes kept", "k": 1}).json()["hits"]
            assert hits[0]["document"] == "guide.md"  # imported after the workers started
            statuses = [call(http, "POST", "/v1/search", reader, json={"query": "valve"}
                             ).status_code for _ in range(40)]
            assert statuses[:30] == [200] * 30 and statuses[-1] == 429  # 40 a minute a key
            assert call(http, "GET", "/ready", writer).json()["search_workers_ready"] == 2
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
    export = enclave(data, "audit", "export", str(tmp_path / "audit.csv"))
    assert export.returncode == 0, export.stderr
    rows = [line.split(",") for line in (tmp_path / "audit.csv").read_text().splitlines()[1:]]
    assert [(row[2], row[5], int(row[6])) for row in rows] == [
        (key if status != 401 else "", re.sub(r"/jobs/\w+", "/jobs/{job_id}", route), status)
        for key, route, status in made]
    assert enclave(data, "audit", "verify").stdout.startswith(
        f"The audit log is intact: {len(made)} entries")
