"""The LAN API: OpenAI-compatible and RAG endpoints over the engine facade.

`create_api(service, limits)` builds the FastAPI app around an open EnclaveService from
the routers in app/routes/ (thin adapters). Every route but /health (and the
documentation) needs an API key; writes need a read-write key. Each request is counted
in the metrics and the library's health figures, and written to the vault's audit log
when its response has been sent.
"""

from __future__ import annotations

import contextlib
import logging
import time

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartParser
from starlette.routing import Match

from engine import (AlreadyExistsError, AuditEntry, EnclaveService, ModelUnavailableError,
                    NotAllowedError, NotFoundError, UserError)

from .api_gate import ApiGate
from .api_guard import ApiError, GenerationQueue, Limits, Metrics, RateLimiter
from .api_jobs import Jobs
from .routes import ApiContext, conversations, documents, openai, operations, rag

VERSION = "1"
log = logging.getLogger(__name__)


def create_api(service: EnclaveService, limits: Limits | None = None) -> FastAPI:
    limits = limits or Limits()
    # Uploads stay in memory while the request is parsed, instead of spooling to the
    # system's temporary folder (unencrypted, and not cleaned up by us); the gate bounds
    # them. From memory they go to the vault (upload jobs), never to a file.
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, limits.max_upload_bytes)
    ctx = ApiContext(service, limits, Metrics(), RateLimiter(limits.requests_per_minute),
                     GenerationQueue(limits.queue_length, limits.concurrent_generations),
                     Jobs(service))

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        ctx.jobs.close()

    app = FastAPI(title="Enclave API", version=VERSION, docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="Private document search and answers. Authenticate with "
                              "`Authorization: Bearer <key>` (create keys with `enclave keys create`).")
    app.state.service, app.state.jobs, app.state.metrics = service, ctx.jobs, ctx.metrics
    _mount_docs(app)
    _handle_errors(app)
    app.add_middleware(ApiGate, service=service, max_body_bytes=limits.max_upload_bytes)
    _observe_requests(app, ctx)  # added last: outermost, so it sees what the gate refuses
    for module in (operations, openai, rag, documents, conversations):
        app.include_router(module.router(ctx))
    return app


def _error(status: int, message: str, kind: str, headers: dict | None = None,
           code: str = "") -> JSONResponse:
    """The OpenAI error shape; `code`, when the engine's message has one (engine/texts.py),
    names it whatever language a client shows it in."""
    error = {"message": message, "type": kind, **({"code": code} if code else {})}
    return JSONResponse({"error": error}, status, headers=headers)


def _handle_errors(app: FastAPI) -> None:
    """Every error answers in the OpenAI shape: {"error": {"message", "type"}}, and "code"
    for an engine message that has one."""

    @app.exception_handler(ApiError)
    async def api_error(_request, exc: ApiError):
        return _error(exc.status, exc.message, exc.kind, exc.headers)

    @app.exception_handler(UserError)
    async def user_error(_request, exc: UserError):
        if isinstance(exc, ModelUnavailableError):  # the server's state, not the request
            return _error(503, str(exc), "model_unavailable", code=exc.code)
        if isinstance(exc, NotAllowedError):  # a key scoped to collections named another
            return _error(403, str(exc), "permission_error", code=exc.code)
        status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(
            exc, AlreadyExistsError) else 400
        return _error(status, str(exc), "invalid_request_error", code=exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):  # no route, wrong method
        kind = "not_found" if exc.status_code == 404 else "invalid_request_error"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # Starlette names only the first route of the path's
            headers["Allow"] = ", ".join(_allowed_methods(app, request.scope))
        return _error(exc.status_code, str(exc.detail), kind, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request, exc: RequestValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
                 for e in exc.errors()]
        return _error(422, "Invalid request: " + "; ".join(parts), "invalid_request_error")


def _allowed_methods(app: FastAPI, scope) -> list[str]:
    """Every method some route answers at a request's path (for a 405's Allow header)."""
    return [method for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
            if any(route.matches({**scope, "method": method})[0] == Match.FULL
                   for route in app.router.routes)]


def _observe_requests(app: FastAPI, ctx: ApiContext) -> None:
    """Metrics, health figures and an audit entry for each request, once it is answered."""
    service, metrics = ctx.service, ctx.metrics

    @app.middleware("http")
    async def observe(request: Request, call_next):
        started = time.perf_counter()
        request.state.key_name, request.state.documents = None, []
        try:  # the gate inside answers what is too large or has no key (app/api_gate.py)
            response = await call_next(request)
        except Exception as exc:  # a bug: answered, counted and audited like any request
            log.exception("request %s %s failed", request.method, request.url.path)
            response = _error(500, f"Internal error ({type(exc).__name__}); the details are "
                                   "in the server's log.", "server_error")
        # the route's template; a request refused at the gate never reached one: the metrics
        # label it "unmatched" (any path would make labels without end), the audit keeps it
        route = getattr(request.scope.get("route"), "path", None)
        audited = route or request.url.path[:200]
        route = route or "unmatched"
        body = response.body_iterator if hasattr(response, "body_iterator") else None

        async def finish() -> None:
            seconds = time.perf_counter() - started
            metrics.requests.labels(route, str(response.status_code)).inc()
            metrics.latency.labels(route).observe(seconds)
            service.health.record_request(seconds, failed=response.status_code >= 500)
            if audited != "/health" and not audited.startswith("/docs"):
                entry = AuditEntry(request.state.key_name, request.client.host if request.client
                                   else "?", request.method, audited, response.status_code,
                                   seconds * 1000, request.state.documents)
                await anyio.to_thread.run_sync(service.access.record, entry)

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
