"""`service.access` on a real vault: the LAN API's keys (created, listed without their
secret, checked, revoked) and the tamper-evident audit log (recorded, listed, verified
after rows are changed or deleted behind its back, exported as CSV)."""

from __future__ import annotations

import csv
import io

import pytest
import sqlcipher3

from engine.errors import AlreadyExistsError, NotFoundError, UserError
from engine.ops.audit import AuditEntry


def _raw_vault(service) -> sqlcipher3.Connection:
    """A second, raw SQLCipher connection to the service's vault file: someone editing the
    database behind the engine's back (engine internals: tests only)."""
    vault = service._vault
    conn = sqlcipher3.connect(str(vault.path))
    conn.execute(f"PRAGMA key = \"x'{vault.key_for_backups().hex()}'\"")
    return conn


def _tamper(service, *statements: str) -> None:
    conn = _raw_vault(service)
    try:
        for statement in statements:
            assert conn.execute(statement).rowcount == 1, statement
        conn.commit()
    finally:
        conn.close()


def _entry(n: int, key: str | None = "laptop", documents=()) -> AuditEntry:
    return AuditEntry(key, f"192.168.1.{n}", "POST" if n % 2 else "GET", f"/v1/route/{n}",
                      200 + n, 10.0 + n, list(documents), at=1_700_000_000.0 + n)


# --- keys --------------------------------------------------------------------------------


def test_a_created_key_is_checked_by_its_secret_and_listed_without_it(service):
    access = service.access
    key, secret = access.create_key("laptop", "read-only")
    assert (key.name, key.scope, key.active) == ("laptop", "read-only", True)
    assert secret.startswith(f"enc_{key.prefix}_")
    writer, writer_secret = access.create_key("ci@build-1", "read-write")
    assert writer.scope == "read-write" and writer_secret != secret

    listed = access.keys()
    assert [k.name for k in listed] == ["ci@build-1", "laptop"]
    for shown in listed:
        text = repr(shown) + repr(shown.to_json())
        assert secret[-64:] not in text and writer_secret[-64:] not in text
    stored = repr(service._vault.rows("SELECT * FROM api_keys"))
    assert secret[-64:] not in stored and writer_secret[-64:] not in stored  # hashes only

    assert access.check_key(secret).name == "laptop"
    assert access.check_key(f"  {writer_secret}\n").scope == "read-write"


@pytest.mark.parametrize("wrong", [
    "",
    "enc_",
    "not a key at all",
    "enc_00000000_" + "0" * 64,  # well formed, unknown prefix
])
def test_check_key_refuses_text_that_is_no_key(service, wrong):
    service.access.create_key("laptop", "read-only")
    assert service.access.check_key(wrong) is None


def test_check_key_refuses_a_wrong_secret_with_a_known_prefix(service):
    _, secret = service.access.create_key("laptop", "read-only")
    last = secret[-1]
    wrong = secret[:-1] + ("0" if last != "0" else "1")
    assert service.access.check_key(wrong) is None
    assert service.access.check_key(secret.upper()) is None
    assert service.access.check_key(secret) is not None


def test_a_revoked_key_is_refused_and_stays_listed(service):
    access = service.access
    _, secret = access.create_key("laptop", "read-write")
    _, other = access.create_key("phone", "read-only")
    revoked = access.revoke_key("laptop")
    assert revoked.name == "laptop" and not revoked.active and revoked.revoked_at
    assert access.check_key(secret) is None
    assert access.check_key(other).name == "phone"  # the other key still works
    assert {k.name: k.active for k in access.keys()} == {"laptop": False, "phone": True}
    with pytest.raises(UserError, match="already revoked"):
        access.revoke_key("laptop")
    with pytest.raises(NotFoundError):
        access.revoke_key("nobody")


def test_a_duplicate_key_name_is_refused_and_the_first_key_kept(service):
    access = service.access
    first, secret = access.create_key("laptop", "read-only")
    with pytest.raises(AlreadyExistsError, match="laptop"):
        access.create_key("laptop", "read-write")
    assert access.keys() == [first]
    assert access.check_key(secret) == first


@pytest.mark.parametrize("name, scope", [
    ("", "read-only"),
    ("has space", "read-only"),
    ("x" * 65, "read-only"),
    ("semi;colon", "read-write"),
    ("laptop", "admin"),
    ("laptop", ""),
    ("laptop", "READ-ONLY"),
])
def test_a_bad_key_name_or_scope_is_refused_and_creates_nothing(service, name, scope):
    with pytest.raises(UserError) as raised:
        service.access.create_key(name, scope)
    assert not isinstance(raised.value, AlreadyExistsError)
    assert str(raised.value)  # a message fit to show
    assert service.access.keys() == []


# --- the audit log -----------------------------------------------------------------------


def test_audit_entries_are_recorded_and_listed_newest_first_with_a_limit(service):
    access = service.access
    assert access.audit_entries() == [] and access.audit_entries(5) == []
    for n in range(1, 6):
        access.record(_entry(n, documents=[3, 1, 3] if n == 2 else ()))
    access.record(AuditEntry(None, "10.0.0.9", "GET", "/health", 401, 0.5))  # no key, time now

    everything = access.audit_entries()
    assert [e["route"] for e in everything][:5] == [f"/v1/route/{n}" for n in range(1, 6)]
    assert [e["id"] for e in everything] == sorted(e["id"] for e in everything)
    newest = access.audit_entries(3)
    assert [e["id"] for e in newest] == [e["id"] for e in reversed(everything)][:3]
    assert newest[0]["key_name"] is None and newest[0]["status"] == 401 and newest[0]["at"] > 0
    second = everything[1]
    assert (second["client"], second["method"], second["status"], second["latency_ms"],
            second["documents"]) == ("192.168.1.2", "GET", 202, 12.0, "[1, 3]")
    assert everything[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(everything, everything[1:]))
    assert access.verify_audit() == []


def test_an_intact_log_verifies_after_the_vault_is_reopened(open_service):
    service = open_service()
    for n in range(1, 4):
        service.access.record(_entry(n))
    service.close()
    service = open_service()
    assert service.access.verify_audit() == []
    service.access.record(_entry(4))  # the chain goes on from the stored head
    assert service.access.verify_audit() == []
    assert len(service.access.audit_entries()) == 4


@pytest.mark.parametrize("statement, found", [
    ("UPDATE audit_log SET status = 200 WHERE id = 2", "entry 2: its content was changed"),
    ("UPDATE audit_log SET key_name = 'someone-else' WHERE id = 1",
     "entry 1: its content was changed"),
    ("UPDATE audit_log SET documents = '[]' WHERE id = 3", "entry 3: its content was changed"),
    ("DELETE FROM audit_log WHERE id = 2", "entry 3: does not follow entry 1"),
    ("DELETE FROM audit_log WHERE id = 4", "entries at the end were deleted"),
])
def test_verify_audit_finds_rows_changed_or_deleted_behind_its_back(service, statement, found):
    for n in range(1, 5):
        service.access.record(_entry(n, documents=[n]))
    assert service.access.verify_audit() == []
    _tamper(service, statement)
    problems = service.access.verify_audit()
    assert problems and any(found in p for p in problems), problems


def test_a_recomputed_hash_still_breaks_the_link_to_the_next_entry(service):
    """Editing a row and its own hash (without the key to the chain's head) is caught by
    the entry after it."""
    for n in range(1, 4):
        service.access.record(_entry(n))
    _tamper(service, "UPDATE audit_log SET hash = 'f' || substr(hash, 2) WHERE id = 2")
    problems = service.access.verify_audit()
    assert any("entry 2: its content was changed" in p for p in problems)
    assert any("entry 3: does not follow entry 2" in p for p in problems)


def test_export_audit_writes_one_csv_row_per_entry(service):
    access = service.access
    for n in range(1, 8):
        access.record(_entry(n, key="laptop" if n % 3 else None, documents=[n, n + 1]))
    out = io.StringIO()
    assert access.export_audit(out) == 7
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["id", "time_utc", "key", "client", "method", "route", "status",
                       "latency_ms", "documents", "hash"]
    body = rows[1:]
    assert len(body) == 7
    entries = access.audit_entries()
    assert [int(r[0]) for r in body] == [e["id"] for e in entries]
    assert [r[9] for r in body] == [e["hash"] for e in entries]
    assert body[0][1] == "2023-11-14T22:13:21Z"  # 1_700_000_001 in UTC
    assert body[2][2] == "" and body[0][2] == "laptop"  # no key: an empty cell
    assert body[3][3:7] == ["192.168.1.4", "GET", "/v1/route/4", "204"]
    assert body[3][8] == "[4, 5]"


def test_export_of_an_empty_log_is_a_header_only(service):
    out = io.StringIO()
    assert service.access.export_audit(out) == 0
    assert len(list(csv.reader(io.StringIO(out.getvalue())))) == 1


def test_verify_while_entries_are_written_never_cries_wolf(service):
    """Regression: verify read the entries, then the head, each on its own; an entry written
    between the two (the server writes them after each response) looked like a deletion."""
    import threading

    access, done = service.access, threading.Event()

    def write():
        n = 0
        while not done.is_set():
            n += 1
            access.record(_entry(n))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        problems = [access.verify_audit() for _ in range(200)]
    finally:
        done.set()
        writer.join()
    assert not any(problems) and len(access.audit_entries()) > 1


def test_a_key_can_be_kept_to_collections_and_masked(service):
    service.library.create_collection("maintenance")
    record, secret = service.access.create_key("upkeep", "read-only", ["maintenance"],
                                               mask_personal_data=True)
    assert record.collections == ("maintenance",) and record.mask_personal_data
    assert service.access.check_key(secret) == record
    assert [k for k in service.access.keys() if k.name == "upkeep"] == [record]
    assert record.to_json()["collections"] == ["maintenance"]
    everything, _ = service.access.create_key("all", "read-only")
    assert everything.collections is None and not everything.mask_personal_data
    with pytest.raises(NotFoundError):
        service.access.create_key("hr", "read-only", ["human resources"])
    with pytest.raises(UserError, match="at least one collection"):
        service.access.create_key("none", "read-only", [])
    assert {k.name for k in service.access.keys()} == {"upkeep", "all"}
