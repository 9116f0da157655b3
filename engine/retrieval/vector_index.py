"""The HNSW index (hnswlib, cosine) of chunk vectors, encrypted at rest.

The vault is the source of truth: every chunk's vector is stored there, and every change
to the library bumps the vault's `index_generation`. The index file is AES-256-GCM
encrypted with a key derived from the vault key and records the generation it matches.
On open, a missing, undecryptable, stale or mismatched index is rebuilt from the vault's
vectors and the reason is reported, so an index out of step is never served silently.

A library opened read-only (another program writes it, and saves the index every few
seconds while it ingests) never writes the index file: an index out of step is brought
up to date in memory only, from the vault as of one moment.

Followers (`follow`) hear of every change to the index as it is made, in order: the
search workers of `enclave serve --workers N` (`search_workers.py`) keep their copies
in step that way.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import secrets
import threading
from pathlib import Path
from typing import Callable

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..store.vault import Vault

INDEX_FILE = "index.hnsw.enc"
_AAD = b"enclave-hnsw-v1"
_BRUTE_FORCE_BELOW = 5000

Follower = Callable[[str, list[int], "np.ndarray | None"], None]
"""Told of each change as it is made: ("added", ids, vectors), ("removed", ids, None) or
("rebuilt", [], None). Called with the index's lock held: it must not block."""


class VectorIndex:
    def __init__(self, path: Path, key: bytes, dimension: int):
        self.path = path
        self._aead = AESGCM(key)
        self.dimension = dimension
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()
        self._ids: set[int] = set()
        self._index = self._new_index(1024)
        self.generation = -1
        self._vault: Vault | None = None
        self._followers: list[Follower] = []

    def _new_index(self, capacity: int):
        import hnswlib

        index = hnswlib.Index(space="cosine", dim=self.dimension)
        # No allow_replace_deleted: SQLite reuses the rowids of deleted chunks, and hnswlib
        # loses labels when a deleted label is re-added into another deleted slot. Re-adding
        # a deleted label instead revives its own slot with the new vector.
        index.init_index(max_elements=capacity, ef_construction=200, M=16)
        index.set_ef(100)
        return index

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, chunk_id: int) -> bool:
        return chunk_id in self._ids

    # --- persistence -------------------------------------------------------------------

    def open(self, vault: Vault) -> str | None:
        """Load the saved index and check it against the vault; rebuild if it is off (in
        memory only, the file untouched, when the vault is read-only here).

        Returns None when the saved index was good, else why it was rebuilt.
        """
        self._vault = vault
        # read-only here, another program writes meanwhile: read the vault as of one moment
        with vault.snapshot() if not vault.writable else contextlib.nullcontext():
            generation = int(vault.get_meta("index_generation", "0"))
            problem = self._load(vault)
            if problem is None and self.path.exists() and self.generation != generation:
                problem = f"index is at generation {self.generation}, vault at {generation}"
            live = {row[0] for row in vault.rows("SELECT id FROM chunks")}
            if problem is None and live != self._ids:
                problem = (f"index holds {len(self._ids)} vectors, vault {len(live)} "
                           f"({len(live - self._ids)} missing, {len(self._ids - live)} stale)")
            if problem is not None and not vault.writable:
                self._catch_up(vault, live, generation)
                return (f"{problem}; brought up to date in memory only (the library is "
                        "read-only here: its writer saves the file)")
        if problem is not None:
            self.rebuild(vault, generation)
        return problem

    def _catch_up(self, vault: Vault, live: set[int], generation: int) -> None:
        """Make the index in memory hold exactly the vault's vectors, adding only what is
        missing or changed (a chunk id SQLite gave again), without writing anything."""
        self.remove(sorted(self._ids - live))
        ids = sorted(live)
        for start in range(0, len(ids), 5000):
            rows = vault.rows("SELECT id, vector FROM chunks WHERE id IN "
                              f"({','.join('?' * len(ids[start:start + 5000]))})",
                              ids[start:start + 5000])
            vectors = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            known = [i for i, (chunk_id, _) in enumerate(rows) if chunk_id in self._ids]
            stale = set()
            if known:
                held = self.vectors([rows[i][0] for i in known])
                stale = {known[j] for j in np.flatnonzero(
                    np.abs(held - vectors[known]).max(axis=1) > 1e-4)}
            redo = [i for i in range(len(rows)) if rows[i][0] not in self._ids or i in stale]
            self.add([rows[i][0] for i in redo], vectors[redo])
        self.generation = generation

    def _load(self, vault: Vault) -> str | None:
        if not self.path.exists():
            return "no index file" if vault.scalar("SELECT count(*) FROM chunks") else None
        blob = self.path.read_bytes()
        try:
            payload = self._aead.decrypt(blob[:12], blob[12:], _AAD)
        except (InvalidTag, ValueError):
            return "index file could not be decrypted (damaged or from another vault)"
        state = pickle.loads(payload)  # authenticated above: written by this vault's key
        if state["dimension"] != self.dimension:
            return f"index has dimension {state['dimension']}, model {self.dimension}"
        with self._lock:
            self._index, self._ids = state["index"], set(state["ids"])
            self._index.set_ef(100)
            self.generation = state["generation"]
        return None

    def rebuild(self, vault: Vault, generation: int) -> None:
        ids = [row[0] for row in vault.rows("SELECT id FROM chunks")]
        with self._lock:
            self._index = self._new_index(max(1024, len(ids)))
            self._ids = set()
            for start in range(0, len(ids), 5000):
                part = ids[start : start + 5000]
                marks = ",".join("?" * len(part))
                rows = vault.rows(f"SELECT id, vector FROM chunks WHERE id IN ({marks})", part)
                self.add([r[0] for r in rows],
                         np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows]))
            self._tell("rebuilt", [], None)
            self.save(generation)

    def save(self, generation: int) -> None:
        """Write the index atomically: temporary file, fsync, rename.

        Saves run one at a time, each with its own temporary file, so that two threads
        saving at once (an import and a deletion) neither collide nor let an older
        snapshot replace a newer one. Never where the vault is read-only here."""
        if self._vault is not None:
            self._vault.require_writable()
        with self._save_lock:
            self._write(generation)

    def change_key(self, key: bytes, generation: int) -> None:
        """Encrypt the index file under `key` from now on, and rewrite it now (the vault's
        key changed). A save waiting meanwhile writes under the new key too."""
        if self._vault is not None:
            self._vault.require_writable()
        with self._save_lock:
            self._aead = AESGCM(key)
            self._write(generation)

    def _write(self, generation: int) -> None:
        """Write the file (the caller holds the save lock)."""
        with self._lock:  # a save that waited holds every change of the one before it
            generation = max(generation, self.generation)
            payload = pickle.dumps({"index": self._index, "ids": sorted(self._ids),
                                    "dimension": self.dimension, "generation": generation})
            self.generation = generation
        nonce = secrets.token_bytes(12)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            # private to the library's user from the start, as the rest of the data directory
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                f.write(nonce + self._aead.encrypt(nonce, payload, _AAD))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    # --- changes and queries -----------------------------------------------------------

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if not ids:
            return
        with self._lock:
            needed = self._index.get_current_count() + len(ids)
            if needed > self._index.get_max_elements():
                self._index.resize_index(max(needed, 2 * self._index.get_max_elements()))
            self._index.add_items(vectors, ids)
            self._ids.update(ids)
            self._tell("added", list(ids), vectors)

    def remove(self, ids: list[int]) -> None:
        with self._lock:
            for chunk_id in ids:
                if chunk_id in self._ids:
                    self._index.mark_deleted(chunk_id)
                    self._ids.discard(chunk_id)
            self._tell("removed", list(ids), None)

    def follow(self, follower: Follower) -> None:
        """Tell `follower` of every change from now on (see `Follower`)."""
        with self._lock:
            self._followers.append(follower)

    def _tell(self, change: str, ids: list[int], vectors: np.ndarray | None) -> None:
        if vectors is not None and self._followers:
            vectors = np.array(vectors, dtype=np.float32)  # a copy: the caller's may change
        for follower in self._followers:
            follower(change, ids, vectors)

    def search(
        self, vector: np.ndarray, k: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """The k nearest chunk ids with their cosine similarity, best first."""
        with self._lock:
            candidates = self._ids if allowed is None else allowed & self._ids
            k = min(k, len(candidates))
            if k == 0:
                return []
            if allowed is not None and len(candidates) < _BRUTE_FORCE_BELOW:
                ids = np.fromiter(candidates, dtype=np.int64)
                vectors = np.asarray(self._index.get_items(ids), dtype=np.float32)
                sims = vectors @ vector
                order = np.argsort(-sims)[:k]
                return [(int(ids[i]), float(sims[i])) for i in order]
            self._index.set_ef(max(100, 2 * k))
            labels, distances = self._index.knn_query(
                vector, k=k, filter=None if allowed is None else candidates.__contains__
            )
            return [(int(l), 1.0 - float(d)) for l, d in zip(labels[0], distances[0])]

    def vectors(self, ids: list[int]) -> np.ndarray:
        """The stored (normalised) vectors of the given chunk ids (all held by the index)."""
        with self._lock:
            return np.asarray(self._index.get_items(ids), dtype=np.float32)

    def holding(self, ids: list[int]) -> list[int]:
        """Those of `ids` the index holds at this moment: a chunk being stored (in the
        vault, not yet here) or deleted (gone from here first) is left out."""
        with self._lock:
            return [i for i in ids if i in self._ids]
