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
    }


def shown(error: BaseException) -> str:
    """What to show for an engine error: its code's text in the window's language, with its
    values, or its own words."""
    text = _texts().get(getattr(error, "code", ""))
    return text.format(**error.values) if text is not None else str(error)
