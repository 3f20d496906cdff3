"""Typed records that cross the pipeline's stage boundaries (ingest -> index -> retrieve -> answer).

This module is the floor of the dependency graph: every stage imports it, and it imports nothing of sendbot's
but its sibling helpers in `sendbot.core`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import date as Date
from typing import Iterable, Literal

import numpy as np

from sendbot.core.dates import format_date, parse_day, period_range
from sendbot.core.prompts import prompts


@dataclass(frozen=True)
class Page:
    """One page of extracted text (documents without pages have a single page numbered 1)."""

    number: int
    text: str


@dataclass(frozen=True)
class Document:
    """A loaded source file: its normalised text by page and the metadata citations show."""

    source: str  # file name, unique within the index
    path: str
    sha256: str
    title: str
    date: str  # ISO date, or "" when the document does not state one
    period: str  # free-text date description when there is no exact date
    publisher: str
    kind: str
    pages: tuple[Page, ...]
    paged: bool  # True for formats with real page numbers (PDF)
    notes: tuple[str, ...] = ()  # what loading had to repair, for the ingest report
    # Where it was published, for citations that point home (from the folder's manifest; `sendbot sync` writes them)
    url: str = ""  # the council's own page or document
    committee: str = ""
    meeting: str = ""  # the meeting's date, YYYY-MM-DD
    item: str = ""  # agenda item number and title

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)


@dataclass(frozen=True)
class Chunk:
    """A passage to index: an exact slice of one page's text plus the context it is embedded with."""

    id: str
    source: str
    sha256: str
    ordinal: int
    page: int | None
    section: str
    text: str  # verbatim slice of the page text: quotes are taken from here
    context: str  # heading path and table header: searched, never quoted
    title: str
    date: str
    period: str
    kind: str
    publisher: str
    url: str = ""  # the document's origin (see Document)
    committee: str = ""
    meeting: str = ""
    item: str = ""

    @property
    def link(self) -> str:
        """The council's own address for this passage: its page, or its PDF opened at the chunk's page."""
        if self.url and self.page and "#" not in self.url:
            return f"{self.url}#page={self.page}"
        return self.url

    @property
    def search_text(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata for the vector store (no None values)."""
        data = asdict(self)
        data.pop("id")
        data.pop("text")
        data["page"] = self.page or 0
        return data

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, meta: dict) -> "Chunk":
        values = {f: meta[f] for f in cls.__dataclass_fields__ if f not in ("id", "text") and f in meta}
        values["page"] = meta["page"] or None
        return cls(id=chunk_id, text=text, **values)


@dataclass(frozen=True)
class UnitVectors:
    """The vectors of a chunk's quotable units (sendbot.core.units), by each unit's span in the chunk's text. Ingest
    embeds them with the chunk, so answering a question never waits for its candidate sentences to be embedded."""

    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray  # one unit vector per span

    def by_span(self) -> dict[tuple[int, int], np.ndarray]:
        """Each span's vector."""
        return dict(zip(self.spans, self.vectors))


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some documents, kinds or a date range (an undated document is placed by its period,
    "early 2022"; one with neither drops out of date filters)."""

    sources: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    date_from: Date | None = None
    date_to: Date | None = None

    def admits(self, chunk: Chunk) -> bool:
        if self.sources and chunk.source not in self.sources:
            return False
        if self.kinds and chunk.kind not in self.kinds:
            return False
        if self.date_from or self.date_to:
            # A dated document is in range by its date; an undated one by the dates its period covers, if it
            # names any ("early 2022"): it is in when the two overlap.
            span = (Date.fromisoformat(chunk.date),) * 2 if chunk.date else period_range(chunk.period)
            if span is None:
                return False
            if self.date_from and span[1] < self.date_from:
                return False
            if self.date_to and span[0] > self.date_to:
                return False
        return True

    @property
    def active(self) -> bool:
        return bool(self.sources or self.kinds or self.date_from or self.date_to)

    @classmethod
    def parse(cls, sources: Iterable[str] | None = None, kinds: Iterable[str] | None = None,
              date_from: str | None = None, date_to: str | None = None) -> "Filters":
        """Filters from what a person typed (CLI flags, the app's form, the API); dates may be partial ("2023",
        "May 2023", "24/05/2023"). Raises ValueError with a plain-English message for unreadable or reversed dates."""
        start, end = parse_day(date_from), parse_day(date_to, end=True)
        if start and end and start > end:
            raise ValueError("The 'from' date is after the 'to' date. Please swap them round.")
        return cls(sources=tuple(sources or ()), kinds=tuple(kinds or ()), date_from=start, date_to=end)

    def to_json(self) -> dict:
        """The filters as plain JSON values (dates as YYYY-MM-DD, or "")."""
        return {
            "sources": list(self.sources), "kinds": list(self.kinds),
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }


@dataclass(frozen=True)
class Query:
    """A question ready for search: the cleaned text and the text with acronym expansions appended."""

    question: str
    cleaned: str  # instructions to the bot removed and misspellings corrected
    expanded: str
    injected: bool  # the question contained instructions aimed at the bot


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused rank score, its dense similarity to the query and its keyword (BM25) score
    (0 where the keyword search did not find it)."""

    chunk: Chunk
    score: float
    similarity: float
    keyword: float = 0.0


@dataclass(frozen=True)
class SearchResult:
    """Passages for a query, plus the query vector (the reranker reuses it to score sentences)."""

    passages: list[Passage]
    query_vector: np.ndarray


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of a retrieved passage, as offsets into the passage text, with its relevance score."""

    passage: int  # index into the reranked passages
    start: int
    end: int
    score: float
    vector: np.ndarray


@dataclass(frozen=True)
class Reranked:
    """Passages in their new order and every scored sentence (best first)."""

    passages: list[Passage]
    sentences: list[ScoredSentence]

    @property
    def evidence(self) -> float:
        """The best sentence's score: how well the documents answer the question at all."""
        return self.sentences[0].score if self.sentences else 0.0

    def top(self, k: int) -> "Reranked":
        """The first k passages and the sentences that belong to them."""
        return replace(self, passages=self.passages[:k], sentences=[s for s in self.sentences if s.passage < k])


# The citation fields of the JSON contract (`sendbot ask --json`, the /ask API, feedback, the evals), in order.
# `url` is the council's own page or PDF (at the cited page), "" when the document has none; `committee`, `meeting`
# (its date) and `item` are filled for committee papers.
CITATION_FIELDS = ("n", "source", "title", "date", "page", "section", "text", "quote", "score",
                   "url", "committee", "meeting", "item")


@dataclass(frozen=True)
class Citation:
    """Where an answer sentence came from: the passage, its document and the exact words quoted."""

    n: int
    source: str
    title: str
    date: str
    page: int | None
    section: str
    text: str
    quote: str
    score: float
    kind: str = ""
    period: str = ""
    url: str = ""
    committee: str = ""
    meeting: str = ""
    item: str = ""

    def to_json(self) -> dict:
        """The citation's fields in the JSON contract (CITATION_FIELDS)."""
        return {name: getattr(self, name) for name in CITATION_FIELDS}


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer with the citation numbers that support it, and when its document said it."""

    text: str
    citations: tuple[int, ...]
    date: str = ""  # the cited document's date (YYYY-MM-DD), "" when undated
    period: str = ""  # an undated document's period as written ("early 2022")
    earlier: bool = False  # a later document in the same answer speaks to the same question
    status: str = ""  # for a quoted commitment (commitments/chat.py): its register status ("done", "overdue", ...)

    @property
    def said(self) -> str:
        """When the document said it, in words ("24 May 2023", "early 2022"); "" when that is not known."""
        period = re.sub(r"\s*\(.*\)", "", self.period)  # "early 2022 (after the revisit)" -> "early 2022"
        return format_date(self.date, period) if self.date or period else ""

    @property
    def said_label(self) -> str:
        """What an answer spanning dates puts before the sentence: "24 May 2023", "Earlier, early 2022" (the wording
        in prompts/said_earlier.txt) or "Undated"; shared by the command line and the web app. A quoted commitment's
        label adds its register status (prompts/commitment_status.txt)."""
        label = prompts().said_earlier.format(when=self.said) if self.earlier else (self.said or "Undated")
        return prompts().commitment_status.format(label=label, status=self.status) if self.status else label

    def to_json(self) -> dict:
        """The sentence in the JSON contract: its text, citation numbers, date or period, and whether it is earlier
        (plus "status" when it quotes a commitment from the register)."""
        data = {"text": self.text, "citations": list(self.citations), "date": self.date or None,
                "period": self.period, "earlier": self.earlier}
        return {**data, "status": self.status} if self.status else data


@dataclass(frozen=True)
class DirectAnswer:
    """The few words that answer a number, date or "what does X stand for" question ("up to 8 weeks"): an exact
    slice, text[start:end], of citation `citation`'s passage, so a source card can highlight it."""

    text: str
    citation: int
    start: int
    end: int

    def to_json(self) -> dict:
        """The direct answer in the JSON contract."""
        return {"text": self.text, "citation": self.citation, "start": self.start, "end": self.end}


# Who phrased an answer: "extractive" (sentences copied from the documents) or "llm" (a language model, guarded).
AnswererName = Literal["extractive", "llm"]

# Why a reply is a refusal: nothing asked, no searchable words, too long to take, or not in the documents.
RefusalReason = Literal["", "no_question", "no_search_words", "too_long", "not_found"]


@dataclass(frozen=True)
class Answer:
    """The reply to one question: cited sentences, or a refusal with its reason and the nearest topics."""

    question: str
    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    refused: bool
    message: str = ""  # why it refused, in plain words ("" for an answer)
    nearest_topics: tuple[str, ...] = ()  # topics the documents do cover: to ask next, or instead of a refused question
    evidence: float = 0.0  # best sentence score, what the refusal threshold is compared with
    reason: RefusalReason = ""  # the refusal's kind, for code: the message is for people
    answerer: AnswererName = "extractive"  # who phrased it: sentences copied from documents, or a language model
    dropped: tuple[str, ...] = ()  # generated sentences the guard removed, each with why (not in the JSON contract)
    fallback: str = ""  # why a generated answer was replaced by the extractive one ("" if it was not)
    direct: DirectAnswer | None = None  # the few words that answer it, stated first ("up to 8 weeks")
    # The best unit scored under `confident_evidence`: the closest the documents come, which more often than not
    # misses the point, so the reader is told so
    tentative: bool = False

    @property
    def text(self) -> str:
        """The reply as plain text: cited sentences, or the refusal with the topics the documents do cover."""
        if not self.refused:
            return " ".join(
                f"{s.text} {''.join(f'[{n}]' for n in s.citations)}".strip() for s in self.sentences
            )
        if not self.nearest_topics:
            return self.message
        return f"{self.message} {prompts().nearest_topics.format(topics='; '.join(self.nearest_topics))}"

    def to_json(self) -> dict:
        """The machine-readable contract shared by `sendbot ask --json`, the /ask API and the evals."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "answerer": self.answerer,
            "sentences": [s.to_json() for s in self.sentences],
            "direct": self.direct.to_json() if self.direct else None,
            "tentative": self.tentative,
        }

    @property
    def spans_dates(self) -> bool:
        """True when the answer quotes documents of different dates, so each sentence must say when it was said
        (and when it quotes a commitment, whose label carries its status)."""
        return len({(s.date, s.period) for s in self.sentences}) > 1 or any(s.status for s in self.sentences)


@dataclass(frozen=True)
class FileRecord:
    """One live file version in the index: what the document list, filters and source links show."""

    source: str
    path: str
    sha256: str
    chunks: int
    title: str
    date: str
    period: str
    publisher: str
    kind: str
    paged: bool
    pipeline: str = ""  # the chunking that produced its chunks (see ingest.pipeline.pipeline_id)
    note: str = ""  # what ingest warned about it (e.g. pages without text), shown in the document lists


FileStatus = Literal["added", "updated", "unchanged", "failed", "skipped", "removed"]


@dataclass(frozen=True)
class FileResult:
    """What ingest did with one file."""

    source: str
    path: str
    status: FileStatus
    chunks: int = 0
    reason: str = ""  # why a file failed or was skipped
    note: str = ""  # something worth knowing about a file that went in (e.g. pages without text)


@dataclass
class IngestReport:
    """The outcome of one ingest run, file by file."""

    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: FileStatus) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def chunks_written(self) -> int:
        return sum(f.chunks for f in self.files if f.status in ("added", "updated"))

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def to_json(self) -> dict:
        return {
            "files": [asdict(f) for f in self.files],
            "added": self.count("added"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "removed": self.count("removed"),
            "failed": self.count("failed"),
            "skipped": self.count("skipped"),
            "chunks_written": self.chunks_written,
            "seconds": round(self.seconds, 3),
        }
