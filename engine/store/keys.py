"""Where the vault key comes from: the OS keyring, or a passphrase through scrypt.

A data directory holds `key.json`, which says how its key is obtained (never the key):
- `keyring`: a random 256-bit key stored in the OS keyring under an id kept in key.json;
- `passphrase`: the key is scrypt(passphrase, salt) with the salt and cost kept in key.json.
A new vault prefers the keyring and falls back to a passphrase where no usable keyring
backend exists (headless Linux, CI), or when the caller asks for a passphrase.

While the key is being changed (`rekey.py`), key.json describes both keys: the current one
and, under `next`, the one the vault is being re-encrypted with. The vault is under exactly
one of them at every moment, so an opening that finds `next` (the change was interrupted)
tries both and keeps the one that opens it. After a change, `changed_at` says when.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..errors import KeyUnavailableError, UserError, VaultCorruptError

KEY_FILE = "key.json"
KEYRING_SERVICE = "enclave-vault"
MIN_PASSPHRASE_LENGTH = 8

PassphraseProvider = Callable[[bool], str | None]
"""Called with `True` when a new passphrase is being chosen; returns it or None."""


@dataclass(frozen=True)
class KeyInfo:
    method: str  # "keyring" | "passphrase"
    keyring_id: str | None = None
    salt: str | None = None
    log2_n: int | None = None
    changed_at: float | None = None
    """When the key was last changed (None: never since the library was made)."""
    next: dict | None = None
    """The key a change in progress re-encrypts the vault with (a KeyInfo's fields)."""

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, indent=1)

    @property
    def pending(self) -> "KeyInfo | None":
        """The new key of an interrupted change, if any."""
        return None if self.next is None else KeyInfo(**self.next)

    def with_pending(self, new: "KeyInfo | None") -> "KeyInfo":
        return replace(self, next=None if new is None else {
            k: v for k, v in asdict(new).items() if v is not None and k != "next"})


def keyring_usable() -> bool:
    """A keyring that really protects secrets: the OS's own (priority >= 1 by keyring's
    convention), not a fallback such as keyrings.alt's plain-text file."""
    import keyring

    return keyring.get_keyring().priority >= 1


def fingerprint(key: bytes) -> str:
    """A short name of a key that does not reveal it (HKDF, 64 bits), recorded by backups
    to tell which key encrypted them."""
    return HKDF(algorithm=hashes.SHA256(), length=8, salt=None,
                info=b"enclave-key-fingerprint").derive(key).hex()


def derive_key(passphrase: str, salt: bytes, log2_n: int) -> bytes:
    """scrypt with r=8, p=1: about 64 MiB and a fraction of a second at log2_n=16."""
    return Scrypt(salt=salt, length=32, n=2**log2_n, r=8, p=1).derive(passphrase.encode())


def recovery_key_bytes(text: str) -> bytes | None:
    """The key a recovery key spells (64 hexadecimal characters, in groups with dashes or
    spaces as `Vault.recovery_key` writes it), or None when `text` is not written as one."""
    try:
        key = bytes.fromhex(text.replace("-", "").replace(" ", "").strip())
    except ValueError:
        return None
    return key if len(key) == 32 else None


def is_recovery_key(text: str) -> bool:
    """Whether what was typed where a passphrase or a recovery key may be given is written
    as a recovery key (else it is a passphrase)."""
    return recovery_key_bytes(text) is not None


def read_key_info(data_dir: Path) -> KeyInfo | None:
    path = data_dir / KEY_FILE
    if not path.exists():
        return None
    try:
        return KeyInfo(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise VaultCorruptError(f"{path} is damaged: {exc}") from exc


def new_key(passphrase: PassphraseProvider, log2_n: int, prefer: str = "keyring") -> tuple[bytes, KeyInfo]:
    """Make the key of a new vault; the caller records the KeyInfo once the vault exists."""
    if prefer == "keyring" and keyring_usable():
        key, info = random_key()
        try:
            store_in_keyring(info, key)
        except KeyUnavailableError:  # a backend that is installed but cannot store (no D-Bus)
            pass
        else:
            return key, info
    phrase = passphrase(True)
    if not phrase:
        raise KeyUnavailableError(
            "No OS keyring is available: set ENCLAVE_PASSPHRASE or enter a passphrase."
        )
    return passphrase_key(phrase, log2_n)


def passphrase_key(phrase: str, log2_n: int) -> tuple[bytes, KeyInfo]:
    """A key derived from a new passphrase (at least MIN_PASSPHRASE_LENGTH characters)
    with a new salt."""
    if len(phrase) < MIN_PASSPHRASE_LENGTH:
        raise UserError.said("passphrase_too_short", length=MIN_PASSPHRASE_LENGTH)
    salt = secrets.token_bytes(16)
    return derive_key(phrase, salt, log2_n), KeyInfo("passphrase", salt=salt.hex(), log2_n=log2_n)


def random_key() -> tuple[bytes, KeyInfo]:
    """A random key for the keyring, under a new id (not stored yet: `store_in_keyring`)."""
    return secrets.token_bytes(32), KeyInfo("keyring", keyring_id=str(uuid.uuid4()))


def store_in_keyring(info: KeyInfo, key: bytes) -> None:
    """Put a keyring key in this machine's keyring; KeyUnavailableError if it cannot."""
    import keyring

    try:
        keyring.set_password(KEYRING_SERVICE, info.keyring_id or "", key.hex())
    except Exception as exc:
        raise KeyUnavailableError(f"The key could not be stored in the keyring: {exc}") from exc


def forget_keyring_key(info: KeyInfo | None) -> None:
    """Remove a keyring key that no vault uses any more (nothing for a passphrase key)."""
    if info is None or info.method != "keyring":
        return
    import keyring

    try:
        keyring.delete_password(KEYRING_SERVICE, info.keyring_id or "")
    except Exception:  # not there (an interrupted change had not stored it yet)
        pass


def load_key(info: KeyInfo, passphrase: PassphraseProvider) -> bytes:
    """Fetch or derive the key of an existing vault. Checking it is the vault's job."""
    if info.method == "keyring":
        import keyring

        stored = keyring.get_password(KEYRING_SERVICE, info.keyring_id or "")
        if not stored:
            raise KeyUnavailableError(
                "The vault key is not in this machine's keyring: restore it from the recovery key."
            )
        return bytes.fromhex(stored)
    phrase = passphrase(False)
    if not phrase:
        raise KeyUnavailableError("This vault needs its passphrase: set ENCLAVE_PASSPHRASE.")
    return derive_key(phrase, bytes.fromhex(info.salt or ""), info.log2_n or 16)


def candidate_keys(info: KeyInfo, passphrase: PassphraseProvider) -> list[tuple[bytes, KeyInfo]]:
    """The keys that may open a vault: its key, and while a change of key is unfinished
    (`info.next`, after a crash) the new one too. A passphrase is asked for once: the old
    and the new passphrase each open the vault through their own salt."""
    infos = [replace(info, next=None)] + ([info.pending] if info.pending else [])
    phrase: list[str | None] = []

    def once(new: bool) -> str | None:
        if not phrase:
            phrase.append(passphrase(new))
        return phrase[0]

    found, unavailable = [], None
    for candidate in infos:
        try:
            found.append((load_key(candidate, once), candidate))
        except KeyUnavailableError as exc:  # e.g. the new keyring key was never stored
            unavailable = unavailable or exc
    if not found:
        raise unavailable or KeyUnavailableError("No key for this vault.")
    return found


def write_key_info(data_dir: Path, info: KeyInfo) -> None:
    """Replace key.json atomically and durably (a change of key depends on its order)."""
    tmp = data_dir / (KEY_FILE + ".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(info.to_json())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, data_dir / KEY_FILE)
    if os.name == "posix":
        fd = os.open(data_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def key_method(data_dir: Path) -> str | None:
    """How the library in `data_dir` is unlocked ("keyring" or "passphrase"); None if there
    is no library there yet."""
    info = read_key_info(data_dir)
    return None if info is None else info.method
