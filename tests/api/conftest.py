"""A real API server (uvicorn) on a free loopback port around a real engine service."""

from __future__ import annotations

import pytest


@pytest.fixture
def start_api(service):
    """Start the API with settings changed as asked; stops it after the test."""
    from app.server import ApiServer
    from app.settings import changed_settings, load_settings

    servers = []

    def _start(**changes):
        settings = changed_settings(load_settings(), **changes)
        server = ApiServer(service, settings, "127.0.0.1", 0)
        server.start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


@pytest.fixture
def api(start_api):
    return start_api()


@pytest.fixture
def keys(service):
    """A read-only and a read-write key: {"reader": ..., "writer": ...}."""
    return {"reader": service.access.create_key("reader", "read-only")[1],
            "writer": service.access.create_key("writer", "read-write")[1]}


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}
