"""Alert rules of the production guide, evaluated on the per-minute health figures.

- errors: more than 5% of requests failed (5xx) in each of the last 2 minutes;
- slow answers: answer p95 over 2 s in each of the last 5 minutes that had answers
  (at least 3 of them);
- cache: answer-cache hit rate under 60% in each of the last 10 minutes with lookups
  (at least 5 of them);
- backup: the last backup failed, or a scheduled one was missed;
- disk: less free space than `min_free_bytes` where the library lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..store import backup_plan
from .monitoring import Monitor, minute_of


@dataclass(frozen=True)
class Alert:
    rule: str
    """"errors", "slow_answers", "cache", "backup", "backup_missed" or "disk"."""
    message: str
    """The alert in English, for the log and the command line."""
    since: float
    """When the condition began to hold, as far as the figures show (epoch seconds)."""
    value: float | None = None
    """The figure that crossed the threshold (a fraction, seconds or GiB free)."""
    detail: str = ""
    """What the engine said (a failed backup's error)."""


def _minutes(monitor: Monitor, series: str, now: int, window: int) -> dict[int, object]:
    return {p.minute: p for p in monitor.points(series, now - window, now - 1)}


def evaluate(monitor: Monitor, at: float | None = None,
             min_free_bytes: float = 2 * 2**30) -> list[Alert]:
    now = minute_of(at)
    alerts: list[Alert] = []

    requests = _minutes(monitor, "requests", now, 2)
    errors = _minutes(monitor, "errors", now, 2)
    rates = [errors[m].count / requests[m].count if m in errors else 0.0
             for m in range(now - 2, now) if m in requests and requests[m].count]
    if len(rates) == 2 and min(rates) > 0.05:
        alerts.append(Alert("errors", f"Error rate {max(rates):.0%} over the last 2 minutes "
                                      "(over 5%).", (now - 2) * 60, max(rates)))

    answers = _minutes(monitor, "answer_seconds", now, 5)
    slow = {m: p.percentile(0.95) for m, p in answers.items() if p.count}
    if len(slow) >= 3 and min(slow.values()) > 2.0:
        alerts.append(Alert("slow_answers", f"Answers are slow: p95 {max(slow.values()):.1f} s "
                                            "for 5 minutes (over 2 s).", min(slow) * 60,
                            max(slow.values())))

    hits = _minutes(monitor, "cache_hit", now, 10)
    misses = _minutes(monitor, "cache_miss", now, 10)
    hit_rates = {}
    for m in range(now - 10, now):
        lookups = (hits[m].count if m in hits else 0) + (misses[m].count if m in misses else 0)
        if lookups:
            hit_rates[m] = (hits[m].count if m in hits else 0) / lookups
    if len(hit_rates) >= 5 and max(hit_rates.values()) < 0.6:
        alerts.append(Alert("cache", f"Answer cache hit rate {max(hit_rates.values()):.0%} for "
                                     "10 minutes (under 60%).", min(hit_rates) * 60,
                            max(hit_rates.values())))

    last = backup_plan.last_result(monitor.vault)
    when = datetime.fromtimestamp(at) if at else datetime.now()
    if last is not None and not last.ok:
        alerts.append(Alert("backup", f"The last backup failed: {last.error}", last.at,
                            detail=last.error))
    elif backup_plan.missed(monitor.vault, when):
        alerts.append(Alert("backup_missed", "A scheduled backup was missed.",
                            backup_plan.load_plan(monitor.vault).last_due(when).timestamp()))

    free = monitor.points("disk_free_bytes", now - 5, now)
    if free and free[-1].last is not None and free[-1].last < min_free_bytes:
        alerts.append(Alert("disk", f"Only {free[-1].last / 2**30:.1f} GiB free where the "
                                    "library lives.", free[-1].minute * 60,
                            free[-1].last / 2**30))
    return alerts
