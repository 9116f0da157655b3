"""Hybrid retrieval: FTS5 BM25 and HNSW candidates, reranked on the evidence of both.

Each side proposes `candidates` chunks, and so does an exact search for the query's
quoted phrases and identifiers (textsearch.exact_phrases: "ZQX-4471", "read.csv"). The
union is then scored on exact figures, whichever side proposed a chunk: its cosine
similarity to the query (from the vectors the index holds) and `covered`, the share of
the query's terms it contains, each term weighted by its rarity in the library (BM25's
IDF), so that a word found in three chunks weighs far more than one found in three
thousand. The default fusion, "evidence", ranks

    1. chunks holding more of the query's exact phrases first (an embedding model reads
       a part number as noise: without this, "ZQX-4471 details" finds other entries);
    2. then by `cosine + term_weight * covered`.

On bench/retrieval_quality.py this keeps entity search as good as the embedding alone
(within noise), finds exact markers as BM25 does, and lifts technical questions above
both sides (figures in EngineConfig.fusion).
Kept for comparison: "weighted" (the former default, `dense_weight * cosine +
(1 - dense_weight) * bm25 / max_bm25`), reciprocal rank fusion ("rrf"), and each side
alone ("dense", "bm25").

Navigation chunks (tables of contents, indexes: engine.navigation) rank after every
content chunk the search found, so they fill the list only when nothing else matches.
Everything the ranking needs about the candidates is read in one batched query.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from . import textsearch
from ..config import EngineConfig
from ..ingest.chunker import embedding_text
from .embedder import Embedder
from ..records import SearchHit
from ..store.vault import Vault
from .vector_index import VectorIndex

FUSIONS = ("evidence", "weighted", "rrf", "dense", "bm25")
_RRF_K = 60
_VECTOR = 9  # where a candidate's vector is in what `_rows` gives
COMMON_TERM_SHARE = 0.2


class HybridRetriever:
    def __init__(self, vault: Vault, index: VectorIndex, embedder: Embedder,
                 candidates: int, dense_weight: float, fusion: str = "evidence",
                 term_weight: float = 0.25, navigation_last: bool = True,
                 bm25_postings: int | None = None):
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}")
        self.vault, self.index, self.embedder = vault, index, embedder
        self.candidates, self.dense_weight, self.fusion = candidates, dense_weight, fusion
        self.term_weight, self.navigation_last = term_weight, navigation_last
        self.bm25_postings = bm25_postings
        self._known = _LibraryStatistics("", 0, {})

    @classmethod
    def configured(cls, config: EngineConfig, vault: Vault, index: VectorIndex,
                   embedder: Embedder) -> "HybridRetriever":
        """The retriever `config` describes."""
        return cls(vault, index, embedder, config.retrieval_candidates, config.dense_weight,
                   config.fusion, config.term_weight, bm25_postings=config.bm25_postings)

    @staticmethod
    def _scope_sql(collection_ids: list[int] | None,
                   document_ids: list[int] | None) -> tuple[str, tuple]:
        """SQL selecting the ids of the chunks in scope, or '' when everything is."""
        if collection_ids is None and document_ids is None:
            return "", ()
        sql = "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE 1"
        params: list[int] = []
        for column, values in (("d.collection_id", collection_ids), ("d.id", document_ids)):
            if values is not None:
                sql += f" AND {column} IN ({','.join('?' * len(values)) or 'NULL'})"
                params.extend(values)
        return sql, tuple(params)

    def bm25(self, query: str, limit: int, scope: tuple[str, tuple]) -> list[tuple[int, float]]:
        """(chunk id, BM25 score, higher is better) for the best full-text matches."""
        terms = _index_forms(textsearch.query_terms(query))
        return self._bm25(self._selective(terms, *self._statistics(terms)), limit, scope)

    def _bm25(self, terms: list[str], limit: int,
              scope: tuple[str, tuple]) -> list[tuple[int, float]]:
        if not terms:
            return []
        scope_sql, scope_params = scope
        where = f" AND rowid IN ({scope_sql})" if scope_sql else ""
        # FTS5's bm25() is negative, best first
        return self.vault.rows(
            f"SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?{where} "
            "ORDER BY bm25(chunks_fts) LIMIT ?",
            (textsearch.match_expression(terms), *scope_params, limit))

    def _frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many chunks hold each term (absent terms are left out)."""
        found: dict[str, int] = {}
        for start in range(0, len(terms), 500):  # a long query: under SQLite's variable limit
            part = terms[start:start + 500]
            found.update(self.vault.rows(
                f"SELECT term, doc FROM chunks_vocab WHERE term IN ({','.join('?' * len(part))})",
                tuple(part)))
        return found

    def _chunk_count(self) -> int:
        return self.vault.scalar("SELECT count(*) FROM chunks") or 1

    def _statistics(self, terms: list[str]) -> tuple[dict[str, int], int]:
        """How many chunks hold each term (0 for none) and how many there are, remembered
        until the library next changes (its `index_generation`)."""
        generation = self.vault.get_meta("index_generation", "0")
        known = self._known
        if known.generation != generation:
            known = _LibraryStatistics(generation, self._chunk_count(), {})
        missing = [t for t in terms if t not in known.frequency]
        if missing:
            found = self._frequencies(missing)
            known.frequency.update((t, found.get(t, 0)) for t in missing)
        if len(known.frequency) < _STATISTICS_TERMS:
            self._known = known
        return {t: known.frequency[t] for t in terms}, known.count

    def _selective(self, terms: list[str], frequency: dict[str, int], count: int) -> list[str]:
        """The terms the full-text side searches, rarest first: those found in more than
        COMMON_TERM_SHARE of the chunks (such as "r" in the R manuals) are left out, and
        so are the commonest once the kept ones' chunks pass `bm25_postings`: BM25 gives
        them little weight, but matching them makes FTS5 score much of the library. The
        rarest term stays if all are common. Terms in no chunk are left out too: they
        match nothing, and a long query of them made FTS5 work for seconds."""
        if len(terms) < 2:
            return terms
        present = sorted((t for t in terms if frequency.get(t, 0)), key=frequency.__getitem__)
        limit = COMMON_TERM_SHARE * count
        kept, postings = present[:1], frequency[present[0]] if present else 0
        for term in present[1:]:
            postings += frequency[term]
            if frequency[term] > limit or postings > (self.bm25_postings or postings):
                break
            kept.append(term)
        return kept

    def search(self, query: str, k: int = 5, collection_ids: list[int] | None = None,
               document_ids: list[int] | None = None,
               timings: dict[str, float] | None = None) -> list[SearchHit]:
        """The k best chunks; `timings`, if given, gets the seconds spent embedding."""
        scope = self._scope_sql(collection_ids, document_ids)
        allowed = {r[0] for r in self.vault.rows(*scope)} if scope[0] else None
        started = time.perf_counter()
        query_vector = self.embedder.embed_query(query)
        if timings is not None:
            timings["embed_query"] = time.perf_counter() - started
        dense = [] if self.fusion == "bm25" else self.index.search(
            query_vector, self.candidates, allowed)
        evidence = self.fusion == "evidence"
        terms = _index_forms(textsearch.query_terms(query))
        frequency, count = self._statistics(terms)
        lexical = [] if self.fusion == "dense" else self._bm25(
            self._selective(terms, frequency, count), self.candidates, scope)
        phrases = textsearch.exact_phrases(query) if evidence else []
        exact = self._phrase_matches(phrases, scope) if phrases else []
        ids = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lexical] + exact))
        rows = self._rows(ids) if ids else {}
        cosine = self._cosines(rows, query_vector, dict(dense))
        ids = [i for i in ids if i in cosine]  # neither being stored nor deleted
        if not ids:  # while this search ran: a document being imported or deleted
            return []
        navigation = {i for i, row in rows.items() if row[0]}
        if evidence:
            scores, exactness = self._weigh_evidence(ids, rows, cosine, terms, frequency,
                                                     count, phrases)
        else:
            scores, exactness = self._fuse(ids, dense, lexical, cosine), dict.fromkeys(ids, 0)
        last = navigation if self.navigation_last else set()
        best = sorted(ids, key=lambda i: (i in last, -exactness[i], -scores[i]))[:k]
        return [SearchHit(chunk_id=i, document_id=rows[i][3], document=rows[i][4],
                          path=rows[i][5], page=rows[i][6], score=round(scores[i], 4),
                          text=rows[i][2], char_start=rows[i][7], char_end=rows[i][8],
                          dense_similarity=round(cosine[i], 4), navigation=i in navigation)
                for i in best]

    def _weigh_evidence(self, ids, rows, cosine, terms, frequency, count, phrases):
        """`cosine + term_weight * covered` and the number of exact phrases held, for
        each chunk. Terms and phrases are looked for in the chunk's words as the
        full-text index sees them (heading included)."""
        weights = {t: _idf(frequency[t], count) for t in terms if frequency.get(t)}
        total = sum(weights.values()) or 1.0  # a term no chunk holds tells none apart
        find = textsearch.TermFinder(list(weights), phrases)
        scores, exactness = {}, {}
        for i in ids:
            held, exactness[i] = find(embedding_text(rows[i][2], rows[i][1]))
            scores[i] = cosine[i] + self.term_weight * sum(weights[t] for t in held) / total
        return scores, exactness

    def density(self, query: str, neighbours: int, collection_ids: list[int] | None = None,
                document_ids: list[int] | None = None) -> float:
        """Mean cosine of the query's nearest chunks in scope: how much of the library is
        about it. `neighbours` at most, one per 40 chunks in a small library."""
        scope = self._scope_sql(collection_ids, document_ids)
        allowed = {r[0] for r in self.vault.rows(*scope)} if scope[0] else None
        size = len(self.index) if allowed is None else len(allowed)
        k = min(neighbours, max(1, size // 40))
        nearest = self.index.search(self.embedder.embed_query(query), k, allowed)
        return sum(s for _, s in nearest) / len(nearest) if nearest else 0.0

    def _cosines(self, rows: dict[int, tuple], query_vector: np.ndarray,
                 known: dict[int, float]) -> dict[int, float]:
        """Cosine with the query of each candidate the index holds at this moment (a
        chunk being stored, in the vault and not yet in the index, or being deleted, gone
        from the index first, is left out): from the index's search (`known`), else from
        the vector the vault stores."""
        cosine = {i: known[i] for i in rows if i in known}
        size = query_vector.nbytes  # a vector of another model (being re-embedded): left out
        held = [i for i in self.index.holding([i for i in rows if i not in known])
                if len(rows[i][_VECTOR]) == size]
        if held:
            vectors = np.frombuffer(b"".join(rows[i][_VECTOR] for i in held), dtype=np.float32)
            cosine.update(zip(held, (vectors.reshape(len(held), -1) @ query_vector).tolist()))
        return cosine

    def _phrase_matches(self, phrases: list[str], scope: tuple[str, tuple]) -> list[int]:
        """Chunks that hold one of the exact phrases, best BM25 first (up to `candidates`
        for each phrase)."""
        scope_sql, scope_params = scope
        where = f" AND rowid IN ({scope_sql})" if scope_sql else ""
        one = (f"SELECT * FROM (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?{where} "
               "ORDER BY bm25(chunks_fts) LIMIT ?)")
        params = [p for phrase in phrases
                  for p in (_phrase_expression(phrase), *scope_params, self.candidates)]
        return [r[0] for r in self.vault.rows(" UNION ALL ".join([one] * len(phrases)),
                                               tuple(params))]

    def _rows(self, ids: list[int]) -> dict[int, tuple]:
        """What ranking and hits need of each candidate, in one query: navigation,
        heading, text, document id, name and path, page, offsets, vector."""
        marks = ",".join("?" * len(ids))
        return {row[0]: row[1:] for row in self.vault.rows(
            "SELECT c.id, c.navigation, c.heading, c.text, c.document_id, d.name, d.path, "
            "c.page_start, c.char_start, c.char_end, c.vector FROM chunks c "
            f"JOIN documents d ON d.id = c.document_id WHERE c.id IN ({marks})", tuple(ids))}

    def _fuse(self, ids, dense, lexical, cosine) -> dict[int, float]:
        if self.fusion == "rrf":
            scores = dict.fromkeys(ids, 0.0)
            for ranking in (dense, lexical):
                for rank, (chunk_id, _) in enumerate(ranking):
                    scores[chunk_id] += 1.0 / (_RRF_K + rank + 1)
            return scores
        if self.fusion == "bm25":
            return dict(lexical)
        top_bm25 = max((s for _, s in lexical), default=0.0) or 1.0
        bm25 = {chunk_id: s / top_bm25 for chunk_id, s in lexical}
        weight = 1.0 if self.fusion == "dense" else self.dense_weight
        return {i: weight * cosine[i] + (1 - weight) * bm25.get(i, 0.0) for i in ids}


@dataclass
class _LibraryStatistics:
    """What BM25 weighs terms by, as of one `index_generation` of the library."""

    generation: str
    count: int
    frequency: dict[str, int]


_STATISTICS_TERMS = 50_000
"""The most terms whose frequencies a retriever remembers."""


def _index_forms(terms: list[str]) -> list[str]:
    """The terms as the index stores them (its vocabulary is folded: "café" is "cafe")."""
    return list(dict.fromkeys(textsearch.fold(t) for t in terms))


def _phrase_expression(phrase: str) -> str:
    """An FTS5 phrase: its terms, in this order, next to each other."""
    return '"' + phrase.replace('"', '""') + '"'


def _idf(frequency: int, count: int) -> float:
    """BM25's inverse document frequency, as FTS5 computes it."""
    return max(math.log((count - frequency + 0.5) / (frequency + 0.5)), 1e-6)
