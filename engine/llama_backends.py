"""Loads llama.cpp's CPU backend when it is built as loadable variants (the portable bundle).

A llama.cpp built for one machine (`-march=native`) has its CPU backend linked in and may
use instructions an older CPU lacks. The bundle's llama.cpp is built with
GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS instead: one `libggml-cpu-<variant>` library per
CPU generation (x64, sse42, sandybridge, haswell, skylakex, …) beside libggml, and
llama-cpp-python does not load them by itself. `load_cpu_backend()` asks ggml to load the
variant that scores best on the running CPU, once, before the first model loads.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_PREFIX, _SUFFIX = {"win32": ("", ".dll"), "darwin": ("lib", ".dylib")}.get(
    sys.platform, ("lib", ".so"))
_lock = threading.Lock()
_loaded: list[str] | None = None


def load_cpu_backend() -> list[str]:
    """Load the best CPU variant where llama.cpp has loadable ones; the file names of the
    variants now mapped in this process ([] for a build with the backend linked in)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _load()
        return _loaded


def _load() -> list[str]:
    import llama_cpp

    lib_dir = Path(llama_cpp.__file__).resolve().parent / "lib"
    variants = sorted(lib_dir.glob(f"{_PREFIX}ggml-cpu-*{_SUFFIX}*"))
    if not variants:
        return []
    ggml = ctypes.CDLL(str(lib_dir / f"{_PREFIX}ggml{_SUFFIX}"))  # the one libllama uses
    ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_load_all_from_path.restype = None
    ggml.ggml_backend_load_all_from_path(os.fsencode(lib_dir))
    maps = Path("/proc/self/maps")
    mapped = maps.read_text() if maps.exists() else ""
    loaded = [v.name for v in variants if str(v) in mapped]
    log.info("llama.cpp CPU backend: %s", ", ".join(loaded) or "chosen by ggml")
    return loaded
