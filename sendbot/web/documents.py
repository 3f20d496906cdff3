"""The route that serves the indexed documents, so a source card's link opens the file it quotes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse

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


def document_routes(bot: SendBot) -> APIRouter:
    """GET /documents/{source}: an indexed file, by the name the index lists; nothing else on disk."""
    router = APIRouter()

    @router.get("/documents/{source}")
    def document(source: str):
        record = bot.record(source)  # only files the index lists; the name never becomes a path
        if record is None:
            return PlainTextResponse("That document is not in the index.", status_code=404)
        path = Path(record.path)
        if not path.is_file():
            return PlainTextResponse("The file for this document is no longer on the server.", status_code=404)
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                            headers=_headers(record.source, path.suffix.lower()))

    return router


def _headers(source: str, suffix: str) -> dict[str, str]:
    """Open in the browser (Word files download), never sniff the type, and never run a saved page's scripts."""
    disposition = "attachment" if suffix == ".docx" else "inline"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(source)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    if suffix in (".html", ".htm"):
        headers["Content-Security-Policy"] = "sandbox"
    return headers
