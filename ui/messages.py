"""One message of a conversation: Markdown text with clickable [n] citations, the
sources it uses as numbered chips (ui/source_chips.py), and Copy / Regenerate actions.

An assistant message is one of the engine's three kinds (engine/answers.py): an
"answer", generated and checked against its sources; a "quote", the sources' own
sentences because the generated text could not be supported, labelled and shown as a
quotation; a "refusal", shown as the UI's own message in the UI's language (in normal
contrast) with the closest passages offered to read.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .i18n import Retranslating
from .source_chips import CITATION, SourceChips

KINDS = ("answer", "quote", "refusal")


def citation_links(markdown: str) -> str:
    """[n] markers become links `cite:n`, which the label reports when clicked."""
    return CITATION.sub(lambda m: f"[\\[{m.group(1)}\\]](cite:{m.group(1)})", markdown)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")
_TRAILING_MARKERS = re.compile(r"(\s*\[\d{1,2}\])+\s*$")


def quoted_lines(text: str) -> str:
    """A quote's Markdown blockquote lines ("> sentence [2]") as paragraphs of their own
    (the message draws the quotation itself, with a bar beside it). The sentences are the
    documents' words, shown as written: only the trailing [n] stays a marker, so that an
    R listing's "[1]" or a "2*3*4" is not taken for a citation or for emphasis."""
    paragraphs = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(">"):
            line = line[1:].strip()
        if not line:
            continue
        markers = _TRAILING_MARKERS.search(line)
        words, tail = (line[: markers.start()], markers.group().strip()) if markers else (line, "")
        paragraphs.append((_MARKDOWN.sub(r"\\\1", words) + " " + tail).strip())
    return "\n\n".join(paragraphs)


class MessageView(Retranslating, QFrame):
    """A question or an answer. An answer may be streamed into with `append`."""

    sourceClicked = Signal(dict)
    regenerateClicked = Signal()

    def __init__(self, role: str, text: str = "", sources: list[dict] | None = None,
                 refused: bool = False, kind: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.role, self.text, self.sources = role, text, list(sources or [])
        self.kind = self._kind(kind, refused)
        self.setObjectName("question" if role == "user" else "answer")
        self.setFrameShape(QFrame.StyledPanel)
        self.setAutoFillBackground(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        header = QHBoxLayout()
        self.author = QLabel()
        self.author.setStyleSheet("font-weight: 600;")
        self.kind_label = QLabel()  # "Quoted from your documents"
        self.kind_label.setObjectName("kindLabel")
        self.kind_label.hide()
        header.addWidget(self.author)
        header.addWidget(self.kind_label)
        header.addStretch(1)
        layout.addLayout(header)
        self.kind_note = QLabel()  # why it is a quotation
        self.kind_note.setWordWrap(True)
        self.kind_note.hide()
        layout.addWidget(self.kind_note)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.MarkdownText)
        self.body.setTextInteractionFlags(Qt.TextBrowserInteraction)
        self.body.setOpenExternalLinks(False)
        self.body.linkActivated.connect(self._link)
        layout.addWidget(self.body)
        self.searched_label = QLabel()  # a follow-up's standalone form, under the question
        self.searched_label.setObjectName("searchedFor")
        self.searched_label.setWordWrap(True)
        self.searched_label.setTextFormat(Qt.PlainText)
        self.searched_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.searched_label.hide()
        self.searched_for = ""
        layout.addWidget(self.searched_label)
        self.status = QLabel()
        self.status.setStyleSheet("font-style: italic;")
        self.status.hide()
        layout.addWidget(self.status)
        self.source_chips = SourceChips()
        self.source_chips.sourceClicked.connect(self.sourceClicked)
        self.chips = self.source_chips.chips
        layout.addWidget(self.source_chips)
        actions = QHBoxLayout()
        actions.addStretch(1)
        self.copy_button = QPushButton()
        self.copy_button.setFlat(True)
        self.copy_button.clicked.connect(self.copy)
        self.regenerate_button = QPushButton()
        self.regenerate_button.setFlat(True)
        self.regenerate_button.clicked.connect(self.regenerateClicked)
        self.regenerate_button.hide()
        actions.addWidget(self.copy_button)
        actions.addWidget(self.regenerate_button)
        layout.addLayout(actions)
        self.copy_button.setVisible(role == "assistant")
        self.set_sources(self.sources, kind=self.kind)

    @property
    def refused(self) -> bool:
        return self.kind == "refusal"

    @staticmethod
    def _kind(kind: str | None, refused: bool) -> str:
        # a refusal stored before messages had a kind has kind "answer" and refused set
        if refused:
            return "refusal"
        return kind if kind in KINDS else "answer"

    def retranslate(self) -> None:
        self.author.setText(self.tr("You") if self.role == "user" else self.tr("Enclave"))
        self.copy_button.setText(self.tr("Copy"))
        self.regenerate_button.setText(self.tr("Regenerate"))
        self.kind_label.setText(self.tr("Quoted from your documents"))
        explanation = self.tr(
            "Enclave could not answer this in its own words with confidence, so these are the "
            "passages' own words, copied from your documents. Click a number to open one.")
        self.kind_label.setToolTip(explanation)
        self.kind_note.setText(self.tr("Not a generated answer: the passages' own words."))
        self.kind_note.setToolTip(explanation)
        self.searched_label.setText(self.tr("Searched for: {query}").format(
            query=self.searched_for))
        self.searched_label.setToolTip(self.tr(
            "The question depends on the conversation before it, so it was searched and "
            "answered as this question, which stands on its own."))
        self._render()

    def apply_colors(self) -> None:
        palette = self.palette()
        base = QGuiApplication.palette()
        role = QPalette.AlternateBase if self.role == "user" else QPalette.Base
        palette.setColor(QPalette.Window, base.color(role))
        self.setPalette(palette)
        dark = base.color(QPalette.Base).lightness() < 128
        accent = base.color(QPalette.Link if dark else QPalette.Highlight).name()  # legible
        muted = base.color(QPalette.PlaceholderText).name()
        self.kind_label.setStyleSheet(
            f"QLabel {{ color: {accent}; border: 1px solid {accent}; border-radius: 4px;"
            " padding: 1px 6px; font-weight: 600; }")
        self.kind_note.setStyleSheet(f"QLabel {{ color: {muted}; }}")
        self.searched_label.setStyleSheet(f"QLabel {{ color: {muted}; font-style: italic; }}")
        # a quotation's bar; "border: none" first, or Qt draws no left border on a label
        self.body.setStyleSheet(
            f"QLabel {{ border: none; border-left: 3px solid {accent}; padding-left: 10px; }}"
            if self.kind == "quote" else "")

    # --- content ---------------------------------------------------------------------

    def append(self, piece: str) -> None:
        self.text += piece
        self._render()

    def set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def set_sources(self, sources: list[dict], refused: bool = False,
                    kind: str | None = None) -> None:
        """Settle the message: its sources and its kind (from the final answer)."""
        self.sources, self.kind = list(sources), self._kind(kind, refused)
        is_quote = self.kind == "quote" and self.role == "assistant"
        self.kind_label.setVisible(is_quote)
        self.kind_note.setVisible(is_quote)
        self.source_chips.show_sources(self.sources, self.text, self.kind)
        self.apply_colors()
        self.retranslate()

    def set_searched_for(self, query: str) -> None:
        """Show what a question was searched as, when that is not the question itself (a
        follow-up made standalone from the conversation)."""
        self.searched_for = query if query.strip() != self.text.strip() else ""
        self.searched_label.setVisible(bool(self.searched_for))
        self.retranslate()

    def set_regenerable(self, on: bool) -> None:
        self.regenerate_button.setVisible(on and self.role == "assistant")

    def displayed_text(self) -> str:
        """What the message says: a refusal in the UI's language, not the engine's words."""
        if self.role == "assistant" and self.kind == "refusal":
            return self.tr("I could not find an answer to this in your documents. Try other "
                           "words, or add the documents that cover it.")
        return self.text

    def _render(self) -> None:
        if self.role == "user":
            self.body.setText(self.text.replace("\n", "  \n"))
            return
        text = self.displayed_text()
        if self.kind == "quote":
            text = quoted_lines(text)
        self.body.setText(citation_links(text) if self.sources and self.kind != "refusal"
                          else text)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.displayed_text())

    def _link(self, url: str) -> None:
        if url.startswith("cite:"):
            n = int(url.split(":", 1)[1])
            for source in self.sources:
                if source["n"] == n:
                    self.sourceClicked.emit(source)
                    return
