"""The LAN API: OpenAI-compatible and RAG endpoints over the engine service.

`create_api(service, limits)` builds the FastAPI app around an open EnclaveService; the
routes are thin adapters. Every route but /health (and the documentation) needs an API
key; writes need a read-write key. Each request is counted in the metrics and written
to the vault's audit log when its response has been sent.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import time
import uuid
from typing import Literal

import anyio
import numpy as np
from fastapi import Depends, FastAPI, File, Form, Header, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.formparsers import MultiPartParser
from pydantic import BaseModel, Field

from engine.ops.apikeys import ApiKey
from engine.ops.audit import AuditEntry
from engine.errors import AlreadyExistsError, NotFoundError, UserError
from engine.service import EnclaveService

from .api_guard import ApiError, GenerationQueue, Limits, Metrics, RateLimiter, require_scope
from .api_jobs import Jobs

VERSION = "1"


# --- request bodies ------------------------------------------------------------------

class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0, le=2, description="Ignored: set in Enclave.")
    rag: bool = Field(True, description="Answer from the documents (with sources); false: plain chat.")
    collection: str | None = Field(None, description="Answer from this collection only.")


class EmbeddingRequest(BaseModel):
    input: str | list[str]
    model: str | None = None
    encoding_format: Literal["float", "base64"] = "float"


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(5, ge=1, le=100)
    collection: str | None = None
    document_ids: list[int] | None = None


class QueryRequest(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    collection: str | None = None
    document_ids: list[int] | None = None


class CollectionRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100)


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


# --- the app -------------------------------------------------------------------------

def create_api(service: EnclaveService, limits: Limits | None = None) -> FastAPI:
    limits = limits or Limits()
    # Uploads stay in memory while the request is parsed, instead of spooling to the
    # system's temporary folder (unencrypted, and not cleaned up by us); the size check
    # in `observe` bounds them.
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, limits.max_upload_bytes)
    metrics = Metrics()
    rate = RateLimiter(limits.requests_per_minute)
    queue = GenerationQueue(limits.queue_length, limits.concurrent_generations)
    jobs = Jobs(service)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        await anyio.to_thread.run_sync(jobs.close)  # an upload being ingested finishes

    app = FastAPI(title="Enclave API", version=VERSION, docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="Private document search and answers. Authenticate with "
                              "`Authorization: Bearer <key>` (create keys with `enclave keys create`).")
    app.state.service, app.state.jobs, app.state.metrics = service, jobs, metrics
    _mount_docs(app)

    # --- errors ----------------------------------------------------------------------

    def error(status: int, message: str, kind: str, headers: dict | None = None) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind}}, status, headers=headers)

    @app.exception_handler(ApiError)
    async def api_error(_request, exc: ApiError):
        return error(exc.status, exc.message, exc.kind, exc.headers)

    @app.exception_handler(UserError)
    async def user_error(_request, exc: UserError):
        status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(
            exc, AlreadyExistsError) else 400
        return error(status, str(exc), "invalid_request_error")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request, exc: RequestValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
                 for e in exc.errors()]
        return error(422, "Invalid request: " + "; ".join(parts), "invalid_request_error")

    # --- metrics and audit around every request ------------------------------------------

    @app.middleware("http")
    async def observe(request: Request, call_next):
        started = time.perf_counter()
        request.state.key_name, request.state.documents = None, []
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.max_upload_bytes:
            response = error(413, f"The request is over the {limits.max_upload_bytes // 2**20} MiB "
                                  "upload limit.", "invalid_request_error")
        else:
            response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        body = response.body_iterator if hasattr(response, "body_iterator") else None

        async def finish() -> None:
            seconds = time.perf_counter() - started
            metrics.requests.labels(route, str(response.status_code)).inc()
            metrics.latency.labels(route).observe(seconds)
            service.monitor.count("requests")
            service.monitor.observe("request_seconds", seconds)
            if response.status_code >= 500:
                service.monitor.count("errors")
            if route != "/health" and not route.startswith("/docs"):
                entry = AuditEntry(request.state.key_name, request.client.host if request.client
                                   else "?", request.method, route, response.status_code,
                                   seconds * 1000, request.state.documents)
                await anyio.to_thread.run_sync(service.audit.append, entry)

        if body is None:
            await finish()
            return response

        async def logged_body():
            try:
                async for chunk in body:
                    yield chunk
            finally:
                with anyio.CancelScope(shield=True):
                    await finish()

        response.body_iterator = logged_body()
        return response

    # --- keys --------------------------------------------------------------------------

    def key_for(write: bool):
        def check(request: Request, authorization: str | None = Header(None)) -> ApiKey:
            if not authorization or not authorization.lower().startswith("bearer "):
                raise ApiError(401, "An API key is needed: send 'Authorization: Bearer <key>'.",
                               "authentication_error", {"WWW-Authenticate": "Bearer"})
            key = service.api_keys.verify(authorization[7:])
            if key is None:
                raise ApiError(401, "The API key is not valid or was revoked.",
                               "authentication_error", {"WWW-Authenticate": "Bearer"})
            request.state.key_name = key.name
            rate.take(key.name)
            require_scope(key, write)
            return key
        return Depends(check)

    reader, writer = key_for(False), key_for(True)

    # --- operations ------------------------------------------------------------------

    @app.get("/health", tags=["operations"])
    def health():
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"])
    def ready(_key: ApiKey = reader):
        state = service.readiness()
        ok = state["embedding_model_loaded"] and state["generation_model_loaded"] and \
            state["index_consistent"]
        return JSONResponse({"ready": ok, **state}, 200 if ok else 503)

    @app.get("/metrics", tags=["operations"])
    def prometheus(_key: ApiKey = reader):
        status = service.status()
        metrics.documents.set(status["documents"])
        metrics.chunks.set(status["chunks"])
        metrics.queue_depth.set(queue.depth)
        metrics.embedding_cache.set(service.vault.scalar("SELECT count(*) FROM embedding_cache"))
        for cache, stats in service.cache_stats().items():
            metrics.cache_lookups.labels(cache, "hit").set(stats["hits"])
            metrics.cache_lookups.labels(cache, "miss").set(stats["misses"])
            metrics.cache_hit_rate.labels(cache).set(stats["hit_rate"])
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # --- OpenAI-compatible -----------------------------------------------------------

    @app.get("/v1/models", tags=["openai"])
    def list_models(_key: ApiKey = reader):
        created = int(service.vault.path.stat().st_ctime)
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": created, "owned_by": "enclave"}
            for name in (service.config.generation_model, service.config.embedding_model)]}

    @app.post("/v1/embeddings", tags=["openai"])
    def embeddings(body: EmbeddingRequest, _key: ApiKey = reader):
        texts = [body.input] if isinstance(body.input, str) else body.input
        vectors = service.embed(texts)
        data = []
        for i, vector in enumerate(vectors):
            value = (base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
                     if body.encoding_format == "base64" else vector)
            data.append({"object": "embedding", "index": i, "embedding": value})
        tokens = sum(len(t.split()) for t in texts)
        return {"object": "list", "data": data, "model": service.config.embedding_model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    def take_turn(key: ApiKey):
        ticket = queue.enter(key.name)
        metrics.queue_depth.set(queue.depth)
        service.monitor.gauge("queue_depth", queue.depth)
        return ticket

    def start_answer(body: ChatRequest):
        if body.rag:
            question = next((m.content for m in reversed(body.messages) if m.role == "user"), "")
            return service.ask(question, body.collection)
        return service.chat([m.model_dump() for m in body.messages], body.max_tokens)

    def completion_extras(request: Request, stream) -> dict:
        answer = stream.answer
        sources = [s.to_json() for s in answer.sources]
        request.state.documents = [s["document_id"] for s in sources if not answer.refused]
        for stage in ("retrieve", "first_token", "generate"):
            if stage in answer.timings:
                metrics.stages.labels(stage).observe(answer.timings[stage])
        given = sources if "generate" in answer.timings else []  # what the model read
        prompt = service.count_tokens(answer.question) + sum(
            service.count_tokens(s["text"]) for s in given)
        completion = service.count_tokens(answer.text)
        metrics.tokens.labels("prompt").inc(prompt)
        metrics.tokens.labels("completion").inc(completion)
        return {"sources": sources, "kind": answer.kind, "refused": answer.refused,
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}}

    @app.post("/v1/chat/completions", tags=["openai"])
    async def chat_completions(body: ChatRequest, request: Request, key: ApiKey = reader):
        ticket = take_turn(key)
        model = body.model or service.config.generation_model
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if not body.stream:
            def run() -> dict:
                started = queue.wait_turn(ticket)
                try:
                    stream = start_answer(body)
                    stream.collect()
                    extras = completion_extras(request, stream)
                finally:
                    queue.leave(key.name, ticket, started)
                return {"id": completion_id, "object": "chat.completion", "created": created,
                        "model": model, "choices": [{"index": 0, "finish_reason": "stop", "message": {
                            "role": "assistant", "content": stream.answer.text}}], **extras}
            return await anyio.to_thread.run_sync(run)

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            payload = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                       "model": model, "choices": [{"index": 0, "delta": delta,
                                                    "finish_reason": finish}], **extra}
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

        async def events():
            started, stream, pieces = False, None, None
            try:
                started = await anyio.to_thread.run_sync(queue.wait_turn, ticket)
                stream = await anyio.to_thread.run_sync(start_answer, body)
                pieces = iter(stream)
                yield chunk({"role": "assistant", "content": ""})
                while True:
                    if await request.is_disconnected():
                        stream.cancel()
                        break
                    piece = await anyio.to_thread.run_sync(next, pieces, None)
                    if piece is None:
                        break
                    yield chunk({"content": piece})
                if stream.answer is not None:
                    yield chunk({}, "stop", **completion_extras(request, stream))
                yield "data: [DONE]\n\n"
            finally:
                with anyio.CancelScope(shield=True):
                    if stream is not None:
                        stream.cancel()
                        await anyio.to_thread.run_sync(lambda: [None for _ in pieces or ()])
                    queue.leave(key.name, ticket, started)

        return ClosingStreamingResponse(events(), media_type="text/event-stream",
                                        headers={"Cache-Control": "no-cache"})

    # --- RAG -------------------------------------------------------------------------

    @app.post("/v1/search", tags=["rag"])
    def search(body: SearchRequest, request: Request, _key: ApiKey = reader):
        hits = service.search(body.query, body.k, body.collection, body.document_ids)
        request.state.documents = [h.document_id for h in hits]
        return {"query": body.query, "hits": [h.to_json() for h in hits]}

    @app.post("/v1/query", tags=["rag"])
    def query(body: QueryRequest, request: Request, key: ApiKey = reader):
        ticket = take_turn(key)
        started = queue.wait_turn(ticket)
        try:
            stream = service.ask(body.question, body.collection, body.document_ids)
            answer = stream.collect()
        finally:
            queue.leave(key.name, ticket, started)
        request.state.documents = [s.hit.document_id for s in answer.sources
                                   if not answer.refused]  # a refusal drew on nothing
        for stage, seconds in answer.timings.items():
            metrics.stages.labels(stage).observe(seconds)
        return answer.to_json()

    @app.post("/v1/documents", status_code=202, tags=["rag"])
    def upload(files: list[UploadFile] = File(...), collection: str = Form("default"),
               _key: ApiKey = writer):
        folder = jobs.staging_dir()
        names, total = [], 0
        try:
            for upload in files:
                name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
                if not name or name.startswith("."):
                    raise ApiError(422, "Every uploaded file needs a name.")
                with (folder / name).open("wb") as out:
                    for block in iter(lambda: upload.file.read(1 << 20), b""):
                        total += len(block)
                        if total > limits.max_upload_bytes:
                            raise ApiError(413, f"The upload is over the "
                                           f"{limits.max_upload_bytes // 2**20} MiB limit.")
                        out.write(block)
                names.append(name)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return jobs.submit(folder, names, collection)

    @app.get("/v1/jobs/{job_id}", tags=["rag"])
    def job(job_id: str, _key: ApiKey = reader):
        found = jobs.get(job_id)
        if found is None:
            raise ApiError(404, f"There is no job {job_id}.", "not_found")
        return found

    @app.get("/v1/documents", tags=["rag"])
    def documents(collection: str | None = None, _key: ApiKey = reader):
        return {"documents": [d.__dict__ for d in service.documents(collection)]}

    @app.delete("/v1/documents/{document_id}", tags=["rag"])
    def delete_document(document_id: int, request: Request, _key: ApiKey = writer):
        service.delete_document(document_id)
        request.state.documents = [document_id]
        return {"deleted": document_id}

    @app.get("/v1/collections", tags=["rag"])
    def collections(_key: ApiKey = reader):
        return {"collections": [c.__dict__ for c in service.collections()]}

    @app.post("/v1/collections", status_code=201, tags=["rag"])
    def create_collection(body: CollectionRequest, _key: ApiKey = writer):
        service.create_collection(body.name)
        return {"created": body.name}

    @app.delete("/v1/collections/{name}", tags=["rag"])
    def delete_collection(name: str, _key: ApiKey = writer):
        service.delete_collection(name)
        return {"deleted": name}

    return app


def _mount_docs(app: FastAPI) -> None:
    """Interactive docs whose scripts come from the swagger-ui-bundle package, not a CDN."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="Enclave API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png")
