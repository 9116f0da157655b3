"""Qt calls cannot use up None or True: the pinned PySide6 on Python 3.11 takes a reference
to them with each of many calls (see ui/refcount_guard.py), which aborted long test runs and
would abort a long session."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene

import ui  # noqa: F401  (the guard runs on import)

pytestmark = pytest.mark.gui


def test_many_qt_calls_cannot_use_up_none_or_true(qapp):
    scene = QGraphicsScene()
    item = QGraphicsRectItem(0, 0, 1, 1)
    scene.addItem(item)
    for i in range(20_000):  # more than None's whole count without the guard: it aborted
        item.setPos(i, i)
    assert sys.getrefcount(None) > 20_000 and sys.getrefcount(True) > 20_000
