"""The fake council that tests/test_sync.py syncs from, also runnable by hand for a demonstration:

    .venv/bin/python tests/fake_council.py 8765     # serves it on http://127.0.0.1:8765 and writes a sources file
    .venv/bin/sendbot --data-dir /tmp/demo sync --config /tmp/fake-council-sources.toml

Static files from tests/fixtures/council (see its README.md), scripted replies for the error cases, and a log of
every request with its headers.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug import Request, Response

COUNCIL = Path(__file__).resolve().parent / "fixtures" / "council"
PAGES = ("news", "app", "green-paper", "parent-carer-survey", "educational-psychology", "staffing-update")


@dataclass
class Reply:
    """A scripted answer served before the ordinary one."""

    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


class FakeCouncil:
    """The council's sites on the test server: static files by path, scripted replies, and a log of every request."""

    def __init__(self, httpserver) -> None:
        self.base = httpserver.url_for("/").rstrip("/")
        self.files: dict[str, tuple[bytes, str]] = {}
        self.scripted: dict[str, list[Reply]] = {}
        self.log: list[tuple[str, int, dict]] = []  # (path?query, status, request headers)
        self._load()
        httpserver.expect_request(re.compile("^/")).respond_with_handler(self.handle)

    def _read(self, name: str) -> bytes:
        raw = (COUNCIL / name).read_bytes()
        return raw if name.endswith(".pdf") else raw.replace(b"{base}", self.base.encode())

    def _load(self) -> None:
        self.serve("/robots.txt", self._read("local-offer/robots.txt"), "text/plain")
        self.serve("/sitemap.xml", self._read("local-offer/sitemap.xml"), "application/xml")
        for page in (*PAGES, "private-staff-notes"):
            path = "/send/local-offer/private/staff-notes" if page == "private-staff-notes" else f"/send/local-offer/{page}"
            self.serve(path, self._read(f"local-offer/{page}.html"), "text/html; charset=utf-8")
        self.serve("/send/local-offer/search.aspx", b"<html><title>Search</title></html>", "text/html")
        service = "/mg/mgWebService.asmx"
        self.serve(f"{service}/GetCommittees", self._read("moderngov/GetCommittees.xml"), "text/xml")
        for meeting in ("1000", "1001"):
            self.serve(f"{service}/GetMeeting?lMeetingId={meeting}", self._read(f"moderngov/GetMeeting-{meeting}.xml"), "text/xml")
        self.serve("/mg/mgConvert2PDF.aspx?ID=5001", self._read("documents/agenda-reports-pack.pdf"), "application/octet-stream")
        self.serve("/mg/documents/s5002/SEND Strategy 2023-26.pdf", self._read("documents/send-strategy-2023-26.pdf"), "application/pdf")

    def serve(self, path: str, body: bytes, content_type: str) -> None:
        self.files[path] = (body, content_type)

    def script(self, path: str, *replies: Reply) -> None:
        self.scripted.setdefault(path, []).extend(replies)

    def asked(self, fragment: str) -> list[tuple[str, int, dict]]:
        return [entry for entry in self.log if fragment in entry[0]]

    def handle(self, request: Request) -> Response:
        query = request.query_string.decode()
        key = f"{request.path}?{query}" if query else request.path
        response = self._answer(request, key)
        self.log.append((key, response.status_code, dict(request.headers)))
        return response

    def _answer(self, request: Request, key: str) -> Response:
        if self.scripted.get(key) or self.scripted.get(request.path):
            reply = (self.scripted.get(key) or self.scripted[request.path]).pop(0)
            time.sleep(reply.delay)
            return Response(reply.body, reply.status, reply.headers)
        if request.path == "/send/local-offer/news-updates.aspx":  # the old address scheme
            return Response(b"", 301, {"Location": f"{self.base}/send/local-offer/educational-psychology"})
        if request.path.endswith("/GetMeetings"):
            return self._meetings(request)
        found = self.files.get(key) or self.files.get(request.path)
        if found is None:
            return Response(b"<h1>Page not found</h1>", 404, {"Content-Type": "text/html"})
        body, content_type = found
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        if content_type.startswith("text/html") and request.headers.get("If-None-Match") == etag:
            return Response(b"", 304, {"ETag": etag})
        headers = {"Content-Type": content_type, **({"ETag": etag} if content_type.startswith("text/html") else {})}
        return Response(body, 200, headers)

    def _meetings(self, request: Request) -> Response:
        dates = [request.args.get("sFromDate", ""), request.args.get("sToDate", "")]
        if not all(re.fullmatch(r"\d\d/\d\d/\d{4}", d) for d in dates) or request.args.get("lCommitteeId") != "120":
            return Response(b"<error>dates must be dd/mm/yyyy</error>", 400, {"Content-Type": "text/xml"})
        return Response(self._read("moderngov/GetMeetings-120.xml"), 200, {"Content-Type": "text/xml"})


def main(port: int) -> None:
    """Serve the fake council on 127.0.0.1:PORT until interrupted, with a sources file pointing at it."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=port)
    server.start()
    council = FakeCouncil(server)
    sources = Path("/tmp/fake-council-sources.toml")
    sources.write_text((COUNCIL / "sources.toml").read_text(encoding="utf-8").replace("{base}", council.base),
                       encoding="utf-8")
    print(f"The fake council is at {council.base}; its sources file is {sources}. Ctrl-C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8765)
