"""The LAN API's gate, before any route: a request that needs a key and has no valid one
is answered 401 before its body is read, and no body is read past the upload limit (413),
whether it says its length or comes in chunks.

A pure ASGI middleware, so that it runs before FastAPI reads and parses the body. It sits
inside the request logging (app/api.py), so what it refuses is counted and audited too.
"""

from __future__ import annotations

import json

import anyio
from starlette.exceptions import HTTPException

from engine import EnclaveService

OPEN_PATHS = ("/health", "/docs", "/docs-assets/", "/openapi.json")
CHECKED_KEY = "checked_api_key"
"""Where the gate leaves the key it checked, in the request's state."""


class ApiGate:
    def __init__(self, app, service: EnclaveService, max_body_bytes: int):
        self.app, self.service, self.max_body_bytes = app, service, max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if not any(path == p or (p.endswith("/") and path.startswith(p)) for p in OPEN_PATHS):
            if not await self._has_valid_key(scope):
                await _send_error(send, 401, "An API key is needed: send 'Authorization: "
                                  "Bearer <key>' (a valid, unrevoked one).",
                                  "authentication_error", [(b"www-authenticate", b"Bearer")])
                return
        too_large = HTTPException(413, f"The request is over the {self.max_body_bytes // 2**20} "
                                       "MiB upload limit.")
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body_bytes:  # said: refused unread
            await _send_error(send, 413, too_large.detail, "invalid_request_error")
            return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise too_large  # FastAPI lets an HTTPException through: answered as 413
            return message

        started = False

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except HTTPException as exc:
            if exc is not too_large or started:
                raise
            await _send_error(send, 413, exc.detail, "invalid_request_error")

    async def _has_valid_key(self, scope) -> bool:
        headers = dict(scope.get("headers") or [])
        value = headers.get(b"authorization", b"").decode("latin-1")
        if not value.lower().startswith("bearer "):
            return False
        key = await anyio.to_thread.run_sync(self.service.access.check_key, value[7:])
        scope.setdefault("state", {})[CHECKED_KEY] = key  # the routes' dependency takes it
        return key is not None


async def _send_error(send, status: int, message: str, kind: str,
                      headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"error": {"message": message, "type": kind}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})
