"""`service.conversations`: conversations kept in the vault, whoever holds them.

The desktop chat and the LAN API ask through `ask`, which writes the question, answers it
from the documents, and writes the answer with its sources (document, page and character
offsets) once the stream ends, so that a conversation started over the API shows in the
desktop's list and the other way round.

`within` (the collections an API key scoped to collections may reach, None: all) limits
every call: such a caller sees and continues only conversations in one of those
collections; the others, and those over the whole library, are not there for it
(NotFoundError, as for a conversation that does not exist).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..answers.answerer import Answer, AnswerStream
from ..answers.chats import Chat, ChatStore, Message
from ..answers.followups import Turn
from ..errors import NotFoundError
from . import scope
from .answers import AnswerService
from .scope import Within


@dataclass
class ConversationTurn:
    """One question in a conversation: read `stream` to its end, then `message` is the
    stored answer."""

    conversation_id: int
    stream: AnswerStream
    searched_for: str
    """What the question is searched and answered as: itself, or its standalone form when
    it is a follow-up that needs the conversation."""
    message: Message | None = None


class ConversationService:
    def __init__(self, chats: ChatStore, answers: AnswerService):
        self._chats, self._answers = chats, answers

    def list(self, search: str = "", within: Within = None) -> list[Chat]:
        """Most recently used first; `search` matches titles and message text."""
        return [chat for chat in self._chats.chats(search)
                if scope.allowed(chat.collection, within)]

    def get(self, conversation_id: int, within: Within = None) -> Chat:
        chat = self._chats.chat(conversation_id)
        if not scope.allowed(chat.collection, within):
            raise NotFoundError.said("conversation_gone")  # as for one deleted
        return chat

    def create(self, collection: str | None = None, title: str = "",
               within: Within = None) -> Chat:
        """A new conversation answering from `collection` (None: all the documents; for a
        caller limited to one collection, that one)."""
        collection = scope.own_collection(collection, within)
        if collection is not None:
            self._answers.search_scope(collection)  # NotFoundError for one that is not there
        return self._chats.create(title, collection)

    def rename(self, conversation_id: int, title: str) -> Chat:
        return self._chats.rename(conversation_id, title)

    def set_collection(self, conversation_id: int, collection: str | None) -> None:
        """Answer the conversation's next questions from this collection (None: all)."""
        self._chats.chat(conversation_id)  # NotFoundError for a conversation that is not there
        self._chats.set_collection(conversation_id, collection)

    def delete(self, conversation_id: int, within: Within = None) -> None:
        if within is not None:
            self.get(conversation_id, within)  # NotFoundError for one it may not see
        self._chats.delete(conversation_id)

    def messages(self, conversation_id: int, within: Within = None) -> list[Message]:
        self.get(conversation_id, within)  # NotFoundError for a conversation that is not there
        return self._chats.messages(conversation_id)

    def ask(self, question: str, conversation_id: int | None = None,
            collection: str | None = None, again: bool = False,
            within: Within = None) -> ConversationTurn:
        """Ask in a conversation (a new one when `conversation_id` is None, answering from
        `collection`); `again` answers its last question anew, replacing the last answer.
        A follow-up that needs the conversation is searched and answered as its
        standalone form (`ConversationTurn.searched_for`), kept with the question.

        A stopped answer keeps the text written so far (as an answer, unchecked)."""
        earlier: list[Message] = []  # the conversation before this question
        if conversation_id is not None:
            collection = self.get(conversation_id, within).collection
            earlier = self._chats.messages(conversation_id)
        else:
            collection = scope.own_collection(collection, within)
        replaced = earlier.pop() if again and earlier and earlier[-1].role == "assistant" else None
        asked_before = earlier.pop() if again and earlier and earlier[-1].role == "user" else None
        searched_for = self._answers.standalone_question(question, turns(earlier))
        # first, as it refuses an empty question or an unknown collection: nothing is written
        # (no new conversation, no answer replaced) for a question that is not asked
        stream = self._answers.ask(question, collection, within=within, search_for=searched_for)
        if conversation_id is None:
            conversation_id = self._chats.create(collection=collection).id
        kept_as = searched_for if searched_for != question else ""
        if again:
            if replaced is not None:
                self._chats.delete_message(replaced.id)
            if asked_before is not None:
                self._chats.set_searched_for(asked_before.id, kept_as)
        else:
            self._chats.add_message(conversation_id, "user", question, searched_for=kept_as)
        turn = ConversationTurn(conversation_id, stream, searched_for)

        def keep(answer: Answer) -> None:
            stopped = stream.cancelled
            text = answer.text if not stopped or answer.text.strip() else ""
            turn.message = self._chats.add_message(
                conversation_id, "assistant", text, [s.to_json() for s in answer.sources],
                answer.refused and not stopped, kind="answer" if stopped else answer.kind)

        stream.on_done(keep)
        return turn


def turns(messages: list[Message]) -> list[Turn]:
    """The questions of a conversation, each with the answer after it, oldest first."""
    return [message.turn(messages[i + 1] if i + 1 < len(messages)
                         and messages[i + 1].role == "assistant" else None)
            for i, message in enumerate(messages) if message.role == "user"]
