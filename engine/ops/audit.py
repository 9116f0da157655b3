"""The audit log of the LAN API, kept in the vault and made tamper-evident.

Each entry records who (key name, client address) did what (method, route), with what
result (status, latency) and which documents an answer drew on: never a key, never
document text. Every entry carries the SHA-256 of its content chained to the previous
entry's hash; the head of the chain (last id and hash) is kept in the vault's meta
table in the same transaction. `verify` recomputes the chain: an edited entry breaks
its own hash, a deleted one breaks the link of the next, a deleted last one no longer
matches the head.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import IO

from ..store.vault import Vault

GENESIS = "0" * 64
_FIELDS = ("id", "at", "key_name", "client", "method", "route", "status", "latency_ms",
           "documents")


@dataclass(frozen=True)
class AuditEntry:
    key_name: str | None
    client: str
    method: str
    route: str
    status: int
    latency_ms: float
    documents: list[int] = field(default_factory=list)
    at: float = 0.0


def _entry_hash(prev_hash: str, values: tuple) -> str:
    canonical = json.dumps([prev_hash, *values], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditLog:
    def __init__(self, vault: Vault):
        self.vault = vault

    def append(self, entry: AuditEntry) -> None:
        at = entry.at or time.time()
        documents = json.dumps(sorted(set(entry.documents)))
        with self.vault.transaction() as conn:
            head = conn.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
            prev_hash = json.loads(head[0])["hash"] if head else GENESIS
            cursor = conn.execute(
                "INSERT INTO audit_log(at, key_name, client, method, route, status, latency_ms, "
                "documents, prev_hash, hash) VALUES(?,?,?,?,?,?,?,?,?,'')",
                (at, entry.key_name, entry.client, entry.method, entry.route, entry.status,
                 round(entry.latency_ms, 3), documents, prev_hash))
            entry_id = cursor.lastrowid
            values = (entry_id, at, entry.key_name, entry.client, entry.method, entry.route,
                      entry.status, round(entry.latency_ms, 3), documents)
            digest = _entry_hash(prev_hash, values)
            conn.execute("UPDATE audit_log SET hash = ? WHERE id = ?", (digest, entry_id))
            self.vault.set_meta(conn, "audit_head", json.dumps({"id": entry_id, "hash": digest}))

    def entries(self, limit: int | None = None) -> list[dict]:
        """The newest first (or all, oldest first, without a limit)."""
        sql = f"SELECT {', '.join(_FIELDS)}, prev_hash, hash FROM audit_log"
        rows = self.vault.rows(sql + (" ORDER BY id DESC LIMIT ?" if limit else " ORDER BY id"),
                               (limit,) if limit else ())
        return [dict(zip((*_FIELDS, "prev_hash", "hash"), row)) for row in rows]

    def verify(self) -> list[str]:
        """What is wrong with the chain; an empty list when it is intact."""
        with self.vault.lock:  # the entries and the head as of one moment, not across a write
            entries, head = self.entries(), self.vault.get_meta("audit_head")
        problems: list[str] = []
        prev_hash = GENESIS
        last_id = 0
        for row in entries:
            values = tuple(row[f] for f in _FIELDS)
            if row["prev_hash"] != prev_hash:
                problems.append(f"entry {row['id']}: does not follow entry {last_id} "
                                "(an entry before it was deleted or changed)")
            if _entry_hash(row["prev_hash"], values) != row["hash"]:
                problems.append(f"entry {row['id']}: its content was changed")
            prev_hash, last_id = row["hash"], row["id"]
        expected = json.loads(head) if head else {"id": 0, "hash": GENESIS}
        if (expected["id"], expected["hash"]) != (last_id, prev_hash):
            problems.append(f"the log ends at entry {last_id}, but entry {expected['id']} was "
                            "written last (entries at the end were deleted)")
        return problems

    def export_csv(self, out: IO[str]) -> int:
        writer = csv.writer(out)
        writer.writerow(["id", "time_utc", "key", "client", "method", "route", "status",
                         "latency_ms", "documents", "hash"])
        rows = self.entries()
        for row in rows:
            writer.writerow([row["id"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["at"])),
                             row["key_name"] or "", row["client"], row["method"], row["route"],
                             row["status"], row["latency_ms"], row["documents"], row["hash"]])
        return len(rows)
