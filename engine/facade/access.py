"""`service.access`: who may use the LAN API (keys and their scopes) and what they did
(the tamper-evident audit log)."""

from __future__ import annotations

from typing import IO

from ..ops.apikeys import ApiKey, ApiKeys
from ..ops.audit import AuditEntry, AuditLog


class AccessService:
    def __init__(self, keys: ApiKeys, audit: AuditLog):
        self._keys, self._audit = keys, audit

    def create_key(self, name: str, scope: str) -> tuple[ApiKey, str]:
        """A new key ("read-only" or "read-write"); the secret is returned only here."""
        return self._keys.create(name, scope)

    def keys(self) -> list[ApiKey]:
        return self._keys.list()

    def revoke_key(self, name: str) -> ApiKey:
        return self._keys.revoke(name)

    def check_key(self, secret: str) -> ApiKey | None:
        """The active key with this secret (compared in constant time), or None."""
        return self._keys.verify(secret)

    def record(self, entry: AuditEntry) -> None:
        """Append a request to the audit log (chained to the previous entry)."""
        self._audit.append(entry)

    def audit_entries(self, limit: int | None = None) -> list[dict]:
        """The newest `limit` entries first (or all, oldest first, without a limit)."""
        return self._audit.entries(limit)

    def verify_audit(self) -> list[str]:
        """What is wrong with the log (changed or deleted entries); empty when intact."""
        return self._audit.verify()

    def export_audit(self, out: IO[str]) -> int:
        """Write the log as CSV; returns the number of entries."""
        return self._audit.export_csv(out)
