"""Backups: consistent under concurrent ingest, verified, restorable on an empty machine,
refused when damaged, never leaving a half-restored data directory, and pruned."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from datetime import datetime, timedelta

import pytest

from engine.store import backups
from engine.errors import UserError, VaultCorruptError, WrongKeyError
from tests.conftest import PASSPHRASE, R_INTRO


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_backup_during_ingest_verifies_and_restores_to_the_same_counts(
        open_service, config, corpus, tmp_path):
    service = open_service()
    service.library.ingest([corpus])
    ingest = threading.Thread(target=service.library.ingest, args=([R_INTRO],))
    ingest.start()
    time.sleep(1.0)
    folder = service.backups.backup(tmp_path / "backups", "test").folder
    ingest.join()
    manifest = backups.read_manifest(folder)
    assert manifest.key_method == "passphrase" and manifest.counts["documents"] >= 6
    assert set(manifest.files) >= {"vault.db", "key.json"}
    assert not list((tmp_path / "backups").glob(".*partial"))

    target = tmp_path / "replacement" / "data"  # a new, empty machine
    key = backups.backup_key(folder, passphrase=PASSPHRASE)
    assert backups.restore_backup(folder, target, key) is None
    restored = open_service(dataclasses.replace(config, data_dir=target))
    assert restored.health.status()["documents"] == manifest.counts["documents"]
    assert restored.health.status()["chunks"] == manifest.counts["chunks"]
    assert restored.answers.search("relief valve pressure", k=1)[0].document == "pumps.pdf"


def test_a_damaged_backup_is_refused_and_the_current_library_is_untouched(
        service, corpus, tmp_path, config):
    service.library.ingest([corpus])
    folder = service.backups.backup(tmp_path / "backups", "test").folder
    with pytest.raises(WrongKeyError):
        backups.verify_backup(folder, backups.backup_key(folder, passphrase="wrong passphrase"))
    blob = bytearray((folder / "vault.db").read_bytes())
    blob[5000] ^= 0xFF
    (folder / "vault.db").write_bytes(bytes(blob))
    before = digests(config.data_dir)
    with pytest.raises(VaultCorruptError, match="checksum"):
        backups.restore_backup(folder, config.data_dir, service._vault.key_for_backups())
    assert digests(config.data_dir) == before


def test_an_interrupted_restore_puts_the_old_library_back(service, corpus, tmp_path, config,
                                                          monkeypatch):
    service.library.ingest([corpus])
    folder = service.backups.backup(tmp_path / "backups", "test").folder
    service.close()
    before = digests(config.data_dir)

    def power_cut(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(backups.Vault, "_connect", power_cut)
    with pytest.raises(OSError, match="power cut"):
        backups.restore_backup(folder, config.data_dir, backups.backup_key(folder, PASSPHRASE))
    assert digests(config.data_dir) == before
    left = [p.name for p in config.data_dir.parent.iterdir()
            if "data" in p.name and p.name != ".data.restore-lock"]  # the restores' lock file
    assert left == [config.data_dir.name]  # nothing set aside, nothing half-restored


def test_a_keyring_library_restores_with_its_recovery_key_on_a_machine_without_keyring(
        open_service, config, corpus, tmp_path, embedder, generator):
    import keyring

    from tests.engine.test_vault import MemoryKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    from engine.service import EnclaveService

    service = EnclaveService.open(config, lambda new: None, prefer_keyring=True,
                                  embedder=embedder, generator=generator)
    try:
        service.library.ingest([corpus])
        recovery = service._vault.recovery_key()
        folder = service.backups.backup(tmp_path / "backups", "test").folder
    finally:
        service.close()
        keyring.set_keyring(previous)  # the replacement machine has no keyring
    assert backups.read_manifest(folder).key_method == "keyring"
    assert recovery not in json.dumps(backups.read_manifest(folder).__dict__)
    with pytest.raises(UserError, match="recovery key"):
        backups.backup_key(folder, passphrase=PASSPHRASE)
    target = tmp_path / "new-machine"
    key = backups.backup_key(folder, recovery_key=recovery)
    backups.restore_backup(folder, target, key)
    with pytest.raises(UserError, match="choose a passphrase"):
        backups.adopt_key(target, key)
    assert backups.adopt_key(target, key, "new machine passphrase", kdf_log2_n=12) == "passphrase"
    restored = open_service(dataclasses.replace(config, data_dir=target),
                            passphrase="new machine passphrase")
    assert restored.health.status()["documents"] == 6
    assert restored.answers.search("visitor badge colour", k=1)[0].document == "policy.docx"


def test_retention_keeps_exactly_the_newest_of_each_day_week_and_month(tmp_path):
    """Daily backups at 02:00 from 1 September to Tuesday 24 November 2026, and a second
    one at 14:00 on the 24th; keep 7 daily, 4 weekly, 12 monthly."""
    def make(when: datetime) -> None:
        folder = tmp_path / f"{backups.PREFIX}{when:%Y%m%d-%H%M%S}"
        folder.mkdir()
        (folder / backups.MANIFEST).write_text(json.dumps({
            "created_at": when.timestamp(), "app_version": "t", "schema_version": 1,
            "key_method": "passphrase", "counts": {}, "files": {}}))

    day = datetime(2026, 9, 1, 2, 0)
    while day <= datetime(2026, 11, 24, 2, 0):
        make(day)
        day += timedelta(days=1)
    make(datetime(2026, 11, 24, 14, 0))
    removed = backups.prune(tmp_path, daily=7, weekly=4, monthly=12)
    kept = sorted(p.name[len(backups.PREFIX):] for p in tmp_path.iterdir())
    assert kept == sorted([
        "20261124-140000", "20261123-020000", "20261122-020000", "20261121-020000",  # days
        "20261120-020000", "20261119-020000", "20261118-020000",
        "20261115-020000", "20261108-020000",  # the Sundays ending ISO weeks 46 and 45
        "20261031-020000", "20260930-020000",  # the last of October and of September
    ])
    assert len(removed) == 85 - len(kept) + 1
    assert backups.prune(tmp_path, daily=7, weekly=4, monthly=12) == []


def test_an_unfinished_backup_left_by_a_kill_is_removed_by_the_next_one(service, tmp_path):
    import os

    destination = tmp_path / "usb"
    stale = destination / ".enclave-backup-20260101-020000.partial"
    fresh = destination / ".enclave-backup-20260101-030000.partial"  # maybe being written
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "vault.db").write_bytes(b"half")
    hours_ago = time.time() - 2 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    made = service.backups.backup(destination, "test").folder
    assert not stale.exists() and fresh.exists() and made.is_dir()
