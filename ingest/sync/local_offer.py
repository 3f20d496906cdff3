"""Local Offer pages: crawl a council's site from its start URLs and sitemaps, within the allowed address prefixes.

Each page's main text (trafilatura) becomes a Markdown file dated by what the page says (htmldate); PDFs and Word
files it links to on the same host are fetched too. Pages known from the last sync are always asked for again (a
304 or an unchanged hash leaves them be; a 404 twice in a row removes them), so a page no longer linked is still
noticed when it goes.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urldefrag, urlsplit

from lxml import etree

from ingest.sync.content import (links, looks_like_document, main_text, page_date, page_title, sniff_suffix,
                                 undouble_entities)
from ingest.sync.fetch import Fetched, Fetcher
from ingest.sync.sources import LocalOfferSource
from ingest.sync.state import Candidate, Known, Meta, Origin, SyncState

MAX_SITEMAPS = 20
MIN_MAIN_TEXT = 80  # characters: less than this is a menu or a list of links, crawled through but not indexed
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)


@dataclass
class _Crawl:
    """The frontier of one source's crawl."""

    source: LocalOfferSource
    queue: deque = field(default_factory=deque)  # (url, depth)
    queued: set = field(default_factory=set)
    finals: set = field(default_factory=set)  # final addresses already read (two URLs may redirect to one page)

    def add(self, url: str, depth: int) -> None:
        url = urldefrag(url)[0]
        if url not in self.queued:
            self.queued.add(url)
            self.queue.append((url, depth))


def allowed(url: str, source: LocalOfferSource) -> bool:
    """A page inside the source's prefixes."""
    return url.startswith(source.allow_prefixes)


def crawl(source: LocalOfferSource, fetcher: Fetcher, state: SyncState) -> Iterator[Candidate]:
    """Every page and linked document the crawl reaches, up to max_pages requests."""
    frontier = _Crawl(source)
    for url in source.start_urls:
        frontier.add(url, 0)
    for known in state.of_source(source.name):
        frontier.add(known.key, 1)
    for url in _sitemap_pages(source, fetcher):
        frontier.add(url, 1)
    asked = 0
    while frontier.queue and asked < source.max_pages:
        url, depth = frontier.queue.popleft()
        if url in frontier.finals:
            continue  # already read as where another address redirected to
        asked += 1
        yield from _visit(frontier, fetcher, state, url, depth)
    for url, _ in frontier.queue:  # past max_pages: what was indexed stays as it is
        if url in state.documents:
            yield Candidate(url, source.name, "kept")


def _visit(frontier: _Crawl, fetcher: Fetcher, state: SyncState, url: str, depth: int) -> Iterator[Candidate]:
    source = frontier.source
    known = state.documents.get(url)
    got = fetcher.get(url, known.etag if known else "", known.last_modified if known else "")
    if got.outcome == "ok" and got.final_url in frontier.finals:
        return  # another address of a page already read
    frontier.finals.add(got.final_url)
    if got.outcome == "not_modified":
        _follow(frontier, known.links if known else (), depth)
        yield Candidate(url, source.name, "not_modified", etag=got.etag or known.etag,
                        last_modified=got.last_modified or known.last_modified, links=known.links if known else ())
        return
    if got.outcome != "ok":
        yield Candidate(url, source.name, got.outcome, reason=got.reason)
        return
    suffix = sniff_suffix(got.body, got.content_type, got.final_url)
    if suffix in (".pdf", ".docx"):
        yield _document(source, got, suffix)
    elif suffix == ".html":
        yield from _page(frontier, got, depth, known)
    else:
        yield Candidate(url, source.name, "skipped", reason=f"not a page, PDF or Word file ({got.content_type or 'unknown type'})")


def _follow(frontier: _Crawl, found: tuple[str, ...] | list[str], depth: int) -> None:
    """Queue a page's links: pages inside the prefixes (to max_depth) and documents on the same host."""
    source = frontier.source
    for link in found:
        if looks_like_document(link) and urlsplit(link).netloc in {urlsplit(u).netloc for u in source.start_urls}:
            frontier.add(link, depth + 1)
        elif allowed(link, source) and depth < source.max_depth:
            frontier.add(link, depth + 1)


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _page(frontier: _Crawl, got: Fetched, depth: int, known: Known | None) -> Iterator[Candidate]:
    source = frontier.source
    markup = undouble_entities(_decode(got.body))
    found = tuple(links(markup, got.final_url))
    _follow(frontier, found, depth)
    text = main_text(markup, got.final_url)
    if len(text) < MIN_MAIN_TEXT:
        if known:  # it had text before: keep that version rather than lose it to a menu page
            yield Candidate(got.url, source.name, "kept", links=found)
        return
    title = page_title(markup) or got.final_url
    content = f"# {title}\n\n{text}\n".encode("utf-8")
    day = page_date(markup, got.final_url)
    meta = Meta(title, day, source.council, "web page", got.final_url)
    origin = Origin(source.name, source.council, category="page", page_url=got.final_url, document_url=got.url,
                    final_url=got.final_url, publication_date=day, fetched_at=got.fetched_at,
                    content_type=got.content_type)
    yield Candidate(got.url, source.name, "fetched", content=content, suffix=".md", meta=meta, origin=origin,
                    etag=got.etag, last_modified=got.last_modified, links=found)


def _document(source: LocalOfferSource, got: Fetched, suffix: str) -> Candidate:
    name = urlsplit(got.final_url).path.rstrip("/").rsplit("/", 1)[-1]
    title = re.sub(r"[-_]+", " ", name.rsplit(".", 1)[0]).strip() or got.final_url
    meta = Meta(title, "", source.council, "document", got.final_url)
    origin = Origin(source.name, source.council, category="document", document_url=got.url, final_url=got.final_url,
                    fetched_at=got.fetched_at, content_type=got.content_type)
    return Candidate(got.url, source.name, "fetched", content=got.body, suffix=suffix, meta=meta, origin=origin,
                     etag=got.etag, last_modified=got.last_modified)


def _sitemap_pages(source: LocalOfferSource, fetcher: Fetcher) -> list[str]:
    """Page addresses inside the prefixes from the sitemaps robots.txt lists and those sources.toml adds."""
    todo = deque(dict.fromkeys([*source.sitemaps, *(s for u in source.start_urls[:1] for s in fetcher.sitemaps(u))]))
    pages: list[str] = []
    read = 0
    while todo and read < MAX_SITEMAPS:
        got = fetcher.get(todo.popleft())
        read += 1
        if got.outcome != "ok" or not got.body.strip():
            continue
        root = etree.fromstring(got.body, _PARSER)
        if root is None:
            continue
        for loc in root.iter("{*}loc"):
            url = (loc.text or "").strip()
            if root.tag.endswith("sitemapindex"):
                todo.append(url)
            elif allowed(url, source):
                pages.append(url)
    return pages
