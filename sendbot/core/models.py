"""Typed records that cross the pipeline's stage boundaries (ingest -> index -> retrieve -> answer).

This module is the floor of the dependency graph: every stage imports it, and it imports nothing of sendbot's
but its sibling helpers in `sendbot.core`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date as Date
from typing import Iterable, Literal

import numpy as np

from sendbot.core.dates import parse_day
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
        values = {f: meta[f] for f in cls.__dataclass_fields__ if f not in ("id", "text")}
        values["page"] = meta["page"] or None
        return cls(id=chunk_id, text=text, **values)


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some documents, kinds or a date range (undated documents drop out of date filters)."""

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
            if not chunk.date:
                return False
            day = Date.fromisoformat(chunk.date)
            if self.date_from and day < self.date_from:
                return False
            if self.date_to and day > self.date_to:
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
    """A retrieved chunk with its fused rank score and its dense similarity to the query."""

    chunk: Chunk
    score: float
    similarity: float


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
CITATION_FIELDS = ("n", "source", "title", "date", "page", "section", "text", "quote", "score")


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

    def to_json(self) -> dict:
        """The citation's fields in the JSON contract (CITATION_FIELDS)."""
        return {name: getattr(self, name) for name in CITATION_FIELDS}


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer with the citation numbers that support it."""

    text: str
    citations: tuple[int, ...]


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
    nearest_topics: tuple[str, ...] = ()
    evidence: float = 0.0  # best sentence score, what the refusal threshold is compared with
    reason: RefusalReason = ""  # the refusal's kind, for code: the message is for people
    answerer: AnswererName = "extractive"  # who phrased it: sentences copied from documents, or a language model
    dropped: tuple[str, ...] = ()  # generated sentences the guard removed, each with why (not in the JSON contract)
    fallback: str = ""  # why a generated answer was replaced by the extractive one ("" if it was not)

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
        }


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
