"""The PySide6 desktop app (next milestone): widgets over the engine facade only."""
