"""The default answerer: picks the retrieved sentences that best answer the question and cites each one.

No language model is involved, so every sentence of an answer is a verbatim sentence of a document.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from index.embedder import Embedder
from ingest.chunking import looks_like_heading
from retrieve.query import Query, glossary
from sendbot.models import Answer, AnswerSentence, Chunk, Citation, Passage
from sendbot.prompts import load_prompt
from sendbot.text import content_words, split_sentences

# Words that carry the shape of a question, not its topic.
QUESTION_WORDS = frozenset(
    "happen happens happened say said says tell mean means stand stands does did done going go give given "
    "find know want need like thing things way ways people someone anyone something anything".split()
)
_NUMBER_QUESTION = re.compile(r"\b(how many|how much|what number|what percentage|what proportion|how long|cost)\b", re.I)
_DATE_QUESTION = re.compile(r"\b(when|what date|by when|what year|deadline)\b", re.I)
_HAS_NUMBER = re.compile(r"\d")
_HAS_DATE = re.compile(r"\b(19|20)\d\d\b|\b(January|February|March|April|May|June|July|August|September|October|November|December)\b")

SEMANTIC_WEIGHT, LEXICAL_WEIGHT, PASSAGE_WEIGHT = 0.45, 0.35, 0.20
ANSWER_TYPE_BONUS = 0.05
KEEP_RATIO = 0.85  # further sentences must score this share of the best one
REDUNDANT_SIMILARITY = 0.9


@functools.cache
def _stem(word: str) -> str:
    import Stemmer

    return _stemmer().stemWord(word)


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> set[str]:
    """Stemmed content words of a text."""
    return {_stem(w) for w in content_words(text)}


@dataclass(frozen=True)
class ScoredSentence:
    passage: int  # index into the retrieved passages
    start: int
    end: int
    score: float
    vector: np.ndarray


class ExtractiveAnswerer:
    """Composes cited answers from passages; `idf` comes from the indexed chunks to weight rare terms."""

    def __init__(self, embedder: Embedder, chunks: list[Chunk], max_sentences: int = 3, min_evidence: float = 0.4) -> None:
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.min_evidence = min_evidence
        frequency = Counter(s for chunk in chunks for s in stems(chunk.search_text))
        total = max(len(chunks), 1)
        self.idf = {term: math.log(1 + total / count) for term, count in frequency.items()}
        self.default_idf = math.log(1 + total)

    def answer(self, query: Query, passages: list[Passage], query_vector: np.ndarray) -> Answer:
        """A cited answer to the query from the passages, or a refusal naming the nearest topics."""
        if not query.cleaned:
            return Answer(query.question, (), (), refused=True, message=load_prompt("no_question.txt"))
        scored = self._score_sentences(query, passages, query_vector)
        best = max((s.score for s in scored), default=0.0)
        if best < self.min_evidence:
            return self._refusal(query, passages, best)
        chosen = self._choose(scored, best)
        return self._compose(query, passages, chosen, best)

    def _term_groups(self, query: Query) -> list[tuple[set[str], float]]:
        """Each question term with its acronym expansions (any one matching counts), weighted by rarity."""
        groups = []
        expansions = {a.lower(): e for a, e in glossary()}
        for word in dict.fromkeys(content_words(query.cleaned)):
            if word in QUESTION_WORDS:
                continue
            group = {_stem(word)}
            for expansion in expansions.get(word.rstrip("s"), expansions.get(word, ())):
                group |= stems(expansion)
            weight = max(self.idf.get(_stem(word), self.default_idf), 0.1)
            groups.append((group, weight))
        return groups

    def _score_sentences(self, query: Query, passages: list[Passage], query_vector: np.ndarray) -> list[ScoredSentence]:
        spans = []
        for i, passage in enumerate(passages):
            text = passage.chunk.text
            for span in split_sentences(text):
                sentence = text[span.start : span.end]
                if _answers_something(text, span.start, span.end):
                    spans.append((i, span.start, span.end, sentence))
        if not spans:
            return []
        vectors = self.embedder.encode([s for *_, s in spans])
        semantic = vectors @ query_vector
        groups = self._term_groups(query)
        total_weight = sum(w for _, w in groups) or 1.0
        wants_number = bool(_NUMBER_QUESTION.search(query.cleaned))
        wants_date = bool(_DATE_QUESTION.search(query.cleaned))
        scored = []
        for (i, start, end, sentence), sim, vector in zip(spans, semantic, vectors):
            words = stems(sentence) | stems(passages[i].chunk.section)
            lexical = sum(w for group, w in groups if group & words) / total_weight
            score = SEMANTIC_WEIGHT * float(sim) + LEXICAL_WEIGHT * lexical + PASSAGE_WEIGHT * passages[i].similarity
            if (wants_number and _HAS_NUMBER.search(sentence)) or (wants_date and _HAS_DATE.search(sentence)):
                score += ANSWER_TYPE_BONUS
            scored.append(ScoredSentence(i, start, end, score, vector))
        return scored

    def _choose(self, scored: list[ScoredSentence], best: float) -> list[ScoredSentence]:
        chosen: list[ScoredSentence] = []
        for candidate in sorted(scored, key=lambda s: -s.score):
            if len(chosen) == self.max_sentences or candidate.score < KEEP_RATIO * best:
                break
            if any(float(candidate.vector @ c.vector) >= REDUNDANT_SIMILARITY for c in chosen):
                continue
            chosen.append(candidate)
        return chosen

    def _compose(self, query: Query, passages: list[Passage], chosen: list[ScoredSentence], best: float) -> Answer:
        numbers: dict[int, int] = {}
        for sentence in chosen:
            numbers.setdefault(sentence.passage, len(numbers) + 1)
        citations = []
        for index, n in numbers.items():
            passage = passages[index]
            mine = [s for s in chosen if s.passage == index]
            start, end = min(s.start for s in mine), max(s.end for s in mine)
            chunk = passage.chunk
            citations.append(Citation(
                n=n, source=chunk.source, title=chunk.title, date=chunk.date, page=chunk.page, section=chunk.section,
                text=chunk.text, quote=chunk.text[start:end], score=round(max(s.score for s in mine), 4),
                kind=chunk.kind, period=chunk.period,
            ))
        sentences = tuple(
            AnswerSentence(passages[s.passage].chunk.text[s.start : s.end], (numbers[s.passage],)) for s in chosen
        )
        return Answer(query.question, sentences, tuple(citations), refused=False, evidence=round(best, 4))

    def _refusal(self, query: Query, passages: list[Passage], best: float) -> Answer:
        topics = nearest_topics(passages)
        message = load_prompt("refusal.txt")
        if topics:
            message += " " + load_prompt("nearest_topics.txt").format(topics="; ".join(topics))
        return Answer(query.question, (), (), refused=True, message=message, nearest_topics=tuple(topics), evidence=round(best, 4))


def _answers_something(text: str, start: int, end: int) -> bool:
    """False for headings and lead-ins ("... as follows:"), which state nothing on their own."""
    sentence = text[start:end]
    if len(content_words(sentence)) < 3 or sentence.endswith(":"):
        return False
    whole_line = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
    return not (whole_line and looks_like_heading(sentence))


def nearest_topics(passages: list[Passage], limit: int = 3) -> list[str]:
    """Short labels for the closest passages: their section and document."""
    topics: list[str] = []
    for passage in passages:
        chunk = passage.chunk
        label = chunk.section if chunk.section and chunk.section != chunk.title else chunk.title
        label = " ".join(label.split()[:12])
        if label not in topics:
            topics.append(label)
        if len(topics) == limit:
            break
    return topics
