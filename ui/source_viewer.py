"""The source viewer: a cited passage shown in its document, highlighted.

A PDF (or an image file) whose file is still on disk opens at the passage's page, drawn
by the engine with the passage highlighted (on a scanned page, along the lines OCR read),
with page and zoom controls; every other source (and a file that has moved) shows the
document's text scrolled to the highlighted passage.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QPixmap, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QStackedWidget, QTextBrowser, QTextEdit, QVBoxLayout, QWidget)

from engine import EnclaveService, Passage, RenderedPage

from .i18n import Retranslating
from .worker import Tasks

HIGHLIGHT = QColor(255, 214, 51, 150)


class SourceViewer(Retranslating, QDialog):
    def __init__(self, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.service: EnclaveService | None = None
        self.passage: Passage | None = None
        self.highlight = ""
        self.page = 1
        self.pages = 1
        self.zoom = 1.5
        self.setMinimumSize(700, 800)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600;")
        self.title.setWordWrap(True)
        self.prev_button = QPushButton()
        self.prev_button.clicked.connect(lambda: self.show_page(self.page - 1))
        self.next_button = QPushButton()
        self.next_button.clicked.connect(lambda: self.show_page(self.page + 1))
        self.page_label = QLabel()
        self.zoom_out = QPushButton("−")
        self.zoom_out.clicked.connect(lambda: self._zoom(1 / 1.25))
        self.zoom_in = QPushButton("+")
        self.zoom_in.clicked.connect(lambda: self._zoom(1.25))
        self.open_button = QPushButton()
        self.open_button.clicked.connect(self.open_file)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        bar = QHBoxLayout()
        for widget in (self.prev_button, self.page_label, self.next_button, self.zoom_out,
                       self.zoom_in):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.open_button)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignHCenter | Qt.AlignTop)
        self.image_scroll = QScrollArea()
        self.image_scroll.setWidgetResizable(True)
        self.image_scroll.setWidget(self.image)
        self.text = QTextBrowser()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.image_scroll)
        self.stack.addWidget(self.text)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.stack, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Source"))
        self.prev_button.setText(self.tr("Previous page"))
        self.next_button.setText(self.tr("Next page"))
        self.zoom_out.setToolTip(self.tr("Zoom out"))
        self.zoom_in.setToolTip(self.tr("Zoom in"))
        self.open_button.setText(self.tr("Open file"))
        self._update_labels()

    @property
    def is_pdf_view(self) -> bool:
        return self.stack.currentWidget() is self.image_scroll

    def show_source(self, service: EnclaveService, source: dict) -> None:
        """Open the passage a citation names (a dict as stored with an answer)."""
        self.service = service
        self.highlight = source.get("text", "")
        document_id, start, end = source["document_id"], source["char_start"], source["char_end"]
        self.title.setText(source.get("document", ""))
        self.tasks.run(lambda _: service.answers.passage(document_id, start, end),
                       on_result=self._show_passage, on_error=self._failed)
        self.show()
        self.raise_()

    def _show_passage(self, passage: Passage) -> None:
        self.passage = passage
        self.pages = passage.pages or 1
        self.note.hide()
        if passage.drawable and passage.file_available:
            self.show_page(passage.page or 1)
        else:
            if passage.drawable:
                self._set_note(self.tr("The file is no longer at {0}: showing the text kept "
                                       "in the library.").format(passage.path))
            self._show_text(passage)
        self._update_labels()

    def _show_text(self, passage: Passage) -> None:
        self.stack.setCurrentWidget(self.text)
        self.text.setPlainText(passage.text)
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(passage.start)
        cursor.setPosition(passage.end, QTextCursor.KeepAnchor)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        fmt = QTextCharFormat()
        fmt.setBackground(HIGHLIGHT)
        selection.format = fmt
        self.text.setExtraSelections([selection])
        end = QTextCursor(self.text.document())
        end.movePosition(QTextCursor.End)
        self.text.setTextCursor(end)  # scroll past, then back: the passage lands on top
        start = QTextCursor(self.text.document())
        start.setPosition(passage.start)
        self.text.setTextCursor(start)
        self.text.ensureCursorVisible()

    def show_page(self, page: int) -> None:
        service, passage = self.service, self.passage
        if service is None or passage is None or not 1 <= page <= self.pages:
            return
        self.page = page
        zoom, highlight = self.zoom * self.devicePixelRatioF(), self.highlight
        self.stack.setCurrentWidget(self.image_scroll)
        self._update_labels()
        self.tasks.run(lambda _: service.answers.render_page(passage.document_id, page, highlight, zoom),
                       on_result=self._show_image, on_error=self._failed)

    def _show_image(self, rendered: RenderedPage) -> None:
        if rendered.page != self.page:
            return  # an older request, overtaken by a page change
        pixmap = QPixmap()
        pixmap.loadFromData(rendered.png, "PNG")
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self.image.setPixmap(pixmap)
        self.rendered = rendered

    def _zoom(self, factor: float) -> None:
        self.zoom = min(4.0, max(0.5, self.zoom * factor))
        self.show_page(self.page)

    def _update_labels(self) -> None:
        pdf = self.is_pdf_view and self.passage is not None
        for widget in (self.prev_button, self.next_button, self.page_label, self.zoom_in,
                       self.zoom_out):
            widget.setVisible(pdf)
        if pdf:
            self.page_label.setText(self.tr("Page {0} of {1}").format(self.page, self.pages))
            self.prev_button.setEnabled(self.page > 1)
            self.next_button.setEnabled(self.page < self.pages)
        self.open_button.setEnabled(self.passage is not None and self.passage.file_available)

    def _set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.show()

    def _failed(self, exc: BaseException) -> None:
        self._set_note(str(exc))

    def open_file(self) -> None:
        if self.passage is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.passage.path))))
