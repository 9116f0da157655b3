"""The vault: keys, passphrases, wrong keys, migrations, and nothing readable on disk."""

import hashlib

import pytest
from keyring.backend import KeyringBackend

from engine.store import keys
from engine.errors import KeyUnavailableError, UserError, VaultCorruptError, WrongKeyError
from engine.store.vault import SCHEMA_VERSION, VAULT_FILE, Vault
from tests.conftest import PASSPHRASE


def _fingerprint(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def test_new_vault_with_passphrase_reopens(tmp_path):
    vault = Vault.open(tmp_path, lambda new: PASSPHRASE, kdf_log2_n=12, prefer="passphrase")
    with vault.transaction() as conn:
        vault.set_meta(conn, "probe", "42")
    vault.close()
    info = keys.read_key_info(tmp_path)
    assert info.method == "passphrase" and info.salt and PASSPHRASE not in info.to_json()
    vault = Vault.open(tmp_path, lambda new: PASSPHRASE)
    assert vault.get_meta("probe") == "42"
    assert vault.scalar("PRAGMA user_version") == SCHEMA_VERSION
    vault.close()


def test_the_library_is_private_to_its_user_new_or_old(tmp_path):
    data_dir = tmp_path / "library"
    Vault.open(data_dir, lambda new: PASSPHRASE, kdf_log2_n=12, prefer="passphrase").close()

    def modes():
        return {p.name: oct(p.stat().st_mode & 0o777) for p in [data_dir, *data_dir.iterdir()]}

    assert set(modes().values()) <= {"0o700", "0o600"} and modes()["library"] == "0o700"
    assert modes()["key.json"] == modes()["vault.db"] == "0o600"
    data_dir.chmod(0o755)  # as an older Enclave left it
    for path in data_dir.iterdir():
        path.chmod(0o644)
    Vault.open(data_dir, lambda new: PASSPHRASE).close()
    assert modes()["library"] == "0o700" and modes()["key.json"] == modes()["vault.db"] == "0o600"


def test_wrong_passphrase_is_refused_and_changes_nothing(tmp_path):
    Vault.open(tmp_path, lambda new: PASSPHRASE, kdf_log2_n=12, prefer="passphrase").close()
    before = _fingerprint(tmp_path)
    with pytest.raises(WrongKeyError, match="Wrong passphrase"):
        Vault.open(tmp_path, lambda new: "not the passphrase")
    assert _fingerprint(tmp_path) == before


def test_short_or_missing_passphrase_creates_nothing(tmp_path):
    with pytest.raises(UserError, match="at least 8"):
        Vault.open(tmp_path / "a", lambda new: "short", prefer="passphrase")
    with pytest.raises(KeyUnavailableError):
        Vault.open(tmp_path / "b", lambda new: None, prefer="passphrase")
    assert not list((tmp_path / "a").iterdir()) and not list((tmp_path / "b").iterdir())


def test_vault_without_key_file_or_damaged_key_file(tmp_path):
    Vault.open(tmp_path, lambda new: PASSPHRASE, kdf_log2_n=12, prefer="passphrase").close()
    (tmp_path / keys.KEY_FILE).write_text("{not json")
    with pytest.raises(VaultCorruptError):
        Vault.open(tmp_path, lambda new: PASSPHRASE)
    (tmp_path / keys.KEY_FILE).unlink()
    with pytest.raises(VaultCorruptError, match="no key.json"):
        Vault.open(tmp_path, lambda new: PASSPHRASE)


def test_newer_schema_is_refused(tmp_path):
    vault = Vault.open(tmp_path, lambda new: PASSPHRASE, kdf_log2_n=12, prefer="passphrase")
    with vault.transaction() as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    vault.close()
    with pytest.raises(UserError, match="newer than this Enclave"):
        Vault.open(tmp_path, lambda new: PASSPHRASE)


class MemoryKeyring(KeyringBackend):
    """Stands for the OS keyring (Secret Service, Keychain, Credential Locker)."""

    priority = 5

    def __init__(self):
        super().__init__()
        self.secrets = {}

    def get_password(self, service, username):
        return self.secrets.get((service, username))

    def set_password(self, service, username, password):
        self.secrets[service, username] = password

    def delete_password(self, service, username):
        del self.secrets[service, username]


def test_keyring_key_needs_no_passphrase(tmp_path):
    import keyring

    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        data = tmp_path / "data"
        Vault.open(data, lambda new: None).close()
        assert keys.read_key_info(data).method == "keyring"
        Vault.open(data, lambda new: None).close()
        backend.delete_password(keys.KEYRING_SERVICE, keys.read_key_info(data).keyring_id)
        with pytest.raises(KeyUnavailableError, match="not in this machine's keyring"):
            Vault.open(data, lambda new: None)
    finally:
        keyring.set_keyring(previous)


def test_no_plaintext_in_any_file_of_the_data_directory(service, corpus, config):
    distinctive = "inspected every 450 operating hours by a certified technician"
    report = service.library.ingest([corpus])
    assert len(report.ingested) == 6
    assert service.answers.search(distinctive, k=1)[0].document == "pumps.pdf"
    service._vault.rows("SELECT count(*) FROM chunks")  # WAL files still open: check them too
    needles = [distinctive, "certified technician", "pumps.pdf", "blue badge", "Harlow",
               "冷却塔的风机"]
    files = [p for p in config.data_dir.rglob("*") if p.is_file()]
    assert any(p.name == VAULT_FILE for p in files)
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            for encoding in ("utf-8", "utf-16-le"):
                assert needle.encode(encoding) not in data, f"{needle!r} readable in {path.name}"


def test_an_insecure_fallback_keyring_is_not_used(tmp_path):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(KeyUnavailableError):
            Vault.open(tmp_path, lambda new: None)  # asks for a passphrase instead
        Vault.open(tmp_path, lambda new: PASSPHRASE, kdf_log2_n=12).close()
        assert keys.read_key_info(tmp_path).method == "passphrase"
    finally:
        keyring.set_keyring(previous)


def test_files_written_while_the_library_is_in_use_are_private_too(service, tmp_path):
    (tmp_path / "note.txt").write_text("The boiler is inspected every spring.")
    service.library.ingest([tmp_path / "note.txt"])  # saves the index file anew
    data_dir = service.config.data_dir
    modes = {str(p.relative_to(data_dir)): oct(p.stat().st_mode & 0o777)
             for p in data_dir.rglob("*")}
    assert "index.hnsw.enc" in modes
    assert {m for p, m in modes.items() if (data_dir / p).is_file()} == {"0o600"}, modes
