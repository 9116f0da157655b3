"""Collections, documents and failed files as stored in the vault.

Every change that adds or removes chunks runs in one vault transaction that also bumps
`index_generation`, and returns the chunk ids the vector index must drop, so the caller
can bring the index in line right after the commit.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlcipher3

from ..errors import AlreadyExistsError, NotFoundError, UserError
from .. import texts
from ..records import Collection, Document, Failure
from .vault import Vault

DEFAULT_COLLECTION = "default"


def bump_generation(conn: sqlcipher3.Connection) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES('index_generation', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


class Catalogue:
    def __init__(self, vault: Vault):
        self.vault = vault

    # --- collections -------------------------------------------------------------------

    def collection_id(self, name: str, create: bool = False) -> int:
        with self.vault.lock:  # look up and create as one step: two callers may name it at once
            found = self.vault.scalar("SELECT id FROM collections WHERE name = ?", (name.strip(),))
            if found is not None:
                return found
            if not create:
                raise NotFoundError.said("collection_unknown", name=name)
            return self.create_collection(name)

    def create_collection(self, name: str, folder: Path | None = None) -> int:
        name = name.strip()
        if not name or len(name) > 100:
            raise UserError.said("collection_name_length")
        with self.vault.transaction() as conn:
            try:
                cursor = conn.execute(
                    "INSERT INTO collections(name, folder, created_at) VALUES(?, ?, ?)",
                    (name, str(folder) if folder else None, time.time()),
                )
            except sqlcipher3.IntegrityError:
                raise AlreadyExistsError.said("collection_exists", name=name)
            return cursor.lastrowid

    def link_collection(self, name: str, folder: Path) -> None:
        if not folder.is_dir():
            raise NotFoundError(f"{folder} is not a folder.")
        collection = self.collection_id(name, create=True)
        with self.vault.transaction() as conn:
            conn.execute("UPDATE collections SET folder = ? WHERE id = ?",
                         (str(folder.resolve()), collection))

    def delete_collection(self, name: str) -> list[int]:
        collection = self.collection_id(name)
        with self.vault.transaction() as conn:
            chunk_ids = [r[0] for r in conn.execute(
                "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
                "WHERE d.collection_id = ?", (collection,))]
            conn.execute("DELETE FROM collections WHERE id = ?", (collection,))
            bump_generation(conn)
        return chunk_ids

    def collections(self) -> list[Collection]:
        rows = self.vault.rows(
            "SELECT c.id, c.name, c.folder, count(d.id), c.created_at FROM collections c "
            "LEFT JOIN documents d ON d.collection_id = c.id GROUP BY c.id ORDER BY c.name"
        )
        return [Collection(*row) for row in rows]

    def linked_collections(self) -> list[tuple[str, Path]]:
        rows = self.vault.rows("SELECT name, folder FROM collections WHERE folder IS NOT NULL")
        return [(name, Path(folder)) for name, folder in rows]

    # --- documents ---------------------------------------------------------------------

    def documents(self, collection: str | None = None) -> list[Document]:
        sql = (
            "SELECT d.id, c.name, d.path, d.name, d.kind, d.pages, "
            "(SELECT count(*) FROM chunks WHERE document_id = d.id), d.size, d.ingested_at "
            "FROM documents d JOIN collections c ON c.id = d.collection_id"
        )
        params: tuple = ()
        if collection is not None:
            sql += " WHERE d.collection_id = ?"
            params = (self.collection_id(collection),)
        return [Document(*row) for row in self.vault.rows(sql + " ORDER BY c.name, d.name", params)]

    def find_documents(self, ref: str, collection: str | None = None) -> list[Document]:
        """Documents matching an id, a file name or a path."""
        return [d for d in self.documents(collection)
                if ref in (str(d.id), d.name, d.path) or str(Path(ref).expanduser().resolve()) == d.path]

    def delete_document(self, document_id: int) -> list[int]:
        with self.vault.transaction() as conn:
            chunk_ids = [r[0] for r in conn.execute(
                "SELECT id FROM chunks WHERE document_id = ?", (document_id,))]
            if conn.execute("DELETE FROM documents WHERE id = ?", (document_id,)).rowcount == 0:
                raise NotFoundError(f"There is no document with id {document_id}.")
            bump_generation(conn)
        return chunk_ids

    def document_paths(self, collection_id: int) -> dict[str, tuple[int, str]]:
        """path -> (document id, sha256) for one collection."""
        rows = self.vault.rows(
            "SELECT path, id, sha256 FROM documents WHERE collection_id = ?", (collection_id,))
        return {path: (doc_id, sha) for path, doc_id, sha in rows}

    def document_at(self, collection_id: int, path: str) -> tuple[int, str] | None:
        """(document id, sha256) of the document of `path` in one collection, if any."""
        rows = self.vault.rows("SELECT id, sha256 FROM documents WHERE collection_id = ? "
                               "AND path = ?", (collection_id, path))
        return rows[0] if rows else None

    # --- failures ----------------------------------------------------------------------

    def failures(self) -> list[Failure]:
        rows = self.vault.rows(
            "SELECT f.path, c.name, f.reason, f.failed_at, f.reason_code, f.reason_values "
            "FROM ingest_failures f JOIN collections c ON c.id = f.collection_id "
            "ORDER BY f.failed_at")
        return [Failure(path, collection, texts.reason(code, values, text), failed_at)
                for path, collection, text, failed_at, code, values in rows]

    # --- the ingest queue ----------------------------------------------------------------

    def enqueue(self, files: list[Path], collection_id: int) -> None:
        with self.vault.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO ingest_queue(path, collection_id) VALUES(?, ?)",
                [(str(f), collection_id) for f in files])

    def enqueue_content(self, files: list[tuple[Path, bytes]], collection_id: int) -> None:
        """Queue files received as bytes, under the paths their documents will have; a file
        still queued under the same path is replaced."""
        with self.vault.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO ingest_queue(path, collection_id, content) "
                "VALUES(?, ?, ?)", [(str(path), collection_id, data) for path, data in files])

    def hold_content(self, path: Path, data: bytes) -> None:
        """Keep a queued file's bytes in its queue entries (the file itself may go)."""
        with self.vault.transaction() as conn:
            conn.execute("UPDATE ingest_queue SET content = ? WHERE path = ?", (data, str(path)))

    def pending(self) -> int:
        return self.vault.scalar("SELECT count(*) FROM ingest_queue")

    def queued(self) -> list[Path]:
        return [Path(row[0]) for row in self.vault.rows("SELECT path FROM ingest_queue ORDER BY id")]

    def queue_reindex(self, document_ids: list[int]) -> list[Path]:
        """Queue documents to be read again, whether their file changed or not."""
        queued = []
        with self.vault.transaction() as conn:
            for document_id in document_ids:
                row = conn.execute("SELECT path, collection_id FROM documents WHERE id = ?",
                                   (document_id,)).fetchone()
                if row is None:
                    raise NotFoundError(f"There is no document {document_id}.")
                conn.execute("UPDATE documents SET sha256 = '' WHERE id = ?", (document_id,))
                conn.execute("INSERT OR IGNORE INTO ingest_queue(path, collection_id) "
                             "VALUES(?, ?)", row)
                queued.append(Path(row[0]))
        return queued

    def queue_failures(self) -> int:
        """Queue the files that failed, to try them again; returns how many."""
        with self.vault.transaction() as conn:
            return conn.execute("INSERT OR IGNORE INTO ingest_queue(path, collection_id) "
                                "SELECT path, collection_id FROM ingest_failures").rowcount
