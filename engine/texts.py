"""What the engine says to a person, by stable code: the English text with {named} values.

An error the engine raises with `UserError.said(code, **values)` (or any subclass) carries
its `code` and `values` beside its English message. The front ends translate by the code,
not by the words: the desktop shows it in the window's language (ui/engine_texts.py holds
each code's translatable text), the LAN API sends the English message with the code
(`error.code`, a key that never changes when the words do), the command line prints the
English. An error raised with plain words has no code and is shown as it is.

A reason that is kept and shown later (why a file was not imported, stored in the vault's
`ingest_failures` with its code and values) is a `Said`: a string, the English, that also
carries its `code` and `values`, so that every place that took the reason as words still
does, and a front end that knows the code shows it in its own language.
"""

from __future__ import annotations

import json

TEXTS: dict[str, str] = {
    "question_empty": "The question is empty.",
    "conversation_gone": "That conversation no longer exists.",
    "document_gone": "That document is no longer in the library.",
    "collection_unknown": "There is no collection named '{name}'.",
    "collection_exists": "A collection named '{name}' already exists.",
    "collection_name_length": "A collection name must have 1 to 100 characters.",
    "passphrase_too_short": "The passphrase must have at least {length} characters.",
    "context_too_long": "The text is too long for the model's context of {tokens} tokens: "
                        "ask a shorter question, or send fewer or shorter messages.",
    "messages_without_question": "The messages hold no question: the last message must have "
                                 "the role user.",
    "messages_end_with_other_role": "The last message must be the user's question, not a "
                                    "message with the role {role}.",
    "messages_system_late": "System messages come first, before the conversation's questions "
                            "and answers.",
    "vault_wrong_key": "Wrong passphrase or key: the vault could not be decrypted.",
    "vault_wrong_key_key_changing": "Wrong passphrase or key: the vault could not be "
                                    "decrypted (a change of its key was interrupted: the old "
                                    "or the new passphrase opens it).",
    "backup_wrong_key": "Wrong passphrase or recovery key for this backup.",
    "rekey_wrong_passphrase": "That is not the library's current passphrase: nothing was "
                              "changed.",
    "model_not_loaded": "The language model {name} could not be loaded ({reason}).",
    "library_closed": "This library is closed: open it again to import.",
    # why a file was not imported (engine/ingest); {detail} is a library's own words
    "file_missing": "no such file or folder",
    "file_unsupported_type": "unsupported file type '{suffix}'",
    "file_unreadable_path": "cannot be read ({detail})",
    "file_name_not_utf8": "its name is not valid UTF-8: rename the file",
    "file_not_regular": "not a regular file",
    "file_cannot_read": "cannot read the file ({detail})",
    "file_internal_error": "internal error: {detail}",
    "file_empty": "empty file",
    "file_too_large": "file is {size_mib} MiB, over the {limit_mib} MiB limit",
    "file_no_text": "no text in the file",
    "file_scanned_pdf_ocr_off": "no text could be extracted: a scanned PDF needs OCR, which "
                                "is switched off (Settings, or ENCLAVE_OCR=true)",
    "file_image_ocr_off": "an image's text can only be read with OCR, which is switched off "
                          "(Settings, or ENCLAVE_OCR=true)",
    "file_image_illegible": "no text could be extracted: OCR found no legible text in the "
                            "image",
    "file_scanned_page_illegible": "no text could be extracted: OCR found no legible text on "
                                   "its 1 scanned page",
    "file_scanned_pages_illegible": "no text could be extracted: OCR found no legible text on "
                                    "its {pages} scanned pages",
    "file_image_blank": "no text could be extracted: the image is blank",
    "file_pages_blank": "no text could be extracted: its pages are blank",
    "file_nested_too_deeply": "its structure is nested too deeply to read",
    "file_docx_encrypted": "the document is password-protected (or a legacy .doc)",
    "file_pdf_encrypted": "the PDF is password-protected",
    "file_docx_unreadable": "not a readable Word document ({detail})",
    "file_pdf_unreadable": "not a readable PDF (damaged, or not a PDF)",
    "file_image_unreadable": "not a readable image (damaged, or not an image)",
    "file_pdf_damaged": "damaged PDF ({detail})",
    "file_image_damaged": "damaged image ({detail})",
    "file_page_ocr_failed": "page {page} cannot be read with OCR ({detail})",
    "file_ocr_data_missing": "OCR cannot run: its language data (Tesseract's eng and "
                             "chi_sim) is missing from this installation",
    "file_binary_text": "binary data in a text file",
    "file_too_many_blocks": "it holds more than {limit} paragraphs: split the file",
    "file_too_many_parts": "it holds {parts} parts, over the {limit} a Word file may have",
    "file_unpacks_too_large": "it unpacks to {size_mib} MiB, over the {limit_mib} MiB limit "
                              "(a zip bomb, or split it)",
    "file_too_many_paragraphs": "it holds {paragraphs} paragraphs, over the {limit} a file "
                                "may have: split the file",
    "file_too_many_elements": "it holds more than {limit} HTML elements: split the file",
    "file_too_many_pictures": "{pages} of its pages are pictures, over the {limit} OCR may "
                              "read in one file: split it",
    "file_too_many_passages": "it makes {passages} passages, over the {limit} a file may: "
                              "split the file",
    "file_too_slow": "reading it took longer than {seconds} s: split the file",
    "file_page_too_slow": "reading it took longer than {seconds} s for one page: split the "
                          "file",
    "file_too_much_memory": "reading it needs more than {memory_mib} MiB of memory: split the "
                            "file",
    "file_reader_crashed": "reading it crashed the reader (exit code {exit_code}): the file "
                           "is damaged or built to harm",
    # backups (engine/store/backups.py, backup_plan.py, engine/facade/backups.py)
    "disk_full": "The disk is full: free some space, then try again ({detail}).",
    "backup_no_folder": "No backup folder is set: give one, or choose the backup plan's "
                        "folder (Settings → Backups).",
    "backup_folder_missing": "The backup folder {folder} is not there (is the drive "
                             "connected?).",
    "backup_plan_time": "'{at}' is not a time of day (HH:MM, 00:00 to 23:59).",
    "backup_plan_no_folder": "Choose a folder for the backups.",
    "backup_plan_folder_missing": "The backup folder {folder} does not exist (is the drive "
                                  "connected?).",
    "backup_plan_keep": "Keep 1-366 daily, 0-520 weekly and 0-1200 monthly backups.",
    "backup_not_a_backup": "{folder} is not an Enclave backup (no {manifest}).",
    "backup_manifest_damaged": "The manifest of {folder} is damaged: {detail}",
    "backup_lacks_file": "The backup {backup} lacks {name}.",
    "backup_file_damaged": "{name} in the backup {backup} is damaged (its checksum does not "
                           "match the manifest).",
    "backup_integrity_failed": "The backup's vault fails its integrity check: {detail}",
    "backup_counts_differ": "The backup's counts {counts} differ from its manifest "
                            "{expected}.",
    "recovery_key_format": "A recovery key is 64 hexadecimal characters (dashes allowed).",
    "backup_keyring_needs_recovery_key": "This backup's key was kept in a keyring: restoring "
                                         "it needs the recovery key shown when the library "
                                         "was created.",
    "backup_needs_passphrase": "This backup needs the passphrase of its library.",
    "backup_keyring_gone": "This backup's key was kept in a keyring, and this machine has "
                           "none now: restore it with `enclave restore --recovery-key`.",
    "backup_give_recovery_key": "This backup's key was kept in a keyring: give its recovery "
                                "key.",
    "backup_no_keyring": "This machine has no keyring: choose a passphrase to lock the "
                         "restored library with.",
    "backup_older_key": "This backup was made before the key was changed on {when}: give the "
                        "passphrase or recovery key of that time.",
    "backup_other_key": "This backup was made under another key than the library's (a change "
                        "of key this library does not record, or another library): give the "
                        "passphrase or recovery key it was made with.",
}


def english(code: str, **values) -> str:
    """The English text of `code` with its values filled in."""
    return TEXTS[code].format(**values)


class Said(str):
    """The English text of a code with its values (a `str`), carrying the `code` and the
    `values` for a front end to show it in its own language."""

    code: str
    values: dict

    def __new__(cls, code: str, **values) -> "Said":
        return cls.kept(code, values, english(code, **values))

    @classmethod
    def kept(cls, code: str, values: dict, text: str) -> "Said":
        """A reason as it was stored: its English `text` as it was said then."""
        said = str.__new__(cls, text)
        said.code, said.values = code, dict(values)
        return said

    def __reduce__(self):  # pickled to and from the reader process
        return (Said.kept, (self.code, self.values, str(self)))


def said_columns(text: str) -> tuple[str, str | None]:
    """How a reason is stored beside its English: its code ('' for words of their own) and
    its values as JSON."""
    if isinstance(text, Said):
        return text.code, json.dumps(text.values, ensure_ascii=False)
    return "", None


def reason(code: str, values: str | dict | None, text: str) -> str:
    """A reason read back from the vault: a `Said` when it was stored with a code this
    engine knows, else the words as they were stored."""
    if code and code in TEXTS:
        if isinstance(values, str):
            values = json.loads(values)
        return Said.kept(code, values or {}, text)
    return text
