"""Find the statements in indexed passages that commit someone to something (no language model).

A statement is a sentence (wrapped table lines rejoined) or an action-plan row. It is kept when its own words
commit, decide, request or target: "will", "would", "is committed to", "agreed to", "undertook to", "is planning",
"scheduled for", "It was agreed that", "is asked to", "would like to see", "the aim is to", a figure with a
deadline ("12 schools ... by July 2023"), or a workstream row with a deadline ("Feb 22 - Completed").
Every quote is an exact slice of a chunk's text, and so of the page it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from commitments.due import document_start, parse_due
from commitments.models import Commitment
from commitments.who import what_of, who_of
from sendbot.core.models import Chunk, Document
from sendbot.core.text import BULLET_LINE, split_sentences

_DECISION = re.compile(r"\bRESOLVED\b|\b(?:was|were|been|is|are)\s+agreed\s+(?:that|to|by)\b|\bagreed (?:focus|focuses|actions?|"
                       r"priorities|outcomes?)\b|\bdecided (?:that|to)\b|^It was agreed\b")
_REQUEST = re.compile(r"\b(?:is|are|was|were|been)\s+(?:asked|requested)\s+to\b|\b(?:Panel|Board|Committee|Council|"
                      r"members?|Members?|Chairman)\s+(?:requested|asked for)\b|\bwould like to (?:see|hear|receive|be presented)\b|"
                      r"\b(?:we|I|We)\s+invite you\b|\b(?:was|were|is|are|been) required (?:by [^,.;]{1,40} )?to\b|\brequired an?\s")
_TARGET = re.compile(r"\b(?:[Tt]he|[Oo]ur) aim is to\b|\btargets? (?:of|is|to|for)\b")
_COMMIT = re.compile(r"\b(?:will|would|shall)\b(?! like\b)|\bcommit(?:ted|ments?) to\b|"
                     r"\b[Cc]ommitment to\b|\b(?:undertook|agreed|promised|pledged) to\b|\b(?:is|are) (?:currently )?being (?:planned|explored)\b|"
                     r"\bis planning\b|\bplans to\b|(?:'re|\u2019re|\bare|\bis|\bam) going to\b|\bscheduled for\b|\bis scheduled\b|\bdue to (?:start|open|begin)\b|"
                     r"\b(?:is|are) seeking to\b|\b(?:is|are) currently (?:reviewing|working|developing)\b")
_SHOULD = re.compile(r"\b(?:should|must)\b")
_FIGURE = re.compile(r"(?<![\w/])(?!(?:19|20)\d\d\b)(?:£?\d[\d,]*%?)(?![\w/])")
_DEADLINE = re.compile(r"\bby\s+(?:the end of\s+)?(?:[A-Z][a-z]+\s+)?(?:19|20)\d\d\b|\b(?:planned|scheduled)\b.{0,40}?\bfor\s+(?:19|20)\d\d\b", re.S)
# Words just before a trigger that make it a question, a guess or a wish rather than a promise.
_NOT_PROMISE = re.compile(r"\b(?:whether|how|what|why)\b[^,.;:]{0,80}$|\b(?:could|might|may)\b[^,.;:]{0,100}$", re.I)
# "would be preferable", and states rather than acts ("will continue to experience", "will wish", "will be aware",
# "will have been identified"): predictions and procedure, not promises.
_HYPOTHETICAL = re.compile(r"^\s*(?:\w+\s+)?be\s+(?:more\s+)?\w+(?:able|ible|ate|ful)\b|^\s*(?:also\s+)?(?:continue to\s+)?"
                           r"(?:experience|require|need|know|feel|wish|be aware|have been)\b")
_YOU_WILL = re.compile(r"\b[Yy]ou (?:will|must|should)\b")
_DEFINITIONS = re.compile(r"\b(?:definitions?|glossary)\b", re.I)

# An action-plan row: "Workstream 2 <action> ... Dec 21 - Completed". PDF tables split words ("Workstrea m 2"), and
# ingest mends them only when it knows the whole word (ingest.pdf_text.mend_broken_words).
_ROW = re.compile(r"Work ?strea ?m ?(\d+)\s(.{10,900}?)(\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\w*"
                  r"(?:\s*[-\u2013]\s*(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\w*)?\s+\d\d\b[.\s\u2013-]*"
                  r"(Completed|Ongoing))", re.S)
_ROW_LEAD = re.compile(r"Lead:\s*((?:[A-Z][\w&'-]*\s*){1,4}?)\s*(?:Managers?:|Membership|$)")

# Wrapped lines of one statement: the next line starts in lower case, or this one ends mid-phrase.
_RUNS_ON = re.compile(r"(?:[(\u2013-]|\b(?:and|or|of|the|a|an|to|for|with|in|on|by|from|at|as|is|are|be|will|would))$")


@dataclass(frozen=True)
class Statement:
    """A candidate statement: offsets into its chunk's text, the text before it on the page, and its context."""

    start: int
    end: int
    decision_context: bool  # a list item under "It was agreed that:" or "RESOLVED:"
    row_state: str = ""  # an action-plan row's progress column ("Completed", "Ongoing")


def statements(text: str) -> list[Statement]:
    """Sentences (wrapped lines rejoined) and action-plan rows of a passage, in order."""
    rows = [Statement(m.start(), m.end(), False, m[4]) for m in _ROW.finditer(text)]
    joined = "".join(" " if ch == "\n" and _wraps(text, i) else ch for i, ch in enumerate(text))
    found: list[Statement] = list(rows)
    in_decision = False
    for span in split_sentences(joined):
        sentence = text[span.start:span.end]
        if any(r.start < span.end and span.start < r.end for r in rows):
            continue
        line_start = text.rfind("\n", 0, span.start) + 1
        bullet = span.start == line_start and bool(BULLET_LINE.match(sentence) or sentence[:1] in "\u00b7\u2022")
        found.append(Statement(span.start, span.end, in_decision and bullet))
        if sentence.rstrip().endswith(":"):
            in_decision = bool(_DECISION.search(sentence))
        elif not bullet and span.start == line_start:
            in_decision = False
    return sorted(found, key=lambda s: s.start)


def _wraps(text: str, newline: int) -> bool:
    """Whether the line break at `newline` only wraps a statement (PDF table cells, long list items)."""
    before = text[text.rfind("\n", 0, newline) + 1:newline].rstrip()
    after = text[newline + 1:newline + 3]
    if not before or not after or before.endswith((".", ":", "!", "?", ";")):
        return False
    return after[:1].islower() or bool(_RUNS_ON.search(before)) or before.count("(") > before.count(")")


def _row_lead(text: str, row_start: int, carried: str) -> str:
    """The owner an action-plan row sits under ("Work Stream Lead: Team Manager"), on its page or an earlier one."""
    leads = list(_ROW_LEAD.finditer(" ".join(text[:row_start].split())))
    return leads[-1][1].strip() if leads else carried


def trigger_at(sentence: str, kind: str) -> int:
    """Where the words that make a statement of its kind start (who is read from the words before them)."""
    patterns = {"decision": (_DECISION, _COMMIT, _SHOULD), "request": (_REQUEST,), "target": (_TARGET, _DEADLINE),
                "commitment": (_COMMIT,)}[kind]
    starts = [m.start() for pattern in patterns for m in pattern.finditer(sentence)
              if pattern is not _COMMIT or not _NOT_PROMISE.search(sentence[:m.start()])]
    return min(starts, default=0)


def classify(sentence: str, decision_context: bool) -> str | None:
    """The kind of statement this is (commitment, decision, request, target), or None when it commits no one."""
    if "?" in sentence or _YOU_WILL.search(sentence):
        return None
    if _DECISION.search(sentence) or (decision_context and (_promises(sentence) or _SHOULD.search(sentence))):
        return "decision"
    if _REQUEST.search(sentence):
        return "request"
    if _TARGET.search(sentence):
        return "target"
    if _promises(sentence):
        return "commitment"
    if _FIGURE.search(_DEADLINE.sub(" ", sentence)) and _DEADLINE.search(sentence):
        return "target"
    return None


def _promises(sentence: str) -> bool:
    """Whether a committing word is used as a promise (not in "whether it would", "could ... will", "would be preferable")."""
    return any(not _NOT_PROMISE.search(sentence[:m.start()]) and not _HYPOTHETICAL.match(sentence[m.end():])
               for m in _COMMIT.finditer(sentence))


_MEETING = re.compile(r"(?:the\s+)?((?:[A-Z0-9][\w'&/-]*\s+(?:and\s+|of\s+|for\s+)?)*?(?P<body>Panel|Board|Committee|"
                      r"Cabinet|AGM|Meeting|Council|Forum))\b")
_MEETING_PREFERENCE = ("AGM", "Meeting", "Panel", "Committee", "Board", "Cabinet", "Council", "Forum")


def meeting_of(title: str, doc_kind: str) -> str:
    """The meeting a paper belongs to, from its title, for minutes, agendas and meeting questions; else ""."""
    if not re.search(r"minutes|agenda|meeting|AGM", f"{doc_kind} {title}", re.I):
        return ""
    found = sorted(_MEETING.finditer(title), key=lambda m: _MEETING_PREFERENCE.index(m["body"]))
    return found[0][1] if found else ""


def extract_commitments(doc: Document, chunks: list[Chunk] = ()) -> list[Commitment]:
    """Every commitment, decision, request and target in a document, in page order; `chunks` (the document's
    indexed passages) give each one its section."""
    anchor = document_start(doc.date, doc.period)
    found: list[Commitment] = []
    lead = ""
    for page in doc.pages:
        on_page = [c for c in chunks if (c.page or 1) == page.number]
        before = ""
        for statement in statements(page.text):
            quote = page.text[statement.start:statement.end]
            kind = "commitment" if statement.row_state else classify(quote, statement.decision_context)
            section = section_of(quote, on_page)
            if kind and not _DEFINITIONS.search(section):
                row_lead = _row_lead(page.text, statement.start, lead) if statement.row_state else ""
                who = row_lead or who_of(quote, trigger_at(quote, kind), before, doc.publisher)
                found.append(_commitment(doc, page.number, quote, kind, who, _due(quote, anchor), section,
                                         statement.row_state))
            before = quote
        lead = _row_lead(page.text, len(page.text), lead)
    return found


def _due(quote: str, anchor) -> str:
    due = parse_due(quote, anchor)
    return due.isoformat() if due else ""


def _commitment(doc: Document, page: int, quote: str, kind: str, who: str, due: str, section: str, row_state: str) -> Commitment:
    return Commitment(
        quote=quote, what=what_of(quote), who=who, due=due, kind=kind, source=doc.source, title=doc.title,
        date=doc.date, period=doc.period, doc_kind=doc.kind, meeting=meeting_of(doc.title, doc.kind),
        page=page if doc.paged else None, section=section,
        reported={"Completed": "done", "Ongoing": "in progress"}.get(row_state, ""),
    )


def section_of(quote: str, chunks: list[Chunk]) -> str:
    """The section of the indexed passage a quote starts in ("" when no passage holds it)."""
    head = quote[:60]
    return next((c.section for c in chunks if head in c.text), "")
