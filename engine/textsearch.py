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


def _bigrams(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join(run[i : i + 2] for i in range(len(run) - 1))


def index_terms(text: str) -> str:
    """The text as stored in the FTS5 table."""
    return _CJK_RUN.sub(lambda m: f" {_bigrams(m.group())} ", text)


def match_query(query: str) -> str | None:
    """An FTS5 MATCH expression: any of the query's terms (BM25 ranks the overlap)."""
    terms: list[str] = []
    for word in _WORD.findall(index_terms(query).lower()):
        if word not in terms:
            terms.append(word)
    if not terms:
        return None
    return " OR ".join(f'"{term}"' for term in terms)
