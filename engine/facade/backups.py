"""`service.backups`: verified backups, their schedule and retention, and restore.

The library's key never leaves the engine: backups are written and verified with it here,
and `restore` verifies, closes the library and swaps the data directory in one call.
`restore_library` restores where no library is open (a new machine, an empty folder).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import UserError, WrongKeyError
from ..store import backup_plan, backups, keys, rekey
from ..store.backup_plan import BackupPlan, BackupResult
from ..store.backups import Manifest
from ..store.diskspace import disk_full
from ..store.vault import Vault

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupMade:
    folder: Path
    manifest: Manifest
    pruned: list[Path]
    """Older backups deleted by the plan's retention."""


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    aside: Path | None
    """Where the data directory's previous content was moved (None if it was empty)."""
    unlocked_with: str = "passphrase"
    """"keyring" or "passphrase": how the restored library opens on this machine."""
    key_changed_since: float | None = None
    """When the key of the library it replaced was changed, if that was after the backup was
    made: the restored library opens with the passphrase (or recovery key) of that time."""


class BackupService:
    def __init__(self, vault: Vault, data_dir: Path, close_library: Callable[[], None]):
        self._vault, self._data_dir, self._close_library = vault, data_dir, close_library

    def backup(self, destination: Path | None, app_version: str,
               extra_files: dict[str, Path] | None = None) -> BackupMade:
        """Write a verified backup into `destination` (default: the plan's folder), then
        delete the older backups the plan does not keep."""
        plan = self.plan()
        if destination is not None:  # chosen now: made if need be
            folder = destination.expanduser()
            folder.mkdir(parents=True, exist_ok=True)
        elif not plan.destination:
            raise UserError.said("backup_no_folder")
        else:  # the plan's, often a removable drive: never created in its place
            folder = Path(plan.destination).expanduser()
            if not folder.is_dir():
                raise UserError.said("backup_folder_missing", folder=str(folder))
        try:
            made = backups.create_backup(self._vault, self._data_dir, folder, app_version,
                                         extra_files)
        except OSError as exc:
            if disk_full(exc):  # said, not a bug: the backup left nothing behind
                raise UserError.said("disk_full", detail=str(exc)) from exc
            raise
        manifest = self.verify(made)
        pruned = backups.prune(folder, plan.keep_daily, plan.keep_weekly, plan.keep_monthly)
        return BackupMade(made, manifest, pruned)

    def run_scheduled(self, app_version: str, extra_files: dict[str, Path] | None = None
                      ) -> BackupResult:
        """Back up as the plan says, and record the result (shown as an alert if it failed)."""
        try:
            made = self.backup(None, app_version, extra_files)
            result = BackupResult(time.time(), True, str(made.folder))
        except Exception as exc:  # recorded, shown as an alert; the app goes on
            log.exception("backup failed")
            result = BackupResult(time.time(), False, error=str(exc),
                                  error_code=getattr(exc, "code", ""),
                                  error_values=getattr(exc, "values", {}))
        backup_plan.record_result(self._vault, result)
        return result

    def verify(self, folder: Path, passphrase: str | None = None,
               recovery_key: str | None = None) -> Manifest:
        """Check a backup of this library with this library's key; one made before the key
        was changed needs the `passphrase` or `recovery_key` of that time (without them,
        OlderKeyError says when the key was changed)."""
        return backups.verify_backup(folder, self._key_for(folder, passphrase, recovery_key))

    def _key_for(self, folder: Path, passphrase: str | None, recovery_key: str | None) -> bytes:
        """The key of one of this library's backups: the library's own, or the one the
        passphrase or recovery key given gives."""
        manifest = backups.read_manifest(folder)
        current = self._vault.key_for_backups()
        if manifest.key_fingerprint == keys.fingerprint(current):
            return current
        if passphrase or recovery_key:
            return backups.backup_key(folder, passphrase, recovery_key)
        replaced = rekey.replaced_at(self._vault, manifest.key_fingerprint, manifest.created_at)
        if manifest.key_fingerprint is None and replaced is None:
            return current  # recorded no key, and the library's has not changed since
        raise rekey.older_key_error(replaced)

    @staticmethod
    def list(folder: Path) -> list[tuple[Path, Manifest | None]]:
        """Backups in a folder, newest first (None: a backup whose manifest is unreadable)."""
        return backups.list_backups(folder.expanduser())

    def plan(self) -> BackupPlan:
        return backup_plan.load_plan(self._vault)

    def save_plan(self, plan: BackupPlan) -> BackupPlan:
        return backup_plan.save_plan(self._vault, plan)

    def last_result(self) -> BackupResult | None:
        return backup_plan.last_result(self._vault)

    def missed(self) -> bool:
        """Whether the plan's last due backup did not happen (the machine was off)."""
        return backup_plan.missed(self._vault)

    def recovery_key(self) -> str:
        """The key that opens this library's backups on another machine (keyring libraries)."""
        return self._vault.recovery_key()

    def restore(self, folder: Path, passphrase: str | None = None,
                recovery_key: str | None = None) -> Path | None:
        """Replace this library with one of its backups: verify it (nothing changes if that
        fails), close the library, and swap the data directory (the previous one is kept
        aside and returned; a failed swap puts it back). Open the library again afterwards.

        A backup made before the library's key was changed needs the `passphrase` or
        `recovery_key` of that time (OlderKeyError otherwise), and the restored library
        opens with it again (a keyring key goes back into the keyring)."""
        key = self._key_for(folder, passphrase, recovery_key)
        manifest = backups.verify_backup(folder, key)
        older = key != self._vault.key_for_backups()
        if older and manifest.key_method == "keyring" and not keys.keyring_usable():
            raise UserError.said("backup_keyring_gone")
        self._close_library()
        aside = backups.restore_backup(folder, self._data_dir, key)
        if older:
            backups.adopt_key(self._data_dir, key)  # its keyring id gets its key back
        return aside


def restore_library(folder: Path, data_dir: Path, passphrase: Callable[[bool], str],
                    recovery_key: str | None = None, kdf_log2_n: int = 16) -> Restored:
    """Restore a backup into `data_dir` with no library open (a new machine, a new folder).

    A passphrase backup opens with `passphrase(False)`; a keyring backup needs its recovery
    key, and is locked on this machine with its keyring or, where there is none, with a
    new passphrase (`passphrase(True)`).
    """
    manifest = backups.read_manifest(folder)
    changed_at = _key_changed_at(data_dir)
    changed_since = changed_at if changed_at and changed_at > manifest.created_at else None
    if recovery_key:
        key = backups.backup_key(folder, recovery_key=recovery_key)
    elif manifest.key_method == "passphrase":
        key = backups.backup_key(folder, passphrase=passphrase(False))
    elif changed_since:
        raise rekey.older_key_error(changed_since)
    else:
        raise UserError.said("backup_give_recovery_key")
    try:
        aside = backups.restore_backup(folder, data_dir, key)
    except WrongKeyError as exc:
        if changed_since:
            raise rekey.older_key_error(changed_since) from exc
        raise
    from ..store.keys import keyring_usable
    from ..store.writer_lock import WriterLock

    new_passphrase = (passphrase(True) if manifest.key_method == "keyring"
                      and not keyring_usable() else None)
    with WriterLock.acquire(data_dir.expanduser().resolve(), "an Enclave restore"):
        how = backups.adopt_key(data_dir, key, new_passphrase, kdf_log2_n)
    return Restored(manifest, aside, how, changed_since)


def _key_changed_at(data_dir: Path) -> float | None:
    """When the key of the library in `data_dir` was last changed (None: never, or no
    readable library there)."""
    try:
        info = keys.read_key_info(data_dir.expanduser())
    except UserError:
        return None
    return info.changed_at if info else None
