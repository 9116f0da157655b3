"""What the chat shows while the library has no documents: it says so, offers "Add
documents…" and a drop zone, and follows the import until a document is in.

It only asks: the files chosen or dropped go to the Documents tab's own import (the
window connects `addRequested` and `pathsDropped` to it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .i18n import Retranslating


class DropZone(QFrame):
    """A dashed frame that takes dropped files and folders."""

    pathsDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setMinimumHeight(110)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignCenter)
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        self._hovered = False
        self._apply_colors()

    def _apply_colors(self) -> None:
        palette = QGuiApplication.palette()
        color = palette.color(QPalette.Highlight if self._hovered else QPalette.Mid).name()
        self.setStyleSheet(f"QFrame#dropZone {{ border: 2px dashed {color}; border-radius: 10px; }}")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.PaletteChange:
            self._apply_colors()
        super().changeEvent(event)

    def _hover(self, on: bool) -> None:
        self._hovered = on
        self._apply_colors()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            self._hover(True)

    def dragLeaveEvent(self, event) -> None:
        self._hover(False)

    def dropEvent(self, event) -> None:
        self._hover(False)
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.pathsDropped.emit(paths)


class EmptyLibrary(Retranslating, QWidget):
    addRequested = Signal()
    pathsDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("emptyLibrary")
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setAlignment(Qt.AlignCenter)
        self.text = QLabel()
        self.text.setAlignment(Qt.AlignCenter)
        self.text.setWordWrap(True)
        self.add_button = QPushButton()
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self.addRequested)
        self.drop_zone = DropZone()
        self.drop_zone.pathsDropped.connect(self.pathsDropped)
        self.progress = QLabel()
        self.progress.setAlignment(Qt.AlignCenter)
        self.progress.setWordWrap(True)
        self.progress.hide()
        self._import = (0, 0)
        column = QVBoxLayout()
        column.setSpacing(12)
        column.addWidget(self.title)
        column.addWidget(self.text)
        column.addWidget(self.add_button, 0, Qt.AlignCenter)
        column.addWidget(self.drop_zone)
        column.addWidget(self.progress)
        box = QWidget()
        box.setMinimumWidth(320)
        box.setMaximumWidth(520)
        box.setLayout(column)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 4)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Your library is empty"))
        self.text.setText(self.tr(
            "Add documents to ask questions about them: PDF, Word (.docx), text, Markdown or "
            "HTML, and scans (PNG, JPEG, TIFF). They stay on this computer."))
        self.add_button.setText(self.tr("Add documents…"))
        self.add_button.setToolTip(self.tr("Add documents (Ctrl+O)"))
        self.drop_zone.label.setText(self.tr("Or drop files or folders here"))
        self._show_progress()

    def show_import(self, done: int, total: int, running: bool) -> None:
        """Follow the import started from here (or from the Documents tab)."""
        self._import = (done, total) if running else (0, 0)
        self.progress.setVisible(running)
        self._show_progress()

    def _show_progress(self) -> None:
        done, total = self._import
        importing = (self.tr("Importing {0} of {1} files…").format(done, total) if total
                     else self.tr("Importing…"))
        self.progress.setText(importing + " " + self.tr(
            "You can ask as soon as the first document is in."))
