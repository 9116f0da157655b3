"""What the full-text index sees: terms for FTS5, with Chinese and Japanese split in bigrams.

SQLite's unicode61 tokenizer treats a run of CJK characters as one token, so a Chinese
sentence would only match itself. As Lucene's CJKAnalyzer does, every CJK run is
written as its overlapping character bigrams (a single character stays a unigram), for
the indexed text and for the query alike; other scripts are left to unicode61.
"""

from __future__ import annotations

import re

_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
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
    terms: list[str] = []
    for word in _WORD.findall(index_terms(query).lower()):
        if word not in terms:
            terms.append(word)
    return [t for t in terms if t not in STOPWORDS] or terms  # "to be or not to be" stays


def match_expression(terms: list[str]) -> str:
    """An FTS5 MATCH expression for any of the terms (BM25 ranks the overlap)."""
    return " OR ".join(f'"{term}"' for term in terms)


def match_query(query: str) -> str | None:
    terms = query_terms(query)
    return match_expression(terms) if terms else None
