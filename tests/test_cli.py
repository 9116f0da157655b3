"""The `enclave` command line as a person and other tools run it: a fresh process each time."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE

ROOT = Path(__file__).parents[1]


def enclave(data_dir, *args, passphrase=PASSPHRASE, stdin=None):
    env = {**os.environ, "ENCLAVE_PASSPHRASE": passphrase, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          input=stdin)


def test_version_and_help(tmp_path):
    result = subprocess.run([sys.executable, "-m", "app", "--version"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("enclave 0.")
    result = subprocess.run([sys.executable, "-m", "app", "--help"], cwd=ROOT,
                            capture_output=True, text=True)
    for command in ("ingest", "search", "ask", "docs", "collections", "sync"):
        assert command in result.stdout


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A vault made through the CLI from the sample corpus, shared by the tests below."""
    from tests.conftest import make_docx, make_pdf

    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus"
    corpus.mkdir()
    make_pdf(corpus / "pumps.pdf", [
        "The primary cooling pump P-101 must be inspected every 450 operating hours.",
        "The relief valve on line 7 opens at a pressure of 12.5 bar."], heading="Plant")
    make_docx(corpus / "policy.docx", "Visitors", ["Visitors wear a blue badge."])
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    data = root / "data"
    result = enclave(data, "ingest", str(corpus), "--collection", "plant")
    assert result.returncode == 0, result.stderr
    assert "2 ingested (2 pages" in result.stdout and "1 failed" in result.stdout
    assert "broken.pdf" in result.stdout and "not a readable PDF" in result.stdout
    return data, corpus


def test_search_json_one_line_per_query(library, tmp_path):
    data, _ = library
    queries = tmp_path / "queries.txt"
    queries.write_text("relief valve pressure\n\nvisitor badge colour\n")
    result = enclave(data, "search", "--queries", str(queries), "--json", "-k", "2")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["relief valve pressure", "visitor badge colour"]
    top = lines[0]["results"][0]
    assert (top["document"], top["page"]) == ("pumps.pdf", 2) and "12.5 bar" in top["text"]
    assert {"score", "chunk_id"} <= top.keys() and len(lines[0]["results"]) == 2
    assert lines[1]["results"][0]["document"] == "policy.docx"
    assert lines[1]["results"][0]["page"] is None


def test_ask_json_and_text(library, tmp_path):
    data, _ = library
    questions = tmp_path / "q.txt"
    questions.write_text("At what pressure does the relief valve open?\n"
                         "What is the boiling point of mercury?\n")
    result = enclave(data, "ask", "--questions", str(questions), "--json", "--collection", "plant")
    assert result.returncode == 0, result.stderr
    answered, refused = [json.loads(line) for line in result.stdout.splitlines()]
    assert "12.5" in answered["answer"] and not answered["refused"]
    assert answered["sources"][0]["document"] == "pumps.pdf" and answered["sources"][0]["n"] == 1
    assert refused["refused"] and refused["kind"] == "refusal"
    assert not any(s["cited"] for s in refused["sources"])
    assert {"question", "answer", "kind", "sources", "refused"} <= answered.keys()

    result = enclave(data, "ask", "How often is pump P-101 inspected?")
    assert result.returncode == 0 and "450" in result.stdout
    assert "[1] pumps.pdf, p. 1" in result.stdout
    assert "Traceback" not in result.stderr and "Exception" not in result.stderr


def test_docs_collections_and_failures(library, tmp_path):
    data, corpus = library
    listed = enclave(data, "docs", "list", "--json")
    names = {json.loads(line)["name"] for line in listed.stdout.splitlines()}
    assert names == {"pumps.pdf", "policy.docx"}
    assert "broken.pdf" in enclave(data, "docs", "failed").stdout
    assert "plant  (2 documents)" in enclave(data, "collections", "list").stdout

    folder = tmp_path / "linked"
    folder.mkdir()
    (folder / "a.md").write_text("# Fire drill\n\nThe fire drill is in March.")
    assert enclave(data, "collections", "link", "drills", str(folder)).returncode == 0
    synced = enclave(data, "sync", "drills")
    assert "drills: Done: 1 ingested" in synced.stdout, synced.stderr
    deleted = enclave(data, "docs", "delete", "a.md")
    assert "Deleted a.md" in deleted.stdout
    assert enclave(data, "collections", "delete", "drills").returncode == 0


@pytest.mark.parametrize("args, message", [
    (["search", "   "], "The query is empty"),
    (["search", "pump", "-k", "0"], "k must be between"),
    (["search", "pump", "--collection", "nope"], "no collection named 'nope'"),
    (["search", "--queries", "/nonexistent/q.txt"], "Cannot read"),
    (["docs", "delete", "nothing.pdf"], "No document matches"),
    (["collections", "link", "x", "/nonexistent"], "is not a folder"),
    (["sync", "plant"], "not linked"),
])
def test_bad_input_is_one_clear_line_and_exit_2(library, args, message):
    data, _ = library
    result = enclave(data, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_wrong_passphrase_is_refused_and_changes_nothing(library):
    data, _ = library
    before = {p: p.read_bytes() for p in data.iterdir() if p.is_file()}
    result = enclave(data, "docs", "list", passphrase="not the passphrase")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "enclave: error: Wrong passphrase or key: the vault could not be decrypted."]
    assert {p: p.read_bytes() for p in data.iterdir() if p.is_file()} == before


def test_backup_list_verify_restore_from_the_command_line(library, tmp_path):
    data, _ = library
    folder = tmp_path / "usb"
    settings = Path(os.environ["ENCLAVE_CONFIG_DIR"]) / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('{"language": "zh_CN"}')
    made = enclave(data, "backup", "--to", str(folder))
    assert made.returncode == 0, made.stderr
    assert "Backed up and verified" in made.stdout and "0 old backup(s) pruned" in made.stdout
    listed = enclave(data, "backups", "list", "--in", str(folder)).stdout
    name = listed.split("\t")[0]
    assert name.startswith("enclave-backup-") and "key: passphrase" in listed
    assert "is intact" in enclave(data, "backups", "verify", str(folder / name)).stdout
    assert enclave(data, "backup").returncode == 2  # no destination given or set
    wrong = enclave(tmp_path / "new", "restore", str(folder / name), passphrase="not it at all")
    assert wrong.returncode == 2 and "Wrong passphrase" in wrong.stderr
    assert not (tmp_path / "new").exists() or not any((tmp_path / "new").iterdir())
    assert (folder / name / "settings.json").exists()  # the settings go along
    restored = enclave(tmp_path / "new", "restore", str(folder / name))
    assert restored.returncode == 0, restored.stderr
    assert not (tmp_path / "new" / "settings.json").exists()  # not into the data directory
    status = enclave(tmp_path / "new", "status").stdout
    assert "documents: " in status and "documents: 0" not in status


def test_the_import_queue_is_listed_and_a_file_skipped(open_service, config, tmp_path):
    stuck = tmp_path / "stuck.txt"
    stuck.write_text("A file an earlier run left in the queue.")
    other = tmp_path / "other.txt"
    other.write_text("The generator is tested every Monday.")
    service = open_service()
    service.library.enqueue([stuck, other], start=False)  # as an interrupted run leaves them
    service.close()
    assert enclave(config.data_dir, "docs", "queue").stdout.split() == [str(stuck), str(other)]
    skipped = enclave(config.data_dir, "docs", "skip", "stuck.txt")
    assert skipped.returncode == 0 and f"Skipped {stuck}" in skipped.stdout
    assert enclave(config.data_dir, "docs", "queue").stdout.split() == [str(other)]
    again = enclave(config.data_dir, "docs", "skip", "stuck.txt")
    assert again.returncode == 2 and "No file 'stuck.txt' is waiting" in again.stderr


def test_vault_rekey_from_the_command_line(tmp_path, monkeypatch):
    from engine.store.vault import Vault

    data, folder, new = tmp_path / "data", tmp_path / "usb", "the passphrase of today"
    (tmp_path / "notes.txt").write_text("The boiler room key hangs behind the blue door.")
    assert enclave(data, "ingest", str(tmp_path / "notes.txt")).returncode == 0
    old_backup = enclave(data, "backup", "--to", str(folder / "before"))
    assert old_backup.returncode == 0, old_backup.stderr
    before = next((folder / "before").iterdir())

    holder = Vault.open(data, lambda _: PASSPHRASE, access="write", program="the test")
    try:  # another program writes the library: refused at once, nothing asked
        busy = enclave(data, "vault", "rekey", stdin="")
        assert busy.returncode == 2 and "the test (pid" in busy.stderr
    finally:
        holder.close()
    monkeypatch.setenv("ENCLAVE_NEW_PASSPHRASE", "short")
    short = enclave(data, "vault", "rekey")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    monkeypatch.setenv("ENCLAVE_NEW_PASSPHRASE", new)
    changed = enclave(data, "vault", "rekey")
    monkeypatch.delenv("ENCLAVE_NEW_PASSPHRASE")
    assert changed.returncode == 0, changed.stderr
    assert "The library's key was changed on" in changed.stdout
    recovery = changed.stdout.splitlines()[2].strip()
    assert len(recovery.replace("-", "")) == 64
    assert "still need the old passphrase or the old recovery key" in changed.stdout

    wrong = enclave(data, "status", passphrase=PASSPHRASE)
    assert wrong.returncode == 2 and "Wrong passphrase" in wrong.stderr
    found = enclave(data, "search", "boiler room key", passphrase=new)
    assert found.returncode == 0 and "notes.txt" in found.stdout
    assert "index_repaired: None" in enclave(data, "status", passphrase=new).stdout

    older = enclave(data, "backups", "verify", str(before), passphrase=new)
    assert older.returncode == 2
    assert "This backup was made before the key was changed on" in older.stderr
    assert "give the passphrase or recovery key of that time" in older.stderr
    monkeypatch.setenv("ENCLAVE_BACKUP_PASSPHRASE", PASSPHRASE)  # the passphrase of that time
    verified = enclave(data, "backups", "verify", str(before), passphrase=new)
    assert verified.returncode == 0 and "is intact" in verified.stdout, verified.stderr
    monkeypatch.delenv("ENCLAVE_BACKUP_PASSPHRASE")
    assert enclave(data, "backup", "--to", str(folder / "after"), passphrase=new).returncode == 0
    after = next((folder / "after").iterdir())
    assert "is intact" in enclave(data, "backups", "verify", str(after), passphrase=new).stdout
    by_recovery = enclave(tmp_path / "elsewhere", "restore", str(after), "--recovery-key",
                          recovery, passphrase="")
    assert by_recovery.returncode == 0, by_recovery.stderr

    restored = enclave(data, "restore", str(before), passphrase=PASSPHRASE)
    assert restored.returncode == 0, restored.stderr
    assert "opens with the passphrase (or recovery key) of that time again" in restored.stdout
    assert "notes.txt" in enclave(data, "search", "boiler room key").stdout
