"""Typed settings: the settings file, overridden by the environment (prefix ENCLAVE_).

The desktop app saves its preferences to `settings.json` in the config directory
(`ENCLAVE_CONFIG_DIR`, else the platform's); an environment variable wins over the
file. `Settings.engine_config()` turns them into the engine's EngineConfig. Secrets are
not settings: the passphrase is read separately and never stored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.config import EngineConfig
from engine.errors import UserError

SETTINGS_SCHEMA = 1


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
        _default("embedding_model"), description="Bundled model name or sentence-transformers folder.")
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
    backup_keep_daily: int = Field(7, ge=1, le=366, description="Daily backups kept.")
    backup_keep_weekly: int = Field(4, ge=0, le=520, description="Weekly backups kept.")
    backup_keep_monthly: int = Field(12, ge=0, le=1200, description="Monthly backups kept.")
    language: Literal["system", "en", "zh_CN"] = Field(
        "system", description="Language of the desktop app; 'system' follows the locale.")
    theme: Literal["system", "light", "dark"] = Field(
        "system", description="Colours of the desktop app; 'system' follows the system.")

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            data_dir=self.data_dir.expanduser().resolve(),
            embedding_model=self.embedding_model,
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


def load_settings(path: Path | None = None) -> Settings:
    """Settings from the file (if any) under the environment; SettingsError if invalid."""
    path = path or settings_file()
    stored: dict = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(stored, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path} is not valid JSON ({exc}); fix or delete it.") from exc
    values = {name: value for name, value in stored.items() if name in Settings.model_fields
              and f"ENCLAVE_{name.upper()}" not in os.environ}
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(f"{path}: {_readable(exc)}") from exc


def changed_settings(settings: Settings, **changes) -> Settings:
    """A copy with some fields changed, validated; SettingsError says what is wrong."""
    try:
        return Settings.model_validate({**settings.model_dump(), **changes})
    except ValidationError as exc:
        raise SettingsError(_readable(exc)) from exc


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings file atomically."""
    path = path or settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"schema": SETTINGS_SCHEMA, **settings.model_dump(mode="json")}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
