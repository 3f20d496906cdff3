"""Sentence-level reranking: score each sentence of the candidate passages against the question.

Passages are chunks that mix several points; the sentence that answers a question is what matters, so passages
are re-ordered by their best sentence (and their keyword score) and the answerer composes from the scored sentences.

Two scores are kept apart: which unit answers best is a learned ranking (unit_ranker.json, trained on the golden
set's dev split by `sendbot eval --train`); whether the documents answer at all (the evidence the answerer refuses
on) is the hand-weighted score of the best unit, which separated answerable from unanswerable questions better.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from index.embedder import Embedder
from retrieve.query import (ANSWER_SHAPE_WORDS, CONTACT_QUESTION, DEFINITION_QUESTION, MONTH, NUMBER_QUESTION,
                            PERCENT, PERSON_QUESTION, PHONE, QUESTION_WORDS, RATING, RATING_QUESTION, SHARE_QUESTION,
                            asking_part, asks_for_date, counts_in, everyday_terms, glossary, spelled_out)
from sendbot.core.config import Settings
from sendbot.core.dates import MONTH_ABBREVIATIONS, MONTH_NAMES
from sendbot.core.models import Chunk, Passage, Query, Reranked, ScoredSentence, UnitVectors
from sendbot.core.text import content_words
from sendbot.core.units import Unit, answer_units, answers_something, names_attachments

_HAS_DATE = re.compile(rf"\b(?:19|20)\d\d\b|\b{MONTH}\b")
_PROMISE_QUESTION = re.compile(r"\b(promis\w*|commit\w*|pledge\w*|undert\w*|assur\w*|guarantee\w*)\b", re.I)
_HAS_COMMITMENT = re.compile(r"\b(would|will|shall|by the end of|committed|commitment|assurance|intends?)\b", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# A day of a year ("24.9.2024", "24 May 2023"): a title line holding one says when its meeting was.
_FULL_DATE = re.compile(rf"\b\d{{1,2}}[./]\d{{1,2}}[./](?:19|20)\d\d\b"
                        rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH}\s+(?:19|20)\d\d\b")
_CAPITALISED_PAIR = re.compile(r"\b(?=([A-Z][a-z]+)[ \n]+([A-Z][a-z]+)\b)")  # lookahead: overlapping pairs
_WORD = re.compile(r"\b[A-Za-z][a-z]+\b")
_MONTHS = frozenset(MONTH_NAMES + MONTH_ABBREVIATIONS)

# A question's words that tell the asker's situation ("My son is 16 and wants to leave school.") count half as much
# as those of the sentence that asks ("Is he allowed to?"): they set the scene, the answer need not repeat them.
SITUATION_WEIGHT = 0.5
LONG_SENTENCE_WORDS = 40  # words past this count against a sentence: run-on table text makes a poor answer

# What a unit is scored on: meaning (MiniLM cosine), coverage of the question's rarer words, the passage's
# similarity, answer-type cues ("how many" answered with a number, "when" with a date, "what was promised" with a
# will/would, "what does X mean" with a definition), a year the question names, questions in the documents, run-on
# length, the passage's retrieval rank (0 first, towards 1 last), the unit's length (log of its words), and "who"
# answered with a person's name, "what is the email/phone/website" with one, "what judgement/grade" with an
# inspection's grade, a unit naming only years other than the question's (a 2021 finding for a 2023 question), and
# the coverage of the question's topic words alone (without ANSWER_SHAPE_WORDS such as "often" or "percentage").
FEATURES = ("semantic", "lexical", "passage_similarity", "number_match", "number_missing", "date_match",
            "date_missing", "defines", "commitment", "year_far", "year_near", "is_question", "excess_words",
            "passage_rank", "log_words", "person_match", "person_missing", "contact_match", "contact_missing",
            "rating_match", "year_other", "topic_lexical")
# The evidence that the documents answer at all: hand-set weights of the features, kept because neither the learned
# ranking score nor a logistic regression over the best unit's features (grouped cross-validation on dev) told
# answerable from unanswerable questions better. A unit of the answer type asked for (a number, a date, a person's
# name) adds 0.05; one without a number, date or contact detail takes 0.1 away, one without a name nothing, since
# an organisation or a post can answer "who" ("Worcestershire Children First", "the Chairman"). A contact detail
# adds nothing: any phone number in the papers would otherwise lift "the phone number for the Birmingham team".
# Rank and length count nothing.
EVIDENCE_WEIGHTS = np.array([0.45, 0.35, 0.20, 0.05, -0.1, 0.05, -0.1, 0.1, 0.05, -0.15, -0.05, -0.1, -0.002,
                             0.0, 0.0, 0.05, 0.0, 0.0, -0.1])
RANKER_PATH = Path(__file__).with_name("unit_ranker.json")
_HAS_CONTACT = re.compile(rf"[\w.+-]+@[\w-]+\.[\w.]+|{PHONE.pattern}|\bwww\.\S+|https?://\S+")
_ASKS_ABOUT_QUESTIONS = re.compile(r"\b(ask|asked|question|questions|raise|raised)\b", re.I)
# Question words asking for a report's attached papers: a list of its appendices covers them, though it lists them as
# "Supporting Information" and never says "attached".
_ATTACHMENT_WORD = re.compile(r"append\w*|annexe?s?|attach\w*|enclos\w*")
_ASKS_ABOUT_ATTACHMENTS = re.compile(rf"\b(?:{_ATTACHMENT_WORD.pattern}|supporting (?:information|papers))\b", re.I)
KEYWORD_WEIGHT = 0.25  # of a passage's keyword score, in ordering passages (passage_order)
SENTENCES_TO_EMBED = 20
REMEMBERED_UNITS = 50_000  # unit vectors kept in memory (~77 MB at most), so a long-running app cannot grow past it


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


@dataclass(frozen=True)
class UnitReading:
    """What a unit of a passage is, whatever the question: its text, its words (with its context's), and whether it
    answers as it stands (`answers`) or only when it names a person for a "who" question (a heading-shaped line)."""

    unit: Unit
    sentence: str
    words: frozenset[str]
    answers: bool
    attachments: bool  # it only lists the papers attached to a report (`names_attachments`)


@functools.lru_cache(maxsize=4096)
def read_units(text: str, context: str) -> tuple[UnitReading, ...]:
    """The readings of a passage's units that could answer some question. Every question ranks the units of its
    whole pool, and the same passages come back question after question, so each passage is read once (4,096
    passages: about 40 MB)."""
    passage_context = context_stems(context)
    readings = []
    for unit in answer_units(text):
        if answers_something(text, unit.start, unit.end, named=True):
            sentence = text[unit.start : unit.end]
            words = frozenset(stems(sentence)) | passage_context | context_stems(unit.responds_to)
            readings.append(UnitReading(unit, sentence, words, answers_something(text, unit.start, unit.end),
                                        names_attachments(sentence)))
    return tuple(readings)


def passage_order(candidates: list[Passage], best_unit: dict[int, float]) -> list[int]:
    """The candidates' indices, best first: by their best unit's score (as a share of the best passage's), plus
    KEYWORD_WEIGHT times their keyword score (as a share of the best keyword score). A passage whose words match the
    question's rarer words throughout often holds what one sentence cannot (a list's items, a second part's
    answer): on the golden set's dev split the weight lifts fact recall in the top 5 passages over 0.15-0.5."""
    top_unit = max(best_unit.values(), default=0.0) or 1.0
    top_keyword = max((p.keyword for p in candidates), default=0.0) or 1.0
    def key(i: int) -> tuple[float, int]:
        unit = best_unit.get(i, -1.0) / top_unit  # no scored unit: after every passage with one
        return -(unit + KEYWORD_WEIGHT * candidates[i].keyword / top_keyword), i
    return sorted(range(len(candidates)), key=key)


def merge_parts(whole: Reranked, parts: list[Reranked], k: int) -> tuple[Reranked, list[ScoredSentence]]:
    """Combine the ranking for a whole question with those for its parts.

    Returns the whole question's top k passages plus any passage holding a part's best sentence, every sentence
    of those passages, and each part's own answer (which the answer must try to include): its best sentence, or,
    when an earlier part already has that one, its best other sentence.
    """
    passages = list(whole.passages[:k])
    position = {p.chunk.id: i for i, p in enumerate(passages)}
    sentences = {(s.passage, s.start, s.end): s for s in whole.sentences if s.passage < k}
    required: dict[tuple[int, int, int], ScoredSentence] = {}
    for part in parts:
        answered = False
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
            if not answered and key not in required:
                required[key] = sentences[key]
                answered = True
    ranked = sorted(sentences.values(), key=lambda s: -s.score)
    return replace(whole, passages=passages, sentences=ranked), list(required.values())


def _spelled_out_terms(question: str) -> dict[str, set[str]]:
    """For each question word inside a spelled-out acronym ("Cabinet Member" for CMR), the acronym's stem: the
    documents often write the acronym alone ("The CMR provided reassurance ...")."""
    found: dict[str, set[str]] = {}
    for acronym, expansion in spelled_out(question):
        for word in content_words(expansion):
            found.setdefault(word, set()).add(_stem(acronym.lower()))
    return found


def _phrase_terms(question: str) -> dict[str, set[str]]:
    """For each word of an everyday phrase the question uses ("caught up", "out and about"), the stems of what the
    papers call it: a unit saying "backlog" answers "have they caught up?"."""
    terms: dict[str, set[str]] = {}
    for phrase, expansions in everyday_terms(question):
        for word in content_words(phrase) if " " in phrase else ():
            terms.setdefault(word, set()).update(s for e in expansions for s in stems(e))
    return terms


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
    asks_about_attachments: bool = False
    wants_person: bool = False
    wants_contact: bool = False
    wants_rating: bool = False
    wants_share: bool = False
    topic: tuple[bool, ...] = ()  # for each group, whether its word is about the topic, not an ANSWER_SHAPE_WORD
    attachment_stems: frozenset[str] = frozenset()  # the stems of the groups whose word asks for attached papers

    @property
    def total_weight(self) -> float:
        return sum(w for _, w in self.groups) or 1.0

    @functools.cached_property
    def topic_weight(self) -> float:
        """The weight of the question's topic words (those `topic` marks), what `topic_lexical` is a share of."""
        return sum(w for (_, w), topic in zip(self.groups, self.topic) if topic) or 1.0


@dataclass(frozen=True)
class UnitRanker:
    """The learned unit ranking: a weight per feature (FEATURES order), and how fast a unit's score falls with its
    distance below the best unit's ranking score (`decay`), so the answerer's keep-ratio is a ranking margin."""

    weights: tuple[float, ...]
    decay: float
    trained_on: str = ""

    def to_json(self) -> str:
        """The model file's text: stable, rounded, one weight per named feature (reviewable in a diff)."""
        return json.dumps({"trained_on": self.trained_on, "decay": round(self.decay, 6),
                           "weights": {f: round(w, 6) for f, w in zip(FEATURES, self.weights)}}, indent=2) + "\n"


@functools.cache
def load_ranker(path: Path = RANKER_PATH) -> UnitRanker:
    """The shipped unit ranker; a file that does not match FEATURES is an error saying how to rebuild it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        weights = raw["weights"]
        if list(weights) != list(FEATURES):
            raise ValueError(f"its features {list(weights)} are not {list(FEATURES)}")
        return UnitRanker(tuple(float(weights[f]) for f in FEATURES), float(raw["decay"]), str(raw.get("trained_on", "")))
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"unit ranker model {path} is unusable ({error}): run `sendbot eval --train` to rebuild it") from None


def proper_words(texts: list[str]) -> frozenset[str]:
    """Capitalised words the documents never write in lower case: people's names and places ("Gibbs",
    "Worcestershire"), as opposed to words capitalised only at a sentence's or a heading's start."""
    capitalised, lower = set(), set()
    for text in texts:
        for word in _WORD.findall(text):
            (capitalised if word[0].isupper() else lower).add(word)
    return frozenset(w for w in capitalised if len(w) > 2 and w.lower() not in lower and w not in _MONTHS)


def names_someone(sentence: str, proper: frozenset[str]) -> bool:
    """True when the text holds a person's name: two proper words in a row ("Judy Gibbs", "Katie Moore")."""
    return any(a in proper and b in proper for a, b in _CAPITALISED_PAIR.findall(sentence))


def gives_number(sentence: str, share: bool) -> bool:
    """Whether a unit states the number a number question wants: a percentage for a share question ("what
    percentage?"), else a count or amount that is no percentage, label ("Appendix 1") or date."""
    if share:
        return bool(PERCENT.search(sentence))
    return any(not PERCENT.match(sentence, m.start()) for m in counts_in(sentence))


def unit_features(profile: QuestionProfile, sentence: str, words: set[str], passage: Passage,
                  passage_years: set[str], unit: Unit, rank: float, named: bool = False) -> np.ndarray:
    """The unit's features (FEATURES order) with 0 for "semantic", which needs the unit's vector; `rank` is the
    passage's retrieval rank scaled to 0-1, `named` whether the unit names a person."""
    sentence_years = set(_YEAR.findall(sentence))
    has_number = gives_number(sentence, profile.wants_share)
    has_date = bool(_HAS_DATE.search(sentence))
    has_contact = profile.wants_contact and bool(_HAS_CONTACT.search(sentence))
    if profile.attachment_stems and names_attachments(sentence):
        words = words | profile.attachment_stems  # a list of appendices is what "what is attached?" asks for
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
        rank,
        math.log1p(len(sentence.split())),
        profile.wants_person and named,
        profile.wants_person and not named,
        has_contact,  # asked for, and there
        profile.wants_contact and not has_contact,
        profile.wants_rating and bool(RATING.search(sentence)),
        bool(profile.years and sentence_years and not profile.years & sentence_years),  # about another year
        sum(w for (group, w), topic in zip(profile.groups, profile.topic) if topic and group & words)
        / profile.topic_weight,
    ], dtype=np.float64)


class SentenceReranker:
    """Ranks answer units with the learned ranker over meaning (MiniLM), rare-term overlap (idf over the indexed
    chunks), passage similarity and answer-type cues; scales the ranking by the evidence the answerer refuses on."""

    def __init__(self, embedder: Embedder, chunks: list[Chunk], ranker: UnitRanker | None = None,
                 stored: Callable[[list[str]], dict[str, UnitVectors]] | None = None,
                 evidence_pool: int = Settings.evidence_pool) -> None:
        self.embedder = embedder
        self.evidence_pool = evidence_pool  # the leading candidates whose units are the refusal evidence
        self.stored = stored  # the unit vectors ingest stored, by chunk id (Store.unit_vectors)
        self.ranker = ranker or load_ranker()
        self.weights = np.array(self.ranker.weights)
        frequency = Counter(s for chunk in chunks for s in stems(chunk.search_text))
        total = max(len(chunks), 1)
        self.idf = {term: math.log(1 + total / count) for term, count in frequency.items()}
        self.default_idf = math.log(1 + total)
        self.proper = proper_words([chunk.text for chunk in chunks])
        self._vectors: dict[tuple[str, int, int], np.ndarray] = {}

    def profile(self, query: Query) -> QuestionProfile:
        """What the question asks for."""
        text = query.cleaned
        words, groups = self._term_groups(query)
        return QuestionProfile(
            groups=groups, topic=tuple(word not in ANSWER_SHAPE_WORDS for word in words),
            attachment_stems=frozenset(stem for word, (group, _) in zip(words, groups)
                                       if _ATTACHMENT_WORD.fullmatch(word) for stem in group),
            wants_number=bool(NUMBER_QUESTION.search(text)),
            wants_date=asks_for_date(text), wants_commitment=bool(_PROMISE_QUESTION.search(text)),
            defined=_defined_terms(text) if DEFINITION_QUESTION.search(text) else [],
            years=set(_YEAR.findall(text)), asks_about_questions=bool(_ASKS_ABOUT_QUESTIONS.search(text)),
            asks_about_attachments=bool(_ASKS_ABOUT_ATTACHMENTS.search(text)),
            wants_person=bool(PERSON_QUESTION.search(text)), wants_contact=bool(CONTACT_QUESTION.search(text)),
            wants_rating=bool(RATING_QUESTION.search(text)), wants_share=bool(SHARE_QUESTION.search(text)),
        )

    def rerank(self, query: Query, candidates: list[Passage], query_vector: np.ndarray, k: int) -> Reranked:
        """The k passages with the best units, and the scored units of those passages (best first)."""
        rough = self.candidate_units(self.profile(query), candidates)
        shortlist = self.shortlist(rough)
        vectors = self.unit_vectors([(candidates[i].chunk.id, a, b, text) for _, i, a, b, text in shortlist])
        for (features, *_), vector in zip(shortlist, vectors):
            features[0] = float(vector @ query_vector)
        evidential = [i < self.evidence_pool for _, i, *_ in shortlist]
        scored = [(score, i, a, b, vector) for score, (_, i, a, b, _), vector
                  in zip(self.scores([f for f, *_ in shortlist], evidential), shortlist, vectors)]
        scored.sort(key=lambda r: -r[0])
        # A passage ranks by its best unit that no better-scored passage also holds: chunks overlap by a sentence,
        # and two passages sharing one best sentence would take two of the k places for one piece of evidence.
        best_by_passage: dict[int, float] = {}
        holder: dict[str, int] = {}  # a unit's words -> the passage that scored them first
        for score, i, a, b, _ in scored:
            if holder.setdefault(" ".join(candidates[i].chunk.text[a:b].split()), i) == i:
                best_by_passage.setdefault(i, score)
        order = passage_order(candidates, best_by_passage)[:k]
        new_index = {old: new for new, old in enumerate(order)}
        sentences = [ScoredSentence(new_index[i], a, b, score, vector) for score, i, a, b, vector in scored if i in new_index]
        return Reranked([candidates[i] for i in order], sentences)

    def shortlist(self, rough: list[tuple]) -> list[tuple]:
        """The units worth embedding, judged without meaning yet (that needs the vectors): the best by the learned
        ranking, and the evidence pool's best by the evidence weights, so the evidence is found among the same units
        however many passages are ranked."""
        def best(weights: np.ndarray, among: list[int]) -> list[int]:
            return sorted(among, key=lambda n: -float(rough[n][0][: len(weights)] @ weights))[:SENTENCES_TO_EMBED]

        everyone = list(range(len(rough)))
        evidential = [n for n in everyone if rough[n][1] < self.evidence_pool]
        return [rough[n] for n in dict.fromkeys(best(self.weights, everyone) + best(EVIDENCE_WEIGHTS, evidential))]

    def scores(self, features: list[np.ndarray], evidential: list[bool]) -> list[float]:
        """Each unit's score: the evidence (best hand-weighted score of the `evidential` units, those of the
        evidence pool: the answerer's refusal test) times exp(-decay x how far its learned ranking score is below
        the best's); the best unit scores the evidence itself. Order is the learned ranking's, even when the
        evidence is nil."""
        if not features:
            return []
        rows = np.array(features)
        ranking = rows @ self.weights
        in_pool = rows[np.array(evidential, dtype=bool)]
        evidence = max(float(np.max(in_pool[:, : len(EVIDENCE_WEIGHTS)] @ EVIDENCE_WEIGHTS, initial=0.0)), 1e-6)
        return [evidence * math.exp(-self.ranker.decay * (float(ranking.max()) - r)) for r in ranking]

    def candidate_units(self, profile: QuestionProfile, candidates: list[Passage]) -> list[tuple]:
        """(features, passage index, start, end, text) for every unit of the candidate passages that could answer.
        A passage's rank is counted in evidence pools (0 first, 1 at the pool's end, more beyond it), so a unit's
        features mean the same whatever the number of candidates."""
        rough = []
        for i, passage in enumerate(candidates):
            rank = i / self.evidence_pool
            passage_years = set(_YEAR.findall(passage.chunk.search_text))
            for reading in read_units(passage.chunk.text, passage.chunk.context):
                # only "who" looks for names: a heading-shaped line naming someone answers it
                named = profile.wants_person and names_someone(reading.sentence, self.proper)
                # a heading-shaped line answers only "who" by naming someone, or "when" by giving the day
                if not (reading.answers or named or profile.wants_date and _FULL_DATE.search(reading.sentence)):
                    continue
                if reading.attachments and not profile.asks_about_attachments:
                    continue  # a list of a report's appendices by title answers only a question about them
                unit, sentence = reading.unit, reading.sentence
                features = unit_features(profile, sentence, reading.words, passage, passage_years, unit, rank, named)
                rough.append((features, i, unit.start, unit.end, sentence))
        return rough

    def _term_groups(self, query: Query) -> tuple[list[str], list[tuple[set[str], float]]]:
        """The question's terms, and each one with its acronym expansions (any one matching counts), weighted by
        rarity."""
        expansions = {a.lower(): e for a, e in glossary()}
        spelled_out = _spelled_out_terms(query.cleaned)
        phrased = _phrase_terms(query.cleaned)
        words, groups = [], []
        asked = set(content_words(asking_part(query.cleaned)))
        for word in dict.fromkeys(content_words(query.cleaned)):
            if word in QUESTION_WORDS:
                continue
            group = {_stem(word)} | spelled_out.get(word, set()) | phrased.get(word, set())
            base = word.removesuffix("'s")  # "my daughter's", "WCF's": the glossary knows the word itself
            for expansion in expansions.get(base, expansions.get(base.rstrip("s"), ())):
                group |= stems(expansion)
            weight = max(self.idf.get(_stem(word), self.default_idf), 0.1)
            words.append(word)
            groups.append((group, weight if word in asked else weight * SITUATION_WEIGHT))
        return words, groups

    def unit_vectors(self, items: list[tuple[str, int, int, str]]) -> list[np.ndarray]:
        """The vectors of (chunk id, start, end, text) units: as ingest stored them, else embedded now (a chunk
        stored by an older sendbot); kept per (chunk, span) for later questions, up to REMEMBERED_UNITS."""
        missing = [item for item in items if item[:3] not in self._vectors]
        if len(self._vectors) + len(missing) > REMEMBERED_UNITS:
            self._vectors.clear()
            missing = items
        if missing and self.stored:
            for chunk_id, units in self.stored(list(dict.fromkeys(cid for cid, *_ in missing))).items():
                self._vectors.update(((chunk_id, a, b), vector) for (a, b), vector in units.by_span().items())
            missing = [item for item in missing if item[:3] not in self._vectors]
        if missing:
            for item, vector in zip(missing, self.embedder.encode([s for *_, s in missing])):
                self._vectors[item[:3]] = vector
        return [self._vectors[item[:3]] for item in items]
