"""Who a statement commits, and a short label for what: read from the sentence's own words.

In order: the agent of a passive ("would be implemented by WCF", "overseen by the ... Partnership Board"); the
pronoun or name just before the committing word ("the 0-25 SEND ... Partnership Board would oversee", "we will",
"Dawn has agreed to"); the speaker of reported speech ("The Director advised that ..."); otherwise "unknown".
"we", "our" and "I" are the publisher; he, she and they are the speaker of the same or the previous sentence.
When a request does not name who is asked, the one asking is given.
"""

from __future__ import annotations

import re

_TOKEN = r"\(?[A-Z0-9][\w'&/.\u2019-]*\)?"
_NAME = rf"{_TOKEN}(?:\s+(?:(?:of|for|and|&)\s+)?{_TOKEN})*"
_MONTHS = re.compile(r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b|^\(?[\d,.]+\)?$")
_AGENT = re.compile(rf"\b\w+(?:ed|en)\s+(?:[\w'/-]+\s+){{0,8}}?(?:by|through)\s+(?:the\s+)?(?P<who>{_NAME})")
_TRAILING_NAME = re.compile(rf"(?P<who>{_NAME})$")
_FILLERS = re.compile(r"(?:[\s,]+(?:has|have|had|is|are|was|were|remain|remains|now|also|currently|very|still|then|"
                      r"an?|the|absolute|been|which|who|that|and|further|not))+[\s,]*$|\s+$", re.I)
_REPORTING_VERBS = (r"advised|explained|informed|confirmed|highlighted|stressed|provided|gave|reported|said|stated|noted|"
                    r"agreed|undertook|reiterated|reaffirms|reaffirmed|outlines|outlined|announced|wished|spoke|has agreed")
_SPEAKER = re.compile(rf"(?:^|[.;]\s+|,\s+)(?:(?:The|the|A|a)\s+)?(?P<who>{_NAME})(?:,\s+[^,]{{3,90}},)?\s+(?:also\s+)?"
                      rf"(?:{_REPORTING_VERBS})\b")
_NOT_NAMES = re.compile(r"^(?:The|A|An|She|He|They|We|I|This|These|That|Those|It|Its|There|Their|Your|During|In|On|At|By|For|From|Following|"
                        r"Looking|Going|Closing|Further|However|Whilst|All|Both|Each|Every|As|If|When|Once|Commitment|To|Work|"
                        r"Implementation|Monitoring)(?:\s|$)"
                        r"|^(?:SEND|EHCP'?s?|EHC|APP|CYP|Report|Plan|Strategy|Appendix|Action|Workstream|Year|Q\d)$"
                        r"|\b(?:Plans?|Strategy|Report|Portal|Policy)$")
_PREPOSITION_BEFORE = re.compile(r"\b(?:with|of|to|for|in|on|at|from|by|within|into|about|review|across)\s+(?:the\s+|a\s+|an\s+)?$", re.I)
_PASSIVE = re.compile(r"^(?:will|would|shall|should)\s+(?:then\s+|also\s+|now\s+)?be\s+\w+(?:ed|en)\b")
_OURS = re.compile(r"^(?:\S+\s+){0,3}?(?:we|our)\b", re.I)
_PRONOUNS = {"we": "publisher", "our": "publisher", "us": "publisher", "i": "publisher",
             "he": "speaker", "she": "speaker", "they": "speaker", "his": "speaker", "her": "speaker", "their": "speaker"}


def who_of(sentence: str, trigger_at: int, before: str, publisher: str) -> str:
    """The person, role or body a statement commits, as the text names it; "unknown" when it does not."""
    text = " ".join(sentence[:trigger_at].split())
    rest = " ".join(sentence[trigger_at:].split())
    if (agent := _AGENT.search(rest[:140])) and agent.start() < 60 and _valid(agent["who"]):
        return _clean(agent["who"])
    passive = bool(_PASSIVE.match(rest))
    head = _FILLERS.sub("", text) or " ".join(sentence.split()[:1])
    last = re.split(r"[\s'\u2019]+", head.lower())[-1] if head else ""
    if last in _PRONOUNS:
        return _resolve(_PRONOUNS[last], head, before, publisher)
    run = _TRAILING_NAME.search(head)
    if run and not passive and _valid(run["who"]) and not _PREPOSITION_BEFORE.search(head[:run.start()]):
        return _clean(run["who"])
    if speaker := _speaker(sentence):
        return speaker
    if _OURS.match(text):
        return publisher or "unknown"
    return (not passive and _subject_of(sentence)) or "unknown"


def _resolve(pronoun: str, head: str, before: str, publisher: str) -> str:
    """We/our/I: the publisher; he/she/they: the last name before the pronoun, else the previous sentence's speaker."""
    if pronoun == "publisher":
        return publisher or "unknown"
    names = [m.group() for m in re.finditer(_NAME, head) if _valid(m.group())]
    return _clean(names[-1]) if names else _speaker(before) or _subject_of(before) or "unknown"


def _valid(name: str) -> bool:
    name = _clean(name)
    return bool(name) and not _NOT_NAMES.search(name) and not _MONTHS.search(name)


def _speaker(sentence: str) -> str:
    """Who reported speech is attributed to ("The Chief Executive highlighted that ..."), or ""."""
    for found in _SPEAKER.finditer(" ".join(sentence.split())):
        if _valid(found["who"]):
            return _clean(found["who"])
    return ""


def _subject_of(sentence: str) -> str:
    """The name a sentence opens with ("The Chief Executive, WCF wished ..."), or ""."""
    found = re.match(rf"(?:The\s+)?(?P<who>{_NAME}(?:,\s+{_NAME})?)", " ".join(sentence.split()))
    return _clean(found["who"]) if found and _valid(found["who"]) else ""


def _clean(name: str) -> str:
    name = re.sub(r"\s*\([^)]*\)", "", name)
    name = re.sub(r"^(?:the|a|an)\s+", "", name.strip(" ,;:"), flags=re.I)
    return re.sub(r"\s+(?:of|for|and|with|&|the)$", "", name).strip(" ,;:()")


_WHAT_START = re.compile(r"\b(?:will|would|shall|should|committed to|commitment to|commitments to|undertook to|agreed to|"
                         r"asked to|is planning|plans to|going to|aim is to|seeking to|required (?:by [^,.;]+ )?to)\s+"
                         r"(?:be\s+)?(?:then\s+)?")


def what_of(sentence: str, words: int = 12) -> str:
    """A short label: the words after the committing verb, up to the end of their clause (at most `words`)."""
    text = " ".join(sentence.split())
    found = _WHAT_START.search(text)
    rest = text[found.end():] if found else re.sub(r"^Work ?strea ?m ?\d+\s*", "", text)
    clause = re.split(r"[.;:]\s|[.;:]$|,\s(?=which|and|but|so|with)\b", rest)[0]
    kept = clause.split()[:words]
    return " ".join(kept).rstrip(" ,.;:") + ("..." if len(clause.split()) > words else "")
