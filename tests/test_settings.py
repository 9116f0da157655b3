"""The settings file under the environment, and bad settings refused with a clear reason."""

from __future__ import annotations

import json

import pytest

from app.settings import (SettingsError, changed_settings, load_settings, save_settings,
                          settings_file)


def test_saved_settings_come_back_and_the_environment_wins(tmp_path, monkeypatch):
    settings = changed_settings(load_settings(), language="zh_CN", temperature=0.3,
                                data_dir=tmp_path / "lib")
    save_settings(settings)
    assert json.loads(settings_file().read_text())["schema"] == 1
    loaded = load_settings()
    assert loaded.language == "zh_CN" and loaded.temperature == 0.3
    assert loaded.data_dir == tmp_path / "default-data"  # ENCLAVE_DATA_DIR is set by the tests
    monkeypatch.delenv("ENCLAVE_DATA_DIR")
    assert load_settings().data_dir == tmp_path / "lib"


@pytest.mark.parametrize("content, reason", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not valid JSON"),
    ('{"context_tokens": 5}', "context_tokens"),
    ('{"language": "klingon"}', "language"),
    ('{"answer_check": "trust me"}', "answer_check"),
    ('{"min_density": 1.5}', "min_density"),
])
def test_a_bad_settings_file_is_refused_with_its_reason(content, reason):
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text(content)
    with pytest.raises(SettingsError, match=reason):
        load_settings()


def test_a_bad_change_is_refused_and_nothing_is_saved():
    with pytest.raises(SettingsError, match="temperature"):
        changed_settings(load_settings(), temperature=9)
    assert not settings_file().exists()
