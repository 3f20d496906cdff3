"""Topics to offer, taken from the documents themselves: the clean section titles of the passages a question found
(as tappable questions after an answer, or as the nearest topics after a refusal). Pure functions; nothing here
writes a word of its own.
"""

from __future__ import annotations

import re
from typing import Iterable

from sendbot.core.models import Passage
from sendbot.core.text import looks_like_heading

MAX_TITLE_WORDS = 12
MAX_TITLE_CHARS = 90
# A title starting like a sentence ("You can find...", "If you have...") is a cut-off sentence, not a heading.
_SENTENCE_START = {"you", "we", "if", "it", "they", "this", "that", "there", "all", "to", "when", "no", "re"}
_FRAGMENT = re.compile(r"[:•·…|%.]|\s,|\d\s+\d|\(cont|^page \d|[-\s]\d{1,2}$", re.I)
# A sentence about something on the page ("The ... template is within this link"), not a heading.
_SENTENCE = re.compile(r"^the\b.*\b(?:is|are|was|has|have|will)\b|\b(?:this|here|below|above)\b", re.I)
# A title ending on these words, or on "to" and one or two words more, was cut off mid-phrase.
_CUT_OFF = re.compile(r"\b(?:how|what|which|who|that|least|than|into|about)$|\bto(?:\s+\S+){1,2}$", re.I)
# Words that label a table's columns in council papers ("Item No | Subject | Page No" in an agenda, "Version | Who |
# Date | Amendments" in a document's control table, "Ref | Action | Owner | Status" in an action log): a title
# made mostly of them is a table's header row, not a topic.
_COLUMN_LABELS = {"item", "no", "subject", "page", "version", "who", "date", "amendments", "author", "changes", "ref",
                  "action", "owner", "status", "due", "rag", "description", "comments"}
# The standard parts of a council report (ModernGov's templates and the like): each names a place in a report, not
# what it is about, so as a topic ("Purpose of the Meeting", "Supporting Information") it tells a parent nothing.
# (One-word titles, "Background" or "Recommendations", are never offered anyway.)
_REPORT_PARTS = {"purpose of the meeting", "purpose of the report", "purpose of report", "supporting information",
                 "background information", "background papers", "contact points",
                 "specific contact points for this report", "executive summary", "next steps", "standing items",
                 "legal implications", "financial implications", "legal, financial and hr implications",
                 "hr implications", "risk implications", "equality and diversity implications",
                 "equality implications", "privacy and public health impact assessments", "apologies and substitutes",
                 "declarations of interest", "public participation",
                 "confirmation of the minutes of the previous meeting", "any other business"}
# Short lower-case words that are words, not the pieces of one split by a PDF ("Workstrea m").
_SHORT_WORDS = {"a", "an", "as", "at", "be", "by", "do", "go", "in", "is", "it", "no", "of", "on", "or", "so", "to",
                "up", "us", "we"}


def clean_title(text: str) -> str:
    """A section title fit to offer as a topic, or '' when it is a fragment: a cut-off sentence, a table cell, a
    contents line, a numbered label ("Key Concern 4"), a run of capitals split by the PDF, a line that repeats
    itself ("Continued ... Continued"), or a standard part of a report ("Supporting Information").

    Measured on the bundled corpus: 49 of its 197 section titles pass, and each of them, asked as a question, gets an
    answer (two that did not were numbered labels, now left out), so the app offers them without asking first."""
    title = " ".join((text or "").split())
    words = title.split()
    if not 2 <= len(words) <= MAX_TITLE_WORDS or len(title) > MAX_TITLE_CHARS or not looks_like_heading(title):
        return ""
    lowered = [w.lower() for w in words]
    if title.isupper() or re.search(r"(?<![\w'])[A-Z] [a-z]", title) or _FRAGMENT.search(title) or _SENTENCE.search(title) or _CUT_OFF.search(title) or lowered[0] in _SENTENCE_START:
        return ""
    if title.count("(") != title.count(")") or sum(w.isupper() and len(w) > 3 for w in words) * 2 > len(words):
        return ""
    if sum(w.isalpha() and len(w) > 2 for w in words) < 2 or any(
            w.islower() and len(w) <= 2 and w not in _SHORT_WORDS for w in words):
        return ""
    if len(set(lowered)) < len(lowered) and any(lowered.count(w) > 1 and len(w) > 3 for w in lowered):
        return ""
    if len(words) >= 3 and sum(w in _COLUMN_LABELS for w in lowered) * 5 >= len(words) * 3:
        return ""  # a table's header row
    if title.rstrip("?").lower() in _REPORT_PARTS:
        return ""
    return title.rstrip("?").strip()


def passage_topics(passages: Iterable[Passage], exclude: Iterable[str] = (), limit: int = 3) -> list[str]:
    """The clean section titles of `passages`, best first, without repeats or the titles in `exclude`."""
    seen = {t.lower() for t in exclude if t}
    topics: list[str] = []
    for passage in passages:
        title = clean_title(passage.chunk.section)
        if title and title.lower() not in seen:
            seen.add(title.lower())
            topics.append(title)
        if len(topics) == limit:
            break
    return topics
