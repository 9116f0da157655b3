"""The LAN API's routes, one router per resource, as thin adapters over the engine facade.

Each module's `router(ctx)` builds its routes around one `ApiContext`: the open service
and what stands in front of it (keys, limits, the generation queue, metrics, upload jobs).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Header, Request

from engine import ApiKey, EnclaveService

from ..api_guard import ApiError, GenerationQueue, Limits, Metrics, RateLimiter, require_scope
from ..api_jobs import Jobs


@dataclass
class ApiContext:
    service: EnclaveService
    limits: Limits
    metrics: Metrics
    rate: RateLimiter
    queue: GenerationQueue
    jobs: Jobs

    def key_for(self, write: bool):
        """A dependency: the request's API key, checked for scope and rate."""
        def check(request: Request, authorization: str | None = Header(None)) -> ApiKey:
            if not authorization or not authorization.lower().startswith("bearer "):
                raise ApiError(401, "An API key is needed: send 'Authorization: Bearer <key>'.",
                               "authentication_error", {"WWW-Authenticate": "Bearer"})
            key = self.service.access.check_key(authorization[7:])
            if key is None:
                raise ApiError(401, "The API key is not valid or was revoked.",
                               "authentication_error", {"WWW-Authenticate": "Bearer"})
            request.state.key_name = key.name
            self.rate.take(key.name)
            require_scope(key, write)
            return key
        return Depends(check)

    @property
    def reader(self):
        return self.key_for(False)

    @property
    def writer(self):
        return self.key_for(True)

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
