"""Typed records that cross the pipeline's stage boundaries (ingest -> index -> retrieve -> answer)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date as Date
from typing import Literal


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


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused rank score and its dense similarity to the query."""

    chunk: Chunk
    score: float
    similarity: float


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
        return asdict(self)


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer with the citation numbers that support it."""

    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Answer:
    """The reply to one question: cited sentences, or a refusal with the nearest topics."""

    question: str
    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    refused: bool
    message: str = ""  # the refusal text, or "" for an answer
    nearest_topics: tuple[str, ...] = ()
    evidence: float = 0.0  # best sentence score, what the refusal threshold is compared with

    @property
    def text(self) -> str:
        if self.refused:
            return self.message
        return " ".join(
            f"{s.text} {''.join(f'[{n}]' for n in s.citations)}".strip() for s in self.sentences
        )

    def to_json(self) -> dict:
        """The machine-readable contract shared by `sendbot ask --json`, the /ask API and the evals."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [
                {k: c.to_json()[k] for k in ("n", "source", "title", "date", "page", "section", "text", "quote", "score")}
                for c in self.citations
            ],
        }


FileStatus = Literal["added", "updated", "unchanged", "failed", "removed"]


@dataclass(frozen=True)
class FileResult:
    """What ingest did with one file."""

    source: str
    path: str
    status: FileStatus
    chunks: int = 0
    reason: str = ""  # why a file failed
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
            "chunks_written": self.chunks_written,
            "seconds": round(self.seconds, 3),
        }
