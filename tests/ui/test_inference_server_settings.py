"""Settings → Answer model → Inference server: the address, model, timeout and fallback
are saved as settings and the engine follows them; the key goes into the library's vault,
never into settings.json; the check says what is wrong with an address nothing answers at;
the chat says when the answer is a quotation or the local model's because the server did
not answer."""

from __future__ import annotations

import pytest

from tests.api.test_cli_api import free_port
from tests.ui.conftest import ingest, set_up_library

pytestmark = pytest.mark.gui


def _ask(qtbot, window, question: str):
    window.chat.question.setPlainText(question)
    window.chat.send()
    qtbot.waitUntil(lambda: not window.chat.generating, timeout=120_000)
    return window.chat.message_views[-1]


def test_the_server_is_set_in_settings_and_its_key_kept_in_the_library(
        qtbot, open_window, tmp_path, corpus):
    window = open_window()
    set_up_library(qtbot, window)
    server = window.settings.server
    assert server.key.isEnabled() and server.key.placeholderText() == "None"
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    server.url.setText(url)
    server.model.setText("llama-3.1-8b")
    server.key.setText("gpu-box-key-0123456789")
    server.timeout.setValue(5)
    server.fallback.setChecked(False)
    window.settings.apply()
    qtbot.waitUntil(lambda: window.state == "ready"
                    and window.service.config.inference_server_url == url, timeout=30_000)

    saved = window.backend.settings
    assert (saved.inference_server_url, saved.inference_server_model,
            saved.inference_server_timeout_s, saved.inference_server_fallback) == (
        url, "llama-3.1-8b", 5.0, False)
    assert "gpu-box-key" not in (tmp_path / "config" / "settings.json").read_text()
    assert window.service.answers.has_inference_server_key
    assert server.key.text() == "" and "Kept in the library" in server.key.placeholderText()
    # the server is down and nothing stands in: the warm-up says so in the banner
    qtbot.waitUntil(lambda: "inference server" in window.banner.label.text(), timeout=30_000)
    assert "cannot be reached" in window.banner.label.text()
    assert "on " + url in window.health._generator_text()

    server.check_button.click()
    qtbot.waitUntil(lambda: "cannot be reached" in server.note.text(), timeout=30_000)
    assert "gpu-box-key" not in server.note.text()

    ingest(qtbot, window, [corpus])
    question = "At what pressure does the relief valve open?"
    view = _ask(qtbot, window, question)
    assert view.kind == "quote" and "12.5 bar" in view.text
    assert "inference server did not answer, so these are the passages" in view.status.text()
    assert "cannot be reached" in view.status.toolTip()

    server.fallback.setChecked(True)
    window.settings.apply()
    qtbot.waitUntil(lambda: window.state == "ready"
                    and window.service.config.inference_server_fallback, timeout=30_000)
    view = _ask(qtbot, window, question)
    assert "the local model wrote this answer" in view.status.text()
