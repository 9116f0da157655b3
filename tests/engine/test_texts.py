"""Engine messages carry a stable code and their values beside the English words
(engine/texts.py), raised from the real paths that say them."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from engine.answers.followups import split_conversation
from engine.errors import AlreadyExistsError, NotFoundError, UserError
from engine.texts import TEXTS, english


def test_every_text_names_only_values_it_is_given():
    for code, text in TEXTS.items():
        names = {field for _, field, _, _ in string.Formatter().parse(text) if field}
        assert english(code, **{name: "x" for name in names}), code
        assert code == code.lower() and " " not in code
    error = NotFoundError.said("collection_unknown", name="hr")
    assert (str(error), error.code, error.values) == (
        "There is no collection named 'hr'.", "collection_unknown", {"name": "hr"})
    assert isinstance(error, UserError)
    assert (UserError("Own words.").code, UserError("Own words.").values) == ("", {})


def test_the_engine_says_what_went_wrong_by_code(service):
    cases = [
        (lambda: service.answers.ask("   "), "question_empty", {}),
        (lambda: service.conversations.get(999), "conversation_gone", {}),
        (lambda: service.answers.passage(999, 0, 10), "document_gone", {}),
        (lambda: service.answers.search("pump", collection="hr"), "collection_unknown",
         {"name": "hr"}),
        (lambda: service.library.create_collection(""), "collection_name_length", {}),
        (lambda: split_conversation([("user", "Hi"), ("assistant", "Hello.")]),
         "messages_end_with_other_role", {"role": "assistant"}),
    ]
    for call, code, values in cases:
        with pytest.raises(UserError) as raised:
            call()
        assert (raised.value.code, raised.value.values) == (code, values)
        assert str(raised.value) == english(code, **values)
    service.library.create_collection("plant")
    with pytest.raises(AlreadyExistsError) as raised:
        service.library.create_collection("plant")
    assert (raised.value.code, raised.value.values) == ("collection_exists", {"name": "plant"})


def test_a_question_past_the_models_context_says_so_by_code(generator):
    with pytest.raises(UserError) as raised:
        list(generator.stream("pump " * 5000, 8))
    assert raised.value.code == "context_too_long"
    assert raised.value.values == {"tokens": generator.context_tokens}


def test_a_wrong_passphrase_and_a_model_that_cannot_load_say_so_by_code(tmp_path):
    from engine.answers.generator import Generator
    from engine.errors import ModelUnavailableError, WrongKeyError
    from engine.store.vault import Vault

    Vault.open(tmp_path / "data", lambda new: "right passphrase", kdf_log2_n=12).close()
    with pytest.raises(WrongKeyError) as raised:
        Vault.open(tmp_path / "data", lambda new: "wrong passphrase", kdf_log2_n=12)
    assert raised.value.code == "vault_wrong_key"

    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelUnavailableError) as raised:
        Generator(damaged).load()
    assert raised.value.code == "model_not_loaded"
    assert raised.value.values["name"] == "damaged.gguf" and raised.value.values["reason"]


def make_locked_pdf(path, text: str = "Secret pump settings."):
    """A real PDF that opens only with a password."""
    import pymupdf

    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), text)
    pdf.save(str(path), encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="user-pw",
             owner_pw="owner-pw")
    pdf.close()
    return path


def test_why_a_file_was_not_imported_is_kept_with_its_code(open_service, tmp_path):
    from engine.texts import Said

    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"text\x00\x01\x02")
    make_locked_pdf(folder / "locked.pdf")  # read in the reader process: the code comes back
    (folder / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    stray = tmp_path / "notes.xyz"
    stray.write_text("not a type Enclave reads")
    service = open_service()
    report = service.library.ingest([folder, stray])
    expected = {"empty.txt": ("file_empty", {}), "binary.txt": ("file_binary_text", {}),
                "locked.pdf": ("file_pdf_encrypted", {}),
                "locked.docx": ("file_docx_encrypted", {}),
                "notes.xyz": ("file_unsupported_type", {"suffix": ".xyz"})}
    said = {Path(path).name: reason for path, reason in report.failed}
    assert {name: (r.code, r.values) for name, r in said.items()} == expected
    for name, (code, values) in expected.items():  # the English is what it always was
        assert isinstance(said[name], Said) and said[name] == english(code, **values)
    service.close()

    stored = {Path(f.path).name: f.reason for f in open_service().library.failures()}
    assert {name: (r.code, r.values) for name, r in stored.items()} == {
        name: kept for name, kept in expected.items() if name != "notes.xyz"}  # never queued
    assert stored["empty.txt"] == "empty file"


def test_a_reason_stored_without_a_code_is_shown_in_its_words(service, tmp_path):
    """Failures recorded before reasons had codes (schema 9 and older) keep their words."""
    service.library.create_collection("old")
    with service._vault.transaction() as conn:
        collection_id = conn.execute("SELECT id FROM collections WHERE name = 'old'"
                                     ).fetchone()[0]
        conn.execute("INSERT INTO ingest_failures(path, collection_id, reason, failed_at) "
                     "VALUES('/old.pdf', ?, 'damaged PDF (old words)', 0)", (collection_id,))
    [failure] = service.library.failures()
    assert failure.reason == "damaged PDF (old words)"
    assert getattr(failure.reason, "code", "") == ""


def test_a_reason_read_in_the_reader_process_keeps_its_values(tmp_path):
    import pickle

    from engine.errors import OverBudgetError
    from engine.ingest.parsers import ReadLimits
    from engine.ingest.reader import ReaderProcess

    reader = ReaderProcess(ReadLimits(max_blocks=3), timeout_s=60, memory_mb=1024)
    try:
        path = tmp_path / "long.md"
        path.write_text("\n\n".join(f"Paragraph {n}." for n in range(10)))
        with pytest.raises(OverBudgetError) as raised:
            reader.read(path)
    finally:
        reader.close()
    assert (raised.value.code, raised.value.values) == ("file_too_many_blocks", {"limit": "3"})
    assert raised.value.reason.code == "file_too_many_blocks"
    again = pickle.loads(pickle.dumps(raised.value.reason))
    assert (again, again.code, again.values) == (raised.value.reason, "file_too_many_blocks",
                                                 {"limit": "3"})


def test_a_backups_failures_say_why_by_code_and_a_scheduled_ones_keep_it(open_service,
                                                                          tmp_path):
    import dataclasses

    from engine.errors import VaultCorruptError
    from engine.store import backups

    service = open_service()
    folder = service.backups.backup(tmp_path / "backups", "test").folder
    with pytest.raises(UserError) as raised:
        backups.backup_key(folder, recovery_key="not a key")
    assert raised.value.code == "recovery_key_format"
    (folder / "vault.db").write_bytes(b"damaged" * 100)
    with pytest.raises(VaultCorruptError) as raised:
        service.backups.verify(folder)
    assert (raised.value.code, raised.value.values) == (
        "backup_file_damaged", {"name": "vault.db", "backup": folder.name})
    with pytest.raises(VaultCorruptError) as raised:
        service.backups.verify(tmp_path)  # no manifest: not a backup
    assert raised.value.code == "backup_not_a_backup"
    with pytest.raises(UserError) as raised:
        service.backups.save_plan(dataclasses.replace(service.backups.plan(), at="25:99"))
    assert (raised.value.code, raised.value.values) == ("backup_plan_time", {"at": "25:99"})

    usb = tmp_path / "usb"
    usb.mkdir()
    service.backups.save_plan(dataclasses.replace(service.backups.plan(), enabled=True,
                                                  destination=str(usb)))
    usb.rename(tmp_path / "unplugged")
    result = service.backups.run_scheduled("test")
    assert not result.ok and result.error_code == "backup_folder_missing"
    assert result.error == english("backup_folder_missing", folder=str(usb))
    service.close()
    kept = open_service().backups.last_result()  # read back from the vault
    assert (kept.reason, kept.reason.code, kept.reason.values) == (
        result.error, "backup_folder_missing", {"folder": str(usb)})
