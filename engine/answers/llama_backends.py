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
    # the libggml that libllama was linked to at import: in a PyInstaller bundle a copy of
    # it may also sit in the top folder, found first through LD_LIBRARY_PATH; backends
    # registered in another copy would be invisible to llama.cpp
    ggml_file = next((path for path in _mapped_files() if path.name.startswith(
        f"{_PREFIX}ggml{_SUFFIX}")), lib_dir / f"{_PREFIX}ggml{_SUFFIX}")
    ggml = ctypes.CDLL(str(ggml_file))
    ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_load_all_from_path.restype = None
    ggml.ggml_backend_load_all_from_path(os.fsencode(lib_dir))
    loaded = sorted({path.name for path in _mapped_files()
                     if path.name.startswith(f"{_PREFIX}ggml-cpu-")})
    log.info("llama.cpp CPU backend: %s", ", ".join(loaded) or "chosen by ggml")
    return loaded


def _mapped_files() -> list[Path]:
    """The files mapped into this process (Linux; elsewhere none are known)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    return [Path(line.split(maxsplit=5)[5]) for line in maps.read_text().splitlines()
            if line.count(" ") >= 5 and "/" in line]
