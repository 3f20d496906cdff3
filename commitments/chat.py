"""Chat questions about promises and decisions, answered from the commitments register first.

"What was promised about the EHCP backlog?" or "What was agreed at the May 2023 panel?" is answered with the
register's rows: the commitment's own words, then what later papers said about it, each sentence a verbatim quote
with its citation and date, and the commitment labelled with its status. The register answers only when the
question asks about a promise or decision (and carries no instructions aimed at the bot), and only with rows the
search itself ranks as evidence for the question (when the extractive answerer would answer at all, rows holding
a sentence ranked close to its best one) or, for a question naming a month, rows of the papers of that month that share its
subject. Otherwise the wrapped answerer answers as it always does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Callable, Sequence

from commitments.follow import status
from commitments.models import Commitment
from commitments.register import read_register, register_path
from index.store import IndexDamaged, Store
from sendbot.core.config import Settings
from sendbot.core.models import Answer, AnswerSentence, Chunk, Citation, Query, Reranked, ScoredSentence
from sendbot.core.stages import Answerer
from sendbot.core.text import content_words

_INTENT = re.compile(r"\b(?:promis(?:e|es|ed|ing)|pledged?|commit(?:s|ted)?|commitments?|undert(?:ook|aken)|agreed|decided|"
                     r"resolved|resolutions?|requested|decisions? (?:(?:was|were|has been|have been) )?(?:made|taken|on|about)"
                     r")\b", re.I)
_ASKS = re.compile(r"^\W*(?:what|which|who|when|has|have|had|did|was|were|is|are|list|show)\b", re.I)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH = re.compile(rf"\b({'|'.join(_MONTHS)})\s+(20\d\d)\b", re.I)
# Words that say what kind of question it is, not what it is about.
_NOT_SUBJECT = frozenset({"promise", "promises", "promised", "promising", "pledge", "pledged", "commit", "committed",
                          "commitment", "commitments", "undertook", "undertaken", "agreed", "decided", "decision",
                          "decisions", "resolved", "resolution", "resolutions", "requested", "target", "targets",
                          "panel", "meeting", "council", "say", "said", "made", "happened", *_MONTHS})
MAX_ROWS = 3  # commitments quoted in one answer
MARGIN = 0.08  # a row's sentence may score this much under the best sentence found for the question
MAX_UPDATES = 1  # later reports quoted per commitment


def asks_about_commitments(question: str) -> bool:
    """Whether a question asks what was promised, agreed, decided or targeted (not any question that uses the word)."""
    return bool(_ASKS.search(question) and _INTENT.search(question))


def _stems(text: str) -> set[str]:
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in content_words(text)}


def subject_words(question: str) -> set[str]:
    """What a promise question is about: its content words less the words that ask for a promise or name a date."""
    return {w for w in _stems(_MONTH.sub(" ", question)) if w not in _NOT_SUBJECT and not w.isdigit()}


@dataclass(frozen=True)
class _Found:
    commitment: Commitment
    score: float  # how strongly the search ranks the row for this question


class RegisterAnswerer:
    """An Answerer that answers promise and decision questions from the register, and others through `inner`."""

    def __init__(self, inner: Answerer, commitments: Sequence[Commitment], chunks: Sequence[Chunk],
                 min_evidence: float, today: Callable[[], date] = date.today) -> None:
        self.inner = inner
        self.commitments = list(commitments)
        self.chunks = list(chunks)
        self.min_evidence = min_evidence
        self.today = today

    def answer(self, query: Query, ranked: Reranked, part_answers: Sequence[ScoredSentence] = ()) -> Answer:
        """The register's rows when the question asks about promises or decisions and some are relevant; else the
        wrapped answerer's reply, unchanged."""
        if query.injected or not self.commitments or not asks_about_commitments(query.cleaned):
            return self.inner.answer(query, ranked, part_answers)
        found = by_month(self.commitments, query.cleaned) or ranked_rows(self.commitments, query.cleaned, ranked,
                                                                          self.min_evidence)
        if not found:
            return self.inner.answer(query, ranked, part_answers)
        return compose(query.question, found[:MAX_ROWS], self.chunks, self.today())


def ranked_rows(commitments: Sequence[Commitment], question: str, ranked: Reranked, min_evidence: float) -> list[_Found]:
    """Rows the search ranks as evidence for the question, best first: only when its best sentence scores the
    evidence the extractive answerer needs (else the question is left to it, to answer or refuse), and then rows
    holding a sentence within MARGIN of that best one that use at least half the question's subject words."""
    subject = subject_words(question)
    if not subject or ranked.evidence < min_evidence:
        return []
    best: dict[int, float] = {}
    for sentence in ranked.sentences:
        if sentence.score < ranked.evidence - MARGIN:
            continue
        chunk = ranked.passages[sentence.passage].chunk
        text = chunk.text[sentence.start:sentence.end].strip()
        for i, c in enumerate(commitments):
            if c.source == chunk.source and (c.page or 1) == (chunk.page or 1) and len(text) > 20 and \
                    (text in c.quote or c.quote in text) and len(subject & _stems(c.quote)) * 2 >= len(subject):
                best[i] = max(best.get(i, 0.0), sentence.score)
    return [_Found(commitments[i], score) for i, score in sorted(best.items(), key=lambda item: -item[1])]


def by_month(commitments: Sequence[Commitment], question: str) -> list[_Found]:
    """For a question naming a month ("the May 2023 panel"): the decisions and commitments of papers dated or
    meeting in that month that use at least half the question's subject words (all of them when it names none)."""
    named = _MONTH.search(question)
    if not named:
        return []
    month = f"{named[2]}-{_MONTHS.index(named[1].lower()) + 1:02d}"
    subject = subject_words(question)
    rows = [c for c in commitments if (c.date or c.meeting).startswith(month) and c.kind in ("decision", "commitment")]
    scored = [_Found(c, len(subject & _stems(c.quote)) / len(subject) if subject else 1.0) for c in rows]
    scored = [f for f in scored if f.score >= 0.5]
    return sorted(scored, key=lambda f: (-f.score, f.commitment.kind != "decision"))


def compose(question: str, found: Sequence[_Found], chunks: Sequence[Chunk], today: date) -> Answer:
    """The reply: each commitment quoted with its status, then its latest later report, every sentence cited."""
    sentences: list[AnswerSentence] = []
    citations: list[Citation] = []
    for item in found:
        c = item.commitment
        updates = sorted(c.follow_ups, key=lambda f: f.date or f.period, reverse=True)[:MAX_UPDATES]
        citations.append(_citation(len(citations) + 1, c.source, c.page, c.quote, c.title, c.date, c.period,
                                   item.score, chunks))
        sentences.append(AnswerSentence(c.quote, (len(citations),), c.date, c.period, earlier=bool(updates),
                                        status=status(c, today)))
        for update in updates:
            citations.append(_citation(len(citations) + 1, update.source, update.page, update.quote, update.title,
                                       update.date, update.period, update.score, chunks))
            sentences.append(AnswerSentence(update.quote, (len(citations),), update.date, update.period))
    return Answer(question=question, sentences=tuple(sentences), citations=tuple(citations), refused=False,
                  evidence=max(f.score for f in found))


def _citation(n: int, source: str, page: int | None, quote: str, title: str, day: str, period: str, score: float,
              chunks: Sequence[Chunk]) -> Citation:
    """A citation of a verbatim quote: its passage is the indexed chunk that holds it (else the quote alone)."""
    chunk = next((c for c in chunks if c.source == source and c.page == page and quote in c.text), None)
    if chunk is None:
        return Citation(n, source, title, day, page, "", quote, quote, round(score, 3), period=period)
    return Citation(n, source, title, day, page, chunk.section, chunk.text, quote, round(score, 3), kind=chunk.kind,
                    period=period, url=chunk.url, committee=chunk.committee, meeting=chunk.meeting, item=chunk.item)


def with_register(inner: Answerer, settings: Settings, store: Store, chunks: Sequence[Chunk]) -> Answerer:
    """`inner` wrapped by a RegisterAnswerer when the saved register is of this state of the index (building one
    is left to ingest and `sendbot commitments`: a question never waits for it); `inner` alone otherwise."""
    if not settings.commitments_chat:
        return inner
    try:
        register = read_register(register_path(settings.data_dir))
    except IndexDamaged:
        return inner
    if register is None or register.fingerprint != store.fingerprint or not register.commitments:
        return inner
    return RegisterAnswerer(inner, register.commitments, chunks, settings.min_evidence)
