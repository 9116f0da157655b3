"""`service.vault_key`: how the library is locked, and changing its key.

Changing the key re-encrypts the vault and the vector index under a new key (a new
passphrase, or a new random key in the keyring), so that backups from then on are made
under it; a crash at any point leaves a library that opens with the old key or the new one
(`store/rekey.py`). Backups made before keep the old key: restoring one needs the
passphrase or recovery key of that time (`service.backups`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..retrieval.vector_index import VectorIndex
from ..store import keys, rekey
from ..store.rekey import KeyChange
from ..store.vault import Vault

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyChanged:
    method: str
    """"passphrase" or "keyring": how the library is unlocked (as before the change)."""
    changed_at: float
    recovery_key: str
    """The new recovery key, to write down: it opens the backups made from now on."""
    index_problem: str | None = None
    """Why the index file could not be rewritten under the new key (None: it was); it is
    then rebuilt from the vault when the library next opens, nothing is lost."""


class VaultKeyService:
    def __init__(self, vault: Vault, data_dir: Path, index: VectorIndex,
                 importing: Callable[[], bool], kdf_log2_n: int):
        self._vault, self._data_dir, self._index = vault, data_dir, index
        self._importing, self._kdf_log2_n = importing, kdf_log2_n

    @property
    def method(self) -> str:
        """"passphrase" or "keyring"."""
        info = keys.read_key_info(self._data_dir)
        return info.method if info else "unknown"

    def history(self) -> list[KeyChange]:
        """The library's changes of key, oldest first."""
        return rekey.history(self._vault)

    def change(self, new_passphrase: str | None = None,
               current_passphrase: str | None = None) -> KeyChanged:
        """Re-encrypt the library under a new key: `new_passphrase` (at least
        MIN_PASSPHRASE_LENGTH characters) for a passphrase library, a new random key kept
        in the keyring for a keyring library (give no passphrase). The vault, the index
        and the backups made from now on use it; the recovery key changes too.

        A front end that holds the library open (the desktop app) gives the
        `current_passphrase` the person typed, so that whoever finds the app unlocked
        cannot change the key: WrongKeyError if it is not the library's.

        Refused (LibraryInUseError) where another program writes the library or reads it
        at this moment, and (UserError) while an import runs. A refusal changes nothing."""
        self._vault.require_writable()
        if self._importing():
            raise UserError("An import is running: wait until it ends (or cancel it), then "
                            "change the key.")
        problem: list[str] = []

        def rewrite_index() -> None:
            try:
                self._index.change_key(self._vault.derived_key("hnsw-index"),
                                       int(self._vault.get_meta("index_generation", "0")))
            except Exception as exc:  # the vault holds every vector: rebuilt on next open
                log.exception("index not rewritten under the new key")
                problem.append(str(exc) or type(exc).__name__)

        changed_at = rekey.change_key(self._vault, self._data_dir, new_passphrase,
                                      self._kdf_log2_n, rewrite_index, current_passphrase)
        return KeyChanged(self.method, changed_at, self._vault.recovery_key(),
                          problem[0] if problem else None)
