"""The encrypted vault: one SQLCipher database per data directory, and its schema.

Everything the library knows lives here, encrypted with a 256-bit raw key: documents
and their extracted text, chunks with their vectors, the full-text index, the embedding
cache, the pending ingest queue and the list of failed files. Schema changes are
numbered migrations recorded in `PRAGMA user_version`. One connection serves the
process, guarded by a re-entrant lock so that writes stay serial.

One program at a time writes a library: opening for writing takes the data directory's
writer lock (`writer_lock.py`). A vault opened while another program holds it is
read-only: no migration, no change of file modes, `PRAGMA query_only`, and every
`transaction()` raises `LibraryInUseError` naming the holder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import sqlcipher3
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import keys, writer_lock
from ..errors import UserError, VaultCorruptError, WrongKeyError
from .writer_lock import Holder, WriterLock

log = logging.getLogger(__name__)

VAULT_FILE = "vault.db"

MIGRATIONS: list[str] = [
    # 1: the library
    """
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE collections(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        folder TEXT,
        created_at REAL NOT NULL
    );
    CREATE TABLE documents(
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime REAL NOT NULL,
        pages INTEGER,
        page_offsets TEXT NOT NULL,
        text TEXT NOT NULL,
        embedding_model TEXT NOT NULL,
        ingested_at REAL NOT NULL,
        UNIQUE(collection_id, path)
    );
    CREATE TABLE chunks(
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        text TEXT NOT NULL,
        heading TEXT,
        page_start INTEGER,
        page_end INTEGER,
        char_start INTEGER NOT NULL,
        char_end INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        vector BLOB NOT NULL
    );
    CREATE INDEX chunks_by_document ON chunks(document_id);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(terms, tokenize='unicode61 remove_diacritics 2');
    CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        DELETE FROM chunks_fts WHERE rowid = old.id;
    END;
    CREATE TABLE embedding_cache(
        model TEXT NOT NULL,
        text_sha TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY(model, text_sha)
    ) WITHOUT ROWID;
    CREATE TABLE ingest_queue(
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        UNIQUE(path, collection_id)
    );
    CREATE TABLE ingest_failures(
        path TEXT NOT NULL,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        reason TEXT NOT NULL,
        failed_at REAL NOT NULL,
        PRIMARY KEY(path, collection_id)
    );
    """,
    # 2: conversations of the desktop chat. Sources are stored with their document id and
    # character offsets (chunk ids get reused by SQLite once chunks are deleted).
    """
    CREATE TABLE chats(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        collection TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE messages(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK(role IN ('user', 'assistant')),
        text TEXT NOT NULL,
        sources TEXT NOT NULL DEFAULT '[]',
        refused INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_by_chat ON messages(chat_id, id);
    """,
    # 3: the LAN API's keys (salted hashes only) and its tamper-evident audit log
    """
    CREATE TABLE api_keys(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL CHECK(scope IN ('read-only', 'read-write')),
        prefix TEXT NOT NULL UNIQUE,
        salt BLOB NOT NULL,
        hash BLOB NOT NULL,
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE TABLE audit_log(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        key_name TEXT,
        client TEXT NOT NULL,
        method TEXT NOT NULL,
        route TEXT NOT NULL,
        status INTEGER NOT NULL,
        latency_ms REAL NOT NULL,
        documents TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    """,
    # 4: document frequencies of the full-text terms (a view over the FTS5 index)
    """
    CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row');
    """,
    # 5: health figures per minute, and what each answer cost to make
    """
    CREATE TABLE metric_minutes(
        minute INTEGER NOT NULL,
        series TEXT NOT NULL,
        count REAL NOT NULL,
        total REAL NOT NULL,
        buckets TEXT NOT NULL,
        last REAL,
        PRIMARY KEY(minute, series)
    ) WITHOUT ROWID;
    CREATE TABLE answer_costs(
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        collection TEXT,
        cpu_s REAL NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL
    );
    CREATE INDEX answer_costs_by_time ON answer_costs(at);
    """,
    # 6: chunks that only point elsewhere (tables of contents, indexes, dot-leader lists)
    # are kept out of answers; NULL until classified (done at open for older libraries).
    # An assistant message records how it was made: answer, quote or refusal.
    """
    ALTER TABLE chunks ADD COLUMN navigation INTEGER;
    CREATE INDEX chunks_unclassified ON chunks(id) WHERE navigation IS NULL;
    ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'answer';
    UPDATE messages SET kind = 'refusal' WHERE refused;
    """,
    # 7: what an API key may see (its collections, by name, as JSON; NULL: all) and whether
    # personal data is masked in what it gets; an upload's bytes, kept here (encrypted)
    # from the moment it is accepted until it is ingested, never in a file
    """
    ALTER TABLE api_keys ADD COLUMN collections TEXT;
    ALTER TABLE api_keys ADD COLUMN mask_personal_data INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE ingest_queue ADD COLUMN content BLOB;
    """,
    # 8: what a question was searched as, when it was a follow-up made standalone from its
    # conversation ('': the question itself)
    """
    ALTER TABLE messages ADD COLUMN searched_for TEXT NOT NULL DEFAULT '';
    """,
    # 9: the lines OCR read on a document's pages that are pictures, with their boxes and
    # offsets into its text (JSON: {page: [[x0, y0, x1, y1, start, end], ...]}), to
    # highlight a passage on the page's picture; NULL: no page was read with OCR
    """
    ALTER TABLE documents ADD COLUMN ocr_lines TEXT;
    """,
    # 10: why a file was not imported, by code (engine/texts.py) and values (JSON), beside
    # its English, for a front end to show it in its own language ('': words of their own)
    """
    ALTER TABLE ingest_failures ADD COLUMN reason_code TEXT NOT NULL DEFAULT '';
    ALTER TABLE ingest_failures ADD COLUMN reason_values TEXT;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class Vault:
    """An open, unlocked vault. Use `Vault.open`; close it when done."""

    def __init__(self, path: Path, conn: sqlcipher3.Connection, key: bytes):
        self.path = path
        self._conn = conn
        self._key = key
        self.lock = threading.RLock()
        self.key_lock = threading.RLock()
        """Held while the key changes; hold it to read the key together with the files
        encrypted under it (a backup)."""
        self._writer: WriterLock | None = None
        self._opened_while: Holder | None = None  # who wrote it when it was opened read-only
        self._closed = False

    @classmethod
    def open(
        cls,
        data_dir: Path,
        passphrase: keys.PassphraseProvider,
        kdf_log2_n: int = 16,
        prefer: str = "keyring",
        access: str = "write",
        program: str | None = None,
    ) -> "Vault":
        """Open the vault in `data_dir`, creating it (and its key) if there is none.

        A wrong key raises WrongKeyError and leaves every file as it was. The data directory
        and the files in it are made private to this user (0700, 0600): nobody else on the
        machine may copy the vault and its key salt to guess the passphrase offline.

        `access` "write" takes the writer lock (in the lock file, `program` says who holds
        it) or raises LibraryInUseError, before the key is asked for. "read" opens the
        vault read-only without the lock, and takes it only to create the library or to
        migrate one made by an older Enclave, if nobody holds it (release it with
        `release_writer` once the opening's upkeep is done).
        """
        if access not in ("write", "read"):
            raise ValueError(f"access must be 'write' or 'read', not {access!r}")
        finish_interrupted_restore(data_dir)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = data_dir / VAULT_FILE
        if access == "read" and path.exists():
            return cls._open_for_reading(data_dir, path, passphrase, kdf_log2_n, prefer,
                                         program)
        lock = WriterLock.try_acquire(data_dir, program, wait=writer_lock.GRACE_S)
        if lock is None:
            raise writer_lock.in_use(data_dir)
        try:
            vault = cls._open_file(data_dir, path, passphrase, kdf_log2_n, prefer,
                                   settle=True)
        except BaseException:
            lock.release(undo=True)  # a failed opening changes no file
            raise
        vault._writer = lock
        try:
            make_private(data_dir)
            vault._migrate()
        except BaseException:
            vault.close()
            raise
        return vault

    @classmethod
    def _open_for_reading(cls, data_dir: Path, path: Path, passphrase: keys.PassphraseProvider,
                          kdf_log2_n: int, prefer: str, program: str | None) -> "Vault":
        """Open without the writer lock: read-only (`PRAGMA query_only`), unless the schema
        is older than this Enclave's and nobody holds the lock: then take it and migrate."""
        opened_while = writer_lock.current_holder(data_dir)
        vault = cls._open_file(data_dir, path, passphrase, kdf_log2_n, prefer, settle=False)
        vault._opened_while = opened_while
        try:
            version = vault.scalar("PRAGMA user_version")
            vault._refuse_newer(version)
            if version == SCHEMA_VERSION:
                vault._conn.execute("PRAGMA query_only = 1")
                return vault
            lock = WriterLock.try_acquire(data_dir, program, wait=writer_lock.GRACE_S)
            if lock is None:
                who = writer_lock.current_holder(data_dir)
                raise writer_lock.LibraryInUseError(
                    f"This library has schema {version}; this Enclave reads schema "
                    f"{SCHEMA_VERSION}, which the library gets once a program opens it for "
                    f"writing, and {who or 'another program'} writes it now (an older "
                    "Enclave?). Close that program, then open the library again.", who)
            vault._writer, vault._opened_while = lock, None
            make_private(data_dir)
            vault._migrate()
        except BaseException:
            vault.close()
            raise
        return vault

    def reader(self) -> "ReaderOpening":
        """How a helper process of this program opens this vault read-only."""
        return ReaderOpening(self.path, self._key)

    @classmethod
    def _open_file(cls, data_dir: Path, path: Path, passphrase: keys.PassphraseProvider,
                   kdf_log2_n: int, prefer: str, settle: bool = True) -> "Vault":
        info = keys.read_key_info(data_dir)
        if info is None:
            if path.exists():
                raise VaultCorruptError(
                    f"{data_dir} has a vault but no key.json: it cannot be opened."
                )
            key, info = keys.new_key(passphrase, kdf_log2_n, prefer)
            vault = cls._connect(path, key)
            keys.write_key_info(data_dir, info)
            return vault
        if not path.exists():
            raise VaultCorruptError(f"{path} is missing (key.json is there).")
        if info.next is None:
            return cls._connect(path, keys.load_key(info, passphrase))
        return cls._open_interrupted_change(data_dir, path, info, passphrase, settle)

    @classmethod
    def _open_interrupted_change(cls, data_dir: Path, path: Path, info: keys.KeyInfo,
                                 passphrase: keys.PassphraseProvider, settle: bool) -> "Vault":
        """A change of key was interrupted: the vault is under the old key or the new one,
        never neither. Open it with the one that works and, where this process may write
        (`settle`), make key.json say only that key (and drop the other from the keyring)."""
        for key, candidate in keys.candidate_keys(info, passphrase):
            try:
                vault = cls._connect(path, key)
            except WrongKeyError:
                continue
            if settle:
                old, new = info.with_pending(None), info.pending
                keys.forget_keyring_key(new if candidate == old else old)
                keys.write_key_info(data_dir, candidate)
            return vault
        raise WrongKeyError.said("vault_wrong_key_key_changing")

    # --- one writer --------------------------------------------------------------------

    @property
    def writable(self) -> bool:
        """Whether this process holds the library's writer lock (it may change it)."""
        return self._writer is not None

    def require_writable(self) -> None:
        """Raise LibraryInUseError (naming the program that writes) unless writable."""
        if self._closed:
            raise UserError("This library is closed: open it again to change it.")
        if self._writer is None:
            raise writer_lock.read_only(self.path.parent, self._opened_while)

    @property
    def writer(self) -> Holder | None:
        """The program that was writing the library when it was opened read-only here."""
        return self._opened_while

    def release_writer(self) -> None:
        """Go on read-only and let another program write (after an opening's upkeep)."""
        with self.lock:
            if self._writer is not None:
                self._conn.execute("PRAGMA query_only = 1")
                self._writer.release()
                self._writer = None

    @classmethod
    def _connect(cls, path: Path, key: bytes) -> "Vault":
        conn = sqlcipher3.connect(str(path), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is reported, not logged
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            conn.close()
            raise WrongKeyError.said("vault_wrong_key") from exc
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return cls(path, conn, key)

    def _migrate(self) -> None:
        version = self.scalar("PRAGMA user_version")
        self._refuse_newer(version)
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as conn:
                for statement in _split_sql(MIGRATIONS[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")

    @staticmethod
    def _refuse_newer(version: int) -> None:
        if version > SCHEMA_VERSION:
            raise UserError(
                f"This vault has schema {version}, newer than this Enclave ({SCHEMA_VERSION}): "
                "update Enclave."
            )

    def derived_key(self, purpose: str) -> bytes:
        """A 256-bit key for another file of this data directory (e.g. the index)."""
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()
        ).derive(self._key)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlcipher3.Connection]:
        """A write transaction: everything inside commits together or not at all.
        LibraryInUseError if another program writes the library."""
        self.require_writable()
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see the vault as of one moment, even while another program writes."""
        with self.lock:
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                self._conn.execute("COMMIT")

    def rows(self, sql: str, params: tuple | dict = ()) -> list[tuple]:
        with self.lock:
            return self._conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple | dict = ()) -> Any:
        with self.lock:
            row = self._conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else value

    def set_meta(self, conn: sqlcipher3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def export_to(self, path: Path, count_tables: tuple[str, ...] = ()) -> dict[str, int]:
        """A consistent copy of the whole vault, encrypted with the same key, at `path`
        (SQLCipher's sqlcipher_export, inside one transaction); returns the row counts
        of `count_tables` in the copy."""
        with self.lock:
            self._conn.execute("PRAGMA query_only = 0")  # the copy is written, not the vault
            self._conn.execute(f"ATTACH DATABASE ? AS backup KEY \"x'{self._key.hex()}'\"",
                               (str(path),))
            try:
                self._conn.execute("BEGIN")
                try:
                    self._conn.execute("SELECT sqlcipher_export('backup')")
                    version = self._conn.execute("PRAGMA user_version").fetchone()[0]
                    self._conn.execute(f"PRAGMA backup.user_version = {version}")
                    return {table: self._conn.execute(
                        f"SELECT count(*) FROM backup.{table}").fetchone()[0]
                        for table in count_tables}
                finally:
                    self._conn.execute("COMMIT")
            finally:
                self._conn.execute("DETACH DATABASE backup")
                if self._writer is None:
                    self._conn.execute("PRAGMA query_only = 1")

    def rekey(self, key: bytes) -> None:
        """Re-encrypt the whole vault under `key` in one transaction (SQLCipher's `PRAGMA
        rekey`): a crash leaves it under the old key or the new one, never a mix.

        It runs in rollback-journal mode, which SQLCipher rolls back with the old key
        after a crash, and which cannot be entered while another program has the vault
        open (it would read pages it cannot decrypt): LibraryInUseError then, nothing
        changed. Callers keep key.json in step (`rekey.py`)."""
        with self.key_lock, self.lock:
            self.require_writable()
            try:
                mode = self._conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            except sqlcipher3.OperationalError:
                mode = "busy"
            if mode != "delete":
                self._conn.execute("PRAGMA journal_mode = WAL")
                raise writer_lock.LibraryInUseError(
                    "Another program is reading the library now (an `enclave search`, "
                    "`status` or backup): try again once it has finished.")
            try:
                self._conn.execute("PRAGMA synchronous = FULL")
                self._conn.execute(f"PRAGMA rekey = \"x'{key.hex()}'\"")
                self._key = key
                self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                for pragma in ("journal_mode = WAL", "synchronous = NORMAL"):
                    try:
                        self._conn.execute(f"PRAGMA {pragma}")
                    except sqlcipher3.OperationalError:  # a reader came in: the next opening
                        pass                             # sets WAL again

    def fingerprint(self) -> str:
        """The fingerprint of the vault's key (`keys.fingerprint`)."""
        return keys.fingerprint(self._key)

    def key_for_backups(self) -> bytes:
        """The vault key, to check that a backup opens with it."""
        return self._key

    def recovery_key(self) -> str:
        """The raw vault key, in groups, to write down: it opens a backup on a machine
        whose keyring does not hold the key."""
        text = self._key.hex()
        return "-".join(text[i:i + 8] for i in range(0, len(text), 8))

    def close(self) -> None:
        """Close the connection, then let go of the writer lock (if this process held it)."""
        with self.lock:
            self._closed = True
            try:
                self._conn.close()
            finally:
                if self._writer is not None:
                    self._writer.release()
                    self._writer = None


@dataclass(frozen=True)
class ReaderOpening:
    """A vault's file and key, for a helper process to open it read-only (`PRAGMA
    query_only`) beside the program that writes it: the key travels over the pipe to the
    helper, never on a command line."""

    path: Path
    key: bytes = field(repr=False)

    def open(self) -> Vault:
        vault = Vault._connect(self.path, self.key)
        vault._conn.execute("PRAGMA query_only = 1")
        return vault


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    statements, current = [], ""
    for line in script.strip().splitlines(keepends=True):
        current += line
        if sqlcipher3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def make_private(data_dir: Path) -> None:
    """Only this user may enter the data directory and read or write the files in it (a
    library made by an older Enclave, or copied in, had 0755/0644)."""
    if os.name != "posix":
        return  # Windows: the user's profile folder already keeps others out
    data_dir.chmod(0o700)
    for path in data_dir.iterdir():
        if path.is_file() and not path.is_symlink():
            path.chmod(0o600)


def library_exists(data_dir: Path) -> bool:
    """Whether `data_dir` holds a library (its vault file, or a restore killed between
    moving it aside and moving the backup in: opening it puts it back), without opening
    it."""
    return (data_dir / VAULT_FILE).exists() or _interrupted_swap(data_dir) is not None


def restore_journal(data_dir: Path) -> Path:
    """Written by a restore before it moves the library aside (naming where to), removed
    once the backup is in place: while it is there, a restore may have been killed."""
    return data_dir.with_name(f".{data_dir.name}.restore-journal")


def swapping(data_dir: Path, wait: bool = True):
    """Held by a restore while it swaps the folders (a lock on a file beside the data
    directory: the writer lock inside it moves aside with the library), so that
    `finish_interrupted_restore` never touches what a live restore is doing."""
    return writer_lock.exclusive(data_dir.with_name(f".{data_dir.name}.restore-lock"), wait)


def _interrupted_swap(data_dir: Path) -> Path | None:
    """Where a killed restore left the library (moved aside, nothing moved in), or None."""
    journal = restore_journal(data_dir)
    if not journal.exists() or (data_dir / VAULT_FILE).exists():
        return None
    aside = Path(journal.read_text().strip() or data_dir)
    return aside if (aside / VAULT_FILE).exists() else None


def finish_interrupted_restore(data_dir: Path) -> None:
    """Undo what a restore killed midway left: the library it had moved aside comes back
    when nothing was moved in; the journal and a half-copied backup are removed. A restore
    killed after the backup was moved in leaves the restored library (it was verified
    before), with the previous one kept aside as usual."""
    journal = restore_journal(data_dir)
    if not journal.exists():
        return
    with swapping(data_dir, wait=False) as alone:
        if not alone or not journal.exists():
            return  # a restore is at work (or just finished): not an interrupted one
        aside = _interrupted_swap(data_dir)
        if aside is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
            os.replace(aside, data_dir)
            log.warning("a restore was interrupted: the library in %s is back as it was",
                        data_dir)
        shutil.rmtree(data_dir.with_name(f".{data_dir.name}.restoring"), ignore_errors=True)
        journal.unlink(missing_ok=True)
