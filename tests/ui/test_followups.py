"""A follow-up in the desktop chat: understood through the conversation, with what it was
searched as shown under the question ("Searched for: …"), also when the conversation is
opened again; a first question shows nothing of the kind."""

from __future__ import annotations

import pytest

from tests.engine.test_followups import FOLLOW_UP, OPENING, write_plant_library
from tests.ui.conftest import ingest, set_up_library

pytestmark = pytest.mark.gui


def ask(qtbot, chat, question: str) -> None:
    chat.question.setPlainText(question)
    chat.send()
    qtbot.waitUntil(lambda: not chat.generating, timeout=120_000)


def test_a_follow_up_in_the_chat_shows_what_it_was_searched_for(qtbot, open_window, tmp_path):
    window = open_window()
    set_up_library(qtbot, window)
    ingest(qtbot, window, [write_plant_library(tmp_path / "plant")])
    chat = window.chat
    ask(qtbot, chat, OPENING)
    ask(qtbot, chat, FOLLOW_UP)
    opening, _, follow_up, answer = chat.message_views
    assert not opening.searched_label.isVisible()
    assert follow_up.searched_label.isVisible()
    assert follow_up.searched_label.text() == (
        "Searched for: What pressure does it open at? (relief valve line 7)")
    assert "12.5" in answer.text
    assert [c.text() for c in answer.source_chips.shown()][0] == "[1] valves.txt"

    chat.new_chat()  # and back: the conversation kept in the vault shows it again
    assert chat.message_views == []
    chat.conversations.reload(select_first=True)
    qtbot.waitUntil(lambda: len(chat.message_views) == 4, timeout=10_000)
    shown = chat.message_views[2].searched_label
    assert shown.isVisible() and "(relief valve line 7)" in shown.text()
    assert not chat.message_views[0].searched_label.isVisible()
