"""Upload jobs follow the library's one ingest worker: what they refuse, what they keep,
and what they leave on disk."""

from __future__ import annotations

import threading
import time

import httpx

from tests.api.conftest import auth


def _wait_done(http: httpx.Client, job: dict, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while job["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = http.get(f"/v1/jobs/{job['id']}").json()
    return job


def _uploaded_copies(service) -> list:
    return [p for p in service.config.data_dir.rglob("*") if "uploads" in p.parts]


def test_refused_files_and_name_clashes_get_clear_answers_and_leave_nothing(api, keys,
                                                                            service):
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=60) as http:
        twice = http.post("/v1/documents", files=[
            ("files", ("a/readme.md", b"# One\n\nFirst.", "text/markdown")),
            ("files", ("b/readme.md", b"# Two\n\nSecond.", "text/markdown"))])
        assert twice.status_code == 422 and "readme.md" in twice.json()["error"]["message"]

        job = http.post("/v1/documents", files=[
            ("files", ("notes.xyz", b"not a type Enclave reads", "text/plain")),
            ("files", ("fine.txt", b"The generator is tested every Monday.", "text/plain"))])
        assert job.status_code == 202
        job = _wait_done(http, job.json())
        states = {f["name"]: f for f in job["files"]}
        assert job["state"] == "done" and states["fine.txt"]["state"] == "indexed"
        assert states["notes.xyz"]["state"] == "failed" and "unsupported" in states[
            "notes.xyz"]["reason"]
    assert _uploaded_copies(service) == []  # the vault keeps the text; no copy stays


def test_a_file_that_fails_in_an_upload_says_why_with_its_code(api, keys, service):
    """Each failed file of a job has the English reason and its stable code (the key a
    client translates by): refused at once, or failed when read."""
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=60) as http:
        job = http.post("/v1/documents", files=[
            ("files", ("notes.xyz", b"not a type Enclave reads", "text/plain")),
            ("files", ("empty.txt", b"", "text/plain")),
            ("files", ("binary.txt", b"text\x00\x01", "text/plain")),
            ("files", ("fine.txt", b"The generator is tested every Monday.", "text/plain"))])
        assert job.status_code == 202
        job = _wait_done(http, job.json())
    files = {f["name"]: f for f in job["files"]}
    assert {name: (f["state"], f.get("reason"), f.get("code")) for name, f in files.items()} == {
        "notes.xyz": ("failed", "unsupported file type '.xyz'", "file_unsupported_type"),
        "empty.txt": ("failed", "empty file", "file_empty"),
        "binary.txt": ("failed", "binary data in a text file", "file_binary_text"),
        "fine.txt": ("indexed", None, None)}


def test_a_second_upload_of_a_name_still_waiting_is_refused_not_merged(api, keys, service,
                                                                       tmp_path):
    library = service.library
    started, go = threading.Event(), threading.Event()

    def hold(event):  # keep the worker at its first step while the second upload comes
        if not started.is_set():
            started.set()
            go.wait(60)

    library.subscribe(hold)
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=60) as http:
        first = http.post("/v1/documents", files=[
            ("files", ("busy.txt", b"Held: the first version.", "text/plain")),
            ("files", ("report.txt", b"The relief valve opens at 12.5 bar.", "text/plain"))])
        assert started.wait(60)
        again = http.post("/v1/documents", files=[
            ("files", ("report.txt", b"A different report.", "text/plain"))])
        go.set()
        assert again.status_code == 409 and "report.txt" in again.json()["error"]["message"]
        assert _wait_done(http, first.json())["state"] == "done"
    texts = [h.text for h in service.answers.search("relief valve", k=1)]
    assert "12.5 bar" in texts[0]  # the first upload was not replaced underneath its job


def test_uploads_left_in_the_clear_by_an_older_server_move_into_the_vault(start_api, service):
    uploads = service.config.data_dir / "uploads"
    (uploads / "in" / "abc").mkdir(parents=True)
    (uploads / "0123").mkdir()
    (uploads / "0123" / "half-received.pdf").write_bytes(b"%PDF")
    orphan = uploads / "in" / "abc" / "orphan.txt"
    orphan.write_text("Its job went with the old server.")
    queued = uploads / "in" / "abc" / "queued.txt"
    queued.write_text("Still in the queue: the next run stores it.")
    service.library.enqueue([queued], start=False)
    start_api()
    assert not uploads.exists()  # no upload is kept in a file any more
    assert service.library.wait_idle(120)  # the new server took up the queued upload
    assert [d.name for d in service.library.documents()] == ["queued.txt"]
    assert service.answers.search("still in the queue", k=1)[0].document == "queued.txt"


def test_an_accepted_upload_is_kept_encrypted_and_ingested_by_the_next_server(
        start_api, service, keys, open_service, config):
    """A 202 is a promise: the upload waits in the vault (never in a file, nowhere in
    plaintext in the data directory), and a server started after a stop ingests it."""
    from app.server import ApiServer
    from app.settings import load_settings

    held, go = threading.Event(), threading.Event()

    def hold(event):  # keep the worker at its first step: the upload is still queued
        if not held.is_set():
            held.set()
            go.wait(60)

    service.library.subscribe(hold)
    api = start_api()
    secret = b"The cellar pump is serviced by Harlow Hydraulics every second Tuesday."
    with httpx.Client(base_url=api.url, headers=auth(keys["writer"]), timeout=60) as http:
        accepted = http.post("/v1/documents", files=[("files", ("cellar.txt", secret))])
    assert accepted.status_code == 202 and held.wait(60)
    for path in config.data_dir.rglob("*"):  # vault, index, key, lock: no plaintext anywhere
        if path.is_file():
            assert b"Harlow Hydraulics" not in path.read_bytes(), path
    api.stop()
    closing = threading.Thread(target=service.close)  # as Ctrl-C of `enclave serve` does
    closing.start()
    go.set()
    closing.join(60)
    assert not closing.is_alive()

    again = open_service()
    assert [p.name for p in again.library.queued()] == ["cellar.txt"]
    server = ApiServer(again, load_settings(), "127.0.0.1", 0)  # the next server
    server.start()
    try:
        assert again.library.wait_idle(120)
        assert again.answers.search("cellar pump serviced", k=1)[0].document == "cellar.txt"
        assert again.library.pending() == 0
    finally:
        server.stop()
