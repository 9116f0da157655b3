"""The LAN API's routes, one router per resource, as thin adapters over the engine facade.

Each module's `router(ctx)` builds its routes around one `ApiContext`: the open service
and what stands in front of it (keys, limits, the generation queue, metrics, upload jobs).
The errors a route may answer are declared in its OpenAPI description (`errors`), in the
one shape every error has (`ErrorBody`), so that the schema clients read is the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from engine import AnswerStream, ApiKey, EnclaveService, mask_personal_data

from ..api_gate import CHECKED_KEY
from ..api_guard import ApiError, GenerationQueue, Limits, Metrics, RateLimiter, require_scope
from ..api_jobs import Jobs


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: str | None = Field(None, description=(
        "The engine's code for the message (engine/texts.py), when it has one: stable, "
        "whatever the words, for a client that shows it in its own language."))


class ErrorBody(BaseModel):
    """Every error answer: {"error": {"message", "type"}}, as OpenAI's API has it, with
    "code" for an engine message that has one."""
    error: ErrorDetail


_MEANINGS = {
    400: "The request cannot be done as asked; the message says why.",
    401: "No API key, or one that is not valid or was revoked.",
    403: "The key may not do this: it is read-only and this needs a read-write key, or it "
         "is scoped to collections and this names another (or counts the whole library).",
    404: "What the request names is not there.",
    409: "It exists already, or is still being worked on.",
    413: "The request is over the upload limit.",
    422: "The request is not valid: the message names the field and the reason.",
    429: "Too many requests, or generations, for this key; see Retry-After.",
    503: "The model cannot take it now: the generation queue is full (see Retry-After), or "
         "the model could not be loaded (plain chat).",
}


def errors(*statuses: int) -> dict[int | str, dict]:
    """The OpenAPI declaration of the error answers a route may give."""
    return {status: {"model": ErrorBody, "description": _MEANINGS[status]} for status in statuses}


KEYED = errors(401, 413, 422, 429)
"""What any route behind a key may answer: no valid key (the gate, app/api_gate.py), a body
over the limit, an invalid request, the key's rate limit."""

BEARER = HTTPBearer(auto_error=False, description="An API key: `enclave keys create NAME`.")


_SERVER_PATHS = ("path", "folder")


@dataclass
class ApiContext:
    service: EnclaveService
    limits: Limits
    metrics: Metrics
    rate: RateLimiter
    queue: GenerationQueue
    jobs: Jobs

    def key_for(self, write: bool, whole_library: bool = False):
        """A dependency: the request's API key, as the gate (app/api_gate.py) found it
        valid, checked for scope and rate (and, for figures about the whole library, not
        limited to some collections)."""
        async def check(request: Request, credentials: HTTPAuthorizationCredentials | None
                        = Security(BEARER)) -> ApiKey:
            if credentials is None:
                raise ApiError(401, "An API key is needed: send 'Authorization: Bearer <key>'.",
                               "authentication_error", {"WWW-Authenticate": "Bearer"})
            key = getattr(request.state, CHECKED_KEY, None)  # the gate checked it just now
            if key is None:
                raise ApiError(401, "The API key is not valid or was revoked.",
                               "authentication_error", {"WWW-Authenticate": "Bearer"})
            request.state.key_name = key.name
            self.rate.take(key.name)
            require_scope(key, write)
            if whole_library and key.collections is not None:
                raise ApiError(403, f"The key '{key.name}' may use only some collections: the "
                               "library's figures need a key for all of them.", "permission_error")
            return key
        return Depends(check)

    @property
    def reader(self):
        return self.key_for(False)

    @property
    def writer(self):
        return self.key_for(True)

    @property
    def operator(self):
        """A read-only key for every collection: the library's figures (/ready, /metrics)
        count documents a key scoped to some collections may not know of."""
        return self.key_for(False, whole_library=True)

    @staticmethod
    def shown(key: ApiKey, text: str) -> str:
        """Library text as this key may see it: personal data masked if the key asks."""
        return mask_personal_data(text) if key.mask_personal_data and text else text

    @staticmethod
    def searched(key: ApiKey, text: str) -> str:
        """What a key's query or question is searched and answered as: with personal data
        masked if the key gets it masked (a guessed address searched for as it is would be
        confirmed by the passage that ranks first, even with the passage masked)."""
        return ApiContext.shown(key, text)

    @staticmethod
    def shown_stream(key: ApiKey, stream: AnswerStream) -> AnswerStream:
        """An answer stream as this key may see it (before it is read): its pieces, answer
        and sources' passages masked if the key asks."""
        return stream.mask_personal_data() if key.mask_personal_data else stream

    def shown_sources(self, key: ApiKey, sources: list[dict]) -> list[dict]:
        """Sources in JSON (as a conversation keeps them) with their passages as shown."""
        return [{**s, "text": self.shown(key, s.get("text", ""))} if "text" in s else s
                for s in sources]

    @staticmethod
    def visible(key: ApiKey, body):
        """A response body as this key may see it: where files lie on the server (`path`
        of documents and sources, `folder` of linked collections) only for keys that may
        change the library; a read-only key gets names."""
        if key.scope == "read-write":
            return body
        if isinstance(body, dict):
            return {k: ApiContext.visible(key, v) for k, v in body.items()
                    if k not in _SERVER_PATHS}
        if isinstance(body, list):
            return [ApiContext.visible(key, item) for item in body]
        return body

    def take_turn(self, key: ApiKey) -> object:
        """A place in the generation queue (503 when it is full)."""
        ticket = self.queue.enter(key.name)
        self.metrics.queue_depth.set(self.queue.depth)
        self.service.health.record_queue(self.queue.depth)
        return ticket

    def observe_answer(self, request: Request, answer) -> None:
        """Count an answer's stages and tokens; note the documents it drew on for the audit."""
        request.state.documents = [s.hit.document_id for s in answer.sources
                                   if not answer.refused]  # a refusal drew on nothing
        for stage in ("retrieve", "first_token", "generate"):
            if stage in answer.timings:
                self.metrics.stages.labels(stage).observe(answer.timings[stage])
        self.metrics.tokens.labels("prompt").inc(answer.usage.get("prompt_tokens", 0))
        self.metrics.tokens.labels("completion").inc(answer.usage.get("completion_tokens", 0))
