"""Runs the library's backup plan (kept in the vault) with APScheduler, and every 30 s
writes the health figures (process and library gauges, per-minute metrics) to the vault.

Daily at the plan's time; "Back up now" on demand; and at start, a backup that was due
while the machine was off (or that failed) runs at once. Results are recorded in the
vault by the engine and handed to `on_result` (the app turns a failure into an alert).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from engine import BackupResult, EnclaveService

log = logging.getLogger(__name__)
JOB = "daily-backup"


class BackgroundJobs:
    def __init__(self, service: EnclaveService, app_version: str,
                 on_result: Callable[[BackupResult], None] | None = None,
                 settings_path: Path | None = None):
        self.service, self.app_version, self.on_result = service, app_version, on_result
        self.extra_files = {"settings.json": settings_path} if settings_path else None
        self.scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                           "misfire_grace_time": 3600})

    def start(self) -> None:
        self.scheduler.start()
        self.apply()
        self.scheduler.add_job(self.record_health, "interval", seconds=30, id="health",
                               next_run_time=datetime.now())
        self.scheduler.add_job(self.service.health.forget_old, "interval", hours=24,
                               id="forget-old-health-figures")  # the Health tab shows a week
        if self.service.backups.missed():
            log.warning("a scheduled backup was missed: running it now")
            self.run_now()

    def apply(self) -> None:
        """Follow the plan as it is now in the vault (after a change)."""
        plan = self.service.backups.plan()
        if self.scheduler.get_job(JOB):
            self.scheduler.remove_job(JOB)
        if plan.enabled:
            hour, minute = map(int, plan.at.split(":"))
            self.scheduler.add_job(self.run, CronTrigger(hour=hour, minute=minute), id=JOB)

    def next_run(self) -> datetime | None:
        job = self.scheduler.get_job(JOB)
        return job.next_run_time if job else None

    def run_now(self) -> None:
        self.scheduler.add_job(self.run, id="backup-now", replace_existing=True)

    def run(self) -> BackupResult:
        result = self.service.backups.run_scheduled(self.app_version, self.extra_files)
        if self.on_result:
            self.on_result(result)
        return result

    def record_health(self) -> None:
        """Sample the process and the library, and write the health figures to the vault."""
        self.service.health.sample()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
            self.service.health.flush()
