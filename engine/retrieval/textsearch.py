"""What the full-text index sees: terms for FTS5, with Chinese and Japanese split in bigrams.

SQLite's unicode61 tokenizer treats a run of CJK characters as one token, so a Chinese
sentence would only match itself. As Lucene's CJKAnalyzer does, every CJK run is
written as its overlapping character bigrams (a single character stays a unigram), for
the indexed text and for the query alike; other scripts are left to unicode61.

A query's exact phrases are what it quotes ("read a csv") and the identifiers it names:
words that mix letters and digits (ZQX-4471, X11, utf-8) or join letters with a dot or
an underscore (read.csv, file_path). An embedding model reads these as noise, so the
retriever looks for them as they are written.
"""

from __future__ import annotations

import re
import unicodedata

_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')
_LETTER = r"[^\W\d_]"
_IDENTIFIER = re.compile(  # letters and digits in one word, or read.csv / file_path (not e.g.)
    rf"(?=\S*{_LETTER})(?=\S*\d)\S+"
    rf"|\S*(?:{_LETTER}{{2}}[._]{_LETTER}|{_LETTER}[._]{_LETTER}{{2}})\S*")
# English function words: they match nearly every chunk, which makes FTS5 score the whole
# library for each query, and BM25 gives them almost no weight anyway.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
""".split())


def _bigrams(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join(run[i : i + 2] for i in range(len(run) - 1))


def index_terms(text: str) -> str:
    """The text as stored in the FTS5 table."""
    return _CJK_RUN.sub(lambda m: f" {_bigrams(m.group())} ", text)


def query_terms(query: str) -> list[str]:
    """The query's distinct terms, without English function words (unless that is all)."""
    terms = list(dict.fromkeys(_WORD.findall(index_terms(query).lower())))  # in order, once
    return [t for t in terms if t not in STOPWORDS] or terms  # "to be or not to be" stays


def exact_phrases(query: str) -> list[str]:
    """The query's quoted phrases and identifiers, each as its index terms in order
    ("ZQX-4471" -> "zqx 4471"), without repeats."""
    quoted = [a or b for a, b in _QUOTED.findall(query)]
    rest = _QUOTED.sub(" ", query)
    phrases: dict[str, None] = {}  # in order, once (a set: a long query stays linear)
    for text in quoted + _IDENTIFIER.findall(rest):
        words = indexed_words(text)
        if words:
            phrases[" ".join(words)] = None
    return list(phrases)


def fold(text: str) -> str:
    """Text as the index compares it: lower case, without diacritics (unicode61's
    remove_diacritics)."""
    text = text.lower()
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFD", text))


def indexed_words(text: str) -> list[str]:
    """The words of a text as the full-text index sees them, in order."""
    return _WORD.findall(index_terms(fold(text)))


class TermFinder:
    """Finds given terms and phrases (as from `query_terms` and `exact_phrases`) in a
    text the way the full-text index would match them: whole words, phrases as
    consecutive words. A term's occurrences are found with `str.find` and kept when no
    letter or digit touches them (a regular expression with a look-behind is tried at
    every position of the text: several times slower); a phrase's pattern is tried only
    on texts holding its first word. A hundred candidate chunks cost well under a
    millisecond."""

    def __init__(self, terms: list[str], phrases: list[str]):
        def whole_words(words: list[str]) -> re.Pattern:
            return re.compile(r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, words))
                              + r"(?![^\W_])")

        self._terms = terms
        self._phrases = [(p.split()[0], whole_words(p.split())) for p in phrases]
        self._cjk = any(_CJK_RUN.search(t) for t in [*terms, *phrases])

    def __call__(self, text: str) -> tuple[set[str], int]:
        """The terms the text holds, and how many of the phrases."""
        text = fold(text)
        if self._cjk:
            text = index_terms(text)
        held = {t for t in self._terms if _holds_word(text, t)}
        return held, sum(1 for first, pattern in self._phrases
                         if first in text and pattern.search(text))


def _holds_word(text: str, word: str) -> bool:
    """Whether `word` is in `text` with no letter or digit just before or after it (what
    the regular expression `[^\\W_]` matches: `str.isalnum`)."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if not (start and text[start - 1].isalnum()) and not (
                end < len(text) and text[end].isalnum()):
            return True
        start = text.find(word, start + 1)
    return False


def match_expression(terms: list[str]) -> str:
    """An FTS5 MATCH expression for any of the terms (BM25 ranks the overlap)."""
    return " OR ".join(f'"{term}"' for term in terms)


def match_query(query: str) -> str | None:
    terms = query_terms(query)
    return match_expression(terms) if terms else None
