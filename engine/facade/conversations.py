"""`service.conversations`: conversations kept in the vault, whoever holds them.

The desktop chat and the LAN API ask through `ask`, which writes the question, answers it
from the documents, and writes the answer with its sources (document, page and character
offsets) once the stream ends, so that a conversation started over the API shows in the
desktop's list and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..answers.answerer import Answer, AnswerStream
from ..answers.chats import Chat, ChatStore, Message
from .answers import AnswerService


@dataclass
class ConversationTurn:
    """One question in a conversation: read `stream` to its end, then `message` is the
    stored answer."""

    conversation_id: int
    stream: AnswerStream
    message: Message | None = None


class ConversationService:
    def __init__(self, chats: ChatStore, answers: AnswerService):
        self._chats, self._answers = chats, answers

    def list(self, search: str = "") -> list[Chat]:
        """Most recently used first; `search` matches titles and message text."""
        return self._chats.chats(search)

    def get(self, conversation_id: int) -> Chat:
        return self._chats.chat(conversation_id)

    def create(self, collection: str | None = None, title: str = "") -> Chat:
        """A new conversation answering from `collection` (None: all the documents)."""
        if collection is not None:
            self._answers.search_scope(collection)  # NotFoundError for one that is not there
        return self._chats.create(title, collection)

    def rename(self, conversation_id: int, title: str) -> Chat:
        return self._chats.rename(conversation_id, title)

    def set_collection(self, conversation_id: int, collection: str | None) -> None:
        """Answer the conversation's next questions from this collection (None: all)."""
        self._chats.chat(conversation_id)  # NotFoundError for a conversation that is not there
        self._chats.set_collection(conversation_id, collection)

    def delete(self, conversation_id: int) -> None:
        self._chats.delete(conversation_id)

    def messages(self, conversation_id: int) -> list[Message]:
        self._chats.chat(conversation_id)  # NotFoundError for a conversation that is not there
        return self._chats.messages(conversation_id)

    def ask(self, question: str, conversation_id: int | None = None,
            collection: str | None = None, again: bool = False) -> ConversationTurn:
        """Ask in a conversation (a new one when `conversation_id` is None, answering from
        `collection`); `again` answers its last question anew, replacing the last answer.

        A stopped answer keeps the text written so far (as an answer, unchecked)."""
        if conversation_id is not None:
            collection = self._chats.chat(conversation_id).collection
        # first, as it refuses an empty question or an unknown collection: nothing is written
        # (no new conversation, no answer replaced) for a question that is not asked
        stream = self._answers.ask(question, collection)
        if conversation_id is None:
            conversation_id = self._chats.create(collection=collection).id
        messages = self._chats.messages(conversation_id)
        if again:
            if messages and messages[-1].role == "assistant":
                self._chats.delete_message(messages[-1].id)
        else:
            self._chats.add_message(conversation_id, "user", question)
        turn = ConversationTurn(conversation_id, stream)

        def keep(answer: Answer) -> None:
            stopped = stream.cancelled
            text = answer.text if not stopped or answer.text.strip() else ""
            turn.message = self._chats.add_message(
                conversation_id, "assistant", text, [s.to_json() for s in answer.sources],
                answer.refused and not stopped, kind="answer" if stopped else answer.kind)

        stream.on_done(keep)
        return turn
