"""Answers with numbered citations, grounded in retrieved sources, or an honest refusal.

`Answerer.answer` retrieves sources, decides whether any is relevant enough (the best
source's cosine similarity against `min_relevance`), builds a prompt that fits the
model's context window by trimming sources (never the question), and returns an
`AnswerStream`: iterate it for the text as it is generated, then read `.answer`.

Small local models cite unreliably, so citations are checked as the text streams: a
marker naming no source is dropped, and a sentence that carries no marker gets the one
of the source it overlaps most, when the overlap is substantial. The streamed text and
the final answer are therefore the same text.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

from .generator import Generator
from .records import SearchHit

DONT_KNOW = "I don't know: the documents do not seem to cover this."
_REFUSAL = re.compile(r"\b(i (do not|don't|dont) know|not (mentioned|covered|stated|provided) in"
                      r"|(sources|documents) do not (say|mention|contain))", re.IGNORECASE)
_MARKER = re.compile(r"\[(\d{1,2})\]")
_BOUNDARY = re.compile(r"[.!?](?=\s)|[。！？]")
_INCOMPLETE = re.compile(r"(\[\d{0,2}|[.!?])$")
_WORD = re.compile(r"[^\W_]{2,}|[\u4e00-\u9fff]", re.UNICODE)
_SPACE = re.compile(r"\s+")
_MIN_OVERLAP = 0.5
# Small models, done answering, go on to restate the answer or recite the sources.
# Stops count only once the answer has begun (a model may open with blank lines).
_STOPS = ("\n\n", "\nQuestion:", "\nSources:", "\nAnswer:", "\nThe answer is", "\n[")
_LEADING_STOPS = ("Question:", "Sources:", "Answer:")

PROMPT = """Answer the question using only the sources below. Cite the sources you use by number, like [1].
If the sources do not contain the answer, reply: I don't know.

Sources:
{sources}

Question: {question}
Answer:"""


@dataclass(frozen=True)
class Source:
    n: int
    hit: SearchHit

    def to_json(self) -> dict:
        return {"n": self.n, "document": self.hit.document, "page": self.hit.page,
                "score": self.hit.score, "text": self.hit.text, "chunk_id": self.hit.chunk_id,
                "document_id": self.hit.document_id, "path": self.hit.path,
                "char_start": self.hit.char_start, "char_end": self.hit.char_end}


@dataclass
class Answer:
    question: str
    text: str
    sources: list[Source]
    refused: bool
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"question": self.question, "answer": self.text,
                "sources": [s.to_json() for s in self.sources], "refused": self.refused,
                "timings": {k: round(v, 3) for k, v in self.timings.items()}}


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


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


class CitationChecker:
    """Keeps markers that name a source and adds one to an unmarked, grounded sentence.

    Text passes through as it comes, except a possible sentence end or a marker not yet
    closed ("[1"), which is held until the next piece tells what it is.
    """

    def __init__(self, sources: list[Source]):
        self._source_words = [_words(s.hit.text) for s in sources]
        self._source_texts = [_SPACE.sub(" ", s.hit.text).lower() for s in sources]
        self._sentence = ""
        self._held = ""

    def feed(self, piece: str) -> str:
        text, self._held = self._held + piece, ""
        out = []
        while (end := _BOUNDARY.search(text)) is not None:
            out.append(self._close(text[: end.end()]))
            text = text[end.end():]
        hold = _INCOMPLETE.search(text)
        if hold:
            text, self._held = text[: hold.start()], text[hold.start():]
        out.append(self._pass(text))
        return "".join(out)

    def finish(self) -> str:
        text, self._held = self._held, ""
        return self._close(text) if (self._sentence + text).strip() else text

    def _pass(self, text: str) -> str:
        text = _MARKER.sub(lambda m: m.group() if 1 <= int(m.group(1)) <= len(self._source_words)
                           else "", text)
        self._sentence += text
        return text

    def _close(self, text: str) -> str:
        """`text` ends a sentence: add the marker of the source it draws on, if it has none."""
        text = self._pass(text)
        sentence, self._sentence = self._sentence, ""
        if _MARKER.search(sentence) or _REFUSAL.search(sentence):
            return text
        source = self._grounding(sentence)
        if source is None:
            return text
        marker = f" [{source}]"
        if text and text[-1] in ".!?。！？":
            return text[:-1] + marker + text[-1]
        return text.rstrip() + marker

    def _grounding(self, sentence: str) -> int | None:
        """The number of the source a sentence draws on: most shared words, or for a
        short extractive answer ("12.5 bar"), the first source containing it verbatim."""
        words = _words(sentence)
        if len(words) >= 3:
            overlaps = [len(words & sw) / len(words) for sw in self._source_words]
            best = max(overlaps)
            return overlaps.index(best) + 1 if best >= _MIN_OVERLAP else None
        needle = _SPACE.sub(" ", sentence.strip().rstrip(".!?。！？")).lower()
        if len(needle) < 2:
            return None
        for n, source_text in enumerate(self._source_texts, start=1):
            if needle in source_text:
                return n
        return None


class AnswerStream:
    """Iterate for the answer's text pieces; `.answer` is set once iteration ends."""

    def __init__(self, pieces: Iterator[str], make_answer):
        self._pieces = pieces
        self._make_answer = make_answer
        self._cancel = threading.Event()
        self._done: list = []
        self.answer: Answer | None = None

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
        try:
            for piece in self._pieces:
                text.append(piece)
                yield piece
                if self._cancel.is_set():
                    break
        finally:
            # a generation left suspended would hold the model's lock until garbage collected
            close = getattr(self._pieces, "close", None)
            if close:
                close()
        self.answer = self._make_answer("".join(text))
        for callback in self._done:
            callback(self.answer)

    def collect(self) -> Answer:
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer


class Answerer:
    def __init__(self, generator: Generator, max_answer_tokens: int, min_relevance: float):
        self.generator = generator
        self.max_answer_tokens = max_answer_tokens
        self.min_relevance = min_relevance

    def relevant(self, hits: list[SearchHit]) -> bool:
        return bool(hits) and max(h.dense_similarity or 0.0 for h in hits) >= self.min_relevance

    def answer(self, question: str, hits: list[SearchHit],
               timings: dict[str, float] | None = None) -> AnswerStream:
        timings = dict(timings or {})
        if not self.relevant(hits):
            return AnswerStream(iter([DONT_KNOW]),
                                lambda text: Answer(question, text, [], True, timings))
        started = time.monotonic()
        prompt, sources = self.build_prompt(question, hits)
        checker = CitationChecker(sources)
        stream: AnswerStream

        def pieces() -> Iterator[str]:
            stops = StopMatcher(_STOPS, _LEADING_STOPS)
            produced = False
            for piece in self.generator.stream(
                    prompt, self.max_answer_tokens,
                    should_stop=lambda: stream.cancelled or stops.stopped):
                timings.setdefault("first_token", time.monotonic() - started)
                checked = checker.feed(stops.feed(piece))
                produced = produced or bool(checked.strip())
                if checked:
                    yield checked
            tail = checker.feed(stops.finish()) + checker.finish()
            if tail:
                yield tail
            if not (produced or tail.strip()):
                yield DONT_KNOW  # so that the streamed text is the answer's text
            timings["generate"] = time.monotonic() - started

        def make_answer(text: str) -> Answer:
            text = text.strip()
            cited = {int(n) for n in _MARKER.findall(text)}
            refused = not text or (not cited and bool(_REFUSAL.search(text)))
            return Answer(question, text or DONT_KNOW,
                          [] if refused else sources, refused, timings)

        stream = AnswerStream(pieces(), make_answer)
        return stream

    def build_prompt(self, question: str, hits: list[SearchHit]) -> tuple[str, list[Source]]:
        """Fill the context window: the question whole, sources in rank order, the last trimmed."""
        budget = (self.generator.context_tokens - self.max_answer_tokens
                  - self.generator.count_tokens(PROMPT.format(sources="", question=question)) - 16)
        blocks: list[str] = []
        sources: list[Source] = []
        for hit in hits:
            label = f"[{len(sources) + 1}]"  # a file name or page here gets copied into answers
            needed = self.generator.count_tokens(f"{label} {hit.text}\n\n")
            if needed > budget:
                if budget < 48:
                    break
                text = self.generator.truncate(hit.text, budget - self.generator.count_tokens(label) - 4)
                blocks.append(f"{label} {text}")
                sources.append(Source(len(sources) + 1, hit))
                break
            blocks.append(f"{label} {hit.text}")
            sources.append(Source(len(sources) + 1, hit))
            budget -= needed
        return PROMPT.format(sources="\n\n".join(blocks), question=question), sources
