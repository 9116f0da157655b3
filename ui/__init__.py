"""The PySide6 desktop app: widgets over the engine facade only."""
