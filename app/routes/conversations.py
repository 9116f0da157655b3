"""/v1/conversations: the conversations kept in the library (the desktop's chat list),
for clients that want what a desktop user has: start one, ask in it, read it back.

Questions can also be asked in a conversation through /v1/chat/completions with
`conversation_id`; a conversation's answers come from the documents. Any key may keep
conversations (as any key may ask); deleting one needs a read-write key.
"""

from __future__ import annotations

import dataclasses

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from engine import ApiKey, Chat, Message

from ..api_guard import MAX_ID
from . import KEYED, ApiContext, errors
from .shapes import (Conversation, ConversationAnswer, ConversationList,
                     ConversationWithMessages, DeletedConversation, ok)

ConversationId = Annotated[int, Path(ge=1, le=MAX_ID)]


class NewConversation(BaseModel):
    title: str = Field("", max_length=200, description="Empty: the first question names it.")
    collection: str | None = Field(None, description="Answer from this collection only.")


class Question(BaseModel):
    question: str = Field(min_length=1, max_length=4000)


def router(ctx: ApiContext) -> APIRouter:
    routes = APIRouter(tags=["conversations"], responses=KEYED)
    service, queue, reader, writer = ctx.service, ctx.queue, ctx.reader, ctx.writer

    # A key scoped to collections sees only the conversations in one of them; a key that
    # asks for it reads them with personal data masked (titles, messages, passages).
    def _conversation(chat: Chat, key: ApiKey) -> dict:
        return {**dataclasses.asdict(chat), "title": ctx.shown(key, chat.title)}

    def _message(message: Message, key: ApiKey) -> dict:
        return {**dataclasses.asdict(message), "text": ctx.shown(key, message.text),
                "searched_for": ctx.shown(key, message.searched_for),
                "sources": ctx.visible(key, ctx.shown_sources(key, message.sources))}

    @routes.get("/v1/conversations", responses=ok(ConversationList))
    def conversations(search: str = "", key: ApiKey = reader):
        return {"conversations": [_conversation(c, key) for c in
                                  service.conversations.list(search, key.collections)]}

    @routes.post("/v1/conversations", status_code=201,
                 responses={**ok(Conversation, 201), **errors(400, 403, 404)})
    def create(body: NewConversation, key: ApiKey = reader):
        return _conversation(service.conversations.create(body.collection, body.title,
                                                          key.collections), key)

    @routes.get("/v1/conversations/{conversation_id}",
                responses={**ok(ConversationWithMessages), **errors(404)})
    def conversation(conversation_id: ConversationId, key: ApiKey = reader):
        messages = service.conversations.messages(conversation_id, key.collections)
        return {**_conversation(service.conversations.get(conversation_id, key.collections),
                                key), "messages": [_message(m, key) for m in messages]}

    @routes.delete("/v1/conversations/{conversation_id}",
                   responses={**ok(DeletedConversation), **errors(403, 404)})
    def delete(conversation_id: ConversationId, key: ApiKey = writer):
        service.conversations.get(conversation_id, key.collections)  # 404: not there (for it)
        service.conversations.delete(conversation_id)
        return {"deleted": conversation_id}

    @routes.post("/v1/conversations/{conversation_id}/messages",
                 responses={**ok(ConversationAnswer), **errors(400, 404, 503)})
    def ask(conversation_id: ConversationId, body: Question, request: Request, key: ApiKey = reader):
        """Ask in the conversation; the answer (as /v1/query gives it) and the stored message."""
        service.conversations.get(conversation_id, key.collections)  # 404 before the model
        ticket = ctx.take_turn(key)
        started = queue.wait_turn(ticket)
        try:
            turn = service.conversations.ask(ctx.searched(key, body.question), conversation_id,
                                             within=key.collections)
            answer = ctx.shown_stream(key, turn.stream).collect()
        finally:
            queue.leave(key.name, ticket, started)
        ctx.observe_answer(request, answer)
        return ctx.visible(key, {**answer.to_json(), "conversation_id": conversation_id,
                                 "message": _message(turn.message, key)})

    return routes
