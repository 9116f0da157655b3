"""What the sources say about a question: relevance, support of generated sentences, quotes.

The bundled models are tiny, so what they write is checked, never trusted. `Evidence`
splits the sources into sentences and scores each against the question, with the
embedding model (cosine) and with the question's terms weighted by rarity. From that:

- `Evidence.relevance(density)`: signals for the relevance gate (the best passage's
  cosine, the best sentence's score, the share of the question's words they contain,
  and the library's density around the question,
  measured by the caller: the mean cosine of the question's nearest chunks);
- `Evidence.check(sentence)`: whether a generated sentence is supported by a source
  (its words and embedding close to a source sentence, every number and code token
  present in a source, something said beyond the question's own words);
- `Evidence.quote()`: the one to three source sentences that best answer the question,
  verbatim, as the answer to show when the model's text is not supported.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..retrieval.embedder import Embedder
from ..records import SearchHit
from ..retrieval.textsearch import STOPWORDS

_WORD = re.compile(r"[^\W_]{2,}|[\u4e00-\u9fff]", re.UNICODE)
# Numbers, dotted or called names (read.table, tapply()), %op% operators, assignments.
_CODE = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z_][\w]*(?:\.[\w]+)+|[A-Za-z_]\w*(?=\()"
                   r"|%[^%\s]{1,3}%|<<?-|->>?")
_MARKER = re.compile(r"\s*\[\d{1,2}\]")
_LINE_HYPHEN = re.compile(r"(?<=[a-z])-\n(?=[a-z])")
_SECTION_HEADING = re.compile(r"^\d+(?:\.\d+)+\.?\s+[A-Z]")
_NUMBER = re.compile(r"[\d.,]+")
_LEAD_WORDS = 5  # a quote opens with a sentence, not a heading or a line of code
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+(?=\S)|\n\s*\n|(?<=[。！？])")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Words that say nothing about the subject ("The answer is: [1]").
_FILLER = frozenset("""answer answers source sources question questions document documents passage
passages text following mentioned according provided given use used using also called known
way ways yes example""".split())
_BOILERPLATE = re.compile(r"^\s*(?:the\s+)?(?:correct\s+)?answer\s+(?:is|would be)\s*:?\s*",
                          re.IGNORECASE)
MAX_SENTENCE_CHARS = 400
QUOTE_CHARS = 450
_SHORTLIST = 24  # sentences embedded per question, chosen by their terms first


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_words(text: str) -> set[str]:
    """Lower-cased, lightly stemmed words that carry meaning (no function words; numbers
    are code tokens)."""
    return {_stem(w) for w in (m.lower() for m in _WORD.findall(text))
            if w not in STOPWORDS and not w.isdigit()}


def code_tokens(text: str) -> set[str]:
    """Numbers and code-like tokens: a sentence may only use those its sources contain."""
    return {t.rstrip(".,") for t in _CODE.findall(text)} - {""}


def _names(text: str, token: str) -> bool:
    """Whether `text` holds `token` whole ("fit" is not in "fitted", "1" not in "12")."""
    return re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", text) is not None


def _flat(text: str) -> str:
    """One line: PDF line breaks become spaces, words hyphenated across lines are whole."""
    return " ".join(_LINE_HYPHEN.sub("", text).split())


@dataclass(frozen=True)
class Sentence:
    source: int
    """The 1-based number of the source it comes from."""
    text: str
    words: frozenset[str]


@dataclass(frozen=True)
class Relevance:
    best_cosine: float
    """The best passage's cosine similarity to the question."""
    best_sentence: float
    """The score of the sentence that best answers the question (see `Evidence`)."""
    coverage: float
    """The share of the question's content words (weighted by rarity) in the passages."""
    density: float
    """The mean cosine of the question's nearest chunks in the library: a question the
    library is about has many close chunks, one that shares a word with it has one."""


@dataclass(frozen=True)
class Verdict:
    supported: bool
    source: int | None
    """The source that supports the sentence best."""
    reason: str = ""


def has_words(text: str) -> bool:
    """Whether `text` holds a word (not only code such as "> q()" or numbers): the
    sentences Evidence scores."""
    return _WORD.search(text) is not None


def split_sentences(text: str) -> list[str]:
    """Sentences (and blank-line separated blocks) of a passage, long runs cut at lines."""
    out = []
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        if len(part) > MAX_SENTENCE_CHARS:
            out.extend(line.strip() for line in part.splitlines() if line.strip())
        elif part:
            out.append(part)
    return out


class Evidence:
    """The sentences of an answer's sources, scored against its question."""

    LEXICAL_WEIGHT = 0.5
    """Weight of the question's (rarity-weighted) terms in a sentence's score."""

    def __init__(self, question: str, hits: list[SearchHit], embedder: Embedder):
        self.question = question
        self.hits = hits
        self.embedder = embedder
        self.question_words = content_words(question) - _FILLER
        self.sentences = [Sentence(n, _flat(s), frozenset(content_words(s)))
                          for n, hit in enumerate(hits, start=1)
                          for s in split_sentences(hit.text) if has_words(s)]
        self._source_words = [content_words(h.text) for h in hits]
        self._source_flat = [_flat(h.text) for h in hits]
        # a term found in few sentences says more about which one answers
        count = len(self.sentences) or 1
        self.weights = {w: math.log(1 + count / (1 + sum(w in s.words for s in self.sentences)))
                        for w in self.question_words}
        self._scores: list[float] | None = None
        self._vectors: dict[int, np.ndarray] = {}

    # --- scores -------------------------------------------------------------------------

    def lexical(self, words: frozenset[str] | set[str]) -> float:
        total = sum(self.weights.values())
        return sum(wt for w, wt in self.weights.items() if w in words) / total if total else 0.0

    def scores(self) -> list[float]:
        """Each sentence's score: cosine to the question + LEXICAL_WEIGHT * term share.

        Only a shortlist (best by terms, and the first sentences of the best passages)
        is embedded; the others keep their lexical part alone."""
        if self._scores is None:
            lexical = [self.lexical(s.words) for s in self.sentences]
            order = sorted(range(len(self.sentences)), key=lambda i: (-lexical[i], i))
            shortlist = sorted(set(order[:_SHORTLIST]))
            if shortlist:
                vectors = self.embedder.encode([self.question]
                                               + [self.sentences[i].text for i in shortlist])
                for i, vector in zip(shortlist, vectors[1:]):
                    self._vectors[i] = vector
                cosine = dict(zip(shortlist, (vectors[1:] @ vectors[0]).tolist()))
            else:
                cosine = {}
            self._scores = [cosine.get(i, 0.0) + self.LEXICAL_WEIGHT * lexical[i]
                            for i in range(len(self.sentences))]
        return self._scores

    def relevance(self, density: float) -> Relevance:
        return Relevance(
            best_cosine=max((h.dense_similarity or 0.0 for h in self.hits), default=0.0),
            best_sentence=round(max(self.scores(), default=0.0), 4),
            coverage=round(self.lexical(set().union(*self._source_words)), 4),
            density=round(density, 4))

    # --- quotes -------------------------------------------------------------------------

    HINT_BONUS = 0.3
    """Added to a sentence naming a code token of the model's rejected text: the model
    often points at the right function while saying something wrong about it."""
    BACK_SHARE = 0.8
    """The sentence before the best one is quoted too when it scores this share of it."""

    def quote(self, hint: str = "", max_parts: int = 4) -> list[Sentence]:
        """The passage around the sentence that best answers the question, verbatim.

        The best sentence of at least _LEAD_WORDS words (with the one before it when it
        starts mid-sentence), then what follows it in its passage (an explanation is
        often followed by its example or its function), within QUOTE_CHARS. `hint`: the
        model's rejected text; a sentence naming one of its code tokens ranks higher."""
        scores = self.scores()
        hinted = {c for c in code_tokens(hint) if not _NUMBER.fullmatch(c)} - code_tokens(
            self.question)
        scores = [score + self.HINT_BONUS * bool(hinted & code_tokens(s.text))
                  for score, s in zip(scores, self.sentences)]
        leads = [i for i, s in enumerate(self.sentences)
                 if len(_WORD.findall(s.text)) >= _LEAD_WORDS]
        if not leads:
            return []
        best = max(leads, key=lambda i: scores[i])
        source = self.sentences[best].source
        # the sentence before it too, when it is cut ("which...") or answers nearly as well
        first = best - 1 if (best > 0 and self.sentences[best - 1].source == source
                             and (self.sentences[best].text[:1].islower()
                                  or scores[best - 1] >= self.BACK_SHARE * scores[best])) \
            else best
        picked = list(range(first, best + 1))
        length = sum(len(self.sentences[i].text) for i in picked)
        for i in range(best + 1, len(self.sentences)):
            if (len(picked) >= max_parts or self.sentences[i].source != source
                    or length + len(self.sentences[i].text) > QUOTE_CHARS):
                break
            picked.append(i)
            length += len(self.sentences[i].text)
        return [self.sentences[i] for i in picked]

    ANCHOR_SENTENCES = 2

    def anchors(self) -> tuple[set[str], set[str]]:
        """Code tokens (not bare numbers) and words of the best sentences that the question
        does not contain: an answer that names none of them answers from elsewhere."""
        scores = self.scores()
        best = sorted(range(len(scores)), key=lambda i: -scores[i])[: self.ANCHOR_SENTENCES]
        codes: set[str] = set()
        words: set[str] = set()
        for i in best:
            codes |= {c for c in code_tokens(self.sentences[i].text) if not _NUMBER.fullmatch(c)}
            words |= self.sentences[i].words
        return codes - code_tokens(self.question), words - self.question_words - _FILLER

    # --- support of generated text ------------------------------------------------------

    SUPPORT_WORDS = 0.6
    """Share of a sentence's content words that its best source must contain..."""
    SUPPORT_WORDS_WITH_MEANING = 0.4
    SUPPORT_COSINE = 0.6
    """...or this lower share, with a source sentence this close in meaning."""

    def check(self, sentence: str, first: bool = False) -> Verdict:
        """Whether a generated sentence says what a source says.

        `first`: the answer's opening sentence must also carry something of the passages
        that best answer the question (else it answers another question)."""
        clean = _BOILERPLATE.sub("", _MARKER.sub("", sentence)).strip()
        words = content_words(clean) - _FILLER
        codes = code_tokens(clean)
        new_codes = {c for c in codes - code_tokens(self.question) if not _NUMBER.fullmatch(c)}
        if not words - self.question_words and not new_codes:  # "The answer is: 4 [1]."
            return Verdict(False, None, "it says nothing beyond the question")
        if _SECTION_HEADING.match(clean):  # "5.1 Arrays and matrices": a heading recited
            return Verdict(False, None, "it recites a section heading")
        missing = [c for c in codes if not any(_names(flat, c) for flat in self._source_flat)]
        if missing:
            return Verdict(False, None, f"the sources do not contain {missing[0]}")
        shares = [len(words & sw) / len(words) if words else 1.0 for sw in self._source_words]
        best = max(range(len(shares)), key=lambda i: shares[i]) if shares else None
        if best is None:
            return Verdict(False, None, "there are no sources")
        share = shares[best]
        if share < self.SUPPORT_WORDS:
            if share < self.SUPPORT_WORDS_WITH_MEANING or \
                    self._closest_sentence(clean) < self.SUPPORT_COSINE:
                return Verdict(False, best + 1, "the sources do not say this")
        if first:
            anchor_codes, anchor_words = self.anchors()
            if anchor_codes and not codes & anchor_codes:
                return Verdict(False, best + 1, f"it does not name {sorted(anchor_codes)[0]}, "
                               "which the passage that answers names")
            if not anchor_codes and not words & anchor_words:
                return Verdict(False, best + 1, "it does not use the passage that answers")
        return Verdict(True, best + 1)

    def _closest_sentence(self, text: str) -> float:
        self.scores()
        if not self._vectors:
            return 0.0
        vector = self.embedder.encode([text])[0]
        return float(max(v @ vector for v in self._vectors.values()))
