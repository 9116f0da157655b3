"""What answering costs here, and what the same tokens would have cost in the cloud.

Each answer records its CPU time and tokens (`record`). Cost, as the production guide
breaks it down:
- compute: CPU seconds / cores / 3600 x the machine's power draw (kW) x price per kWh;
- storage: bytes of the library x price per GB-month, spread over the days;
- cloud equivalent: prompt and completion tokens x a per-million-token price table
  (a few public prices, editable), i.e. what running locally saved.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from ..errors import UserError
from ..store.vault import Vault

# Per million tokens (input, output), public list prices in USD as of PRICES_UPDATED; the
# administrator edits them (in the currency the rates are in), which dates them anew.
CLOUD_PRICES = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "claude-haiku-4.5": (1.00, 5.00),
    "claude-sonnet-4.5": (3.00, 15.00),
    "gemini-2.5-flash": (0.30, 2.50),
}
PRICES_UPDATED = "2025-10-16"
CURRENCY = re.compile(r"[A-Z]{3}")
"""An ISO 4217 code: USD, EUR, CNY…"""


@dataclass(frozen=True)
class CostRates:
    watts: float = 65.0
    """The machine's power draw with every core busy."""
    price_per_kwh: float = 0.20
    storage_per_gb_month: float = 0.05
    cloud_model: str = "gpt-4.1-mini"
    cloud_prices: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(CLOUD_PRICES))
    daily_budget: float = 1.0
    currency: str = "USD"
    """What every amount and price is in (ISO 4217)."""
    prices_updated: str = PRICES_UPDATED
    """The day the cloud price table was last checked or edited (YYYY-MM-DD)."""
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)

    def checked(self) -> "CostRates":
        if self.watts <= 0 or self.price_per_kwh < 0 or self.storage_per_gb_month < 0 \
                or self.daily_budget < 0:
            raise UserError("Power draw must be positive, prices zero or more.")
        if not CURRENCY.fullmatch(self.currency):
            raise UserError(f"'{self.currency}' is not a currency code: use three capital "
                            "letters, such as USD, EUR or CNY.")
        if any(price < 0 or math.isnan(price) for prices in self.cloud_prices.values()
               for price in prices):
            raise UserError("Cloud prices must be zero or more.")
        if self.cloud_model not in self.cloud_prices:
            raise UserError(f"No price for '{self.cloud_model}' in the price table.")
        return self

    def compute(self, cpu_s: float) -> float:
        return cpu_s / self.cores / 3600 * self.watts / 1000 * self.price_per_kwh

    def storage_per_day(self, stored_bytes: float) -> float:
        return stored_bytes / 1e9 * self.storage_per_gb_month / 30

    def cloud(self, prompt_tokens: int, completion_tokens: int) -> float:
        price_in, price_out = self.cloud_prices[self.cloud_model]
        return prompt_tokens / 1e6 * price_in + completion_tokens / 1e6 * price_out


@dataclass(frozen=True)
class DayCost:
    day: str
    queries: int
    cpu_s: float
    compute: float
    storage: float
    cloud_equivalent: float

    @property
    def total(self) -> float:
        return self.compute + self.storage

    @property
    def per_query(self) -> float:
        return self.total / self.queries if self.queries else 0.0


def record(vault: Vault, cpu_s: float, prompt_tokens: int, completion_tokens: int,
           collection: str | None, at: float | None = None) -> None:
    """Keep what one answer cost (not where the library is read-only: an answer asked
    from a reading program, e.g. `enclave ask`, is not counted)."""
    if not vault.writable:
        return
    with vault.transaction() as conn:
        conn.execute("INSERT INTO answer_costs(at, collection, cpu_s, prompt_tokens, "
                     "completion_tokens) VALUES(?,?,?,?,?)",
                     (at or time.time(), collection, cpu_s, prompt_tokens, completion_tokens))


def daily(vault: Vault, rates: CostRates, stored_bytes: float, days: int = 30,
          now: float | None = None, since: float | None = None) -> list[DayCost]:
    """One row per day (newest first) over the last `days` days, days without answers too,
    none before the day of `since` (the library's creation: storage is not charged before
    it existed)."""
    now = now or time.time()
    if since is not None:
        days = max(1, min(days, (date.fromtimestamp(now) - date.fromtimestamp(since)).days + 1))
    rows = vault.rows(
        "SELECT date(at, 'unixepoch', 'localtime') AS day, count(*), sum(cpu_s), "
        "sum(prompt_tokens), sum(completion_tokens) FROM answer_costs WHERE at >= ? "
        "GROUP BY day", (now - days * 86400,))
    by_day = {r[0]: r for r in rows}
    result = []
    for n in range(days):
        day = time.strftime("%Y-%m-%d", time.localtime(now - n * 86400))
        _, queries, cpu, prompt, completion = by_day.get(day, (day, 0, 0.0, 0, 0))
        result.append(DayCost(day, queries, cpu or 0.0, rates.compute(cpu or 0.0),
                              rates.storage_per_day(stored_bytes),
                              rates.cloud(prompt or 0, completion or 0)))
    return result


def created_at(vault: Vault) -> float | None:
    """When the library was first used, as far as it tells: its first collection, its first
    figures (kept from when it is first opened, for 35 days) or its first answer."""
    return vault.scalar("SELECT min(t) FROM (SELECT min(created_at) AS t FROM collections "
                        "UNION ALL SELECT min(minute) * 60 FROM metric_minutes "
                        "UNION ALL SELECT min(at) FROM answer_costs)")


def by_collection(vault: Vault, rates: CostRates, days: int = 30,
                  now: float | None = None) -> list[tuple[str, int, float]]:
    """(collection, answers, compute cost), most expensive first."""
    rows = vault.rows("SELECT coalesce(collection, ''), count(*), sum(cpu_s) FROM answer_costs "
                      "WHERE at >= ? GROUP BY 1", ((now or time.time()) - days * 86400,))
    return sorted(((name, n, rates.compute(cpu)) for name, n, cpu in rows),
                  key=lambda r: -r[2])


def export_csv(days: list[DayCost], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(["day", "answers", "cpu_seconds", "compute", "storage", "total",
                     "per_answer", "cloud_equivalent", "saved"])
    for d in days:
        writer.writerow([d.day, d.queries, round(d.cpu_s, 2), f"{d.compute:.6f}",
                         f"{d.storage:.6f}", f"{d.total:.6f}", f"{d.per_query:.6f}",
                         f"{d.cloud_equivalent:.6f}", f"{d.cloud_equivalent - d.total:.6f}"])


def load_rates(vault: Vault) -> CostRates:
    """The rates the administrator set (kept in the vault), or the defaults."""
    stored = vault.get_meta("cost_rates")
    if not stored:
        return CostRates()
    values = json.loads(stored)
    values["cloud_prices"] = {k: tuple(v) for k, v in values.get("cloud_prices", {}).items()}
    return CostRates(**values)


def save_rates(vault: Vault, rates: CostRates) -> CostRates:
    rates = rates.checked()
    values = dataclasses.asdict(rates)
    values.pop("cores")
    with vault.transaction() as conn:
        vault.set_meta(conn, "cost_rates", json.dumps(values))
    return rates
