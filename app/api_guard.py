"""What stands in front of the LAN API's routes: API keys and scopes, per-key rate
limits, the generation queue, and the Prometheus metrics.

The model serves one generation at a time, so generations wait in a FIFO queue of
bounded length (503 when full); each key may also have only so many generations waiting
or running at once, and so many requests per minute (429 with Retry-After).
"""

from __future__ import annotations

import collections
import math
import threading
import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from engine import ApiKey


MAX_ID = 2**63 - 1
"""The largest id the vault can hold (SQLite's integer): larger ones are refused as 422."""


class ApiError(Exception):
    """An HTTP error with a readable message (turned into OpenAI-style JSON)."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}


@dataclass
class Limits:
    requests_per_minute: int = 600
    concurrent_generations: int = 2
    queue_length: int = 32
    max_upload_bytes: int = 100 * 2**20


class RateLimiter:
    """A token bucket per key: `requests_per_minute` tokens, refilled continuously."""

    def __init__(self, per_minute: int):
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1 - tokens) / self.rate)
                raise ApiError(429, f"Rate limit of {int(self.capacity)} requests per minute "
                               "reached for this key.", "rate_limit_error",
                               {"Retry-After": str(wait)})
            self._buckets[key] = (tokens - 1, now)


class GenerationQueue:
    """Fair (first come, first served) turns at the one model, with bounded waiting."""

    def __init__(self, length: int, per_key: int):
        self.length, self.per_key = length, per_key
        self._condition = threading.Condition()
        self._waiting: collections.deque[object] = collections.deque()
        self._per_key: collections.Counter[str] = collections.Counter()
        self._running = False

    @property
    def depth(self) -> int:
        return len(self._waiting) + int(self._running)

    def enter(self, key: str) -> object:
        """Join the queue (429 past the key's share, 503 when full); returns a ticket."""
        with self._condition:
            if self._per_key[key] >= self.per_key:
                raise ApiError(429, f"This key already has {self.per_key} generations waiting "
                               "or running.", "rate_limit_error", {"Retry-After": "2"})
            if len(self._waiting) >= self.length:
                raise ApiError(503, "The generation queue is full; try again shortly.",
                               "server_busy", {"Retry-After": "5"})
            ticket = object()
            self._waiting.append(ticket)
            self._per_key[key] += 1
            return ticket

    def wait_turn(self, ticket: object) -> bool:
        """Block until it is this ticket's turn (True), or it left the queue (False)."""
        with self._condition:
            self._condition.wait_for(lambda: ticket not in self._waiting or (
                not self._running and self._waiting[0] is ticket))
            if ticket not in self._waiting:
                return False
            self._waiting.popleft()
            self._running = True
            return True

    def leave(self, key: str, ticket: object, started: bool) -> None:
        with self._condition:
            if started:
                self._running = False
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            self._per_key[key] -= 1
            self._condition.notify_all()


def require_scope(key: ApiKey, write: bool) -> None:
    if write and key.scope != "read-write":
        raise ApiError(403, f"The key '{key.name}' is read-only: this needs a read-write key.",
                       "permission_error")


class Metrics:
    """The figures behind /metrics, in a registry of this API's own."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("enclave_requests_total", "HTTP requests by route and status",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("enclave_request_seconds", "HTTP request latency by route",
                                 ["route"], registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30))
        self.stages = Histogram("enclave_stage_seconds", "Time per pipeline stage",
                                ["stage"], registry=self.registry,
                                buckets=(.01, .05, .1, .25, .5, 1, 2, 5, 10, 30))
        self.tokens = Counter("enclave_tokens_total", "Prompt and completion tokens",
                              ["kind"], registry=self.registry)
        self.queue_depth = Gauge("enclave_generation_queue_depth",
                                 "Generations waiting or running", registry=self.registry)
        self.documents = Gauge("enclave_documents", "Documents in the library",
                               registry=self.registry)
        self.chunks = Gauge("enclave_chunks", "Chunks in the library", registry=self.registry)
        self.cache_lookups = Gauge("enclave_cache_lookups", "Cache lookups so far, by cache "
                                   "and result (hit or miss)", ["cache", "result"],
                                   registry=self.registry)
        self.cache_hit_rate = Gauge("enclave_cache_hit_rate", "Hits over lookups so far",
                                    ["cache"], registry=self.registry)
        self.embedding_cache = Gauge("enclave_embedding_cache_entries",
                                     "Vectors in the embedding cache", registry=self.registry)
