"""Health figures per minute in the vault, the alert rules on synthetic figures, and the
cost arithmetic on known inputs."""

from __future__ import annotations

import io
import time

import pytest

from engine.ops import alerts, cost

from engine.store import backup_plan
from engine.errors import UserError
from engine.ops.monitoring import Monitor, minute_of, percentile

NOW = 1_800_000_000.0  # a fixed moment, at the start of a minute


def at(minutes_ago: float) -> float:
    return NOW - minutes_ago * 60


def test_figures_survive_in_the_vault_and_give_percentiles(open_service, corpus):
    service = open_service()
    service.library.ingest([corpus])
    service.answers.ask("At what pressure does the relief valve open?").collect()
    service.answers.ask("At what pressure does the relief valve open?").collect()  # a cache hit
    service.health.sample()
    service.close()
    service = open_service()
    monitor = Monitor(service._vault)
    names = set(monitor.series_names())
    assert {"answers", "answer_seconds", "first_token_seconds", "cache_hit", "cache_miss",
            "embed_query_seconds", "retrieve_seconds", "cpu_percent", "chunks"} <= names
    minute = minute_of()
    answers = monitor.points("answers", minute - 5, minute)
    assert sum(p.count for p in answers) == 2
    chunks = monitor.points("chunks", minute - 5, minute)[-1]
    assert chunks.last == service.health.status()["chunks"]
    costs = service._vault.rows("SELECT cpu_s, prompt_tokens, completion_tokens FROM answer_costs")
    assert len(costs) == 1 and costs[0][0] > 0 and costs[0][1] > costs[0][2] > 0


def test_flushes_add_up_and_percentiles_use_the_histogram(service):
    monitor = Monitor(service._vault)
    for seconds in (0.02, 0.02, 0.3, 4.0):
        monitor.observe("answer_seconds", seconds, at(0))
    monitor.flush()
    monitor.observe("answer_seconds", 0.02, at(0))
    monitor.flush()
    point = monitor.points("answer_seconds", minute_of(NOW) - 1, minute_of(NOW))[0]
    assert point.count == 5 and point.total == pytest.approx(4.36)
    assert point.percentile(0.5) == 0.025 and point.percentile(0.95) == 5.0
    assert percentile([0.0] * 14, 0.5) is None


def test_alert_rules_fire_on_synthetic_figures(service, tmp_path):
    monitor = Monitor(service._vault)
    assert alerts.evaluate(monitor, NOW, min_free_bytes=0) == []
    for minutes_ago in (1, 2):
        monitor.count("requests", 100, at(minutes_ago))
        monitor.count("errors", 8, at(minutes_ago))
    for minutes_ago in (1, 2, 3, 4):
        for _ in range(10):
            monitor.observe("answer_seconds", 2.8, at(minutes_ago))
    for minutes_ago in range(1, 11):
        monitor.count("cache_hit", 1, at(minutes_ago))
        monitor.count("cache_miss", 3, at(minutes_ago))
    monitor.gauge("disk_free_bytes", 300 * 2**20, at(1))
    monitor.flush()
    fired = {a.rule: a.message for a in alerts.evaluate(monitor, NOW)}
    assert set(fired) == {"errors", "slow_answers", "cache", "disk"}
    assert "8%" in fired["errors"] and "25%" in fired["cache"]
    # one good minute is enough to clear the error alert (it needs 2 bad ones in a row)
    monitor.count("requests", 100, at(0))
    monitor.flush()
    assert "errors" not in {a.rule for a in alerts.evaluate(monitor, NOW + 60)}
    backup_plan.record_result(service._vault, backup_plan.BackupResult(NOW, False, error="disk full"))
    assert "disk full" in {a.rule: a.message for a in alerts.evaluate(monitor, NOW)}["backup"]


def test_cost_arithmetic_on_known_inputs(service):
    rates = cost.CostRates(watts=100, price_per_kwh=0.30, storage_per_gb_month=0.06,
                           cloud_model="gpt-4o-mini", cloud_prices={"gpt-4o-mini": (0.15, 0.60)},
                           daily_budget=0.5, cores=2)
    # 7,200 CPU-seconds on 2 cores = 1 hour of the whole machine = 0.1 kWh = 0.03
    assert rates.compute(7200) == pytest.approx(0.03)
    assert rates.storage_per_day(10e9) == pytest.approx(10 * 0.06 / 30)
    assert rates.cloud(1_000_000, 500_000) == pytest.approx(0.15 + 0.30)
    cost.record(service._vault, 7200, 1_000_000, 500_000, "plant", at=NOW)
    cost.record(service._vault, 3600, 0, 0, "plant", at=NOW)
    cost.record(service._vault, 10, 0, 0, None, at=NOW - 86400)
    days = cost.daily(service._vault, rates, stored_bytes=10e9, days=3, now=NOW)
    today = days[0]
    assert today.queries == 2 and today.compute == pytest.approx(0.045)
    assert today.total == pytest.approx(0.045 + 0.02) and today.per_query == pytest.approx(0.0325)
    assert today.cloud_equivalent == pytest.approx(0.45)
    assert days[1].queries == 1 and days[2].queries == 0
    assert cost.by_collection(service._vault, rates, now=NOW)[0][:2] == ("plant", 2)
    out = io.StringIO()
    cost.export_csv(days, out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("day,answers,cpu_seconds") and len(lines) == 4
    with pytest.raises(UserError):
        cost.CostRates(cloud_model="nobody").checked()
    # storage is charged from the day the library was made, not before
    since = cost.daily(service._vault, rates, stored_bytes=10e9, days=30, now=NOW,
                       since=NOW - 86400)
    assert [d.queries for d in since] == [2, 1]


def test_bad_rates_are_refused_and_the_saved_ones_kept(service):
    cost.save_rates(service._vault, cost.CostRates(currency="EUR", watts=80))
    for bad in (cost.CostRates(currency="euros"), cost.CostRates(currency="eur"),
                cost.CostRates(cloud_prices={"gpt-4.1-mini": (-1.0, 1.0)}),
                cost.CostRates(daily_budget=-1)):
        with pytest.raises(UserError):
            cost.save_rates(service._vault, bad)
    kept = cost.load_rates(service._vault)
    assert (kept.currency, kept.watts) == ("EUR", 80)


def test_cost_rates_are_kept_in_the_vault(service):
    rates = cost.CostRates(watts=45, cloud_prices={**cost.CLOUD_PRICES, "local-llm": (0.0, 0.0)},
                           cloud_model="local-llm")
    cost.save_rates(service._vault, rates)
    loaded = cost.load_rates(service._vault)
    assert loaded.watts == 45 and loaded.cloud_model == "local-llm"
    assert loaded.cloud_prices["gpt-4.1"] == (2.00, 8.00)
    with pytest.raises(UserError):
        cost.save_rates(service._vault, cost.CostRates(watts=0))


def test_figures_older_than_five_weeks_are_forgotten(service):
    now = time.time()
    monitor = Monitor(service._vault)
    monitor.count("answers", 1, now - 40 * 86400)
    monitor.count("answers", 1, now)
    monitor.flush()
    monitor.prune(keep_days=35)
    points = monitor.points("answers", minute_of(now) - 50 * 1440, minute_of(now))
    assert [p.minute for p in points] == [minute_of(now)]


def test_cpu_is_measured_between_samples_and_totals_are_the_library_now(service, corpus):
    from engine.ops.monitoring import sample_process

    monitor = Monitor(service._vault)
    sample_process(monitor, service._vault, service.config.data_dir)
    busy = time.process_time() + 0.3
    while time.process_time() < busy:  # keep a core busy between the two samples
        pass
    sample_process(monitor, service._vault, service.config.data_dir)
    monitor.flush()
    cpu = monitor.points("cpu_percent", minute_of() - 2, minute_of())
    assert cpu[-1].last > 0  # a new psutil object each time said 0.0, always
    service.library.ingest([corpus])  # no sample since: the totals are read now
    totals = service.health.totals()
    assert totals["documents"] == service.health.status()["documents"] > 0
    assert totals["chunks"] == service.health.status()["chunks"]
    assert totals["vault_bytes"] > 0 and totals["index_bytes"] > 0


def test_the_writing_speed_is_the_models_own(service, corpus):
    service.library.ingest([corpus])
    service.answers.ask("At what pressure does the relief valve open?").collect()
    written = service.answers._answerer().generator.last_tokens_per_second
    assert written and 0 < written < 1000  # not 125,976 tokens/s (a division by about 0)
    assert service.health.totals()["tokens_per_second"] == pytest.approx(written)
