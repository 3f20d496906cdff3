"""Read a long PDF in parts, so its first pages are embedded while pypdf is still parsing the later ones.

pypdf spends tens of milliseconds of pure Python on each page. Ingest splits a changed PDF of more than
`2 * PAGES_PER_PART` pages into runs of pages (`plan_parts`) that its read-ahead workers extract in order
(`ingest.loaders.read_pdf_pages`, which keeps the file parsed between a worker's parts), while the main process
embeds the chunks of the pages already read, and their quotable units (`EarlyVectors`): the units are most of what
ingest embeds, so the encoder is kept busy while pypdf reads on, instead of waiting for the last page.

Reading in parts never changes what is indexed: the document is assembled from all its parts by the code that reads
a PDF whole (`load_document(pdf_pages=join_parts(parts))`), so its pages, chunks and ids are the same. The chunks
embedded early are a forecast: a page's lines are rejoined using the words of the whole document, and a chunk's
context carries the last heading before it. So early vectors are kept by the exact text they embedded, and a final
chunk (or unit) takes one only when its text is the same; any other is embedded when the document is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from index.embedder import count_tokens
from ingest.chunking import chunk_document
from ingest.loaders import LoadError, PdfPages, load_document, pdf_page_count
from sendbot.core.config import Settings
from sendbot.core.models import Chunk, Document

PAGES_PER_PART = 6  # pages a worker reads at a time (~0.2-0.5 s of pypdf): the first chunks embed that soon
# Chunks forecast before they are embedded early. The encoder pads each batch to its longest text after sorting
# one call's texts by length, so many small calls waste work: on the bundled agenda pack, calls of 40 chunks feed
# the model 37% more padded word pieces than one call of all (batches of 32), calls of 64 27%, of 140 6%.
EARLY_MIN_TEXTS = 128


@dataclass(frozen=True)
class Part:
    """Pages start..stop-1 (0-based) of a PDF, read as one task; `last` is the file's final part."""

    start: int
    stop: int
    last: bool


def plan_parts(path: Path, max_file_mb: float, pages_per_part: int = PAGES_PER_PART) -> list[Part]:
    """The parts to read a PDF in; [] when it is read whole: not a PDF, short, or a file that the whole-file reader
    refuses (empty, too big, unreadable), so its reason is given in the usual words."""
    if path.suffix.lower() != ".pdf" or pages_per_part < 1:
        return []
    try:
        size = path.stat().st_size
        if not size or size / 1e6 > max_file_mb:
            return []
        count = pdf_page_count(path)
    except (LoadError, OSError):
        return []
    if count < 2 * pages_per_part:
        return []
    return [Part(start, min(start + pages_per_part, count), start + pages_per_part >= count)
            for start in range(0, count, pages_per_part)]


def join_parts(parts: list[PdfPages]) -> PdfPages:
    """A PDF's parts, read in order, as if its pages had been read in one go."""
    first = parts[0]
    return PdfPages(0, tuple(text for part in parts for text in part.texts), first.page_count, first.title, first.date)


class EarlyVectors:
    """Vectors of a PDF's chunks (and their units) embedded before the whole file was read, kept per document by
    the text embedded.

    One PDF is read at a time: `add` is called with its parts so far, and embeds the chunks of the pages that arrived
    since it last embedded (reading the page before them again, for the heading it carries).
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], settings: Settings,
                 texts_of: Callable[[list[Chunk]], list[str]], min_texts: int = EARLY_MIN_TEXTS) -> None:
        self.encode = encode
        self.texts_of = texts_of  # what ingest embeds for chunks: their search texts and their quotable units'
        self.settings = settings
        self.min_texts = min_texts
        self.kept: dict[str, dict[str, np.ndarray]] = {}
        self._source = ""
        self._head: Document | None = None  # the document as its first part gave it: title, date, kind
        self._done = 0  # pages of the current document whose chunks were embedded

    def add(self, path: Path, source: str, sha256: str, parts: list[PdfPages]) -> None:
        """Embed the chunks of the pages read since the last embedding, once they are `min_texts` or more; a
        failure is left for the final embedding."""
        if source != self._source:
            self._source, self._head, self._done = source, None, 0
        received = [text for part in parts for text in part.texts]
        start = max(self._done - 1, 0)
        if start and self._head is None:
            return  # the first pages had no text: nothing to take the document's title from
        raw = PdfPages(start, tuple(received[start:]), parts[0].page_count, parts[0].title, parts[0].date)
        try:
            doc = load_document(path, self.settings.max_file_mb, sha256, source=source,
                                max_word_chars=self.settings.max_word_chars, pdf_pages=raw)
        except LoadError:
            return  # no text on these pages yet
        self._head = self._head or doc
        chunks = chunk_document(replace(self._head, pages=doc.pages), count_tokens, self.settings.chunk_tokens,
                                self.settings.chunk_overlap_sentences)
        kept = self.kept.setdefault(source, {})
        new_chunks = [c for c in chunks if c.page and c.page > self._done]
        texts = [text for text in self.texts_of(new_chunks) if text not in kept]
        if len(texts) < self.min_texts:
            return  # too few to embed well on their own: wait for more pages
        try:
            kept.update(zip(texts, self.encode(texts)))
        except Exception:  # e.g. out of memory: the final embedding of the document reports it
            return
        self._done = len(received)

    def take(self, source: str) -> dict[str, np.ndarray]:
        """The vectors kept for a document, which no longer holds them."""
        return self.kept.pop(source, {})
