"""Follow-up questions read against the conversation so far: "can I complain about the delay?" after "my son's EP
assessment is late" is asked as "can I complain about the EP assessment delay?".

Pure text in, text out: `resolve(question, previous_question, previous_topic)` says whether the question leans on
the one before (a pronoun such as "it" or "they", a short question about "the delay", or one starting "and" or "what
about"), the question to search with (the topic put where the reference was), and the topic the app shows as
"Answering about: ...". A question that names its own subject stands alone and starts a new topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sendbot.core.text import STOPWORDS

# Pronouns that stand for the earlier subject, and the possessives among them.
REFERRING = {"it": "", "they": "", "them": "", "its": "'s", "their": "'s", "theirs": "'s"}
# Words that open a question carrying on from the one before.
CARRY_ON = re.compile(r"^(?:and|also|so|but|then|what about|how about|and what about|what else)\b", re.I)
# Words a question's topic never consists of: who is asking about whom, and how things went.
GENERIC = frozenset("""son sons daughter daughters child children kid kids boy girl family parent parents carer carers
    happen happens happened late delayed delay delays need needs want wants say says said find found help
    question questions thing things way ways anyone someone somebody people person stand mean means meant run runs
    work works go goes take make give gets pay cost costs complain apply ask asked""".split())
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\u2019-]*")
_DEFINITE = re.compile(r"\b(the|this|that|these|those)\s+([a-z][a-z'\u2019-]*)\b(?!\s+of\b)")
MAX_FOLLOW_UP_WORDS = 3  # a question about "the delay" with more to say than this names its own subject


@dataclass(frozen=True)
class Resolved:
    """A question read in its conversation: what to search with and what it is about."""

    question: str  # the question to search with: the topic put in where the question referred back
    topic: str  # what the conversation is about, for "Answering about: ..." ("" when the question names nothing)
    follow_up: bool  # True when the question leaned on the previous one


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _key(word: str) -> str:
    return word.lower().replace("\u2019", "'").removesuffix("'s")


def topic_of(question: str) -> str:
    """A question's subject: its longest run of words that are neither common words nor about who is asking
    ("my son's EP assessment is late" -> "EP assessment"), in the question's own spelling."""
    best: list[str] = []
    run: list[str] = []
    for word in [*_words(question), "."]:
        key = _key(word)
        if word != "." and key not in STOPWORDS and key not in GENERIC and len(key) > 1:
            run.append(word.replace("\u2019", "'").removesuffix("'s"))
            continue
        if len(run) > len(best):
            best = run
        run = []
    return " ".join(best)


def _content(question: str) -> list[str]:
    return [_key(w) for w in _words(question) if _key(w) not in STOPWORDS and len(_key(w)) > 1]


def _names_something(question: str) -> bool:
    """Whether a question names its own subject: a capitalised word or an acronym after its first word."""
    return any(w[0].isupper() and w != "I" for w in _words(question)[1:])


def leans_on_previous(question: str) -> bool:
    """Whether a question only makes sense with the one before: it refers back with a pronoun ("who runs it?"),
    starts by carrying on ("and for adults?"), or is a short question about "the" something it does not name."""
    if CARRY_ON.match(question.strip()):
        return True
    if any(_key(w) in REFERRING for w in _words(question)):
        return True
    short = len(_content(question)) <= MAX_FOLLOW_UP_WORDS
    return short and not _names_something(question) and bool(_DEFINITE.search(question.lower()))


def _put_topic_in(question: str, topic: str) -> str:
    """The question with the topic where it referred back: for the first pronoun, or before the noun of its first
    "the ..." phrase; otherwise after the question, so search still sees it."""
    def pronoun(match: re.Match) -> str:
        return topic + REFERRING[_key(match.group())] if match.group().lower() in REFERRING else match.group()

    replaced = re.sub(r"\b(?:it|they|them|its|their|theirs)\b", pronoun, question, count=1, flags=re.I)
    if replaced != question:
        return replaced
    definite = _DEFINITE.search(question.lower())
    if definite and not topic.lower().endswith(definite.group(2)):
        at = definite.start(2)
        return f"{question[:at]}{topic} {question[at:]}"
    return f"{question.rstrip()} ({topic})"


def resolve(question: str, previous_question: str = "", previous_topic: str = "") -> Resolved:
    """Read `question` after the previous one (and the topic it was about): a follow-up is searched with that topic
    put in and keeps it; any other question is searched as asked and starts its own topic."""
    question = " ".join(question.split())
    topic = previous_topic or topic_of(previous_question)
    if topic and leans_on_previous(question) and topic.lower() not in question.lower():
        return Resolved(_put_topic_in(question, topic), topic, True)
    return Resolved(question, topic_of(question), False)
