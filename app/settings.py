"""Typed settings read from the environment (prefix ENCLAVE_), turned into EngineConfig.

Secrets are not settings: the passphrase is read separately (ENCLAVE_PASSPHRASE or a
prompt) and never stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.config import EngineConfig


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
    min_relevance: float = Field(_default("min_relevance"), ge=0.0, le=1.0,
                                 description="Below this similarity, answers say they don't know.")

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            data_dir=self.data_dir.expanduser().resolve(),
            embedding_model=self.embedding_model,
            generation_model=self.generation_model,
            context_tokens=self.context_tokens,
            max_answer_tokens=self.max_answer_tokens,
            temperature=self.temperature,
            threads=self.threads,
            min_relevance=self.min_relevance,
        )
