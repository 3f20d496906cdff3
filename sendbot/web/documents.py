"""The route that serves the indexed documents, so a source card's link opens the file it quotes.

A PDF opens in the browser at the cited page (the link's #page=). Text, Markdown, HTML and Word documents open as a
readable page of the text the index was built from when asked for (`?read=1`), with the quoted words (`?quote=...`)
highlighted and scrolled to (`#sb-passage`); without either, the route gives the file itself.

A document is looked up by its name in the index ("source": its path in the ingested folder, so it may contain
"/"), never by a path taken from the URL. The index stores each file's resolved path, so at ingest time none of its
parts was a link: the file is opened part by part without following any link (O_NOFOLLOW), and served from that
open file only if it is a regular file. A file or folder swapped for a link after ingest is refused, never followed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO, Iterator
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse

from sendbot.web.reading import reading_page
from sendbot.web.render import READABLE

if TYPE_CHECKING:
    from sendbot.bot import SendBot

# The content type each supported file type (SUPPORTED_SUFFIXES) is served with.
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
CHUNK_BYTES = 256 * 1024
# The reading page runs no script and loads nothing: its only style is inline.
READING_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
                   "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
GONE = "The file for this document is no longer on the server."


def document_routes(bot: SendBot) -> APIRouter:
    """GET /documents/{source}: an indexed file, by the name the index lists; nothing else on disk."""
    router = APIRouter()

    @router.get("/documents/{source:path}")
    def document(source: str, quote: str = "", read: str = ""):
        record = bot.record(source)  # only files the index lists; the name never becomes a path
        if record is None:
            return PlainTextResponse("That document is not in the index.", status_code=404)
        try:
            opened = open_without_links(Path(record.path))
        except OSError:
            return PlainTextResponse(GONE, status_code=404)
        suffix = Path(record.path).suffix.lower()
        if suffix in READABLE and (quote or read):
            with opened:
                page = reading_page(record, opened.read(), suffix, quote)
            return HTMLResponse(page, headers=READING_HEADERS)
        headers = {**_headers(record.source, suffix), "Content-Length": str(os.fstat(opened.fileno()).st_size)}
        return StreamingResponse(_chunks(opened), media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
                                 headers=headers)

    return router


def open_without_links(path: Path) -> BinaryIO:
    """Open an absolute path for reading, refusing (OSError) if any part of it is a link or it is not a regular
    file. Each folder is opened relative to the one before, so nothing can be swapped in between the checks."""
    if not path.is_absolute():
        raise OSError(f"{path} is not an absolute path")
    folder = os.open(path.anchor, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in path.parts[1:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            os.close(folder)
            folder = inner
        # O_NONBLOCK: a FIFO swapped in would otherwise hang the request until someone writes to it.
        fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    finally:
        os.close(folder)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file")
    return os.fdopen(fd, "rb")


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    """The open file's bytes, a chunk at a time; closes it when done."""
    with file:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk


def _headers(source: str, suffix: str) -> dict[str, str]:
    """Open in the browser (Word files download), never sniff the type, and never run a saved page's scripts."""
    disposition = "attachment" if suffix == ".docx" else "inline"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(PurePosixPath(source).name)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    if suffix in (".html", ".htm"):
        headers["Content-Security-Policy"] = "sandbox"
    return headers
