"""The assembled pipeline: one object that opens the index and answers questions, shared by the CLI, app and evals."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from answer.extractive import ExtractiveAnswerer
from retrieve.rerank import Reranked, SentenceReranker, merge_parts
from retrieve.spelling import Speller
from index.embedder import get_embedder, known_words
from index.store import FileRecord, Store
from ingest.pipeline import ingest, rebuild_keyword_index
from retrieve.hybrid import HybridRetriever
from retrieve.query import part_query, prepare_query, split_question
from sendbot.config import Settings
from sendbot.models import Answer, Filters, IngestReport, Passage


class SendBot:
    """Question answering over the index in `settings.data_dir`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = get_embedder()
        self._lock = threading.Lock()
        self.reload()

    @classmethod
    def open(cls, settings: Settings, progress: Callable[[str], None] | None = None, show_bar: bool = False) -> "SendBot":
        """Open the index, ingesting the bundled corpus first when the data directory is empty."""
        if not Store(settings.data_dir).files:
            if progress:
                progress(f"The index in {settings.data_dir} is empty: ingesting the bundled corpus from {settings.corpus_dir} first.")
            ingest([settings.corpus_dir], settings, progress=progress, show_bar=show_bar)
        return cls(settings)

    def reload(self) -> None:
        """Pick up what an ingest changed (new, updated or removed documents)."""
        store = Store(self.settings.data_dir)
        keyword = rebuild_keyword_index(store, self.settings)
        retriever = HybridRetriever(store, keyword, self.embedder, self.settings.candidates, self.settings.rrf_k,
                                    self.settings.duplicate_similarity)
        reranker = SentenceReranker(self.embedder, retriever.chunks)
        speller = Speller([c.search_text for c in retriever.chunks], known_words())
        answerer = ExtractiveAnswerer(self.settings.answer_sentences, self.settings.min_evidence)
        with self._lock:
            self.store, self.retriever, self.reranker, self.answerer, self.speller = store, retriever, reranker, answerer, speller

    def ask(self, question: str, filters: Filters = Filters(), k: int | None = None) -> Answer:
        """Answer a question from the documents, with citations, or refuse."""
        return self.ask_with_passages(question, filters, k)[0]

    def ask_with_passages(self, question: str, filters: Filters = Filters(), k: int | None = None) -> tuple[Answer, list[Passage]]:
        """The answer and the passages it was composed from (the eval scores both)."""
        retriever, reranker, answerer = self.retriever, self.reranker, self.answerer
        query = prepare_query(question, self.speller)
        k = k or self.settings.top_k
        pool = max(k, self.settings.rerank_pool)
        found = retriever.search(query, pool, filters)
        ranked = reranker.rerank(query, found.passages, found.query_vector, pool)
        parts = split_question(query.cleaned) if query.cleaned else []
        if len(parts) < 2:
            ranked = Reranked(ranked.passages[:k], [s for s in ranked.sentences if s.passage < k])
            return answerer.answer(query, ranked), ranked.passages
        part_rankings = []
        for part in parts:  # a several-part question: make sure each part gets its own best sentence
            sub = part_query(query, part)
            sub_found = retriever.search(sub, pool, filters)
            part_rankings.append(reranker.rerank(sub, sub_found.passages, sub_found.query_vector, k))
        ranked, part_answers = merge_parts(ranked, part_rankings, k)
        return answerer.answer(query, ranked, part_answers), ranked.passages

    def documents(self) -> list[FileRecord]:
        """The indexed documents, newest first (undated last)."""
        return sorted(self.store.files.values(), key=lambda r: (r.date or "0000", r.title), reverse=True)

    def record(self, source: str) -> FileRecord | None:
        """The indexed document with this file name, or None."""
        return self.store.files.get(source)

    def ingest(self, paths: list[Path], prune: bool = False, progress: Callable[[str], None] | None = None) -> IngestReport:
        """Ingest files and make them searchable straight away."""
        report = ingest(paths, self.settings, prune=prune, progress=progress)
        self.reload()
        return report

    def remove(self, source: str) -> bool:
        """Remove a document from the index; False if it was not there."""
        if source not in self.store.files:
            return False
        self.store.remove_document(source)
        rebuild_keyword_index(self.store, self.settings, force=True)
        self.reload()
        return True
