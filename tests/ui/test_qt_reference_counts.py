"""Qt calls do not use up None or True. shiboken6 6.12.0 on Python 3.11 handed back None
(calls that return nothing) and True without counting the reference, so each call took
one from their counts until the interpreter aborted ("Fatal Python error: none_dealloc")
after 5,000-odd calls: a long session, or a long test run, ended that way. 6.11.2, the
version pinned, counts them right."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene

pytestmark = pytest.mark.gui


def test_many_qt_calls_leave_none_and_true_counted(qapp):
    scene = QGraphicsScene()
    item = QGraphicsRectItem(0, 0, 1, 1)
    scene.addItem(item)
    before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(2_000):
        item.setPos(i, i)  # returns None
        item.isVisible()  # returns True
    after = sys.getrefcount(None), sys.getrefcount(True)
    assert abs(after[0] - before[0]) < 100 and abs(after[1] - before[1]) < 100, (before, after)
