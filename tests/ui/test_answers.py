"""How answers are shown: only the sources an answer uses, each page once, a quote as a
quote, a refusal readable with its closest passages, and an empty library that asks for
documents instead of answering."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QFileDialog

from tests.ui.conftest import drop, ingest, set_up_library

pytestmark = pytest.mark.gui


def source(n, document="R-intro.pdf", page=39, document_id=1, text="", **extra):
    return {"n": n, "document": document, "page": page, "document_id": document_id,
            "path": f"/docs/{document}", "text": text or f"Passage {n} of {document}.",
            "char_start": 0, "char_end": 10, **extra}


def chip_texts(chips):
    return [chip.text() for chip in chips]


def shown_text(label) -> str:
    """What a Markdown label shows, as plain text."""
    document = QTextDocument()
    document.setMarkdown(label.text())
    return document.toPlainText().strip()


def message(qtbot, *args, **kwargs):
    from ui.messages import MessageView

    view = MessageView(*args, **kwargs)
    qtbot.addWidget(view)
    return view


# --- display, from source dicts ---------------------------------------------------------

def test_only_the_cited_pages_are_chips_each_once_the_rest_behind_a_toggle(qtbot):
    sources = [source(1, page=39, cited=True), source(2, page=4, cited=False),
               source(3, page=4, cited=False), source(4, page=39, cited=True),
               source(5, document="policy.docx", page=None, document_id=2, cited=False)]
    view = message(qtbot, "assistant", "Use read.table() [1]. It reads a file [4].", sources,
                   kind="answer")
    chips = view.source_chips
    assert chip_texts(chips.shown()) == ["[1] R-intro.pdf · p. 39"]
    assert all(chip.font().bold() and not chip.isFlat() for chip in chips.shown())
    assert chip_texts(chips.hidden()) == ["[2] R-intro.pdf · p. 4", "[5] policy.docx"]
    assert chips.more_button.isVisibleTo(view) and not chips.more_box.isVisibleTo(view)
    assert chips.more_button.text() == "▸ More sources (2)"
    qtbot.mouseClick(chips.more_button, Qt.LeftButton)
    assert chips.more_box.isVisibleTo(view) and chips.more_button.text() == "▾ Fewer sources"
    with qtbot.waitSignal(view.sourceClicked) as clicked:
        qtbot.mouseClick(chips.hidden()[0], Qt.LeftButton)
    assert clicked.args[0]["n"] == 2
    with qtbot.waitSignal(view.sourceClicked) as clicked:  # [4] in the text still opens [4]
        view.body.linkActivated.emit("cite:4")
    assert clicked.args[0]["n"] == 4


def test_a_message_stored_before_cited_existed_is_judged_by_its_markers(qtbot):
    sources = [source(1, page=39), source(2, page=4), source(3, page=39)]
    view = message(qtbot, "assistant", "It is read.table() [3].", sources)
    # [3] is page 39, the page of [1]: that page shows once, as [1], and counts as used
    assert chip_texts(view.source_chips.shown()) == ["[1] R-intro.pdf · p. 39"]
    assert chip_texts(view.source_chips.hidden()) == ["[2] R-intro.pdf · p. 4"]


def test_a_chip_previews_its_passage_escaped(qtbot):
    text = "Use <b>read.csv</b> & friends. " + "word " * 100
    view = message(qtbot, "assistant", "It is [1].",
                   [source(1, page=12, text=text, cited=True)])
    tip = view.source_chips.shown()[0].toolTip()
    assert "<b>R-intro.pdf · p. 12</b>" in tip
    assert "Use &lt;b&gt;read.csv&lt;/b&gt; &amp; friends." in tip
    assert "…" in tip and tip.count("word") < 70  # the first ~300 characters
    assert "Click to open the passage." in tip


def test_a_quote_is_labelled_and_drawn_as_a_quotation(qtbot):
    text = ("> To read an entire data frame directly, use the read.table() function. [2]\n"
            "> The file should have a header line. [2]")
    view = message(qtbot, "assistant", text, [source(2, page=33, cited=True)], kind="quote")
    assert view.kind == "quote" and not view.refused
    assert view.kind_label.isVisibleTo(view)
    assert view.kind_label.text() == "Quoted from your documents"
    assert "own words" in view.kind_label.toolTip()
    assert view.kind_note.isVisibleTo(view)
    assert "border-left" in view.body.styleSheet()
    assert shown_text(view.body) == (
        "To read an entire data frame directly, use the read.table() function. [2]\n"
        "The file should have a header line. [2]")  # the lines, without their "> "
    # the documents' words as written: an R listing's [1] is no citation, 2*x*3 no emphasis
    listing = message(qtbot, "assistant", "> Typing 2*x*3 prints [1] 6 12 18. [2]",
                      [source(1, page=30), source(2, page=33, cited=True)], kind="quote")
    assert "cite:2" in listing.body.text() and "cite:1" not in listing.body.text()
    assert shown_text(listing.body) == "Typing 2*x*3 prints [1] 6 12 18. [2]"
    answer = message(qtbot, "assistant", "It is read.table() [2].",
                     [source(2, page=33, cited=True)], kind="answer")
    assert not answer.kind_label.isVisibleTo(answer) and not answer.body.styleSheet()


def test_a_refusal_reads_normally_and_offers_the_closest_passages(qtbot):
    closest = [source(1, page=7, cited=False), source(2, page=7, cited=False),
               source(3, page=9, cited=False)]
    view = message(qtbot, "assistant", "I don't know: the documents do not seem to cover this.",
                   closest, refused=True, kind="refusal")
    assert view.refused and view.body.isEnabled()
    assert view.body.text().startswith("I could not find an answer to this in your documents")
    chips = view.source_chips
    assert chips.caption.isVisibleTo(view) and chips.caption.text() == "Closest passages:"
    assert chip_texts(chips.shown()) == ["[1] R-intro.pdf · p. 7", "[3] R-intro.pdf · p. 9"]
    assert all(chip.isFlat() and not chip.font().bold() for chip in chips.shown())
    assert not chips.more_button.isVisibleTo(view)
    # a refusal stored before messages had a kind (kind "answer", refused set)
    old = message(qtbot, "assistant", "I don't know.", closest, refused=True, kind="answer")
    assert old.kind == "refusal" and old.body.isEnabled()


# --- the real window ----------------------------------------------------------------------

def test_an_empty_library_offers_to_add_documents_and_asks_nothing(qtbot, open_window, corpus,
                                                                    monkeypatch):
    window = open_window()
    set_up_library(qtbot, window)
    chat = window.chat
    qtbot.waitUntil(lambda: chat.library_empty.isVisible(), timeout=10_000)
    assert chat.library_empty.title.text() == "Your library is empty"
    assert not chat.scroll.isVisible() and not chat.question.isEnabled()
    asked = []
    monkeypatch.setattr(window.service.conversations, "ask", lambda *a, **k: asked.append(a))
    chat.question.setPlainText("What is in my documents?")
    chat.send()
    assert asked == [] and chat.message_views == [] and not chat.generating
    # "Add documents…" opens the Documents tab's own file dialog
    opened = []
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *a, **k: (opened.append(a), ([], ""))[1])
    qtbot.mouseClick(chat.library_empty.add_button, Qt.LeftButton)
    assert len(opened) == 1
    # dropping on the zone imports as the Documents tab does
    drop(chat.library_empty.drop_zone, [corpus / "notes.txt"])
    qtbot.waitUntil(lambda: not chat.library_empty.isVisible(), timeout=60_000)
    assert [d.name for d in window.service.library.documents()] == ["notes.txt"]
    assert window.documents.row_state("notes.txt") == "indexed"
    assert chat.scroll.isVisible() and chat.question.isEnabled() and chat.send_button.isEnabled()
    assert "135M" in window.settings.model_note.text()


def test_history_restores_each_answers_kind(qtbot, open_window, corpus):
    from engine import Source
    from engine.answers.chats import ChatStore

    window = open_window()
    set_up_library(qtbot, window)
    ingest(qtbot, window, [corpus])
    service = window.service
    hits = service.answers.search("relief valve pressure", k=3)
    sources = [Source(i + 1, hit).to_json() for i, hit in enumerate(hits)]
    # a history as the engine stores it (a quote comes only when a model's text fails its
    # check, so it is written here directly, below the facade)
    chats = ChatStore(service._vault)
    chat = chats.create()
    chats.add_message(chat.id, "user", "At what pressure does the relief valve open?")
    chats.add_message(
        chat.id, "assistant", "> The relief valve on line 7 opens at a pressure of 12.5 bar. [1]",
        [dict(s, cited=s["n"] == 1) for s in sources], False, kind="quote")
    chats.add_message(chat.id, "user", "What is the capital of Australia?")
    chats.add_message(chat.id, "assistant", "I don't know.",
                      [dict(s, cited=False) for s in sources], True, kind="refusal")
    window.chat.reload_chats(select_first=True)
    # the list may reload once more as the import's last events arrive: wait for what shows
    qtbot.waitUntil(lambda: len(window.chat.message_views) == 4
                    and window.chat.message_views[1].isVisible(), timeout=10_000)
    quote, refusal = window.chat.message_views[1], window.chat.message_views[3]
    assert quote.kind == "quote" and quote.kind_label.isVisible()
    assert [c.text() for c in quote.source_chips.shown()][0].startswith("[1] pumps.pdf")
    assert refusal.kind == "refusal" and refusal.body.isEnabled()
    assert refusal.source_chips.caption.isVisible() and refusal.source_chips.shown()


def test_an_off_topic_question_is_refused_in_the_chat_with_closest_passages(
        qtbot, open_window, corpus):
    window = open_window()
    set_up_library(qtbot, window)
    ingest(qtbot, window, [corpus])
    window.chat.question.setPlainText("What is the capital of Australia?")
    window.chat.send()
    qtbot.waitUntil(lambda: not window.chat.generating, timeout=60_000)
    view = window.chat.message_views[-1]
    assert view.kind == "refusal" and view.body.isEnabled()
    assert view.body.text().startswith("I could not find an answer")
    stored = window.service.conversations.messages(window.chat.chat_id)[-1]
    assert stored.kind == "refusal" and stored.refused
    assert all(not s["cited"] for s in stored.sources)
    if stored.sources:
        assert view.source_chips.caption.isVisible()
        assert all(chip.isFlat() for chip in view.source_chips.shown())


def test_without_its_model_the_chat_shows_the_passages_and_says_why(qtbot, open_window, corpus,
                                                                    embedder, tmp_path):
    import dataclasses

    from app.desktop import DesktopBackend
    from engine import EnclaveService

    class NoModelBackend(DesktopBackend):  # the model file was deleted from the disk
        def open_service(self, passphrase):
            config = dataclasses.replace(self.settings.engine_config(), kdf_log2_n=12,
                                         generation_model=str(tmp_path / "gone.gguf"))
            return EnclaveService.open(config, lambda new: passphrase, prefer_keyring=False,
                                       embedder=embedder)

    window = open_window(NoModelBackend(tmp_path / "config" / "settings.json"))
    set_up_library(qtbot, window)  # ready: the library is searchable without the model
    banner = window.banner.label.text()
    assert window.banner.isVisible() and "could not be loaded" in banner and "gone.gguf" in banner
    ingest(qtbot, window, [corpus])
    window.chat.question.setPlainText("At what pressure does the relief valve open?")
    window.chat.send()
    qtbot.waitUntil(lambda: not window.chat.generating, timeout=60_000)
    view = window.chat.message_views[-1]
    assert view.kind == "quote" and "12.5 bar" in view.text
    assert "could not be loaded" in view.status.text() and view.status.isVisible()
    assert "gone.gguf" in view.status.toolTip()
