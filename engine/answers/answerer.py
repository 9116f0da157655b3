"""Answers that cannot mislead: checked against their sources, quoted, or refused.

`Answerer.answer` takes the retrieved passages (one per page), asks the relevance gate
whether they cover the question at all (`Gate`: how densely the library surrounds the
question, and how well the passages' best sentence answers it), and then
streams the model's answer sentence by sentence. Each sentence is held until it is
complete and checked against the sources (`grounding.Evidence.check`); a supported
sentence is released with the marker of its source, and the first unsupported one ends
the generation. An answer with no supported sentence becomes a quotation: the sentences
of the sources that best answer the question, verbatim, with their markers.

Every answer says how it was made: `kind` is "answer" (generated and checked), "quote"
(copied from the sources) or "refusal" (nothing relevant; the closest passages are
offered to read). The streamed text and the final answer's text are the same text.
When the language model cannot be loaded (missing, damaged, out of memory) the answer is
the quotation, with `fallback` saying why: a library stays searchable without its model.
With an inference server (`remote.RemoteGenerator`) that cannot answer, the local model
answers instead when it is the server's fallback (`fallback_model` names it), else the
answer is that quotation; a server that stops in the middle of an answer ends it there.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Iterator

from .. import pii
from ..errors import ModelUnavailableError
from ..retrieval.embedder import Embedder
from .generator import Generator
from . import prompt as prompts
from .grounding import Evidence, Relevance, Sentence, Verdict, is_chinese
from .remote import RemoteGenerator, with_fallback
from ..records import SearchHit

DONT_KNOW = "I don't know: the documents do not seem to cover this."
DONT_KNOW_ZH = "我不知道：文档中似乎没有这方面的内容。"
KINDS = ("answer", "quote", "refusal")
CHECKS = ("quote", "refuse", "off")
"""What happens to a generated answer no source supports: quoted instead, refused, or
(`off`, for comparison only) shown unchecked."""
GATES = ("calibrated", "cosine")
_REFUSAL = re.compile(r"\b(i (do not|don't|dont) know|not (mentioned|covered|stated|provided) in"
                      r"|(sources|documents) do not (say|mention|contain))|不知道", re.IGNORECASE)
_MARKER = re.compile(r"\[(\d{1,2})\]")
_ONLY_MARKERS = re.compile(r"^(\s*\[\d{1,2}\])*\s*$")
# A sentence ends at . ! ? and the markers right after it, before white space.
_BOUNDARY = re.compile(r"[.!?](?:\s?\[\d{1,2}\])*(?=\s)|[。！？](?:\[\d{1,2}\])*")
# Small models, done answering, go on to restate the answer or recite the sources.
# Stops count only once the answer has begun (a model may open with blank lines).
_STOPS = ("\n\n", "\nQuestion:", "\nSources:", "\nAnswer:", "\nThe answer is", "\n[")
_LEADING_STOPS = ("Question:", "Sources:", "Answer:")
CLOSEST_PASSAGES = 3



@dataclass(frozen=True)
class Source:
    n: int
    hit: SearchHit
    cited: bool = False
    """Whether the answer uses it (a refusal's closest passages are not cited)."""

    def to_json(self) -> dict:
        return {"n": self.n, "document": self.hit.document, "page": self.hit.page,
                "score": self.hit.score, "text": self.hit.text, "chunk_id": self.hit.chunk_id,
                "document_id": self.hit.document_id, "path": self.hit.path,
                "char_start": self.hit.char_start, "char_end": self.hit.char_end,
                "cited": self.cited}


@dataclass
class Answer:
    question: str
    text: str
    sources: list[Source]
    kind: str = "answer"
    """"answer" (generated, checked), "quote" (the sources' own words) or "refusal"."""
    timings: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    """Why the model's text was not used (a quote), or why nothing was (a refusal)."""
    usage: dict[str, int] = field(default_factory=dict)
    """Tokens the model read and wrote (`prompt_tokens`, `completion_tokens`): set when the
    stream ends; empty when the model did not run (a refusal, a cached answer)."""
    fallback: str = ""
    """Why the configured model did not write this answer: it could not be loaded
    (missing, damaged, out of memory) or its inference server did not answer. The answer
    is then a quotation of the passages that best answer the question, or, when the local
    model stood in for the server, that model's (see `fallback_model`); an answer a server
    stopped writing midway ends where it stopped."""
    fallback_model: str = ""
    """The local model that answered because the inference server could not ("": none)."""
    searched_for: str = ""
    """What was searched and answered: the question, or its standalone form when it was a
    follow-up that needed its conversation (engine/answers/followups.py)."""

    @property
    def refused(self) -> bool:
        return self.kind == "refusal"

    def masked(self) -> "Answer":
        """This answer with personal data masked in its text, what was searched, its
        sources' passages and the reason it fell back (a server's error may echo the
        prompt)."""
        return replace(self, text=pii.mask(self.text), searched_for=pii.mask(self.searched_for),
                       sources=[
            replace(s, hit=replace(s.hit, text=pii.mask(s.hit.text))) for s in self.sources],
            fallback=pii.mask(self.fallback) if self.fallback else self.fallback)

    @property
    def cited_sources(self) -> list[Source]:
        return [s for s in self.sources if s.cited]

    def to_json(self) -> dict:
        return {"question": self.question, "answer": self.text, "kind": self.kind,
                "refused": self.refused, "reason": self.reason, "fallback": self.fallback,
                "fallback_model": self.fallback_model,
                "searched_for": self.searched_for or self.question,
                "sources": [s.to_json() for s in self.sources],
                "timings": {k: round(v, 3) for k, v in self.timings.items()}}


def dont_know(question: str) -> str:
    """The refusal, in the question's language."""
    return DONT_KNOW_ZH if is_chinese(question) else DONT_KNOW


def distinct_pages(hits: list[SearchHit]) -> list[SearchHit]:
    """The hits without a second chunk of a page already there (the best one stays)."""
    seen, out = set(), []
    for hit in hits:
        key = (hit.document_id, hit.page) if hit.page is not None else ("chunk", hit.chunk_id)
        if key not in seen:
            seen.add(key)
            out.append(hit)
    return out


def format_quote(sentences: list[Sentence]) -> str:
    """Markdown block quotes, one paragraph per run of sentences from the same source."""
    paragraphs: list[tuple[int, list[str]]] = []
    for sentence in sentences:
        if paragraphs and paragraphs[-1][0] == sentence.source:
            paragraphs[-1][1].append(sentence.text)
        else:
            paragraphs.append((sentence.source, [sentence.text]))
    return "\n>\n".join(f"> {' '.join(texts)} [{n}]" for n, texts in paragraphs)


class StopMatcher:
    """Cuts generated text at the first stop string, skipping leading whitespace.

    Text that could be the start of a stop string is held back until it is not.
    """

    def __init__(self, stops: tuple[str, ...], leading_stops: tuple[str, ...] = ()):
        """`leading_stops` also stop the text when they open it (after no newline)."""
        self.stops = stops
        self.leading_stops = leading_stops
        self.stopped = False
        self._text = ""  # everything accepted so far
        self._sent = 0

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self._text = (self._text + piece).lstrip() if not self._text else self._text + piece
        cuts = [i for i in (self._text.find(s) for s in self.stops) if i >= 0]
        if self._text.startswith(self.leading_stops):
            cuts.append(0)
        if cuts:
            self.stopped = True
            safe = min(cuts)
        elif any(stop.startswith(self._text) for stop in self.leading_stops):
            safe = 0
        else:
            safe = len(self._text) - max(
                (n for s in self.stops for n in range(len(s) - 1, 0, -1)
                 if self._text.endswith(s[:n])), default=0)
        out, self._sent = self._text[self._sent:safe], max(self._sent, safe)
        return out

    def finish(self) -> str:
        out = "" if self.stopped else self._text[self._sent:]
        self._sent = len(self._text)
        return out




class SentenceBuffer:
    """Collects streamed text into whole sentences.

    A possible sentence end, or a marker not yet closed ("[1"), is held until the next
    piece tells what it is."""

    def __init__(self) -> None:
        self._text = ""

    def feed(self, piece: str) -> list[str]:
        self._text += piece
        sentences = []
        while (end := _BOUNDARY.search(self._text)) is not None:
            sentences.append(self._text[: end.end()])
            self._text = self._text[end.end():]
        return sentences

    def finish(self) -> list[str]:
        text, self._text = self._text, ""
        return [text] if text.strip() else []


def with_marker(sentence: str, verdict: Verdict, sources: int) -> str:
    """Drop markers naming no source; add the supporting source's to an unmarked sentence."""
    sentence = _MARKER.sub(lambda m: m.group() if 1 <= int(m.group(1)) <= sources else "",
                           sentence)
    if _MARKER.search(sentence) or verdict.source is None:
        return sentence
    body = sentence.rstrip()
    trailing = sentence[len(body):]
    marker = f" [{verdict.source}]"
    if body and body[-1] in ".!?。！？":
        return body[:-1] + marker + body[-1] + trailing
    return body + marker + trailing


@dataclass(frozen=True)
class Gate:
    """Whether the retrieved passages cover the question well enough to answer it."""

    mode: str = "calibrated"
    min_cosine: float = 0.35
    """The "cosine" mode's one test: the best passage's cosine similarity."""
    min_density: float = 0.29
    min_sentence: float = 0.5

    def __post_init__(self) -> None:
        if self.mode not in GATES:
            raise ValueError(f"the gate's mode must be one of {GATES}")

    def passes(self, relevance: Relevance) -> bool:
        if self.mode == "cosine":
            return relevance.best_cosine >= self.min_cosine
        # passages that share no word with the question (another language, say) do not
        # answer it, however close the embedding model puts them
        return (relevance.coverage > 0 and relevance.density >= self.min_density
                and relevance.best_sentence >= self.min_sentence)


class AnswerStream:
    """Iterate for the answer's text pieces; `.answer` is set once iteration ends."""

    def __init__(self, pieces: Iterator[str], make_answer, whole_pieces: bool = True):
        """`whole_pieces`: the pieces are whole sentences (an answer), not tokens (a chat)."""
        self._pieces = pieces
        self._make_answer = make_answer
        self._whole_pieces = whole_pieces
        self._cancel = threading.Event()
        self._done: list = []
        self._masker: pii.StreamMasker | None = None
        self.answer: Answer | None = None

    def mask_personal_data(self) -> "AnswerStream":
        """Show personal data (e-mail addresses, phone, card and ID numbers) masked in the
        pieces, the answer and its sources. Those called `on_done` still get the answer
        as it was made (kept or cached once, for whoever asks)."""
        self._masker = pii.StreamMasker(whole_pieces=self._whole_pieces)
        return self

    def on_done(self, callback) -> None:
        """Call `callback(answer)` once the stream has been read to its end (or stopped)."""
        self._done.append(callback)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def __iter__(self) -> Iterator[str]:
        text = []
        masker = self._masker
        try:
            for piece in self._pieces:
                text.append(piece)
                shown = masker.feed(piece) if masker else piece
                if shown:
                    yield shown
                if self._cancel.is_set():
                    break
            if masker and (rest := masker.finish()):
                yield rest
        finally:
            # a generation left suspended would hold the model's lock until garbage collected
            close = getattr(self._pieces, "close", None)
            if close:
                close()
        answer = self._make_answer("".join(text))
        for callback in self._done:
            callback(answer)
        self.answer = answer.masked() if masker else answer

    def collect(self) -> Answer:
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer


class Answerer:
    def __init__(self, generator: Generator | RemoteGenerator, embedder: Embedder,
                 max_answer_tokens: int, gate: Gate, sources_per_answer: int = 4,
                 check: str = "quote", sources_in_prompt: int = 2,
                 fallback: Generator | None = None, excerpt_tokens: int = 0):
        """`fallback`: the local model, which answers when `generator` (an inference
        server) cannot; `excerpt_tokens`: the model reads of each source only the
        sentences that bear on the question, up to this many tokens (0: whole sources;
        see `prompt.excerpt`). An inference server's model reads them whole."""
        if check not in CHECKS:
            raise ValueError(f"check must be one of {CHECKS}")
        self.generator, self.embedder, self.fallback = generator, embedder, fallback
        self.max_answer_tokens = max_answer_tokens
        self.gate = gate
        self.sources_per_answer = sources_per_answer
        self.sources_in_prompt = sources_in_prompt
        self.excerpt_tokens = excerpt_tokens
        self.check = check

    def answer(self, question: str, hits: list[SearchHit], density: float,
               timings: dict[str, float] | None = None) -> AnswerStream:
        """Stream an answer to `question` from `hits` (best first; more than are used);
        `density`: the mean cosine of the question's nearest chunks in the library."""
        timings = dict(timings or {})
        started = time.monotonic()
        hits = distinct_pages(hits)[: self.sources_per_answer]
        evidence = Evidence(question, hits, self.embedder)
        relevance = evidence.relevance(density) if hits else None
        timings["check"] = time.monotonic() - started
        if relevance is None or not self.gate.passes(relevance):
            closest = [Source(n, hit) for n, hit in enumerate(hits[:CLOSEST_PASSAGES], 1)]
            text = dont_know(question)
            return AnswerStream(iter([text]), lambda _: Answer(
                question, text, closest, "refusal", timings,
                "no passage covers the question" if hits else "the library has nothing to search"))
        sources = [Source(n, hit) for n, hit in enumerate(hits, start=1)]
        outcome: dict = {"kind": "answer", "reason": ""}
        stream: AnswerStream

        def release(sentence: str, first: bool) -> str | None:
            """The sentence as shown, or None when it ends the answer."""
            if _ONLY_MARKERS.match(sentence):
                return "" if first else with_marker(sentence, Verdict(True, None), len(sources))
            if self.check == "off":
                if _REFUSAL.search(sentence) and first:
                    outcome.update(kind="refusal", reason="the model did not know")
                    return sentence
                return with_marker(sentence, evidence.check(sentence), len(sources))
            if _REFUSAL.search(sentence):
                outcome["reason"] = "the model did not know"
                return None
            verdict = evidence.check(sentence, first=first)
            if not verdict.supported:
                outcome.update(reason=verdict.reason, rejected=sentence)
                return None
            return with_marker(sentence, verdict, len(sources))

        def stood_in(why: str) -> None:
            outcome.update(fallback=f"{why} The local model answered instead.",
                           fallback_model=self.fallback.name)

        def pieces() -> Iterator[str]:
            stops = StopMatcher(_STOPS, _LEADING_STOPS)
            buffer = SentenceBuffer()
            released: list[str] = []
            ended = False
            try:  # the model loads here, in the reader's thread, if it is not yet loaded
                # it reads the best few sources (reading is most of its time); the checks
                # and the quotation use them all, numbered alike
                prompt, _ = self.build_prompt(question, hits[: self.sources_in_prompt],
                                              evidence)
                generation = with_fallback(lambda generator: generator.stream(
                    prompt, self.max_answer_tokens,
                    should_stop=lambda: stream.cancelled or stops.stopped or ended),
                    self.generator, self.fallback, stood_in)
                first = next(generation, "")  # an inference server is first asked here
            except ModelUnavailableError as exc:  # the passages, with why, not an error
                quoted = evidence.quote()
                outcome.update(kind="quote", quoted={s.source for s in quoted},
                               reason="the language model is unavailable", fallback=str(exc),
                               fallback_model="")
                timings.setdefault("first_token", time.monotonic() - started)
                yield format_quote(quoted)
                return

            def settle(sentences: list[str]) -> Iterator[str]:
                nonlocal ended
                for sentence in sentences:
                    shown = release(sentence, first=not "".join(released).strip())
                    if shown is None:
                        ended = True
                        return
                    if shown:
                        timings.setdefault("first_token", time.monotonic() - started)
                        released.append(shown)
                        yield shown

            try:
                for piece in itertools.chain([first], generation):
                    timings.setdefault("model_first_token", time.monotonic() - started)
                    yield from settle(buffer.feed(stops.feed(piece)))
                    if ended:
                        break
            except ModelUnavailableError as exc:  # an inference server stopped midway
                outcome.update(reason="the inference server stopped answering",
                               fallback=str(exc))
            if not ended:
                yield from settle(buffer.feed(stops.finish()) + buffer.finish())
            timings["generate"] = time.monotonic() - started
            if "".join(released).strip() or stream.cancelled:
                return
            if self.check == "quote":
                quoted = evidence.quote(hint=outcome.get("rejected", ""))
                outcome.update(kind="quote", quoted={s.source for s in quoted})
                text = format_quote(quoted)
            else:
                outcome["kind"] = "refusal"
                text = dont_know(question)
            timings.setdefault("first_token", time.monotonic() - started)
            yield text

        def make_answer(text: str) -> Answer:
            text = text.strip()
            kind = outcome["kind"] if text else "refusal"
            if kind == "answer" and _REFUSAL.search(text) and not _MARKER.search(text):
                kind = "refusal"
            cited = outcome.get("quoted") or {int(n) for n in _MARKER.findall(text)}
            if kind == "refusal":
                cited = set()
            return Answer(question, text or dont_know(question),
                          [replace(s, cited=s.n in cited) for s in sources], kind, timings,
                          outcome["reason"], fallback=outcome.get("fallback", ""),
                          fallback_model=outcome.get("fallback_model", ""))

        stream = AnswerStream(pieces(), make_answer)
        return stream

    def build_prompt(self, question: str, hits: list[SearchHit],
                     evidence: Evidence | None = None) -> tuple[str, list[Source]]:
        """The model's prompt and the sources it holds: with `evidence` (of these hits)
        and `excerpt_tokens`, each source cut to what bears on the question; then fitted
        to the context window (the question whole, the last source trimmed)."""
        generator = self.generator
        texts = [hit.text for hit in hits]
        # an inference server reads fast: it gets the whole sources
        if evidence is not None and self.excerpt_tokens > 0 and isinstance(generator, Generator):
            texts = [prompts.excerpt(evidence, n, self.excerpt_tokens, generator.count_tokens)
                     for n in range(1, len(hits) + 1)]
        prompt, held = prompts.build(question, texts, generator, self.max_answer_tokens)
        return prompt, [Source(n, hit) for n, hit in enumerate(hits[:held], start=1)]
