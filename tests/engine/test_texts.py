"""Engine messages carry a stable code and their values beside the English words
(engine/texts.py), raised from the real paths that say them."""

from __future__ import annotations

import string

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
