"""Where the vault key comes from: the OS keyring, or a passphrase through scrypt.

A data directory holds `key.json`, which says how its key is obtained (never the key):
- `keyring`: a random 256-bit key stored in the OS keyring under an id kept in key.json;
- `passphrase`: the key is scrypt(passphrase, salt) with the salt and cost kept in key.json.
A new vault prefers the keyring and falls back to a passphrase where no usable keyring
backend exists (headless Linux, CI), or when the caller asks for a passphrase.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items() if v is not None}, indent=1)


def keyring_usable() -> bool:
    """A keyring that really protects secrets: the OS's own (priority >= 1 by keyring's
    convention), not a fallback such as keyrings.alt's plain-text file."""
    import keyring

    return keyring.get_keyring().priority >= 1


def derive_key(passphrase: str, salt: bytes, log2_n: int) -> bytes:
    """scrypt with r=8, p=1: about 64 MiB and a fraction of a second at log2_n=16."""
    return Scrypt(salt=salt, length=32, n=2**log2_n, r=8, p=1).derive(passphrase.encode())


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
        import keyring

        key = secrets.token_bytes(32)
        keyring_id = str(uuid.uuid4())
        try:
            keyring.set_password(KEYRING_SERVICE, keyring_id, key.hex())
        except Exception:  # a backend that is installed but cannot store (no D-Bus)
            pass
        else:
            return key, KeyInfo("keyring", keyring_id=keyring_id)
    phrase = passphrase(True)
    if not phrase:
        raise KeyUnavailableError(
            "No OS keyring is available: set ENCLAVE_PASSPHRASE or enter a passphrase."
        )
    if len(phrase) < MIN_PASSPHRASE_LENGTH:
        raise UserError(f"The passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters.")
    salt = secrets.token_bytes(16)
    key = derive_key(phrase, salt, log2_n)
    return key, KeyInfo("passphrase", salt=salt.hex(), log2_n=log2_n)


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


def write_key_info(data_dir: Path, info: KeyInfo) -> None:
    tmp = data_dir / (KEY_FILE + ".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(info.to_json())
    os.replace(tmp, data_dir / KEY_FILE)


def key_method(data_dir: Path) -> str | None:
    """How the library in `data_dir` is unlocked ("keyring" or "passphrase"); None if there
    is no library there yet."""
    info = read_key_info(data_dir)
    return None if info is None else info.method
