"""`service.access`: who may use the LAN API (keys, their scopes, the collections they may
see, whether personal data is masked for them) and what they did (the tamper-evident
audit log)."""

from __future__ import annotations

from typing import IO

from ..ops.apikeys import ApiKey, ApiKeys
from ..ops.audit import AuditEntry, AuditLog
from ..store.catalogue import Catalogue
from . import scope
from .scope import Within


class AccessService:
    def __init__(self, keys: ApiKeys, audit: AuditLog, catalogue: Catalogue):
        self._keys, self._audit, self._catalogue = keys, audit, catalogue

    def create_key(self, name: str, scope: str, collections: list[str] | None = None,
                   mask_personal_data: bool = False) -> tuple[ApiKey, str]:
        """A new key ("read-only" or "read-write"), for the named collections only (None:
        all), with personal data masked in what it gets or not; the secret is returned
        only here. NotFoundError for a collection that does not exist."""
        for collection in collections or ():
            self._catalogue.collection_id(collection)
        return self._keys.create(name, scope, collections, mask_personal_data)

    def keys(self) -> list[ApiKey]:
        return self._keys.list()

    def revoke_key(self, name: str) -> ApiKey:
        return self._keys.revoke(name)

    def check_key(self, secret: str) -> ApiKey | None:
        """The active key with this secret (compared in constant time), or None."""
        return self._keys.verify(secret)

    def may_use(self, collection: str | None, within: Within) -> bool:
        """Whether a caller limited to the collections `within` (a key's `collections`;
        None: all) may reach `collection` (None: the whole library)."""
        return scope.allowed(collection, within)

    def check_collection(self, collection: str, within: Within) -> None:
        """NotAllowedError unless a caller limited to `within` may use `collection`
        (whether it exists or not: the answer tells nothing of the others)."""
        scope.check(collection, within)

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
