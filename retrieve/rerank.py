"""Sentence-level reranking: score each sentence of the candidate passages against the question.

Passages are chunks that mix several points; the sentence that answers a question is what matters, so passages
are re-ordered by their best sentence and the answerer composes from the scored sentences.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from index.embedder import Embedder
from retrieve.query import glossary
from retrieve.units import Unit, answer_units
from sendbot.core.models import Chunk, Passage, Query, Reranked, ScoredSentence
from sendbot.core.text import content_words, looks_like_heading, looks_like_instruction

# Words that carry the shape of a question, not its topic.
QUESTION_WORDS = frozenset(
    "happen happens happened say said says tell mean means stand stands does did done going go give given "
    "find know want need like thing things way ways people someone anyone something anything".split()
)
_NUMBER_QUESTION = re.compile(r"\b(how many|how much|what number|what percentage|what proportion|how long|what share)\b", re.I)
_DATE_QUESTION = re.compile(r"\b(when|what date|by when|what year|deadline|by what date)\b", re.I)
_HAS_NUMBER = re.compile(r"\b(?!(?:19|20)\d\d\b)\d[\d,.]*")  # a count or amount, not a year
_HAS_DATE = re.compile(r"\b(19|20)\d\d\b|\b(January|February|March|April|May|June|July|August|September|October|November|December)\b")
_PROMISE_QUESTION = re.compile(r"\b(promis\w*|commit\w*|pledge\w*|undert\w*|assur\w*|guarantee\w*)\b", re.I)
_HAS_COMMITMENT = re.compile(r"\b(would|will|shall|by the end of|committed|commitment|assurance|intends?)\b", re.I)
_DEFINITION_QUESTION = re.compile(
    r"\b(mean|means|meaning|stand for|stands for|short for|definition|define)\b"
    r"|^\W*(what|who)(\s+is|\s+are|'s)(\s+the)?\s+[A-Z][A-Za-z]*[A-Z][A-Za-z]*s?\W*$",  # "What is WCF?"
    re.I,
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")

LONG_SENTENCE_WORDS = 40  # words past this count against a sentence: run-on table text makes a poor answer

# What a unit is scored on, and each feature's weight: meaning (MiniLM cosine), coverage of the question's rarer
# words and the passage's similarity carry the score; answer-type cues ("how many" answered with a number, "when"
# with a date, "what was promised" with a will/would, "what does X mean" with a definition), a year the question
# names, questions in the documents and run-on length add or take a little. Set by hand; a logistic regression
# trained on the dev split ranked single units better but answered worse end to end (see the commit history).
FEATURES = ("semantic", "lexical", "passage_similarity", "number_match", "number_missing", "date_match",
            "date_missing", "defines", "commitment", "year_far", "year_near", "is_question", "excess_words")
WEIGHTS = np.array([0.45, 0.35, 0.20, 0.05, -0.1, 0.05, -0.1, 0.1, 0.05, -0.15, -0.05, -0.1, -0.002])
_ASKS_ABOUT_QUESTIONS = re.compile(r"\b(ask|asked|question|questions|raise|raised)\b", re.I)
SENTENCES_TO_EMBED = 20


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def stems(text: str) -> set[str]:
    """Stemmed content words of a text."""
    return {_stem(w) for w in content_words(text)}


@functools.lru_cache(maxsize=4096)
def context_stems(text: str) -> frozenset[str]:
    """Stems of a unit's context (its chunk's headings and table header, the question it responds to): the same
    few texts recur across a passage's units and across questions, so they are stemmed once."""
    return frozenset(stems(text))


def merge_parts(whole: Reranked, parts: list[Reranked], k: int) -> tuple[Reranked, list[ScoredSentence]]:
    """Combine the ranking for a whole question with those for its parts.

    Returns the whole question's top k passages plus any passage holding a part's best sentence, every sentence
    of those passages, and each part's best sentence (which the answer must try to include).
    """
    passages = list(whole.passages[:k])
    position = {p.chunk.id: i for i, p in enumerate(passages)}
    sentences = {(s.passage, s.start, s.end): s for s in whole.sentences if s.passage < k}
    required = []
    for part in parts:
        for rank, sentence in enumerate(part.sentences):
            chunk_id = part.passages[sentence.passage].chunk.id
            if chunk_id not in position and rank > 0:
                continue  # only a part's best sentence may bring in a passage of its own
            if chunk_id not in position:
                position[chunk_id] = len(passages)
                passages.append(part.passages[sentence.passage])
            moved = replace(sentence, passage=position[chunk_id])
            key = (moved.passage, moved.start, moved.end)
            if key not in sentences or sentences[key].score < moved.score:
                sentences[key] = moved
            if rank == 0:
                required.append(sentences[key])
    return replace(whole, passages=passages, sentences=sorted(sentences.values(), key=lambda s: -s.score)), required


def answers_something(text: str, start: int, end: int) -> bool:
    """False for headings and lead-ins ("... as follows:"), which state nothing on their own, and for sentences
    planted in a document to steer an AI assistant, which must never reach a reader as an answer."""
    sentence = text[start:end]
    if len(content_words(sentence)) < 3 or sentence.endswith(":") or looks_like_instruction(sentence):
        return False
    whole_line = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
    return not (whole_line and looks_like_heading(sentence))


def _defined_terms(question: str) -> list[re.Pattern]:
    """For "what does X mean?": patterns of sentences that define X ("... (X)", "X stands for", "X means")."""
    terms = re.findall(r"\b[A-Z][A-Za-z]*[A-Z][A-Za-z]*\b", question)  # acronyms such as SEMH, SENCo, EHCP
    return [re.compile(rf"\({re.escape(t)}s?\)|\b{re.escape(t)} (stands for|means|is short for)", re.I) for t in terms]


@dataclass(frozen=True)
class QuestionProfile:
    """What the question asks for, worked out once and used to score every unit."""

    groups: list[tuple[set[str], float]]  # each content word with its expansions, weighted by rarity
    wants_number: bool
    wants_date: bool
    wants_commitment: bool
    defined: list[re.Pattern]
    years: set[str]
    asks_about_questions: bool

    @property
    def total_weight(self) -> float:
        return sum(w for _, w in self.groups) or 1.0


def unit_features(profile: QuestionProfile, sentence: str, words: set[str], passage: Passage,
                  passage_years: set[str], unit: Unit) -> np.ndarray:
    """The unit's features (FEATURES order) with 0 for "semantic", which needs the unit's vector."""
    sentence_years = set(_YEAR.findall(sentence))
    has_number, has_date = bool(_HAS_NUMBER.search(sentence)), bool(_HAS_DATE.search(sentence))
    return np.array([
        0.0,
        sum(w for group, w in profile.groups if group & words) / profile.total_weight,
        passage.similarity,
        profile.wants_number and has_number,
        profile.wants_number and not has_number,
        profile.wants_date and has_date,
        profile.wants_date and not has_date,
        any(d.search(sentence) for d in profile.defined),
        profile.wants_commitment and bool(_HAS_COMMITMENT.search(sentence)),
        bool(profile.years - passage_years),  # the question's year is nowhere near
        bool(profile.years & passage_years) and bool(profile.years - sentence_years),  # near, not in this unit
        unit.kind == "question" and not profile.asks_about_questions,
        max(0, len(sentence.split()) - LONG_SENTENCE_WORDS),
    ], dtype=np.float64)


class SentenceReranker:
    """Scores answer units by meaning (MiniLM), rare-term overlap (idf over the indexed chunks) and passage
    similarity, with answer-type cues."""

    def __init__(self, embedder: Embedder, chunks: list[Chunk], weights: np.ndarray = WEIGHTS) -> None:
        self.embedder = embedder
        self.weights = weights
        frequency = Counter(s for chunk in chunks for s in stems(chunk.search_text))
        total = max(len(chunks), 1)
        self.idf = {term: math.log(1 + total / count) for term, count in frequency.items()}
        self.default_idf = math.log(1 + total)
        self._vectors: dict[tuple[str, int, int], np.ndarray] = {}

    def profile(self, query: Query) -> QuestionProfile:
        """What the question asks for."""
        text = query.cleaned
        return QuestionProfile(
            groups=self._term_groups(query), wants_number=bool(_NUMBER_QUESTION.search(text)),
            wants_date=bool(_DATE_QUESTION.search(text)), wants_commitment=bool(_PROMISE_QUESTION.search(text)),
            defined=_defined_terms(text) if _DEFINITION_QUESTION.search(text) else [],
            years=set(_YEAR.findall(text)), asks_about_questions=bool(_ASKS_ABOUT_QUESTIONS.search(text)),
        )

    def rerank(self, query: Query, candidates: list[Passage], query_vector: np.ndarray, k: int) -> Reranked:
        """The k passages with the best units, and the scored units of those passages (best first)."""
        rough = self.candidate_units(self.profile(query), candidates)
        rough.sort(key=lambda r: -float(r[0] @ self.weights))  # without meaning yet: that needs the vectors
        shortlist = rough[:SENTENCES_TO_EMBED]
        vectors = self.unit_vectors([(candidates[i].chunk.id, a, b, text) for _, i, a, b, text in shortlist])
        scored = []
        for (features, i, a, b, _), vector in zip(shortlist, vectors):
            features[0] = float(vector @ query_vector)
            scored.append((float(features @ self.weights), i, a, b, vector))
        scored.sort(key=lambda r: -r[0])
        best_by_passage: dict[int, float] = {}
        for score, i, *_ in scored:
            best_by_passage.setdefault(i, score)
        order = sorted(range(len(candidates)), key=lambda i: (-best_by_passage.get(i, -1.0), i))[:k]
        new_index = {old: new for new, old in enumerate(order)}
        sentences = [ScoredSentence(new_index[i], a, b, score, vector) for score, i, a, b, vector in scored if i in new_index]
        return Reranked([candidates[i] for i in order], sentences)

    def candidate_units(self, profile: QuestionProfile, candidates: list[Passage]) -> list[tuple]:
        """(features, passage index, start, end, text) for every unit of the candidate passages that could answer."""
        rough = []
        for i, passage in enumerate(candidates):
            text = passage.chunk.text
            context = context_stems(passage.chunk.context)
            passage_years = set(_YEAR.findall(passage.chunk.search_text))
            for unit in answer_units(text):
                if not answers_something(text, unit.start, unit.end):
                    continue
                sentence = text[unit.start : unit.end]
                words = stems(sentence) | context | context_stems(unit.responds_to)
                features = unit_features(profile, sentence, words, passage, passage_years, unit)
                rough.append((features, i, unit.start, unit.end, sentence))
        return rough

    def _term_groups(self, query: Query) -> list[tuple[set[str], float]]:
        """Each question term with its acronym expansions (any one matching counts), weighted by rarity."""
        expansions = {a.lower(): e for a, e in glossary()}
        groups = []
        for word in dict.fromkeys(content_words(query.cleaned)):
            if word in QUESTION_WORDS:
                continue
            group = {_stem(word)}
            for expansion in expansions.get(word, expansions.get(word.rstrip("s"), ())):
                group |= stems(expansion)
            groups.append((group, max(self.idf.get(_stem(word), self.default_idf), 0.1)))
        return groups

    def unit_vectors(self, items: list[tuple[str, int, int, str]]) -> list[np.ndarray]:
        """Sentence vectors, cached per (chunk, span) for the life of the process."""
        missing = [item for item in items if item[:3] not in self._vectors]
        if missing:
            for item, vector in zip(missing, self.embedder.encode([s for *_, s in missing])):
                self._vectors[item[:3]] = vector
        return [self._vectors[item[:3]] for item in items]
