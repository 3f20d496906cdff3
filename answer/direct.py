"""The direct answer: for a question that asks for a number, a date or what a term stands for, the shortest span of
a quoted sentence that says it ("up to 8 weeks", "September 2023", "Complex Adult Risk Management"), stated first.

The span is an exact slice of a cited passage, so it is as verbatim as the sentences it comes from; when no quoted
sentence holds such a span, there is no direct answer and the sentences speak for themselves.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from retrieve.query import (DEFINITION_QUESTION, MONTH, NUMBER_QUESTION, PERCENT, RATING, RATING_QUESTION,
                            SHARE_QUESTION, asks_for_date, counts_in)
from sendbot.core.models import AnswerSentence, Citation, DirectAnswer
from sendbot.core.text import content_words, numbers_in

_TIME_UNIT = r"(?:weeks?|days?|months?|years?|hours?|minutes?)"
_AMOUNT = re.compile(
    r"\b(?:(?:up to|over|more than|fewer than|less than|under|around|about|approximately|at least|nearly|almost"
    rf"|within)\s+)?(?!(?:19|20)\d\d\b)\d(?:[\d,]*\d)?(?:\.\d+)?(?!\d)\+?(?!\s*(?:st|nd|rd|th)?\s+{MONTH})(?:\s?%|\s+per ?cent)?"
    rf"(?:\s+(?:working\s+)?{_TIME_UNIT})?",
    re.I,
)
_DATE = re.compile(
    rf"\b(?:(?:by|on|in|from|until|before|after)\s+(?:the\s+end\s+of\s+)?)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{MONTH}"
    rf"(?:\s+(?:19|20)\d\d)?\b|\b\d{{1,2}}[./]\d{{1,2}}[./](?:\d{{4}}|\d{{2}})\b|\b(?:19|20)\d\d\b"
)
_DURATION = re.compile(rf"{_TIME_UNIT}$", re.I)
# A question that asks for a length of time ("how long", "how many weeks"): only then does a duration answer a number
# question; "how many plans were issued within 20 weeks?" counts plans, and "16 weeks" is not a count of them.
_ASKS_DURATION = re.compile(rf"\bhow long\b|\bhow (?:many|much)\s+(?:more\s+|working\s+)?(?:{_TIME_UNIT}|time)\b", re.I)
_ACRONYM = re.compile(r"\b[A-Z][A-Za-z]*[A-Z][A-Za-z]*\b")
_JOINING = frozenset("and of the for in to with".split())
MIN_ANCHOR_LETTERS = 5  # question words this long or longer place the answer ("compliments", not "came")
BEHIND_PENALTY = 3


def direct_answer(question: str, sentences: Sequence[AnswerSentence], citations: Sequence[Citation]) -> DirectAnswer | None:
    """The span that answers a number, date or "what does X stand for" question, from the first answer sentence
    that holds one, located in its citation's passage; None for other questions or when no sentence holds one."""
    find = _finder(question)
    if find is None:
        return None
    by_n = {c.n: c for c in citations}
    for sentence in sentences:
        span = find(sentence.text)
        citation = by_n.get(sentence.citations[0]) if sentence.citations and span else None
        at = citation.text.find(sentence.text) if citation else -1
        if span and at >= 0:
            start, end = at + span[0], at + span[1]
            return DirectAnswer(citation.text[start:end], citation.n, start, end)
    return None


def _finder(question: str):
    """The span finder for what the question asks for, or None when it asks for none of these."""
    if DEFINITION_QUESTION.search(question) and _ACRONYM.search(question):
        return lambda text: _expansion(text, _ACRONYM.findall(question))
    words = [w for w in content_words(question) if len(w) >= MIN_ANCHOR_LETTERS] or content_words(question)
    told = numbers_in(question)
    durations = bool(_ASKS_DURATION.search(question))

    def answers(span: str) -> bool:
        """Not a figure the question itself gives ("in 2017" for "the 2017-2021 strategy"), nor a duration for a
        question that counts something else."""
        figures = numbers_in(span)
        return not (figures and figures <= told) and (durations or not _DURATION.search(span))

    for wanted, pattern, counts in ((SHARE_QUESTION.search, PERCENT, True), (NUMBER_QUESTION.search, _AMOUNT, True),
                                    (asks_for_date, _DATE, False), (RATING_QUESTION.search, RATING, False)):
        if wanted(question):
            return lambda text, pattern=pattern, counts=counts: _nearest(text, pattern, words, counts, answers)
    return None


def _nearest(text: str, pattern: re.Pattern, words: list[str], counts: bool,
             answers: Callable[[str], bool]) -> tuple[int, int] | None:
    """The match of `pattern` closest to a word of the question (the first match when none of them occurs), among
    those that `answers` the question. A count comes before what it counts ("66% of compliments", "45 schools"), so
    for counts a question word after the match is preferred: one before it counts as BEHIND_PENALTY times as far; a
    count's number must count (`counts_in`: not "Appendix 1" or "2021- 22"). None for a table row with several
    matches."""
    counted = {m.start() for m in counts_in(text)} if counts else set()
    matches = [m.span() for m in pattern.finditer(text)
               if (not counts or _first_digit(text, m) in counted) and answers(m.group())]
    if not matches or "\t" in text and len(matches) > 1:
        return None  # in a table row each cell holds its own column's value: the row alone cannot say which answers
    lowered = text.lower()
    anchors = [m.start() for w in words for m in re.finditer(rf"\b{re.escape(w[:5])}", lowered)]
    if not anchors:
        return matches[0]

    def distance(span: tuple[int, int], anchor: int) -> float:
        if anchor >= span[1]:
            return anchor - span[1]
        return (span[0] - anchor) * (BEHIND_PENALTY if counts else 1) if anchor < span[0] else 0

    return min(matches, key=lambda span: min(distance(span, a) for a in anchors))


def _first_digit(text: str, match: re.Match) -> int:
    return match.start() + re.search(r"\d", match.group()).start()


def _expansion(text: str, terms: list[str]) -> tuple[int, int] | None:
    """What an acronym of the question stands for in the text: the words before "(X)" whose initials spell X, or
    what follows "X stands for" / "X means" / "X:"."""
    for term in terms:
        bracket = re.search(rf"\(\s*{re.escape(term)}s?\s*\)", text)
        if bracket:
            span = _spelled_before(text, bracket.start(), term)
            if span:
                return span
        said = re.search(rf"\b{re.escape(term)}\s*(?:stands for|means|is short for|:)\s*[\"“‘']?([^.;\n\"”’]+)", text)
        if said:
            return said.start(1), said.start(1) + len(said.group(1).rstrip())
    return None


def _spelled_before(text: str, stop: int, term: str) -> tuple[int, int] | None:
    """The run of words ending at `stop` whose capitalised initials spell `term` ("Complex Adult Risk Management"
    before "(CARM)"); joining words ("and", "of") may sit inside it."""
    words = list(re.finditer(r"[A-Za-z][\w'-]*", text[:stop]))
    letters = [c for c in term.upper() if c.isalpha()]
    taken = 0
    for index in range(len(words) - 1, -1, -1):
        word = words[index].group()
        if word.lower() in _JOINING and taken:
            continue
        if not word[0].isupper() or taken == len(letters) or word[0].upper() != letters[-1 - taken]:
            return None
        taken += 1
        if taken == len(letters):
            return words[index].start(), words[-1].end()
    return None
