"""The OpenAI-compatible routes: /v1/models, /v1/embeddings and /v1/chat/completions.

A chat completion answers the last user message from the documents (with sources), or,
with `rag: false`, chats with the model plainly. The messages before it are the
conversation: a follow-up that needs them is searched and answered as a standalone
question, given back as `searched_for`. With `conversation_id` it is asked in a
kept conversation (`"new"` starts one): the desktop's conversation list shows it too.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Annotated, Literal

import anyio
import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator

from engine import ApiKey, NotAllowedError, UserError

from ..api_guard import MAX_ID
from ..stream_pump import Pump
from . import KEYED, ApiContext, errors
from .shapes import ChatCompletion, EmbeddingList, ModelList, ok


MAX_MESSAGES = 1000
"""Messages in one chat completion request, at most (a longer history is refused: only
its recent turns are read anyway)."""


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str

    @field_validator("content")
    @classmethod
    def _encodable(cls, content: str) -> str:
        content.encode("utf-8")  # a lone surrogate raises: refused as 422, not a 500 later
        return content


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES, description=(
        "The conversation, oldest first, ending with the question. With rag, a follow-up "
        "that needs the messages before it is searched and answered as a standalone "
        "question (`searched_for` in the response)."))
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0, le=2, description="Ignored: set in Enclave.")
    rag: bool = Field(True, description="Answer from the documents (with sources); false: plain chat.")
    collection: str | None = Field(None, description="Answer from this collection only.")
    conversation_id: Annotated[int, Field(ge=1, le=MAX_ID)] | Literal["new"] | None = Field(
        None, description="Keep the question and answer in this conversation (\"new\": start "
                          "one); the response gives its id. Documents only (rag).")


Text = Annotated[str, Field(min_length=1)]


class EmbeddingRequest(BaseModel):
    input: Text | Annotated[list[Text], Field(min_length=1)]
    model: str | None = None
    encoding_format: Literal["float", "base64"] = "float"


class ClosingStreamingResponse(StreamingResponse):
    """Closes its body iterator however the response ends. Starlette stops reading it when
    the client goes away but leaves it suspended, and ours holds the model's turn until
    its `finally` runs."""

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self.body_iterator.aclose()


STREAM_EVENT = {"type": "object", "required": ["data"], "properties": {"data": {
    "type": "string", "description": "A chat.completion.chunk in JSON, or an {\"error\"} "
                                     "object; the last event is [DONE]."}}}
"""One server-sent event of a streamed chat completion (its OpenAPI `itemSchema`)."""


def router(ctx: ApiContext) -> APIRouter:
    routes = APIRouter(tags=["openai"], responses=KEYED)
    service, queue, reader = ctx.service, ctx.queue, ctx.reader

    def answer_model() -> str:
        """The model that writes the answers: the local one or the inference server's."""
        return service.health.generator()["generation_model"] or "enclave"

    @routes.get("/v1/models", responses=ok(ModelList))
    def list_models(_key: ApiKey = reader):
        created = int(service.health.status()["created_at"])
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": created, "owned_by": "enclave"}
            for name in (answer_model(), service.config.embedding_model)]}

    @routes.post("/v1/embeddings", responses={**ok(EmbeddingList), **errors(400)})
    def embeddings(body: EmbeddingRequest, _key: ApiKey = reader):
        texts = [body.input] if isinstance(body.input, str) else body.input
        vectors = service.answers.embed(texts)
        data = []
        for i, vector in enumerate(vectors):
            value = (base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
                     if body.encoding_format == "base64" else vector)
            data.append({"object": "embedding", "index": i, "embedding": value})
        tokens = sum(len(t.split()) for t in texts)
        return {"object": "list", "data": data, "model": service.config.embedding_model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    def conversation(body: ChatRequest, key: ApiKey) -> tuple:
        """The question the messages end with and the turns before it, as the key's
        questions are searched (UserError when they do not end with a question)."""
        return service.answers.conversation_turns(
            [(m.role, ctx.searched(key, m.content)) for m in body.messages])

    def start_answer(body: ChatRequest, key: ApiKey) -> tuple:
        """(the answer stream, as the key may see it; the conversation it is kept in or
        None). A key scoped to collections answers from them only. A follow-up is searched
        and answered as its standalone form: from the messages before it, or, in a kept
        conversation, from the turns kept there."""
        if not body.rag:
            return ctx.shown_stream(key, service.answers.chat(
                [m.model_dump() for m in body.messages], body.max_tokens)), None
        question, turns = conversation(body, key)
        if body.conversation_id is None:
            return ctx.shown_stream(key, service.answers.ask(
                question, body.collection, within=key.collections,
                search_for=service.answers.standalone_question(question, turns))), None
        turn = service.conversations.ask(  # a kept conversation answers from its own collection
            question, None if body.conversation_id == "new" else body.conversation_id,
            body.collection, within=key.collections)
        return ctx.shown_stream(key, turn.stream), turn.conversation_id

    def extras(request: Request, key: ApiKey, stream, conversation_id: int | None) -> dict:
        answer = stream.answer
        ctx.observe_answer(request, answer)
        prompt = answer.usage.get("prompt_tokens", 0)
        completion = answer.usage.get("completion_tokens", 0)
        found = {"sources": [s.to_json() for s in answer.sources], "kind": answer.kind,
                 "refused": answer.refused,
                 "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                           "total_tokens": prompt + completion}}
        if answer.searched_for:  # an answer from the documents (not a plain chat)
            found["searched_for"] = answer.searched_for
        found = ctx.visible(key, found)
        return found if conversation_id is None else {**found, "conversation_id": conversation_id}

    @routes.post("/v1/chat/completions", responses={**errors(400, 403, 404, 503), 200: {
        "model": ChatCompletion,
        "description": "The completion; with `stream`, its chunks as server-sent events.",
        "content": {"text/event-stream": {"itemSchema": STREAM_EVENT}}}})
    async def chat_completions(body: ChatRequest, request: Request, key: ApiKey = reader):
        if body.conversation_id is not None:  # answered now, not in the middle of a stream
            if not body.rag:
                raise UserError("Conversations keep answers from the documents: "
                                "leave out conversation_id with rag: false.")
            if body.conversation_id != "new":  # 404 if it is not there (or not the key's)
                service.conversations.get(body.conversation_id, key.collections)
        if body.rag:  # messages that do not end with a question: 400 before any wait
            conversation(body, key)
        if body.rag and body.collection is not None:  # a collection outside the key's: 403
            service.access.check_collection(body.collection, key.collections)
        ticket = ctx.take_turn(key)
        model = body.model or answer_model()
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if not body.stream:
            def run() -> dict:
                started = queue.wait_turn(ticket)
                try:
                    stream, conversation_id = start_answer(body, key)
                    stream.collect()
                    more = extras(request, key, stream, conversation_id)
                finally:
                    queue.leave(key.name, ticket, started)
                return {"id": completion_id, "object": "chat.completion", "created": created,
                        "model": model, "choices": [{"index": 0, "finish_reason": "stop", "message": {
                            "role": "assistant", "content": stream.answer.text}}], **more}
            return await anyio.to_thread.run_sync(run)

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            payload = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                       "model": model, "choices": [{"index": 0, "delta": delta,
                                                    "finish_reason": finish}], **extra}
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

        async def events():
            started, stream, pump = False, None, None
            try:
                started = await anyio.to_thread.run_sync(queue.wait_turn, ticket)
                stream, conversation_id = await anyio.to_thread.run_sync(start_answer, body, key)
                pump = Pump(iter(stream))  # the model goes on while a piece is sent
                yield chunk({"role": "assistant", "content": ""})
                while True:
                    if await request.is_disconnected():
                        stream.cancel()
                        break
                    piece = await pump.next()
                    if piece is None:
                        break
                    yield chunk({"content": piece})
                if stream.answer is not None:
                    yield chunk({}, "stop", **extras(request, key, stream, conversation_id))
                yield "data: [DONE]\n\n"
            except UserError as exc:  # after the 200: said in the stream, which still ends
                kind = ("permission_error" if isinstance(exc, NotAllowedError)
                        else "invalid_request_error")
                error = {"error": {"message": str(exc), "type": kind,
                                   **({"code": exc.code} if exc.code else {})}}
                yield f"data: {json.dumps(error, ensure_ascii=False)}\n\n"
                yield "data: [DONE]\n\n"
            finally:
                with anyio.CancelScope(shield=True):
                    if stream is not None:
                        stream.cancel()
                    if pump is not None:
                        await pump.close()
                    queue.leave(key.name, ticket, started)

        return ClosingStreamingResponse(events(), media_type="text/event-stream",
                                        headers={"Cache-Control": "no-cache"})

    return routes
