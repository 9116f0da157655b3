"""The engine's messages in the window's language.

An engine error raised with a code (engine/texts.py) is shown by its code: each code's
text is here, marked for translation with the same English words (a test checks that
the two agree), and filled with the error's values. An error without a code, or with one
not listed here, is shown in the engine's words.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def _texts() -> dict[str, str]:
    """Each code's text in the current language (looked up when shown: the language can
    change while the window is open)."""
    translate = QCoreApplication.translate
    return {
        "question_empty": translate("EngineTexts", "The question is empty."),
        "conversation_gone": translate("EngineTexts", "That conversation no longer exists."),
        "document_gone": translate("EngineTexts",
                                   "That document is no longer in the library."),
        "collection_unknown": translate("EngineTexts",
                                        "There is no collection named '{name}'."),
        "collection_exists": translate("EngineTexts",
                                       "A collection named '{name}' already exists."),
        "collection_name_length": translate(
            "EngineTexts", "A collection name must have 1 to 100 characters."),
        "passphrase_too_short": translate(
            "EngineTexts", "The passphrase must have at least {length} characters."),
        "context_too_long": translate(
            "EngineTexts", "The text is too long for the model's context of {tokens} tokens: "
                           "ask a shorter question, or send fewer or shorter messages."),
        "messages_without_question": translate(
            "EngineTexts", "The messages hold no question: the last message must have the "
                           "role user."),
        "messages_end_with_other_role": translate(
            "EngineTexts", "The last message must be the user's question, not a message "
                           "with the role {role}."),
        "messages_system_late": translate(
            "EngineTexts", "System messages come first, before the conversation's questions "
                           "and answers."),
        "vault_wrong_key": translate(
            "EngineTexts", "Wrong passphrase or key: the vault could not be decrypted."),
        "vault_wrong_key_key_changing": translate(
            "EngineTexts", "Wrong passphrase or key: the vault could not be decrypted (a "
                           "change of its key was interrupted: the old or the new passphrase "
                           "opens it)."),
        "backup_wrong_key": translate(
            "EngineTexts", "Wrong passphrase or recovery key for this backup."),
        "rekey_wrong_passphrase": translate(
            "EngineTexts", "That is not the library's current passphrase: nothing was "
                           "changed."),
        "model_not_loaded": translate(
            "EngineTexts", "The language model {name} could not be loaded ({reason})."),
        "library_closed": translate(
            "EngineTexts", "This library is closed: open it again to import."),
        # why a file was not imported
        "file_missing": translate(
            "EngineTexts", "no such file or folder"),
        "file_unsupported_type": translate(
            "EngineTexts", "unsupported file type '{suffix}'"),
        "file_unreadable_path": translate(
            "EngineTexts", "cannot be read ({detail})"),
        "file_name_not_utf8": translate(
            "EngineTexts", "its name is not valid UTF-8: rename the file"),
        "file_not_regular": translate(
            "EngineTexts", "not a regular file"),
        "file_cannot_read": translate(
            "EngineTexts", "cannot read the file ({detail})"),
        "file_internal_error": translate(
            "EngineTexts", "internal error: {detail}"),
        "file_empty": translate(
            "EngineTexts", "empty file"),
        "file_too_large": translate(
            "EngineTexts", "file is {size_mib} MiB, over the {limit_mib} MiB limit"),
        "file_no_text": translate(
            "EngineTexts", "no text in the file"),
        "file_scanned_pdf_ocr_off": translate(
            "EngineTexts", "no text could be extracted: a scanned PDF needs OCR, which is "
                           "switched off (Settings, or ENCLAVE_OCR=true)"),
        "file_image_ocr_off": translate(
            "EngineTexts", "an image's text can only be read with OCR, which is switched off "
                           "(Settings, or ENCLAVE_OCR=true)"),
        "file_image_illegible": translate(
            "EngineTexts", "no text could be extracted: OCR found no legible text in the image"),
        "file_scanned_page_illegible": translate(
            "EngineTexts", "no text could be extracted: OCR found no legible text on its 1 "
                           "scanned page"),
        "file_scanned_pages_illegible": translate(
            "EngineTexts", "no text could be extracted: OCR found no legible text on its {pages}"
                           " scanned pages"),
        "file_image_blank": translate(
            "EngineTexts", "no text could be extracted: the image is blank"),
        "file_pages_blank": translate(
            "EngineTexts", "no text could be extracted: its pages are blank"),
        "file_nested_too_deeply": translate(
            "EngineTexts", "its structure is nested too deeply to read"),
        "file_docx_encrypted": translate(
            "EngineTexts", "the document is password-protected (or a legacy .doc)"),
        "file_pdf_encrypted": translate(
            "EngineTexts", "the PDF is password-protected"),
        "file_docx_unreadable": translate(
            "EngineTexts", "not a readable Word document ({detail})"),
        "file_pdf_unreadable": translate(
            "EngineTexts", "not a readable PDF (damaged, or not a PDF)"),
        "file_image_unreadable": translate(
            "EngineTexts", "not a readable image (damaged, or not an image)"),
        "file_pdf_damaged": translate(
            "EngineTexts", "damaged PDF ({detail})"),
        "file_image_damaged": translate(
            "EngineTexts", "damaged image ({detail})"),
        "file_page_ocr_failed": translate(
            "EngineTexts", "page {page} cannot be read with OCR ({detail})"),
        "file_ocr_data_missing": translate(
            "EngineTexts", "OCR cannot run: its language data (Tesseract's eng and chi_sim) is "
                           "missing from this installation"),
        "file_binary_text": translate(
            "EngineTexts", "binary data in a text file"),
        "file_too_many_blocks": translate(
            "EngineTexts", "it holds more than {limit} paragraphs: split the file"),
        "file_too_many_parts": translate(
            "EngineTexts", "it holds {parts} parts, over the {limit} a Word file may have"),
        "file_unpacks_too_large": translate(
            "EngineTexts", "it unpacks to {size_mib} MiB, over the {limit_mib} MiB limit (a zip "
                           "bomb, or split it)"),
        "file_too_many_paragraphs": translate(
            "EngineTexts", "it holds {paragraphs} paragraphs, over the {limit} a file may have: "
                           "split the file"),
        "file_too_many_elements": translate(
            "EngineTexts", "it holds more than {limit} HTML elements: split the file"),
        "file_too_many_pictures": translate(
            "EngineTexts", "{pages} of its pages are pictures, over the {limit} OCR may read in "
                           "one file: split it"),
        "file_too_many_passages": translate(
            "EngineTexts", "it makes {passages} passages, over the {limit} a file may: split the"
                           " file"),
        "file_too_slow": translate(
            "EngineTexts", "reading it took longer than {seconds} s: split the file"),
        "file_page_too_slow": translate(
            "EngineTexts", "reading it took longer than {seconds} s for one page: split the file"),
        "file_too_much_memory": translate(
            "EngineTexts", "reading it needs more than {memory_mib} MiB of memory: split the "
                           "file"),
        "file_reader_crashed": translate(
            "EngineTexts", "reading it crashed the reader (exit code {exit_code}): the file is "
                           "damaged or built to harm"),
        # backups
        "disk_full": translate(
            "EngineTexts", "The disk is full: free some space, then try again ({detail})."),
        "backup_no_folder": translate(
            "EngineTexts", "No backup folder is set: give one, or choose the backup plan's "
                           "folder (Settings → Backups)."),
        "backup_folder_missing": translate(
            "EngineTexts", "The backup folder {folder} is not there (is the drive connected?)."),
        "backup_plan_time": translate(
            "EngineTexts", "'{at}' is not a time of day (HH:MM, 00:00 to 23:59)."),
        "backup_plan_no_folder": translate(
            "EngineTexts", "Choose a folder for the backups."),
        "backup_plan_folder_missing": translate(
            "EngineTexts", "The backup folder {folder} does not exist (is the drive connected?)."),
        "backup_plan_keep": translate(
            "EngineTexts", "Keep 1-366 daily, 0-520 weekly and 0-1200 monthly backups."),
        "backup_not_a_backup": translate(
            "EngineTexts", "{folder} is not an Enclave backup (no {manifest})."),
        "backup_manifest_damaged": translate(
            "EngineTexts", "The manifest of {folder} is damaged: {detail}"),
        "backup_lacks_file": translate(
            "EngineTexts", "The backup {backup} lacks {name}."),
        "backup_file_damaged": translate(
            "EngineTexts", "{name} in the backup {backup} is damaged (its checksum does not "
                           "match the manifest)."),
        "backup_integrity_failed": translate(
            "EngineTexts", "The backup's vault fails its integrity check: {detail}"),
        "backup_counts_differ": translate(
            "EngineTexts", "The backup's counts {counts} differ from its manifest {expected}."),
        "recovery_key_format": translate(
            "EngineTexts", "A recovery key is 64 hexadecimal characters (dashes allowed)."),
        "backup_keyring_needs_recovery_key": translate(
            "EngineTexts", "This backup's key was kept in a keyring: restoring it needs the "
                           "recovery key shown when the library was created."),
        "backup_needs_passphrase": translate(
            "EngineTexts", "This backup needs the passphrase of its library."),
        "backup_keyring_gone": translate(
            "EngineTexts", "This backup's key was kept in a keyring, and this machine has none "
                           "now: restore it with `enclave restore --recovery-key`."),
        "backup_give_recovery_key": translate(
            "EngineTexts", "This backup's key was kept in a keyring: give its recovery key."),
        "backup_no_keyring": translate(
            "EngineTexts", "This machine has no keyring: choose a passphrase to lock the "
                           "restored library with."),
        "backup_older_key": translate(
            "EngineTexts", "This backup was made before the key was changed on {when}: give the "
                           "passphrase or recovery key of that time."),
        "backup_other_key": translate(
            "EngineTexts", "This backup was made under another key than the library's (a change "
                           "of key this library does not record, or another library): give the "
                           "passphrase or recovery key it was made with."),
    }


def shown(error: BaseException | str) -> str:
    """What to show for an engine error, or a reason it gave (a `texts.Said`, such as why a
    file was not imported): its code's text in the window's language, with its values, or
    its own words."""
    text = _texts().get(getattr(error, "code", ""))
    return text.format(**error.values) if text is not None else str(error)
