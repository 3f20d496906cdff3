"""Hybrid search: dense (MiniLM cosine) and BM25 rankings fused by reciprocal rank, near-duplicates collapsed.

Chroma is the store of record (shared by every process in server mode); the retriever loads its live chunks and
their vectors once per index state and searches them exactly, in memory. It needs the vectors in memory anyway
(near-duplicates are judged on them), and an exact search is repeatable. Chroma's approximate (HNSW) neighbours
were neither: on a busy machine 19 of 169 dev questions' top 30 held other chunks than the exact top 30, and the
passages or the answer of 8 of them changed from one run to the next. At 100x the bundled corpus (46,455 chunks)
the exact search is one matrix-vector product of about 18 million multiply-adds.
"""

from __future__ import annotations

import numpy as np

from index.embedder import Embedder
from index.keyword import KeywordIndex
from index.store import Store
from sendbot.core.config import Settings
from sendbot.core.models import Chunk, Filters, Passage, Query, SearchResult


GUARANTEED_PER_SEARCH = 3
REMEMBERED_FILTERS = 64  # filter masks kept per retriever: a deployment's filters repeat (one council, a few kinds)


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    """Fuse ranked id lists: each list adds 1/(k + rank) to an id's score (Cormack et al., 2009)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


class HybridRetriever:
    """Searches the live chunks; holds them in memory with their vectors for fusion and de-duplication."""

    def __init__(self, store: Store, keyword: KeywordIndex, embedder: Embedder, candidates: int = 30,
                 rrf_k: int = 60, duplicate_similarity: float = 0.93,
                 leaders_within: int = Settings.evidence_pool) -> None:
        self.leaders_within = leaders_within  # each search's own best few are placed among this many first
        self.keyword = keyword
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.duplicate_similarity = duplicate_similarity
        self.chunks, self.vectors = store.load_chunks()
        self.position = {chunk.id: i for i, chunk in enumerate(self.chunks)}
        rows = np.array([self.position.get(cid, -1) for cid in keyword.ids], dtype=np.int64)
        # the keyword index may hold rows of versions this snapshot lacks: those are never admitted
        self.keyword_live = rows >= 0
        self.keyword_rows = np.where(self.keyword_live, rows, 0)  # each keyword row's chunk row (0 where not live)
        self._masks: dict[Filters, np.ndarray] = {}

    def search(self, query: Query, k: int = 5, filters: Filters = Filters()) -> SearchResult:
        """The top k distinct passages for the query within the filters."""
        vector = self.embedder.encode([query.expanded or query.question])[0]
        if not query.cleaned or not self.chunks:
            return SearchResult([], vector)
        admitted = self._admitted(filters)
        similarity = self.vectors @ vector
        dense = self._dense_ranking(similarity, admitted)
        keyword_scores = self._keyword_scores(query.expanded, admitted)
        keyword = list(keyword_scores)
        fused = reciprocal_rank_fusion([dense, keyword], self.rrf_k)
        ordered = sorted(fused, key=lambda cid: -fused[cid])
        # Fusion favours passages both searches found; each search's own best few still deserve a look among the
        # first passages (the ones the reranker judges the evidence on), however many passages are asked for.
        window = min(k, self.leaders_within)
        leaders = [cid for cid in dense[:GUARANTEED_PER_SEARCH] + keyword[:GUARANTEED_PER_SEARCH]
                   if cid not in ordered[:window]]
        ordered = list(dict.fromkeys(ordered[: max(0, window - len(set(leaders)))] + leaders + ordered))
        passages: list[Passage] = []
        kept_rows: list[int] = []
        for cid in ordered:
            row = self.position[cid]
            if kept_rows and float(np.max(self.vectors[kept_rows] @ self.vectors[row])) >= self.duplicate_similarity:
                continue  # a near-copy of a passage already chosen (repeated text across documents or pages)
            kept_rows.append(row)
            passages.append(Passage(self.chunks[row], score=fused[cid], similarity=float(similarity[row]),
                                    keyword=keyword_scores.get(cid, 0.0)))
            if len(passages) == k:
                break
        return SearchResult(passages, vector)

    def _dense_ranking(self, similarity: np.ndarray, admitted: np.ndarray) -> list[str]:
        """The admitted chunks nearest in meaning, best first: the exact top `candidates`."""
        scores = np.where(admitted, similarity, -np.inf)
        n = min(self.candidates, int(admitted.sum()))
        if not n:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        return [self.chunks[i].id for i in top[np.argsort(-scores[top], kind="stable")]]

    def _keyword_scores(self, text: str, admitted: np.ndarray) -> dict[str, float]:
        """The admitted chunks the keyword search finds, best first: the top `candidates`, by id with their score."""
        scores = self.keyword.scores(text)
        if scores.size == 0:
            return {}
        keep = self.keyword_live & admitted[self.keyword_rows] & (scores > 0)
        scores = np.where(keep, scores, 0.0)
        top = np.argsort(-scores)[: self.candidates]
        return {self.keyword.ids[i]: float(scores[i]) for i in top if scores[i] > 0}

    def _admitted(self, filters: Filters) -> np.ndarray:
        """Which chunks (rows of `self.chunks`) the filters admit. Judging every chunk in Python costs time in
        proportion to the corpus (2.3 ms a question at 10x, ~25 ms at 100x), so each distinct filter is judged once
        per index state; the chunks are fixed for this retriever's life, so a mask never goes stale."""
        mask = self._masks.get(filters)
        if mask is None:
            mask = np.array([filters.admits(chunk) for chunk in self.chunks] if filters.active else
                            [True] * len(self.chunks), dtype=bool)
            if len(self._masks) >= REMEMBERED_FILTERS:
                self._masks.clear()
            self._masks[filters] = mask
        return mask

    def chunk(self, chunk_id: str) -> Chunk:
        """A live chunk by id."""
        return self.chunks[self.position[chunk_id]]
