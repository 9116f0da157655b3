"""Telling a full disk from a bug: the operating system's ENOSPC and SQLite's SQLITE_FULL
are the environment's fault. Front ends say "the disk is full" in one line, and the
ingest worker stops its run with the files still queued, instead of showing a traceback."""

from __future__ import annotations

import errno

DISK_FULL = "the disk is full: free some space, then try again"


def disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from, is a full disk."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if type(exc).__name__ == "OperationalError" and "database or disk is full" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
