"""The PySide6 desktop app (next milestone): widgets over the engine facade only."""

from .refcount_guard import guard

guard()  # before any Qt call (see refcount_guard.py)
