"""Backups of a data directory: consistent, encrypted, atomic, verified, restorable.

A backup is a folder `enclave-backup-YYYYmmdd-HHMMSS` holding the vault exported with
SQLCipher under the same key (a consistent snapshot even while the app writes), the
encrypted vector index, `key.json` and `manifest.json`: time, versions, row counts, the
SHA-256 of every file, and how the key is obtained (never the key). It is written under
a temporary name, fsynced, then renamed, so a backup folder is complete or absent.

Verifying checks the files' checksums, opens the vault copy with the key, runs
`PRAGMA integrity_check` and compares the counts. Restoring verifies first, builds the
new data directory beside the old one, and swaps them only once the restored vault
opens; on any failure the old data directory is left (or put back) as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import sqlcipher3

from . import keys
from ..errors import UserError, VaultCorruptError, WrongKeyError
from ..ingest.pipeline import file_sha256
from .vault import (SCHEMA_VERSION, VAULT_FILE, Vault, finish_interrupted_restore, restore_journal,
                    swapping)
from .writer_lock import WriterLock
from ..retrieval.vector_index import INDEX_FILE

PREFIX = "enclave-backup-"
MANIFEST = "manifest.json"
LIBRARY_FILES = (VAULT_FILE, INDEX_FILE, keys.KEY_FILE)
"""What a backup puts back into a data directory (anything else is for the caller)."""
COUNTED = ("documents", "chunks", "collections", "chats", "messages", "api_keys", "audit_log")
STALE_PARTIAL_S = 3600  # an unfinished backup this old is no longer being written


@dataclass(frozen=True)
class Manifest:
    created_at: float
    app_version: str
    schema_version: int
    key_method: str
    """"keyring": restore needs the recovery key; "passphrase": it needs the passphrase."""
    counts: dict[str, int]
    files: dict[str, str]
    """File name -> SHA-256."""
    key_fingerprint: str | None = None
    """Which key encrypted it (`keys.fingerprint`; None in backups made before Enclave
    recorded it): a backup made before the library's key changed needs the old one."""


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _counts(conn) -> dict[str, int]:
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED}


def create_backup(vault: Vault, data_dir: Path, destination: Path, app_version: str,
                  extra_files: dict[str, Path] | None = None) -> Path:
    """Write one backup of the data directory inside `destination`; returns its folder.

    `extra_files` (name -> path) go along, e.g. the app's settings file; they are listed
    in the manifest but not restored into the data directory."""
    destination.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    final = destination / f"{PREFIX}{stamp}"
    n = 1
    while final.exists():
        n += 1
        final = destination / f"{PREFIX}{stamp}-{n}"
    work = destination / f".{final.name}.partial"
    for stale in destination.glob(f".{PREFIX}*.partial"):  # left by a backup killed midway
        if time.time() - stale.stat().st_mtime > STALE_PARTIAL_S:
            shutil.rmtree(stale, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    try:
        with vault.key_lock:  # the vault, its index and key.json under one key
            counts = vault.export_to(work / VAULT_FILE, COUNTED)
            for name in (INDEX_FILE, keys.KEY_FILE):
                if (data_dir / name).exists():
                    shutil.copy2(data_dir / name, work / name)
            info = keys.read_key_info(work)
            fingerprint = vault.fingerprint()
        for name, path in (extra_files or {}).items():
            if name in LIBRARY_FILES or name == MANIFEST:
                raise ValueError(f"{name} is a name the backup uses itself")
            if path.exists():
                shutil.copy2(path, work / name)
        files = {p.name: file_sha256(p) for p in sorted(work.iterdir())}
        manifest = Manifest(time.time(), app_version, SCHEMA_VERSION,
                            info.method if info else "unknown", counts, files, fingerprint)
        (work / MANIFEST).write_text(json.dumps(asdict(manifest), indent=1))
        for path in work.iterdir():
            _fsync(path)
        os.replace(work, final)
        _fsync(destination)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def read_manifest(backup: Path) -> Manifest:
    try:
        return Manifest(**json.loads((backup / MANIFEST).read_text()))
    except FileNotFoundError:
        raise VaultCorruptError.said("backup_not_a_backup", folder=str(backup),
                                     manifest=MANIFEST) from None
    except (ValueError, TypeError) as exc:
        raise VaultCorruptError.said("backup_manifest_damaged", folder=str(backup),
                                     detail=str(exc)) from exc


def backup_key(backup: Path, passphrase: str | None = None,
               recovery_key: str | None = None) -> bytes:
    """The key of a backup, from its passphrase or from the recovery key."""
    if recovery_key:
        key = keys.recovery_key_bytes(recovery_key)
        if key is None:
            raise UserError.said("recovery_key_format")
        return key
    info = keys.read_key_info(backup)
    if info is None or info.method != "passphrase":
        raise UserError.said("backup_keyring_needs_recovery_key")
    if not passphrase:
        raise UserError.said("backup_needs_passphrase")
    return keys.derive_key(passphrase, bytes.fromhex(info.salt or ""), info.log2_n or 16)


def verify_backup(backup: Path, key: bytes) -> Manifest:
    """Check a backup completely; VaultCorruptError or WrongKeyError say what is wrong."""
    manifest = read_manifest(backup)
    if manifest.key_fingerprint not in (None, keys.fingerprint(key)):
        raise WrongKeyError.said("backup_wrong_key")
    for name, expected in manifest.files.items():
        path = backup / name
        if not path.exists():
            raise VaultCorruptError.said("backup_lacks_file", backup=backup.name, name=name)
        if file_sha256(path) != expected:
            raise VaultCorruptError.said("backup_file_damaged", name=name, backup=backup.name)
    conn = sqlcipher3.connect(str(backup / VAULT_FILE))
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError:
            raise WrongKeyError.said("backup_wrong_key") from None
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            raise VaultCorruptError.said("backup_integrity_failed", detail=str(integrity))
        counts = _counts(conn)
    finally:
        conn.close()
    if counts != manifest.counts:
        raise VaultCorruptError.said("backup_counts_differ", counts=str(counts),
                                     expected=str(manifest.counts))
    return manifest


def list_backups(destination: Path) -> list[tuple[Path, Manifest | None]]:
    """Backups in a folder, newest first (a damaged manifest gives None)."""
    found = []
    for path in sorted(destination.glob(f"{PREFIX}*"), reverse=True):
        try:
            found.append((path, read_manifest(path)))
        except VaultCorruptError:
            found.append((path, None))
    return found


def restore_backup(backup: Path, data_dir: Path, key: bytes) -> Path | None:
    """Make `data_dir` hold the backup; returns where the previous data went (or None).

    The backup is verified first. The previous data directory is renamed aside and kept;
    if the restored vault does not open, it is put back and nothing has changed. A library
    that another program has open is not replaced (LibraryInUseError).
    """
    verify_backup(backup, key)
    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    finish_interrupted_restore(data_dir)
    if not (data_dir / VAULT_FILE).exists():
        with swapping(data_dir):
            return _swap_in(backup, data_dir, key)
    with WriterLock.acquire(data_dir, "an Enclave restore"):  # moves aside with the old library
        with swapping(data_dir):
            return _swap_in(backup, data_dir, key)


def _swap_in(backup: Path, data_dir: Path, key: bytes) -> Path | None:
    """Copy the backup beside the library, then swap the two folders. A journal names
    where the library goes aside before it moves, so that a restore killed between the
    two renames is undone when the library is next opened (vault.finish_interrupted_restore).
    Runs under `swapping`."""
    incoming = data_dir.with_name(f".{data_dir.name}.restoring")
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(mode=0o700)
    for name in LIBRARY_FILES:
        if (backup / name).exists():
            shutil.copy2(backup / name, incoming / name)
    aside = None
    if data_dir.exists() and any(data_dir.iterdir()):
        aside = data_dir.with_name(f"{data_dir.name}.before-restore-"
                                   f"{datetime.now():%Y%m%d-%H%M%S}")
    journal = restore_journal(data_dir)
    with journal.open("w") as f:
        f.write(str(aside or ""))
        f.flush()
        os.fsync(f.fileno())
    _fsync(data_dir.parent)  # the journal is there before anything moves
    if aside is not None:
        os.replace(data_dir, aside)
    elif data_dir.exists():
        data_dir.rmdir()
    try:
        os.replace(incoming, data_dir)
        vault = Vault._connect(data_dir / VAULT_FILE, key)  # the swap counts once this opens
        vault.close()
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(incoming, ignore_errors=True)
        if aside is not None:
            os.replace(aside, data_dir)
        journal.unlink(missing_ok=True)
        raise
    journal.unlink(missing_ok=True)
    return aside


def prune(destination: Path, daily: int = 7, weekly: int = 4, monthly: int = 12) -> list[Path]:
    """Delete the backups no retention rule keeps; returns the deleted folders.

    Kept: the newest backup of each of the last `daily` days, of each of the last `weekly`
    ISO weeks and of each of the last `monthly` months (that have backups).
    """
    backups = [(p, datetime.fromtimestamp(m.created_at)) for p, m in list_backups(destination)
               if m is not None]
    keep: set[Path] = set()
    for count, bucket in ((daily, lambda d: d.date()),
                          (weekly, lambda d: tuple(d.isocalendar())[:2]),
                          (monthly, lambda d: (d.year, d.month))):
        seen: list = []
        for path, when in backups:  # newest first
            key = bucket(when)
            if key not in seen:
                seen.append(key)
                if len(seen) <= count:
                    keep.add(path)
    removed = [p for p, _ in backups if p not in keep]
    for path in removed:
        shutil.rmtree(path)
    return removed


def adopt_key(data_dir: Path, key: bytes, new_passphrase: str | None = None,
              kdf_log2_n: int = 16) -> str:
    """Make a restored library openable on this machine; returns how ("keyring" or
    "passphrase").

    A passphrase library needs nothing. A keyring library restored with its recovery key
    puts the key in this machine's keyring, or, where there is none, is re-encrypted
    under `new_passphrase` (its index is then rebuilt on the next open).
    """
    info = keys.read_key_info(data_dir)
    if info is None or info.method == "passphrase":
        return "passphrase"
    if keys.keyring_usable():
        import keyring

        keyring.set_password(keys.KEYRING_SERVICE, info.keyring_id or "", key.hex())
        return "keyring"
    if not new_passphrase:
        raise UserError.said("backup_no_keyring")
    new_key, new_info = keys.new_key(lambda new: new_passphrase, kdf_log2_n, "passphrase")
    conn = sqlcipher3.connect(str(data_dir / VAULT_FILE))
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")
    finally:
        conn.close()
    keys.write_key_info(data_dir, new_info)
    (data_dir / INDEX_FILE).unlink(missing_ok=True)  # its key derives from the old one
    return "passphrase"
