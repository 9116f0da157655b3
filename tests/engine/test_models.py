"""Adding a GGUF model from disk: copied whole, with its checksum, or refused."""

from __future__ import annotations

import hashlib

import pytest

from engine.errors import ModelUnavailableError
from engine.models import generation_model_file, import_gguf


def test_a_gguf_file_is_copied_with_its_checksum(tmp_path, config):
    source = generation_model_file(config.generation_model, tmp_path)
    steps = []
    target = import_gguf(source, tmp_path / "models", lambda done, total: steps.append(done))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest
    assert (tmp_path / "models" / (target.name + ".sha256")).read_text().startswith(digest)
    assert steps[-1] == source.stat().st_size
    assert generation_model_file(str(target), tmp_path) == target
    assert not list((tmp_path / "models").glob("*.part"))


def test_a_file_that_is_not_gguf_is_refused_and_nothing_is_left(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelUnavailableError, match="not a GGUF"):
        import_gguf(fake, tmp_path / "models")
    with pytest.raises(ModelUnavailableError, match="not a file"):
        import_gguf(tmp_path / "missing.gguf", tmp_path / "models")
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
