"""Turn what council sites send into files the ingest pipeline reads: type sniffing, entity repair, titles, main text.

Pure functions over bytes and strings; nothing here fetches.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urldefrag, urljoin

from bs4 import BeautifulSoup

# `&amp;#39;`: an entity encoded twice (ModernGov titles and minutes, CMS pages pasted from Word)
_DOUBLED = re.compile(r"&amp;(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,10});")
_ENTITY = re.compile(r"&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,10});")
_SIZE_SUFFIX = re.compile(r"\s*[-(]?\s*\b(PDF|DOCX?|XLSX?|PPTX?|RTF|ODT)\b\s*[\d.,]+\s*[KMG]B\)?\s*$", re.IGNORECASE)
_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "dt", "dd", "blockquote", "pre"]
MEDIA_SUFFIX = {"application/pdf": ".pdf", "text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx"}
DOCUMENT_SUFFIXES = (".pdf", ".docx")


def undouble_entities(markup: str) -> str:
    """HTML source with entities that were encoded twice (`&amp;#39;`) encoded once again (`&#39;`)."""
    return _DOUBLED.sub(r"&\1;", markup)


def plain(text: str) -> str:
    """A short string (a title, a name) with entities decoded, twice-encoded ones too, and whitespace collapsed."""
    for _ in range(2):
        if not _ENTITY.search(text):
            break
        text = html.unescape(text)
    return " ".join(text.split())


def clean_title(title: str) -> str:
    """A link title without the size note ModernGov and CMSs append ("Minutes PDF 119 KB" -> "Minutes")."""
    return _SIZE_SUFFIX.sub("", plain(title)).strip() or plain(title)


def sniff_suffix(body: bytes, content_type: str, url: str) -> str:
    """The file type of a download by its bytes first (mgConvert2PDF.aspx has no extension), then its media type,
    then its address; "" when it is none sendbot reads."""
    if body.startswith(b"%PDF-"):
        return ".pdf"
    if body.startswith(b"PK\x03\x04") and b"word/" in body[:65536]:
        return ".docx"
    if content_type in MEDIA_SUFFIX:
        return MEDIA_SUFFIX[content_type]
    path = urldefrag(url)[0].split("?")[0].lower()
    return next((s for s in (*DOCUMENT_SUFFIXES, ".html", ".htm", ".txt") if path.endswith(s)), "")


def looks_like_document(url: str) -> bool:
    """True when a link's address names a PDF or Word file (or ModernGov's PDF converter)."""
    path = urldefrag(url)[0].split("?")[0].lower()
    return path.endswith(DOCUMENT_SUFFIXES) or path.endswith("mgconvert2pdf.aspx")


def links(markup: str, base_url: str) -> list[str]:
    """Every http(s) link on a page, absolute and without its #fragment, in page order, each once."""
    soup = BeautifulSoup(markup, "lxml")
    base = soup.find("base", href=True)
    base_url = urljoin(base_url, base["href"]) if base else base_url
    found: dict[str, None] = {}
    for anchor in soup.find_all("a", href=True):
        url = urldefrag(urljoin(base_url, anchor["href"].strip()))[0]
        if url.startswith(("http://", "https://")):
            found[url] = None
    return list(found)


def page_title(markup: str) -> str:
    """The page's <h1>, else its <title>, entities repaired."""
    soup = BeautifulSoup(markup, "lxml")
    for tag in (soup.find("h1"), soup.title):
        if tag and tag.get_text(strip=True):
            return plain(tag.get_text(" ", strip=True))
    return ""


def main_text(markup: str, url: str) -> str:
    """The page's main text as Markdown (trafilatura: navigation, banners and footers left out); "" if none."""
    import trafilatura

    text = trafilatura.extract(markup, url=url, output_format="markdown", include_tables=True, include_links=False,
                               include_comments=False, favor_recall=True, deduplicate=False)
    return (text or "").strip()


def page_date(markup: str, url: str) -> str:
    """The date the page says it was published or updated (htmldate, from its markup only), YYYY-MM-DD or ""."""
    from htmldate import find_date

    try:
        return find_date(markup, url=url, extensive_search=False, original_date=False, outputformat="%Y-%m-%d") or ""
    except Exception:  # htmldate raises on odd markup; a page without a date is still worth having
        return ""


def minutes_text(markup: str) -> str:
    """ModernGov's per-item minutes HTML as plain paragraphs: Word-pasted hard wraps and double entities undone."""
    soup = BeautifulSoup(undouble_entities(markup), "lxml")
    lines = []
    for block in soup.find_all(_BLOCKS):
        if block.find_parent(_BLOCKS) is not None and block.name != "tr":
            continue
        cells = block.find_all(["td", "th"], recursive=False) if block.name == "tr" else []
        text = "\t".join(" ".join(c.get_text(" ").split()) for c in cells) if cells else " ".join(block.get_text(" ").split())
        if text:
            lines.append(("\u2022 " if block.name == "li" else "") + text)
    if not lines:
        lines = [" ".join(soup.get_text(" ").split())]
    return "\n\n".join(line for line in lines if line)
