"""`service.answers`: search, answers from the documents, plain chat, embeddings, and
the cited passages and pages a person opens from an answer.

Every answer is counted here once: its health figures, its cost, and its token usage
(`Answer.usage`), which the API reports as is.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable, Sequence

from ..answers import sources
from ..answers.answerer import Answer, Answerer, AnswerStream, distinct_pages
from ..answers.followups import FollowUpRewrite, Turn, split_conversation
from ..answers.grounding import Evidence, Relevance
from ..answers.remote import SERVER_KEY_META, RemoteGenerator, with_fallback
from ..config import EngineConfig
from ..errors import NotFoundError, UserError
from ..ops import cost
from ..ops.monitoring import Monitor
from ..records import SearchHit
from ..retrieval.cache import TTLCache, normalize_question
from ..retrieval.embedder import Embedder
from ..retrieval.retriever import HybridRetriever
from ..retrieval.search_workers import SearchWorkers
from ..store.catalogue import Catalogue
from ..store.vault import Vault
from . import scope
from .scope import Within

MAX_TEXTS_TO_EMBED = 256


class AnswerService:
    def __init__(self, config: EngineConfig, vault: Vault, catalogue: Catalogue,
                 embedder: Embedder, retriever: HybridRetriever, monitor: Monitor,
                 answerer: Callable[[], Answerer]):
        self._config, self._vault, self._catalogue = config, vault, catalogue
        self._embedder, self._retriever, self._monitor = embedder, retriever, monitor
        self._searcher: HybridRetriever | SearchWorkers = retriever
        """What runs searches: the retriever here, or search worker processes."""
        self._answerer = answerer  # the model loads on first use
        self._cache = TTLCache(config.answer_cache_entries, config.answer_cache_ttl_s)

    def search_in(self, searcher: HybridRetriever | SearchWorkers) -> None:
        """Run searches in `searcher` from now on: the retriever itself, or search worker
        processes (engine/retrieval/search_workers.py), which search as it does."""
        self._searcher = searcher

    def search_scope(self, collection: str | None, within: Within = None) -> list[int] | None:
        """The collection ids a search in `collection` covers (None: all); NotFoundError
        for an unknown collection. `within` (the collections a scoped API key may reach)
        bounds it: no collection named means all of those (that still exist), and naming
        another is NotAllowedError, whether it exists or not."""
        if collection is not None:
            scope.check(collection, within)
            return [self._catalogue.collection_id(collection)]
        if within is None:
            return None
        ids = []
        for name in sorted(scope.names(within)):
            try:
                ids.append(self._catalogue.collection_id(name))
            except NotFoundError:  # deleted since the key was made: nothing to search there
                pass
        return ids

    def search(self, query: str, k: int = 5, collection: str | None = None,
               document_ids: list[int] | None = None,
               timings: dict[str, float] | None = None, within: Within = None
               ) -> list[SearchHit]:
        """The k best passages for a query (dense and full-text, fused), in `collection`
        (None: all) and among `document_ids` (None: any), never outside `within` (see
        `search_scope`); `timings`, when given, receives the seconds of each stage."""
        if not query.strip():
            raise UserError("The query is empty.")
        if not 1 <= k <= 100:
            raise UserError("k must be between 1 and 100.")
        started, timings = time.perf_counter(), {} if timings is None else timings
        hits = self._searcher.search(query, k, self.search_scope(collection, within),
                                      document_ids, timings)
        self._monitor.observe("embed_query_seconds", timings["embed_query"])
        self._monitor.observe("retrieve_seconds", time.perf_counter() - started)
        return hits

    def standalone_question(self, question: str, turns: Sequence[Turn]) -> str:
        """What to search and answer for `question` asked after `turns` (the conversation
        before it, oldest first): a follow-up that needs them ("What pressure does it open
        at?") rewritten to stand alone, any other question as it is (see
        engine/answers/followups.py and `EngineConfig.followup_rewrite`)."""
        if not question.strip():
            raise UserError.said("question_empty")
        rewrite = FollowUpRewrite(self._config.followup_rewrite)
        generator = self._answerer().generator if rewrite.method == "model" else None
        return rewrite.standalone(question, turns, generator)

    @staticmethod
    def conversation_turns(messages: Sequence[tuple[str, str]]) -> tuple[str, list[Turn]]:
        """The question a conversation given whole as (role, text) pairs ends with (as an
        OpenAI client sends it) and the recent turns before it, for `standalone_question`.
        UserError when the messages do not end with a question (see
        `followups.split_conversation`)."""
        return split_conversation(messages)

    def ask(self, question: str, collection: str | None = None,
            document_ids: list[int] | None = None, within: Within = None,
            search_for: str | None = None) -> AnswerStream:
        """Answer from the documents (in `collection`, among `document_ids`, never outside
        `within`: see `search`); iterate the stream for text, then read `.answer`.
        `search_for`: the question's standalone form (see `standalone_question`), which is
        searched and answered instead; the answer's `searched_for` says what was."""
        if not question.strip():
            raise UserError.said("question_empty")
        asked, question = question, (search_for or "").strip() or question
        self.search_scope(collection, within)  # refused before a cached answer is looked up
        config = self._config
        allowed = scope.names(within)
        key = (normalize_question(question), collection, tuple(document_ids or ()),
               None if allowed is None else tuple(sorted(allowed)),
               config.generation_model, config.temperature, config.max_answer_tokens,
               self._vault.get_meta("index_generation", "0"))
        cached: Answer | None = self._cache.get(key)
        self._monitor.count("cache_hit" if cached is not None else "cache_miss")
        if cached is not None:
            answer = dataclasses.replace(cached, question=asked, searched_for=question,
                                         timings={"cache": 1.0}, usage={})
            self._monitor.count("answers")
            return AnswerStream(iter([answer.text]), lambda text: answer)
        started, cpu_started = time.monotonic(), time.process_time()
        hits, density = self._sources(question, collection, document_ids, within)
        stream = self._answerer().answer(question, hits, density,
                                         {"retrieve": time.monotonic() - started})

        def done(answer: Answer) -> None:
            self._account(answer, collection, time.process_time() - cpu_started)
            if not stream.cancelled and not answer.fallback:  # a stopped answer is not the
                self._cache.put(key, answer)  # answer, nor one made without the model

        def as_asked(answer: Answer) -> None:  # after `done`, which counts the prompt read
            answer.question, answer.searched_for = asked, question

        stream.on_done(done)
        stream.on_done(as_asked)
        return stream

    def _sources(self, question: str, collection: str | None, document_ids: list[int] | None,
                 within: Within = None) -> tuple[list[SearchHit], float]:
        """The passages an answer draws on, and how dense the library is around the question
        (both in the same scope)."""
        config = self._config
        # more than are used: a second chunk of a page already there gives way to another page
        hits = distinct_pages(self.search(question, 2 * config.sources_per_answer,
                                          collection, document_ids, within=within))
        hits = sources.whole_sentences(self._vault, hits[: config.sources_per_answer])
        density = self._retriever.density(question, config.density_neighbours,
                                          self.search_scope(collection, within), document_ids)
        return hits, density

    def relevance(self, question: str, collection: str | None = None,
                  within: Within = None) -> Relevance | None:
        """The relevance gate's signals for a question (None: nothing was found), to see
        why a question is answered or refused without running the model."""
        hits, density = self._sources(question, collection, None, within)
        return Evidence(question, hits, self._embedder).relevance(density) if hits else None

    def _account(self, answer: Answer, collection: str | None, cpu_s: float) -> None:
        """Health figures, token usage and cost of one answer made by the model."""
        timings = answer.timings
        self._monitor.count("answers")
        self._monitor.observe("answer_seconds",
                              timings.get("retrieve", 0) + timings.get("generate", 0))
        for stage in ("first_token", "generate"):
            if stage in timings:
                self._monitor.observe(f"{stage}_seconds", timings[stage])
        if "generate" not in timings:
            return  # refused before the model ran: nothing generated
        answer.usage = self._usage(answer.question + "".join(s.hit.text for s in answer.sources),
                                   answer.text)
        # the model's own speed, as its generator measured it (what it wrote, also what the
        # checks then dropped; not the answer as shown, nor from its first checked sentence)
        speed = getattr(self._answerer().generator, "last_tokens_per_second", None)
        if speed:
            self._monitor.gauge("tokens_per_second", speed)
        cost.record(self._vault, cpu_s, answer.usage["prompt_tokens"],
                    answer.usage["completion_tokens"], collection)

    def _usage(self, prompt: str, completion: str) -> dict[str, int]:
        generator = self._answerer().generator
        count = lambda text: generator.count_tokens(text) if text else 0  # noqa: E731
        return {"prompt_tokens": count(prompt), "completion_tokens": count(completion)}

    def chat(self, messages: list[dict], max_tokens: int | None = None) -> AnswerStream:
        """Plain chat with the model (the inference server's when one is configured, the
        local model standing in when it is down and that is allowed), no documents:
        `messages` as in OpenAI's API. No model to answer: ModelUnavailableError."""
        roles = {"system", "user", "assistant"}
        if not messages or any(m.get("role") not in roles or not isinstance(m.get("content"), str)
                               for m in messages):
            raise UserError("Messages need a role (system, user or assistant) and text content.")
        answerer = self._answerer()
        stream: AnswerStream
        stood_in: dict[str, str] = {}
        pieces = with_fallback(
            lambda generator: generator.stream_chat(
                messages, max_tokens or self._config.max_answer_tokens,
                should_stop=lambda: stream.cancelled),
            answerer.generator, answerer.fallback, lambda why: stood_in.update(
                fallback=f"{why} The local model answered instead.",
                fallback_model=answerer.fallback.name))
        question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        prompt = "".join(m["content"] for m in messages)
        stream = AnswerStream(pieces, lambda text: Answer(
            question, text.strip(), [], usage=self._usage(prompt, text), **stood_in),
            whole_pieces=False)
        return stream

    def set_inference_server_key(self, key: str) -> None:
        """Keep the inference server's API key in the library (encrypted with it; ""
        removes it). It is used from the next service (`reconfigured`) on, unless the
        configuration gives one."""
        with self._vault.transaction() as conn:
            if key:
                self._vault.set_meta(conn, SERVER_KEY_META, key)
            else:
                conn.execute("DELETE FROM meta WHERE key = ?", (SERVER_KEY_META,))

    @property
    def has_inference_server_key(self) -> bool:
        """Whether the library keeps an API key for the inference server."""
        return bool(self._vault.get_meta(SERVER_KEY_META, ""))

    def check_inference_server(self, url: str, model: str = "", key: str | None = None,
                               timeout_s: float = 10.0) -> list[str]:
        """The models an inference server serves (see `check_inference_server`), asked
        with `key`, or None: the key kept in the library."""
        if key is None:
            key = self._vault.get_meta(SERVER_KEY_META, "") or ""
        return check_inference_server(url, model, key, timeout_s)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embeddings of texts with the library's model (normalised, as the index uses)."""
        if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
            raise UserError("Give one or more non-empty texts to embed.")
        if len(texts) > MAX_TEXTS_TO_EMBED:
            raise UserError(f"At most {MAX_TEXTS_TO_EMBED} texts per request.")
        return self._embedder.encode(texts).tolist()

    def passage(self, document_id: int, start: int, end: int) -> sources.Passage:
        """A cited passage within its document's text, to show it highlighted."""
        return sources.passage(self._vault, document_id, start, end)

    def render_page(self, document_id: int, page: int, highlight: str = "",
                    zoom: float = 1.5) -> sources.RenderedPage:
        """A page of a PDF document or an image file as PNG, with a passage's words
        highlighted (on a page read with OCR, along the lines OCR found)."""
        found = self._vault.rows("SELECT path, kind FROM documents WHERE id = ?", (document_id,))
        if not found:
            raise NotFoundError.said("document_gone")
        path, kind = found[0]
        if kind not in sources.DRAWABLE_KINDS:
            raise UserError(f"{Path(path).name} is not a PDF: it has no pages to draw.")
        return sources.render_page(path, page, highlight, zoom,
                                   sources.recognised_words(self._vault, document_id, page))

    def cache_stats(self) -> dict[str, dict]:
        return {"answers": self._cache.stats(),
                "query_embeddings": self._embedder.query_cache.stats()}


def check_inference_server(url: str, model: str = "", key: str = "",
                           timeout_s: float = 10.0) -> list[str]:
    """Ask an OpenAI-compatible server which models it serves: the list, or
    ModelUnavailableError saying what is wrong (the address, the key, the model name, no
    answer in `timeout_s`)."""
    server = RemoteGenerator(url, model, key, timeout_s)
    try:
        return server.check()
    finally:
        server.close()
