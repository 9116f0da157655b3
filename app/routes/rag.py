"""/v1/search and /v1/query: passages for a query, and an answer with its sources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from engine import ApiKey

from ..api_guard import MAX_ID
from . import KEYED, ApiContext, errors
from .shapes import AnswerBody, SearchResults, ok


DocumentIds = list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(5, ge=1, le=100)
    collection: str | None = None
    document_ids: DocumentIds = None


class QueryRequest(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    collection: str | None = None
    document_ids: DocumentIds = None


def router(ctx: ApiContext) -> APIRouter:
    routes = APIRouter(tags=["rag"], responses=KEYED)
    service, queue, reader = ctx.service, ctx.queue, ctx.reader

    @routes.post("/v1/search", responses={**ok(SearchResults), **errors(400, 403, 404)})
    def search(body: SearchRequest, request: Request, key: ApiKey = reader):
        query = ctx.searched(key, body.query)
        hits = service.answers.search(query, body.k, body.collection, body.document_ids,
                                      within=key.collections)
        request.state.documents = [h.document_id for h in hits]
        return ctx.visible(key, {"query": query, "hits": [
            {**h.to_json(), "text": ctx.shown(key, h.text)} for h in hits]})

    @routes.post("/v1/query", responses={**ok(AnswerBody), **errors(400, 403, 404, 503)})
    def query(body: QueryRequest, request: Request, key: ApiKey = reader):
        if body.collection is not None:  # refused before waiting for the model
            service.access.check_collection(body.collection, key.collections)
        ticket = ctx.take_turn(key)
        started = queue.wait_turn(ticket)
        try:
            answer = ctx.shown_stream(key, service.answers.ask(
                ctx.searched(key, body.question), body.collection, body.document_ids,
                within=key.collections)).collect()
        finally:
            queue.leave(key.name, ticket, started)
        ctx.observe_answer(request, answer)
        return ctx.visible(key, answer.to_json())

    return routes
