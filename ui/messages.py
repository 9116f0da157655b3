"""One message of a conversation: Markdown text with clickable [n] citations, the
answer's sources as numbered chips, and Copy / Regenerate actions."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .flow_layout import FlowLayout

_CITATION = re.compile(r"\[(\d{1,2})\](?!\()")


def citation_links(markdown: str) -> str:
    """[n] markers become links `cite:n`, which the label reports when clicked."""
    return _CITATION.sub(lambda m: f"[\\[{m.group(1)}\\]](cite:{m.group(1)})", markdown)


def chip_text(source: dict) -> str:
    page = f" · p. {source['page']}" if source.get("page") else ""
    return f"[{source['n']}] {source.get('document', '?')}{page}"


class MessageView(QFrame):
    """A question or an answer. An answer may be streamed into with `append`."""

    sourceClicked = Signal(dict)
    regenerateClicked = Signal()

    def __init__(self, role: str, text: str = "", sources: list[dict] | None = None,
                 refused: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.role, self.text, self.sources, self.refused = role, text, list(sources or []), refused
        self.setObjectName("question" if role == "user" else "answer")
        self.setFrameShape(QFrame.StyledPanel)
        self.setAutoFillBackground(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        self.author = QLabel()
        self.author.setStyleSheet("font-weight: 600;")
        layout.addWidget(self.author)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.MarkdownText)
        self.body.setTextInteractionFlags(Qt.TextBrowserInteraction)
        self.body.setOpenExternalLinks(False)
        self.body.linkActivated.connect(self._link)
        layout.addWidget(self.body)
        self.status = QLabel()
        self.status.setStyleSheet("font-style: italic;")
        self.status.hide()
        layout.addWidget(self.status)
        self.chips = FlowLayout(spacing=6)
        layout.addLayout(self.chips)
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
        self._apply_colors()
        self.retranslate()
        self._render()
        self.set_sources(self.sources, refused)

    def retranslate(self) -> None:
        self.author.setText(self.tr("You") if self.role == "user" else self.tr("Enclave"))
        self.copy_button.setText(self.tr("Copy"))
        self.regenerate_button.setText(self.tr("Regenerate"))
        for i in range(self.chips.count()):
            self.chips.itemAt(i).widget().setToolTip(
                self.tr("Open the source: {0}").format(self.sources[i].get("path", "")))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.PaletteChange:
            self._apply_colors()
        super().changeEvent(event)

    def _apply_colors(self) -> None:
        palette = self.palette()
        base = QGuiApplication.palette()
        role = QPalette.AlternateBase if self.role == "user" else QPalette.Base
        palette.setColor(QPalette.Window, base.color(role))
        self.setPalette(palette)

    # --- content ---------------------------------------------------------------------

    def append(self, piece: str) -> None:
        self.text += piece
        self._render()

    def set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def set_sources(self, sources: list[dict], refused: bool = False) -> None:
        self.sources, self.refused = list(sources), refused
        while self.chips.count():
            self.chips.takeAt(0).widget().deleteLater()
        cited = {int(n) for n in _CITATION.findall(self.text)}
        for source in self.sources:
            chip = QPushButton(chip_text(source))
            chip.setObjectName("sourceChip")
            chip.setCursor(Qt.PointingHandCursor)
            font = chip.font()
            font.setBold(source["n"] in cited)  # the sources the answer cites stand out
            chip.setFont(font)
            chip.setFlat(source["n"] not in cited)
            chip.clicked.connect(lambda _=False, s=source: self.sourceClicked.emit(s))
            self.chips.addWidget(chip)
        self.retranslate()
        self._render()

    def set_regenerable(self, on: bool) -> None:
        self.regenerate_button.setVisible(on and self.role == "assistant")

    def _render(self) -> None:
        text = self.text if self.role == "assistant" else self.text.replace("\n", "  \n")
        self.body.setText(citation_links(text) if self.sources else text)
        self.body.setEnabled(not self.refused)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)

    def _link(self, url: str) -> None:
        if url.startswith("cite:"):
            n = int(url.split(":", 1)[1])
            for source in self.sources:
                if source["n"] == n:
                    self.sourceClicked.emit(source)
