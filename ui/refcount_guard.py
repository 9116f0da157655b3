"""A guard against a reference-count bug of the pinned PySide6 (shiboken6 6.12.0) on
Python 3.11: Qt calls that return nothing (setText, setValue, setPos, update…) hand Python
back None without counting the reference, and pyqtgraph's calls into Qt do the same to
True, so each call lowers their counts by one until the interpreter aborts ("Fatal Python
error: none_dealloc" or "bool_dealloc"), after a long session or test run: a Health
refresh took about 450 from None and 70 from True, of some 5,000 and 15,000. Python 3.12
made these objects immortal (PEP 683), which is why the wheel works there; PySide6 6.11.2
counts them right.

Until a fixed PySide6 is pinned, `guard()` raises their counts once, far out of reach, as
Python 3.12 does; on 3.12 and later it does nothing.
"""

from __future__ import annotations

import ctypes
import sys

OUT_OF_REACH = 1 << 40
"""More Qt calls than a process makes in its life."""


def guard() -> None:
    if sys.version_info >= (3, 12):
        return
    for singleton in (None, True, False):
        if sys.getrefcount(singleton) < OUT_OF_REACH:
            ctypes.c_ssize_t.from_address(id(singleton)).value += OUT_OF_REACH  # ob_refcnt
