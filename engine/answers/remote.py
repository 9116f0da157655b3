"""Generation on the site's own inference server: any OpenAI-compatible server on the LAN
(vLLM, llama.cpp's server, Ollama, TGI), streamed as server-sent events.

`RemoteGenerator` stands where the local `Generator` does. Both the answers from the
documents and plain chat go to `/v1/chat/completions`: the answerer's prompt is sent as one
user message, so that the server wraps it in its model's own chat template (which only
the server knows), and it is the one route every such server offers. Only standard
OpenAI fields are sent.

Tokens cannot be counted here with the server's tokenizer (servers differ in whether and
how they offer one), so prompts are budgeted with an estimate that errs on the long side:
one token per three bytes of UTF-8 (English runs about four bytes a token, a Chinese
character is three bytes and usually one token). A prompt budgeted so fits the context.

A server that cannot be reached, refuses the key, answers with an error, or sends nothing
for `timeout_s` seconds raises ModelUnavailableError saying which. After a failure the
server is left alone for RETRY_AFTER_S, so that the answers meanwhile (quotations, or the
local model's) do not each wait for it first. The API key is sent only as the bearer
token; it is never logged nor put in a message.
"""

from __future__ import annotations

import json
import ssl
import time
from typing import Callable, Iterator

import httpx

from ..errors import ModelUnavailableError

BYTES_PER_TOKEN = 3
RETRY_AFTER_S = 30.0
SERVER_KEY_META = "inference_server_key"
"""The vault's meta entry that keeps the server's API key (encrypted with the library)."""


def api_base(url: str) -> str:
    """The server's OpenAI base URL (ending in /v1) from what a person typed: with or
    without the /v1, with or without a trailing slash."""
    base = url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ModelUnavailableError(
            f"The inference server's address must start with http:// or https:// ({base!r}).")
    try:
        parsed = httpx.URL(base)
        parsed.port  # noqa: B018 - a port that is not a number raises here
    except (httpx.InvalidURL, ValueError) as exc:
        raise ModelUnavailableError(
            f"The inference server's address is not a valid URL ({base!r}: {exc}).") from None
    if parsed.userinfo:
        raise ModelUnavailableError("Give the inference server's key in its own field, not "
                                    "in the address.")
    return base if base.endswith("/v1") else base + "/v1"


def _is_down(status: int) -> bool:
    """Whether an HTTP status means the server cannot answer now (an error of its own, an
    address or key that is wrong, too busy), rather than refusing this one request."""
    return not 400 <= status < 500 or status in (401, 403, 404, 429)


class RemoteGenerator:
    def __init__(self, url: str, model: str = "", api_key: str = "", timeout_s: float = 30.0,
                 context_tokens: int = 2048, temperature: float = 0.1):
        """`model` "" : the first model the server lists. `context_tokens`: the served
        model's context, which the prompt is budgeted for."""
        self.base = api_base(url)
        self.model = model
        self.timeout_s = timeout_s
        self.context_tokens = context_tokens
        self.temperature = temperature
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # proxies from the environment are not used: the server is on the site's network
        self._http = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s),
                                  verify=ssl.create_default_context(), trust_env=False)
        self._reachable = False
        self._down_until = 0.0
        self._failure = ""

    # --- the server --------------------------------------------------------------------

    def check(self) -> list[str]:
        """Ask the server which models it serves (this checks the address, the key and
        the model name); the list, or ModelUnavailableError saying what is wrong."""
        served = self._served_models()
        if self.model and self.model not in served:
            raise self._failed(
                f"The inference server at {self.base} does not serve '{self.model}' (it "
                f"serves: {', '.join(served) or 'nothing'}): check the model name.")
        return served

    def load(self) -> None:
        """Make sure the server answers now (nothing loads here: the server holds the
        model); ModelUnavailableError when it does not."""
        self.check()

    def _served_models(self) -> list[str]:
        body = self._call(lambda: self._http.get(f"{self.base}/models"))
        try:
            served = [entry["id"] for entry in body["data"]]
        except (KeyError, TypeError) as exc:
            raise self._failed(f"The inference server at {self.base} did not list its models "
                               "as an OpenAI-compatible server does: check the address.") from exc
        if not self.model and served:
            self.model = served[0]
        return served

    def _call(self, request: Callable[[], httpx.Response]) -> dict:
        try:
            response = request()
        except (httpx.HTTPError, httpx.InvalidURL, RuntimeError) as exc:  # RuntimeError: closed
            raise self._failed(self._transport_problem(exc)) from exc
        if response.status_code != 200:
            raise self._failed(self._refusal(response), _is_down(response.status_code))
        try:
            body = response.json()
        except ValueError as exc:
            raise self._failed(f"The inference server at {self.base} did not answer in JSON: "
                               "check the address.") from exc
        self._reachable = True
        return body

    def _transport_problem(self, exc: Exception) -> str:
        if isinstance(exc, httpx.TimeoutException):
            return (f"The inference server at {self.base} did not answer within "
                    f"{self.timeout_s:g} s.")
        return (f"The inference server at {self.base} cannot be reached "
                f"({exc or type(exc).__name__}).")

    def _refusal(self, response: httpx.Response) -> str:
        """What a response other than 200 says, in a sentence."""
        try:  # {"error": {"message"}} (OpenAI), {"error": "..."}, {"detail"} (FastAPI)
            detail = response.json()
        except ValueError:
            detail = response.text[:200]
        if isinstance(detail, dict):
            detail = detail.get("error", detail)
        if isinstance(detail, dict):
            detail = detail.get("message") or detail.get("detail") or ""
        detail = " ".join(str(detail).split())  # a validation error may echo the prompt
        detail = f": {detail[:200]}{'…' if len(detail) > 200 else ''}" if detail else ""
        code = response.status_code
        if code in (401, 403):
            return (f"The inference server at {self.base} refused the API key (HTTP {code}"
                    f"{detail}): check the key in Settings.")
        if code == 404:
            return (f"The inference server at {self.base} answered 'not found' (HTTP 404"
                    f"{detail}): check the address (it usually ends in /v1) and the model name.")
        return f"The inference server at {self.base} answered HTTP {code}{detail}."

    def _failed(self, message: str, down: bool = True) -> ModelUnavailableError:
        """The error to raise; `down`: the server is not asked again for RETRY_AFTER_S."""
        if down:
            self._reachable = False
            self._failure = message
            self._down_until = time.monotonic() + RETRY_AFTER_S
        return ModelUnavailableError(message)

    @property
    def loaded(self) -> bool:
        """Whether the server answered the last time it was asked."""
        return self._reachable and time.monotonic() >= self._down_until

    def close(self) -> None:
        self._http.close()

    # --- tokens ------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """An estimate on the long side (see the module's docstring)."""
        return -(-len(text.encode()) // BYTES_PER_TOKEN)

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` estimated to fit in `max_tokens` tokens."""
        data = text.encode()
        if len(data) <= max_tokens * BYTES_PER_TOKEN:
            return text
        return data[:max(0, max_tokens) * BYTES_PER_TOKEN].decode(errors="ignore")

    # --- generation --------------------------------------------------------------------

    def stream(self, prompt: str, max_tokens: int, stop: list[str] | None = None,
               should_stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
        """Yield the server's answer to `prompt` (sent as the user's message)."""
        body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}
        return self._pieces({**body, "stop": stop} if stop else body, should_stop)

    def stream_chat(self, messages: list[dict], max_tokens: int,
                    should_stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
        """Yield the server's reply to a conversation, piece by piece, as it comes."""
        return self._pieces({"messages": messages, "max_tokens": max_tokens}, should_stop)

    def _pieces(self, body: dict, should_stop: Callable[[], bool]) -> Iterator[str]:
        if time.monotonic() < self._down_until:
            raise ModelUnavailableError(
                f"{self._failure} (Enclave asks it again within {RETRY_AFTER_S:g} s of that.)")
        if not self.model:
            self._served_models()
        try:
            with self._http.stream("POST", f"{self.base}/chat/completions",
                                   json={"model": self.model, **body, "stream": True,
                                         "temperature": self.temperature}) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._failed(self._refusal(response), _is_down(response.status_code))
                self._reachable = True
                for event in self._events(response):
                    choices = event.get("choices") or [{}]
                    text = (choices[0].get("delta") or {}).get("content")
                    if text:
                        yield text
                    if should_stop():
                        return
        except (httpx.HTTPError, httpx.InvalidURL, RuntimeError) as exc:  # RuntimeError: closed
            raise self._failed(self._transport_problem(exc)) from exc

    def _events(self, response: httpx.Response) -> Iterator[dict]:
        """The JSON objects of a server-sent event stream, up to its [DONE]."""
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue  # blank separators, comments (": ping"), event names
            data = line[len("data:"):].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except ValueError as exc:
                raise self._failed(f"The inference server at {self.base} sent something that "
                                   "is not an OpenAI-compatible stream.") from exc
            if isinstance(event, dict) and "error" in event:
                error = event["error"]
                message = error.get("message", error) if isinstance(error, dict) else error
                raise self._failed(f"The inference server at {self.base} stopped with an "
                                   f"error: {message}")
            if isinstance(event, dict):
                yield event


def with_fallback(start: Callable[[object], Iterator[str]], generator, fallback,
                  on_fallback: Callable[[str], None]) -> Iterator[str]:
    """The pieces of `start(generator)`; when that fails before its first piece (an
    inference server down) and there is a `fallback` (the local model), those of
    `start(fallback)`, after `on_fallback(why the first failed)`. A failure later, once
    pieces have been given out, is the caller's."""
    pieces = start(generator)
    try:
        first = next(pieces, None)
    except ModelUnavailableError as exc:
        if fallback is None:
            raise
        on_fallback(str(exc))
        pieces = start(fallback)
        try:
            first = next(pieces, None)
        except ModelUnavailableError as local:
            raise ModelUnavailableError(f"{exc} The local model cannot answer either: {local}") \
                from local
    try:
        if first is not None:
            yield first
            yield from pieces
    finally:
        pieces.close()  # the local model is held until its generation is closed
