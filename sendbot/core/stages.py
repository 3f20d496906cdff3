"""The pipeline's stages as Protocols: what each one takes and gives, so any implementation can stand in.

A question flows query -> Retriever -> Reranker -> Answerer; `sendbot.bot.build_pipeline` wires concrete stages
together, and tests or the eval's baselines can pass their own.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from sendbot.core.models import Answer, Chunk, Filters, Passage, Query, Reranked, ScoredSentence, SearchResult


class QueryCorrector(Protocol):
    """Repairs the words of a question (misspellings) before it is searched."""

    def correct(self, text: str) -> str: ...


class Retriever(Protocol):
    """Finds the passages most likely to answer a query, within the filters."""

    chunks: list[Chunk]

    def search(self, query: Query, k: int, filters: Filters) -> SearchResult: ...


class Reranker(Protocol):
    """Scores the sentences of candidate passages against the query and reorders the passages by them."""

    def rerank(self, query: Query, candidates: list[Passage], query_vector: np.ndarray, k: int) -> Reranked: ...


class Answerer(Protocol):
    """Composes the reply from reranked passages: cited sentences, or a refusal."""

    def answer(self, query: Query, ranked: Reranked, part_answers: Sequence[ScoredSentence] = ()) -> Answer: ...
