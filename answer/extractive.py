"""The default answerer: composes an answer from the best-scoring retrieved sentences and cites each one.

No language model is involved, so every sentence of an answer is a verbatim sentence of a document.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date as Date
from typing import Sequence

from answer.direct import direct_answer
from answer.refusal import no_question, not_found
from sendbot.core.config import Settings
from sendbot.core.dates import last_day
from sendbot.core.models import Answer, AnswerSentence, Citation, Passage, Query, Reranked, ScoredSentence
from sendbot.core.units import quoted_with_header

KEEP_RATIO = 0.75  # further units must score this share of the best one
# ... but the unit right after the best one in its passage only this share: it often completes the point ("...
# complaints not being upheld across the three quarters" / "- 31% down to 20%"; "can be provided in Large Print" /
# "Please contact Scrutiny on telephone number ..."). Chosen on dev: 0.4 gains as many facts as 0.3 or 0, in fewer
# words.
FOLLOW_RATIO = 0.4
REDUNDANT_SIMILARITY = 0.9


class ExtractiveAnswerer:
    """Picks up to `max_sentences` non-redundant units within about `max_words`; refuses when the best scores
    under `min_evidence`, and marks the answer tentative when it scores under `confident_evidence`."""

    def __init__(self, max_sentences: int = Settings.answer_sentences, min_evidence: float = Settings.min_evidence,
                 max_words: int = Settings.answer_words, confident_evidence: float = Settings.confident_evidence) -> None:
        self.max_sentences = max_sentences
        self.min_evidence = min_evidence
        self.max_words = max_words
        self.confident_evidence = confident_evidence

    def answer(self, query: Query, ranked: Reranked, part_answers: Sequence[ScoredSentence] = ()) -> Answer:
        """A cited answer to the query from the reranked passages, or a refusal naming the nearest topics.

        `part_answers` are the best units for each part of a several-part question: each one that is strong
        enough is included, so that every part gets its answer.
        """
        if not query.cleaned:
            return no_question(query.question)
        if ranked.evidence < self.min_evidence:
            return not_found(query.question, ranked.passages, ranked.evidence)
        chosen = self._choose(ranked.sentences, [s for s in part_answers if s.score >= self.min_evidence],
                              ranked.passages)
        chosen = with_headers(self._without_gaps(chosen, ranked.sentences, ranked.passages), ranked.passages)
        return self._compose(query, ranked.passages, latest_first(chosen, ranked.passages), ranked.evidence)

    def _choose(self, scored: list[ScoredSentence], required: list[ScoredSentence],
                passages: list[Passage]) -> list[ScoredSentence]:
        """The best unit and each part's best, then further close-scoring units (and the unit following the best)
        while the answer stays short."""
        best = scored[0].score
        follower = _following(scored[0], scored, passages)
        chosen: list[ScoredSentence] = []
        length = 0  # words chosen so far
        limit = self.max_sentences + max(0, len(required) - 1)
        candidates = [(True, s) for s in required] + [
            (False, s) for s in scored if s.score >= (FOLLOW_RATIO if s is follower else KEEP_RATIO) * best]
        for must, candidate in candidates:
            if len(chosen) == limit:
                break
            if any(_repeats(candidate, c) for c in chosen):
                continue
            if chosen and not must and length + _words(candidate, passages) > self.max_words:
                continue  # a further unit that would make a long answer: a shorter one may still fit
            at = len(chosen)
            if candidate is follower:  # it reads on from the best unit, as in its document (units hold vectors, so
                at = next((i + 1 for i, c in enumerate(chosen) if c is scored[0]), at)  # compared by identity)
            chosen.insert(at, candidate)
            length += _words(candidate, passages)
        return chosen

    def _without_gaps(self, chosen: list[ScoredSentence], scored: list[ScoredSentence],
                      passages: list[Passage]) -> list[ScoredSentence]:
        """The chosen units plus any single unit lying between two chosen units of one passage, while the answer
        stays within `max_words`: the citation quotes that stretch whole, so the answer should not skip its middle
        ("a delay of 8 weeks ... [then 6 weeks to report] ... the 20-week timescale")."""
        length = sum(_words(s, passages) for s in chosen)
        filled = list(chosen)
        spans = sorted(chosen, key=lambda s: (s.passage, s.start))
        for before, after in zip(spans, spans[1:]):
            if before.passage != after.passage:
                continue
            gap = passages[before.passage].chunk.text[before.end : after.start].strip()
            middle = next((s for s in scored if s.passage == before.passage and _text(s, passages) == gap), None)
            if middle is not None and length + _words(middle, passages) <= self.max_words:
                filled.insert(filled.index(before) + 1, middle)
                length += _words(middle, passages)
        return filled

    def _compose(self, query: Query, passages: list[Passage], chosen: list[ScoredSentence], best: float) -> Answer:
        numbers: dict[int, int] = {}
        for sentence in chosen:
            numbers.setdefault(sentence.passage, len(numbers) + 1)
        citations = []
        for index, n in numbers.items():
            chunk = passages[index].chunk
            mine = [s for s in chosen if s.passage == index]
            start, end = min(s.start for s in mine), max(s.end for s in mine)
            citations.append(Citation(
                n=n, source=chunk.source, title=chunk.title, date=chunk.date, page=chunk.page, section=chunk.section,
                text=chunk.text, quote=chunk.text[start:end], score=round(max(s.score for s in mine), 4),
                kind=chunk.kind, period=chunk.period, url=chunk.link, committee=chunk.committee, meeting=chunk.meeting,
                item=chunk.item,
            ))
        sentences = tuple(
            AnswerSentence(_text(s, passages), (numbers[s.passage],),
                           passages[s.passage].chunk.date, passages[s.passage].chunk.period) for s in chosen
        )
        tentative = best < self.confident_evidence  # a few words stated first would sound sure of it
        return Answer(query.question, mark_earlier(sentences), tuple(citations), refused=False, evidence=round(best, 4),
                      tentative=tentative, direct=None if tentative else direct_answer(query.cleaned, sentences, citations))


def with_headers(chosen: list[ScoredSentence], passages: list[Passage]) -> list[ScoredSentence]:
    """The chosen units with each table row quoted from its table's header row (`quoted_with_header`); rows of one
    table that then overlap become one quote, where the first of them was."""
    quoted: list[ScoredSentence] = []
    for unit in chosen:
        unit = replace(unit, start=quoted_with_header(passages[unit.passage].chunk.text, unit.start, unit.end))
        same = next((i for i, q in enumerate(quoted) if q.passage == unit.passage and q.start < unit.end and unit.start < q.end), None)
        if same is None:
            quoted.append(unit)
        else:
            quoted[same] = replace(quoted[same], start=min(quoted[same].start, unit.start), end=max(quoted[same].end, unit.end))
    return quoted


def latest_first(chosen: list[ScoredSentence], passages: list[Passage]) -> list[ScoredSentence]:
    """The chosen units with the latest document's first, so a 2023 update is read before the 2022 plan it
    supersedes; units of the same date (and undated ones, last) keep their order of relevance."""
    def day(s: ScoredSentence) -> int:
        chunk = passages[s.passage].chunk
        return (last_day(chunk.date, chunk.period) or Date.min).toordinal()

    return sorted(chosen, key=lambda s: -day(s))


def mark_earlier(sentences: tuple[AnswerSentence, ...]) -> tuple[AnswerSentence, ...]:
    """Mark each sentence a later-dated sentence of the same answer follows on from, so the two are never read
    as one point in time."""
    days = [last_day(s.date, s.period) for s in sentences]
    latest = max((d for d in days if d), default=None)
    return tuple(replace(s, earlier=bool(latest and d and d < latest)) for s, d in zip(sentences, days))


def _text(unit: ScoredSentence, passages: list[Passage]) -> str:
    return passages[unit.passage].chunk.text[unit.start : unit.end]


def _words(unit: ScoredSentence, passages: list[Passage]) -> int:
    return len(_text(unit, passages).split())


def _following(unit: ScoredSentence, scored: list[ScoredSentence], passages: list[Passage]) -> ScoredSentence | None:
    """The scored unit that starts where `unit` ends in its passage (nothing but spacing between), if any."""
    text = passages[unit.passage].chunk.text
    return next((s for s in scored if s.passage == unit.passage and s.start >= unit.end
                 and not text[unit.end : s.start].strip()), None)


def _repeats(candidate: ScoredSentence, chosen: ScoredSentence) -> bool:
    """True when a candidate would say again what a chosen unit says: the same words (a list item inside a chosen
    list, overlapping spans) or nearly the same meaning."""
    overlaps = candidate.passage == chosen.passage and candidate.start < chosen.end and chosen.start < candidate.end
    return overlaps or float(candidate.vector @ chosen.vector) >= REDUNDANT_SIMILARITY
