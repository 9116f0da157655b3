"""The backup schedule: kept in the vault across restarts, a missed backup runs at start,
a failed one is recorded for the alert."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from app.scheduler import BackgroundJobs
from engine import BackupPlan, UserError


def test_the_schedule_survives_a_restart_and_a_missed_backup_runs_at_start(
        open_service, corpus, tmp_path):
    destination = tmp_path / "usb"
    destination.mkdir()
    service = open_service()
    service.library.ingest([corpus])
    due = (datetime.now() - timedelta(minutes=5)).strftime("%H:%M")
    service.backups.save_plan(BackupPlan(True, due, str(destination)))
    service.close()

    service = open_service()  # the machine was off when the backup was due
    assert service.backups.missed()
    done = threading.Event()
    results = []
    scheduler = BackgroundJobs(service, "test", lambda r: (results.append(r), done.set()))
    scheduler.start()
    try:
        next_run = scheduler.next_run()
        assert (next_run.hour, next_run.minute) == tuple(map(int, due.split(":")))
        assert next_run > datetime.now(next_run.tzinfo)  # tomorrow's
        assert done.wait(60)
    finally:
        scheduler.shutdown()
    assert results[0].ok, results[0].error
    assert [str(p) for p, _ in service.backups.list(destination)] == [results[0].path]
    assert not service.backups.missed()


def test_a_failed_backup_is_recorded_and_still_counts_as_missed(open_service, tmp_path):
    service = open_service()
    gone = tmp_path / "unplugged"
    gone.mkdir()
    service.backups.save_plan(BackupPlan(True, "00:00", str(gone)))
    gone.rmdir()  # the drive was unplugged
    result = BackgroundJobs(service, "test").run()
    assert not result.ok and "not there" in result.error
    assert service.backups.last_result().error == result.error
    assert service.backups.missed()


def test_bad_plans_are_refused(service, tmp_path):
    with pytest.raises(UserError, match="time of day"):
        service.backups.save_plan(BackupPlan(False, "25:00"))
    with pytest.raises(UserError, match="does not exist"):
        service.backups.save_plan(BackupPlan(True, "02:00",
                                                                    str(tmp_path / "nope")))
    assert service.backups.plan() == BackupPlan()
