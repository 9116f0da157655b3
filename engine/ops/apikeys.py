"""API keys of the LAN API: created, listed, revoked; only salted hashes are stored.

A key reads `enc_<prefix>_<secret>`: the prefix (public, 8 hex characters) finds the
row, the 256-bit secret is checked against its salted SHA-256 (a slow KDF adds nothing
to a random 256-bit secret). The key itself is returned once, at creation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

import sqlcipher3

from ..errors import AlreadyExistsError, NotFoundError, UserError
from ..store.vault import Vault

SCOPES = ("read-only", "read-write")
_KEY = re.compile(r"^enc_([0-9a-f]{8})_([0-9a-f]{64})$")
_NAME = re.compile(r"^[\w.@-]{1,64}$")


@dataclass(frozen=True)
class ApiKey:
    name: str
    scope: str
    prefix: str
    created_at: float
    revoked_at: float | None
    collections: tuple[str, ...] | None = None
    """The collections the key may read and change (None: all of them)."""
    mask_personal_data: bool = False
    """Whether answers, passages and conversations reach it with personal data masked."""

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_json(self) -> dict:
        return {"name": self.name, "scope": self.scope, "prefix": self.prefix,
                "created_at": self.created_at, "revoked_at": self.revoked_at,
                "collections": None if self.collections is None else list(self.collections),
                "mask_personal_data": self.mask_personal_data}

    @classmethod
    def from_row(cls, name, scope, prefix, created_at, revoked_at, collections, masks) -> "ApiKey":
        return cls(name, scope, prefix, created_at, revoked_at,
                   None if collections is None else tuple(json.loads(collections)), bool(masks))


_COLUMNS = "name, scope, prefix, created_at, revoked_at, collections, mask_personal_data"


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


class ApiKeys:
    def __init__(self, vault: Vault):
        self.vault = vault

    def create(self, name: str, scope: str, collections: list[str] | None = None,
               mask_personal_data: bool = False) -> tuple[ApiKey, str]:
        """A new key; returns its record and the key text (shown once, never stored)."""
        if not _NAME.match(name or ""):
            raise UserError("A key name has 1 to 64 letters, digits, '.', '-', '_' or '@'.")
        if scope not in SCOPES:
            raise UserError(f"The scope must be one of: {', '.join(SCOPES)}.")
        if collections is not None and not collections:
            raise UserError("Name at least one collection for the key, or none for all.")
        prefix, secret, salt = secrets.token_hex(4), secrets.token_hex(32), secrets.token_bytes(16)
        now = time.time()
        kept = None if collections is None else tuple(sorted(set(collections)))
        try:
            with self.vault.transaction() as conn:
                conn.execute(
                    "INSERT INTO api_keys(name, scope, prefix, salt, hash, created_at, "
                    "collections, mask_personal_data) VALUES(?,?,?,?,?,?,?,?)",
                    (name, scope, prefix, salt, _digest(salt, secret), now,
                     None if kept is None else json.dumps(kept), int(mask_personal_data)))
        except sqlcipher3.IntegrityError:
            raise AlreadyExistsError(f"A key named '{name}' already exists.") from None
        return (ApiKey(name, scope, prefix, now, None, kept, mask_personal_data),
                f"enc_{prefix}_{secret}")

    def list(self) -> list[ApiKey]:
        return [ApiKey.from_row(*row) for row in self.vault.rows(
            f"SELECT {_COLUMNS} FROM api_keys ORDER BY name")]

    def revoke(self, name: str) -> ApiKey:
        with self.vault.transaction() as conn:
            changed = conn.execute("UPDATE api_keys SET revoked_at = ? WHERE name = ? "
                                   "AND revoked_at IS NULL", (time.time(), name)).rowcount
        found = [k for k in self.list() if k.name == name]
        if not found:
            raise NotFoundError(f"There is no key named '{name}'.")
        if not changed:
            raise UserError(f"The key '{name}' was already revoked.")
        return found[0]

    def verify(self, key: str) -> ApiKey | None:
        """The active key this text is, or None (unknown, malformed or revoked)."""
        match = _KEY.match(key.strip())
        if not match:
            return None
        rows = self.vault.rows(f"SELECT {_COLUMNS}, salt, hash FROM api_keys WHERE prefix = ?",
                               (match.group(1),))
        if not rows:
            return None
        *record, salt, stored = rows[0]
        if not hmac.compare_digest(_digest(salt, match.group(2)), stored):
            return None
        api_key = ApiKey.from_row(*record)
        return api_key if api_key.active else None
