"""The generation queue's rules, without a model: bounded, per-key share, first come first
served (the HTTP tests cover it with the real model)."""

from __future__ import annotations

import threading
import time

import pytest

from app.api_guard import ApiError, GenerationQueue, RateLimiter


def test_the_queue_is_bounded_and_each_key_has_a_share():
    queue = GenerationQueue(length=2, per_key=2)
    queue.enter("a")
    queue.enter("a")
    with pytest.raises(ApiError) as share:
        queue.enter("a")
    assert share.value.status == 429 and share.value.headers["Retry-After"]
    with pytest.raises(ApiError) as full:
        queue.enter("b")
    assert full.value.status == 503


def test_turns_are_taken_in_arrival_order_and_a_leaver_gives_up_its_place():
    queue = GenerationQueue(length=10, per_key=10)
    order: list[str] = []
    first = queue.enter("k")
    assert queue.wait_turn(first)
    tickets = {name: queue.enter("k") for name in ("b", "c", "d")}
    queue.leave("k", tickets["c"], started=False)  # a client that went away while waiting

    def worker(name: str) -> None:
        if queue.wait_turn(tickets[name]):
            order.append(name)
            queue.leave("k", tickets[name], started=True)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("d", "c", "b")]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    assert order == []  # the first one still runs
    queue.leave("k", first, started=True)
    for thread in threads:
        thread.join(5)
    assert order == ["b", "d"] and queue.depth == 0


def test_rate_limit_refills_over_time():
    limiter = RateLimiter(per_minute=60)
    for _ in range(60):
        limiter.take("k")
    with pytest.raises(ApiError) as limited:
        limiter.take("k")
    assert limited.value.headers["Retry-After"] == "1"
    limiter._buckets["k"] = (0.0, time.monotonic() - 1.1)  # a second later
    limiter.take("k")
