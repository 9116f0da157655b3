"""The sources under an answer, as a person wants to see them.

A chip for each page the answer uses (its cited sources), the others behind a small
"More sources (N)" toggle; for a refusal, the closest passages, offered to read. The
same page never shows twice (old history may hold duplicates: the lowest number is
kept). A chip's tooltip previews its passage; clicking it opens the source.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from .flow_layout import FlowLayout
from .i18n import Retranslating

CITATION = re.compile(r"\[(\d{1,2})\](?!\()")
PREVIEW_CHARS = 300


def cited_numbers(text: str) -> set[int]:
    """The source numbers a text cites with [n] markers."""
    return {int(n) for n in CITATION.findall(text)}


def is_cited(source: dict, markers: set[int]) -> bool:
    """Whether the answer uses this source: the engine says so ("cited"); a message stored
    before it did is judged by the [n] markers of its text."""
    if "cited" in source:
        return bool(source["cited"])
    return source.get("n") in markers


def _place(source: dict) -> tuple:
    document = source.get("document_id") or source.get("path") or source.get("document")
    if source.get("page"):
        return document, "page", source["page"]
    # no pages (text, Word, HTML): passages of one document differ by where they start
    return document, "at", source.get("char_start", source.get("chunk_id", source.get("n")))


def distinct_sources(sources: list[dict], text: str = "") -> list[tuple[dict, bool]]:
    """(source, cited) once per document page, in number order; the lowest number of a
    page is kept, cited when any of the page's numbers is."""
    markers = cited_numbers(text)
    kept: dict[tuple, list] = {}
    for source in sorted(sources, key=lambda s: s.get("n", 0)):
        entry = kept.setdefault(_place(source), [source, False])
        entry[1] = entry[1] or is_cited(source, markers)
    return [(source, cited) for source, cited in kept.values()]


def excerpt(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The passage's first `limit` characters on one line, cut at a word where there are
    words (not in Chinese), with an ellipsis when cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


class SourceChips(Retranslating, QWidget):
    """The chips of one message; `show_sources` fills them."""

    sourceClicked = Signal(dict)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = "answer"
        self._chips: list[tuple[QPushButton, dict]] = []
        self.caption = QLabel()
        self.caption.setObjectName("sourcesCaption")
        self.caption.setStyleSheet("font-weight: 600;")
        self.caption.hide()
        self.chips = FlowLayout(spacing=6)
        self.more_button = QPushButton()
        self.more_button.setObjectName("moreSources")
        self.more_button.setFlat(True)
        self.more_button.setCheckable(True)
        self.more_button.setCursor(Qt.PointingHandCursor)
        self.more_button.toggled.connect(self._toggle_more)
        self.more_button.hide()
        self.more_box = QWidget()
        self.more_chips = FlowLayout(self.more_box, spacing=6)
        self.more_box.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.caption)
        layout.addLayout(self.chips)
        layout.addWidget(self.more_button, 0, Qt.AlignLeft)
        layout.addWidget(self.more_box)
        self.apply_colors()

    def apply_colors(self) -> None:
        """Flat chips (not used by the answer, or a refusal's passages) read as links."""
        link = QGuiApplication.palette().color(QPalette.Link).name()
        style = f'QPushButton#sourceChip[flat="true"] {{ color: {link}; }}'
        if self.styleSheet() != style:
            self.setStyleSheet(style)

    def show_sources(self, sources: list[dict], text: str, kind: str) -> None:
        """Chips for `sources` (dicts of Source.to_json) of a message of this kind."""
        self.kind = kind
        for layout in (self.chips, self.more_chips):
            while layout.count():
                widget = layout.takeAt(0).widget()
                widget.hide()
                widget.deleteLater()
        self._chips = []
        found = distinct_sources(sources, text)
        if kind == "refusal" or not any(cited for _, cited in found):
            # nothing is used: all of them, plainly (a refusal's closest passages)
            shown, more = [(s, False) for s, _ in found], []
        else:
            shown = [(s, True) for s, cited in found if cited]
            more = [(s, False) for s, cited in found if not cited]
        for source, cited in shown:
            self.chips.addWidget(self._chip(source, cited))
        for source, cited in more:
            self.more_chips.addWidget(self._chip(source, cited))
        self.caption.setVisible(kind == "refusal" and bool(shown))
        self.more_button.setVisible(bool(more))
        self.more_button.setChecked(False)
        self.more_box.hide()
        self.setVisible(bool(found))
        self.retranslate()

    def _chip(self, source: dict, cited: bool) -> QPushButton:
        chip = QPushButton()
        chip.setObjectName("sourceChip")
        chip.setCursor(Qt.PointingHandCursor)
        font = chip.font()
        font.setBold(cited)  # the sources the answer uses stand out
        chip.setFont(font)
        chip.setFlat(not cited)
        chip.clicked.connect(lambda _=False, s=source: self.sourceClicked.emit(s))
        self._chips.append((chip, source))
        return chip

    def shown(self) -> list[QPushButton]:
        """The chips in view without opening "More sources"."""
        return [self.chips.itemAt(i).widget() for i in range(self.chips.count())]

    def hidden(self) -> list[QPushButton]:
        """The chips behind the "More sources" toggle."""
        return [self.more_chips.itemAt(i).widget() for i in range(self.more_chips.count())]

    def _toggle_more(self, on: bool) -> None:
        self.more_box.setVisible(on)
        self.retranslate()

    # --- texts -------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.caption.setText(self.tr("Closest passages:"))
        self.caption.setToolTip(self.tr(
            "They do not answer the question well enough, but you may want to read them."))
        more = self.more_chips.count()
        self.more_button.setText(self.tr("▾ Fewer sources") if self.more_button.isChecked()
                                 else self.tr("▸ More sources ({0})").format(more))
        self.more_button.setToolTip(self.tr(
            "Passages that were found but that this answer does not use"))
        for chip, source in self._chips:
            chip.setText(self.chip_text(source))
            chip.setToolTip(self.preview(source))

    def _where(self, source: dict) -> str:
        name = source.get("document") or "?"
        return self.tr("{0} · p. {1}").format(name, source["page"]) if source.get("page") else name

    def chip_text(self, source: dict) -> str:
        return f"[{source.get('n', '?')}] {self._where(source)}"

    def preview(self, source: dict) -> str:
        """The tooltip: document, page and the passage's beginning (rich text, escaped, so
        that Qt wraps it and a passage's own markup is shown as text)."""
        passage = excerpt(source.get("text") or "")
        parts = [f"<b>{html.escape(self._where(source))}</b>"]
        if passage:
            parts.append(html.escape(passage))
        hint = self.tr("Click to open the passage.")
        parts.append(f"<i>{html.escape(hint)}</i>")
        return "<qt>" + "".join(f"<p>{part}</p>" for part in parts) + "</qt>"
