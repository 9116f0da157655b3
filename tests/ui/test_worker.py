"""The task pool: results come back on the GUI thread, and a stale refresh loses."""

from __future__ import annotations

import threading

import pytest

from ui.worker import Tasks

pytestmark = pytest.mark.gui


def test_a_later_task_of_the_same_name_wins_even_when_it_finishes_first(qtbot):
    tasks = Tasks()
    shown: list[str] = []
    release_old = threading.Event()

    def old(_):
        release_old.wait(10)
        return "old"

    tasks.run(old, on_result=shown.append, latest="panel")
    tasks.run(lambda _: "new", on_result=shown.append, latest="panel")
    qtbot.waitUntil(lambda: shown == ["new"], timeout=5_000)
    release_old.set()
    assert tasks.wait(5_000)
    qtbot.wait(50)  # let the old result's queued delivery run
    assert shown == ["new"]


def test_unnamed_tasks_all_deliver_and_errors_reach_their_callback(qtbot):
    tasks = Tasks()
    shown: list[object] = []

    def fail(_):
        raise ValueError("bad input")

    tasks.run(lambda _: 1, on_result=shown.append)
    tasks.run(lambda _: 2, on_result=shown.append)
    tasks.run(fail, on_error=lambda exc: shown.append(str(exc)))
    qtbot.waitUntil(lambda: len(shown) == 3, timeout=5_000)
    assert sorted(map(str, shown)) == ["1", "2", "bad input"]
