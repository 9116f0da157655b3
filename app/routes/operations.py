"""/health, /ready and /metrics: whether the API answers, whether it is ready to, and the
Prometheus figures."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from engine import ApiKey

from . import ApiContext


def router(ctx: ApiContext) -> APIRouter:
    routes = APIRouter(tags=["operations"])
    service, metrics, reader = ctx.service, ctx.metrics, ctx.reader

    @routes.get("/health")
    def health():
        return {"status": "ok"}

    @routes.get("/ready")
    def ready(_key: ApiKey = reader):
        state = service.health.readiness()
        ok = state["embedding_model_loaded"] and state["generation_model_loaded"] and \
            state["index_consistent"]
        return JSONResponse({"ready": ok, **state}, 200 if ok else 503)

    @routes.get("/metrics")
    def prometheus(_key: ApiKey = reader):
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
