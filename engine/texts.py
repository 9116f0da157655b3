"""What the engine says to a person, by stable code: the English text with {named} values.

An error the engine raises with `UserError.said(code, **values)` (or any subclass) carries
its `code` and `values` beside its English message. The front ends translate by the code,
not by the words: the desktop shows it in the window's language (ui/engine_texts.py holds
each code's translatable text), the LAN API sends the English message with the code
(`error.code`, a key that never changes when the words do), the command line prints the
English. An error raised with plain words has no code and is shown as it is.
"""

from __future__ import annotations

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
}


def english(code: str, **values) -> str:
    """The English text of `code` with its values filled in."""
    return TEXTS[code].format(**values)
