"""A document as a readable page: the text the index was built from, in paragraphs and headings, with the quoted
words highlighted and scrolled to, and links to the file itself and to where the council publishes it.

The text comes from the same loader ingest used (on a private copy of the bytes the document route opened without
following links), so a quote taken from a passage is found in it word for word.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote as url_quote

from ingest.loaders import LoadError, load_document
from sendbot.core.dates import format_date
from sendbot.core.models import FileRecord
from sendbot.core.text import looks_like_heading
from sendbot.web.render import CELL_SEPARATOR, esc

START, END = "\x01", "\x02"  # where the quoted words start and end, before the text is cut into blocks
STYLE = """body { font: 1.05rem/1.6 system-ui, sans-serif; color: #111827; max-width: 46rem; margin: 0 auto;
padding: 1rem 1.2rem 40vh; } h1 { font-size: 1.5rem; line-height: 1.3; } h2 { font-size: 1.15rem; margin-top: 1.6em; }
.meta { color: #4b5563; } a { color: #1d4ed8; } a:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
mark { background: #fde68a; color: #111827; padding: 0 0.1em; } #sb-passage { scroll-margin-top: 30vh; }
.note { background: #eff6ff; border-radius: 6px; padding: 0.5em 0.8em; }"""


def document_text(data: bytes, suffix: str) -> str:
    """The document's text as ingest read it (normalised, page by page), from the file's bytes."""
    with tempfile.TemporaryDirectory(prefix="sendbot-reading-") as folder:
        copy = Path(folder) / f"document{suffix}"
        copy.write_bytes(data)
        return load_document(copy).text


def _block(block: str, inside: bool) -> tuple[str, bool]:
    """One block of text as HTML (a heading, or a paragraph with its line breaks), marking the quoted words;
    `inside` says whether the quote is still open from the block before. Returns the HTML and whether it still is."""
    html, opened = esc(block), inside
    html = html.replace(START, '<mark id="sb-passage">').replace(END, "</mark>")
    if inside:
        html = "<mark>" + html
    for mark in (START, END):
        if mark in block:
            opened = mark == START
    if opened:
        html += "</mark>"
    plain = block.replace(START, "").replace(END, "")
    tag = "h2" if "\n" not in plain and len(plain) < 120 and looks_like_heading(plain) else "p"
    return f"<{tag}>{html.replace(chr(10), '<br>').replace(chr(9), CELL_SEPARATOR)}</{tag}>", opened


def reading_html(text: str, quote: str = "") -> str:
    """The text as paragraphs and headings, the first place the quote appears marked and given id="sb-passage"."""
    quote = quote.strip()
    at = text.find(quote) if quote else -1
    if at < 0 and quote:  # the same words with different spacing
        words = " ".join(quote.split())
        flat = text.replace("\n", " ").replace("\t", " ")  # a table row's cells are tab-separated
        at = flat.find(words)
        quote = text[at : at + len(words)] if at >= 0 else ""
    if at >= 0 and quote:
        text = f"{text[:at]}{START}{text[at:at + len(quote)]}{END}{text[at + len(quote):]}"
    parts, inside = [], False
    for block in text.split("\n\n"):
        if block.strip():
            html, inside = _block(block.strip("\n"), inside)
            parts.append(html)
    return "".join(parts)


def reading_page(record: FileRecord, data: bytes, suffix: str, quote: str = "") -> str:
    """The whole reading page for an indexed document: title, date and kind, links, then its text."""
    try:
        body = reading_html(document_text(data, suffix), quote)
    except LoadError as error:
        body = f'<p class="note">This document cannot be shown as a page: {esc(error)}.</p>'
    links = [f'<a href="{esc(url_quote(Path(record.source).name))}">The file itself</a>']
    if getattr(record, "url", ""):
        links.append(f'<a href="{esc(record.url)}">Where the council publishes it</a>')
    found = "" if not quote or 'id="sb-passage"' in body else (
        '<p class="note">The quoted words could not be found in this version of the document.</p>')
    meta = " · ".join(x for x in (format_date(record.date, record.period), record.kind, record.publisher) if x)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{esc(record.title)}</title><style>{STYLE}</style>'
        f'</head><body><main><h1>{esc(record.title)}</h1><p class="meta">{esc(meta)}</p>'
        f'<p>{" · ".join(links)}</p>{found}{body}</main></body></html>'
    )
