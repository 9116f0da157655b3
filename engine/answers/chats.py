"""Conversations of the desktop chat, kept in the vault so that they survive restarts.

A chat holds its messages in order; an assistant message keeps its sources as JSON
(document id, name, path, page and character offsets: enough to open the passage even
after the chunk ids have been reused) and how it was made (answer, quote or refusal).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from ..errors import NotFoundError, UserError
from ..store.vault import Vault
from .followups import Turn

MAX_TITLE = 200


@dataclass(frozen=True)
class Chat:
    id: int
    title: str
    """Empty until the first question names the chat."""
    collection: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Message:
    id: int
    chat_id: int
    role: str  # "user" | "assistant"
    text: str
    sources: list[dict] = field(default_factory=list)
    refused: bool = False
    created_at: float = 0.0
    kind: str = "answer"
    """How an assistant message was made: "answer", "quote" or "refusal"."""
    searched_for: str = ""
    """What a question was searched as, when it was a follow-up made standalone from the
    conversation ("": the question itself)."""

    def turn(self, answer: "Message | None") -> Turn:
        """This question, with `answer` (the message after it, if any), as a turn of the
        conversation for the next follow-up."""
        return Turn(self.text, self.searched_for, answer.text if answer else "")


def title_from(question: str) -> str:
    """A chat's default title: the first line of its first question, shortened."""
    line = " ".join(question.split())
    return line if len(line) <= 60 else line[:57].rstrip() + "…"


class ChatStore:
    def __init__(self, vault: Vault):
        self.vault = vault

    def chats(self, search: str = "") -> list[Chat]:
        """Most recently used first; `search` matches titles and message text."""
        sql = "SELECT id, title, collection, created_at, updated_at FROM chats"
        params: tuple = ()
        if search.strip():
            pattern = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%") \
                .replace("_", "\\_") + "%"
            sql += (" WHERE title LIKE ?1 ESCAPE '\\' OR id IN (SELECT chat_id FROM messages"
                    " WHERE text LIKE ?1 ESCAPE '\\')")
            params = (pattern,)
        return [Chat(*row) for row in self.vault.rows(sql + " ORDER BY updated_at DESC, id DESC",
                                                      params)]

    def chat(self, chat_id: int) -> Chat:
        rows = self.vault.rows(
            "SELECT id, title, collection, created_at, updated_at FROM chats WHERE id = ?",
            (chat_id,))
        if not rows:
            raise NotFoundError.said("conversation_gone")
        return Chat(*rows[0])

    def create(self, title: str = "", collection: str | None = None) -> Chat:
        """A new chat; left untitled (""), it takes its first question as title."""
        now = time.time()
        with self.vault.transaction() as conn:
            chat_id = conn.execute(
                "INSERT INTO chats(title, collection, created_at, updated_at) VALUES(?,?,?,?)",
                (self._checked_title(title) if title else "", collection, now, now)).lastrowid
        return self.chat(chat_id)

    def rename(self, chat_id: int, title: str) -> Chat:
        with self.vault.transaction() as conn:
            conn.execute("UPDATE chats SET title = ? WHERE id = ?",
                         (self._checked_title(title), chat_id))
        return self.chat(chat_id)

    def set_collection(self, chat_id: int, collection: str | None) -> None:
        with self.vault.transaction() as conn:
            conn.execute("UPDATE chats SET collection = ? WHERE id = ?", (collection, chat_id))

    def delete(self, chat_id: int) -> None:
        with self.vault.transaction() as conn:
            conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    def messages(self, chat_id: int) -> list[Message]:
        rows = self.vault.rows(
            "SELECT id, chat_id, role, text, sources, refused, created_at, kind, searched_for "
            "FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,))
        return [Message(r[0], r[1], r[2], r[3], json.loads(r[4]), bool(r[5]), r[6], r[7], r[8])
                for r in rows]

    def add_message(self, chat_id: int, role: str, text: str, sources: list[dict] | None = None,
                    refused: bool = False, kind: str | None = None,
                    searched_for: str = "") -> Message:
        """Append a message; the first question of an untitled chat becomes its title.
        `searched_for`: a question's standalone form, when it differs from its text."""
        self.chat(chat_id)  # NotFoundError if it was deleted meanwhile
        kind = kind or ("refusal" if refused else "answer")
        if kind not in ("answer", "quote", "refusal"):
            raise UserError(f"Unknown kind of message: {kind}.")
        now = time.time()
        with self.vault.transaction() as conn:
            message_id = conn.execute(
                "INSERT INTO messages(chat_id, role, text, sources, refused, created_at, kind,"
                " searched_for) VALUES(?,?,?,?,?,?,?,?)",
                (chat_id, role, text, json.dumps(sources or [], ensure_ascii=False),
                 int(refused), now, kind, searched_for)).lastrowid
            conn.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
            if role == "user":
                conn.execute(
                    "UPDATE chats SET title = ? WHERE id = ? AND title = '' AND NOT EXISTS"
                    " (SELECT 1 FROM messages WHERE chat_id = ? AND id != ?)",
                    (title_from(text), chat_id, chat_id, message_id))
        return Message(message_id, chat_id, role, text, sources or [], refused, now, kind,
                       searched_for)

    def set_searched_for(self, message_id: int, searched_for: str) -> None:
        with self.vault.transaction() as conn:
            conn.execute("UPDATE messages SET searched_for = ? WHERE id = ?",
                         (searched_for, message_id))

    def delete_message(self, message_id: int) -> None:
        with self.vault.transaction() as conn:
            conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    @staticmethod
    def _checked_title(title: str) -> str:
        title = " ".join(title.split())
        if not title:
            raise UserError("A conversation needs a title.")
        return title[:MAX_TITLE]
