"""Changing a library's key: the vault and the files encrypted under it, crash-safe.

The vault is re-encrypted in place by one SQLite transaction (`Vault.rekey`), so it is
under the old key or the new one at every moment. What must stay in step with it is
key.json (the salt or keyring id that gives the key) and, for a keyring library, the
keyring entry. The order:

1. the new key is made (a new salt for a passphrase, a random key for the keyring); the
   change is recorded in the vault's key history (harmless if it then never happens:
   the history is only read for backups whose key is no longer the vault's);
2. key.json is rewritten to describe both keys (`next`), durably;
3. a keyring key is stored in the keyring under a new id;
4. the vault is re-encrypted: the commit point;
5. the old keyring entry is removed; key.json is rewritten to describe the new key only;
6. the files derived from the key (the vector index) are rewritten under it.

A crash before 4 leaves the vault under the old key; after it, under the new one. Either
way key.json names both until 5, and the next opening tries both, keeps the one that
opens the vault and settles key.json (`Vault._open_interrupted_change`). A crash before 6
leaves an index the vault's key cannot decrypt: it is rebuilt from the vault on open.

Backups made before the change stay encrypted under the old key: they record its
fingerprint, and the history says when it was replaced, so that restoring one asks for
the passphrase or recovery key of that time. No old key is kept anywhere.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

import sqlcipher3

from . import keys
from ..errors import OlderKeyError, UserError, WrongKeyError
from .vault import VAULT_FILE, Vault

HISTORY = "key_changes"
"""The vault's meta key for its key history: [{"at", "from", "to"}] (fingerprints)."""


@dataclass(frozen=True)
class KeyChange:
    at: float
    replaced: str
    """The fingerprint of the key given up."""
    by: str
    """The fingerprint of the key taken instead."""


def history(vault: Vault) -> list[KeyChange]:
    """The library's changes of key, oldest first."""
    return [KeyChange(c["at"], c["from"], c["to"])
            for c in json.loads(vault.get_meta(HISTORY, "[]") or "[]")]


def replaced_at(vault: Vault, fingerprint: str | None, made_at: float) -> float | None:
    """When the key of a backup (its fingerprint, or None for a backup that did not record
    it: then the first change after it was made) stopped being the library's key; None if
    no change of this library explains it."""
    changes = history(vault)
    if fingerprint is not None:
        times = [c.at for c in changes if c.replaced == fingerprint]
        return max(times) if times else None
    times = [c.at for c in changes if c.at > made_at]
    return min(times) if times else None


def older_key_error(changed_at: float | None) -> OlderKeyError:
    """What to say of a backup whose key the library no longer has."""
    if changed_at is None:
        return OlderKeyError.said("backup_other_key")
    when = datetime.fromtimestamp(changed_at).strftime("%Y-%m-%d %H:%M")
    error = OlderKeyError.said("backup_older_key", when=when)
    error.changed_at = changed_at
    return error


def change_key(vault: Vault, data_dir: Path, new_passphrase: str | None, kdf_log2_n: int,
               rewrite_files: Callable[[], None], current_passphrase: str | None = None
               ) -> float:
    """Re-encrypt the library in `data_dir` under a new key of the same kind (a passphrase
    library under `new_passphrase`, a keyring library under a new random key in the
    keyring); `rewrite_files` then rewrites the files derived from the key. Returns when
    the key was changed. The library must be open for writing here; `current_passphrase`,
    when given, must be the library's (WrongKeyError otherwise, nothing changed)."""
    with vault.key_lock, vault.lock:
        vault.require_writable()
        old = keys.read_key_info(data_dir)
        if old is None or old.next is not None:
            raise UserError("This library's key.json is not as an opened library leaves it: "
                            "open the library again, then change its key.")
        if current_passphrase is not None and not _is_passphrase_of(old, current_passphrase,
                                                                    vault):
            raise WrongKeyError.said("rekey_wrong_passphrase")
        new_key, new = _make_key(old, new_passphrase, kdf_log2_n, vault)
        now = time.time()
        new = replace(new, changed_at=now)
        old_fingerprint = vault.fingerprint()
        with vault.transaction() as conn:
            changes = json.loads(vault.get_meta(HISTORY, "[]") or "[]")
            changes.append({"at": now, "from": old_fingerprint, "to": keys.fingerprint(new_key)})
            vault.set_meta(conn, HISTORY, json.dumps(changes))
        keys.write_key_info(data_dir, old.with_pending(new))
        try:
            if new.method == "keyring":
                keys.store_in_keyring(new, new_key)
            vault.rekey(new_key)
        except BaseException:
            if vault.fingerprint() == old_fingerprint and _opens(data_dir, vault.key_for_backups()):
                keys.forget_keyring_key(new)  # undone: nothing changed
                keys.write_key_info(data_dir, old)
            raise  # else key.json names both keys: the next opening settles it
        keys.forget_keyring_key(old)
        keys.write_key_info(data_dir, new)
        rewrite_files()
        return now


def _make_key(old: keys.KeyInfo, new_passphrase: str | None, kdf_log2_n: int,
              vault: Vault) -> tuple[bytes, keys.KeyInfo]:
    if old.method == "keyring":
        if new_passphrase:
            raise UserError("This library's key is kept in the keyring: its new key is a "
                            "random one, not a passphrase.")
        return keys.random_key()
    if not new_passphrase:
        raise UserError("Choose the new passphrase.")
    if _is_passphrase_of(old, new_passphrase, vault):
        raise UserError("The new passphrase is the one the library has now: choose another.")
    return keys.passphrase_key(new_passphrase, kdf_log2_n)


def _is_passphrase_of(info: keys.KeyInfo, passphrase: str, vault: Vault) -> bool:
    """Whether `passphrase` gives the key the vault is under (a passphrase library's)."""
    return info.method == "passphrase" and keys.derive_key(
        passphrase, bytes.fromhex(info.salt or ""), info.log2_n or 16) == vault.key_for_backups()


def _opens(data_dir: Path, key: bytes) -> bool:
    """Whether `key` opens the vault file (a fresh connection: what the disk holds)."""
    conn = sqlcipher3.connect(str(data_dir / VAULT_FILE))
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()
