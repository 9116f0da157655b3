"""The backup schedule and the record of the last backup, both kept in the vault.

Keeping them in the vault means a restored library brings its schedule along and the
schedule survives restarts. `missed` says whether the most recent scheduled time passed
without a successful backup after it (the machine was off, or the backup failed), so the
app can run one at start and raise an alert.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, time as clock, timedelta
from pathlib import Path

from .. import texts
from ..errors import UserError
from .vault import Vault

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class BackupPlan:
    enabled: bool = False
    at: str = "02:00"
    """Local time of the daily backup, HH:MM."""
    destination: str = ""
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12

    def checked(self) -> "BackupPlan":
        if not _TIME.match(self.at):
            raise UserError.said("backup_plan_time", at=self.at)
        if self.enabled and not self.destination.strip():
            raise UserError.said("backup_plan_no_folder")
        if self.enabled and not Path(self.destination).expanduser().is_dir():
            raise UserError.said("backup_plan_folder_missing", folder=self.destination)
        if not (1 <= self.keep_daily <= 366 and 0 <= self.keep_weekly <= 520
                and 0 <= self.keep_monthly <= 1200):
            raise UserError.said("backup_plan_keep")
        return self

    def last_due(self, now: datetime) -> datetime:
        """The most recent scheduled time at or before `now`."""
        hour, minute = map(int, self.at.split(":"))
        today = datetime.combine(now.date(), clock(hour, minute))
        return today if today <= now else today - timedelta(days=1)


@dataclass(frozen=True)
class BackupResult:
    at: float
    ok: bool
    path: str = ""
    error: str = ""
    """Why it failed, in English."""
    error_code: str = ""
    """The code of `error` (engine/texts.py; "": words of their own), and its values."""
    error_values: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """Why it failed: a `texts.Said`, with its code and values, when it has a code."""
        return texts.reason(self.error_code, self.error_values, self.error)


def load_plan(vault: Vault) -> BackupPlan:
    stored = vault.get_meta("backup_plan")
    return BackupPlan(**json.loads(stored)) if stored else BackupPlan()


def save_plan(vault: Vault, plan: BackupPlan) -> BackupPlan:
    plan = plan.checked()
    with vault.transaction() as conn:
        vault.set_meta(conn, "backup_plan", json.dumps(asdict(plan)))
    return plan


def last_result(vault: Vault) -> BackupResult | None:
    stored = vault.get_meta("backup_last")
    return BackupResult(**json.loads(stored)) if stored else None


def last_success(vault: Vault) -> float | None:
    stored = vault.get_meta("backup_last_ok")
    return float(stored) if stored else None


def record_result(vault: Vault, result: BackupResult) -> None:
    with vault.transaction() as conn:
        vault.set_meta(conn, "backup_last", json.dumps(asdict(result)))
        if result.ok:
            vault.set_meta(conn, "backup_last_ok", str(result.at))


def missed(vault: Vault, now: datetime | None = None) -> bool:
    """Whether the last scheduled backup has not happened (successfully) since it was due."""
    plan = load_plan(vault)
    if not plan.enabled:
        return False
    now = now or datetime.now()
    done = last_success(vault)
    return done is None or datetime.fromtimestamp(done) < plan.last_due(now)
