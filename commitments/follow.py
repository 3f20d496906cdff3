"""Follow-ups: later-dated passages that report on a commitment, and the status they give it.

A report is a sentence that says something was done ("has now been approved", "appointed April 2022", "the Panel
received a report") or is under way ("meets monthly", "has been carefully tracked", "remains outstanding"); a status
word inside a compound adjective ("well-established") or an idiom ("held to account") is not a report. It follows up
a commitment when its document is dated after the commitment's (a 2022 promise is never answered by a paper of the
same date or earlier), the two speak of the same specific object, and their MiniLM vectors are close (cosine >=
MIN_SIMILARITY). The same object is a shared two-word phrase (acronyms read as their long forms: "APP" is
"Accelerated Progress Plan" wherever a document spells it out) that is rare in the index's passages, or a name
capitalised in both that is not everywhere (the council's own company is named in every other passage), or a shared
figure ("65%"). A name the report mentions only as an agent or partner ("co-produced with the Board", "by WCF") is
not what the report is about. Only statements with such a candidate are embedded.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Callable

import numpy as np
from datetime import date

from commitments.due import document_end, later_than
from commitments.extract import section_of, statements
from commitments.models import Commitment, FollowUp
from sendbot.core.models import Chunk, Document
from sendbot.core.text import content_words

Embed = Callable[[list[str]], np.ndarray]

_DONE_WORDS = (r"approved|appointed|completed|published|implemented|launched|received|recruited|opened|introduced|"
               r"actioned|achieved|delivered|held|presented|submitted|established|co-produced|produced|refreshed|agreed")
_DONE = re.compile(rf"(?<![\w-])(?:{_DONE_WORDS})\b(?!-| to account)|\btook place\b|\bnow (?:closed|open|live|in place)\b|"
                   r"^\W*(?:Publication|Launch|Completion|Opening|Introduction) of\b", re.I)
_PROGRESS = re.compile(r"\b(?:ongoing|in progress|outstanding|underway|under way|meets (?:monthly|regularly|quarterly|"
                       r"bi-monthly|fortnightly)|(?:has|have) been (?:carefully )?(?:tracked|monitored)|progress to date|"
                       r"is progressing|continues to)\b", re.I)
_REPORTING = re.compile(rf"\b(?:{_DONE_WORDS}|took place|ongoing|outstanding|meets)\b")
_FUTURE = re.compile(r"\b(?:will|shall)\b|\bwould (?!have)\w+")
_ACRONYM = re.compile(r"((?:[A-Z][\w'-]*\s+(?:(?:and|of|for|the|&)\s+)?){1,7}[A-Z][\w'-]*)\s+\(([A-Z][A-Za-z&]{1,7})\)")
_NAME = re.compile(r"[A-Z][\w'/-]*(?:\s+(?:(?:and|of|for|the|&)\s+)*[A-Z][\w'/-]*)*")
_AGENT = re.compile(r"\b(?:with|by|to|from)\s+(?:the\s+)?" + _NAME.pattern + r"(?:\s*\([^)]*\))?")
_FIGURE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s*(?:%|per ?cent)|£\s?\d[\d,.]*\s*(?:m|k|million|bn)?", re.I)
MIN_SIMILARITY = 0.55  # cosine of the two statements' MiniLM vectors
RARE_SHARE = 0.025  # a rare phrase is in at most this share of the index's passages
NAME_SHARE = 0.10  # a name written capitalised in both statements is in at most this share
MAX_FOLLOW_UPS = 2


def report_passages(doc: Document, chunks: list[Chunk] = ()) -> list[FollowUp]:
    """The sentences of a document that report something done or under way (candidate follow-ups)."""
    found = []
    for page in doc.pages:
        on_page = [c for c in chunks if (c.page or 1) == page.number]
        for statement in statements(page.text):
            quote = page.text[statement.start:statement.end]
            if _FUTURE.search(quote) or not (_DONE.search(quote) or _PROGRESS.search(quote)):
                continue
            state = "done" if _DONE.search(quote) and not _PROGRESS.search(quote) else "in progress"
            found.append(FollowUp(quote=quote, source=doc.source, title=doc.title, date=doc.date, period=doc.period,
                                  page=page.number if doc.paged else None, section=section_of(quote, on_page),
                                  state=state, score=0.0))
    return found


def acronyms(texts: list[str]) -> dict[str, list[str]]:
    """Acronyms the documents spell out ("Accelerated Progress Plan (APP)") -> the long form's content words."""
    found: dict[str, list[str]] = {}
    for text in texts:
        for match in _ACRONYM.finditer(text):
            words = match[1].split()
            initials = "".join(w[0] for w in words if w[0].isupper()).lower()
            letters = "".join(ch for ch in match[2] if ch.isupper()).lower()
            for start in range(len(words)):  # the long form is the tail whose initials spell the acronym
                tail = [w for w in words[start:] if w[0].isupper()]
                if "".join(w[0].lower() for w in tail) == letters and initials.endswith(letters):
                    found.setdefault(match[2].lower(), content_words(" ".join(words[start:])))
                    break
    return found


def _phrases(text: str, expansions: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Pairs of neighbouring content words ("complaints officer"), acronyms read as their long forms."""
    words: list[str] = []
    for word in content_words(text):
        words.extend(expansions.get(word, [word]))
    return set(zip(words, words[1:]))


def _names(text: str, expansions: dict[str, list[str]]) -> set[tuple[str, str]]:
    """The last two words of each capitalised name or spelt-out acronym in a text ("assurance framework" of
    "Quality Assurance Framework", "progress plan" of "APP"): a name's head says what it is ("Parent Carer
    Forum" and "Parent Carer Survey" are different things)."""
    heads = set()
    for match in _NAME.finditer(text):
        words = [w for word in content_words(match[0]) for w in expansions.get(word, [word])]
        if len(words) >= 2:
            heads.add((words[-2], words[-1]))
    return heads


def _figures(text: str) -> set[str]:
    """The percentages and sums of money a text states, normalised ("65 per cent" -> "65%")."""
    return {re.sub(r"\s+", "", m[0].lower()).replace("percent", "%") for m in _FIGURE.finditer(text)}


def _shares(texts: list[str], expansions: dict[str, list[str]]) -> Callable[[tuple[str, str]], float]:
    """The share of the passages that use each phrase (how common, hence how unspecific, it is); a phrase in at
    most two passages counts as unused (share 0), so a small index still has rare phrases."""
    counts = Counter(p for text in texts for p in _phrases(text, expansions))
    total = max(1, len(texts))
    return lambda phrase: counts[phrase] / total if counts[phrase] > 2 else 0.0


Terms = tuple[set, set, set]  # a statement's object phrases, name heads and figures


def object_terms(text: str, expansions: dict[str, list[str]]) -> Terms:
    """What a statement can share with another to speak of the same object: its two-word phrases (less those of
    the status vocabulary itself, "took place"), the heads of its names, and its figures, leaving out names it
    mentions only as an agent or partner ("with the PCF", "by WCF")."""
    about = _AGENT.sub(" ", text)
    phrases = {p for p in _phrases(about, expansions) if not _REPORTING.search(" ".join(p))}
    return phrases, _names(about, expansions), _figures(about)


def shares_object(mine: Terms, theirs: Terms, share: Callable) -> bool:
    """Whether two statements' terms (object_terms) speak of the same specific object: a shared rare phrase, a
    shared name that is not everywhere, or a shared figure. `share` tells how common a phrase is (see _shares)."""
    shared = mine[0] & theirs[0]
    if any(share(p) <= RARE_SHARE for p in shared):
        return True
    return any(share(p) <= NAME_SHARE for p in shared & mine[1] & theirs[1]) or bool(mine[2] & theirs[2])


def link_follow_ups(commitments: list[Commitment], reports: list[FollowUp], texts: list[str], embed: Embed) -> list[Commitment]:
    """Each commitment with up to MAX_FOLLOW_UPS later-dated reports on its specific object, best first.

    `texts` are the index's passages (phrase rarity and acronyms are read from them); `embed` turns sentences
    into unit vectors (the index's MiniLM), whose cosine measures how close two statements' subjects are.
    """
    if not commitments or not reports:
        return list(commitments)
    expansions = acronyms(texts)
    share = _shares(texts, expansions)
    ends = [document_end(r.date, r.period) for r in reports]
    report_terms = [object_terms(r.quote, expansions) for r in reports]
    candidates: dict[int, list[int]] = {}  # commitment -> later reports on the same specific object
    for i, commitment in enumerate(commitments):
        made, mine = document_end(commitment.date, commitment.period), object_terms(commitment.quote, expansions)
        candidates[i] = [j for j, (report, end, theirs) in enumerate(zip(reports, ends, report_terms))
                         if report.source != commitment.source and later_than(end, made)
                         and shares_object(mine, theirs, share)]
    vectors = _vectors(embed, [c.quote for c in commitments], [r.quote for r in reports], candidates)
    linked = []
    for i, commitment in enumerate(commitments):
        scored = [replace(reports[j], score=round(float(vectors[("c", i)] @ vectors[("r", j)]), 3)) for j in candidates[i]]
        scored = sorted((f for f in scored if f.score >= MIN_SIMILARITY), key=lambda f: -f.score)
        linked.append(replace(commitment, follow_ups=tuple(scored[:MAX_FOLLOW_UPS])))
    return linked


def _vectors(embed: Embed, commitments: list[str], reports: list[str], candidates: dict[int, list[int]]) -> dict:
    """Unit vectors of just the statements that have a candidate pairing (embedding is the costly step)."""
    keys = [("c", i) for i, found in candidates.items() if found]
    keys += sorted({("r", j) for found in candidates.values() for j in found})
    if not keys:
        return {}
    texts = [commitments[n] if side == "c" else reports[n] for side, n in keys]
    return dict(zip(keys, embed(texts)))


def status(commitment: Commitment, today: date) -> str:
    """done (a later paper, or the plan's own progress column, reports it done), overdue (its due date has passed
    with no report of completion), in progress (later papers report on it), or no later mention."""
    if commitment.reported == "done" or any(f.state == "done" for f in commitment.follow_ups):
        return "done"
    if commitment.due and date.fromisoformat(commitment.due) < today:
        return "overdue"
    if commitment.follow_ups or commitment.reported:
        return "in progress"
    return "no later mention"
