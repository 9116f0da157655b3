"""The desktop and the LAN API served from it share one engine: one ingest worker over one
queue, and one set of conversations."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest

from tests.conftest import R_INTRO
from tests.ui.conftest import drop, ingest, set_up_library

pytestmark = pytest.mark.gui


@pytest.fixture
def served(open_window, qtbot):
    """A window with its library open and the LAN API served over the same service."""
    from app.server import ApiServer
    from app.settings import load_settings

    window = open_window()
    set_up_library(qtbot, window)
    server = ApiServer(window.service, load_settings(), "127.0.0.1", 0)
    server.start()
    key = window.service.access.create_key("client", "read-write")[1]
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"},
                        timeout=120)
    yield window, http
    http.close()
    server.stop()


def test_an_upload_during_a_desktop_import_is_ingested_once_and_shown_in_the_window(
        served, qtbot, corpus):
    window, http = served
    stored = Counter()
    lock = threading.Lock()

    def count(event):
        if getattr(event, "stage", None) == "indexed":
            with lock:
                stored[event.path] += 1
    window.service.library.subscribe(count)

    window.tabs.setCurrentWidget(window.documents)
    drop(window, [corpus, R_INTRO])  # the R manual keeps the worker busy for a while
    qtbot.waitUntil(lambda: window.documents.running, timeout=30_000)
    uploads = {f"upload-{n}.txt": f"Upload {n}: the spare fuses are in drawer {n}.".encode()
               for n in range(3)}
    job = http.post("/v1/documents", files=[("files", (name, data, "text/plain"))
                                             for name, data in uploads.items()]).json()
    assert window.documents.running  # the upload joined the queue the desktop is working on
    deadline = time.monotonic() + 600
    while job["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.5)
        job = http.get(f"/v1/jobs/{job['id']}").json()
    assert job["state"] == "done" and len(job["document_ids"]) == 3
    qtbot.waitUntil(lambda: not window.documents.running, timeout=600_000)

    names = Counter(d.name for d in window.service.library.documents())
    assert set(uploads) <= set(names) and "R-intro.pdf" in names
    assert max(names.values()) == 1  # each file stored once
    with lock:
        assert stored and max(stored.values()) == 1  # and ingested once, by one worker
    for name in uploads:  # the window lists the API's files with its own
        assert window.documents.row_state(name) == "indexed"
    # the API removes its own uploaded copies once stored, never the files a person added
    assert R_INTRO.exists() and all(p.exists() for p in corpus.iterdir())
    assert not (window.service.config.data_dir / "uploads" / "in").exists() or not any(
        p.is_file() for p in (window.service.config.data_dir / "uploads" / "in").rglob("*"))


def test_a_conversation_continued_over_the_api_shows_in_the_desktop(served, qtbot, corpus):
    window, http = served
    ingest(qtbot, window, [corpus])
    first = http.post("/v1/chat/completions", json={
        "conversation_id": "new",
        "messages": [{"role": "user", "content": "At what pressure does the relief valve open?"}],
    }).json()
    conversation = first["conversation_id"]
    second = http.post("/v1/chat/completions", json={
        "conversation_id": conversation,
        "messages": [{"role": "user", "content": "Which badge do visitors wear?"}],
    }).json()
    assert second["conversation_id"] == conversation and second["sources"]
    kept = http.get(f"/v1/conversations/{conversation}").json()
    assert [m["role"] for m in kept["messages"]] == ["user", "assistant", "user", "assistant"]
    assert kept["title"] == "At what pressure does the relief valve open?"

    chat = window.chat
    chat.reload_chats(select_first=True)
    qtbot.waitUntil(lambda: len(chat.message_views) == 4, timeout=10_000)
    assert chat.chat_id == conversation
    assert chat.message_views[2].text == "Which badge do visitors wear?"
    assert chat.message_views[3].text == second["choices"][0]["message"]["content"]
    # and the desktop goes on with it: the API reads the desktop's question back
    chat.question.setPlainText("Where are the spare keys?")
    chat.send()
    qtbot.waitUntil(lambda: not chat.generating, timeout=60_000)
    kept = http.get(f"/v1/conversations/{conversation}").json()
    assert len(kept["messages"]) == 6 and kept["messages"][4]["text"] == "Where are the spare keys?"
