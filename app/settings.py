"""Typed settings: the settings file, overridden by the environment (prefix ENCLAVE_).

The desktop app saves its preferences to `settings.json` in the config directory
(`ENCLAVE_CONFIG_DIR`, else the platform's); an environment variable wins over the
file. `Settings.engine_config()` turns them into the engine's EngineConfig. Secrets are
not settings: the passphrase is read separately and never stored, and the inference
server's API key comes from ENCLAVE_INFERENCE_SERVER_KEY or is kept in the library's vault
(the desktop's Settings put it there), never in the settings file.

The file records the schema it was written at. `load_settings` brings an older file up to
date with the numbered migrations in `MIGRATIONS` (each takes the stored dict and returns
the next schema's), rewrites it when that changed something and it can be written, and
refuses a file from a newer Enclave rather than guess at it.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Callable, Literal

import httpx
import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine import EngineConfig, UserError

log = logging.getLogger(__name__)

SERVER_KEY_ENV = "ENCLAVE_INFERENCE_SERVER_KEY"
"""The inference server's API key, for a server with no desktop to keep it in the vault."""

SETTINGS_SCHEMA = 3
"""Schema of the settings this version writes; a file without "schema" is schema 1."""


class SettingsError(UserError):
    """The settings file or a changed setting is not valid."""


def _default(name: str):
    """The engine's own default, so that it is written in one place."""
    return EngineConfig.__dataclass_fields__[name].default


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENCLAVE_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("Enclave", appauthor=False)),
        description="Where the vault, its index and assembled models live.")
    key_source: Literal["keyring", "passphrase"] = Field(
        "keyring", description="How a new vault keeps its key: the OS keyring when there is "
        "one (else a passphrase), or always a passphrase.")
    embedding_model: str = Field(
        _default("embedding_model"), description="Bundled model name (all-MiniLM-L6-v2-int8, "
        "or all-MiniLM-L6-v2 in fp32) or sentence-transformers folder.")
    model_cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("Enclave", appauthor=False)),
        description="Where models converted on this machine are kept (the embedding "
        "model's int8 graph, made on first use).")
    generation_model: str = Field(
        _default("generation_model"), description="Bundled model name or path of a GGUF file.")
    context_tokens: int = Field(_default("context_tokens"), ge=512, le=32768, description="Model context window.")
    max_answer_tokens: int = Field(_default("max_answer_tokens"), ge=16, le=4096, description="Longest answer.")
    temperature: float = Field(_default("temperature"), ge=0.0, le=2.0, description="Sampling temperature.")
    threads: int | None = Field(_default("threads"), ge=1, le=256, description="Generation threads.")
    relevance_gate: Literal["calibrated", "cosine"] = Field(
        _default("relevance_gate"), description="When answers say they don't know: "
        "'calibrated' (library density around the question and the best source sentence) "
        "or 'cosine' (the best source's similarity alone).")
    min_density: float = Field(_default("min_density"), ge=0.0, le=1.0,
                               description="Calibrated gate: mean similarity of the "
                               "question's nearest chunks below which answers refuse.")
    min_sentence_score: float = Field(_default("min_sentence_score"), ge=0.0, le=2.0,
                                      description="Calibrated gate: score the best source "
                                      "sentence must reach.")
    min_relevance: float = Field(_default("min_relevance"), ge=0.0, le=1.0,
                                 description="Cosine gate: below this similarity of the best "
                                 "source, answers say they don't know.")
    answer_check: Literal["quote", "refuse", "off"] = Field(
        _default("answer_check"), description="A generated answer its sources do not support "
        "is replaced by a quotation of them ('quote'), by a refusal ('refuse'), or shown "
        "unchecked ('off': for comparison only).")
    followup_rewrite: Literal["terms", "model", "off"] = Field(
        _default("followup_rewrite"), description="How a follow-up question that needs its "
        "conversation ('What pressure does it open at?') is made standalone before it is "
        "searched: 'terms' (the previous question's key terms carried into it), 'model' "
        "(the language model rewrites it) or 'off' (asked alone).")
    ocr: bool = Field(
        _default("ocr"), description="Read the text of scanned pages and image files "
        "(PNG, JPEG, TIFF) with OCR as they are imported; off: they are refused.")
    mask_personal_data_at_ingest: bool = Field(
        _default("mask_personal_data_at_ingest"), description="Replace e-mail addresses, "
        "phone, card and ID numbers in documents as they are imported: the library never "
        "holds them.")
    inference_server_url: str = Field(
        _default("inference_server_url"), description="An OpenAI-compatible server on the "
        "site's network (vLLM, llama.cpp's server, Ollama, TGI) that writes the answers and "
        "chats instead of the local model, e.g. http://gpu-box:8000/v1; empty: the local "
        "model. Its key: ENCLAVE_INFERENCE_SERVER_KEY, or kept in the library (Settings).")
    inference_server_model: str = Field(
        _default("inference_server_model"), description="The model name the inference "
        "server serves; empty: the first one it lists.")
    inference_server_timeout_s: float = Field(
        _default("inference_server_timeout_s"), ge=1, le=600, description="How long to wait "
        "for the inference server to connect and for each piece of an answer.")
    inference_server_fallback: bool = Field(
        _default("inference_server_fallback"), description="When the inference server "
        "cannot be reached or does not answer in time, the local model answers; off: the "
        "answer is a quotation of the passages, saying why.")
    api_enabled: bool = Field(False, description="Serve the LAN API while the desktop app runs.")
    api_host: str = Field("127.0.0.1", description="Address the LAN API listens on; "
                          "0.0.0.0 (or this machine's LAN address) serves other machines.")
    api_port: int = Field(8765, ge=1, le=65535, description="Port of the LAN API.")
    api_requests_per_minute: int = Field(600, ge=1, le=100_000, description="Per API key.")
    api_concurrent_generations: int = Field(2, ge=1, le=64, description="Per API key, "
                                            "waiting or running.")
    api_queue_length: int = Field(32, ge=1, le=1024, description="Generations that may wait.")
    api_max_upload_mb: int = Field(100, ge=1, le=2048, description="Largest upload request.")
    api_tls_cert: Path | None = Field(None, description="PEM certificate: serve HTTPS.")
    api_tls_key: Path | None = Field(None, description="PEM private key of the certificate.")
    answer_cache_ttl_s: float = Field(_default("answer_cache_ttl_s"), ge=0, le=30 * 86400,
                                      description="How long a cached answer is reused (0: never).")
    query_cache_ttl_s: float = Field(_default("query_cache_ttl_s"), ge=0, le=30 * 86400,
                                     description="How long a query's embedding is reused.")
    backup_dir: Path | None = Field(None, description="Where backups are written (an "
                                    "external drive or a network share).")
    language: Literal["system", "en", "zh_CN"] = Field(
        "system", description="Language of the desktop app; 'system' follows the locale.")
    theme: Literal["system", "light", "dark"] = Field(
        "system", description="Colours of the desktop app; 'system' follows the system.")

    @field_validator("inference_server_url")
    @classmethod
    def _http_address(cls, url: str) -> str:
        url = url.strip()
        if not url:
            return url
        if not url.startswith(("http://", "https://")):
            raise ValueError("the inference server's address starts with http:// or https://")
        try:
            parsed = httpx.URL(url)
            parsed.port  # noqa: B018 - a port that is not a number raises here
        except (httpx.InvalidURL, ValueError) as exc:
            raise ValueError(f"the inference server's address is not a valid URL ({exc})") \
                from None
        if parsed.userinfo:
            raise ValueError("give the inference server's key in its own field, not in the "
                             "address")
        return url

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            data_dir=self.data_dir.expanduser().resolve(),
            embedding_model=self.embedding_model,
            model_cache_dir=self.model_cache_dir.expanduser(),
            generation_model=self.generation_model,
            context_tokens=self.context_tokens,
            max_answer_tokens=self.max_answer_tokens,
            temperature=self.temperature,
            threads=self.threads,
            relevance_gate=self.relevance_gate,
            min_density=self.min_density,
            min_sentence_score=self.min_sentence_score,
            min_relevance=self.min_relevance,
            answer_check=self.answer_check,
            followup_rewrite=self.followup_rewrite,
            inference_server_url=self.inference_server_url,
            inference_server_model=self.inference_server_model,
            inference_server_key=os.environ.get(SERVER_KEY_ENV, ""),
            inference_server_timeout_s=self.inference_server_timeout_s,
            inference_server_fallback=self.inference_server_fallback,
            ocr=self.ocr,
            mask_personal_data_at_ingest=self.mask_personal_data_at_ingest,
            answer_cache_ttl_s=self.answer_cache_ttl_s,
            query_cache_ttl_s=self.query_cache_ttl_s,
        )


def config_dir() -> Path:
    return Path(os.environ.get("ENCLAVE_CONFIG_DIR")
                or platformdirs.user_config_dir("Enclave", appauthor=False))


def settings_file() -> Path:
    return config_dir() / "settings.json"


def _readable(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}"
                     for e in error.errors())


# --- migrations ----------------------------------------------------------------------

_BACKUP_RETENTION = {"backup_keep_daily": 7, "backup_keep_weekly": 4,
                     "backup_keep_monthly": 12}
"""Schema 1's retention settings and their defaults; schema 2 keeps retention in the
vault's backup plan (engine/store/backup_plan.py), edited in the desktop's Backups panel."""

_RETENTION_MOVED = ("backup retention is now set in the Backups panel of the desktop app "
                    "(the backup plan kept in the library)")


def _is_default(value, default: int) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return float(str(value).strip()) == default
    except ValueError:
        return False


def _drop_backup_retention(data: dict) -> dict:
    """1 -> 2: the backup_keep_* settings are gone; say so if one was not the default."""
    kept = {name: data[name] for name in _BACKUP_RETENTION if name in data}
    changed = {name: value for name, value in kept.items()
               if not _is_default(value, _BACKUP_RETENTION[name])}
    if changed:
        values = ", ".join(f"{name}={value!r}" for name, value in changed.items())
        log.warning("The settings file held %s, which no longer take effect: %s; set the "
                    "retention there if you need these values.", values, _RETENTION_MOVED)
    return {name: value for name, value in data.items() if name not in _BACKUP_RETENTION}


def _int8_embeddings(data: dict) -> dict:
    """2 -> 3: the bundled embedding model became int8 by default; a file written before
    names the fp32 one because it was the only one (every field is written), not by choice.
    A library embedded in fp32 keeps fp32 all the same (the engine sees to that)."""
    if data.get("embedding_model") == "all-MiniLM-L6-v2":
        data["embedding_model"] = _default("embedding_model")
    return data


MIGRATIONS: dict[int, Callable[[dict], dict]] = {
    2: _drop_backup_retention,
    3: _int8_embeddings,
}
"""The migration to schema N, keyed by N, taking and returning the stored dict (without
"schema"); applied in order from the file's schema + 1. A new schema adds one here."""

assert sorted(MIGRATIONS) == list(range(2, SETTINGS_SCHEMA + 1)), "a migration is missing"


def _file_schema(stored: dict, path: Path) -> int:
    schema = stored.get("schema", 1)
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        raise SettingsError(f"{path}: 'schema' is {schema!r}, not a schema number; "
                            "fix or delete it.")
    if schema > SETTINGS_SCHEMA:
        raise _newer_enclave(path, schema)
    return schema


def _newer_enclave(path: Path, schema: int) -> SettingsError:
    return SettingsError(f"{path} was written by a newer Enclave (settings schema {schema}; "
                         f"this version knows up to {SETTINGS_SCHEMA}); update Enclave, or "
                         "move the file aside to start from defaults.")


def _migrated(stored: dict, path: Path) -> dict:
    """The stored settings brought up to SETTINGS_SCHEMA: a new dict, "schema" first."""
    schema = _file_schema(stored, path)
    data = {name: value for name, value in stored.items() if name != "schema"}
    for version in range(schema + 1, SETTINGS_SCHEMA + 1):
        data = MIGRATIONS[version](dict(data))
    return {"schema": SETTINGS_SCHEMA, **data}


def _writable(path: Path) -> bool:
    """Whether the file may be rewritten: not marked read-only (even for root) and writable."""
    mode = path.stat().st_mode
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(path, os.W_OK)


def _rewrite_migrated(path: Path, stored: dict, data: dict) -> None:
    """Store the migrated settings if that changed more than the schema number and the
    file can be written; a read-only file (or folder) stays as it is and loads anyway."""
    if ({k: v for k, v in stored.items() if k != "schema"}
            == {k: v for k, v in data.items() if k != "schema"}):
        return
    try:
        if not _writable(path):
            log.info("%s is read-only: its settings were updated to schema %d in memory "
                     "only.", path, SETTINGS_SCHEMA)
            return
        _write_json(path, data)
    except OSError as exc:
        log.info("Could not store the settings updated to schema %d in %s (%s); they were "
                 "updated in memory.", SETTINGS_SCHEMA, path, exc)
    else:
        log.info("Updated %s to settings schema %d.", path, SETTINGS_SCHEMA)


def _warn_about_retired_environment() -> None:
    names = [f"ENCLAVE_{name.upper()}" for name in _BACKUP_RETENTION
             if f"ENCLAVE_{name.upper()}" in os.environ]
    if names:
        log.warning("%s %s ignored: %s.", ", ".join(names),
                    "is" if len(names) == 1 else "are", _RETENTION_MOVED)


# --- the file ----------------------------------------------------------------------

def _read(path: Path) -> dict:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(stored, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} is not valid JSON ({exc}); fix or delete it.") from exc
    return stored


def load_settings(path: Path | None = None) -> Settings:
    """Settings from the file (if any, migrated to this schema) under the environment;
    SettingsError if invalid or written by a newer Enclave (the file is then left as is)."""
    path = path or settings_file()
    _warn_about_retired_environment()
    stored: dict = {}
    data: dict = {}
    if path.exists():
        stored = _read(path)
        data = _migrated(stored, path)
    values = {name: value for name, value in data.items() if name in Settings.model_fields
              and f"ENCLAVE_{name.upper()}" not in os.environ}
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise SettingsError(f"{path}: {_readable(exc)}") from exc
    if stored:
        _rewrite_migrated(path, stored, data)
    return settings


def changed_settings(settings: Settings, **changes) -> Settings:
    """A copy with some fields changed, validated; SettingsError says what is wrong."""
    try:
        return Settings.model_validate({**settings.model_dump(), **changes})
    except ValidationError as exc:
        raise SettingsError(_readable(exc)) from exc


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings file atomically; SettingsError rather than overwrite a file
    written by a newer Enclave (its settings would be lost)."""
    path = path or settings_file()
    schema = _existing_schema(path)
    if schema is not None and schema > SETTINGS_SCHEMA:
        raise _newer_enclave(path, schema)
    _write_json(path, {"schema": SETTINGS_SCHEMA, **settings.model_dump(mode="json")})


def _existing_schema(path: Path) -> int | None:
    """The schema number of the file there, None if none can be read (a missing or broken
    file is written over, as before)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    schema = stored.get("schema", 1) if isinstance(stored, dict) else None
    return schema if isinstance(schema, int) and not isinstance(schema, bool) else None
