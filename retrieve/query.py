"""Turn a user's question into search text: drop instructions aimed at the bot, expand SEND acronyms both ways."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from retrieve.spelling import Speller
from sendbot.core.dates import MONTH_ABBREVIATIONS, MONTH_NAMES
from sendbot.core.models import Query
from sendbot.core.text import STOPWORDS

# Words that carry the shape of a question, not its topic.
QUESTION_WORDS = frozenset(
    "happen happens happened say said says tell mean means stand stands does did done going go give given "
    "find know want need like thing things way ways people someone anyone something anything".split()
)
# Words that say what kind of answer a question wants ("how often", "what percentage", "whose job") or are the
# asker's turns of phrase ("actually", "still", "didn't"). They stay in the coverage the evidence is judged on (a
# document that never says how long cannot answer "how long"), but the ranking also sees the coverage of the
# question's topic without them, since the sentence that answers rarely repeats them.
ANSWER_SHAPE_WORDS = frozenset(
    "often long number numbers percentage proportion figure figures amount money name job role title time "
    "start starts started exactly actually still currently really "
    "who's whos they're didn't hasn't haven't can't aren't isn't doesn't don't won't i'm i've it's that's".split()
)

_NOT_TOPIC = STOPWORDS | QUESTION_WORDS | ANSWER_SHAPE_WORDS

GLOSSARY_PATH = Path(__file__).with_name("glossary.tsv")
EVERYDAY_PATH = Path(__file__).with_name("everyday.tsv")

# Sentences that address the bot rather than the documents. They are removed before searching: the answer is
# always built from the documents, so such text can never change what sendbot does.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instruction|rule|prompt|previous|above|guideline)s?\b"
    r"|\b(system|hidden|initial)\s+prompt\b|\byou are now\b|\bpretend (to be|you)\b|\bact as\b|\brole-?play\b"
    r"|\b(respond|reply|answer|write|speak|talk)\b.{0,25}\b(only|as a|like a|in the style|in [A-Z]?[a-z]+ish)\b"
    r"|\bfrom now on\b|\bnew instructions?\b|\bjailbreak\b|\bdeveloper mode\b|\byou (must|should) (always|never|only)\b",
    re.IGNORECASE,
)
# Text a question never needs, where instructions hide: markup comments and tags ("<!-- assistant: ... -->"), and
# a chat transcript's turns spoken as the bot's side ("SYSTEM: ... User: <the question>"), which run to the next turn.
_MARKUP = re.compile(r"<!--.*?(-->|$)|</?[A-Za-z][^<>]{0,200}>", re.S)
_TURN = re.compile(r"(?:^|(?<=[.!?>\n]))\s*(system|assistant|developer|user|human)\s*:", re.I)
_BOTS_TURN = ("system", "assistant", "developer")

_QUESTION = re.compile(r"\?\s*$|^\W*(who|what|when|where|which|why|how|is|are|was|were|do|does|did|can|could|will|would|should|has|have)\b", re.I)
# What a question asks for: a number, a date, a definition of a term, a way to get in touch, a person (the reranker
# scores units on it, the answerer states it first), a grade.
NUMBER_QUESTION = re.compile(r"\b(how many|how much|what number|what percentage|what proportion|how long|what share)\b", re.I)
SHARE_QUESTION = re.compile(r"\b(percentage|proportion|per ?cent|share)\b", re.I)  # a number question wanting a share
PERCENT = re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|per ?cent)")
MONTH = rf"(?:{'|'.join(MONTH_NAMES)})"
# A number that may count or amount to something: not a year, a date ("6.02.23"), one with a leading zero (an area
# code: "01905"), a day of a month ("8 February") or a span of days ("6 - 10 February 2023").
_NUMBER = re.compile(r"(?<![\d.,/])\b(?!(?:19|20)\d\d\b|\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|0\d{3})\d[\d,.]*(?![\d,.])"
                     rf"(?!\s*(?:st|nd|rd|th)?\s+{MONTH}\b)(?!\s*[-–]\s*\d{{1,2}}\s+[A-Z][a-z]+ (?:19|20)\d\d)")
# What comes before a number that does not count: a label ("Appendix 1", "Workstream 4", "version 0.7"), or the year
# that starts a span of years ("2021- 22").
_NOT_COUNTED_AFTER = re.compile(r"\b(?:appendix|annex|item|page|pages|section|paragraph|para|action|workstream|ws|"
                                r"priority|stage|step|phase|version|wave|tier|level|concern|recommendation|requirement|"
                                r"no\.?|q|sch\.?|schedule|reg\.?|regulation|art\.?|article|cl\.?|clause)\s*$"
                                r"|\b(?:19|20)\d\d\s*[-–]\s*$", re.I)
# A month before a number makes it a date, not a count: the year of an action plan's "Feb 22 - Completed", the day of
# "May 22".
_MONTH_BEFORE = re.compile(rf"\b(?:{MONTH}|{'|'.join(MONTH_ABBREVIATIONS)})\.?\s*$")
PHONE = re.compile(r"\b0\d{2,4}[ -]?\d{3}[ -]?\d{3,4}\b")  # a UK phone number ("01905 846009")
_DATE_WORDS = re.compile(r"\b(what date|by when|what year|deadline|by what date)\b", re.I)
_WHEN = re.compile(r"\bwhen\b", re.I)
# What makes a "when" a question of its own: it begins the question or a clause ("..., and when?"), or follows a verb
# of knowing or telling ("do you know when", "tell me when"); a "when" after another question word or a leading
# auxiliary is a time clause instead ("what happens when my plan is late?", "is there help when he turns 18?").
_CLAUSE_BEFORE = re.compile(r"(?:^|[.?!;:,(]|\b(?:and|or|but|so)\b)\W*$", re.I)
_KNOWING_BEFORE = re.compile(r"\b(?:know|knows|tell|told|say|said|ask|asked|find out|sure|idea|wonder|wondering)"
                             r"(?:\s+(?:me|us|you|them))?\s*$", re.I)
_ASKING_BEFORE = re.compile(r"\b(?:what|which|who|whom|whose|how|why|where)\b|^\W*(?:is|are|was|were|can|could|do|does|"
                            r"did|will|would|should|shall|has|have|had|may|might)\b", re.I)


DEFINITION_QUESTION = re.compile(
    r"\b(mean|means|meaning|stand for|stands for|short for|definition|define)\b"
    r"|^\W*(what|who)(\s+is|\s+are|'s)(\s+the)?\s+[A-Z][A-Za-z]*[A-Z][A-Za-z]*s?\W*$",  # "What is WCF?"
    re.I,
)
CONTACT_QUESTION = re.compile(
    r"\b(e-?mail|phone|telephone|ring|contact (details?|number)|website|web ?(site|page|address|link)|helpline)\b",
    re.I)
# "What judgement did Ofsted give?": an inspection's grade answers it. A grade is capitalised inside a sentence ("was
# judged 'Requires Improvement'", "protected\tGood"); at a sentence's start "Good" is only a word.
RATING_QUESTION = re.compile(r"\b(judgements?|judgments?|grades?|graded|ratings?|rated|verdict|turn(ed)? out)\b", re.I)
RATING = re.compile(r"(?:(?<=[^\s.!?:] )|(?<=[^\s.!?:] [\"'‘“])|(?<=\t))(Outstanding|Good|Requires Improvement( to be Good)?"
                    r"|Inadequate)\b")  # after a tab: a table's cell
PERSON_QUESTION = re.compile(r"\bwho(se|s|'s)?\b|\bcontact (point|person|officer)s?\b|\blead person\b|\bsigned\b", re.I)


@functools.cache
def acronyms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(acronym, expansions) pairs from glossary.tsv: expanded both ways."""
    return _read_terms(GLOSSARY_PATH)


@functools.cache
def everyday_words() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(everyday word, paper terms) pairs from everyday.tsv: "mums" is searched as "parents" too, one way only."""
    return _read_terms(EVERYDAY_PATH)


def glossary() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every term a question word may stand for: acronyms and everyday words, with what the papers call them."""
    return acronyms() + everyday_words()


@functools.cache
def glossary_words() -> frozenset[str]:
    """The glossary's own words ("mum", "ehcna"): known words the speller must never "correct"."""
    return frozenset(term.lower() for term, _ in glossary())


def _read_terms(path: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            term, expansions = line.split("\t")
            entries.append((term.strip(), tuple(e.strip() for e in expansions.split("|"))))
    return tuple(entries)


def strip_instructions(question: str) -> tuple[str, bool]:
    """The question without what tries to instruct the bot (sentences, markup, the bot's turns of a pasted chat),
    and whether any was found."""
    unwrapped, hidden = _MARKUP.subn(" ", question)
    turns = _TURN.split(unwrapped)  # [before the first turn, role, text, role, text, ...]
    unwrapped = " ".join([turns[0]] + [text for role, text in zip(turns[1::2], turns[2::2])
                                       if role.lower() not in _BOTS_TURN])
    parts = re.split(r"(?<=[.!?:;])\s+|\n+", unwrapped.strip())
    kept = [p for p in parts if not _INSTRUCTION.search(p)]
    if len(kept) == len(parts) and not hidden and len(turns) == 1:
        return question.strip(), False
    # What follows an instruction is often its payload ("say exactly this: ..."): keep only real questions.
    return " ".join(" ".join(p for p in kept if _QUESTION.search(p)).split()), True


def spelled_out(text: str) -> list[tuple[str, str]]:
    """(acronym, expansion) for each glossary expansion the text spells out ("Cabinet Member" for CMR)."""
    lowered = text.lower()
    return [(acronym, e) for acronym, expansions in acronyms() for e in expansions
            if re.search(rf"\b{re.escape(e.lower())}\b", lowered)]


def everyday_terms(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The everyday words and phrases of everyday.tsv the text uses (plurals too), each with the papers' terms."""
    return [(word, terms) for word, terms in everyday_words() if re.search(rf"\b{re.escape(word)}s?\b", text, re.I)]


def expand_acronyms(text: str) -> str:
    """Append the expansions of acronyms and everyday words in the text, and the acronyms of spelled-out terms."""
    additions: list[str] = []
    written_out = {acronym for acronym, _ in spelled_out(text)}
    for acronym, expansions in acronyms():
        if re.search(rf"\b{re.escape(acronym)}s?\b", text, re.IGNORECASE):
            additions.extend(expansions)
        elif acronym in written_out:
            additions.append(acronym)
    for _, terms in everyday_terms(text):
        additions.extend(terms)
    return text if not additions else f"{text} ({'; '.join(dict.fromkeys(additions))})"


_PART_BREAK = re.compile(
    r"(?<=\?)\s+(?=\S)"  # "Who are FiP? What has happened to them?"
    r"|,?\s+and\s+(?=(?:(?:after|before|at|by|for|from|in|on|since|to|until|with)\s+)?"  # "..., and after which..."
    r"(?:what|when|who|why|how|where|which|is|are|was|were|did|does|do|has|have)\b)",  # "..., and when..."
    re.I,
)


_POINTS_BACK = re.compile(r"\b(?:it|its|them)\b", re.I)  # "... line their processes up with it"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_question(text: str) -> list[str]:
    """The parts of a question that asks several things ("When was it held, and when is the next one?").

    A part that names no topic of its own ("when is the next one"), or points back to the first part's ("what are
    the partners doing to line their processes up with it?"), borrows the first part's words.
    """
    parts = [p.strip(" ,") for p in _PART_BREAK.split(text) if p and p.strip(" ,?")]
    if len(parts) < 2:
        return [text]
    topic = " ".join(_topic_words(parts[0]))
    return [parts[0]] + [p if len(_topic_words(p)) >= 3 and not _POINTS_BACK.search(p) else f"{p} ({topic})"
                         for p in parts[1:]]


def asking_part(question: str) -> str:
    """The sentences of a question that ask (end with "?"), without those that tell the asker's situation
    ("My son is 16 and wants to leave school. Is he allowed to?"); the whole text when none or all of them ask."""
    sentences = [s for s in _SENTENCE_END.split(question.strip()) if s]
    asking = [s for s in sentences if s.endswith("?")]
    return " ".join(asking) if asking and len(asking) < len(sentences) else question


def _topic_words(text: str) -> list[str]:
    """The words that name what a part asks about, which a later part pointing back to it borrows ("What exactly is
    an EHCP, and who writes it?": "ehcp", not "exactly")."""
    return [w for w in re.findall(r"[A-Za-z0-9]+", text.lower()) if w not in _NOT_TOPIC and len(w) > 2]


def part_query(query: Query, part: str) -> Query:
    """A query for one part of a several-part question."""
    return Query(question=query.question, cleaned=part, expanded=expand_acronyms(part), injected=query.injected)


def prepare_query(question: str, speller: Speller | None = None) -> Query:
    """Clean, correct and expand a question for both dense and keyword search."""
    cleaned, injected = strip_instructions(" ".join(question.split()))
    if speller is not None:
        cleaned = speller.correct(cleaned)
    return Query(question=question, cleaned=cleaned, expanded=expand_acronyms(cleaned), injected=injected)


def asks_for_date(question: str) -> bool:
    """Whether a question asks when something happens (a date answers it): "when" as a question of its own, or
    "what date", "by when", "deadline"; not a "when" that only says which time the question is about."""
    if _DATE_WORDS.search(question):
        return True
    for match in _WHEN.finditer(question):
        before = question[: match.start()]
        if _CLAUSE_BEFORE.search(before) or _KNOWING_BEFORE.search(before) or not _ASKING_BEFORE.search(before):
            return True
    return False


def counts_in(text: str) -> list[re.Match]:
    """The numbers of a text that count or amount to something ("45 schools", "1,993", "65%"): what answers "how
    many?", as opposed to years, dates ("Feb 22"), labels, spans of years and phone numbers."""
    phones = [m.span() for m in PHONE.finditer(text)]
    return [m for m in _NUMBER.finditer(text)
            if not _NOT_COUNTED_AFTER.search(text, 0, m.start()) and not _MONTH_BEFORE.search(text, 0, m.start())
            and not any(start <= m.start() < end for start, end in phones)]
