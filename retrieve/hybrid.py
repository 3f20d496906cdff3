"""Hybrid search: Chroma dense results and BM25 results fused by reciprocal rank, near-duplicates collapsed."""

from __future__ import annotations

import numpy as np

from index.embedder import Embedder
from index.keyword import KeywordIndex
from index.store import Store
from sendbot.core.models import Chunk, Filters, Passage, Query, SearchResult


GUARANTEED_PER_SEARCH = 3
REMEMBERED_FILTERS = 64  # keyword masks kept per retriever: a deployment's filters repeat (one council, a few kinds)


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    """Fuse ranked id lists: each list adds 1/(k + rank) to an id's score (Cormack et al., 2009)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def chroma_where(filters: Filters) -> dict | None:
    """The Chroma metadata filter for document, kind and date-range restrictions."""
    clauses: list[dict] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    if filters.kinds:
        clauses.append({"kind": {"$in": list(filters.kinds)}})
    # A date range admits dated chunks inside it and undated ones (date_ord 0), whose period `Filters.admits`
    # then checks (Chroma cannot read "early 2022").
    dated = [{"date_ord": {"$gte": int(filters.date_from.strftime("%Y%m%d"))}}] if filters.date_from else []
    if filters.date_to:
        dated.append({"date_ord": {"$lte": int(filters.date_to.strftime("%Y%m%d"))}})
    if dated:
        in_range = dated[0] if len(dated) == 1 else {"$and": dated}
        clauses.append({"$or": [in_range, {"date_ord": 0}]})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class HybridRetriever:
    """Searches the live chunks; holds them in memory with their vectors for fusion and de-duplication."""

    def __init__(self, store: Store, keyword: KeywordIndex, embedder: Embedder, candidates: int = 30,
                 rrf_k: int = 60, duplicate_similarity: float = 0.93, leaders_within: int = 12) -> None:
        self.store = store
        self.leaders_within = leaders_within  # each search's own best few are placed among this many first
        self.keyword = keyword
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.duplicate_similarity = duplicate_similarity
        self.chunks, self.vectors = store.load_chunks()
        self.position = {chunk.id: i for i, chunk in enumerate(self.chunks)}
        self.keyword_rows = np.array([self.position.get(cid, -1) for cid in keyword.ids], dtype=np.int64)
        self._masks: dict[Filters, np.ndarray] = {}

    def search(self, query: Query, k: int = 5, filters: Filters = Filters()) -> SearchResult:
        """The top k distinct passages for the query within the filters."""
        vector = self.embedder.encode([query.expanded or query.question])[0]
        if not query.cleaned or not self.chunks:
            return SearchResult([], vector)
        # Only chunks of this retriever's snapshot count (Store.query returns rows of unlisted versions too).
        dense = [cid for cid, _ in self.store.query(vector, self.candidates, chroma_where(filters))
                 if cid in self.position and (not filters.active or filters.admits(self.chunk(cid)))]
        keyword = self._keyword_ranking(query.expanded, filters)
        fused = reciprocal_rank_fusion([dense, keyword], self.rrf_k)
        ordered = sorted(fused, key=lambda cid: -fused[cid])
        # Fusion favours passages both searches found; each search's own best few still deserve a look among the
        # first passages (the ones the reranker judges the evidence on), however many passages are asked for.
        window = min(k, self.leaders_within)
        leaders = [cid for cid in dense[:GUARANTEED_PER_SEARCH] + keyword[:GUARANTEED_PER_SEARCH] if cid not in ordered[:window]]
        ordered = list(dict.fromkeys(ordered[: max(0, window - len(set(leaders)))] + leaders + ordered))
        similarities = self.vectors[[self.position[cid] for cid in ordered]] @ vector if ordered else np.zeros(0)
        passages: list[Passage] = []
        kept_rows: list[int] = []
        for cid, similarity in zip(ordered, similarities):
            row = self.position[cid]
            if kept_rows and float(np.max(self.vectors[kept_rows] @ self.vectors[row])) >= self.duplicate_similarity:
                continue  # a near-copy of a passage already chosen (repeated text across documents or pages)
            kept_rows.append(row)
            passages.append(Passage(self.chunks[row], score=fused[cid], similarity=float(similarity)))
            if len(passages) == k:
                break
        return SearchResult(passages, vector)

    def _keyword_ranking(self, text: str, filters: Filters) -> list[str]:
        scores = self.keyword.scores(text)
        if scores.size == 0:
            return []
        scores = np.where(self._admitted(filters) & (scores > 0), scores, 0.0)
        top = np.argsort(-scores)[: self.candidates]
        return [self.keyword.ids[i] for i in top if scores[i] > 0]

    def _admitted(self, filters: Filters) -> np.ndarray:
        """Which keyword rows are live chunks the filters admit. Judging every chunk in Python costs time in
        proportion to the corpus (2.3 ms a question at 10x, ~25 ms at 100x), so each distinct filter is judged once
        per index state; the chunks are fixed for this retriever's life, so a mask never goes stale."""
        mask = self._masks.get(filters)
        if mask is None:
            mask = self.keyword_rows >= 0
            if filters.active:
                mask &= np.array([row >= 0 and filters.admits(self.chunks[row]) for row in self.keyword_rows], dtype=bool)
            if len(self._masks) >= REMEMBERED_FILTERS:
                self._masks.clear()
            self._masks[filters] = mask
        return mask

    def chunk(self, chunk_id: str) -> Chunk:
        """A live chunk by id."""
        return self.chunks[self.position[chunk_id]]
