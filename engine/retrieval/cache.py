"""In-memory caches with a size bound, a time to live, and hit/miss counts.

The production guide's multi-level cache, inside the appliance: query embeddings (a
query embedded once is not embedded again) and whole answers (the same question, scope
and model settings over the same library get the same answer at once). Answer keys
carry the library's generation, which every ingest or delete bumps, so a change to the
library makes every earlier answer a miss at that moment.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from typing import Any, Hashable

_SPACE = re.compile(r"\s+")


def normalize_question(text: str) -> str:
    """Case, spacing and trailing punctuation do not make a different question."""
    return _SPACE.sub(" ", text).strip().rstrip("?？!！.。 ").lower()


class TTLCache:
    def __init__(self, max_entries: int, ttl_s: float):
        self.max_entries, self.ttl_s = max_entries, ttl_s
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or now - entry[0] > self.ttl_s:
                if entry is not None:
                    del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def stats(self) -> dict[str, float]:
        total = self.hits + self.misses
        return {"hits": self.hits, "misses": self.misses, "entries": len(self._entries),
                "hit_rate": round(self.hits / total, 4) if total else 0.0}
