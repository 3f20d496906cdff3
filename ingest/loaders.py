"""Read .txt, .md, .html, .pdf and .docx files into `Document`s with normalised text per page.

Every failure is raised as `LoadError` with a reason a person can act on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from sendbot.core.config import SUPPORTED_SUFFIXES
from sendbot.core.dates import MONTH_NAMES
from sendbot.core.models import Document, Page
from sendbot.core.text import cap_long_words, normalise_text


# Where a document was published, when its folder's manifest says (`sendbot sync` writes these): citations show them.
ORIGIN_KEYS = ("url", "committee", "meeting", "item")


class LoadError(Exception):
    """A file that cannot be ingested; the message says why and what to do."""


def file_sha256(path: Path) -> str:
    """Content hash that decides whether a file changed since it was last ingested."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_document(path: Path, max_file_mb: float = 50.0, sha256: str | None = None, *, source: str | None = None,
                  max_word_chars: int = 200, pdf_pages: PdfPages | None = None) -> Document:
    """Load one file with the metadata from its folder's manifest.json, else from the document itself.

    `source` names the document in the index (by default the file name; ingest passes the path relative to the
    folder it was found in, so same-named files in different folders stay different documents). `pdf_pages` is a
    PDF's text already extracted (ingest reads a long PDF's pages in parallel): the document is the same.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported file type '{suffix or 'no extension'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    size_mb = path.stat().st_size / 1e6
    if size_mb > max_file_mb:
        raise LoadError(f"file is {size_mb:.3g} MB, over the {max_file_mb:g} MB limit (raise SENDBOT_MAX_FILE_MB to allow it)")
    if path.stat().st_size == 0:
        raise LoadError("file is empty")
    reader = {".pdf": functools.partial(_read_pdf, raw=pdf_pages), ".docx": _read_docx, ".html": _read_html,
              ".htm": _read_html, ".md": _read_markdown}
    pages, own = reader.get(suffix, _read_plain)(path)
    pages, cut = _cap_words(pages, max_word_chars)
    if not any(p.text for p in pages):
        hint = " (a scanned PDF needs OCR first)" if suffix == ".pdf" else ""
        raise LoadError(f"no text could be extracted{hint}")
    listed = _manifest_entry(path)
    meta = {**own, **{k: v for k, v in listed.items() if v}}
    first_text = next(p.text for p in pages if p.text)
    title = meta.get("title") or _first_line(first_text) or path.stem
    # A manifest that lists the file is trusted, a null date included; otherwise the file's own date (Word, PDF and
    # HTML metadata); failing that, the first date in the text.
    stated_date = (listed.get("date") or "") if "date" in listed else meta.get("date") or _date_in(first_text[:1500])
    notes = (f"{cut} unbroken run{'s' if cut > 1 else ''} of over {max_word_chars} characters (not words a person "
             f"would ask about) {'were' if cut > 1 else 'was'} cut short",) if cut else ()
    return Document(
        source=source or path.name,
        path=str(path.resolve()),
        sha256=sha256 or file_sha256(path),
        title=title,
        date=stated_date,
        period=meta.get("period") or "",
        publisher=meta.get("publisher") or "",
        kind=meta.get("kind") or _guess_kind(path, title),
        pages=pages,
        paged=suffix == ".pdf",
        notes=notes,
        **{key: str(listed.get(key) or "") for key in ORIGIN_KEYS},
    )


def _cap_words(pages: list[Page], max_word_chars: int) -> tuple[tuple[Page, ...], int]:
    """Pages with normalised text and over-long unbroken runs cut short, and how many runs were cut."""
    capped, cut = [], 0
    for page in pages:
        text, count = cap_long_words(normalise_text(page.text), max_word_chars)
        capped.append(Page(page.number, text))
        cut += count
    return tuple(capped), cut


def _manifest_entry(path: Path) -> dict:
    manifest = path.parent / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        entry = json.loads(manifest.read_text(encoding="utf-8")).get(path.name) or {}
    except (ValueError, UnicodeDecodeError) as error:
        raise LoadError(f"{manifest} is not valid JSON ({error}); fix or remove it") from None
    return entry


def decode_text(raw: bytes) -> str:
    """Decode text files written as UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw[:4096]:
        raise LoadError("looks like a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise LoadError("text is neither UTF-8 nor Windows-1252; re-save it as UTF-8") from None


def _read_plain(path: Path) -> tuple[list[Page], dict]:
    return [Page(1, decode_text(path.read_bytes()))], {}


_HTML_TAG = re.compile(r"<[^>]*>")


def _inline_text(children) -> str:
    out = []
    for child in children or ():
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "html_inline":
            out.append("\u2022 " if re.match(r"<li\b", child.content, re.I) else " ")
    return "".join(out)


def markdown_to_text(markdown: str) -> str:
    """Plain text of Markdown rendered from markdown-it-py tokens: headings and list items on their own lines."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(markdown)
    source = markdown.splitlines()
    lines: list[str] = []
    heading = False
    bullet = ""
    row: list[str] | None = None  # cells of a pipe-table row, written tab-separated like the other tables
    for token in tokens:
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            lines.append("\t".join(row or []))
            row = None
        elif token.type == "inline" and row is not None:
            row.append(" ".join(_inline_text(token.children).split()))
        elif token.type == "heading_open":
            heading = True
        elif token.type == "list_item_open":
            bullet = f"{token.info}{token.markup} " if token.info else "\u2022 "  # ordered items keep their number
        elif token.type == "inline":
            text = _inline_text(token.children)
            if heading:
                lines.extend(["", " ".join(text.split()), ""])
                heading = False
            else:
                lines.extend((bullet + text).split("\n"))
                bullet = ""
        elif token.type == "fence":
            lines.extend(token.content.rstrip("\n").split("\n"))
        elif token.type == "code_block":  # a tab-indented line is a table row with an empty first cell: keep the tab
            lines.extend(_HTML_TAG.sub(" ", re.sub(r"<li\b[^>]*>", "\u2022 ", line, flags=re.I))
                         for line in source[token.map[0] : token.map[1]])
        elif token.type == "html_block":
            html = re.sub(r"<li\b[^>]*>", "\u2022 ", token.content, flags=re.I)
            lines.extend(_HTML_TAG.sub(" ", html).rstrip("\n").split("\n"))
        elif token.type == "paragraph_close" and not token.hidden or token.type in ("bullet_list_close", "ordered_list_close", "table_close"):
            lines.append("")
    cleaned = []
    for line in lines:
        if "\t" in line:
            line = "\t".join(re.sub(r" {2,}", " ", cell).strip() for cell in line.split("\t"))
        cleaned.append(line)
    return "\n".join(cleaned)


def _read_markdown(path: Path) -> tuple[list[Page], dict]:
    return [Page(1, markdown_to_text(decode_text(path.read_bytes())))], {}


_HTML_NOISE = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe", "template", "button"]
_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "dt", "dd", "blockquote", "pre", "caption"]


def _read_html(path: Path) -> tuple[list[Page], dict]:
    from bs4 import BeautifulSoup

    markup = decode_text(path.read_bytes())
    soup = BeautifulSoup(markup, "lxml")
    meta = {"date": _html_own_date(markup)}
    if soup.title and soup.title.get_text(strip=True):
        meta["title"] = soup.title.get_text(" ", strip=True)
    for tag in soup(_HTML_NOISE):
        tag.decompose()
    for tag in soup.select('[role=navigation], [aria-hidden=true], [hidden], .breadcrumb, .breadcrumbs, .cookie-banner, #cookie-banner'):
        tag.decompose()
    main = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.find("article") or soup.body or soup
    lines = []
    for block in main.find_all(_HTML_BLOCKS):
        if block.find_parent(_HTML_BLOCKS) is not None and block.name != "tr":
            continue  # nested blocks are read with their parent
        if block.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in block.find_all(["th", "td"], recursive=False)]
            lines.append("\t".join(cells))
            continue
        text = block.get_text(" ", strip=True)
        if text:
            prefix = "\u2022 " if block.name == "li" else ""
            lines.extend(["", prefix + text, ""] if block.name.startswith("h") else [prefix + text])
    if not lines:
        lines = [main.get_text("\n", strip=True)]
    return [Page(1, "\n".join(lines))], meta


def _html_own_date(markup: str) -> str:
    """The page's own publication date from its markup (<meta> tags such as date, dc.date, article:published_time,
    JSON-LD, <time>), never from a date its text mentions: htmldate without its search of the text. "" if none."""
    from htmldate import find_date

    try:
        return find_date(markup, extensive_search=False, original_date=True, outputformat="%Y-%m-%d") or ""
    except Exception:  # htmldate raises on odd markup; the page is still read, undated
        return ""


def _pdf_own_date(reader) -> str:
    """The PDF's own date: its creation date, else its modification date, from the document information; "" if
    neither is there or readable (pypdf raises on malformed dates)."""
    for name in ("creation_date", "modification_date"):
        try:
            value = getattr(reader.metadata, name, None) if reader.metadata else None
        except (ValueError, TypeError):
            continue
        if value:
            return value.date().isoformat()
    return ""


@dataclass(frozen=True)
class PdfPages:
    """The raw extracted text of a run of a PDF's pages, as pypdf gives it, with the file's own title and date
    (read with the first page only). Ingest reads a long PDF's pages in parts, in worker processes, as these."""

    start: int  # index of the first page (0-based)
    texts: tuple[str, ...]
    page_count: int  # pages in the whole file
    title: str = ""
    date: str = ""


def pdf_page_count(path: Path) -> int:
    """Pages in a PDF (what ingest splits a long one by); LoadError, as reading it would raise, if it is unreadable."""
    with _pdf_errors():
        return len(_open_pdf(path).pages)


def read_pdf_pages(path: Path, start: int = 0, stop: int | None = None, keep_open: bool = False) -> PdfPages:
    """The raw text of pages start..stop-1 (all by default), in order; the title and date come with page 0.

    `keep_open` keeps the file parsed for the next call on it: a worker reading several parts of one PDF parses its
    structure once (the last part lets it go). Every failure is a LoadError, as when the whole file is read.
    """
    with _pdf_errors():
        stat = path.stat()
        reader = _kept_reader(path, stat.st_mtime_ns, stat.st_size)
        try:
            count = len(reader.pages)
            stop = count if stop is None else min(stop, count)
            texts = tuple(_page_text(reader.pages[i]) for i in range(start, stop))
            title = "" if start else str((reader.metadata or {}).get("/Title") or "")
            date = "" if start else _pdf_own_date(reader)
        finally:
            if not keep_open:
                _kept_reader.cache_clear()
    return PdfPages(start, texts, count, title, date)


def _page_text(page) -> str:
    """A PDF page's text as pypdf extracts it, with its tables (if the page may hold one) as tab-separated rows."""
    from ingest.pdf_tables import looks_tabular, rebuild_tables

    plain = page.extract_text() or ""
    if not looks_tabular(plain):
        return plain
    try:
        layout = page.extract_text(extraction_mode="layout") or ""
    except Exception:  # layout mode fails on some pages that the default mode reads: the page keeps its text
        return plain
    return rebuild_tables(plain, layout)


@functools.lru_cache(maxsize=1)
def _kept_reader(path: Path, mtime_ns: int, size: int):
    """The open reader of the PDF read last, while the file is unchanged (see `read_pdf_pages`)."""
    return _open_pdf(path)


def _open_pdf(path: Path):
    """A pypdf reader of the file, decrypted when it has an empty user password; LoadError if it has a real one."""
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        raise LoadError("PDF is password-protected; save an unprotected copy and ingest that")
    return reader


@contextmanager
def _pdf_errors() -> Iterator[None]:
    """Turn whatever pypdf raises on a damaged or encrypted file into a LoadError that says so."""
    from pypdf.errors import PdfReadError

    try:
        yield
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise LoadError(f"not a readable PDF (damaged or truncated: {error})") from None
    except Exception as error:  # pypdf raises a wide range of errors on damaged files
        if "crypt" in str(error).lower() or "AES" in str(error):
            raise LoadError(f"PDF is encrypted and cannot be opened ({error})") from None
        raise LoadError(f"not a readable PDF ({type(error).__name__}: {error})") from None


# Printed on a page left empty for double-sided printing: it says nothing about the document, and beside the last
# lines of the page before (a letter's signature) it read as one of them.
_BLANK_PAGE_NOTICE = re.compile(r"\s*\bThis page (?:is|has been) (?:(?:intentionally|deliberately) )?(?:left )?blank\b\.?",
                                re.I)


def _read_pdf(path: Path, raw: PdfPages | None = None) -> tuple[list[Page], dict]:
    """A PDF's pages with wrapped lines rejoined, from `raw` when its text was extracted already (all pages)."""
    from ingest.pdf_text import join_pdf_lines

    raw = raw or read_pdf_pages(path)
    pages = join_pdf_lines([_BLANK_PAGE_NOTICE.sub("", normalise_text(t)) for t in raw.texts])
    return ([Page(raw.start + i + 1, text) for i, text in enumerate(pages)],
            {"title": _meaningful_title(raw.title), "date": raw.date})


def _meaningful_title(title: str) -> str:
    """A PDF's /Title unless it is a tool's placeholder ("untitled", "Microsoft Word - report.docx")."""
    title = re.sub(r"^Microsoft (Word|PowerPoint|Excel) - ", "", title.strip())
    return "" if title.lower() in {"", "untitled", "untitled document", "document"} or re.fullmatch(r"[\w-]+\.\w{3,4}", title) else title


def _read_docx(path: Path) -> tuple[list[Page], dict]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as error:
        raise LoadError(f"not a readable Word document ({type(error).__name__}: {error})") from None
    lines = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            style = (item.style.name if item.style is not None else "").lower()
            if text and (style.startswith("heading") or style == "title"):
                lines.extend(["", text, ""])
            elif text:
                lines.append(("\u2022 " if "list" in style else "") + text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if not cells or value != cells[-1]:  # merged cells repeat their text
                        cells.append(value)
                lines.append("\t".join(cells))
    props = document.core_properties
    own_date = props.created or props.modified  # the document's own date, before any date its text mentions
    meta = {"title": props.title or "", "publisher": props.author or "",
            "date": own_date.date().isoformat() if own_date else ""}
    return [Page(1, "\n".join(lines))], meta


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:150]
    return ""


_DATE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(MONTH_NAMES) + r")\s+(\d{4})\b")


def _date_in(text: str) -> str:
    match = _DATE.search(text)
    if not match:
        return ""
    return _iso_date(f"{match.group(3)}-{MONTH_NAMES.index(match.group(2)) + 1:02d}-{int(match.group(1)):02d}")


def _iso_date(value: str) -> str:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date().isoformat()
    except ValueError:
        return ""


def _guess_kind(path: Path, title: str) -> str:
    name = f"{path.stem} {title}".lower()
    for word, kind in (("minutes", "minutes"), ("agenda", "agenda and reports"), ("report", "report"),
                       ("agm", "meeting questions and answers"), ("newsletter", "forum update"), ("update", "forum update")):
        if word in name:
            return kind
    return "web page" if path.suffix.lower() in (".html", ".htm") else "document"
