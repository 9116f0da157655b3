"""Hybrid retrieval: FTS5 BM25 and HNSW candidates, fused on exact scores.

Each side proposes `candidates` chunks. For every proposed chunk the exact cosine
similarity to the query is computed (from the vectors the index holds) and BM25 is
scaled by the best BM25 of the query, so the fused score
`dense_weight * cosine + (1 - dense_weight) * bm25 / max_bm25` compares like with like.
Reciprocal rank fusion is kept as an alternative for the benchmark to weigh
(`fusion="rrf"`); "dense" and "bm25" give each side alone.
"""

from __future__ import annotations

import time

import numpy as np

from . import textsearch
from .embedder import Embedder
from .records import SearchHit
from .vault import Vault
from .vector_index import VectorIndex

FUSIONS = ("weighted", "rrf", "dense", "bm25")
_RRF_K = 60
COMMON_TERM_SHARE = 0.2


class HybridRetriever:
    def __init__(self, vault: Vault, index: VectorIndex, embedder: Embedder,
                 candidates: int, dense_weight: float, fusion: str = "weighted"):
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}")
        self.vault, self.index, self.embedder = vault, index, embedder
        self.candidates, self.dense_weight, self.fusion = candidates, dense_weight, fusion

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
        terms = self._selective(textsearch.query_terms(query))
        if not terms:
            return []
        expression = textsearch.match_expression(terms)
        scope_sql, scope_params = scope
        where = f" AND rowid IN ({scope_sql})" if scope_sql else ""
        # FTS5's bm25() is negative, best first
        return self.vault.rows(
            f"SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?{where} "
            "ORDER BY bm25(chunks_fts) LIMIT ?", (expression, *scope_params, limit))

    def _selective(self, terms: list[str]) -> list[str]:
        """Leave out terms found in more than COMMON_TERM_SHARE of the chunks (such as "r"
        in the R manuals): BM25 gives them little weight, but matching them makes FTS5
        score most of the library. The rarest term stays if all are common."""
        if len(terms) < 2:
            return terms
        marks = ",".join("?" * len(terms))
        frequency = dict(self.vault.rows(
            f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", tuple(terms)))
        limit = COMMON_TERM_SHARE * (self.vault.scalar("SELECT count(*) FROM chunks") or 1)
        kept = [t for t in terms if frequency.get(t, 0) <= limit]
        return kept or [min(terms, key=lambda t: frequency.get(t, 0))]

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
        lexical = [] if self.fusion == "dense" else self.bm25(query, self.candidates, scope)
        ids = [i for i in dict.fromkeys([i for i, _ in dense] + [i for i, _ in lexical])
               if i in self.index]
        if not ids:
            return []
        cosine = self._cosines(ids, query_vector)
        scores = self._fuse(ids, dense, lexical, cosine)
        best = sorted(ids, key=lambda i: -scores[i])[:k]
        return self._hits(best, scores, cosine)

    def _cosines(self, ids: list[int], query_vector: np.ndarray) -> dict[int, float]:
        vectors = self.index.vectors(ids)
        return dict(zip(ids, (vectors @ query_vector).tolist()))

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

    def _hits(self, ids: list[int], scores: dict[int, float],
              cosine: dict[int, float]) -> list[SearchHit]:
        marks = ",".join("?" * len(ids))
        rows = {row[0]: row for row in self.vault.rows(
            "SELECT c.id, c.document_id, d.name, d.path, c.page_start, c.text, c.char_start, "
            f"c.char_end FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN ({marks})",
            tuple(ids))}
        return [SearchHit(chunk_id=i, document_id=rows[i][1], document=rows[i][2],
                          path=rows[i][3], page=rows[i][4], score=round(scores[i], 4),
                          text=rows[i][5], char_start=rows[i][6], char_end=rows[i][7],
                          dense_similarity=round(cosine[i], 4))
                for i in ids if i in rows]
