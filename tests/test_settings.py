"""The settings file under the environment, and bad settings refused with a clear reason."""

from __future__ import annotations

import json
import logging

import pytest

from app.settings import (SETTINGS_SCHEMA, Settings, SettingsError, changed_settings,
                          load_settings, save_settings, settings_file)

RETENTION = ("backup_keep_daily", "backup_keep_weekly", "backup_keep_monthly")


def write_settings(data) -> bytes:
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text(json.dumps(data) if not isinstance(data, str) else data)
    return settings_file().read_bytes()


def retention_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and "Backups panel" in r.getMessage()]


def test_saved_settings_come_back_and_the_environment_wins(tmp_path, monkeypatch):
    settings = changed_settings(load_settings(), language="zh_CN", temperature=0.3,
                                data_dir=tmp_path / "lib")
    save_settings(settings)
    stored = json.loads(settings_file().read_text())
    assert stored["schema"] == SETTINGS_SCHEMA == 3
    assert not set(RETENTION) & set(stored) and not set(RETENTION) & set(Settings.model_fields)
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
    ('{"mask_personal_data_at_ingest": "sometimes"}', "mask_personal_data_at_ingest"),
    ('{"inference_server_url": "gpu-box:8000"}', "starts with http"),
    ('{"inference_server_url": "http://gpu-box:8o00/v1"}', "not a valid URL"),
    ('{"inference_server_url": "http://admin:secret@gpu-box/v1"}', "in its own field"),
    ('{"schema": "two"}', "schema"),
    ('{"schema": 0}', "schema"),
])
def test_a_bad_settings_file_is_refused_with_its_reason(content, reason):
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text(content)
    with pytest.raises(SettingsError, match=reason):
        load_settings()


def test_masking_at_ingest_is_a_setting_the_engine_receives(monkeypatch):
    assert load_settings().engine_config().mask_personal_data_at_ingest is False
    monkeypatch.setenv("ENCLAVE_MASK_PERSONAL_DATA_AT_INGEST", "true")
    assert load_settings().engine_config().mask_personal_data_at_ingest is True


def test_ocr_is_on_unless_a_setting_switches_it_off(monkeypatch):
    assert load_settings().engine_config().ocr is True
    monkeypatch.setenv("ENCLAVE_OCR", "false")
    assert load_settings().engine_config().ocr is False


def test_a_bad_change_is_refused_and_nothing_is_saved():
    with pytest.raises(SettingsError, match="temperature"):
        changed_settings(load_settings(), temperature=9)
    assert not settings_file().exists()


def test_a_schema_1_file_loses_its_retention_with_a_warning_and_is_rewritten(caplog):
    write_settings({"schema": 1, "language": "zh_CN", "backup_keep_daily": 14,
                    "backup_keep_weekly": 4, "backup_keep_monthly": 12, "someday": "kept"})
    with caplog.at_level(logging.INFO, logger="app.settings"):
        settings = load_settings()
    assert settings.language == "zh_CN" and not hasattr(settings, "backup_keep_daily")
    [warning] = retention_warnings(caplog)
    assert "backup_keep_daily=14" in warning and "backup_keep_weekly" not in warning
    assert json.loads(settings_file().read_text()) == {"schema": 3, "language": "zh_CN",
                                                       "someday": "kept"}
    caplog.clear()
    assert load_settings() == settings and not retention_warnings(caplog)  # said once


def test_default_retention_is_dropped_without_a_word(caplog):
    write_settings({"schema": 1, **dict(zip(RETENTION, (7, 4, 12)))})
    load_settings()
    assert not retention_warnings(caplog)
    assert json.loads(settings_file().read_text()) == {"schema": 3}


def test_a_file_without_a_schema_is_schema_1(caplog):
    write_settings({"temperature": 0.5, "backup_keep_monthly": 24})
    assert load_settings().temperature == 0.5
    assert "backup_keep_monthly=24" in retention_warnings(caplog)[0]
    assert json.loads(settings_file().read_text()) == {"schema": 3, "temperature": 0.5}


def test_a_file_the_migrations_do_not_change_is_left_as_it_is():
    before = write_settings({"theme": "dark"})  # schema 1, but nothing to migrate
    assert load_settings().theme == "dark"
    assert settings_file().read_bytes() == before


def test_a_file_from_a_newer_enclave_is_refused_and_left_untouched():
    before = write_settings({"schema": 99, "language": "en", "new_thing": True})
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert str(settings_file()) in message and "written by a newer Enclave" in message
    assert "settings schema 99" in message and "knows up to 3" in message
    with pytest.raises(SettingsError, match="newer Enclave"):  # nor overwritten by a save
        save_settings(Settings())
    assert settings_file().read_bytes() == before
    assert list(settings_file().parent.iterdir()) == [settings_file()]


def test_a_schema_2_file_naming_the_old_default_embeddings_gets_int8():
    """Every field was written, so fp32 was named because it was the default then."""
    write_settings({"schema": 2, "embedding_model": "all-MiniLM-L6-v2", "theme": "dark"})
    assert load_settings().embedding_model == "all-MiniLM-L6-v2-int8"
    assert json.loads(settings_file().read_text()) == {
        "schema": 3, "embedding_model": "all-MiniLM-L6-v2-int8", "theme": "dark"}
    write_settings({"schema": 3, "embedding_model": "all-MiniLM-L6-v2"})  # chosen since
    assert load_settings().embedding_model == "all-MiniLM-L6-v2"


def test_a_schema_3_file_round_trips_unchanged():
    save_settings(changed_settings(load_settings(), theme="dark", api_port=9000))
    before = settings_file().read_bytes()
    loaded = load_settings()
    assert loaded.theme == "dark" and loaded.api_port == 9000
    assert settings_file().read_bytes() == before
    save_settings(loaded)
    assert settings_file().read_bytes() == before


def test_a_read_only_file_is_migrated_in_memory_and_left_alone(caplog):
    before = write_settings({"schema": 1, "language": "en", "backup_keep_weekly": 8})
    settings_file().chmod(0o444)
    try:
        assert load_settings().language == "en"
        assert settings_file().read_bytes() == before
        assert "backup_keep_weekly=8" in retention_warnings(caplog)[0]
    finally:
        settings_file().chmod(0o644)


def test_a_file_that_cannot_be_rewritten_still_loads(monkeypatch):
    before = write_settings({"schema": 1, "backup_keep_daily": 30, "theme": "light"})

    def refuse(*args):
        raise PermissionError("read-only file system")

    monkeypatch.setattr("app.settings.os.replace", refuse)
    assert load_settings().theme == "light"
    assert settings_file().read_bytes() == before
    assert list(settings_file().parent.iterdir()) == [settings_file()]  # no .tmp left


def test_a_retired_environment_variable_is_ignored_with_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("ENCLAVE_BACKUP_KEEP_DAILY", "30")
    monkeypatch.setenv("ENCLAVE_BACKUP_KEEP_MONTHLY", "not even a number")
    settings = load_settings()
    assert "backup_keep_daily" not in settings.model_dump()
    [warning] = retention_warnings(caplog)
    assert "ENCLAVE_BACKUP_KEEP_DAILY" in warning and "ENCLAVE_BACKUP_KEEP_MONTHLY" in warning
