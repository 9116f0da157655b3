"""The chat tab: the conversation list on the left (ui/conversation_list.py), the
conversation on the right.

Questions are answered on a worker thread; a follow-up that needs the conversation is
searched as a standalone question, shown under it ("Searched for: …"); the answer streams
into the view piece by piece, Stop (or Esc) cancels it, and both question and answer
(with its kind: answer, quote or refusal) are kept in the vault. While the library has no documents the chat
asks nothing: it offers to add documents instead (ui/empty_library.py).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QScrollArea, QSplitter, QVBoxLayout, QWidget)

from engine import Answer, EnclaveService, Message

from .conversation_list import ConversationList
from .empty_library import EmptyLibrary
from .i18n import Retranslating
from .messages import MessageView
from .worker import Tasks

ALL_DOCUMENTS = None


class QuestionBox(QPlainTextEdit):
    """Enter sends, Shift+Enter starts a new line."""

    submitted = Signal()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and not event.modifiers() & Qt.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class ChatPanel(Retranslating, QWidget):
    sourceRequested = Signal(dict)
    errorRaised = Signal(object)
    addDocumentsRequested = Signal()
    pathsDropped = Signal(list)
    """Files or folders dropped on the empty library's drop zone, to import."""

    def __init__(self, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.service: EnclaveService | None = None
        self.chat_id: int | None = None
        self.generating = False
        self._stop = threading.Event()
        self._stream = None
        self._answer_view: MessageView | None = None
        self._views: list[MessageView] = []
        self.documents_count: int | None = None  # None until known
        self._imported_files = 0
        self._counts_asked = 0

        # left: conversations
        self.conversations = ConversationList(tasks)
        self.conversations.chosen.connect(self._chat_chosen)
        self.conversations.newRequested.connect(self.new_chat)
        self.conversations.deleted.connect(lambda _: self._open_chat(None, []))
        self.conversations.errorRaised.connect(self.errorRaised)
        self.chat_list = self.conversations.chat_list

        # right: the conversation
        self.scope_label = QLabel()
        self.collection_box = QComboBox()
        self.collection_box.setMinimumWidth(160)
        self.collection_box.activated.connect(self._scope_changed)
        top = QHBoxLayout()
        top.addWidget(self.scope_label)
        top.addWidget(self.collection_box)
        top.addStretch(1)
        self.messages = QWidget()
        self.messages_layout = QVBoxLayout(self.messages)
        self.messages_layout.addStretch(1)
        self.empty_hint = QLabel()
        self.empty_hint.setAlignment(Qt.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.messages_layout.insertWidget(0, self.empty_hint)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.messages)
        self.scroll.verticalScrollBar().rangeChanged.connect(self._follow)
        self.library_empty = EmptyLibrary()
        self.library_empty.addRequested.connect(self.addDocumentsRequested)
        self.library_empty.pathsDropped.connect(self.pathsDropped)
        self.library_empty.hide()
        self.question = QuestionBox()
        self.question.setMaximumHeight(90)
        self.question.submitted.connect(self.send)
        self.send_button = QPushButton()
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton()
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.hide()
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        ask_row.addLayout(buttons)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(top)
        right_layout.addWidget(self.library_empty, 1)
        right_layout.addWidget(self.scroll, 1)
        self.right_layout = right_layout
        right_layout.addLayout(ask_row)

        splitter = QSplitter()
        splitter.addWidget(self.conversations)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 760])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.retranslate()
        self._set_enabled()

    # --- texts -------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.scope_label.setText(self.tr("Ask in:"))
        self.question.setPlaceholderText(
            self.tr("Ask a question about your documents (Enter to send, Shift+Enter for a new line)"))
        self.send_button.setText(self.tr("Send"))
        self.stop_button.setText(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop the answer (Esc)"))
        self.empty_hint.setText(self.tr(
            "Ask anything about the documents in your library. Answers cite their sources: "
            "click a number to open the passage."))
        if self.collection_box.count():
            self.collection_box.setItemText(0, self.tr("All documents"))

    # --- service -------------------------------------------------------------------------

    def set_service(self, service: EnclaveService | None) -> None:
        self.service = service
        self.conversations.service = service
        self.documents_count = None
        self._show_empty_library()
        self._set_enabled()
        if service is not None:
            self.reload_collections()
            self.reload_chats(select_first=self.chat_id is None)
            self.reload_library()

    def _set_enabled(self) -> None:
        ready = self.service is not None
        self.collection_box.setEnabled(ready)
        can_ask = ready and self.documents_count != 0
        self.question.setEnabled(can_ask)
        self.send_button.setEnabled(can_ask and not self.generating)
        self.conversations.set_enabled(
            ready, ready and self.chat_id is not None and not self.generating)

    def _run(self, fn, on_result=None, **kwargs) -> None:
        self.tasks.run(fn, on_result=on_result, on_error=self.errorRaised.emit, **kwargs)

    # --- the library -------------------------------------------------------------------

    def library_changed(self) -> None:
        """Documents were added or removed (an import ended, a deletion)."""
        self.reload_collections()
        self.reload_library()

    def reload_library(self) -> None:
        """Count the documents (on a worker): none, and the chat offers to add some."""
        service = self.service
        if service is not None:
            self._counts_asked += 1
            asked = self._counts_asked
            self._run(lambda _: service.health.status()["documents"],
                      lambda count: self._library_counted(service, asked, count))

    def _library_counted(self, service: EnclaveService, asked: int, count: int) -> None:
        if service is self.service and asked == self._counts_asked:  # the latest count only
            self.documents_count = count
            self._show_empty_library()
            self._set_enabled()

    def import_progress(self, done: int, total: int, running: bool) -> None:
        """An import's progress: shown while the library is empty, which it ends as soon
        as a file is done (not when the whole import is)."""
        self.library_empty.show_import(done, total, running)
        if self.documents_count == 0 and running and done > self._imported_files:
            self.reload_library()
        self._imported_files = done if running else 0

    def _show_empty_library(self) -> None:
        empty = self.service is not None and self.documents_count == 0
        self.library_empty.setVisible(empty)
        # a conversation kept from before the documents were deleted can still be read
        self.scroll.setVisible(not empty or bool(self._views))
        self.right_layout.setStretchFactor(self.library_empty, 0 if self._views else 1)

    # --- collections -----------------------------------------------------------------

    def reload_collections(self) -> None:
        service = self.service
        if service is not None:
            self._run(lambda _: [c.name for c in service.library.collections()],
                      self._show_collections)

    def _show_collections(self, names: list[str]) -> None:
        current = self.collection_box.currentData()
        self.collection_box.clear()
        self.collection_box.addItem(self.tr("All documents"), ALL_DOCUMENTS)
        for name in names:
            self.collection_box.addItem(name, name)
        self._select_collection(current)

    def _select_collection(self, name: str | None) -> None:
        index = self.collection_box.findData(name)
        self.collection_box.setCurrentIndex(max(0, index))

    def _scope_changed(self, _index: int) -> None:
        service, chat_id, name = self.service, self.chat_id, self.collection_box.currentData()
        if service is not None and chat_id is not None:
            self._run(lambda _: service.conversations.set_collection(chat_id, name))

    @property
    def message_views(self) -> list[MessageView]:
        """The conversation's messages as shown, oldest first (the answer being written last)."""
        return list(self._views)

    # --- conversations ---------------------------------------------------------------

    def reload_chats(self, select_first: bool = False) -> None:
        self.conversations.reload(select_first)

    def new_chat(self) -> None:
        if self.generating:
            return
        self.conversations.clear_selection()
        self._open_chat(None, [])
        self.question.setFocus()

    def _chat_chosen(self, chat_id: int, collection: str | None) -> None:
        service = self.service
        if service is None or self.generating:
            return
        self._select_collection(collection)
        self._run(lambda _: service.conversations.messages(chat_id),
                  lambda messages: self._open_chat(chat_id, messages))

    def _open_chat(self, chat_id: int | None, messages: list[Message]) -> None:
        self.chat_id = self.conversations.current_id = chat_id
        for view in self._views:
            self._remove_view(view)
        self._views = []
        for message in messages:
            view = self._add_view(MessageView(message.role, message.text, message.sources,
                                              message.refused, message.kind))
            if message.searched_for:
                view.set_searched_for(message.searched_for)
        self._update_regenerate()
        self.empty_hint.setVisible(not messages)
        self._show_empty_library()
        self._set_enabled()

    def _add_view(self, view: MessageView) -> MessageView:
        view.sourceClicked.connect(self.sourceRequested)
        view.regenerateClicked.connect(self.regenerate)
        self.messages_layout.insertWidget(self.messages_layout.count() - 1, view)
        self._views.append(view)
        self.empty_hint.hide()
        return view

    def _remove_view(self, view: MessageView) -> None:
        self.messages_layout.removeWidget(view)
        view.hide()
        view.deleteLater()

    def _update_regenerate(self) -> None:
        for i, view in enumerate(self._views):
            view.set_regenerable(i == len(self._views) - 1 and not self.generating)

    def delete_current(self) -> None:
        self.conversations.delete_current()

    # --- asking ------------------------------------------------------------------------

    def send(self) -> None:
        text = self.question.toPlainText().strip()
        if not text or self.generating or self.service is None or self.documents_count == 0:
            return  # an empty library has nothing to answer from: it asks for documents
        self.question.clear()
        self._add_view(MessageView("user", text))
        self._ask(text, add_question=True)

    def regenerate(self) -> None:
        if self.generating or self.service is None or len(self._views) < 2:
            return
        last, question = self._views[-1], self._views[-2]
        if last.role != "assistant" or question.role != "user":
            return
        self._remove_view(self._views.pop())
        self._ask(question.text, add_question=False)

    def _ask(self, text: str, add_question: bool) -> None:
        service, chat_id = self.service, self.chat_id
        collection = self.collection_box.currentData()
        self.generating = True
        self._stop.clear()
        self._answer_view = self._add_view(MessageView("assistant"))
        self._answer_view.set_status(self.tr("Searching the documents…"))
        self.send_button.hide()
        self.stop_button.show()
        self._set_enabled()
        self._update_regenerate()
        stop = self._stop

        def work(report):
            if chat_id is not None:  # the scope chosen now, whatever was saved before
                service.conversations.set_collection(chat_id, collection)
            turn = service.conversations.ask(text, chat_id, collection,
                                             again=not add_question)
            report(("chat", turn.conversation_id))
            report(("searched", turn.searched_for))
            report(("stream", turn.stream))
            if stop.is_set():
                turn.stream.cancel()
            for piece in turn.stream:
                report(("piece", piece))
            return turn.message, turn.stream.cancelled, turn.stream.answer

        self._run(work, self._answered, on_progress=self._answer_progress,
                  on_finished=self._answer_finished)

    def _answer_progress(self, event) -> None:
        kind, value = event
        view = self._answer_view
        if kind == "chat":
            self.chat_id = self.conversations.current_id = value
        elif kind == "searched":
            question = self._views[-2] if len(self._views) >= 2 else None
            if question is not None and question.role == "user":
                question.set_searched_for(value)
        elif kind == "stream":
            self._stream = value
            if self._stop.is_set():
                value.cancel()
            elif view is not None:
                view.set_status(self.tr("Writing…"))
        elif kind == "piece" and view is not None:
            view.append(value)

    def _answered(self, result) -> None:
        message, stopped, answer = result
        view = self._answer_view
        if view is not None:
            view.text = message.text
            view.set_sources(message.sources, message.refused, message.kind)
            view.set_status(self.tr("Stopped.") if stopped else self._fallback_status(answer))
            view.status.setToolTip(answer.fallback)

    def _fallback_status(self, answer: Answer) -> str:
        """Why the configured model did not write this answer ("": it did)."""
        if not answer.fallback:
            return ""
        if answer.fallback_model:
            return self.tr("The inference server did not answer, so the local model wrote "
                           "this answer.")
        if answer.kind != "quote":
            return self.tr("The inference server stopped answering: the answer ends there.")
        if self.service is not None and self.service.config.inference_server_url:
            return self.tr("The inference server did not answer, so these are the passages "
                           "that best answer the question.")
        return self.tr("The language model could not be loaded, so these are the passages "
                       "that best answer the question. Check the model in Settings.")

    def _answer_finished(self) -> None:
        if self._answer_view is not None and self._answer_view.status.text() in (
                self.tr("Searching the documents…"), self.tr("Writing…")):
            self._answer_view.set_status(self.tr("No answer: see the message above."))
        self.generating = False
        self._stream = None
        self._answer_view = None
        self.stop_button.hide()
        self.send_button.show()
        self._set_enabled()
        self._update_regenerate()
        self.reload_chats()
        self.question.setFocus()

    def stop(self) -> None:
        """Stop the answer being written (the part written so far is kept)."""
        if not self.generating:
            return
        self._stop.set()
        if self._stream is not None:
            self._stream.cancel()

    def _follow(self, _min: int, maximum: int) -> None:
        """Keep the newest text in view while an answer streams."""
        if self.generating:
            self.scroll.verticalScrollBar().setValue(maximum)
