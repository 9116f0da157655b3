"""`service.health`: the figures an administrator watches — the library's totals, whether
it is ready, the per-minute series behind the Health charts, the alerts, and cost.

Front ends display what these return; they compute nothing. The scheduler calls `sample`
every 30 s; the LAN API calls `record_request` for each request it answers.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable

from ..config import EngineConfig
from ..ops import alerts, cost
from ..ops.alerts import Alert
from ..ops.cost import CostRates, DayCost
from ..ops.monitoring import Monitor, merged, minute_of, sample_process
from ..retrieval.vector_index import VectorIndex
from ..store.vault import Vault

SERIES = ("requests", "answers", "queue_depth", "errors", "answer_seconds", "first_token_seconds",
          "retrieve_seconds", "cache_hit", "cache_miss", "cpu_percent", "memory_bytes",
          "tokens_per_second", "vault_bytes", "index_bytes", "documents", "chunks")


@dataclass(frozen=True)
class CostReport:
    rates: CostRates
    days: list[DayCost]
    """The last 30 days, oldest first."""
    collections: list[tuple[str, int, float]]
    """(collection, answers, compute cost), the most expensive first."""
    stored_bytes: int


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


class HealthService:
    def __init__(self, config: EngineConfig, vault: Vault, index: VectorIndex, monitor: Monitor,
                 models_loaded: Callable[[], dict[str, bool]], pending: Callable[[], int],
                 index_repair: str | None, server_model: Callable[[], str] = lambda: ""):
        """`server_model`: the model the inference server was found to serve ("" not yet)."""
        self._config, self._vault, self._index, self._monitor = config, vault, index, monitor
        self._models_loaded, self._pending = models_loaded, pending
        self._server_model = server_model
        self.index_repair = index_repair
        """What was wrong with the vector index when the library opened (it was rebuilt)."""

    def status(self) -> dict:
        """The library's totals and settings, as `enclave status` prints them."""
        vault = self._vault
        return {
            "data_dir": str(self._config.data_dir),
            "schema": vault.scalar("PRAGMA user_version"),
            "created_at": vault.path.stat().st_ctime,
            "collections": vault.scalar("SELECT count(*) FROM collections"),
            "documents": vault.scalar("SELECT count(*) FROM documents"),
            "chunks": vault.scalar("SELECT count(*) FROM chunks"),
            "indexed_vectors": len(self._index),
            "embedding_cache": vault.scalar("SELECT count(*) FROM embedding_cache"),
            "pending_files": self._pending(),
            "failed_files": vault.scalar("SELECT count(*) FROM ingest_failures"),
            "index_repaired": self.index_repair,
            "access": self._access(),
            "embedding_model": self._config.embedding_model,
            **self.generator(),
        }

    def generator(self) -> dict:
        """What writes the answers: "generator" is "local" (the model named by
        "generation_model") or "inference server" (at "inference_server", its model
        "generation_model": "" until the server has named the first it lists), with
        "fallback_model", the local model that stands in when the server does not answer
        ("": none, answers are then quotations)."""
        config = self._config
        if not config.inference_server_url:
            return {"generator": "local", "generation_model": config.generation_model,
                    "inference_server": "", "fallback_model": ""}
        return {"generator": "inference server",
                "generation_model": config.inference_server_model or self._server_model(),
                "inference_server": config.inference_server_url,
                "fallback_model": config.generation_model if config.inference_server_fallback
                else ""}

    def _access(self) -> str:
        if self._vault.writable:
            return "read-write"
        writer = self._vault.writer
        return (f"read-only ({writer} was writing it)" if writer
                else "read-only (no other program was writing it)")

    def readiness(self) -> dict:
        """Whether the models are loaded (an inference server: answered when last asked)
        and the index matches the vault, and what writes the answers."""
        chunks = self._vault.scalar("SELECT count(*) FROM chunks")
        return {"vault": True, **self._models_loaded(), "index_vectors": len(self._index),
                "chunks": chunks, "index_consistent": len(self._index) == chunks,
                **self.generator()}

    # --- what front ends report --------------------------------------------------------

    def record_request(self, seconds: float, failed: bool) -> None:
        """One request answered by a front end (failed: it ended in a server error)."""
        self._monitor.count("requests")
        self._monitor.observe("request_seconds", seconds)
        if failed:
            self._monitor.count("errors")

    def record_queue(self, depth: int) -> None:
        """How many answers wait for the model."""
        self._monitor.gauge("queue_depth", depth)

    def sample(self) -> None:
        """Gauges of the process and the library, written to the vault with the counters."""
        sample_process(self._monitor, self._vault, self._config.data_dir)
        self._monitor.flush()

    def flush(self) -> None:
        self._monitor.flush()

    def forget_old(self) -> None:
        """Drop per-minute figures older than the Health tab shows."""
        self._monitor.prune()

    # --- what the Health tab draws -------------------------------------------------------

    def totals(self) -> dict:
        """The library as it is now: "documents", "chunks", "vault_bytes", "index_bytes",
        "answers_today" (every front end's, cached ones too, since local midnight) and
        "tokens_per_second" (the model's writing speed in its last answer of the past day;
        None: no answer was written)."""
        self._monitor.flush()
        data_dir = Path(self._config.data_dir)
        midnight = time.mktime(time.localtime()[:3] + (0, 0, 0, 0, 0, -1))
        now = minute_of()
        speeds = [p.last for p in self._monitor.points("tokens_per_second", now - 1440, now)
                  if p.last is not None]
        return {
            "documents": self._vault.scalar("SELECT count(*) FROM documents"),
            "chunks": self._vault.scalar("SELECT count(*) FROM chunks"),
            "vault_bytes": sum(_size(data_dir / f"vault.db{suffix}")
                               for suffix in ("", "-wal")),  # what is written goes to the WAL first
            "index_bytes": _size(data_dir / "index.hnsw.enc"),
            "answers_today": int(sum(p.count for p in self._monitor.points(
                "answers", minute_of(midnight), now))),
            "tokens_per_second": speeds[-1] if speeds else None,
        }

    def chart(self, minutes: int, step: int) -> dict:
        """The series of the last `minutes`, one point per `step` minutes: "x" (epoch
        seconds) and one list per chart line, NaN where there is no data (a minute without
        an answer has no latency; one when the library was not open has no count either);
        "cpu" is the process's share of the whole machine, 0-100. Also the library's
        "totals" and the active "alerts"."""
        self._monitor.flush()
        end = minute_of()
        start = end - minutes
        data = {name: merged(self._monitor.points(name, start, end), start, end, step)
                for name in SERIES}
        # a step the library was open in: sampled (every 30 s), or something counted
        open_steps = [any(data[name][i].count for name in ("cpu_percent", "requests", "answers"))
                      for i in range(len(data["requests"]))]

        def per_minute(name):
            return [p.count / step if was_open else math.nan
                    for p, was_open in zip(data[name], open_steps)]

        def mean(name, scale=1.0):
            return [p.total / p.count / scale if p.count else math.nan for p in data[name]]

        def pct(name, q):  # minutes without data are gaps, not zeros
            return [p.percentile(q) if p.count else math.nan for p in data[name]]

        lookups = [h.count + m.count for h, m in zip(data["cache_hit"], data["cache_miss"])]
        cores = os.cpu_count() or 1
        return {
            "x": [p.minute * 60 for p in data["requests"]],
            "requests": per_minute("requests"), "answers": per_minute("answers"),
            "queue": mean("queue_depth"),
            "p50": pct("answer_seconds", 0.5), "p95": pct("answer_seconds", 0.95),
            "p99": pct("answer_seconds", 0.99), "ttft95": pct("first_token_seconds", 0.95),
            "retrieve95": pct("retrieve_seconds", 0.95),
            "error_rate": [100 * e.count / r.count if r.count else math.nan
                           for e, r in zip(data["errors"], data["requests"])],
            "hit_rate": [100 * h.count / n if n else math.nan
                         for h, n in zip(data["cache_hit"], lookups)],
            "cpu": mean("cpu_percent", cores), "memory": mean("memory_bytes", 2**20),
            "tokens_per_second": mean("tokens_per_second"),
            "totals": self.totals(),
            "alerts": self.alerts(),
        }

    def alerts(self) -> list[Alert]:
        """The guide's alert rules, over the last minutes' figures."""
        return alerts.evaluate(self._monitor)

    # --- cost ------------------------------------------------------------------------

    def cost(self, days: int = 30) -> CostReport:
        """What the last `days` cost, by day and by collection, at the saved rates."""
        rates = cost.load_rates(self._vault)
        stored = sum(p.stat().st_size for p in Path(self._config.data_dir).iterdir()
                     if p.is_file())
        return CostReport(rates, cost.daily(self._vault, rates, stored, days=days,
                                            since=cost.created_at(self._vault) or time.time()),
                          cost.by_collection(self._vault, rates, days=days), stored)

    def save_rates(self, rates: CostRates) -> CostRates:
        return cost.save_rates(self._vault, rates)

    @staticmethod
    def export_cost(days: list[DayCost], out: IO[str]) -> None:
        cost.export_csv(days, out)
