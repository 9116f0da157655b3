"""Local text generation with llama.cpp (llama-cpp-python), one request at a time.

The model loads on first use; a model that cannot be loaded (missing, damaged, too big
for the memory) raises ModelUnavailableError, and is tried again on the next use. A
llama context serves one generation at a time, so a lock is held for the whole of a
generation; tokens are yielded as they are produced and a generation stops early when its
cancel check says so.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ModelUnavailableError, UserError


class Generator:
    def __init__(self, model_path: Path | None, context_tokens: int = 2048,
                 threads: int | None = None, temperature: float = 0.1, missing: str = ""):
        """`model_path` None: there is no model file, and `missing` says why."""
        self.model_path = model_path
        self.missing = missing
        self.context_tokens = context_tokens
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.temperature = temperature
        self._llama = None
        self.last_tokens_per_second: float | None = None
        """How fast the last generation wrote, after its first token (None: none yet)."""
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()

    @property
    def llama(self):
        with self._load_lock:
            if self._llama is None:
                from llama_cpp import Llama

                from .llama_backends import load_cpu_backend

                if self.model_path is None:
                    raise ModelUnavailableError(self.missing or "There is no language model.")
                load_cpu_backend()
                try:
                    self._llama = Llama(
                        str(self.model_path), n_ctx=self.context_tokens,
                        n_threads=self.threads, n_threads_batch=self.threads, verbose=False,
                    )
                except (ValueError, RuntimeError, OSError, MemoryError) as exc:
                    raise ModelUnavailableError.said(
                        "model_not_loaded", name=self.model_path.name, reason=str(exc)) from exc
        return self._llama

    @property
    def name(self) -> str:
        """The model's file name."""
        return self.model_path.name if self.model_path is not None else "the local model"

    def load(self) -> None:
        """Load the model now (ModelUnavailableError if it cannot be)."""
        self.llama  # noqa: B018 - the property loads the model

    def close(self) -> None:
        """Free the model now (left to interpreter shutdown, llama.cpp's destructor fails)."""
        with self._load_lock, self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=False))

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` that fits in `max_tokens` tokens."""
        tokens = self.llama.tokenize(text.encode(), add_bos=False, special=False)
        if len(tokens) <= max_tokens:
            return text
        return self.llama.detokenize(tokens[:max(0, max_tokens)]).decode(errors="ignore")

    def stream(self, prompt: str, max_tokens: int, stop: list[str] | None = None,
               should_stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
        """Yield the completion of `prompt` piece by piece."""
        return self._locked_pieces(
            lambda: self.llama.create_completion(
                prompt, max_tokens=max_tokens, temperature=self.temperature, stream=True,
                stop=stop or [], repeat_penalty=1.1),
            lambda piece: piece["choices"][0]["text"], should_stop)

    def stream_chat(self, messages: list[dict], max_tokens: int,
                    should_stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
        """Yield the model's reply to a conversation, through the model's chat template."""
        return self._locked_pieces(
            lambda: self.llama.create_chat_completion(
                messages, max_tokens=max_tokens, temperature=self.temperature, stream=True,
                repeat_penalty=1.1),
            lambda piece: piece["choices"][0]["delta"].get("content"), should_stop)

    def _locked_pieces(self, start: Callable, text_of: Callable,
                       should_stop: Callable[[], bool]) -> Iterator[str]:
        """Hold the model for the whole of one generation, yielding its text pieces.

        A prompt longer than the context window is the asker's to shorten: a UserError."""
        with self._lock:
            pieces = start()
            first = last = 0.0
            written = -1  # llama.cpp streams one token a piece: those after the first
            try:
                for piece in pieces:
                    text = text_of(piece)
                    last = time.monotonic()  # (the caller may close this much later)
                    first, written = first or last, written + 1
                    if text:
                        yield text
                    if should_stop():
                        break
            except ValueError as exc:
                if "context window" not in str(exc):
                    raise
                raise UserError.said("context_too_long", tokens=self.context_tokens) from exc
            finally:
                pieces.close()
                if written > 0 and last > first:
                    self.last_tokens_per_second = written / (last - first)

    @property
    def loaded(self) -> bool:
        return self._llama is not None
