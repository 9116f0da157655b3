"""The JSON the routes answer, as the OpenAPI schema declares it (`responses=ok(Model)`).

Declared, not enforced: a handler returns its dict as before and nothing is filtered or
converted on the way out; the fuzz test (tests/api/test_fuzz.py) checks that what is sent
matches what is declared. Each model names the fields a client may rely on; an object may
carry more (the models allow extra fields), such as the extra timings of an answer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


def ok(model: type[BaseModel], status: int = 200) -> dict[int | str, dict]:
    """The OpenAPI declaration of a route's successful answer."""
    return {status: {"model": model}}


# --- operations ---------------------------------------------------------------------------

class Health(Shape):
    status: Literal["ok"]


# --- OpenAI-compatible ----------------------------------------------------------------------

class ModelCard(Shape):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(Shape):
    object: Literal["list"]
    data: list[ModelCard]


class Embedding(Shape):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str
    """The vector, or its little-endian float32 bytes in base64 (`encoding_format`)."""


class EmbeddingUsage(Shape):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(Shape):
    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class Source(Shape):
    """A passage an answer was checked against, quoted from, or (a refusal) the closest."""
    n: int
    document: str
    document_id: int
    chunk_id: int
    page: int | None
    score: float
    text: str
    char_start: int
    char_end: int
    cited: bool


class AssistantMessage(Shape):
    role: Literal["assistant"]
    content: str


class Choice(Shape):
    index: int
    finish_reason: str
    message: AssistantMessage


class Usage(Shape):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(Shape):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    sources: list[Source]
    kind: str
    refused: bool
    searched_for: str | None = None
    """What was searched and answered: the question, or the standalone question a follow-up
    was rewritten into from the conversation (absent from a plain chat, `rag: false`)."""
    usage: Usage
    conversation_id: int | None = None
    """Only when the question was asked in a kept conversation."""


# --- RAG ------------------------------------------------------------------------------------

class Hit(Shape):
    chunk_id: int
    document_id: int
    document: str
    page: int | None
    score: float
    text: str
    char_start: int
    char_end: int


class SearchResults(Shape):
    query: str
    hits: list[Hit]


class AnswerBody(Shape):
    question: str
    answer: str
    kind: str
    """"answer" (generated and checked), "quote" (the sources' own words) or "refusal"."""
    refused: bool
    reason: str
    searched_for: str
    """What was searched and answered (a follow-up in a conversation: its standalone form)."""
    sources: list[Source]
    timings: dict[str, float]


# --- documents, jobs, collections -----------------------------------------------------------

class JobFile(Shape):
    name: str
    state: str
    reason: str | None = None
    """Why the file failed, in English."""
    code: str | None = None
    """The reason's stable code (engine/texts.py), when it has one: a key that never
    changes when the words do."""


class Job(Shape):
    id: str
    state: Literal["queued", "running", "done"]
    collection: str
    created_at: float
    files_done: int
    files_total: int
    files: list[JobFile]
    chunks: int | None = None
    """When done: the chunks stored, and the documents' ids."""
    document_ids: list[int] | None = None


class DocumentEntry(Shape):
    id: int
    collection: str
    name: str
    kind: str
    pages: int | None
    chunks: int
    size: int
    ingested_at: float


class DocumentList(Shape):
    documents: list[DocumentEntry]


class DeletedDocument(Shape):
    deleted: int


class CollectionEntry(Shape):
    id: int
    name: str
    folder: str | None = Field(None, description="The linked folder (read-write keys only).")
    documents: int
    created_at: float


class CollectionList(Shape):
    collections: list[CollectionEntry]


class CreatedCollection(Shape):
    created: str


class DeletedCollection(Shape):
    deleted: str


# --- conversations --------------------------------------------------------------------------

class Conversation(Shape):
    id: int
    title: str
    collection: str | None
    created_at: float
    updated_at: float


class ConversationList(Shape):
    conversations: list[Conversation]


class StoredMessage(Shape):
    id: int
    chat_id: int
    role: Literal["user", "assistant"]
    text: str
    sources: list[dict]
    refused: bool
    created_at: float
    kind: str
    searched_for: str
    """A question's standalone form, when it was a follow-up rewritten from the
    conversation ("": the question itself)."""


class ConversationWithMessages(Conversation):
    messages: list[StoredMessage]


class DeletedConversation(Shape):
    deleted: int


class ConversationAnswer(AnswerBody):
    conversation_id: int
    message: StoredMessage
