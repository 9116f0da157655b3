"""Changing the vault's key (`service.vault_key.change`, `enclave vault rekey`): the vault and
its index are re-encrypted under the new key, backups made before stay restorable with the
old one, and a crash at any step leaves a library that opens with one of the two keys."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine import is_recovery_key
from engine.errors import KeyUnavailableError, OlderKeyError, UserError, WrongKeyError
from engine.facade.backups import restore_library
from engine.store import backups, keys, rekey
from engine.store.vault import Vault
from engine.store.writer_lock import LibraryInUseError
from tests.conftest import PASSPHRASE

NEW_PASSPHRASE = "a new and longer passphrase"
ROOT = Path(__file__).parents[2]


def files_hold(folder: Path, secret: bytes) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_a_new_passphrase_reencrypts_vault_and_index_and_old_backups_keep_the_old_key(
        open_service, config, corpus, tmp_path):
    service = open_service()
    service.library.ingest([corpus])
    old_recovery = service.backups.recovery_key()
    old_key = service._vault.key_for_backups()
    old_salt = keys.read_key_info(config.data_dir).salt
    before = service.backups.backup(tmp_path / "usb", "test").folder

    changed = service.vault_key.change(NEW_PASSPHRASE)
    assert changed.method == "passphrase" and changed.index_problem is None
    assert changed.recovery_key != old_recovery
    assert service.answers.search("relief valve pressure", k=1)[0].document == "pumps.pdf"
    # (another folder: the retention keeps one backup a day)
    after = service.backups.backup(tmp_path / "usb2", "test").folder  # verified: the new key
    assert backups.read_manifest(after).key_fingerprint == keys.fingerprint(
        bytes.fromhex(changed.recovery_key.replace("-", "")))
    service.close()

    info = keys.read_key_info(config.data_dir)
    assert info.next is None and info.salt != old_salt and info.changed_at == changed.changed_at
    assert files_hold(config.data_dir, old_key) == []  # no old key kept, in no form
    assert files_hold(config.data_dir, old_key.hex().encode()) == []
    with pytest.raises(WrongKeyError):
        open_service(passphrase=PASSPHRASE)
    reopened = open_service(passphrase=NEW_PASSPHRASE)
    assert reopened.health.index_repair is None  # the index file decrypts under the new key
    assert reopened.answers.search("visitor badge colour", k=1)[0].document == "policy.docx"

    # the backup made before needs the key of its time, and says so
    with pytest.raises(OlderKeyError, match="made before the key was changed on .*: give the "
                                            "passphrase or recovery key of that time"):
        reopened.backups.verify(before)
    with pytest.raises(WrongKeyError):
        reopened.backups.verify(before, passphrase=NEW_PASSPHRASE)
    assert reopened.backups.verify(before, passphrase=PASSPHRASE).counts["documents"] == 6
    assert reopened.backups.verify(before, recovery_key=old_recovery).counts["documents"] == 6
    assert reopened.backups.verify(after).counts["documents"] == 6
    assert [c.at for c in reopened.vault_key.history()] == [changed.changed_at]
    reopened.close()

    # restored elsewhere: each with the passphrase of its time
    for folder, phrase in ((before, PASSPHRASE), (after, NEW_PASSPHRASE)):
        target = tmp_path / f"machine-{folder.name}"
        restore_library(folder, target, lambda new: phrase)
        restored = open_service(dataclasses.replace(config, data_dir=target), passphrase=phrase)
        assert restored.health.status()["documents"] == 6
        assert restored.health.index_repair is None
        restored.close()
    # over the library itself, given today's passphrase: the message says which is needed
    with pytest.raises(OlderKeyError, match="made before the key was changed on"):
        restore_library(before, config.data_dir, lambda new: NEW_PASSPHRASE)
    restored = restore_library(before, config.data_dir, lambda new: PASSPHRASE)
    assert restored.key_changed_since == changed.changed_at
    assert open_service(passphrase=PASSPHRASE).health.status()["documents"] == 6


def test_restoring_an_older_backup_from_the_open_library_needs_its_passphrase(
        open_service, config, tmp_path):
    service = open_service()
    service.library.create_collection("before-the-change")
    before = service.backups.backup(tmp_path / "usb", "test").folder
    service.vault_key.change(NEW_PASSPHRASE)
    with pytest.raises(OlderKeyError, match="made before the key was changed"):
        service.backups.restore(before)
    assert "before-the-change" in [c.name for c in service.library.collections()]  # still open
    service.backups.restore(before, passphrase=PASSPHRASE)
    with pytest.raises(WrongKeyError):
        open_service(passphrase=NEW_PASSPHRASE)
    restored = open_service(passphrase=PASSPHRASE)
    assert "before-the-change" in [c.name for c in restored.library.collections()]


def test_a_backup_that_recorded_no_key_is_told_apart_by_its_date(open_service, tmp_path):
    service = open_service()
    before = service.backups.backup(tmp_path / "usb", "test").folder
    manifest = json.loads((before / backups.MANIFEST).read_text())
    del manifest["key_fingerprint"]  # as Enclave wrote them before it recorded the key
    (before / backups.MANIFEST).write_text(json.dumps(manifest))
    assert service.backups.verify(before).key_fingerprint is None  # no change yet: today's key
    service.vault_key.change(NEW_PASSPHRASE)
    with pytest.raises(OlderKeyError, match="made before the key was changed on"):
        service.backups.verify(before)
    assert service.backups.verify(before, passphrase=PASSPHRASE)


def test_what_is_refused_changes_nothing(open_service, config, tmp_path):
    service = open_service()
    before = (config.data_dir / "key.json").read_bytes()
    with pytest.raises(UserError, match="at least 8 characters"):
        service.vault_key.change("short")
    with pytest.raises(UserError, match="the one the library has now"):
        service.vault_key.change(PASSPHRASE)
    with pytest.raises(UserError, match="Choose the new passphrase"):
        service.vault_key.change(None)
    reader = Vault.open(config.data_dir, lambda new: PASSPHRASE, 12, access="read")
    try:  # another program has the vault open: it could not read pages under the new key
        with pytest.raises(LibraryInUseError, match="reading the library now"):
            service.vault_key.change(NEW_PASSPHRASE)
        with pytest.raises(LibraryInUseError):  # and a library opened read-only changes nothing
            reader.rekey(b"\x01" * 32)
    finally:
        reader.close()
    assert (config.data_dir / "key.json").read_bytes() == before
    service.close()
    assert open_service(passphrase=PASSPHRASE).library.collections() is not None


def test_a_wrong_current_passphrase_changes_nothing(open_service, config):
    """The desktop app, which holds the library open, asks for the current passphrase."""
    service = open_service()
    before = (config.data_dir / "key.json").read_bytes()
    with pytest.raises(WrongKeyError, match="not the library's current passphrase"):
        service.vault_key.change(NEW_PASSPHRASE, current_passphrase="not the passphrase")
    assert (config.data_dir / "key.json").read_bytes() == before
    assert service.vault_key.history() == []
    service.vault_key.change(NEW_PASSPHRASE, current_passphrase=PASSPHRASE)
    service.close()
    assert open_service(passphrase=NEW_PASSPHRASE).vault_key.method == "passphrase"


def test_a_recovery_key_is_told_apart_from_a_passphrase(open_service):
    """One field takes either, where a backup asks for the key of its time."""
    recovery_key = open_service().backups.recovery_key()
    assert is_recovery_key(recovery_key) and is_recovery_key(
        recovery_key.replace("-", " ").upper())
    assert not is_recovery_key(PASSPHRASE) and not is_recovery_key(recovery_key[:-1])


# --- a failure between the steps -----------------------------------------------------------

def test_a_failure_before_the_vault_is_reencrypted_undoes_the_change(
        open_service, config, monkeypatch):
    service = open_service()
    service.library.create_collection("kept")

    def fail(self, key):
        raise OSError("disk full")

    monkeypatch.setattr(Vault, "rekey", fail)
    with pytest.raises(OSError, match="disk full"):
        service.vault_key.change(NEW_PASSPHRASE)
    monkeypatch.undo()
    assert keys.read_key_info(config.data_dir).next is None  # key.json as it was
    service.library.create_collection("after")  # the open library goes on under the old key
    service.close()
    with pytest.raises(WrongKeyError):
        open_service(passphrase=NEW_PASSPHRASE)
    reopened = open_service(passphrase=PASSPHRASE)
    assert {"kept", "after"} <= {c.name for c in reopened.library.collections()}
    # what was recorded of the undone change does not make today's backups "older"
    folder = reopened.backups.backup(config.data_dir.parent / "usb", "test").folder
    assert reopened.backups.verify(folder)


def test_a_failure_after_the_vault_is_reencrypted_leaves_it_opening_with_the_new_key(
        open_service, config, corpus, monkeypatch):
    service = open_service()
    service.library.ingest([corpus])
    written = []
    real_write = keys.write_key_info

    def write_then_fail(data_dir, info):
        if info.next is None and info.changed_at:  # key.json would say only the new key
            raise OSError("power cut")
        written.append(info)
        real_write(data_dir, info)

    monkeypatch.setattr(keys, "write_key_info", write_then_fail)
    with pytest.raises(OSError, match="power cut"):
        service.vault_key.change(NEW_PASSPHRASE)
    monkeypatch.undo()
    service.close()
    assert keys.read_key_info(config.data_dir).next is not None  # names both keys
    with pytest.raises(WrongKeyError, match="interrupted: the old or the new passphrase"):
        open_service(passphrase=PASSPHRASE)
    assert keys.read_key_info(config.data_dir).next is not None  # a wrong try settles nothing
    reopened = open_service(passphrase=NEW_PASSPHRASE)
    assert keys.read_key_info(config.data_dir).next is None  # settled on the key that opened it
    assert reopened.health.status()["documents"] == 6
    assert reopened.health.index_repair  # under the old key's derived key: rebuilt, no loss
    assert reopened.answers.search("relief valve pressure", k=1)[0].document == "pumps.pdf"


def test_an_index_that_cannot_be_rewritten_is_rebuilt_at_the_next_opening(
        open_service, config, corpus, monkeypatch):
    from engine.retrieval.vector_index import VectorIndex

    service = open_service()
    service.library.ingest([corpus])

    def fail(self, generation):
        raise OSError("no space left on device")

    monkeypatch.setattr(VectorIndex, "_write", fail)
    changed = service.vault_key.change(NEW_PASSPHRASE)
    assert "no space left" in changed.index_problem
    monkeypatch.undo()
    service.close()
    reopened = open_service(passphrase=NEW_PASSPHRASE)
    assert "could not be decrypted" in reopened.health.index_repair
    assert reopened.answers.search("relief valve pressure", k=1)[0].document == "pumps.pdf"


KILLED_AT = {
    # where the process dies: the library opens with the old key or with the new one
    "before key.json names both": "old",
    "after key.json names both": "old",
    "after the vault is re-encrypted": "new",
    "after key.json names the new key": "new",
}

CHILD = """
import os, signal, sys
from pathlib import Path
from engine.store import keys, rekey
from engine.store.vault import Vault
from engine.store.writer_lock import LibraryInUseError

data, where = Path(sys.argv[1]), sys.argv[2]
vault = Vault.open(data, lambda new: {old!r}, 12)
real_write, real_rekey = keys.write_key_info, Vault.rekey

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def write(data_dir, info):
    if where == "before key.json names both" and info.next is not None:
        die()
    real_write(data_dir, info)
    if where == "after key.json names both" and info.next is not None:
        die()

def rekey_then(self, key):
    real_rekey(self, key)
    if where == "after the vault is re-encrypted":
        die()

keys.write_key_info, Vault.rekey = write, rekey_then
rekey.change_key(vault, data, {new!r}, 12, die)  # the last step: rewriting the index
"""


@pytest.mark.parametrize("where", list(KILLED_AT))
def test_a_kill_at_any_step_leaves_a_library_that_opens_with_one_of_the_two_keys(
        tmp_path, where):
    data = tmp_path / "data"
    vault = Vault.open(data, lambda new: PASSPHRASE, 12)
    with vault.transaction() as conn:
        for n in range(2000):
            conn.execute("INSERT INTO collections(name, created_at) VALUES(?, 0)", (f"c{n}",))
    vault.close()
    child = subprocess.run([sys.executable, "-c", CHILD.format(old=PASSPHRASE, new=NEW_PASSPHRASE),
                            str(data), where], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr

    opened = {}
    for name, phrase in (("old", PASSPHRASE), ("new", NEW_PASSPHRASE)):
        try:
            vault = Vault.open(data, lambda new, p=phrase: p, 12)
        except WrongKeyError:
            continue
        opened[name] = (vault.scalar("SELECT count(*) FROM collections"),
                        vault.scalar("PRAGMA integrity_check"))
        vault.close()
    assert opened == {KILLED_AT[where]: (2000, "ok")}
    assert keys.read_key_info(data).next is None  # the opening settled key.json
    assert not [p for p in os.listdir(data) if p.endswith("-journal")]


# --- a keyring library ---------------------------------------------------------------------

@pytest.fixture
def memory_keyring():
    import keyring

    from tests.engine.test_vault import MemoryKeyring

    backend, previous = MemoryKeyring(), keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_a_keyring_library_gets_a_new_random_key_and_old_backups_their_recovery_key(
        memory_keyring, config, corpus, tmp_path, embedder, generator):
    from engine.service import EnclaveService

    def open_keyring_library(cfg=config):
        return EnclaveService.open(cfg, lambda new: None, prefer_keyring=True,
                                   embedder=embedder, generator=generator)

    service = open_keyring_library()
    service.library.ingest([corpus])
    old_info = keys.read_key_info(config.data_dir)
    old_recovery = service.backups.recovery_key()
    before = service.backups.backup(tmp_path / "usb", "test").folder
    with pytest.raises(UserError, match="random one"):
        service.vault_key.change("a passphrase for it")
    changed = service.vault_key.change()
    assert changed.method == "keyring" and changed.recovery_key != old_recovery
    after = service.backups.backup(tmp_path / "usb2", "test").folder
    service.close()

    new_info = keys.read_key_info(config.data_dir)
    assert new_info.method == "keyring" and new_info.keyring_id != old_info.keyring_id
    assert list(memory_keyring.secrets) == [(keys.KEYRING_SERVICE, new_info.keyring_id)]
    assert old_recovery.replace("-", "") not in json.dumps(list(memory_keyring.secrets.values()))
    reopened = open_keyring_library()
    assert reopened.health.index_repair is None
    assert reopened.answers.search("relief valve pressure", k=1)[0].document == "pumps.pdf"
    with pytest.raises(OlderKeyError, match="made before the key was changed"):
        reopened.backups.verify(before)
    assert reopened.backups.verify(before, recovery_key=old_recovery)
    assert reopened.backups.verify(after)
    reopened.backups.restore(before, recovery_key=old_recovery)  # its key back in the keyring
    restored = open_keyring_library()
    assert restored.health.status()["documents"] == 6
    assert restored._vault.recovery_key() == old_recovery
    restored.close()

    target = tmp_path / "new-machine"  # the backup made after, with the new recovery key
    restore_library(after, target, lambda new: None, changed.recovery_key)
    elsewhere = open_keyring_library(dataclasses.replace(config, data_dir=target))
    assert elsewhere.health.status()["documents"] == 6


def test_a_keyring_change_that_fails_leaves_no_new_key_in_the_keyring(
        memory_keyring, config, embedder, generator, monkeypatch):
    from engine.service import EnclaveService

    service = EnclaveService.open(config, lambda new: None, prefer_keyring=True,
                                  embedder=embedder, generator=generator)
    try:
        stored = dict(memory_keyring.secrets)

        def fail(self, key):
            raise OSError("disk full")

        monkeypatch.setattr(Vault, "rekey", fail)
        with pytest.raises(OSError):
            service.vault_key.change()
        assert memory_keyring.secrets == stored
        assert keys.read_key_info(config.data_dir).next is None
    finally:
        service.close()


def test_an_interrupted_keyring_change_settles_on_the_key_that_opens_the_vault(
        memory_keyring, tmp_path):
    data = tmp_path / "data"
    vault = Vault.open(data, lambda new: None)
    old = keys.read_key_info(data)
    new_key, new = keys.random_key()
    keys.store_in_keyring(new, new_key)
    keys.write_key_info(data, old.with_pending(new))  # as a kill right before the rekey leaves it
    vault.close()
    Vault.open(data, lambda new: None).close()
    assert keys.read_key_info(data) == old
    assert (keys.KEYRING_SERVICE, new.keyring_id) not in memory_keyring.secrets

    vault = Vault.open(data, lambda new: None)
    keys.write_key_info(data, old.with_pending(new))
    keys.store_in_keyring(new, new_key)
    vault.rekey(new_key)
    keys.forget_keyring_key(old)  # as a kill right before key.json names only the new key
    vault.close()
    Vault.open(data, lambda new: None).close()
    assert keys.read_key_info(data) == new
    memory_keyring.secrets.clear()
    with pytest.raises(KeyUnavailableError):
        Vault.open(data, lambda new: None)


MID_REKEY = """
import sys
from pathlib import Path
from engine.store import keys, rekey
from engine.store.vault import Vault

data = Path(sys.argv[1])
vault = Vault.open(data, lambda new: {old!r}, 12)
real_rekey = Vault.rekey

def announced(self, key):
    print("rewriting", flush=True)
    real_rekey(self, key)
    print("rewritten", flush=True)

Vault.rekey = announced
rekey.change_key(vault, data, {new!r}, 12, lambda: None)
print("done", flush=True)
"""


def test_a_kill_while_sqlcipher_rewrites_the_pages_leaves_one_key_that_opens_it(tmp_path):
    """The vault's own rewrite (tens of megabytes) killed at several moments: SQLCipher's
    transaction leaves it under the old key or the new one, with every row."""
    import shutil
    import time

    base = tmp_path / "base"
    vault = Vault.open(base, lambda new: PASSPHRASE, 12)
    with vault.transaction() as conn:
        conn.executemany("INSERT INTO meta(key, value) VALUES(?, hex(randomblob(1000)))",
                         [(f"k{n}",) for n in range(15000)])
    vault.close()
    outcomes = set()
    for delay in (0.0, 0.1, 0.3, 0.6, 1.0):
        data = tmp_path / f"data-{delay}"
        shutil.copytree(base, data)
        child = subprocess.Popen(
            [sys.executable, "-c", MID_REKEY.format(old=PASSPHRASE, new=NEW_PASSPHRASE),
             str(data)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "rewriting"
        time.sleep(delay)
        child.kill()
        said = child.communicate()[0]
        opened = []
        for phrase in (PASSPHRASE, NEW_PASSPHRASE):
            try:
                vault = Vault.open(data, lambda new, p=phrase: p, 12)
            except WrongKeyError:
                continue
            opened.append((phrase, vault.scalar("SELECT count(*) FROM meta"),
                           vault.scalar("PRAGMA integrity_check")))
            vault.close()
        assert len(opened) == 1 and opened[0][1:] == (15001, "ok"), (delay, said, opened)
        if "rewritten" not in said:  # killed inside the transaction: still the old key
            assert opened[0][0] == PASSPHRASE
        outcomes.add(opened[0][0])
    assert PASSPHRASE in outcomes  # at least one kill landed inside the rewrite
