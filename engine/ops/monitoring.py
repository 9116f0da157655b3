"""Health figures of the running engine, per minute, kept in the vault.

Latencies (`observe`), counts (`count`) and gauges (`gauge`) are summed in memory per
minute and series, with a fixed histogram for latencies, and `flush` adds them to the
vault's `metric_minutes` table, so charts and alert rules see history across restarts.
Percentiles over any range come from the merged histograms (upper bucket bounds).
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass

from ..store.vault import Vault

BOUNDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, math.inf)


def minute_of(t: float | None = None) -> int:
    return int((time.time() if t is None else t) // 60)


@dataclass
class Point:
    minute: int
    count: float
    total: float
    buckets: list[float]
    last: float | None

    def percentile(self, q: float) -> float | None:
        return percentile(self.buckets, q)


def percentile(buckets: list[float], q: float) -> float | None:
    seen, need = 0.0, q * sum(buckets)
    if not need:
        return None
    for bound, n in zip(BOUNDS, buckets):
        seen += n
        if seen >= need:
            return bound if bound != math.inf else BOUNDS[-2]
    return BOUNDS[-2]


class Monitor:
    def __init__(self, vault: Vault):
        self.vault = vault
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, str], Point] = {}
        self._process = None

    def process(self):
        """This process, as psutil sees it: one object for the monitor's life, since its
        CPU % is measured between two calls on the same object (a new one says 0.0)."""
        if self._process is None:
            import psutil

            self._process = psutil.Process()
        return self._process

    def _point(self, series: str, at: float | None) -> Point:
        key = (minute_of(at), series)
        point = self._pending.get(key)
        if point is None:
            point = self._pending[key] = Point(key[0], 0.0, 0.0, [0.0] * len(BOUNDS), None)
        return point

    def observe(self, series: str, seconds: float, at: float | None = None) -> None:
        """A latency (or any duration) in seconds."""
        with self._lock:
            point = self._point(series, at)
            point.count += 1
            point.total += seconds
            point.buckets[next(i for i, b in enumerate(BOUNDS) if seconds <= b)] += 1

    def count(self, series: str, n: float = 1, at: float | None = None) -> None:
        with self._lock:
            point = self._point(series, at)
            point.count += n
            point.total += n

    def gauge(self, series: str, value: float, at: float | None = None) -> None:
        with self._lock:
            point = self._point(series, at)
            point.count += 1
            point.total += value
            point.last = value

    def flush(self) -> int:
        """Add what was gathered to the vault; returns the number of rows written (none
        where the library is read-only: a reading program's figures are not kept)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending or not self.vault.writable:
            return 0
        with self.vault.transaction() as conn:
            for (minute, series), p in pending.items():
                row = conn.execute("SELECT count, total, buckets FROM metric_minutes "
                                   "WHERE minute = ? AND series = ?", (minute, series)).fetchone()
                if row:
                    p.count += row[0]
                    p.total += row[1]
                    p.buckets = [a + b for a, b in zip(p.buckets, json.loads(row[2]))]
                conn.execute("INSERT OR REPLACE INTO metric_minutes(minute, series, count, total, "
                             "buckets, last) VALUES(?,?,?,?,?,?)",
                             (minute, series, p.count, p.total, json.dumps(p.buckets), p.last))
        return len(pending)

    def points(self, series: str, start: int, end: int) -> list[Point]:
        """The stored minutes of a series in [start, end], oldest first."""
        rows = self.vault.rows("SELECT minute, count, total, buckets, last FROM metric_minutes "
                               "WHERE series = ? AND minute BETWEEN ? AND ? ORDER BY minute",
                               (series, start, end))
        return [Point(m, c, t, json.loads(b), last) for m, c, t, b, last in rows]

    def series_names(self) -> list[str]:
        return [r[0] for r in self.vault.rows("SELECT DISTINCT series FROM metric_minutes")]

    def prune(self, keep_days: int = 35) -> None:
        if not self.vault.writable:
            return
        with self.vault.transaction() as conn:
            conn.execute("DELETE FROM metric_minutes WHERE minute < ?",
                         (minute_of() - keep_days * 1440,))


def sample_process(monitor: Monitor, vault: Vault, data_dir, at: float | None = None) -> None:
    """Gauges of the process and the library: CPU %, memory, sizes, free disk, counts."""
    import shutil

    process = monitor.process()
    monitor.gauge("cpu_percent", process.cpu_percent(interval=None), at)
    monitor.gauge("memory_bytes", process.memory_info().rss, at)
    monitor.gauge("disk_free_bytes", shutil.disk_usage(data_dir).free, at)
    for name, path in (("vault_bytes", data_dir / "vault.db"),
                       ("index_bytes", data_dir / "index.hnsw.enc")):
        monitor.gauge(name, path.stat().st_size if path.exists() else 0, at)
    monitor.gauge("documents", vault.scalar("SELECT count(*) FROM documents"), at)
    monitor.gauge("chunks", vault.scalar("SELECT count(*) FROM chunks"), at)


def merged(points: list[Point], start: int, end: int, step: int) -> list[Point]:
    """Points summed into steps of `step` minutes from `start` to `end` (empty steps too)."""
    steps = {s: Point(s, 0.0, 0.0, [0.0] * len(BOUNDS), None)
             for s in range(start - start % step, end + 1, step)}
    for p in points:
        target = steps.get(p.minute - p.minute % step)
        if target is None:
            continue
        target.count += p.count
        target.total += p.total
        target.buckets = [a + b for a, b in zip(target.buckets, p.buckets)]
        target.last = p.last if p.last is not None else target.last
    return list(steps.values())
