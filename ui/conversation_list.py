"""The chat tab's left pane: the conversations kept in the library (the desktop's and the
LAN API's), newest first, a search over their titles and messages, New, Rename and Delete.

It lists, renames and deletes through `service.conversations`; which conversation is
open, and what opening one means, is the chat panel's (ui/chat.py).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem,
                               QMessageBox, QPushButton, QVBoxLayout, QWidget)

from engine import Chat, EnclaveService

from .i18n import Retranslating
from .worker import Tasks


class ConversationList(Retranslating, QWidget):
    chosen = Signal(int, object)
    """A conversation picked in the list: its id and its collection (None: all documents)."""
    newRequested = Signal()
    deleted = Signal(int)
    errorRaised = Signal(object)

    def __init__(self, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.service: EnclaveService | None = None
        self.current_id: int | None = None
        """The conversation open in the chat (kept selected when the list reloads)."""
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.chat_list = QListWidget()
        self.chat_list.setTextElideMode(Qt.ElideRight)
        self.chat_list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.chat_list.currentItemChanged.connect(self._selected)
        self.chat_list.itemChanged.connect(self._renamed)
        self.new_button = QPushButton()
        self.new_button.clicked.connect(self.newRequested)
        self.rename_button = QPushButton()
        self.rename_button.clicked.connect(self.rename_current)
        self.delete_button = QPushButton()
        self.delete_button.clicked.connect(self.delete_current)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.chat_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.rename_button)
        row.addWidget(self.delete_button)
        layout.addLayout(row)
        self.retranslate()
        self.set_enabled(False, False)

    def retranslate(self) -> None:
        self.search.setPlaceholderText(self.tr("Search conversations"))
        self.new_button.setText(self.tr("New chat"))
        self.new_button.setToolTip(self.tr("Start a new conversation (Ctrl+N)"))
        self.rename_button.setText(self.tr("Rename"))
        self.delete_button.setText(self.tr("Delete"))
        for row in range(self.chat_list.count()):
            item = self.chat_list.item(row)
            if not item.data(Qt.UserRole + 1):
                self.chat_list.blockSignals(True)
                item.setText(self.tr("New chat"))
                self.chat_list.blockSignals(False)

    def set_enabled(self, ready: bool, can_edit: bool) -> None:
        """`ready`: a library is open; `can_edit`: a conversation is open and not answering."""
        for widget in (self.new_button, self.chat_list, self.search):
            widget.setEnabled(ready)
        self.rename_button.setEnabled(can_edit)
        self.delete_button.setEnabled(can_edit)

    def _run(self, fn, on_result=None) -> None:
        self.tasks.run(fn, on_result=on_result, on_error=self.errorRaised.emit)

    # --- the list --------------------------------------------------------------------

    def reload(self, select_first: bool = False) -> None:
        service, search = self.service, self.search.text()
        if service is not None:
            self._run(lambda _: service.conversations.list(search),
                      lambda chats: self._show(chats, select_first))

    def _show(self, chats: list[Chat], select_first: bool) -> None:
        self.chat_list.blockSignals(True)
        self.chat_list.clear()
        selected = None
        for chat in chats:
            item = QListWidgetItem(chat.title or self.tr("New chat"))
            item.setToolTip(chat.title)
            item.setData(Qt.UserRole, chat.id)
            item.setData(Qt.UserRole + 1, chat.title)
            item.setData(Qt.UserRole + 2, chat.collection)
            item.setFlags(item.flags() | Qt.ItemIsEditable)
            self.chat_list.addItem(item)
            if chat.id == self.current_id:
                selected = item
        if selected is not None:
            self.chat_list.setCurrentItem(selected)
        self.chat_list.blockSignals(False)
        if selected is None and select_first and self.chat_list.count():
            self.chat_list.setCurrentRow(0)

    def clear_selection(self) -> None:
        self.chat_list.blockSignals(True)
        self.chat_list.clearSelection()
        self.chat_list.setCurrentItem(None)
        self.chat_list.blockSignals(False)

    def _selected(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.chosen.emit(item.data(Qt.UserRole), item.data(Qt.UserRole + 2))

    # --- rename and delete -----------------------------------------------------------

    def rename_current(self) -> None:
        item = self.chat_list.currentItem()
        if item is not None:
            self.chat_list.editItem(item)

    def _renamed(self, item: QListWidgetItem) -> None:
        service, chat_id, title = self.service, item.data(Qt.UserRole), item.text()
        if service is not None:
            self._run(lambda _: service.conversations.rename(chat_id, title),
                      lambda _: self.reload())

    def delete_current(self) -> None:
        item, service = self.chat_list.currentItem(), self.service
        if item is None or service is None or not self.delete_button.isEnabled():
            return
        answer = QMessageBox.question(
            self, self.tr("Delete conversation"),
            self.tr("Delete the conversation “{0}”? This cannot be undone.").format(item.text()))
        if answer != QMessageBox.Yes:
            return
        chat_id = item.data(Qt.UserRole)
        self.deleted.emit(chat_id)
        self._run(lambda _: service.conversations.delete(chat_id), lambda _: self.reload())
