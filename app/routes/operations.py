"""/health, /ready and /metrics: whether the API answers, whether it is ready to, and the
Prometheus figures."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from engine import ApiKey

from . import KEYED, ApiContext, errors
from .shapes import Health, ok


class Readiness(BaseModel):
    ready: bool
    vault: bool
    embedding_model_loaded: bool
    generation_model_loaded: bool
    index_vectors: int
    chunks: int
    index_consistent: bool
    generator: str = Field(description="What writes the answers: \"local\" or "
                           "\"inference server\".")
    generation_model: str = Field(description="The local model, or the server's model "
                                  "(\"\": the first it lists).")
    inference_server: str = Field(description="The inference server's address (\"\": none).")
    fallback_model: str = Field(description="The local model that answers when the server "
                                "does not (\"\": none; answers are then quotations).")
    search_workers: int = Field(description="Processes started to run searches "
                                "(`enclave serve --workers`; 0: searches run in the server's).")
    search_workers_ready: int = Field(description="Those of them that take searches now.")


def _as_json(declared: dict) -> dict:
    """Error declarations for a route whose own answer is not JSON (its errors still are)."""
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    return {status: {"description": d["description"], "content": {"application/json": {
        "schema": ref}}} for status, d in declared.items()}


def router(ctx: ApiContext) -> APIRouter:
    routes = APIRouter(tags=["operations"])
    service, metrics, operator = ctx.service, ctx.metrics, ctx.operator

    @routes.get("/health", responses={**ok(Health), **errors(413)})
    def health():
        return {"status": "ok"}

    @routes.get("/ready", response_model=None, responses={
        **KEYED, **errors(403), 200: {"model": Readiness},
        503: {"model": Readiness, "description": "Not ready yet: the body says what is missing."}})
    def ready(_key: ApiKey = operator):
        ready_workers, workers = service.search_workers
        state = {**service.health.readiness(), "search_workers": workers,
                 "search_workers_ready": ready_workers}
        ok = state["embedding_model_loaded"] and state["generation_model_loaded"] and \
            state["index_consistent"] and ready_workers == workers
        return JSONResponse({"ready": ok, **state}, 200 if ok else 503)

    @routes.get("/metrics", response_class=PlainTextResponse, responses=_as_json({**KEYED, **errors(403)}))
    def prometheus(_key: ApiKey = operator):
        status = service.health.status()
        metrics.documents.set(status["documents"])
        metrics.chunks.set(status["chunks"])
        metrics.queue_depth.set(ctx.queue.depth)
        metrics.embedding_cache.set(status["embedding_cache"])
        for cache, stats in service.answers.cache_stats().items():
            metrics.cache_lookups.labels(cache, "hit").set(stats["hits"])
            metrics.cache_lookups.labels(cache, "miss").set(stats["misses"])
            metrics.cache_hit_rate.labels(cache).set(stats["hit_rate"])
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return routes
