"""The assembled pipeline: one frozen value that answers questions, and the bot that swaps it when the index changes.

A question reads `SendBot.pipeline` once and runs entirely on that value, so a reload (a new `Pipeline` built
beside the old one, then one reference swapped) can never mix old and new parts inside one answer.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from answer import refusal
from answer.extractive import ExtractiveAnswerer
from answer.generated import LLMAnswerer, make_llm
from commitments.chat import with_register
from index.embedder import Embedder, embedder_for, known_words
from index.keyword import refresh_keyword_index
from index.store import Store, open_store
from index.watch import RegistryWatcher
from ingest.pipeline import ingest
from retrieve.hybrid import HybridRetriever
from retrieve.query import glossary_words, part_query, prepare_query, split_question
from retrieve.rerank import SentenceReranker, merge_parts
from retrieve.spelling import Speller
from sendbot.core.config import Settings
from sendbot.core.models import Answer, FileRecord, Filters, IngestReport, Passage
from sendbot.core.stages import Answerer, QueryCorrector, Reranker, Retriever
from sendbot.core.text import clean_input, content_words
from sendbot.core.topics import passage_topics


# Searching each part of a several-part question multiplies its cost by the number of parts. One such question at
# a time may do it; while it does, the others are answered from the whole question, so a crowd of long questions
# cannot take the processor from everyone else.
_PART_SEARCHES = threading.BoundedSemaphore(1)


@dataclass(frozen=True)
class Pipeline:
    """The stages that answer a question, over one state of the index."""

    settings: Settings
    store: Store
    retriever: Retriever
    reranker: Reranker
    answerer: Answerer
    speller: QueryCorrector

    def ask(self, question: str, filters: Filters = Filters(), k: int | None = None) -> tuple[Answer, list[Passage]]:
        """The answer and the passages it was composed from (the eval scores both).

        Every input gets an Answer: text that is too long, or has nothing to search for, is refused with its
        reason before any search. A several-part question searches each part (up to `max_question_parts`) while
        the time budget lasts, so one costly question cannot hold a worker for long.
        """
        started = time.perf_counter()
        question = clean_input(question)
        if len(question) > self.settings.max_question_chars:
            return refusal.too_long(question, self.settings.max_question_chars), []
        query = prepare_query(question, self.speller)
        if not query.cleaned:
            return refusal.no_question(question), []
        if not content_words(query.cleaned):
            return refusal.no_search_words(question), []
        k = k or self.settings.top_k
        pool = max(k, self.settings.rerank_pool)
        found = self.retriever.search(query, pool, filters)
        ranked = self.reranker.rerank(query, found.passages, found.query_vector, pool)
        nearby = ranked.passages  # the whole ranked pool: a refusal offers the topics of these
        parts = split_question(query.cleaned)[: self.settings.max_question_parts]
        # A one-part question, or one asked while another several-part question is searching, is answered whole.
        if len(parts) < 2 or not _PART_SEARCHES.acquire(blocking=False):
            ranked = ranked.top(k)
            return _offering_nearby(self.answerer.answer(query, ranked), nearby), ranked.passages
        # A part's own answer is sought among its evidence pool's passages: the whole question's ranking already
        # reached further, and each part searched as far would multiply the cost of a long question.
        part_pool = max(k, self.settings.evidence_pool)
        try:
            part_rankings = []
            for part in parts:  # a several-part question: make sure each part gets its own best sentence
                if time.perf_counter() - started > self.settings.question_seconds:
                    break
                sub = part_query(query, part)
                sub_found = self.retriever.search(sub, part_pool, filters)
                part_rankings.append(self.reranker.rerank(sub, sub_found.passages, sub_found.query_vector, k))
        finally:
            _PART_SEARCHES.release()
        ranked, part_answers = merge_parts(ranked, part_rankings, k)
        return _offering_nearby(self.answerer.answer(query, ranked, part_answers), nearby), ranked.passages


def _offering_nearby(answer: Answer, nearby: list[Passage]) -> Answer:
    """The reply with the topics to offer next, taken from the whole ranked pool, not only the top k passages (a
    few passages rarely carry a section title fit to offer): for an answer, the clean section titles it does not
    quote; for a "not in these documents" refusal, its nearest topics."""
    if answer.reason == "not_found":
        return replace(answer, nearest_topics=tuple(refusal.nearest_topics(nearby)))
    if answer.refused:
        return answer
    quoted = [c.section for c in answer.citations] + [answer.question]
    return replace(answer, nearest_topics=tuple(passage_topics(nearby, exclude=quoted)))


def build_pipeline(settings: Settings, embedder: Embedder | None = None, **overrides) -> Pipeline:
    """The default stages over the index in `settings.data_dir`; `overrides` replace any stage by name.

    Calibration passes `answerer=` (one that never refuses), baselines pass `retriever=`; nothing is patched.
    """
    embedder = embedder or embedder_for(settings)
    store = overrides.pop("store", None) or open_store(settings)
    store.check_encoder()  # refused at start, not at the first question, if the index holds another encoder's vectors
    keyword = refresh_keyword_index(store, settings.bm25_dir)
    retriever = overrides.pop("retriever", None) or HybridRetriever(
        store, keyword, embedder, settings.candidates, settings.rrf_k, settings.duplicate_similarity,
        settings.evidence_pool)
    stages = {
        "reranker": lambda: SentenceReranker(embedder, retriever.chunks, stored=store.unit_vectors,
                                             evidence_pool=settings.evidence_pool),
        "answerer": lambda: default_answerer(settings, lambda a: with_register(a, settings, store, retriever.chunks)),
        "speller": lambda: Speller([c.search_text for c in retriever.chunks], known_words() | glossary_words()),
    }
    unknown = set(overrides) - set(stages)
    if unknown:
        raise TypeError(f"build_pipeline() has no stage {', '.join(sorted(unknown))}")
    built = {name: overrides.get(name) or make() for name, make in stages.items()}
    return Pipeline(settings=settings, store=store, retriever=retriever, **built)


def default_answerer(settings: Settings, register: Callable[[Answerer], Answerer] = lambda a: a) -> Answerer:
    """The extractive answerer (behind `register`, which answers promise questions from the commitments register);
    wrapped by the guarded language model answerer when SENDBOT_LLM_URL is set."""
    extractive = register(ExtractiveAnswerer(settings.answer_sentences, settings.min_evidence, settings.answer_words,
                                             settings.confident_evidence))
    if not settings.llm_configured:
        return extractive
    return LLMAnswerer(extractive, make_llm(settings))


class SendBot:
    """Question answering over the index in `settings.data_dir`, kept in step with ingests and removals."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = embedder_for(settings)
        self._changes = threading.Lock()  # one reload, ingest or removal at a time; questions never wait on it
        self.pipeline = build_pipeline(settings, self.embedder)
        # On a shared Chroma server other processes ingest and remove too: follow them (index/watch.py).
        self.watcher = RegistryWatcher(self, settings.sync_seconds).start() if settings.chroma_url else None

    @property
    def store(self) -> Store:
        """The store the current pipeline answers from (with the registry snapshot it was built on)."""
        return self.pipeline.store

    @classmethod
    def open(cls, settings: Settings, progress: Callable[[str], None] | None = None, show_bar: bool = False) -> "SendBot":
        """Open the index, ingesting the bundled corpus first when the data directory is empty."""
        if not open_store(settings).files:
            if progress:
                progress(f"The index in {settings.data_dir} is empty: ingesting the bundled corpus from {settings.corpus_dir} first.")
            ingest([settings.corpus_dir], settings, progress=progress, show_bar=show_bar)
        return cls(settings)

    def reload(self) -> None:
        """Pick up what an ingest changed: build a new pipeline, then swap the one reference questions read."""
        with self._changes:
            self.pipeline = build_pipeline(self.settings, self.embedder)

    def ask(self, question: str, filters: Filters = Filters(), k: int | None = None) -> Answer:
        """Answer a question from the documents, with citations, or refuse."""
        return self.pipeline.ask(question, filters, k)[0]

    def ask_with_passages(self, question: str, filters: Filters = Filters()) -> tuple[Answer, list[Passage]]:
        """The answer and the passages it was composed from (the web app offers their topics to ask next)."""
        return self.pipeline.ask(question, filters)

    def vocabulary(self) -> frozenset[str]:
        """Every content word of the indexed passages, their sections and titles (to say which words of a question
        no document uses); computed once per state of the index."""
        pipeline = self.pipeline
        cached = getattr(self, "_vocabulary", None)
        if cached is None or cached[0] is not pipeline:
            chunks = pipeline.retriever.chunks
            cached = (pipeline, frozenset(w for c in chunks for w in content_words(f"{c.title}\n{c.search_text}")))
            self._vocabulary = cached
        return cached[1]

    def documents(self) -> list[FileRecord]:
        """The indexed documents, newest first (undated last)."""
        return sorted(self.pipeline.store.files.values(), key=lambda r: (r.date or "0000", r.title), reverse=True)

    def record(self, source: str) -> FileRecord | None:
        """The indexed document with this source name, or None."""
        return self.pipeline.store.files.get(source)

    def ingest(self, paths: list[Path], prune: bool = False, progress: Callable[[str], None] | None = None) -> IngestReport:
        """Ingest files and make them searchable straight away."""
        with self._changes:
            report = ingest(paths, self.settings, prune=prune, progress=progress)
            self.pipeline = build_pipeline(self.settings, self.embedder)
        return report

    def remove(self, source: str) -> bool:
        """Remove a document from the index; False if it was not there."""
        with self._changes:
            store = open_store(self.settings)
            if source not in store.files:
                return False
            store.remove_document(source)
            refresh_keyword_index(store, self.settings.bm25_dir, force=True)
            self.pipeline = build_pipeline(self.settings, self.embedder, store=store)
        return True
